// Copyright specinv authors.
//
// InvertSpectrogram (and InvertSpectrogramStream): an STFT magnitude, with
// an optional initial phase, -> audio.

#include <algorithm>
#include <optional>

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/invert_mel.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/stft.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion_cost.h"

namespace specinv::server {
namespace {

struct Plan {
  FeatureConfig config;
  InversionOptions options;
};

absl::Status Run(const RpcEnv& env, Job& job, Plan& plan, const v1::InvertSpectrogramRequest& request,
                 v1::InvertSpectrogramResponse* response) {
  const FeatureConfig& config = plan.config;
  InversionOptions& options = plan.options;
  absl::StatusOr<Stft> stft = Stft::Create(config.stft);
  if (!stft.ok()) return ToRequestField(stft.status(), CoreFields::kFeatureConfig, "config");
  absl::StatusOr<RealMatrix> magnitude = TensorToRealMatrix(request.magnitude(), "magnitude");
  if (!magnitude.ok()) return magnitude.status();
  const int bins = stft->num_bins();
  if (magnitude->rows() != bins) {
    return InvalidField("magnitude", absl::StrFormat("has %d bins but config.n_fft=%d needs n_fft/2+1=%d",
                                                     magnitude->rows(), config.stft.n_fft, bins));
  }
  for (int64_t i = 0; i < magnitude->size(); ++i) {
    if (magnitude->data()[i] < 0.0f) {
      return InvalidField("magnitude", absl::StrFormat("has a negative value %g at bin %d, frame %d; magnitudes "
                                                       "must be >= 0",
                                                       static_cast<double>(magnitude->data()[i]),
                                                       i % magnitude->rows(), i / magnitude->rows()));
    }
  }
  const int64_t frames = magnitude->cols();
  if (request.has_phase()) {
    absl::StatusOr<RealMatrix> phase = TensorToRealMatrix(request.phase(), "phase");
    if (!phase.ok()) return phase.status();
    if (phase->rows() != magnitude->rows() || phase->cols() != magnitude->cols()) {
      return InvalidField("phase", absl::StrFormat("must have the magnitude's shape (bins=%d, frames=%d), got (%d, %d)",
                                                   magnitude->rows(), magnitude->cols(), phase->rows(), phase->cols()));
    }
    options.init = PhaseInit::kGiven;
    options.initial_phase = *std::move(phase);
  }
  // A preset with its own framing (HiFi-GAN's outer padding, Whisper's dropped
  // last frame) inverts on that framing, so the audio lines up with the
  // signal its magnitude came from.
  std::shared_ptr<const FeatureExtractor> framing;
  if (config.framing != Framing::kStft || config.drop_last_frame) {
    absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = env.extractors->Get(config);
    if (!cached.ok()) return ToRequestField(cached.status(), CoreFields::kFeatureConfig, "config");
    framing = *std::move(cached);
  }
  std::optional<int64_t> resize_to;
  if (request.output().has_length_samples()) {
    const int64_t length = request.output().length_samples();
    const bool exact = framing ? FeatureLayout(*framing, frames, length).ok() : StftLayout(*stft, frames, length).ok();
    if (exact) {
      options.length = length;
    } else {
      resize_to = length;
    }
  }
  options.check = job.Checker();
  options.max_threads = job.max_threads;  // idle workers lend their cores
  ForwardProgress(job, request.options(), &options);

  absl::StatusOr<InversionResult> result =
      framing ? InvertMagnitude(*framing, *magnitude, options) : InvertMagnitude(*stft, *magnitude, options);
  if (!result.ok()) return ToRequestField(result.status(), CoreFields::kInversion, "");
  if (resize_to) result->audio.resize(static_cast<size_t>(*resize_to), 0.0f);

  if (absl::Status s = EncodeAudioMessage(result->audio, config.sample_rate, request.output(),
                                          response->mutable_audio(), job.Checker());
      !s.ok()) {
    return s;
  }
  job.audio_seconds = static_cast<double>(result->audio.size()) / config.sample_rate;
  response->set_spectral_convergence_db(result->spectral_convergence_db);
  response->set_iterations_run(result->iterations_run);
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  response->set_stop_reason(result->stop_reason);
  FromFeatureConfig(config, response->mutable_effective_config());
  response->set_queue_milliseconds(absl::ToDoubleMilliseconds(job.queue_wait));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareInvertSpectrogram(const RpcEnv& env, const v1::InvertSpectrogramRequest& request,
                                                  v1::InvertSpectrogramResponse* response) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, "config", /*needs_mel=*/false);
  if (!config.ok()) return config.status();
  const int bins = config->stft.n_fft / 2 + 1;
  const int64_t frames = std::max<int64_t>(1, TensorValuesBound(request.magnitude()) / bins);
  absl::StatusOr<InversionOptions> options =
      ToInversionOptions(request.options(), /*mel_input=*/false, bins, frames, *env.limits, "options");
  if (!options.ok()) return options.status();
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, "output"); !s.ok()) return s;
  const bool length_set = request.output().has_length_samples();
  const int64_t samples =
      length_set ? request.output().length_samples() : ImpliedSamples(frames, config->stft.hop_length, config->stft.n_fft);

  Prepared prepared;
  Admission& a = prepared.admission;
  a.output_seconds = static_cast<double>(samples) / config->sample_rate;
  a.output_field = length_set ? "output.length_samples" : "magnitude";
  // Resampled to output.sample_rate_hertz (or the codec's rate) before encoding.
  const EncodedShape out = OutputAudioShape(request.output(), config->sample_rate, samples);
  a.response_bytes = EncodedAudioBytes(out.samples, request.output().encoding());
  InversionShape shape;
  shape.n_fft = config->stft.n_fft;
  shape.frames = frames;
  shape.length = samples;
  if (request.options().method() == v1::INVERSION_METHOD_UNSPECIFIED) {
    // A given phase is applied to the options on the worker; it is a gl/fgla start.
    InversionOptions chosen = *options;
    if (request.has_phase()) chosen.init = PhaseInit::kGiven;
    options->method = DefaultInversionMethod(shape, chosen);
  }
  a.cost = InversionCost(shape, *options);
  if (request.has_phase()) a.cost.peak_bytes = SaturatingAdd(a.cost.peak_bytes, SaturatingMul(SaturatingMul(frames, bins), 12));
  a.cost.peak_bytes = SaturatingAdd(
      a.cost.peak_bytes,
      EncodeWorkingBytes(out.samples, request.output().encoding(), out.sample_rate != config->sample_rate));
  a.cost_field = "magnitude";
  a.cost_detail = absl::StrFormat("%d frames x %d bins at config.n_fft=%d, config.hop_length=%d, %d samples out "
                                  "(%d at %g Hz encoded)",
                                  frames, bins, shape.n_fft, config->stft.hop_length, samples, out.samples,
                                  out.sample_rate);
  prepared.run = [&env, plan = Plan{*std::move(config), *std::move(options)}, &request, response](Job& job) mutable {
    return Run(env, job, plan, request, response);
  };
  return prepared;
}

}  // namespace specinv::server
