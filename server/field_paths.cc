// Copyright specinv authors.

#include "server/field_paths.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "specinv/base/field_error.h"

namespace specinv::server {
namespace {

using Rename = std::pair<absl::string_view, absl::string_view>;

// FeatureConfig and its parts (StftOptions, MelOptions, ScalingOptions),
// validated by FeatureExtractor::Create, relative to the SpectrogramConfig.
constexpr Rename kFeatureConfigRenames[] = {
    {"amin", "scale.amin"},   {"ref", "scale.ref_value"}, {"top_db", "scale.top_db"},
    {"clamp", "scale.clamp"}, {"kind", "scale.kind"},     {"sample_rate", "sample_rate_hertz"},
};

// InversionOptions (validated by ValidateInversionOptions) and the inverted
// tensor.
constexpr Rename kInversionRenames[] = {
    {"mel", "mel"},
    {"magnitude", "magnitude"},
    {"signal", "mel"},
    {"filterbank", "config"},
    {"phase", "phase"},
    {"init", "options.phase_init"},
    {"initial_complex", "options.initial_phase"},
    {"nnls", "options.nnls_iterations"},
    {"refine", "options.refine_iterations"},
    {"length", "output.length_samples"},
};

// ReorderOptions, FrameFeatureOptions, TsneOptions; the frame features,
// t-SNE points and embedding all come from the request's audio.
constexpr Rename kReorderRenames[] = {
    {"features.amin", "features"}, {"features", "audio"}, {"points", "audio"},
    {"embedding", "audio"},        {"k", "audio"},
};

// RenderOptions and the rendered tensor.
constexpr Rename kRenderRenames[] = {
    {"width", "width_pixels"}, {"height", "height_pixels"}, {"image", "width_pixels"},
    {"magnitude", "spectrogram"}, {"phase", "spectrogram"}, {"stft", "spectrogram"},
};

// StreamVocoderOptions and the chunks.
constexpr Rename kStreamVocodeRenames[] = {
    {"magnitude", "mel_chunk"},
    {"mel", "mel_chunk"},
};

struct FieldMap {
  absl::string_view parent;  // where names without a rename sit
  FieldRenames renames;
};

FieldMap MapOf(CoreFields fields) {
  switch (fields) {
    case CoreFields::kFeatureConfig: return {"", kFeatureConfigRenames};
    case CoreFields::kInversion: return {"options", kInversionRenames};
    case CoreFields::kReorder: return {"", kReorderRenames};
    case CoreFields::kTransform: return {"", {}};
    case CoreFields::kRender: return {"", kRenderRenames};
    case CoreFields::kStreamVocode: return {"config", kStreamVocodeRenames};
  }
  return {"", {}};
}

// The leading name of a core field: "tsne.perplexity" stays whole when the
// table names it, else "custom_order[3]" -> "custom_order".
std::optional<absl::string_view> Lookup(FieldRenames renames, absl::string_view field, size_t* matched) {
  for (const auto& [from, to] : renames) {
    if (field == from || (absl::StartsWith(field, from) &&
                          (field[from.size()] == '.' || field[from.size()] == '['))) {
      *matched = from.size();
      return to;
    }
  }
  return std::nullopt;
}

std::string Join(absl::string_view prefix, absl::string_view rest) {
  if (prefix.empty()) return std::string(rest);
  if (rest.empty()) return std::string(prefix);
  return absl::StrCat(prefix, rest.front() == '[' ? "" : ".", rest);
}

}  // namespace

FieldRenames RenamesOf(CoreFields fields) { return MapOf(fields).renames; }

absl::Status ToRequestField(const absl::Status& status, CoreFields fields, absl::string_view prefix) {
  if (status.ok()) return status;
  const std::optional<std::string> core_field = specinv::FieldOf(status);
  if (!core_field.has_value()) {
    if (status.code() != absl::StatusCode::kInvalidArgument || prefix.empty()) return status;
    absl::Status out(status.code(), absl::StrCat(prefix, ": ", status.message()));
    status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) { out.SetPayload(url, p); });
    return specinv::WithField(std::move(out), std::string_view(prefix.data(), prefix.size()));
  }
  size_t matched = 0;
  const FieldMap map = MapOf(fields);
  std::string relative = Join(map.parent, *core_field);
  if (auto to = Lookup(map.renames, *core_field, &matched)) {
    relative = absl::StrCat(*to, absl::string_view(*core_field).substr(matched));
  }
  const std::string path = Join(prefix, relative);
  if (path == *core_field) return status;
  // Core messages start with the field they name; keep message and field in step.
  absl::string_view message = status.message();
  std::string new_message;
  if (absl::StartsWith(message, *core_field) &&
      (message.size() == core_field->size() || message[core_field->size()] == ' ' ||
       message[core_field->size()] == '[' || message[core_field->size()] == ':')) {
    new_message = absl::StrCat(path, message.substr(core_field->size()));
  } else {
    new_message = absl::StrCat(path, ": ", message);
  }
  absl::Status out(status.code(), new_message);
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& p) { out.SetPayload(url, p); });
  return specinv::WithField(std::move(out), path);
}

}  // namespace specinv::server
