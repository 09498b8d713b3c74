// Copyright specinv authors.
//
// Helpers that turn bad input into precise absl::Status errors. Every message
// names the field and the allowed range, e.g.
//   "n_fft must be in [16, 65536], got 8".
// Each error also carries the field as a payload (see field_error.h): the
// field itself ("n_fft"), or the element for the span checks ("samples[17]").
// Thread-safe (pure functions).

#ifndef SPECINV_VALIDATE_H_
#define SPECINV_VALIDATE_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"

namespace specinv {

// InvalidArgument unless lo <= value <= hi.
absl::Status CheckRange(std::string_view field, int64_t value, int64_t lo, int64_t hi);
// InvalidArgument unless lo <= value <= hi and value is finite.
absl::Status CheckRealRange(std::string_view field, double value, double lo, double hi);
// InvalidArgument unless value > lo (strictly) and value <= hi and finite.
absl::Status CheckRangeOpenLow(std::string_view field, double value, double lo, double hi);
// InvalidArgument naming the first non-finite element (index) of `values`.
absl::Status CheckFinite(std::string_view field, std::span<const float> values);
// InvalidArgument naming the first negative or non-finite element.
absl::Status CheckNonNegativeFinite(std::string_view field, std::span<const float> values);

}  // namespace specinv

#endif  // SPECINV_VALIDATE_H_
