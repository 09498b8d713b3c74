// Copyright specinv authors.
//
// `specinv invert-spectrogram INPUT -o OUT.wav`: InvertSpectrogram. INPUT is a
// linear magnitude .npy (optionally with --phase PHASE.npy), or an audio file
// whose STFT magnitude is analysed first (round trip).

#include <string>

#include "client/commands/commands.h"
#include "client/commands/inversion_call.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

absl::Status RunInvertSpectrogram(CommandContext& ctx, const InvertSpectrogramArgs& args) {
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  absl::StatusOr<v1::InvertSpectrogramRequest> request;
  if (IsAudioPath(args.input)) {
    absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
    if (!config.ok()) return config.status();
    absl::StatusOr<AnalyzedSpectrogram> analyzed = AnalyzeForRoundTrip(
        ctx, **stub, args.input, *config, v1::SPECTROGRAM_KIND_STFT_MAGNITUDE);
    if (!analyzed.ok()) return analyzed.status();
    request = BuildInvertSpectrogramRequest(args, analyzed->spectrogram);
    if (!request.ok()) return request.status();
    *request->mutable_config() = analyzed->config;
    if (!args.output.length_samples) {
      request->mutable_output()->set_length_samples(analyzed->num_samples);
    }
  } else {
    absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.layout);
    if (!layout.ok()) return layout.status();
    absl::StatusOr<v1::Tensor> magnitude = TensorFromNpyFile(args.input, *layout);
    if (!magnitude.ok()) return magnitude.status();
    request = BuildInvertSpectrogramRequest(args, *magnitude);
    if (!request.ok()) return request.status();
  }
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();

  const ProgressMode mode = ChooseProgressMode(args.progress, StderrIsTerminal());
  v1::Spectrogram::Stub& s = **stub;
  absl::StatusOr<v1::InvertSpectrogramResponse> response =
      CallInversion<v1::InvertSpectrogramResponse, v1::InvertSpectrogramStreamResponse>(
          **ctx.Connect(), mode, "invert",
          [&](grpc::ClientContext* c, v1::InvertSpectrogramResponse* r) {
            return s.InvertSpectrogram(c, *request, r);
          },
          [&](grpc::ClientContext* c) { return s.InvertSpectrogramStream(c, *request); });
  if (!response.ok()) return response.status();
  return WriteInversionResult(ctx, *response, request->options().method(), "SC", response->spectral_convergence_db(),
                              plan->file_kind, args.output.output);
}

}  // namespace

void AddInvertSpectrogramFlags(CLI::App* app, InvertSpectrogramArgs* args) {
  app->add_option("input", args->input,
                  "linear STFT magnitude .npy, or an audio file to analyse first (round trip)")
      ->required();
  AddOutputFlags(app, &args->output);
  app->add_option("--phase", args->phase, "phase .npy (radians), the magnitude's shape");
  app->add_option("--layout", args->layout, "axis order of .npy inputs: bins-frames, frames-bins")
      ->capture_default_str();
  AddProgressFlag(app, &args->progress);
  AddInversionFlags(app, &args->inversion);
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::InvertSpectrogramRequest> BuildInvertSpectrogramRequest(
    const InvertSpectrogramArgs& args, const v1::Tensor& magnitude) {
  v1::InvertSpectrogramRequest request;
  *request.mutable_magnitude() = magnitude;
  if (!args.phase.empty()) {
    absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.layout);
    if (!layout.ok()) return layout.status();
    absl::StatusOr<v1::Tensor> phase = TensorFromNpyFile(args.phase, *layout);
    if (!phase.ok()) return phase.status();
    *request.mutable_phase() = *std::move(phase);
  }
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *request.mutable_config() = *std::move(config);
  absl::StatusOr<v1::InversionOptions> options = ToInversionOptions(args.inversion);
  if (!options.ok()) return options.status();
  *request.mutable_options() = *std::move(options);
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  *request.mutable_output() = plan->options;
  return request;
}

void RegisterInvertSpectrogram(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<InvertSpectrogramArgs>();
  CLI::App* sub = app->add_subcommand(
      "invert-spectrogram", "linear magnitude (.npy or audio), optionally + phase -> audio");
  AddInvertSpectrogramFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output.output == "-");
    context->action = [context, args] { return RunInvertSpectrogram(*context, *args); };
  });
}

}  // namespace specinv::client
