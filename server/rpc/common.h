// Copyright specinv authors.
//
// Helpers shared by the RPC bodies (server/rpc/*.cc): field paths and
// progress forwarding. (Core errors reach request fields through
// server/field_paths.h.)
// Pure functions; thread-safe.

#ifndef SPECINV_SERVER_RPC_COMMON_H_
#define SPECINV_SERVER_RPC_COMMON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/job.h"
#include "specinv/inversion/inversion.h"
#include "specinv/v1/inversion.pb.h"

namespace specinv::server {

// "prefix.field", or "field" for an empty prefix.
std::string Path(absl::string_view prefix, absl::string_view field);

// Streaming RPCs: forwards every progress_interval_iterations-th inversion
// progress event of `options` to job.on_progress (no-op for unary calls).
void ForwardProgress(Job& job, const v1::InversionOptions& proto, InversionOptions* options);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_COMMON_H_
