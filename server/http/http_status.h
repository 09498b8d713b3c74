// Copyright specinv authors.
//
// absl::Status -> HTTP: the one place the HTTP API maps statuses (gRPC's
// mapping is status_mapping.h).
//
//   OK 200, INVALID_ARGUMENT / FAILED_PRECONDITION / OUT_OF_RANGE 400,
//   UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
//   RESOURCE_EXHAUSTED 429 (with Retry-After and X-Retry-After-Ms when the
//   status carries a retry hint), CANCELLED 499, INTERNAL / UNKNOWN / DATA_LOSS 500,
//   UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504.
//
// Error bodies are JSON: {"code": "INVALID_ARGUMENT", "message": "...",
// "field": "config.hop_length", "request_id": "..."} ("field" only when the
// status names one). Thread-safe.

#ifndef SPECINV_SERVER_HTTP_HTTP_STATUS_H_
#define SPECINV_SERVER_HTTP_HTTP_STATUS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace specinv::server {

int HttpStatusOf(absl::StatusCode code);

// The JSON error body of a non-OK status.
std::string ErrorJson(const absl::Status& status, absl::string_view request_id);

// Retry-After value (whole seconds, at least 1) when the status carries a
// retry hint.
std::optional<std::string> RetryAfterOf(const absl::Status& status);
// The hint in milliseconds (X-Retry-After-Ms: the hint is
// often tens of ms, which Retry-After cannot say).
std::optional<std::string> RetryAfterMsOf(const absl::Status& status);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_HTTP_HTTP_STATUS_H_
