// Copyright specinv authors.

#include "server/rpc/common.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/status_mapping.h"

namespace specinv::server {

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

absl::Status AttributeInversionError(const absl::Status& s, absl::string_view prefix, absl::string_view input) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  if (absl::StartsWith(s.message(), input)) return WithField(s, Path(prefix, input));
  return WithField(s, Path(prefix, "options"));
}

absl::Status AttributeLeadingField(
    const absl::Status& s, std::initializer_list<std::pair<absl::string_view, absl::string_view>> renames) {
  if (s.code() != absl::StatusCode::kInvalidArgument || FieldOf(s).has_value()) return s;
  const absl::string_view message = s.message();
  size_t n = 0;
  while (n < message.size() && (std::isalnum(static_cast<unsigned char>(message[n])) != 0 || message[n] == '_' ||
                                message[n] == '.' || message[n] == '[' || message[n] == ']')) {
    ++n;
  }
  const absl::string_view token = message.substr(0, n);
  if (token.empty() || n == message.size() || message[n] != ' ') return s;
  if (absl::StartsWith(token, "audio")) return WithField(s, "audio");  // sample index, not a field
  for (const auto& [from, to] : renames) {
    if (token == from) return InvalidField(to, message.substr(n + 1));
  }
  return InvalidField(token, message.substr(n + 1));
}

void ForwardProgress(Job& job, const v1::InversionOptions& proto, InversionOptions* options) {
  if (!job.on_progress) return;
  const int interval = proto.has_progress_interval_iterations() ? proto.progress_interval_iterations() : 1;
  options->progress = [&job, interval](const InversionProgress& p) {
    if (p.iteration % interval != 0 && p.iteration != p.total_iterations) return;
    v1::InversionProgress out;
    out.set_iteration(p.iteration);
    out.set_total_iterations(p.total_iterations);
    out.set_spectral_convergence_db(p.spectral_convergence_db);
    out.set_stage(std::string(p.stage));
    out.set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
    job.on_progress(out);
  };
}

}  // namespace specinv::server
