// Copyright specinv authors.
//
// InvertMel (and InvertMelStream): a mel spectrogram in the preset's domain
// -> audio.

#include "server/field_paths.h"
#include "server/rpc/invert_mel.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/rpc/common.h"
#include "server/rpc/inversion_rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion_cost.h"
#include "specinv/inversion/mel_domain_check.h"

namespace specinv::server {

int64_t ImpliedSamples(int64_t frames, int hop_length, int n_fft) {
  return SaturatingAdd(SaturatingMul(std::max<int64_t>(frames, 1), hop_length), n_fft);
}

int64_t TensorValuesBound(const v1::Tensor& tensor) {
  return static_cast<int64_t>(tensor.float32_data().size() + tensor.npy_data().size()) / 4;
}

namespace {

struct Plan {
  FeatureConfig config;
  InversionOptions options;
  std::string prefix;
};

absl::Status Run(const RpcEnv& env, Job& job, Plan& plan, const v1::InvertMelRequest& request,
                 v1::InvertMelResponse* response) {
  const FeatureConfig& config = plan.config;
  const std::string& prefix = plan.prefix;
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = env.extractors->Get(config);
  if (!cached.ok()) return ToRequestField(cached.status(), CoreFields::kFeatureConfig, Path(prefix, "config"));
  const FeatureExtractor& fx = **cached;

  const std::string mel_path = Path(prefix, "mel");
  absl::StatusOr<RealMatrix> mel = TensorToRealMatrix(request.mel(), mel_path);
  if (!mel.ok()) return mel.status();
  if (mel->rows() != config.n_mels) {
    return InvalidField(mel_path,
                        absl::StrFormat("has %d mel bins but config.n_mels is %d (tensor shape [%d, %d], layout %s)",
                                        mel->rows(), config.n_mels,
                                        request.mel().shape_size() > 0 ? request.mel().shape(0) : mel->rows(),
                                        request.mel().shape_size() > 1 ? request.mel().shape(1) : mel->cols(),
                                        request.mel().layout() == v1::TENSOR_LAYOUT_FRAMES_BINS ? "FRAMES_BINS"
                                                                                                : "BINS_FRAMES"));
  }
  const int64_t frames = mel->cols();

  const v1::MelNormalization& norm = request.normalization();
  if (norm.mean_size() != 0 || norm.std_size() != 0) {
    const std::string norm_path = Path(prefix, "normalization");
    if (norm.mean_size() != 0 && norm.mean_size() != config.n_mels) {
      return InvalidField(Path(norm_path, "mean"), absl::StrFormat("must have 0 or n_mels=%d values, got %d",
                                                                   config.n_mels, norm.mean_size()));
    }
    if (norm.std_size() != 0 && norm.std_size() != config.n_mels) {
      return InvalidField(Path(norm_path, "std"), absl::StrFormat("must have 0 or n_mels=%d values, got %d",
                                                                  config.n_mels, norm.std_size()));
    }
    for (int m = 0; m < norm.std_size(); ++m) {
      if (!std::isfinite(norm.std(m)) || norm.std(m) <= 0.0f) {
        return InvalidField(absl::StrFormat("%s.std[%d]", norm_path, m),
                            absl::StrFormat("must be finite and > 0, got %g", static_cast<double>(norm.std(m))));
      }
    }
    for (int m = 0; m < norm.mean_size(); ++m) {
      if (!std::isfinite(norm.mean(m))) {
        return InvalidField(absl::StrFormat("%s.mean[%d]", norm_path, m), "must be finite");
      }
    }
    for (int m = 0; m < config.n_mels; ++m) {
      const float scale = norm.std_size() != 0 ? norm.std(m) : 1.0f;
      const float offset = norm.mean_size() != 0 ? norm.mean(m) : 0.0f;
      mel->row(m) = (mel->row(m).array() * scale + offset).matrix();
    }
  }
  // Domain diagnostics on the values as they will be decompressed: a mel in
  // the wrong domain inverts into noise, so say so; a negative linear mel is
  // the one hard error.
  const bool linear_input = request.input_domain() == v1::MEL_DOMAIN_LINEAR;
  absl::StatusOr<MelDomainDiagnostics> diagnostics = CheckMelDomain(*mel, config, linear_input);
  if (!diagnostics.ok()) return ToRequestField(diagnostics.status(), CoreFields::kInversion, prefix);
  for (std::string& warning : diagnostics->warnings) response->add_warnings(std::move(warning));
  if (!linear_input) {
    absl::StatusOr<RealMatrix> linear = fx.Decompress(*mel);
    if (!linear.ok()) return WithField(linear.status(), mel_path);
    mel = *std::move(linear);
  }

  absl::StatusOr<InversionResult> result = RunInversion(
      job, std::move(plan.options), request.options(), request.output(), config,
      [&](int64_t length) { return FeatureLayout(fx, frames, length).ok(); },
      [&](const InversionOptions& options) { return specinv::InvertMel(fx, *mel, options); }, prefix,
      response->mutable_audio());
  if (!result.ok()) return result.status();
  response->set_spectral_convergence_mel_db(result->spectral_convergence_db);
  SetInversionReply(job, *result, config, response);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareInvertMelItem(const RpcEnv& env, const v1::InvertMelRequest& request,
                                              v1::InvertMelResponse* response, const std::string& prefix) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, Path(prefix, "config"));
  if (!config.ok()) return config.status();
  if (!v1::MelDomain_IsValid(request.input_domain())) {
    return InvalidField(Path(prefix, "input_domain"),
                        absl::StrFormat("has unknown value %d", static_cast<int>(request.input_domain())));
  }
  // Frames from the tensor's byte size (exact for a well-formed tensor; the
  // conversion checks the shape against the bytes on the worker).
  const int64_t frames = std::max<int64_t>(1, TensorValuesBound(request.mel()) / std::max(config->n_mels, 1));
  absl::StatusOr<InversionOptions> options =
      ToInversionOptions(request.options(), /*mel_input=*/true, config->stft.n_fft / 2 + 1, frames, *env.limits,
                         Path(prefix, "options"));
  if (!options.ok()) return options.status();
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, Path(prefix, "output")); !s.ok()) {
    return s;
  }
  const int64_t samples = InversionOutputSamples(request.output(), frames, *config);
  InversionShape shape;
  shape.n_fft = config->stft.n_fft;
  shape.frames = frames;
  shape.n_mels = config->n_mels;
  shape.length = samples;
  if (request.options().method() == v1::INVERSION_METHOD_UNSPECIFIED) {
    options->method = DefaultInversionMethod(shape, *options);
  }
  Prepared prepared;
  prepared.admission = InversionAdmission(*config, request.output(), frames, samples, InversionCost(shape, *options),
                                          prefix, Path(prefix, "mel"));
  prepared.run = [&env, plan = Plan{*std::move(config), *std::move(options), prefix}, &request,
                  response](Job& job) mutable { return Run(env, job, plan, request, response); };
  return prepared;
}

absl::StatusOr<Prepared> PrepareInvertMel(const RpcEnv& env, const v1::InvertMelRequest& request,
                                          v1::InvertMelResponse* response) {
  return PrepareInvertMelItem(env, request, response, "");
}

}  // namespace specinv::server
