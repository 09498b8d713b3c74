// Copyright specinv authors.

#include "server/rpc/inversion_rpc.h"

#include <optional>
#include <utility>

#include "absl/strings/str_format.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/invert_mel.h"
#include "specinv/base/job_cost.h"

namespace specinv::server {

int64_t InversionOutputSamples(const v1::AudioOutputOptions& output, int64_t frames, const FeatureConfig& config) {
  return output.has_length_samples() ? output.length_samples()
                                     : ImpliedSamples(frames, config.stft.hop_length, config.stft.n_fft);
}

Admission InversionAdmission(const FeatureConfig& config, const v1::AudioOutputOptions& output, int64_t frames,
                             int64_t samples, JobCost cost, absl::string_view output_prefix,
                             const std::string& input_field) {
  Admission a;
  a.output_seconds = static_cast<double>(samples) / config.sample_rate;
  a.output_field = output.has_length_samples() ? Path(output_prefix, "output.length_samples") : input_field;
  // Resampled to output.sample_rate_hertz (or the codec's rate) before encoding.
  const EncodedShape out = OutputAudioShape(output, config.sample_rate, samples);
  a.response_bytes = EncodedAudioBytes(out.samples, output.encoding());
  a.cost = cost;
  a.cost.peak_bytes = SaturatingAdd(a.cost.peak_bytes, EncodeWorkingBytes(out.samples, output.encoding(),
                                                                          out.sample_rate != config.sample_rate));
  a.cost_field = input_field;
  a.cost_detail = absl::StrFormat("%d frames x %d bins at config.n_fft=%d, config.hop_length=%d, %d samples out "
                                  "(%d at %g Hz encoded)",
                                  frames, config.stft.n_fft / 2 + 1, config.stft.n_fft, config.stft.hop_length,
                                  samples, out.samples, out.sample_rate);
  return a;
}

absl::StatusOr<InversionResult> RunInversion(
    Job& job, InversionOptions options, const v1::InversionOptions& wire, const v1::AudioOutputOptions& output,
    const FeatureConfig& config, const std::function<bool(int64_t)>& exact,
    const std::function<absl::StatusOr<InversionResult>(const InversionOptions&)>& invert, absl::string_view prefix,
    v1::Audio* audio) {
  // Lengths the frames can produce go to the engine; others are served by
  // zero-padding or truncating the default-length result.
  std::optional<int64_t> resize_to;
  if (output.has_length_samples()) {
    if (exact(output.length_samples())) {
      options.length = output.length_samples();
    } else {
      resize_to = output.length_samples();
    }
  }
  options.check = job.Checker();
  options.max_threads = job.max_threads;  // idle workers lend their cores
  ForwardProgress(job, wire, &options);

  absl::StatusOr<InversionResult> result = invert(options);
  if (!result.ok()) return ToRequestField(result.status(), CoreFields::kInversion, prefix);
  if (resize_to) result->audio.resize(static_cast<size_t>(*resize_to), 0.0f);
  if (absl::Status s = EncodeAudioMessage(result->audio, config.sample_rate, output, audio, job.Checker()); !s.ok()) {
    return s;
  }
  job.audio_seconds = static_cast<double>(result->audio.size()) / config.sample_rate;
  return result;
}

}  // namespace specinv::server
