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
#include "server/rpc/inversion_rpc.h"
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
  // Its shape (n_fft/2+1 rows) and values (finite, >= 0) are core's to check.
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
  absl::StatusOr<InversionResult> result = RunInversion(
      job, std::move(options), request.options(), request.output(), config,
      [&](int64_t length) {
        return framing ? FeatureLayout(*framing, frames, length).ok() : StftLayout(*stft, frames, length).ok();
      },
      [&](const InversionOptions& o) {
        return framing ? InvertMagnitude(*framing, *magnitude, o) : InvertMagnitude(*stft, *magnitude, o);
      },
      "", response->mutable_audio());
  if (!result.ok()) return result.status();
  response->set_spectral_convergence_db(result->spectral_convergence_db);
  SetInversionReply(job, *result, config, response);
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
  const int64_t samples = InversionOutputSamples(request.output(), frames, *config);
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
  JobCost cost = InversionCost(shape, *options);
  if (request.has_phase()) cost.peak_bytes = SaturatingAdd(cost.peak_bytes, SaturatingMul(SaturatingMul(frames, bins), 12));
  Prepared prepared;
  prepared.admission = InversionAdmission(*config, request.output(), frames, samples, cost, "", "magnitude");
  prepared.run = [&env, plan = Plan{*std::move(config), *std::move(options)}, &request, response](Job& job) mutable {
    return Run(env, job, plan, request, response);
  };
  return prepared;
}

}  // namespace specinv::server
