// Copyright specinv authors.
//
// The server's hint of when to retry a rejected call. specinv-server answers
// a full queue with RESOURCE_EXHAUSTED carrying the same delay twice: a
// google.rpc.RetryInfo detail (in the grpc-status-details-bin trailer, i.e.
// grpc::Status::error_details()) and gRPC's standard
// "grpc-retry-pushback-ms" trailing metadata. The channel's own retry policy
// honours the latter between its attempts; these functions let the caller
// (the load generator) honour it after the last attempt, instead of sending
// its next call at once.
//
// Pure functions; thread-safe.

#ifndef SPECINV_CLIENT_RETRY_HINT_H_
#define SPECINV_CLIENT_RETRY_HINT_H_

#include <cstdint>
#include <map>
#include <optional>

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>
#include <grpcpp/support/string_ref.h>

#include "absl/status/status.h"

namespace specinv::client {

using TrailingMetadata = std::multimap<grpc::string_ref, grpc::string_ref>;

// The retry delay (ms, >= 0) a failed call carries: RetryInfo.retry_delay
// from the status details when present and valid, else the value of the
// grpc-retry-pushback-ms trailer when it is a non-negative integer. nullopt
// for an OK status, when neither is present, or when both are malformed
// (negative, unparseable, or a negative pushback, which gRPC defines as "do
// not retry").
std::optional<int64_t> RetryHintMs(const grpc::Status& status, const TrailingMetadata& trailers);

// `status` with a retry hint attached (an absl::Status payload).
absl::Status WithRetryHintMs(absl::Status status, int64_t ms);
// The hint attached by WithRetryHintMs, if any.
std::optional<int64_t> RetryHintMsOf(const absl::Status& status);

// FromGrpcStatus (status_format.h) of a finished call, with the call's retry
// hint attached when it has one. `context` must belong to the finished call.
absl::Status FromGrpcCall(const grpc::Status& status, const grpc::ClientContext& context);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_RETRY_HINT_H_
