// Copyright specinv authors.

#include "specinv/creative/phase_tools.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <memory>
#include <numbers>
#include <span>
#include <vector>

#include "absl/strings/str_format.h"
#include "specinv/base/fft.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/validate.h"

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

// Complex DFT of a power-of-two length m from two real FFTs:
// DFT(z) = DFT(Re z) + i DFT(Im z), each real spectrum extended by Hermitian
// symmetry. Buffers are allocated once per object.
class PowerOfTwoDft {
 public:
  explicit PowerOfTwoDft(int m)
      : m_(m),
        fft_(RealFft::Get(m)),
        real_(static_cast<size_t>(m)),
        imag_(static_cast<size_t>(m)),
        spec_real_(static_cast<size_t>(m / 2 + 1)),
        spec_imag_(static_cast<size_t>(m / 2 + 1)) {}

  int size() const { return m_; }

  // in[j * in_stride], j < m -> out[k * out_stride], k < m. `in` and `out`
  // may alias.
  void Run(const std::complex<float>* in, Eigen::Index in_stride, std::complex<float>* out,
           Eigen::Index out_stride) {
    for (int j = 0; j < m_; ++j) {
      const std::complex<float> v = in[j * in_stride];
      real_[static_cast<size_t>(j)] = v.real();
      imag_[static_cast<size_t>(j)] = v.imag();
    }
    fft_->Forward(real_.data(), spec_real_.data());
    fft_->Forward(imag_.data(), spec_imag_.data());
    const int half = m_ / 2;
    for (int k = 0; k < m_; ++k) {
      std::complex<float> x, y;
      if (k <= half) {
        x = spec_real_[static_cast<size_t>(k)];
        y = spec_imag_[static_cast<size_t>(k)];
      } else {
        x = std::conj(spec_real_[static_cast<size_t>(m_ - k)]);
        y = std::conj(spec_imag_[static_cast<size_t>(m_ - k)]);
      }
      out[k * out_stride] = std::complex<float>(x.real() - y.imag(), x.imag() + y.real());  // x + i y
    }
  }

 private:
  int m_;
  std::shared_ptr<const RealFft> fft_;
  AlignedVector<float> real_, imag_;
  AlignedVector<std::complex<float>> spec_real_, spec_imag_;
};

// Complex DFT of any length n >= 1. Powers of two are transformed directly;
// other lengths use Bluestein's algorithm (a chirp convolution through
// power-of-two DFTs of size m >= 2n - 1), so only power-of-two plans are ever
// created and the process-wide plan cache stays small whatever the image
// size. Twiddles are computed in double with k^2 reduced mod 2n.
class ComplexDft {
 public:
  explicit ComplexDft(int n) : n_(n), direct_(std::has_single_bit(static_cast<unsigned>(n))) {
    if (direct_) {
      dft_ = std::make_unique<PowerOfTwoDft>(n);
      return;
    }
    const int m = static_cast<int>(std::bit_ceil(static_cast<unsigned>(2 * n - 1)));
    dft_ = std::make_unique<PowerOfTwoDft>(m);
    chirp_.resize(static_cast<size_t>(n));
    for (int k = 0; k < n; ++k) {
      const int64_t k2 = (static_cast<int64_t>(k) * k) % (2 * static_cast<int64_t>(n));
      chirp_[static_cast<size_t>(k)] = std::polar(1.0, -kPi * static_cast<double>(k2) / n);  // e^{-i pi k^2 / n}
    }
    // Spectrum of the conjugate chirp, wrapped: b[j] = b[m - j] = conj(chirp[j]).
    std::vector<std::complex<float>> b(static_cast<size_t>(m), std::complex<float>(0.0f, 0.0f));
    for (int j = 0; j < n; ++j) {
      const auto c = std::complex<float>(std::conj(chirp_[static_cast<size_t>(j)]));
      b[static_cast<size_t>(j)] = c;
      if (j > 0) b[static_cast<size_t>(m - j)] = c;
    }
    kernel_.resize(static_cast<size_t>(m));
    dft_->Run(b.data(), 1, kernel_.data(), 1);
    work_.resize(static_cast<size_t>(m));
  }

  // in[j * in_stride], j < n -> out[k * out_stride], k < n (no aliasing).
  void Run(const std::complex<float>* in, Eigen::Index in_stride, std::complex<float>* out,
           Eigen::Index out_stride) {
    if (direct_) {
      dft_->Run(in, in_stride, out, out_stride);
      return;
    }
    const int m = dft_->size();
    std::fill(work_.begin(), work_.end(), std::complex<float>(0.0f, 0.0f));
    for (int j = 0; j < n_; ++j) {
      const std::complex<double> a = std::complex<double>(in[j * in_stride]) * chirp_[static_cast<size_t>(j)];
      work_[static_cast<size_t>(j)] = std::complex<float>(a);
    }
    dft_->Run(work_.data(), 1, work_.data(), 1);
    // Inverse DFT of the product as conj(DFT(conj(.))) / m.
    for (int k = 0; k < m; ++k) {
      work_[static_cast<size_t>(k)] = std::conj(work_[static_cast<size_t>(k)] * kernel_[static_cast<size_t>(k)]);
    }
    dft_->Run(work_.data(), 1, work_.data(), 1);
    const double scale = 1.0 / m;
    for (int k = 0; k < n_; ++k) {
      const std::complex<double> conv = std::conj(std::complex<double>(work_[static_cast<size_t>(k)])) * scale;
      out[k * out_stride] = std::complex<float>(conv * chirp_[static_cast<size_t>(k)]);
    }
  }

 private:
  int n_;
  bool direct_;
  std::unique_ptr<PowerOfTwoDft> dft_;
  std::vector<std::complex<double>> chirp_;
  std::vector<std::complex<float>> kernel_;
  std::vector<std::complex<float>> work_;
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
