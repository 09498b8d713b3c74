// Copyright specinv authors.

#include "specinv/validate.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace specinv {

absl::Status CheckRange(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must be in [%d, %d], got %d", field, lo, hi, value));
  }
  return absl::OkStatus();
}

absl::Status CheckRealRange(std::string_view field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must be in [%g, %g], got %g", field, lo, hi, value));
  }
  return absl::OkStatus();
}

absl::Status CheckRangeOpenLow(std::string_view field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value <= lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s must be in (%g, %g], got %g", field, lo, hi, value));
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(std::string_view field, std::span<const float> values) {
  // Fast vectorisable screen: x - x is 0 for finite x and NaN for NaN/Inf.
  float screen = 0.0f;
  for (float v : values) screen += v - v;
  if (screen == 0.0f) return absl::OkStatus();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s[%d] is %s; all values must be finite", field, i, std::isnan(values[i]) ? "NaN" : "Inf"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckNonNegativeFinite(std::string_view field, std::span<const float> values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (!std::isfinite(v) || v < 0.0f) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s[%d] is %g; all values must be finite and >= 0", field, i, static_cast<double>(v)));
    }
  }
  return absl::OkStatus();
}

}  // namespace specinv
