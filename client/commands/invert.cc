// Copyright specinv authors.
//
// `specinv invert INPUT -o OUT.wav`: InvertMel. INPUT is a mel .npy, or an
// audio file that is analysed first (Analyze, log-mel with the same config)
// for a round trip.

#include <cstdio>
#include <string>

#include "absl/strings/str_join.h"
#include "client/commands/commands.h"
#include "client/commands/inversion_call.h"
#include "client/files.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {

absl::StatusOr<AnalyzedSpectrogram> AnalyzeForRoundTrip(CommandContext& ctx,
                                                v1::Spectrogram::Stub& stub,
                                                const std::string& input,
                                                const v1::SpectrogramConfig& config,
                                                v1::SpectrogramKind kind) {
  v1::AnalyzeRequest request;
  absl::StatusOr<v1::Audio> audio = AudioFromFile(input);
  if (!audio.ok()) return audio.status();
  *request.mutable_audio() = *std::move(audio);
  *request.mutable_config() = config;
  request.set_kind(kind);
  request.set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
  request.set_tensor_format(v1::TENSOR_FORMAT_FLOAT32);
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  v1::AnalyzeResponse response;
  if (grpc::Status s = stub.Analyze(&call, request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  ctx.Print("analyzed %s: %s (%s), %.3f s\n", input.c_str(), EnumName(response.kind()).c_str(),
            absl::StrJoin(response.spectrogram().shape(), ", ").c_str(),
            response.audio_duration_seconds());
  AnalyzedSpectrogram out;
  out.spectrogram = std::move(*response.mutable_spectrogram());
  out.config = std::move(*response.mutable_effective_config());
  out.num_samples = response.num_samples();
  return out;
}

namespace {

absl::Status RunInvert(CommandContext& ctx, const InvertArgs& args) {
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  absl::StatusOr<v1::InvertMelRequest> request;
  if (IsAudioPath(args.input)) {
    absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
    if (!config.ok()) return config.status();
    absl::StatusOr<AnalyzedSpectrogram> analyzed =
        AnalyzeForRoundTrip(ctx, **stub, args.input, *config, v1::SPECTROGRAM_KIND_LOG_MEL);
    if (!analyzed.ok()) return analyzed.status();
    if (!args.save_mel.empty()) {
      absl::StatusOr<std::string> npy = TensorToNpyBytes(analyzed->spectrogram);
      if (!npy.ok()) return npy.status();
      if (absl::Status s = WriteFileBytes(args.save_mel, *npy); !s.ok()) return s;
    }
    request = BuildInvertMelRequest(args, analyzed->spectrogram);
    if (!request.ok()) return request.status();
    // The analysed mel is in the effective config's scaled domain.
    *request->mutable_config() = analyzed->config;
    request->set_input_domain(v1::MEL_DOMAIN_SCALED);
    request->clear_normalization();
    if (!args.output.length_samples) {
      request->mutable_output()->set_length_samples(analyzed->num_samples);
    }
  } else {
    absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.mel.layout);
    if (!layout.ok()) return layout.status();
    absl::StatusOr<v1::Tensor> mel = TensorFromNpyFile(args.input, *layout);
    if (!mel.ok()) return mel.status();
    request = BuildInvertMelRequest(args, *mel);
    if (!request.ok()) return request.status();
  }
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();

  const ProgressMode mode = ChooseProgressMode(args.progress, StderrIsTerminal());
  v1::Spectrogram::Stub& s = **stub;
  absl::StatusOr<v1::InvertMelResponse> response =
      CallInversion<v1::InvertMelResponse, v1::InvertMelStreamResponse>(
          **ctx.Connect(), mode, "invert",
          [&](grpc::ClientContext* c, v1::InvertMelResponse* r) { return s.InvertMel(c, *request, r); },
          [&](grpc::ClientContext* c) { return s.InvertMelStream(c, *request); });
  if (!response.ok()) return response.status();
  if (absl::Status w = WriteInversionResult(ctx, *response, request->options().method(), "SC_mel",
                                            response->spectral_convergence_mel_db(), plan->file_kind,
                                            args.output.output);
      !w.ok()) {
    return w;
  }
  for (const std::string& warning : response->warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

void AddInvertFlags(CLI::App* app, InvertArgs* args) {
  app->add_option("input", args->input,
                  "mel .npy, or an audio file to analyse first (round trip)")
      ->required();
  AddOutputFlags(app, &args->output);
  app->add_option("--save-mel", args->save_mel, "audio input: also write the analysed mel (.npy)");
  AddProgressFlag(app, &args->progress);
  AddMelInputFlags(app, &args->mel);
  AddInversionFlags(app, &args->inversion);
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::InvertMelRequest> BuildInvertMelRequest(const InvertArgs& args,
                                                           const v1::Tensor& mel) {
  v1::InvertMelRequest request;
  *request.mutable_mel() = mel;
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *request.mutable_config() = *std::move(config);
  absl::StatusOr<v1::MelDomain> domain = DomainFromFlags(args.mel);
  if (!domain.ok()) return domain.status();
  request.set_input_domain(*domain);
  absl::StatusOr<v1::MelNormalization> normalization = NormalizationFromFlags(args.mel);
  if (!normalization.ok()) return normalization.status();
  if (normalization->mean_size() > 0 || normalization->std_size() > 0) {
    *request.mutable_normalization() = *std::move(normalization);
  }
  absl::StatusOr<v1::InversionOptions> options = ToInversionOptions(args.inversion);
  if (!options.ok()) return options.status();
  *request.mutable_options() = *std::move(options);
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  *request.mutable_output() = plan->options;
  return request;
}

void RegisterInvert(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<InvertArgs>();
  CLI::App* sub = app->add_subcommand("invert", "mel spectrogram (.npy or audio) -> audio");
  AddInvertFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output.output == "-");
    context->action = [context, args] { return RunInvert(*context, *args); };
  });
}

}  // namespace specinv::client
