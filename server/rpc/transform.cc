// Copyright specinv authors.
//
// Transform: creative phase and bin operations on a signal's STFT, then
// resynthesis (transform.h).

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/invert_mel.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/analysis_cost.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/creative_cost.h"
#include "specinv/creative/transform.h"

namespace specinv::server {
namespace {

struct Plan {
  FeatureConfig config;
  TransformOptions options;
  AudioInput input;
};

absl::Status Run(const RpcEnv& env, Job& job, Plan& plan, const v1::TransformRequest& request,
                 v1::TransformResponse* response) {
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = env.extractors->Get(plan.config);
  if (!cached.ok()) return ToRequestField(cached.status(), CoreFields::kFeatureConfig, "config");
  absl::StatusOr<specinv::Audio> audio = DecodeAudioInput(plan.input, *env.limits, job.Checker());
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / plan.config.sample_rate;
  plan.options.inversion.check = job.Checker();
  plan.options.max_threads = job.max_threads;
  absl::StatusOr<TransformResult> result = specinv::Transform(**cached, audio->samples, plan.options);
  if (!result.ok()) return ToRequestField(result.status(), CoreFields::kTransform, "");
  if (absl::Status s = EncodeAudioMessage(result->audio, plan.config.sample_rate, request.output(),
                                          response->mutable_audio(), job.Checker());
      !s.ok()) {
    return s;
  }
  FromFeatureConfig(plan.config, response->mutable_effective_config());
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareTransform(const RpcEnv& env, const v1::TransformRequest& request,
                                          v1::TransformResponse* response) {
  const bool warp = request.has_mel_warp();
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, "config", /*needs_mel=*/warp);
  if (!config.ok()) return config.status();
  TransformOptions options;
  switch (request.phase()) {
    case v1::PHASE_OPERATION_UNSPECIFIED:
    case v1::PHASE_OPERATION_KEEP: options.phase = PhaseOperation::kKeep; break;
    case v1::PHASE_OPERATION_ZERO: options.phase = PhaseOperation::kZero; break;
    case v1::PHASE_OPERATION_CONJUGATE: options.phase = PhaseOperation::kConjugate; break;
    case v1::PHASE_OPERATION_RANDOM: options.phase = PhaseOperation::kRandom; break;
    case v1::PHASE_OPERATION_RESYNTHESIZE: options.phase = PhaseOperation::kResynthesize; break;
    default: return InvalidField("phase", absl::StrFormat("has unknown value %d", static_cast<int>(request.phase())));
  }
  options.seed = request.seed();
  options.checkerboard = request.checkerboard();
  options.band_mutes.reserve(static_cast<size_t>(request.band_mutes_size()));
  for (const v1::BandMute& band : request.band_mutes()) {
    options.band_mutes.push_back(specinv::BandMute{band.low_hertz(), band.high_hertz()});
  }
  if (request.has_time_gate()) {
    options.time_gate = specinv::TimeGate{request.time_gate().period_seconds(), request.time_gate().open_fraction()};
  }
  if (warp) {
    options.mel_warp = specinv::MelWarp{request.mel_warp().shift_bins(), request.mel_warp().reverse_time(),
                                        request.mel_warp().flip_frequency()};
  }
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, "output"); !s.ok()) return s;
  if (request.output().has_length_samples()) options.length = request.output().length_samples();
  absl::StatusOr<AudioInput> input = ToAudioInput(request.audio(), config->sample_rate, *env.limits, "audio");
  if (!input.ok()) return input.status();
  const int64_t samples = input->samples();
  const int64_t frames = FeatureFrames(*config, samples);
  absl::StatusOr<InversionOptions> inversion = ToInversionOptions(
      request.inversion(), /*mel_input=*/warp, config->stft.n_fft / 2 + 1, frames, *env.limits, "inversion");
  if (!inversion.ok()) return inversion.status();
  options.inversion = *std::move(inversion);

  const int64_t out_samples = options.length.value_or(samples);
  Prepared prepared;
  Admission& a = prepared.admission;
  a.input_seconds = input->source_seconds();
  a.input_field = input->field;
  a.output_seconds = static_cast<double>(out_samples) / config->sample_rate;
  a.output_field = options.length.has_value() ? "output.length_samples" : input->field;
  // Resampled to output.sample_rate_hertz (or the codec's rate) before encoding.
  const EncodedShape out = OutputAudioShape(request.output(), config->sample_rate, out_samples);
  a.response_bytes = EncodedAudioBytes(out.samples, request.output().encoding());
  a.cost = DecodeCost(input->shape).Then(TransformCost(*config, samples, options), 0);
  a.cost.peak_bytes = SaturatingAdd(
      a.cost.peak_bytes,
      EncodeWorkingBytes(out.samples, request.output().encoding(), out.sample_rate != config->sample_rate));
  a.cost_field = config->stft.hop_length * 4 < config->stft.n_fft ? "config.hop_length" : input->field;
  a.cost_detail = absl::StrFormat("%d samples -> %d frames x %d bins at config.n_fft=%d, config.hop_length=%d",
                                  samples, frames, config->stft.n_fft / 2 + 1, config->stft.n_fft,
                                  config->stft.hop_length);
  prepared.run = [&env, plan = Plan{*std::move(config), std::move(options), *std::move(input)}, &request,
                  response](Job& job) mutable { return Run(env, job, plan, request, response); };
  return prepared;
}

}  // namespace specinv::server
