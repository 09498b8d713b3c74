// Copyright specinv authors.

#include "server/admission.h"

#include "absl/strings/str_format.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// What a response carries besides its payload (effective config, figures,
// protobuf framing, .npy and WAV headers), at most.
constexpr int64_t kResponseOverheadBytes = 64 << 10;

}  // namespace

absl::Status Admit(const Admission& a, const ServiceLimits& limits) {
  if (a.input_seconds > limits.max_audio_seconds) {
    return InvalidField(a.input_field,
                        absl::StrFormat("holds %.1f s of audio, above the server limit --max-audio-seconds=%g",
                                        a.input_seconds, limits.max_audio_seconds));
  }
  if (a.output_seconds > limits.max_audio_seconds) {
    return InvalidField(a.output_field,
                        absl::StrFormat("would produce %.1f s of audio, above the server limit "
                                        "--max-audio-seconds=%g",
                                        a.output_seconds, limits.max_audio_seconds));
  }
  if (SaturatingAdd(a.response_bytes, kResponseOverheadBytes) > limits.max_message_bytes) {
    return InvalidField(a.cost_field,
                        absl::StrFormat("would make a response of %d bytes (%s), above the server's max message "
                                        "size of %d bytes (--max-message-mb); request shorter audio, a larger "
                                        "hop or a more compact encoding",
                                        a.response_bytes, a.cost_detail, limits.max_message_bytes));
  }
  if (a.cost.peak_bytes > limits.max_job_memory_bytes) {
    return InvalidField(a.cost_field,
                        absl::StrFormat("needs an estimated %.0f MiB of working memory (%s), above the server's "
                                        "per-job limit of %.0f MiB (--max-job-memory-mb)",
                                        MiB(a.cost.peak_bytes), a.cost_detail, MiB(limits.max_job_memory_bytes)));
  }
  return absl::OkStatus();
}

}  // namespace specinv::server
