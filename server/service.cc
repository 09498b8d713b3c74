// Copyright specinv authors.

#include "server/service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/rpc/serve.h"
#include "server/rpc/server_info.h"
#include "server/status_mapping.h"
#include "server/stream_vocode.h"

namespace specinv::server {
namespace {

constexpr char kServiceName[] = "specinv.v1.Spectrogram";

class FinishedBidiReactor final
    : public grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse> {
 public:
  explicit FinishedBidiReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// Prepare, admit and run on the calling thread (in-process measurements).
template <typename Request, typename Response>
absl::Status RunDirect(const CallLifecycle& life, const RpcEnv& env, const WorkerPool& pool, const char* method,
                       const Request& request, Response* response, PrepareFn<Request, Response> prepare) {
  CallRecord call;
  call.method = method;
  Prepared prepared;
  if (absl::Status s = internal::PrepareAndAdmit(life, env, call, request, response, prepare, &prepared); !s.ok()) {
    return s;
  }
  // The same helper-thread share as a served job (CallLifecycle::Submit).
  Job job(nullptr, absl::ZeroDuration(), pool.ThreadsForRunningJob());
  return RunContained(method, "direct", [&] { return prepared.run(job); });
}

}  // namespace

SpectrogramService::SpectrogramService(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth,
                                       const ServiceLimits& limits, ServiceInfo info, int64_t extractor_cache_bytes)
    : pool_(pool),
      metrics_(metrics),
      auth_(auth),
      limits_(limits),
      info_(info),
      extractors_(extractor_cache_bytes),
      life_(pool, metrics, auth, &limits_),
      env_{&limits_, &extractors_, pool->workers()} {}

std::vector<std::string> SpectrogramService::ImplementedRpcs() {
  std::vector<std::string> out;
  for (const char* rpc : {"Analyze", "InvertMel", "InvertSpectrogram", "InvertMelStream", "InvertSpectrogramStream",
                          "InvertMelBatch", "StreamVocode", "Reorder", "Transform", "Render", "GetServerInfo"}) {
    out.push_back(absl::StrCat(kServiceName, "/", rpc));
  }
  return out;
}

absl::Status SpectrogramService::AnalyzeDirect(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response) {
  return RunDirect(life_, env_, *pool_, "Analyze", request, response, &PrepareAnalyze);
}

absl::Status SpectrogramService::InvertMelDirect(const v1::InvertMelRequest& request,
                                                 v1::InvertMelResponse* response) {
  return RunDirect(life_, env_, *pool_, "InvertMel", request, response, &PrepareInvertMel);
}

absl::Status SpectrogramService::InvertSpectrogramDirect(const v1::InvertSpectrogramRequest& request,
                                                         v1::InvertSpectrogramResponse* response) {
  return RunDirect(life_, env_, *pool_, "InvertSpectrogram", request, response, &PrepareInvertSpectrogram);
}

grpc::ServerUnaryReactor* SpectrogramService::Analyze(grpc::CallbackServerContext* ctx,
                                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::AnalyzeRequest, v1::AnalyzeResponse>(life_, env_, "Analyze", ctx, request, response, &PrepareAnalyze);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertMel(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::InvertMelRequest, v1::InvertMelResponse>(life_, env_, "InvertMel", ctx, request, response, &PrepareInvertMel);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertSpectrogram(grpc::CallbackServerContext* ctx,
                                                                const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::InvertSpectrogramRequest, v1::InvertSpectrogramResponse>(life_, env_, "InvertSpectrogram", ctx, request, response, &PrepareInvertSpectrogram);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SpectrogramService::InvertMelStream(grpc::CallbackServerContext* ctx,
    const grpc::ByteBuffer* request) {
  return ServeProgress<v1::InvertMelRequest, v1::InvertMelResponse, v1::InvertMelStreamResponse>(life_, env_, "InvertMelStream", ctx, request,
      &PrepareInvertMel);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SpectrogramService::InvertSpectrogramStream(grpc::CallbackServerContext* ctx,
    const grpc::ByteBuffer* request) {
  return ServeProgress<v1::InvertSpectrogramRequest, v1::InvertSpectrogramResponse, v1::InvertSpectrogramStreamResponse>(life_, env_, "InvertSpectrogramStream", ctx, request,
      &PrepareInvertSpectrogram);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertMelBatch(grpc::CallbackServerContext* ctx,
                                                             const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::InvertMelBatchRequest, v1::InvertMelBatchResponse>(life_, env_, "InvertMelBatch", ctx, request, response, &PrepareInvertMelBatch);
}

grpc::ServerUnaryReactor* SpectrogramService::Reorder(grpc::CallbackServerContext* ctx,
                                                      const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::ReorderRequest, v1::ReorderResponse>(life_, env_, "Reorder", ctx, request, response, &PrepareReorder);
}

grpc::ServerUnaryReactor* SpectrogramService::Transform(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::TransformRequest, v1::TransformResponse>(life_, env_, "Transform", ctx, request, response, &PrepareTransform);
}

grpc::ServerUnaryReactor* SpectrogramService::Render(grpc::CallbackServerContext* ctx,
                                                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  return ServeUnary<v1::RenderRequest, v1::RenderResponse>(life_, env_, "Render", ctx, request, response, &PrepareRender);
}

grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* SpectrogramService::StreamVocode(
    grpc::CallbackServerContext* ctx) {
  absl::Status auth;
  std::shared_ptr<CallRecord> call = life_.Begin("StreamVocode", ctx, &auth);
  if (!auth.ok()) {
    life_.End(*call, ctx, auth);
    return new FinishedBidiReactor(ToGrpcStatus(auth));
  }
  if (absl::Status full = streams_.TryReserve(); !full.ok()) {
    life_.End(*call, ctx, full);
    return new FinishedBidiReactor(ToGrpcStatus(full));
  }
  StreamVocodeEnvironment env = stream_environment();
  env.on_end = [this, call, ctx](const absl::Status& status, double audio_seconds, double queue_ms) {
    call->audio_seconds = audio_seconds;
    call->queue_ms = queue_ms;
    life_.End(*call, ctx, status);
  };
  return NewStreamVocodeReactor(ctx, std::move(env));
}

void SpectrogramService::FillServerInfo(v1::GetServerInfoResponse* response) const {
  ServerFacts facts;
  facts.limits = &limits_;
  facts.pool = pool_;
  facts.implemented_rpcs = ImplementedRpcs();
  facts.start_time = info_.start_time;
  facts.tls_enabled = info_.tls_enabled;
  facts.auth_required = auth_->enabled();
  server::FillServerInfo(facts, response);
}

grpc::ServerUnaryReactor* SpectrogramService::GetServerInfo(grpc::CallbackServerContext* ctx,
                                                            const v1::GetServerInfoRequest*,
                                                            v1::GetServerInfoResponse* response) {
  // Cheap and non-DSP: answered on the gRPC thread, so it works under load.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::Status s;
  std::shared_ptr<CallRecord> call = life_.Begin("GetServerInfo", ctx, &s);
  if (s.ok()) FillServerInfo(response);
  life_.End(*call, ctx, s);
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace specinv::server
