// Copyright specinv authors.
//
// Helpers shared by the RPC bodies (server/rpc/*.cc): field paths, error
// attribution of core statuses to request fields, progress forwarding and
// the description of a cost for refusal messages.
// Pure functions; thread-safe.

#ifndef SPECINV_SERVER_RPC_COMMON_H_
#define SPECINV_SERVER_RPC_COMMON_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/job.h"
#include "specinv/inversion/inversion.h"
#include "specinv/v1/inversion.pb.h"

namespace specinv::server {

// "prefix.field", or "field" for an empty prefix.
std::string Path(absl::string_view prefix, absl::string_view field);

// Core errors from an inversion: those that name the input go to
// `prefix.input`, other invalid arguments to `prefix.options`.
absl::Status AttributeInversionError(const absl::Status& s, absl::string_view prefix, absl::string_view input);

// Core errors whose message starts with the request field they concern
// ("tsne.perplexity must be ...", "custom_order[3] is ..."); `renames` maps
// core names to proto names (width -> width_pixels).
absl::Status AttributeLeadingField(
    const absl::Status& s, std::initializer_list<std::pair<absl::string_view, absl::string_view>> renames = {});

// Streaming RPCs: forwards every progress_interval_iterations-th inversion
// progress event of `options` to job.on_progress (no-op for unary calls).
void ForwardProgress(Job& job, const v1::InversionOptions& proto, InversionOptions* options);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_COMMON_H_
