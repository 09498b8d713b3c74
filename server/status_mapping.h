// Copyright specinv authors.
//
// The one place where absl::Status becomes grpc::Status.
//
// The service layer reports errors as absl::Status. Two optional payloads
// carry structured details through the core/service boundary:
//   - a field path (e.g. "config.n_fft", "requests[2].mel"), attached by
//     InvalidField / WithField, becomes a google.rpc.BadRequest detail;
//   - a retry delay, attached by WithRetryDelay (queue full), becomes a
//     google.rpc.RetryInfo detail; the caller also sends it as gRPC's
//     "grpc-retry-pushback-ms" trailing metadata (RetryPushbackMetadata).
// Status codes map one to one (absl and gRPC share the canonical codes).
// Pure functions, thread-safe.

#ifndef SPECINV_SERVER_STATUS_MAPPING_H_
#define SPECINV_SERVER_STATUS_MAPPING_H_

#include <optional>
#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace specinv::server {

// InvalidArgument "<path> <message>" (e.g. path "config.n_fft", message
// "must be in [16, 16384], got 8") with the field path attached.
absl::Status InvalidField(absl::string_view path, absl::string_view message);

// Attributes an error to a request field. If the message starts with the
// path's last component (core messages name their own field, e.g. "n_fft must
// be in [16, 65536], got 8"), that word is replaced by the full path
// ("config.n_fft must be ..."); otherwise "<path>: " is prepended. OK
// statuses pass through; a status that already has a field keeps it but gets
// `path` as a prefix ("requests[2]." + "mel" when path is "requests[2]").
absl::Status WithField(const absl::Status& status, absl::string_view path);

// Attributes an error from core's FeatureConfig validation (whose messages
// start with the bare field name) to the SpectrogramConfig field at `prefix`
// (e.g. "config"): n_fft -> config.n_fft, amin -> config.scale.amin,
// ref -> config.scale.ref_value, ...
absl::Status WithConfigField(const absl::Status& status, absl::string_view prefix);

// The attached field path, if any.
std::optional<std::string> FieldOf(const absl::Status& status);

// Attaches a retry hint.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);
// The attached retry hint, if any.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);
// Value for the "grpc-retry-pushback-ms" trailing metadata key.
inline constexpr char kRetryPushbackKey[] = "grpc-retry-pushback-ms";
std::string RetryPushbackMetadata(absl::Duration delay);

// Canonical code mapping.
grpc::StatusCode ToGrpcCode(absl::StatusCode code);

// Code + message + google.rpc.Status details (BadRequest, RetryInfo) in the
// binary error details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_STATUS_MAPPING_H_
