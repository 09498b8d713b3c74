// Copyright specinv authors.
//
// SpectrogramService: the specinv.v1.Spectrogram gRPC service (callback API).
//
// The layer is thin. Each RPC handler is one line: a call shape from
// rpc/serve.h (unary, progress stream) with the RPC's Prepare function from
// server/rpc/<rpc>.cc. The shared CallLifecycle (call.h) authenticates,
// assigns the request id, admits the job's predicted cost (admission.h),
// submits it to the WorkerPool (a full queue is answered RESOURCE_EXHAUSTED
// at once, with a retry hint), contains exceptions, records metrics and logs
// one line per call. StreamVocode (stream_vocode.h) uses the same lifecycle.
//
// Thread-safe; the service must outlive the grpc::Server and the pool's
// workers must be stopped before it is destroyed.

#ifndef SPECINV_SERVER_SERVICE_H_
#define SPECINV_SERVER_SERVICE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "server/auth.h"
#include "server/call.h"
#include "server/extractor_cache.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/stream_vocode.h"
#include "server/rpc/rpc.h"
#include "server/worker_pool.h"
#include "specinv/v1/spectrogram_service.grpc.pb.h"

namespace specinv::server {

struct ServiceInfo {
  bool tls_enabled = false;
  absl::Time start_time = absl::Now();
};

// The RPCs with a request message are registered raw (bytes in, bytes out)
// so that rpc/serve.h parses them and answers a malformed message with
// INVALID_ARGUMENT; StreamVocode and GetServerInfo are typed.
using SpectrogramServiceBase = v1::Spectrogram::WithRawCallbackMethod_Analyze<
    v1::Spectrogram::WithRawCallbackMethod_InvertMel<v1::Spectrogram::WithRawCallbackMethod_InvertSpectrogram<
        v1::Spectrogram::WithRawCallbackMethod_InvertMelStream<
            v1::Spectrogram::WithRawCallbackMethod_InvertSpectrogramStream<
                v1::Spectrogram::WithRawCallbackMethod_InvertMelBatch<
                    v1::Spectrogram::WithRawCallbackMethod_Reorder<v1::Spectrogram::WithRawCallbackMethod_Transform<
                        v1::Spectrogram::WithRawCallbackMethod_Render<v1::Spectrogram::WithCallbackMethod_StreamVocode<
                            v1::Spectrogram::WithCallbackMethod_GetServerInfo<v1::Spectrogram::Service>>>>>>>>>>>;

class SpectrogramService final : public SpectrogramServiceBase {
 public:
  // Pointers must outlive the service.
  SpectrogramService(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth,
                     const ServiceLimits& limits, ServiceInfo info,
                     int64_t extractor_cache_bytes = kDefaultExtractorCacheBytes);

  grpc::ServerUnaryReactor* Analyze(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* InvertMel(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* InvertSpectrogram(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* InvertMelStream(grpc::CallbackServerContext* ctx,
                                                              const grpc::ByteBuffer* request) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* InvertSpectrogramStream(grpc::CallbackServerContext* ctx,
                                                                      const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* InvertMelBatch(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* StreamVocode(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Reorder(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Transform(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Render(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* ctx,
                                          const v1::GetServerInfoRequest* request,
                                          v1::GetServerInfoResponse* response) override;

  ExtractorCacheStats extractor_cache_stats() const { return extractors_.stats(); }

  // What other transports (the HTTP API) share with the RPCs.
  const CallLifecycle& lifecycle() const { return life_; }
  const RpcEnv& env() const { return env_; }
  // The streaming vocoder's shared state (scheduler, open streams, limits,
  // extractors, metrics), without a per-call on_end.
  StreamVocodeEnvironment stream_environment() {
    return StreamVocodeEnvironment{&stream_scheduler_, metrics_, &limits_, &extractors_, &streams_, nullptr};
  }
  // GetServerInfo's answer.
  void FillServerInfo(v1::GetServerInfoResponse* response) const;

  // Fully qualified names of the implemented RPCs.
  static std::vector<std::string> ImplementedRpcs();

  // The work a worker does for Analyze / InvertMel / InvertSpectrogram
  // (preparation, admission, the core call, the response), run on the
  // calling thread without gRPC: no authentication, deadline, cancellation,
  // progress events, metrics or log line. Used by InProcessService
  // (in_process.h) to measure what the RPC layer costs.
  absl::Status AnalyzeDirect(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response);
  absl::Status InvertMelDirect(const v1::InvertMelRequest& request, v1::InvertMelResponse* response);
  absl::Status InvertSpectrogramDirect(const v1::InvertSpectrogramRequest& request,
                                       v1::InvertSpectrogramResponse* response);

 private:
  WorkerPool* pool_;
  Metrics* metrics_;
  const TokenAuthenticator* auth_;
  const ServiceLimits limits_;
  const ServiceInfo info_;
  ExtractorCache extractors_;
  const CallLifecycle life_;
  const RpcEnv env_;
  StreamVocodeScheduler stream_scheduler_{pool_};
  StreamRegistry streams_{limits_.max_streams, absl::Seconds(limits_.stream_idle_timeout_seconds)};
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_SERVICE_H_
