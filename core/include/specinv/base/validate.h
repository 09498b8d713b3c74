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
#include "specinv/base/types.h"

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
// The same for a spectrogram-shaped matrix (rows: bins or mel bands, columns:
// frames): the field is "<field>[i]" with i the column-major index, and the
// message gives the element's bin and frame, e.g.
// "mel[85] (bin 5, frame 1) is -1; all values must be finite and >= 0".
absl::Status CheckFinite(std::string_view field, const RealMatrix& matrix);
absl::Status CheckNonNegativeFinite(std::string_view field, const RealMatrix& matrix);

}  // namespace specinv

#endif  // SPECINV_VALIDATE_H_
