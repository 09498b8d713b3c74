// Copyright specinv authors.
//
// `specinv analyze AUDIO -o OUT.npy`: Analyze, written as a .npy file.

#include <string>

#include "absl/strings/str_join.h"
#include "client/commands/commands.h"
#include "client/files.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

absl::Status RunAnalyze(CommandContext& ctx, const AnalyzeArgs& args) {
  absl::StatusOr<v1::AnalyzeRequest> request = BuildAnalyzeRequest(args);
  if (!request.ok()) return request.status();
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  v1::AnalyzeResponse response;
  if (grpc::Status s = (*stub)->Analyze(&call, *request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  absl::StatusOr<std::string> npy = TensorToNpyBytes(response.spectrogram());
  if (!npy.ok()) return npy.status();
  if (absl::Status s = WriteFileBytes(args.output, *npy); !s.ok()) return s;
  for (const std::string& warning : response.warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  ctx.Print("%s (%s) from %.3f s of audio in %.1f ms -> %s\n",
            EnumName(response.kind()).c_str(),
            absl::StrJoin(response.spectrogram().shape(), ", ").c_str(),
            response.audio_duration_seconds(), response.elapsed_milliseconds(),
            args.output.c_str());
  ctx.Print("config: %s\n", DescribeConfig(response.effective_config()).c_str());
  return absl::OkStatus();
}

}  // namespace

void AddAnalyzeFlags(CLI::App* app, AnalyzeArgs* args) {
  app->add_option("input", args->input, "audio file (WAV, FLAC, OGG, MP3)")->required();
  app->add_option("-o,--output", args->output, ".npy output (\"-\" = stdout)")->required();
  app->add_option("--kind", args->kind,
                  "stft-magnitude, complex-stft (bins, frames, 2), phase, mel, log-mel")
      ->capture_default_str();
  app->add_option("--layout", args->layout, "axis order of the output: bins-frames, frames-bins")
      ->capture_default_str();
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::AnalyzeRequest> BuildAnalyzeRequest(const AnalyzeArgs& args) {
  v1::AnalyzeRequest request;
  absl::StatusOr<v1::SpectrogramKind> kind = ParseEnum<v1::SpectrogramKind>("--kind", args.kind);
  if (!kind.ok()) return kind.status();
  absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.layout);
  if (!layout.ok()) return layout.status();
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  absl::StatusOr<v1::Audio> audio = AudioFromFile(args.input);
  if (!audio.ok()) return audio.status();
  *request.mutable_audio() = *std::move(audio);
  *request.mutable_config() = *std::move(config);
  request.set_kind(*kind);
  request.set_layout(*layout);
  request.set_tensor_format(v1::TENSOR_FORMAT_FLOAT32);
  return request;
}

void RegisterAnalyze(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* sub = app->add_subcommand("analyze", "audio -> spectrogram (.npy)");
  AddAnalyzeFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output == "-");
    context->action = [context, args] { return RunAnalyze(*context, *args); };
  });
}

}  // namespace specinv::client
