// Copyright specinv authors.
//
// Render: audio or a spectrogram tensor -> a PNG image of a magnitude, mel
// or phase view.

#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/rpc/common.h"
#include "server/rpc/invert_mel.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"
#include "specinv/analysis/analysis_cost.h"
#include "specinv/render/png_image.h"
#include "specinv/render/render.h"
#include "specinv/render/render_cost.h"

namespace specinv::server {
namespace {

absl::Status ToRenderOptions(const v1::RenderRequest& request, const ServiceLimits& limits, RenderOptions* options) {
  switch (request.view()) {
    case v1::RENDER_VIEW_MAGNITUDE: options->view = RenderView::kMagnitude; break;
    case v1::RENDER_VIEW_MEL: options->view = RenderView::kMel; break;
    case v1::RENDER_VIEW_PHASE: options->view = RenderView::kPhase; break;
    case v1::RENDER_VIEW_PHASE_DEINTERLEAVED: options->view = RenderView::kPhaseDeinterleaved; break;
    case v1::RENDER_VIEW_PHASE_FFT2: options->view = RenderView::kPhaseFft2; break;
    case v1::RENDER_VIEW_INSTANTANEOUS_FREQUENCY: options->view = RenderView::kInstantaneousFrequency; break;
    case v1::RENDER_VIEW_GROUP_DELAY: options->view = RenderView::kGroupDelay; break;
    default:
      return InvalidField("view", absl::StrFormat("is required: one of RENDER_VIEW_MAGNITUDE, _MEL, _PHASE, "
                                                  "_PHASE_DEINTERLEAVED, _PHASE_FFT2, _INSTANTANEOUS_FREQUENCY, "
                                                  "_GROUP_DELAY; got %d",
                                                  static_cast<int>(request.view())));
  }
  switch (request.colormap()) {
    case v1::COLORMAP_UNSPECIFIED: break;
    case v1::COLORMAP_VIRIDIS: options->colormap = Colormap::kViridis; break;
    case v1::COLORMAP_MAGMA: options->colormap = Colormap::kMagma; break;
    case v1::COLORMAP_INFERNO: options->colormap = Colormap::kInferno; break;
    case v1::COLORMAP_GRAY: options->colormap = Colormap::kGray; break;
    case v1::COLORMAP_HUE: options->colormap = Colormap::kHue; break;
    case v1::COLORMAP_RED_BLUE: options->colormap = Colormap::kRedBlue; break;
    default:
      return InvalidField("colormap", absl::StrFormat("has unknown value %d", static_cast<int>(request.colormap())));
  }
  switch (request.interpolation()) {
    case v1::INTERPOLATION_UNSPECIFIED:
    case v1::INTERPOLATION_NEAREST: options->interpolation = Interpolation::kNearest; break;
    case v1::INTERPOLATION_BILINEAR: options->interpolation = Interpolation::kBilinear; break;
    default:
      return InvalidField("interpolation",
                          absl::StrFormat("has unknown value %d", static_cast<int>(request.interpolation())));
  }
  options->width = request.width_pixels();
  options->height = request.height_pixels();
  if (request.has_top_db()) options->top_db = request.top_db();
  if (request.has_fmin_hertz()) options->fmin_hertz = request.fmin_hertz();
  if (request.has_fmax_hertz()) options->fmax_hertz = request.fmax_hertz();
  options->color_bar = request.color_bar();
  options->figure = !request.bare();
  options->weight_by_magnitude = request.weight_by_magnitude();
  options->max_dimension = limits.max_image_side_pixels;
  return absl::OkStatus();
}

struct Plan {
  FeatureConfig config;
  RenderOptions options;
  std::optional<AudioInput> input;  // set when rendering from audio
};

absl::Status Run(const RpcEnv& env, Job& job, Plan& plan, const v1::RenderRequest& request,
                 v1::RenderResponse* response) {
  const FeatureConfig& config = plan.config;
  const RenderOptions& options = plan.options;
  const v1::SpectrogramKind kind = request.spectrogram_kind();
  absl::StatusOr<Rendering> rendering;
  if (plan.input.has_value()) {
    absl::StatusOr<specinv::Audio> audio = DecodeAudioInput(*plan.input, *env.limits, job.Checker());
    if (!audio.ok()) return audio.status();
    job.audio_seconds = static_cast<double>(audio->samples.size()) / config.sample_rate;
    if (absl::Status s = job.Check(); !s.ok()) return s;
    rendering = RenderSpectrogram(std::span<const float>(audio->samples), config, options);
  } else if (kind == v1::SPECTROGRAM_KIND_COMPLEX_STFT) {
    absl::StatusOr<ComplexMatrix> stft = TensorToComplexMatrix(request.spectrogram(), "spectrogram");
    if (!stft.ok()) return stft.status();
    rendering = RenderSpectrogram(*stft, config, options);
  } else {
    RenderTensorKind tensor_kind = RenderTensorKind::kStftMagnitude;
    switch (kind) {
      case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE: tensor_kind = RenderTensorKind::kStftMagnitude; break;
      case v1::SPECTROGRAM_KIND_PHASE: tensor_kind = RenderTensorKind::kPhase; break;
      case v1::SPECTROGRAM_KIND_MEL: tensor_kind = RenderTensorKind::kMel; break;
      case v1::SPECTROGRAM_KIND_LOG_MEL: tensor_kind = RenderTensorKind::kLogMel; break;
      default: break;  // refused by Prepare
    }
    absl::StatusOr<RealMatrix> tensor = TensorToRealMatrix(request.spectrogram(), "spectrogram");
    if (!tensor.ok()) return tensor.status();
    rendering = RenderSpectrogram(*tensor, tensor_kind, config, options);
  }
  if (!rendering.ok()) {
    return ToRequestField(rendering.status(), CoreFields::kRender, "");
  }
  absl::StatusOr<std::string> png = EncodePng(rendering->image);
  if (!png.ok()) return png.status();
  response->set_png_data(*std::move(png));
  response->set_width_pixels(rendering->image.width);
  response->set_height_pixels(rendering->image.height);
  response->set_value_min(rendering->value_min);
  response->set_value_max(rendering->value_max);
  response->set_value_unit(rendering->value_unit);
  FromFeatureConfig(config, response->mutable_effective_config());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Prepared> PrepareRender(const RpcEnv& env, const v1::RenderRequest& request,
                                       v1::RenderResponse* response) {
  RenderOptions options;
  if (absl::Status s = ToRenderOptions(request, *env.limits, &options); !s.ok()) return s;
  // Option errors (sizes against the image limit and the figure frame) before
  // the cost, so an oversized width is named as such.
  if (absl::Status s = ValidateRenderOptions(options); !s.ok()) return ToRequestField(s, CoreFields::kRender, "");
  const v1::SpectrogramKind kind = request.spectrogram_kind();
  const bool mel =
      options.view == RenderView::kMel || kind == v1::SPECTROGRAM_KIND_MEL || kind == v1::SPECTROGRAM_KIND_LOG_MEL;
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), *env.limits, "config", mel);
  if (!config.ok()) return config.status();

  Plan plan{*std::move(config), options, std::nullopt};
  const int64_t bins = plan.config.stft.n_fft / 2 + 1;
  RenderShape shape;
  Prepared prepared;
  Admission& a = prepared.admission;
  JobCost decode;
  switch (request.source_case()) {
    case v1::RenderRequest::kAudio: {
      absl::StatusOr<AudioInput> input = ToAudioInput(request.audio(), plan.config.sample_rate, *env.limits, "audio");
      if (!input.ok()) return input.status();
      const int64_t samples = input->samples();
      shape.frames = FeatureFrames(plan.config, samples);
      shape.complex_input = true;
      shape.complex_rows = bins;
      shape.rows = options.view == RenderView::kMel ? plan.config.n_mels : bins;
      a.input_seconds = input->source_seconds();
      a.input_field = input->field;
      a.cost_field = plan.config.stft.hop_length * 4 < plan.config.stft.n_fft ? "config.hop_length" : input->field;
      decode = DecodeCost(input->shape);
      plan.input = *std::move(input);
      break;
    }
    case v1::RenderRequest::kSpectrogram: {
      const int64_t values = TensorValuesBound(request.spectrogram());
      switch (kind) {
        case v1::SPECTROGRAM_KIND_COMPLEX_STFT:
          shape.complex_input = true;
          shape.complex_rows = bins;
          shape.rows = options.view == RenderView::kMel ? plan.config.n_mels : bins;
          shape.frames = values / (2 * bins);
          break;
        case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE:
        case v1::SPECTROGRAM_KIND_PHASE:
          shape.rows = bins;
          shape.frames = values / bins;
          break;
        case v1::SPECTROGRAM_KIND_MEL:
        case v1::SPECTROGRAM_KIND_LOG_MEL:
          shape.rows = plan.config.n_mels;
          shape.frames = values / std::max(plan.config.n_mels, 1);
          break;
        default:
          return InvalidField("spectrogram_kind",
                              absl::StrFormat("is required with spectrogram (what the tensor holds); got %d",
                                              static_cast<int>(kind)));
      }
      a.cost_field = "spectrogram";
      break;
    }
    case v1::RenderRequest::SOURCE_NOT_SET: return InvalidField("source", "is required: set audio or spectrogram");
  }
  a.response_bytes = SaturatingAdd(SaturatingMul(RenderPixels(shape, options), 4), 65536);
  a.cost = decode.Then(RenderCost(shape, options), 0);
  a.cost_detail = absl::StrFormat("%d rows x %d frames, %d pixels", shape.rows, shape.frames,
                                  RenderPixels(shape, options));
  prepared.run = [&env, plan = std::move(plan), &request, response](Job& job) mutable {
    return Run(env, job, plan, request, response);
  };
  return prepared;
}

}  // namespace specinv::server
