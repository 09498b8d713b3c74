// Copyright specinv authors.

#include "specinv/base/validate.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"

namespace specinv {

absl::Status CheckRange(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return InvalidField(field, absl::StrFormat("must be in [%d, %d], got %d", lo, hi, value));
  }
  return absl::OkStatus();
}

absl::Status CheckRealRange(std::string_view field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value < lo || value > hi) {
    return InvalidField(field, absl::StrFormat("must be in [%g, %g], got %g", lo, hi, value));
  }
  return absl::OkStatus();
}

absl::Status CheckRangeOpenLow(std::string_view field, double value, double lo, double hi) {
  if (!std::isfinite(value) || value <= lo || value > hi) {
    return InvalidField(field, absl::StrFormat("must be in (%g, %g], got %g", lo, hi, value));
  }
  return absl::OkStatus();
}

namespace {

// Vectorisable screens over the IEEE-754 bits (no float reductions, which the
// compiler may not reorder): exponent all ones means NaN or Inf; as unsigned,
// bits >= 0x7f800000 means NaN, Inf or a set sign bit (negative, or -0.0).
constexpr uint32_t kExponentMask = 0x7f800000u;

bool AnyNonFinite(std::span<const float> values) {
  uint32_t bad = 0;
  for (float v : values) bad |= static_cast<uint32_t>((std::bit_cast<uint32_t>(v) & kExponentMask) == kExponentMask);
  return bad != 0;
}

bool AnyNegativeOrNonFinite(std::span<const float> values) {
  uint32_t bad = 0;
  for (float v : values) bad |= static_cast<uint32_t>(std::bit_cast<uint32_t>(v) >= kExponentMask);
  return bad != 0;
}

// "<field>[i] <what>"; for a matrix of `rows` rows (column-major, i the
// flat index) "<field>[i] (bin r, frame c) <what>".
absl::Status ElementError(std::string_view field, size_t i, int64_t rows, const std::string& what) {
  const std::string where =
      rows > 0 ? absl::StrFormat("(bin %d, frame %d) ", static_cast<int64_t>(i) % rows, static_cast<int64_t>(i) / rows)
               : std::string();
  return InvalidField(absl::StrFormat("%s[%d]", field, i), where + what);
}

absl::Status FirstNonFinite(std::string_view field, std::span<const float> values, int64_t rows) {
  if (!AnyNonFinite(values)) return absl::OkStatus();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return ElementError(field, i, rows,
                          absl::StrFormat("is %s; all values must be finite", std::isnan(values[i]) ? "NaN" : "Inf"));
    }
  }
  return absl::OkStatus();
}

absl::Status FirstNegativeOrNonFinite(std::string_view field, std::span<const float> values, int64_t rows) {
  if (!AnyNegativeOrNonFinite(values)) return absl::OkStatus();
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (!std::isfinite(v) || v < 0.0f) {
      return ElementError(field, i, rows,
                          absl::StrFormat("is %g; all values must be finite and >= 0", static_cast<double>(v)));
    }
  }
  return absl::OkStatus();
}

std::span<const float> Values(const RealMatrix& m) { return {m.data(), static_cast<size_t>(m.size())}; }

}  // namespace

absl::Status CheckFinite(std::string_view field, std::span<const float> values) {
  return FirstNonFinite(field, values, 0);
}

absl::Status CheckNonNegativeFinite(std::string_view field, std::span<const float> values) {
  return FirstNegativeOrNonFinite(field, values, 0);
}

absl::Status CheckFinite(std::string_view field, const RealMatrix& matrix) {
  return FirstNonFinite(field, Values(matrix), matrix.rows());
}

absl::Status CheckNonNegativeFinite(std::string_view field, const RealMatrix& matrix) {
  return FirstNegativeOrNonFinite(field, Values(matrix), matrix.rows());
}

}  // namespace specinv
