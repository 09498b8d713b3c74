// Copyright specinv authors.
//
// `specinv info`: GetServerInfo, printed for people or as JSON.

#include <google/protobuf/util/json_util.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/commands/commands.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

absl::Status RunInfo(CommandContext& ctx, const InfoArgs& args) {
  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  absl::StatusOr<const Connection*> connection = ctx.Connect();
  grpc::ClientContext call;
  (*connection)->Prepare(&call);
  v1::GetServerInfoResponse info;
  if (grpc::Status s = (*stub)->GetServerInfo(&call, v1::GetServerInfoRequest(), &info); !s.ok()) {
    return FromGrpcStatus(s);
  }
  if (args.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    options.preserve_proto_field_names = true;
    if (auto s = google::protobuf::util::MessageToJsonString(info, &json, options); !s.ok()) {
      return absl::InternalError(std::string(s.message()));
    }
    std::fputs(json.c_str(), stdout);
    return absl::OkStatus();
  }
  const v1::ServerLimits& limits = info.limits();
  std::printf("specinv server %s at %s, up %.1f s, TLS %s, auth %s\n", info.version().c_str(),
              ctx.connection.server.c_str(), info.uptime_seconds(),
              info.tls_enabled() ? "on" : "off", info.auth_required() ? "required" : "off");
  std::printf("workers: %d (%d busy), queue capacity %d (%d queued)\n", info.worker_count(),
              info.busy_workers(), info.queue_capacity(), info.queued_jobs());
  std::printf(
      "limits: message %.1f MiB, audio %g s, iterations %d, n_fft %d, batch %d, image %d px\n",
      static_cast<double>(limits.max_message_bytes()) / (1024.0 * 1024.0),
      limits.max_audio_duration_seconds(), limits.max_iterations(), limits.max_n_fft(),
      limits.max_batch_size(), limits.max_image_side_pixels());
  std::string methods;
  for (int m : info.methods()) {
    absl::StrAppend(&methods, methods.empty() ? "" : ", ",
                    EnumName(static_cast<v1::InversionMethod>(m)));
  }
  std::printf("methods: %s\n", methods.c_str());
  std::printf("presets:\n");
  for (const v1::Preset& preset : info.presets()) {
    v1::SpectrogramConfig config = preset.config();
    config.clear_preset();  // the name is in the first column
    std::printf("  %-12s %s\n", preset.name().c_str(), DescribeConfig(config).c_str());
    if (!preset.description().empty()) std::printf("  %-12s %s\n", "", preset.description().c_str());
  }
  std::string rpcs;
  for (const std::string& rpc : info.implemented_rpcs()) {
    std::string_view name = rpc;
    if (size_t slash = name.rfind('/'); slash != std::string_view::npos) {
      name = name.substr(slash + 1);
    }
    absl::StrAppend(&rpcs, rpcs.empty() ? "" : ", ", std::string(name));
  }
  std::printf("rpcs: %s\n", rpcs.c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterInfo(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<InfoArgs>();
  CLI::App* sub = app->add_subcommand("info", "server version, presets, methods, limits, workers");
  sub->add_flag("--json", args->json, "print the response as JSON");
  sub->callback([context, args] { context->action = [context, args] { return RunInfo(*context, *args); }; });
}

}  // namespace specinv::client
