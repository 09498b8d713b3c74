// Copyright specinv authors.
//
// Errors that name the option or input field they are about.
//
// InvalidField returns InvalidArgument "<field> <message>" and attaches the
// field name as a status payload, so a caller can point at the field without
// parsing the message:
//   type URL: kFieldPayloadUrl = "type.googleapis.com/specinv.FieldPath"
//   payload:  the field name as bytes, e.g. "n_fft", "tsne.perplexity",
//             "custom_order[3]", "samples[17]".
// Field names are core's own (the names options structs and inputs use);
// a caller that nests them (a request field "config" holding a FeatureConfig)
// adds its prefix with WithFieldPrefix.
// Pure functions, thread-safe.

#ifndef SPECINV_BASE_FIELD_ERROR_H_
#define SPECINV_BASE_FIELD_ERROR_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace specinv {

// Type URL of the field payload.
inline constexpr char kFieldPayloadUrl[] = "type.googleapis.com/specinv.FieldPath";

// InvalidArgument "<field> <message>" with `field` attached as the payload.
absl::Status InvalidField(std::string_view field, std::string_view message);

// Attaches `field` to an existing status (any code; OK passes through
// unchanged). The message is not changed.
absl::Status WithField(absl::Status status, std::string_view field);

// The attached field name, if any.
std::optional<std::string> FieldOf(const absl::Status& status);

// Nests the attached field under `prefix`: "n_fft" becomes "config.n_fft",
// "[3]" becomes "custom_order[3]" (no dot before '['). When the message starts
// with the old field name followed by a space or '[' that leading name is
// rewritten too, so message and payload agree. A status without a field, and
// OK, are returned unchanged. An empty prefix changes nothing.
absl::Status WithFieldPrefix(absl::Status status, std::string_view prefix);

}  // namespace specinv

#endif  // SPECINV_BASE_FIELD_ERROR_H_
