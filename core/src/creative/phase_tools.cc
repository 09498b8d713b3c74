// Copyright specinv authors.

#include "specinv/creative/phase_tools.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>

#include "absl/strings/str_format.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/fft.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

absl::Status CheckPhaseShape(const RealMatrix& phase, int n_fft) {
  if (auto s = CheckRange("n_fft", n_fft, kMinFftSize, kMaxFftSize); !s.ok()) return s;
  const int64_t bins = n_fft / 2 + 1;
  if (phase.rows() != bins || phase.cols() < 1) {
    return InvalidField("phase", absl::StrFormat("must have shape (n_fft/2+1 = %d, frames >= 1), got (%d, %d)", bins,
                                                 phase.rows(), phase.cols()));
  }
  return CheckFinite("phase", phase);
}

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
  ComplexFft2d::Get(static_cast<int>(rows), static_cast<int>(cols))->Forward(image.data(), out.data());
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
