// Copyright specinv authors.
//
// SpectrogramService: the specinv.v1.Spectrogram gRPC service (callback API).
//
// The layer is thin. Each RPC handler, on a gRPC thread, only authenticates,
// assigns a request id and submits a job to the WorkerPool (a full queue is
// answered RESOURCE_EXHAUSTED at once, with a retry hint). The job, on a
// worker thread, converts the request to core types (conversion.h), runs the
// core library with a cancellation check (client cancellation or deadline;
// iterative inversions stop within one iteration), converts the result back,
// and finishes the RPC with the mapped status (status_mapping.h). Every RPC
// is logged once and counted in Metrics.
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
#include "server/extractor_cache.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/stream_vocode.h"
#include "server/worker_pool.h"
#include "specinv/v1/spectrogram_service.grpc.pb.h"

namespace specinv::server {

struct ServiceInfo {
  bool tls_enabled = false;
  absl::Time start_time = absl::Now();
};

class SpectrogramService final : public v1::Spectrogram::CallbackService {
 public:
  // Pointers must outlive the service.
  SpectrogramService(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth,
                     const ServiceLimits& limits, ServiceInfo info);

  grpc::ServerUnaryReactor* Analyze(grpc::CallbackServerContext* ctx, const v1::AnalyzeRequest* request,
                                    v1::AnalyzeResponse* response) override;
  grpc::ServerUnaryReactor* InvertMel(grpc::CallbackServerContext* ctx, const v1::InvertMelRequest* request,
                                      v1::InvertMelResponse* response) override;
  grpc::ServerUnaryReactor* InvertSpectrogram(grpc::CallbackServerContext* ctx,
                                              const v1::InvertSpectrogramRequest* request,
                                              v1::InvertSpectrogramResponse* response) override;
  grpc::ServerWriteReactor<v1::InvertMelStreamResponse>* InvertMelStream(
      grpc::CallbackServerContext* ctx, const v1::InvertMelRequest* request) override;
  grpc::ServerWriteReactor<v1::InvertSpectrogramStreamResponse>* InvertSpectrogramStream(
      grpc::CallbackServerContext* ctx, const v1::InvertSpectrogramRequest* request) override;
  grpc::ServerUnaryReactor* InvertMelBatch(grpc::CallbackServerContext* ctx,
                                           const v1::InvertMelBatchRequest* request,
                                           v1::InvertMelBatchResponse* response) override;
  grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* StreamVocode(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* Reorder(grpc::CallbackServerContext* ctx, const v1::ReorderRequest* request,
                                    v1::ReorderResponse* response) override;
  grpc::ServerUnaryReactor* Transform(grpc::CallbackServerContext* ctx, const v1::TransformRequest* request,
                                      v1::TransformResponse* response) override;
  grpc::ServerUnaryReactor* Render(grpc::CallbackServerContext* ctx, const v1::RenderRequest* request,
                                   v1::RenderResponse* response) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* ctx,
                                          const v1::GetServerInfoRequest* request,
                                          v1::GetServerInfoResponse* response) override;

  // Fully qualified names of the implemented RPCs.
  static std::vector<std::string> ImplementedRpcs();

  // The work a worker does for Analyze / InvertMel / InvertSpectrogram
  // (request conversion and validation, the core call, the response and its
  // size check), run on the calling thread without gRPC: no authentication,
  // deadline, cancellation, progress events, metrics or log line. Used by
  // InProcessService (in_process.h) to measure what the RPC layer costs.
  absl::Status AnalyzeDirect(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response);
  absl::Status InvertMelDirect(const v1::InvertMelRequest& request, v1::InvertMelResponse* response);
  absl::Status InvertSpectrogramDirect(const v1::InvertSpectrogramRequest& request,
                                       v1::InvertSpectrogramResponse* response);

  // Per-job state handed to the RPC bodies (defined in service.cc).
  class Job;

 private:
  struct Call;
  template <typename Request, typename Response>
  using Body = absl::Status (SpectrogramService::*)(Job&, const Request&, Response*);

  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* RunUnary(const char* method, grpc::CallbackServerContext* ctx,
                                     const Request* request, Response* response, Body<Request, Response> body);
  template <typename Request, typename Result, typename StreamResponse>
  grpc::ServerWriteReactor<StreamResponse>* RunStream(const char* method, grpc::CallbackServerContext* ctx,
                                                      const Request* request, Body<Request, Result> body);

  std::shared_ptr<Call> BeginCall(const char* method, grpc::CallbackServerContext* ctx);
  void EndCall(Call& call, const absl::Status& status);

  absl::Status DoAnalyze(Job& job, const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response);
  absl::Status DoInvertMel(Job& job, const v1::InvertMelRequest& request, v1::InvertMelResponse* response);
  absl::Status DoInvertSpectrogram(Job& job, const v1::InvertSpectrogramRequest& request,
                                   v1::InvertSpectrogramResponse* response);
  absl::Status DoReorder(Job& job, const v1::ReorderRequest& request, v1::ReorderResponse* response);
  absl::Status DoTransform(Job& job, const v1::TransformRequest& request, v1::TransformResponse* response);
  absl::Status DoRender(Job& job, const v1::RenderRequest& request, v1::RenderResponse* response);
  absl::Status InvertMelAt(Job& job, const v1::InvertMelRequest& request, v1::InvertMelResponse* response,
                           const std::string& path);

  WorkerPool* pool_;
  Metrics* metrics_;
  const TokenAuthenticator* auth_;
  const ServiceLimits limits_;
  const ServiceInfo info_;
  ExtractorCache extractors_;
  StreamVocodeScheduler stream_scheduler_{pool_};
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_SERVICE_H_
