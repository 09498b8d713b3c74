// Copyright specinv authors.
//
// `specinv bench`: a load generator. Prepares one request (from --input, or
// from generated audio analysed once by the server), then sends it from
// --concurrency threads until --count calls or --duration-s, and prints one
// summary: requests/s, latency percentiles, errors by status code, rejections
// and the waits for the server's retry hints. With --in-process the same
// requests run through the service code in this process instead (no server).

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/commands/commands.h"
#include "client/commands/inversion_call.h"
#include "client/files.h"
#include "client/retry_hint.h"
#include "client/payloads.h"
#include "client/status_format.h"
#include "server/allocator.h"
#include "server/in_process.h"
#include "server/status_mapping.h"

namespace specinv::client {
namespace {

constexpr int kGeneratedRate = 22050;

absl::StatusOr<v1::Audio> BenchAudio(const BenchArgs& args) {
  if (!args.input.empty()) return AudioFromFile(args.input);
  if (!(args.seconds > 0.0) || args.seconds > 3600.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--seconds must be in (0, 3600], got ", args.seconds));
  }
  return AudioFromSamples(GenerateBenchSignal(args.seconds, kGeneratedRate), kGeneratedRate);
}

using AnalyzeFn = std::function<absl::Status(const v1::AnalyzeRequest&, v1::AnalyzeResponse*)>;

// Analyze once (audio from --input or generated) to get the tensor to invert.
absl::StatusOr<AnalyzedSpectrogram> PrepareSpectrogram(const BenchArgs& args, v1::SpectrogramKind kind,
                                                       const AnalyzeFn& analyze) {
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  if (FileExtension(args.input) == "npy") {
    AnalyzedSpectrogram out;
    absl::StatusOr<v1::Tensor> tensor = TensorFromNpyFile(args.input, v1::TENSOR_LAYOUT_BINS_FRAMES);
    if (!tensor.ok()) return tensor.status();
    out.spectrogram = *std::move(tensor);
    out.config = *std::move(config);
    return out;
  }
  v1::AnalyzeRequest request;
  absl::StatusOr<v1::Audio> audio = BenchAudio(args);
  if (!audio.ok()) return audio.status();
  *request.mutable_audio() = *std::move(audio);
  *request.mutable_config() = *config;
  request.set_kind(kind);
  request.set_tensor_format(v1::TENSOR_FORMAT_FLOAT32);
  v1::AnalyzeResponse response;
  if (absl::Status s = analyze(request, &response); !s.ok()) return s;
  AnalyzedSpectrogram out;
  out.spectrogram = std::move(*response.mutable_spectrogram());
  out.config = std::move(*response.mutable_effective_config());
  out.num_samples = response.num_samples();
  return out;
}

// The status of an in-process call, with the pool's retry hint (queue full)
// carried over as the client's own.
absl::Status InProcessStatus(absl::Status status) {
  if (std::optional<absl::Duration> delay = server::RetryDelayOf(status)) {
    return WithRetryHintMs(std::move(status), absl::ToInt64Milliseconds(*delay));
  }
  return status;
}

absl::Status RunBench(CommandContext& ctx, const BenchArgs& args) {
  if (absl::Status s = ValidateLoadOptions(args.load); !s.ok()) return s;
  std::unique_ptr<v1::Spectrogram::Stub> stub;
  const Connection* connection = nullptr;
  std::unique_ptr<server::InProcessService> in_process;
  // The server's allocator setting (specinv-server --malloc-retain-mb default),
  // in both modes: in-process it is the server's own; against a server it keeps
  // the load generator from mapping and faulting in every response's pages,
  // CPU time it would otherwise take from the server it shares a machine with.
  // FailedPrecondition (another allocator, e.g. a sanitizer's) leaves its defaults, as in the server.
  if (absl::Status s = server::RetainFreedMemory(server::kDefaultMallocRetainBytes); absl::IsInvalidArgument(s)) {
    return s;
  }
  if (args.in_process) {
    if (args.rpc != "invert-mel" && args.rpc != "invert-spectrogram" && args.rpc != "analyze") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--in-process runs invert-mel, invert-spectrogram or analyze, got --rpc ", args.rpc));
    }
    server::InProcessService::Options options;
    options.workers = args.workers;
    options.queue_depth = args.queue_depth;
    absl::StatusOr<std::unique_ptr<server::InProcessService>> created = server::InProcessService::Create(options);
    if (!created.ok()) return created.status();
    in_process = *std::move(created);
  } else {
    absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub_or = ctx.NewStub();
    if (!stub_or.ok()) return stub_or.status();
    stub = *std::move(stub_or);
    connection = *ctx.Connect();
  }

  AnalyzeFn analyze_once = [&](const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response) {
    if (in_process) return in_process->Analyze(request, response);
    grpc::ClientContext call;
    connection->Prepare(&call);
    return FromGrpcStatus(stub->Analyze(&call, request, response));
  };

  std::function<absl::Status(int)> call;
  std::string title;
  v1::InvertMelRequest invert_mel;
  v1::InvertSpectrogramRequest invert_spectrogram;
  v1::AnalyzeRequest analyze;
  absl::StatusOr<v1::InversionOptions> options = ToInversionOptions(args.inversion);
  if (!options.ok()) return options.status();
  const std::string method = EnumName(options->method());
  const std::string iterations =
      options->has_iterations() ? absl::StrCat(options->iterations()) : "default";

  if (args.rpc == "invert-mel") {
    absl::StatusOr<AnalyzedSpectrogram> mel =
        PrepareSpectrogram(args, v1::SPECTROGRAM_KIND_LOG_MEL, analyze_once);
    if (!mel.ok()) return mel.status();
    *invert_mel.mutable_mel() = mel->spectrogram;
    *invert_mel.mutable_config() = mel->config;
    *invert_mel.mutable_options() = *options;
    invert_mel.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    title = absl::StrFormat("InvertMel %s, %s iterations, mel (%s)", method, iterations,
                            absl::StrJoin(mel->spectrogram.shape(), ", "));
    call = [&](int) {
      v1::InvertMelResponse r;
      if (in_process) return InProcessStatus(in_process->InvertMel(invert_mel, &r));
      grpc::ClientContext c;
      connection->Prepare(&c);
      const grpc::Status s = stub->InvertMel(&c, invert_mel, &r);
      return FromGrpcCall(s, c);
    };
  } else if (args.rpc == "invert-spectrogram") {
    absl::StatusOr<AnalyzedSpectrogram> magnitude =
        PrepareSpectrogram(args, v1::SPECTROGRAM_KIND_STFT_MAGNITUDE, analyze_once);
    if (!magnitude.ok()) return magnitude.status();
    *invert_spectrogram.mutable_magnitude() = magnitude->spectrogram;
    *invert_spectrogram.mutable_config() = magnitude->config;
    *invert_spectrogram.mutable_options() = *options;
    invert_spectrogram.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    title = absl::StrFormat("InvertSpectrogram %s, %s iterations, magnitude (%s)", method,
                            iterations, absl::StrJoin(magnitude->spectrogram.shape(), ", "));
    call = [&](int) {
      v1::InvertSpectrogramResponse r;
      if (in_process) return InProcessStatus(in_process->InvertSpectrogram(invert_spectrogram, &r));
      grpc::ClientContext c;
      connection->Prepare(&c);
      const grpc::Status s = stub->InvertSpectrogram(&c, invert_spectrogram, &r);
      return FromGrpcCall(s, c);
    };
  } else if (args.rpc == "analyze") {
    absl::StatusOr<v1::Audio> audio = BenchAudio(args);
    if (!audio.ok()) return audio.status();
    absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
    if (!config.ok()) return config.status();
    *analyze.mutable_audio() = *std::move(audio);
    *analyze.mutable_config() = *std::move(config);
    analyze.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
    title = "Analyze log-mel";
    call = [&](int) {
      v1::AnalyzeResponse r;
      if (in_process) return InProcessStatus(in_process->Analyze(analyze, &r));
      grpc::ClientContext c;
      connection->Prepare(&c);
      const grpc::Status s = stub->Analyze(&c, analyze, &r);
      return FromGrpcCall(s, c);
    };
  } else if (args.rpc == "info") {
    title = "GetServerInfo";
    call = [&](int) {
      grpc::ClientContext c;
      connection->Prepare(&c);
      v1::GetServerInfoResponse r;
      const grpc::Status s = stub->GetServerInfo(&c, v1::GetServerInfoRequest(), &r);
      return FromGrpcCall(s, c);
    };
  } else if (args.rpc == "health") {
    title = "Health/Check";
    call = [&](int) {
      absl::StatusOr<int> status = HealthCheck(*connection, "", connection->options().deadline_ms);
      if (!status.ok()) return status.status();
      if (*status != 1) return absl::UnavailableError(ServingStatusName(*status));
      return absl::OkStatus();
    };
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--rpc must be one of invert-mel, invert-spectrogram, analyze, info, health, got \"",
        args.rpc, "\""));
  }
  if (in_process) {
    absl::StrAppendFormat(&title, ", in-process (%d workers, queue depth %d, no gRPC)", in_process->workers(),
                          in_process->queue_depth());
  }

  // A call still running a second past its deadline has hung.
  LoadOptions load = args.load;
  if (connection != nullptr) load.overdue_ms = static_cast<double>(connection->options().deadline_ms) + 1000.0;
  const LoadReport report = RunLoad(load, call);
  if (args.json) {
    std::printf("%s\n", FormatReportJson(report, title).c_str());
  } else {
    std::fputs(FormatReport(report, title).c_str(), stdout);
  }
  std::fflush(stdout);
  if (report.sent > 0 && report.ok == 0) {
    // Nothing succeeded: fail with the most frequent error.
    std::string code;
    int64_t most = 0;
    for (const auto& [name, n] : report.errors) {
      if (n > most) {
        most = n;
        code = name;
      }
    }
    return absl::UnavailableError(absl::StrCat("all ", report.sent, " requests failed, most with ",
                                               code, ": ", report.sample_messages.at(code)));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<float> GenerateBenchSignal(double seconds, int sample_rate) {
  const auto n = static_cast<size_t>(std::llround(seconds * sample_rate));
  std::vector<float> samples(n);
  uint32_t noise_state = 12345u;
  double phase = 0.0;
  const double two_pi = 2.0 * 3.14159265358979323846;
  for (size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i) / sample_rate;
    const double f0 = 220.0 * (1.0 + 0.02 * std::sin(two_pi * 5.0 * t)) * (1.0 + 0.5 * t / seconds);
    phase += two_pi * f0 / sample_rate;
    double x = 0.0;
    for (int h = 1; h <= 6; ++h) x += std::sin(h * phase) / h;
    noise_state = noise_state * 1664525u + 1013904223u;
    const double noise = (static_cast<double>(noise_state >> 8) / 16777216.0 - 0.5) * 0.02;
    samples[i] = static_cast<float>(0.35 * x + noise);
  }
  return samples;
}

void AddBenchFlags(CLI::App* app, BenchArgs* args) {
  app->add_option("--rpc", args->rpc, "invert-mel, invert-spectrogram, analyze, info, health")
      ->capture_default_str();
  app->add_option("--input", args->input,
                  "audio file, or a .npy (mel / magnitude); default: generated audio");
  app->add_option("--seconds", args->seconds, "length of the generated audio")
      ->capture_default_str();
  const std::string g = "Load";
  app->add_option("-c,--concurrency", args->load.concurrency, "calls in flight")
      ->capture_default_str()
      ->group(g);
  app->add_option("-n,--count", args->load.count, "calls in total (0 = until --duration-s)")
      ->group(g);
  app->add_option("-d,--duration-s", args->load.duration_s, "seconds to send for")->group(g);
  app->add_option("--rate", args->load.rate, "overall calls/s (0 = as fast as possible)")
      ->group(g);
  app->add_option("--max-retry-wait-ms", args->load.max_retry_wait_ms,
                  "longest server retry hint a worker waits for after a rejected call")
      ->capture_default_str()
      ->group(g);
  app->add_flag("!--ignore-retry-hints", args->load.honor_retry_hints,
                "send the next call at once after a rejection (no wait for the server's retry hint)")
      ->group(g);
  app->add_flag("--json", args->json, "print the summary as one JSON object");
  const std::string p = "In-process (no server)";
  app->add_flag("--in-process", args->in_process,
                "run the same requests through the service code in this process (no gRPC, no network) "
                "on --workers threads: the core throughput to compare the service with")
      ->group(p);
  app->add_option("--workers", args->workers, "in-process worker threads (0 = cores), as specinv-server --workers")
      ->capture_default_str()
      ->group(p);
  app->add_option("--queue-depth", args->queue_depth,
                  "in-process job queue (-1 = 2 x workers), as specinv-server --queue-depth")
      ->capture_default_str()
      ->group(p);
  // The load generator keeps fgla unless told otherwise, so its figures stay comparable.
  args->inversion.method = "fgla";
  AddInversionFlags(app, &args->inversion);
  AddConfigFlags(app, &args->config);
}

void RegisterBench(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub = app->add_subcommand(
      "bench", "load generator: requests/s, p50/p95/p99 latency, errors by status");
  AddBenchFlags(sub, args.get());
  sub->callback([context, args] {
    context->action = [context, args] { return RunBench(*context, *args); };
  });
}

}  // namespace specinv::client
