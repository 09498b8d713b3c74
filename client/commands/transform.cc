// Copyright specinv authors.
//
// `specinv transform AUDIO -o OUT.wav`: Transform (phase operations, masks,
// mel-domain warps, then inversion).

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/commands/commands.h"
#include "client/payloads.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

absl::StatusOr<v1::BandMute> ParseBandMute(const std::string& text) {
  const size_t colon = text.find(':');
  v1::BandMute band;
  double low = 0.0;
  double high = 0.0;
  if (colon == std::string::npos || !absl::SimpleAtod(text.substr(0, colon), &low) ||
      !absl::SimpleAtod(text.substr(colon + 1), &high)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--band-mute must be LOW:HIGH in Hz (e.g. 1000:2000), got \"", text, "\""));
  }
  band.set_low_hertz(low);
  band.set_high_hertz(high);
  return band;
}

absl::Status RunTransform(CommandContext& ctx, const TransformArgs& args) {
  absl::StatusOr<v1::TransformRequest> request = BuildTransformRequest(args);
  if (!request.ok()) return request.status();
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  v1::TransformResponse response;
  if (grpc::Status s = (*stub)->Transform(&call, *request, &response); !s.ok()) {
    return FromGrpcStatus(s);
  }
  if (absl::Status w = WriteAudio(response.audio(), plan->file_kind, args.output.output); !w.ok()) {
    return w;
  }
  ctx.Print("transform: %.3f s -> %s (%.1f ms on a worker)\n", response.audio().duration_seconds(),
            args.output.output.c_str(), response.elapsed_milliseconds());
  return absl::OkStatus();
}

}  // namespace

void AddTransformFlags(CLI::App* app, TransformArgs* args) {
  app->add_option("input", args->input, "audio file")->required();
  AddOutputFlags(app, &args->output);
  const std::string g = "Transform";
  app->add_option("--phase", args->phase, "keep, zero, conjugate, random, resynthesize")->group(g);
  app->add_option("--phase-seed", args->seed, "seed of --phase random")->group(g);
  app->add_flag("--checkerboard", args->checkerboard,
                "mute even bins on even frames and odd bins on odd frames")
      ->group(g);
  app->add_option("--band-mute", args->band_mutes, "mute LOW:HIGH Hz (repeatable)")->group(g);
  app->add_option("--gate-period-s", args->gate_period_s, "time gate period, s")->group(g);
  app->add_option("--gate-open-fraction", args->gate_open_fraction,
                  "fraction of each gate period left open, (0, 1]")
      ->group(g);
  app->add_option("--mel-shift", args->mel_shift, "shift mel bins up (> 0) or down (< 0)")
      ->group(g);
  app->add_flag("--mel-reverse-time", args->mel_reverse_time, "mel warp: reverse time")->group(g);
  app->add_flag("--mel-flip-frequency", args->mel_flip_frequency, "mel warp: flip the mel axis")
      ->group(g);
  AddInversionFlags(app, &args->inversion);
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::TransformRequest> BuildTransformRequest(const TransformArgs& args) {
  v1::TransformRequest request;
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *request.mutable_config() = *std::move(config);
  if (!args.phase.empty()) {
    absl::StatusOr<v1::PhaseOperation> phase = ParseEnum<v1::PhaseOperation>("--phase", args.phase);
    if (!phase.ok()) return phase.status();
    request.set_phase(*phase);
  }
  request.set_seed(args.seed);
  request.set_checkerboard(args.checkerboard);
  for (const std::string& text : args.band_mutes) {
    absl::StatusOr<v1::BandMute> band = ParseBandMute(text);
    if (!band.ok()) return band.status();
    *request.add_band_mutes() = *band;
  }
  if (args.gate_period_s.has_value() != args.gate_open_fraction.has_value()) {
    return absl::InvalidArgumentError("--gate-period-s and --gate-open-fraction go together");
  }
  if (args.gate_period_s) {
    request.mutable_time_gate()->set_period_seconds(*args.gate_period_s);
    request.mutable_time_gate()->set_open_fraction(*args.gate_open_fraction);
  }
  if (args.mel_shift || args.mel_reverse_time || args.mel_flip_frequency) {
    v1::MelWarp* warp = request.mutable_mel_warp();
    warp->set_shift_bins(args.mel_shift.value_or(0));
    warp->set_reverse_time(args.mel_reverse_time);
    warp->set_flip_frequency(args.mel_flip_frequency);
  }
  absl::StatusOr<v1::InversionOptions> inversion = ToInversionOptions(args.inversion);
  if (!inversion.ok()) return inversion.status();
  *request.mutable_inversion() = *std::move(inversion);
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output);
  if (!plan.ok()) return plan.status();
  *request.mutable_output() = plan->options;
  absl::StatusOr<v1::Audio> audio = AudioFromFile(args.input);
  if (!audio.ok()) return audio.status();
  *request.mutable_audio() = *std::move(audio);
  return request;
}

void RegisterTransform(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<TransformArgs>();
  CLI::App* sub = app->add_subcommand(
      "transform", "phase operations, masks and mel warps of an audio file's STFT");
  AddTransformFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output.output == "-");
    context->action = [context, args] { return RunTransform(*context, *args); };
  });
}

}  // namespace specinv::client
