// Copyright specinv authors.
//
// What InvertMel (with its stream and batch items) and InvertSpectrogram
// share: the admission of an inversion into encoded audio, and running it on
// a worker with the job's cancellation, threads, progress and output length.
// Thread-safe: each call touches only its arguments.

#ifndef SPECINV_SERVER_RPC_INVERSION_RPC_H_
#define SPECINV_SERVER_RPC_INVERSION_RPC_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "server/admission.h"
#include "server/conversion.h"
#include "server/job.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/inversion_cost.h"
#include "specinv/v1/inversion.pb.h"

namespace specinv::server {

// The samples an inversion of `frames` frames returns: output.length_samples
// when set, else ImpliedSamples (server/rpc/invert_mel.h).
int64_t InversionOutputSamples(const v1::AudioOutputOptions& output, int64_t frames, const FeatureConfig& config);

// The admission of an inversion of `frames` frames of `input_field` (a
// request path, e.g. "requests[2].mel") into `samples` samples encoded as
// `output` asks: `cost` (InversionCost, with any input the caller holds
// besides) plus the encoder's working bytes, the encoded response bytes, the
// output seconds (set by `output_prefix`.output.length_samples when given,
// else by the input), and the shapes behind the estimate.
Admission InversionAdmission(const FeatureConfig& config, const v1::AudioOutputOptions& output, int64_t frames,
                             int64_t samples, JobCost cost, absl::string_view output_prefix,
                             const std::string& input_field);

// Runs `invert` (InvertMel or InvertMagnitude on the request's input) with
// `options` plus the job's cancellation check, worker threads and progress
// (`wire`'s interval). output.length_samples goes to the engine when
// `exact(length)` (the frames can produce it); otherwise the default-length
// result is zero-padded or cut to it. Core errors are mapped to request
// fields under `prefix`. Encodes the audio into `audio` as `output` asks and
// records job.audio_seconds.
absl::StatusOr<InversionResult> RunInversion(
    Job& job, InversionOptions options, const v1::InversionOptions& wire, const v1::AudioOutputOptions& output,
    const FeatureConfig& config, const std::function<bool(int64_t)>& exact,
    const std::function<absl::StatusOr<InversionResult>(const InversionOptions&)>& invert, absl::string_view prefix,
    v1::Audio* audio);

// The reply fields InvertMelResponse and InvertSpectrogramResponse share
// (each sets its own spectral convergence field).
template <typename Response>
void SetInversionReply(const Job& job, const InversionResult& result, const FeatureConfig& config,
                       Response* response) {
  response->set_iterations_run(result.iterations_run);
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  response->set_stop_reason(result.stop_reason);
  FromFeatureConfig(config, response->mutable_effective_config());
  response->set_queue_milliseconds(absl::ToDoubleMilliseconds(job.queue_wait));
}

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_INVERSION_RPC_H_
