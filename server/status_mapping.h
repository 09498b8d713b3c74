// Copyright specinv authors.
//
// The one place where absl::Status becomes grpc::Status.
//
// The service layer reports errors as absl::Status. Two optional payloads
// carry structured details through the core/service boundary:
//   - a field path (e.g. "config.n_fft", "requests[2].mel"): core's field
//     payload (specinv/base/field_error.h), rewritten to request paths by
//     ToRequestField / WithField, becomes a google.rpc.BadRequest detail;
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

// Attributes an error to the request field at `path`, replacing the field
// core attached (core names its own inputs: "audio", "mel[3]"; an index on a
// name equal to the path's last component is kept: "mel[3]" at path
// "requests[2].mel" gives "requests[2].mel[3]"). The name the message starts
// with becomes the path; otherwise "<path>: " is prepended. OK passes through.
// Options errors go through ToRequestField (server/field_paths.h) instead.
absl::Status WithField(const absl::Status& status, absl::string_view path);

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
