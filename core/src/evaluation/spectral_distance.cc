// Copyright specinv authors.

#include "specinv/evaluation/spectral_distance.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <string>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

absl::Status CheckSignals(std::span<const float> reference, std::span<const float> degraded) {
  if (reference.empty()) return InvalidField("reference", "is empty");
  if (degraded.size() != reference.size()) {
    return InvalidField("degraded", absl::StrFormat("has %d samples; it must have as many as reference (%d)",
                                                    degraded.size(), reference.size()));
  }
  if (auto s = CheckFinite("reference", reference); !s.ok()) return s;
  return CheckFinite("degraded", degraded);
}

absl::Status CheckFloor(std::string_view field, double value) {
  if (!std::isfinite(value) || value <= 0.0) {
    return InvalidField(field, absl::StrFormat("must be finite and > 0, got %v", value));
  }
  return absl::OkStatus();
}

// InvalidArgument "<field>[i] (bin b, frame f) ..." for the first negative
// or non-finite value.
absl::Status CheckPower(std::string_view field, const RealMatrix& m) {
  return CheckNonNegativeFinite(field, m);
}

StftOptions ResolutionStft(const StftResolution& r) {
  StftOptions o;
  o.n_fft = r.n_fft;
  o.hop_length = r.hop_length;
  o.win_length = r.win_length;
  o.window = WindowType::kHann;
  o.center = true;
  o.pad_mode = PadMode::kReflect;
  o.double_precision = true;
  return o;
}

}  // namespace

absl::Status ValidateLogSpectralDistanceOptions(const LogSpectralDistanceOptions& options) {
  if (auto s = ValidateStftOptions(options.stft); !s.ok()) return WithFieldPrefix(s, "stft");
  return CheckFloor("floor", options.floor);
}

absl::StatusOr<double> LogSpectralDistanceFromPower(const RealMatrix& reference_power,
                                                    const RealMatrix& degraded_power, double floor) {
  if (auto s = CheckFloor("floor", floor); !s.ok()) return s;
  if (reference_power.size() == 0) return InvalidField("reference", "is empty; need at least one bin and frame");
  if (degraded_power.rows() != reference_power.rows() || degraded_power.cols() != reference_power.cols()) {
    return InvalidField("degraded", absl::StrFormat("has shape (%d, %d); it must match reference (%d, %d)",
                                                    degraded_power.rows(), degraded_power.cols(),
                                                    reference_power.rows(), reference_power.cols()));
  }
  if (auto s = CheckPower("reference", reference_power); !s.ok()) return s;
  if (auto s = CheckPower("degraded", degraded_power); !s.ok()) return s;
  const Eigen::Index bins = reference_power.rows();
  const Eigen::Index frames = reference_power.cols();
  double sum_over_frames = 0.0;
  for (Eigen::Index t = 0; t < frames; ++t) {
    double sum_sq = 0.0;
    for (Eigen::Index k = 0; k < bins; ++k) {
      const double r = std::max(static_cast<double>(reference_power(k, t)), floor);
      const double d = std::max(static_cast<double>(degraded_power(k, t)), floor);
      const double db = 10.0 * std::log10(r / d);
      sum_sq += db * db;
    }
    sum_over_frames += std::sqrt(sum_sq / static_cast<double>(bins));
  }
  return sum_over_frames / static_cast<double>(frames);
}

absl::StatusOr<double> LogSpectralDistance(std::span<const float> reference, std::span<const float> degraded,
                                           const LogSpectralDistanceOptions& options) {
  if (auto s = ValidateLogSpectralDistanceOptions(options); !s.ok()) return s;
  if (auto s = CheckSignals(reference, degraded); !s.ok()) return s;
  auto stft = Stft::Create(options.stft);
  if (!stft.ok()) return WithFieldPrefix(stft.status(), "stft");
  auto ref_spec = stft->Forward(reference);
  if (!ref_spec.ok()) return WithFieldPrefix(ref_spec.status(), "reference");
  auto deg_spec = stft->Forward(degraded);
  if (!deg_spec.ok()) return WithFieldPrefix(deg_spec.status(), "degraded");
  const RealMatrix ref_power = ref_spec->cwiseAbs2();
  const RealMatrix deg_power = deg_spec->cwiseAbs2();
  return LogSpectralDistanceFromPower(ref_power, deg_power, options.floor);
}

absl::Status ValidateMultiResolutionStftOptions(const MultiResolutionStftOptions& options) {
  if (options.resolutions.empty()) return InvalidField("resolutions", "is empty; need at least one resolution");
  for (size_t i = 0; i < options.resolutions.size(); ++i) {
    if (auto s = ValidateStftOptions(ResolutionStft(options.resolutions[i])); !s.ok()) {
      return WithFieldPrefix(s, absl::StrFormat("resolutions[%d]", i));
    }
  }
  return CheckFloor("magnitude_floor", options.magnitude_floor);
}

absl::StatusOr<MultiResolutionStftDistance> ComputeMultiResolutionStftDistance(
    std::span<const float> reference, std::span<const float> degraded, const MultiResolutionStftOptions& options) {
  if (auto s = ValidateMultiResolutionStftOptions(options); !s.ok()) return s;
  if (auto s = CheckSignals(reference, degraded); !s.ok()) return s;
  MultiResolutionStftDistance out;
  for (size_t i = 0; i < options.resolutions.size(); ++i) {
    auto stft = Stft::Create(ResolutionStft(options.resolutions[i]));
    if (!stft.ok()) return WithFieldPrefix(stft.status(), absl::StrFormat("resolutions[%d]", i));
    auto ref_spec = stft->Forward(reference);
    if (!ref_spec.ok()) return WithFieldPrefix(ref_spec.status(), "reference");
    auto deg_spec = stft->Forward(degraded);
    if (!deg_spec.ok()) return WithFieldPrefix(deg_spec.status(), "degraded");
    double diff_sq = 0.0;
    double ref_sq = 0.0;
    double log_abs = 0.0;
    const Eigen::Index n = ref_spec->size();
    for (Eigen::Index j = 0; j < n; ++j) {
      const double r = std::sqrt(std::max(static_cast<double>(std::norm((*ref_spec)(j))), options.magnitude_floor));
      const double d = std::sqrt(std::max(static_cast<double>(std::norm((*deg_spec)(j))), options.magnitude_floor));
      diff_sq += (r - d) * (r - d);
      ref_sq += r * r;
      log_abs += std::abs(std::log(r) - std::log(d));
    }
    out.spectral_convergence += std::sqrt(diff_sq) / std::sqrt(ref_sq);
    out.log_magnitude += log_abs / static_cast<double>(n);
  }
  const double count = static_cast<double>(options.resolutions.size());
  out.spectral_convergence /= count;
  out.log_magnitude /= count;
  out.total = out.spectral_convergence + out.log_magnitude;
  return out;
}

}  // namespace specinv
