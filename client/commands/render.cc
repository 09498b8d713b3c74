// Copyright specinv authors.
//
// `specinv render INPUT -o OUT.png --view magnitude`: Render; the PNG bytes
// are written as they come. A titled figure with axes and a labelled colour
// bar unless --bare.

#include <string>

#include "client/commands/commands.h"
#include "client/files.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

absl::Status RunRender(CommandContext& ctx, const RenderArgs& args) {
  absl::StatusOr<v1::RenderRequest> request = BuildRenderRequest(args);
  if (!request.ok()) return request.status();
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  v1::RenderResponse response;
  if (grpc::Status s = (*stub)->Render(&call, *request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  if (absl::Status w = WriteFileBytes(args.output, response.png_data()); !w.ok()) return w;
  ctx.Print("%s: %dx%d PNG, %g..%g %s -> %s\n", EnumName(request->view()).c_str(),
            response.width_pixels(), response.height_pixels(), response.value_min(),
            response.value_max(), response.value_unit().c_str(), args.output.c_str());
  return absl::OkStatus();
}

}  // namespace

void AddRenderFlags(CLI::App* app, RenderArgs* args) {
  app->add_option("input", args->input, "audio file, or a spectrogram .npy (--spectrogram-kind)")
      ->required();
  app->add_option("-o,--output", args->output, "PNG output (\"-\" = stdout)")->required();
  const std::string g = "Image";
  app->add_option("--view", args->view,
                  "magnitude, mel, phase, phase-deinterleaved, phase-fft2, "
                  "instantaneous-frequency, group-delay")
      ->capture_default_str()
      ->group(g);
  app->add_option("--colormap", args->colormap, "viridis, magma, inferno, gray, hue, red-blue")
      ->group(g);
  app->add_option("--range-db", args->range_db, "dynamic range of dB views (default 80)")
      ->group(g);
  app->add_option("--width", args->width, "heatmap pixels (0 = one column per frame)")->group(g);
  app->add_option("--height", args->height, "heatmap pixels (0 = one row per bin)")->group(g);
  app->add_option("--interpolation", args->interpolation, "nearest, bilinear")->group(g);
  app->add_option("--view-fmin", args->view_fmin, "lowest frequency shown, Hz")->group(g);
  app->add_option("--view-fmax", args->view_fmax, "highest frequency shown, Hz")->group(g);
  app->add_flag("--bare", args->bare,
                "the heatmap alone, without title, axes and labelled colour bar (machine use)")
      ->group(g);
  app->add_flag("--color-bar", args->color_bar, "with --bare: append a plain colour bar")->group(g);
  app->add_flag("--weight-by-magnitude", args->weight_by_magnitude,
                "phase views: darken quiet bins")
      ->group(g);
  app->add_option("--spectrogram-kind", args->spectrogram_kind,
                  ".npy input: stft-magnitude, phase, mel, log-mel")
      ->group(g);
  app->add_option("--layout", args->layout, "axis order of .npy input: bins-frames, frames-bins")
      ->capture_default_str()
      ->group(g);
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::RenderRequest> BuildRenderRequest(const RenderArgs& args) {
  v1::RenderRequest request;
  absl::StatusOr<v1::RenderView> view = ParseEnum<v1::RenderView>("--view", args.view);
  if (!view.ok()) return view.status();
  request.set_view(*view);
  if (!args.colormap.empty()) {
    absl::StatusOr<v1::Colormap> colormap = ParseEnum<v1::Colormap>("--colormap", args.colormap);
    if (!colormap.ok()) return colormap.status();
    request.set_colormap(*colormap);
  }
  if (args.range_db) request.set_top_db(*args.range_db);
  request.set_width_pixels(args.width);
  request.set_height_pixels(args.height);
  if (!args.interpolation.empty()) {
    absl::StatusOr<v1::Interpolation> interpolation =
        ParseEnum<v1::Interpolation>("--interpolation", args.interpolation);
    if (!interpolation.ok()) return interpolation.status();
    request.set_interpolation(*interpolation);
  }
  if (args.view_fmin) request.set_fmin_hertz(*args.view_fmin);
  if (args.view_fmax) request.set_fmax_hertz(*args.view_fmax);
  request.set_color_bar(args.color_bar);
  request.set_bare(args.bare);
  request.set_weight_by_magnitude(args.weight_by_magnitude);
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *request.mutable_config() = *std::move(config);
  if (FileExtension(args.input) == "npy") {
    if (args.spectrogram_kind.empty()) {
      return absl::InvalidArgumentError(
          "a .npy input needs --spectrogram-kind (stft-magnitude, phase, mel, log-mel)");
    }
    absl::StatusOr<v1::SpectrogramKind> kind =
        ParseEnum<v1::SpectrogramKind>("--spectrogram-kind", args.spectrogram_kind);
    if (!kind.ok()) return kind.status();
    request.set_spectrogram_kind(*kind);
    absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.layout);
    if (!layout.ok()) return layout.status();
    absl::StatusOr<v1::Tensor> tensor = TensorFromNpyFile(args.input, *layout);
    if (!tensor.ok()) return tensor.status();
    *request.mutable_spectrogram() = *std::move(tensor);
  } else {
    absl::StatusOr<v1::Audio> audio = AudioFromFile(args.input);
    if (!audio.ok()) return audio.status();
    *request.mutable_audio() = *std::move(audio);
  }
  return request;
}

void RegisterRender(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<RenderArgs>();
  CLI::App* sub = app->add_subcommand("render", "spectrogram / phase image (PNG)");
  AddRenderFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output == "-");
    context->action = [context, args] { return RunRender(*context, *args); };
  });
}

}  // namespace specinv::client
