// Copyright specinv authors.

#include "server/rpc/common.h"

#include "absl/strings/str_cat.h"
#include "server/status_mapping.h"

namespace specinv::server {

std::string Path(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
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
