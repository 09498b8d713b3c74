// Copyright specinv authors.
//
// How the client reports failures: one line on stderr,
//   "error: INVALID_ARGUMENT: n_fft must be in [16, 65536], got 8"
// (canonical status code name, then the message with newlines folded), and a
// non-zero exit code. Pure functions; thread-safe.

#ifndef SPECINV_CLIENT_STATUS_FORMAT_H_
#define SPECINV_CLIENT_STATUS_FORMAT_H_

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace specinv::client {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // an RPC or local operation failed
inline constexpr int kExitUsage = 2;    // bad command line

// gRPC and absl share the canonical code numbers; this keeps the message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// "INVALID_ARGUMENT", "UNAVAILABLE", ... for a gRPC status code number.
std::string_view StatusCodeName(absl::StatusCode code);

// The one-line report for a failed status: "error: CODE: message". Newlines
// and carriage returns in the message become "; " so the line stays one line.
// An empty message gives "error: CODE".
std::string FormatError(const absl::Status& status);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_STATUS_FORMAT_H_
