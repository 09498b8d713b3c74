// Copyright specinv authors.
//
// Runs an inversion RPC either as a unary call or, when a progress display is
// wanted, as its server-streaming form, drawing a progress bar from the
// progress events and returning the final result. Internal to the commands.

#ifndef SPECINV_CLIENT_COMMANDS_INVERSION_CALL_H_
#define SPECINV_CLIENT_COMMANDS_INVERSION_CALL_H_

#include <cstdio>
#include <memory>
#include <string>

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "client/channel.h"
#include "client/flags.h"
#include "client/payloads.h"
#include "client/commands/commands.h"
#include "client/progress_bar.h"
#include "client/status_format.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::client {

// Result of analysing an audio file for a round trip.
struct AnalyzedSpectrogram {
  v1::Tensor spectrogram;        // (bins, frames), float32
  v1::SpectrogramConfig config;  // effective config
  int64_t num_samples = 0;       // samples analysed
};

// Analyze(input, config, kind) with a (bins, frames) float32 result; prints a
// one-line summary.
absl::StatusOr<AnalyzedSpectrogram> AnalyzeForRoundTrip(CommandContext& ctx,
                                                        v1::Spectrogram::Stub& stub,
                                                        const std::string& input,
                                                        const v1::SpectrogramConfig& config,
                                                        v1::SpectrogramKind kind);

// "fgla it 16/32  SC -21.4 dB" and the fraction of the stage done.
inline std::string DescribeProgress(const v1::InversionProgress& p, double* fraction) {
  *fraction = p.total_iterations() > 0
                  ? static_cast<double>(p.iteration()) / static_cast<double>(p.total_iterations())
                  : 0.0;
  return absl::StrFormat("%s it %d/%d  SC %.2f dB", p.stage(), p.iteration(), p.total_iterations(),
                         p.spectral_convergence_db());
}

// `unary(context, response*)` -> grpc::Status;
// `stream(context)` -> std::unique_ptr<grpc::ClientReader<StreamResponse>>.
template <typename Response, typename StreamResponse, typename Unary, typename Stream>
absl::StatusOr<Response> CallInversion(const Connection& connection, ProgressMode mode,
                                       const std::string& label, Unary unary, Stream stream) {
  grpc::ClientContext call;
  connection.Prepare(&call);
  Response response;
  if (mode == ProgressMode::kOff) {
    if (grpc::Status s = unary(&call, &response); !s.ok()) return FromGrpcStatus(s);
    return response;
  }
  ProgressBar bar(stderr, mode, label);
  std::unique_ptr<grpc::ClientReader<StreamResponse>> reader = stream(&call);
  StreamResponse event;
  bool have_result = false;
  while (reader->Read(&event)) {
    if (event.has_progress()) {
      double fraction = 0.0;
      const std::string detail = DescribeProgress(event.progress(), &fraction);
      bar.Update(fraction, detail);
    } else if (event.has_result()) {
      response = std::move(*event.mutable_result());
      have_result = true;
      bar.Update(1.0, "done");
    }
  }
  bar.Finish();
  if (grpc::Status s = reader->Finish(); !s.ok()) return FromGrpcStatus(s);
  if (!have_result) return absl::DataLossError("the stream ended without a result");
  return response;
}

// Writes an inversion's audio to `path` as `kind` and prints what ran:
// "<method>: <seconds> s at <rate> Hz -> <path>" and "<sc_label> <dB> after <n>
// iterations (<stop reason>), <ms> on a worker, <ms> queued", where `sc_db`
// is the response's spectral convergence (mel or linear, per `sc_label`).
// Response: InvertMelResponse or InvertSpectrogramResponse.
template <typename Response>
absl::Status WriteInversionResult(const CommandContext& ctx, const Response& response, v1::InversionMethod method,
                                  const char* sc_label, double sc_db, AudioFileKind kind, const std::string& path) {
  if (absl::Status w = WriteAudio(response.audio(), kind, path); !w.ok()) return w;
  ctx.Print("%s: %.3f s at %d Hz -> %s\n",
            method == v1::INVERSION_METHOD_UNSPECIFIED ? "server's default method" : EnumName(method).c_str(),
            response.audio().duration_seconds(), response.audio().sample_rate_hertz(), path.c_str());
  ctx.Print("%s %.2f dB after %d iterations (%s), %.1f ms on a worker, %.1f ms queued\n", sc_label, sc_db,
            response.iterations_run(), response.stop_reason().c_str(), response.elapsed_milliseconds(),
            response.queue_milliseconds());
  return absl::OkStatus();
}

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_COMMANDS_INVERSION_CALL_H_
