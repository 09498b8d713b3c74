// Copyright specinv authors.
//
// The one table from core's field names to request proto paths.
//
// Core validates every option and input and attaches the field an error is
// about (specinv::FieldOf: "n_fft", "amin", "tsne.perplexity",
// "custom_order[3]", "width"). Those are core's names, relative to the core
// struct or input that was checked. The service owns the request protos, so it
// alone knows where that struct sits in a request ("config", "requests[2]",
// "inversion") and how proto fields are named there ("config.scale.amin",
// "width_pixels"). ToRequestField rewrites the attached field and the leading
// name in the message, so "amin must be > 0" from a FeatureConfig nested at
// "config" becomes "config.scale.amin must be > 0" with field
// "config.scale.amin".
//
// Each CoreFields value has a parent (where core's names sit under the
// prefix: "options" for InversionOptions) and renames for
// the names that sit elsewhere or are spelled differently ("amin" ->
// "config.scale.amin", "mel" -> "mel", "width" -> "width_pixels").
// Pure functions over static tables; thread-safe.

#ifndef SPECINV_SERVER_FIELD_PATHS_H_
#define SPECINV_SERVER_FIELD_PATHS_H_

#include <span>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace specinv::server {

// (core name, proto path relative to the prefix).
using FieldRenames = std::span<const std::pair<absl::string_view, absl::string_view>>;

// Which core struct or input a status came from, and so which renames apply.
enum class CoreFields {
  kFeatureConfig,     // FeatureConfig and parts -> SpectrogramConfig (prefix: the config's path)
  kInversion,         // InversionOptions + the inverted tensor -> Invert*Request
  kReorder,           // ReorderOptions, FrameFeatureOptions, TsneOptions -> ReorderRequest
  kTransform,         // TransformOptions -> TransformRequest
  kRender,            // RenderOptions + the rendered tensor -> RenderRequest
  kStreamVocode,      // StreamVocoderOptions -> StreamVocodeConfig
};

// The renames of `fields` (exposed for tests).
FieldRenames RenamesOf(CoreFields fields);

// Rewrites the field core attached to `status` to its request path under
// `prefix`: the request's path ("" for a top-level request, "requests[2]" in
// a batch; for kFeatureConfig the config's own path, "requests[2].config"). An invalid-argument status
// without a field is attributed to `prefix` itself (when not empty). OK and
// other statuses pass through unchanged.
absl::Status ToRequestField(const absl::Status& status, CoreFields fields, absl::string_view prefix);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_FIELD_PATHS_H_
