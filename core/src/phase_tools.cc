// Copyright specinv authors.

#include "specinv/phase_tools.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <span>
#include <vector>
#include <numbers>

#include "absl/strings/str_format.h"
#include "specinv/fft.h"
#include "specinv/stft.h"
#include "specinv/validate.h"

namespace specinv {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

absl::Status CheckPhaseShape(const RealMatrix& phase, int n_fft) {
  if (auto s = CheckRange("n_fft", n_fft, kMinFftSize, kMaxFftSize); !s.ok()) return s;
  const int64_t bins = n_fft / 2 + 1;
  if (phase.rows() != bins || phase.cols() < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("phase must have shape (n_fft/2+1 = %d, frames >= 1), got (%d, %d)", bins,
                        phase.rows(), phase.cols()));
  }
  return CheckFinite("phase", std::span<const float>(phase.data(), static_cast<size_t>(phase.size())));
}

// Complex DFT of length n from two real FFTs: Z = DFT(Re z) + i DFT(Im z),
// each real spectrum extended by Hermitian symmetry. Buffers are allocated
// once per object; Run() is called once per row or column.
class ComplexDft {
 public:
  explicit ComplexDft(int n)
      : n_(n),
        fft_(RealFft::Get(n)),
        real_(static_cast<size_t>(n)),
        imag_(static_cast<size_t>(n)),
        spec_real_(static_cast<size_t>(n / 2 + 1)),
        spec_imag_(static_cast<size_t>(n / 2 + 1)) {}

  // in[j * in_stride], j < n -> out[k * out_stride], k < n.
  void Run(const std::complex<float>* in, Eigen::Index in_stride, std::complex<float>* out,
           Eigen::Index out_stride) {
    for (int j = 0; j < n_; ++j) {
      const std::complex<float> v = in[j * in_stride];
      real_[static_cast<size_t>(j)] = v.real();
      imag_[static_cast<size_t>(j)] = v.imag();
    }
    fft_->Forward(real_.data(), spec_real_.data());
    fft_->Forward(imag_.data(), spec_imag_.data());
    const int half = n_ / 2;
    for (int k = 0; k < n_; ++k) {
      std::complex<float> x, y;
      if (k <= half) {
        x = spec_real_[static_cast<size_t>(k)];
        y = spec_imag_[static_cast<size_t>(k)];
      } else {
        x = std::conj(spec_real_[static_cast<size_t>(n_ - k)]);
        y = std::conj(spec_imag_[static_cast<size_t>(n_ - k)]);
      }
      // x + i y
      out[k * out_stride] = std::complex<float>(x.real() - y.imag(), x.imag() + y.real());
    }
  }

 private:
  int n_;
  std::shared_ptr<const RealFft> fft_;
  AlignedVector<float> real_, imag_;
  AlignedVector<std::complex<float>> spec_real_, spec_imag_;
};

}  // namespace

double PrincipalAngle(double angle) {
  double a = std::remainder(angle, kTwoPi);  // [-pi, pi]
  if (a <= -kPi) a += kTwoPi;
  return a;
}

RealMatrix PhaseAngle(const ComplexMatrix& stft) {
  RealMatrix phase(stft.rows(), stft.cols());
  const float pi = static_cast<float>(kPi);
  for (Eigen::Index i = 0; i < stft.size(); ++i) {
    float a = std::arg(stft.data()[i]);
    if (a <= -pi) a = pi;
    phase.data()[i] = a;
  }
  return phase;
}

absl::StatusOr<RealMatrix> InstantaneousFrequencyDeviation(const RealMatrix& phase, int n_fft, int hop_length,
                                                           double sample_rate) {
  if (auto s = CheckPhaseShape(phase, n_fft); !s.ok()) return s;
  if (auto s = CheckRange("hop_length", hop_length, 1, n_fft); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("sample_rate", sample_rate, 0.0, 384000.0); !s.ok()) return s;
  const Eigen::Index bins = phase.rows();
  const Eigen::Index frames = phase.cols();
  RealMatrix out = RealMatrix::Zero(bins, frames);
  const double scale = sample_rate / (kTwoPi * hop_length);
  for (Eigen::Index t = 1; t < frames; ++t) {
    for (Eigen::Index k = 0; k < bins; ++k) {
      const double expected = kTwoPi * static_cast<double>(k) * hop_length / n_fft;
      const double advance = static_cast<double>(phase(k, t)) - static_cast<double>(phase(k, t - 1));
      out(k, t) = static_cast<float>(PrincipalAngle(advance - expected) * scale);
    }
  }
  if (frames > 1) out.col(0) = out.col(1);
  return out;
}

absl::StatusOr<RealMatrix> GroupDelay(const RealMatrix& phase, int n_fft, double sample_rate) {
  if (auto s = CheckPhaseShape(phase, n_fft); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("sample_rate", sample_rate, 0.0, 384000.0); !s.ok()) return s;
  const Eigen::Index bins = phase.rows();
  const Eigen::Index frames = phase.cols();
  RealMatrix out(bins, frames);
  const double centre_slope = kTwoPi * static_cast<double>(n_fft / 2) / n_fft;
  const double scale = -static_cast<double>(n_fft) / (kTwoPi * sample_rate);
  for (Eigen::Index t = 0; t < frames; ++t) {
    for (Eigen::Index k = 0; k + 1 < bins; ++k) {
      const double step = static_cast<double>(phase(k + 1, t)) - static_cast<double>(phase(k, t));
      out(k, t) = static_cast<float>(PrincipalAngle(step + centre_slope) * scale);
    }
    out(bins - 1, t) = bins > 1 ? out(bins - 2, t) : 0.0f;
  }
  return out;
}

RealMatrix DeinterleaveRows(const RealMatrix& matrix) {
  const Eigen::Index rows = matrix.rows();
  RealMatrix out(rows, matrix.cols());
  const Eigen::Index evens = (rows + 1) / 2;
  for (Eigen::Index r = 0; r < rows; ++r) {
    const Eigen::Index dest = (r % 2 == 0) ? r / 2 : evens + r / 2;
    out.row(dest) = matrix.row(r);
  }
  return out;
}

ComplexMatrix Fft2(const ComplexMatrix& image) {
  const Eigen::Index rows = image.rows();
  const Eigen::Index cols = image.cols();
  if (rows == 0 || cols == 0) return ComplexMatrix(rows, cols);
  ComplexMatrix out(rows, cols);
  // Along each row (across columns): elements are `rows` apart in memory.
  {
    ComplexDft dft(static_cast<int>(cols));
    for (Eigen::Index r = 0; r < rows; ++r) dft.Run(image.data() + r, rows, out.data() + r, rows);
  }
  // Along each column (contiguous), in place through a copy of the column.
  {
    ComplexDft dft(static_cast<int>(rows));
    std::vector<std::complex<float>> column(static_cast<size_t>(rows));
    for (Eigen::Index c = 0; c < cols; ++c) {
      std::complex<float>* col = out.data() + c * rows;
      std::copy(col, col + rows, column.begin());
      dft.Run(column.data(), 1, col, 1);
    }
  }
  return out;
}

RealMatrix FftShift(const RealMatrix& matrix) {
  const Eigen::Index rows = matrix.rows();
  const Eigen::Index cols = matrix.cols();
  RealMatrix out(rows, cols);
  for (Eigen::Index c = 0; c < cols; ++c) {
    const Eigen::Index dc = (c + cols / 2) % cols;
    for (Eigen::Index r = 0; r < rows; ++r) out((r + rows / 2) % rows, dc) = matrix(r, c);
  }
  return out;
}

}  // namespace specinv
