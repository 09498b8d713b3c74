// Copyright specinv authors.
//
// Analyze: audio -> STFT magnitude, complex STFT, phase, mel or log-mel.

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/analysis_cost.h"
#include "specinv/analysis/features.h"

namespace specinv::server {
namespace {

AnalysisOutput OutputOf(v1::SpectrogramKind kind) {
  switch (kind) {
    case v1::SPECTROGRAM_KIND_COMPLEX_STFT: return AnalysisOutput::kComplex;
    case v1::SPECTROGRAM_KIND_PHASE: return AnalysisOutput::kPhase;
    case v1::SPECTROGRAM_KIND_MEL: return AnalysisOutput::kMel;
    case v1::SPECTROGRAM_KIND_LOG_MEL: return AnalysisOutput::kLogMel;
    default: return AnalysisOutput::kMagnitude;
  }
}

absl::Status Run(const RpcEnv& env, Job& job, const FeatureConfig& config, const AudioInput& input,
                 const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response) {
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = env.extractors->Get(config);
  if (!cached.ok()) return ToRequestField(cached.status(), CoreFields::kFeatureConfig, "config");
  const FeatureExtractor& fx = **cached;
  absl::StatusOr<specinv::Audio> audio = DecodeAudioInput(input, *env.limits, job.Checker());
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / config.sample_rate;
  if (absl::Status s = job.Check(); !s.ok()) return s;

  const std::span<const float> samples(audio->samples);
  const v1::SpectrogramKind kind = request.kind();
  const v1::TensorFormat format = request.tensor_format();
  const v1::TensorLayout layout = request.layout();
  v1::Tensor* out = response->mutable_spectrogram();
  switch (kind) {
    case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE: {
      absl::StatusOr<RealMatrix> m = fx.Magnitude(samples);
      if (!m.ok()) return WithField(m.status(), "audio");
      RealMatrixToTensor(*m, format, layout, out);
      break;
    }
    case v1::SPECTROGRAM_KIND_COMPLEX_STFT:
    case v1::SPECTROGRAM_KIND_PHASE: {
      absl::StatusOr<ComplexMatrix> spec = fx.ComplexSpectrogram(samples);
      if (!spec.ok()) return WithField(spec.status(), "audio");
      if (kind == v1::SPECTROGRAM_KIND_COMPLEX_STFT) {
        ComplexMatrixToTensor(*spec, format, layout, out);
      } else {
        const RealMatrix phase = spec->array().arg().matrix();
        RealMatrixToTensor(phase, format, layout, out);
      }
      break;
    }
    case v1::SPECTROGRAM_KIND_MEL:
    case v1::SPECTROGRAM_KIND_LOG_MEL: {
      absl::StatusOr<RealMatrix> m = kind == v1::SPECTROGRAM_KIND_MEL ? fx.Mel(samples) : fx.LogMel(samples);
      if (!m.ok()) return WithField(m.status(), "audio");
      RealMatrixToTensor(*m, format, layout, out);
      if (!fx.filterbank().warning().empty()) response->add_warnings(fx.filterbank().warning());
      break;
    }
    default: break;
  }
  FromFeatureConfig(fx.config(), response->mutable_effective_config());
  response->set_kind(kind);
  response->set_audio_duration_seconds(job.audio_seconds);
  response->set_num_samples(static_cast<int64_t>(audio->samples.size()));
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareAnalyze(const RpcEnv& env, const v1::AnalyzeRequest& request,
                                        v1::AnalyzeResponse* response) {
  const v1::SpectrogramKind kind = request.kind();
  if (kind == v1::SPECTROGRAM_KIND_UNSPECIFIED || !v1::SpectrogramKind_IsValid(kind)) {
    return InvalidField("kind", absl::StrFormat("is required: one of SPECTROGRAM_KIND_STFT_MAGNITUDE, "
                                                "SPECTROGRAM_KIND_COMPLEX_STFT, SPECTROGRAM_KIND_PHASE, "
                                                "SPECTROGRAM_KIND_MEL, SPECTROGRAM_KIND_LOG_MEL; got %d",
                                                static_cast<int>(kind)));
  }
  if (!v1::TensorFormat_IsValid(request.tensor_format())) {
    return InvalidField("tensor_format",
                        absl::StrFormat("has unknown value %d", static_cast<int>(request.tensor_format())));
  }
  if (!v1::TensorLayout_IsValid(request.layout())) {
    return InvalidField("layout", absl::StrFormat("has unknown value %d", static_cast<int>(request.layout())));
  }
  const bool mel = kind == v1::SPECTROGRAM_KIND_MEL || kind == v1::SPECTROGRAM_KIND_LOG_MEL;
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, "config", mel);
  if (!config.ok()) return config.status();
  absl::StatusOr<AudioInput> input = ToAudioInput(request.audio(), config->sample_rate, *env.limits, "audio");
  if (!input.ok()) return input.status();

  const int64_t samples = input->samples();
  const AnalysisOutput output = OutputOf(kind);
  Prepared prepared;
  Admission& a = prepared.admission;
  a.input_seconds = input->source_seconds();
  a.input_field = input->field;
  a.response_bytes = AnalysisOutputBytes(*config, samples, output);
  a.cost = DecodeCost(input->shape).Then(AnalysisCost(*config, samples, output), 0);
  a.cost.peak_bytes = SaturatingAdd(a.cost.peak_bytes, a.response_bytes);  // the response holds a copy
  const int64_t frames = FeatureFrames(*config, samples);
  a.cost_field = config->stft.hop_length * 4 < config->stft.n_fft ? "config.hop_length" : input->field;
  a.cost_detail = absl::StrFormat("%d samples -> %d frames x %d rows at config.n_fft=%d, config.hop_length=%d",
                                  samples, frames, mel ? config->n_mels : config->stft.n_fft / 2 + 1,
                                  config->stft.n_fft, config->stft.hop_length);
  prepared.run = [&env, config = *std::move(config), input = *std::move(input), &request, response](Job& job) {
    return Run(env, job, config, input, request, response);
  };
  return prepared;
}

}  // namespace specinv::server
