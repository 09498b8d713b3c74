// Copyright specinv authors.

#include "server/service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/conversion.h"
#include "server/logging.h"
#include "server/status_mapping.h"
#include "server/stream_vocode.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion.h"
#include "specinv/render/png_image.h"
#include "specinv/render/render.h"
#include "specinv/creative/reorder.h"
#include "specinv/creative/transform.h"
#include "specinv/analysis/stft.h"

namespace specinv::server {
namespace {

constexpr char kServiceName[] = "specinv.v1.Spectrogram";
// Cancellations this close to the deadline are reported as deadline exceeded.
constexpr absl::Duration kDeadlineSkew = absl::Milliseconds(250);

std::string Path(const std::string& prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

// The client's x-request-id when it is a sane token, else a fresh one.
std::string RequestIdOf(const grpc::CallbackServerContext& ctx) {
  auto it = ctx.client_metadata().find("x-request-id");
  if (it != ctx.client_metadata().end()) {
    const absl::string_view id(it->second.data(), it->second.size());
    const bool sane = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
      return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (sane) return std::string(id);
  }
  return NewRequestId();
}

absl::string_view CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  // gRPC reports "no deadline" as a time far in the future.
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

template <typename Response>
absl::Status CheckResponseSize(const Response& response, const ServiceLimits& limits) {
  const size_t bytes = response.ByteSizeLong();
  if (static_cast<int64_t>(bytes) > limits.max_message_bytes) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "response would be %d bytes, above the server's max message size of %d bytes (--max-message-mb); "
        "request shorter audio or a more compact encoding",
        bytes, limits.max_message_bytes));
  }
  return absl::OkStatus();
}

// Core errors from an inversion: attribute the ones that name an input.
absl::Status AttributeInversionError(const absl::Status& s, const std::string& prefix, absl::string_view input) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  if (absl::StartsWith(s.message(), input)) return WithField(s, Path(prefix, input));
  return WithField(s, Path(prefix, "options"));
}

// Core errors whose message starts with the request field they concern
// ("tsne.perplexity must be ...", "custom_order[3] is ...", "audio[12] is
// NaN"); `renames` maps core names to proto names (width -> width_pixels).
absl::Status AttributeLeadingField(const absl::Status& s,
                                   std::initializer_list<std::pair<absl::string_view, absl::string_view>> renames = {}) {
  if (s.code() != absl::StatusCode::kInvalidArgument || FieldOf(s).has_value()) return s;
  const absl::string_view message = s.message();
  size_t n = 0;
  while (n < message.size() && (std::isalnum(static_cast<unsigned char>(message[n])) != 0 || message[n] == '_' ||
                                message[n] == '.' || message[n] == '[' || message[n] == ']')) {
    ++n;
  }
  const absl::string_view token = message.substr(0, n);
  if (token.empty() || n == message.size() || message[n] != ' ') return s;
  if (absl::StartsWith(token, "audio")) return WithField(s, "audio");  // sample index, not a field
  for (const auto& [from, to] : renames) {
    if (token == from) return InvalidField(to, message.substr(n + 1));
  }
  return InvalidField(token, message.substr(n + 1));
}

v1::InversionProgress ToProto(const InversionProgress& p, absl::Time start) {
  v1::InversionProgress out;
  out.set_iteration(p.iteration);
  out.set_total_iterations(p.total_iterations);
  out.set_spectral_convergence_db(p.spectral_convergence_db);
  out.set_stage(std::string(p.stage));
  out.set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - start));
  return out;
}

std::string PresetDescription(absl::string_view name) {
  if (name == "librosa") return "librosa 0.10.1 defaults: 22050 Hz, n_fft 2048, hop 512, 128 Slaney mels, power 2";
  if (name == "hifigan") {
    return "HiFi-GAN: 22050 Hz, n_fft 1024, hop 256, 80 mels 0-8000 Hz, reflect (n_fft-hop)/2 framing, "
           "ln(max(|X| mel, 1e-5))";
  }
  if (name == "tacotron2") {
    return "Tacotron 2: 22050 Hz, n_fft 1024, hop 256, 80 mels 0-8000 Hz, ln(max(|X| mel, 1e-5))";
  }
  if (name == "espnet") {
    return "ESPnet: 16000 Hz, n_fft 1024, hop 256, 80 mels 80-7600 Hz, log10(max(|X| mel, 1e-10))";
  }
  if (name == "whisper") return "Whisper: 16000 Hz, n_fft 400, hop 160, 80 mels, normalised log10 of power";
  if (name == "whisper-128") return "Whisper large-v3: as whisper with 128 mels";
  return "";
}

// Streams progress events then the final result. Progress events are
// advisory: while a write is in flight only the newest one is kept.
template <typename Result, typename StreamResponse>
class InversionStreamReactor final : public grpc::ServerWriteReactor<StreamResponse> {
 public:
  void PostProgress(const v1::InversionProgress& progress) {
    std::unique_lock<std::mutex> lock(mu_);
    if (result_posted_) return;
    *progress_.mutable_progress() = progress;
    have_progress_ = true;
    Pump(lock);
  }

  void PostResult(const absl::Status& status, Result* result) {
    std::unique_lock<std::mutex> lock(mu_);
    result_posted_ = true;
    status_ = status;
    if (status.ok()) *final_.mutable_result() = std::move(*result);
    Pump(lock);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) broken_ = true;
    Pump(lock);
  }

  void OnDone() override { delete this; }

 private:
  // Starts the next operation; releases the lock before calling into gRPC.
  // Must be the caller's last use of `this` when it may finish the call.
  void Pump(std::unique_lock<std::mutex>& lock) {
    if (writing_ || finished_) return;
    if (result_posted_) {
      finished_ = true;
      if (status_.ok() && !broken_) {
        in_flight_ = std::move(final_);
        writing_ = true;
        lock.unlock();
        this->StartWriteAndFinish(&in_flight_, grpc::WriteOptions(), grpc::Status::OK);
        return;
      }
      const grpc::Status status = broken_ && status_.ok()
                                      ? grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading")
                                      : ToGrpcStatus(status_);
      lock.unlock();
      this->Finish(status);
      return;
    }
    if (have_progress_ && !broken_) {
      in_flight_ = std::move(progress_);
      progress_.Clear();
      have_progress_ = false;
      writing_ = true;
      lock.unlock();
      this->StartWrite(&in_flight_);
    }
  }

  std::mutex mu_;
  bool writing_ = false;
  bool have_progress_ = false;
  bool result_posted_ = false;
  bool finished_ = false;
  bool broken_ = false;
  absl::Status status_;
  StreamResponse progress_;
  StreamResponse final_;
  StreamResponse in_flight_;
};

class FinishedBidiReactor final
    : public grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse> {
 public:
  explicit FinishedBidiReactor(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

// ---- per-call and per-job state ---------------------------------------------

struct SpectrogramService::Call {
  std::string method;
  std::string request_id;
  std::string peer;
  absl::Time start;
  std::atomic<double> audio_seconds{0.0};
  std::atomic<double> queue_ms{0.0};
};

class SpectrogramService::Job {
 public:
  // `ctx` null: a direct (in-process) job without deadline or cancellation.
  Job(grpc::CallbackServerContext* ctx, absl::Duration wait)
      : queue_wait(wait), ctx_(ctx), deadline_(ctx != nullptr ? DeadlineOf(*ctx) : absl::InfiniteFuture()) {}

  // DeadlineExceeded past the call's deadline, Cancelled when the client
  // cancelled (or the server is shutting down past its grace period).
  absl::Status Check() const {
    if (absl::Now() >= deadline_) {
      return absl::DeadlineExceededError("the call's deadline passed; the job was stopped");
    }
    if (ctx_ != nullptr && ctx_->IsCancelled()) {
      // A client whose deadline expires cancels the call; the server's copy
      // of the deadline (receipt time + timeout) lags by the transit time.
      if (absl::Now() + kDeadlineSkew >= deadline_) {
        return absl::DeadlineExceededError("the call's deadline passed; the job was stopped");
      }
      return absl::CancelledError("the call was cancelled; the job was stopped");
    }
    return absl::OkStatus();
  }

  std::function<absl::Status()> Checker() const {
    return [this] { return Check(); };
  }

  const absl::Time start = absl::Now();
  const absl::Duration queue_wait;
  double audio_seconds = 0.0;
  // Streaming RPCs: receives every progress_interval-th progress event.
  std::function<void(const v1::InversionProgress&)> on_progress;

 private:
  grpc::CallbackServerContext* ctx_;
  absl::Time deadline_;
};

SpectrogramService::SpectrogramService(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth,
                                       const ServiceLimits& limits, ServiceInfo info)
    : pool_(pool), metrics_(metrics), auth_(auth), limits_(limits), info_(info) {}

std::vector<std::string> SpectrogramService::ImplementedRpcs() {
  std::vector<std::string> out;
  for (const char* rpc : {"Analyze", "InvertMel", "InvertSpectrogram", "InvertMelStream", "InvertSpectrogramStream",
                          "InvertMelBatch", "StreamVocode", "Reorder", "Transform", "Render", "GetServerInfo"}) {
    out.push_back(absl::StrCat(kServiceName, "/", rpc));
  }
  return out;
}

std::shared_ptr<SpectrogramService::Call> SpectrogramService::BeginCall(const char* method,
                                                                        grpc::CallbackServerContext* ctx) {
  auto call = std::make_shared<Call>();
  call->method = method;
  call->request_id = RequestIdOf(*ctx);
  call->peer = ctx->peer();
  call->start = absl::Now();
  // Trailing, never initial metadata: a call that fails before any response
  // message then ends as a gRPC "Trailers-Only" response, which leaves it
  // uncommitted, so a client retry policy may retry it (e.g. RESOURCE_EXHAUSTED
  // from a full queue). Sent with the final status of every call, OK or not.
  ctx->AddTrailingMetadata("x-request-id", call->request_id);
  metrics_->RpcStarted();
  return call;
}

void SpectrogramService::EndCall(Call& call, const absl::Status& status) {
  const double seconds = absl::ToDoubleSeconds(absl::Now() - call.start);
  const absl::string_view code = CodeName(ToGrpcCode(status.code()));
  const double audio_seconds = call.audio_seconds.load();
  metrics_->RpcFinished(call.method, code, seconds, audio_seconds);
  const bool server_fault = status.code() == absl::StatusCode::kInternal ||
                            status.code() == absl::StatusCode::kUnknown ||
                            status.code() == absl::StatusCode::kDataLoss;
  const auto level = server_fault ? spdlog::level::err : spdlog::level::info;
  if (status.ok()) {
    LogEvent(level, "rpc",
             {{"request_id", call.request_id}, {"method", call.method}, {"status", code},
              {"duration_ms", seconds * 1e3}, {"audio_s", audio_seconds}, {"queue_ms", call.queue_ms.load()},
              {"peer", call.peer}});
  } else {
    LogEvent(level, "rpc",
             {{"request_id", call.request_id}, {"method", call.method}, {"status", code},
              {"duration_ms", seconds * 1e3}, {"audio_s", audio_seconds}, {"queue_ms", call.queue_ms.load()},
              {"peer", call.peer}, {"error", std::string(status.message())}});
  }
}

// ---- direct (in-process) execution ------------------------------------------

absl::Status SpectrogramService::AnalyzeDirect(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response) {
  Job job(nullptr, absl::ZeroDuration());
  absl::Status s = DoAnalyze(job, request, response);
  return s.ok() ? CheckResponseSize(*response, limits_) : s;
}

absl::Status SpectrogramService::InvertMelDirect(const v1::InvertMelRequest& request,
                                                 v1::InvertMelResponse* response) {
  Job job(nullptr, absl::ZeroDuration());
  absl::Status s = DoInvertMel(job, request, response);
  return s.ok() ? CheckResponseSize(*response, limits_) : s;
}

absl::Status SpectrogramService::InvertSpectrogramDirect(const v1::InvertSpectrogramRequest& request,
                                                         v1::InvertSpectrogramResponse* response) {
  Job job(nullptr, absl::ZeroDuration());
  absl::Status s = DoInvertSpectrogram(job, request, response);
  return s.ok() ? CheckResponseSize(*response, limits_) : s;
}

// ---- RPC plumbing -----------------------------------------------------------

template <typename Request, typename Response>
grpc::ServerUnaryReactor* SpectrogramService::RunUnary(const char* method, grpc::CallbackServerContext* ctx,
                                                       const Request* request, Response* response,
                                                       Body<Request, Response> body) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::shared_ptr<Call> call = BeginCall(method, ctx);
  auto finish = [this, reactor, ctx](Call& c, const absl::Status& status) {
    if (auto delay = RetryDelayOf(status)) ctx->AddTrailingMetadata(kRetryPushbackKey, RetryPushbackMetadata(*delay));
    EndCall(c, status);
    reactor->Finish(ToGrpcStatus(status));  // last use of ctx/request/response
  };
  if (absl::Status s = auth_->Check(ctx->client_metadata()); !s.ok()) {
    finish(*call, s);
    return reactor;
  }
  absl::Status submitted =
      pool_->TrySubmit([this, call, ctx, request, response, body, finish](absl::Duration queue_wait) {
        call->queue_ms = absl::ToDoubleMilliseconds(queue_wait);
        metrics_->JobStarted(absl::ToDoubleSeconds(queue_wait));
        Job job(ctx, queue_wait);
        absl::Status s = job.Check();  // cancelled or expired while queued
        if (s.ok()) s = (this->*body)(job, *request, response);
        if (s.ok()) s = CheckResponseSize(*response, limits_);
        call->audio_seconds = job.audio_seconds;
        pool_->ReleaseCurrentJob();  // free before answering: the client may call again at once
        finish(*call, s);
      });
  if (!submitted.ok()) finish(*call, submitted);
  return reactor;
}

template <typename Request, typename Result, typename StreamResponse>
grpc::ServerWriteReactor<StreamResponse>* SpectrogramService::RunStream(const char* method,
                                                                        grpc::CallbackServerContext* ctx,
                                                                        const Request* request,
                                                                        Body<Request, Result> body) {
  using Reactor = InversionStreamReactor<Result, StreamResponse>;
  auto* reactor = new Reactor();
  std::shared_ptr<Call> call = BeginCall(method, ctx);
  if (absl::Status s = auth_->Check(ctx->client_metadata()); !s.ok()) {
    EndCall(*call, s);
    reactor->PostResult(s, nullptr);
    return reactor;
  }
  absl::Status submitted = pool_->TrySubmit([this, call, ctx, request, body, reactor](absl::Duration queue_wait) {
    call->queue_ms = absl::ToDoubleMilliseconds(queue_wait);
    metrics_->JobStarted(absl::ToDoubleSeconds(queue_wait));
    Job job(ctx, queue_wait);
    job.on_progress = [reactor](const v1::InversionProgress& p) { reactor->PostProgress(p); };
    Result result;
    absl::Status s = job.Check();
    if (s.ok()) s = (this->*body)(job, *request, &result);
    if (s.ok()) s = CheckResponseSize(result, limits_);
    call->audio_seconds = job.audio_seconds;
    EndCall(*call, s);
    pool_->ReleaseCurrentJob();  // free before answering: the client may call again at once
    reactor->PostResult(s, &result);  // last use of the reactor
  });
  if (!submitted.ok()) {
    if (auto delay = RetryDelayOf(submitted)) {
      ctx->AddTrailingMetadata(kRetryPushbackKey, RetryPushbackMetadata(*delay));
    }
    EndCall(*call, submitted);
    reactor->PostResult(submitted, nullptr);
  }
  return reactor;
}

// ---- RPC handlers -----------------------------------------------------------

grpc::ServerUnaryReactor* SpectrogramService::Analyze(grpc::CallbackServerContext* ctx,
                                                      const v1::AnalyzeRequest* request,
                                                      v1::AnalyzeResponse* response) {
  return RunUnary("Analyze", ctx, request, response, &SpectrogramService::DoAnalyze);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertMel(grpc::CallbackServerContext* ctx,
                                                        const v1::InvertMelRequest* request,
                                                        v1::InvertMelResponse* response) {
  return RunUnary("InvertMel", ctx, request, response, &SpectrogramService::DoInvertMel);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertSpectrogram(grpc::CallbackServerContext* ctx,
                                                                const v1::InvertSpectrogramRequest* request,
                                                                v1::InvertSpectrogramResponse* response) {
  return RunUnary("InvertSpectrogram", ctx, request, response, &SpectrogramService::DoInvertSpectrogram);
}

grpc::ServerWriteReactor<v1::InvertMelStreamResponse>* SpectrogramService::InvertMelStream(
    grpc::CallbackServerContext* ctx, const v1::InvertMelRequest* request) {
  return RunStream<v1::InvertMelRequest, v1::InvertMelResponse, v1::InvertMelStreamResponse>(
      "InvertMelStream", ctx, request, &SpectrogramService::DoInvertMel);
}

grpc::ServerWriteReactor<v1::InvertSpectrogramStreamResponse>* SpectrogramService::InvertSpectrogramStream(
    grpc::CallbackServerContext* ctx, const v1::InvertSpectrogramRequest* request) {
  return RunStream<v1::InvertSpectrogramRequest, v1::InvertSpectrogramResponse,
                   v1::InvertSpectrogramStreamResponse>("InvertSpectrogramStream", ctx, request,
                                                        &SpectrogramService::DoInvertSpectrogram);
}

grpc::ServerUnaryReactor* SpectrogramService::InvertMelBatch(grpc::CallbackServerContext* ctx,
                                                             const v1::InvertMelBatchRequest* request,
                                                             v1::InvertMelBatchResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::shared_ptr<Call> call = BeginCall("InvertMelBatch", ctx);
  auto finish = [this, reactor, ctx](Call& c, const absl::Status& status) {
    if (auto delay = RetryDelayOf(status)) ctx->AddTrailingMetadata(kRetryPushbackKey, RetryPushbackMetadata(*delay));
    EndCall(c, status);
    reactor->Finish(ToGrpcStatus(status));
  };
  if (absl::Status s = auth_->Check(ctx->client_metadata()); !s.ok()) {
    finish(*call, s);
    return reactor;
  }
  const int n = request->requests_size();
  if (n < 1 || n > limits_.max_batch_size) {
    finish(*call, InvalidField("requests", absl::StrFormat("must have [1, %d] items (server limit "
                                                           "--max-batch-size), got %d",
                                                           limits_.max_batch_size, n)));
    return reactor;
  }
  for (int i = 0; i < n; ++i) response->add_responses();

  // min(n, workers) runner jobs pull items in order; results land at their
  // own index, so the response keeps request order whatever runs first.
  struct BatchState {
    std::atomic<int> next{0};
    std::atomic<int> runners_left{0};
    std::mutex mu;
    absl::Status error;
    double audio_seconds = 0.0;
    absl::Time start = absl::Now();
  };
  auto state = std::make_shared<BatchState>();
  const int runners = std::min(n, pool_->workers());
  state->runners_left = runners;

  auto complete = [this, call, state, response, finish] {
    absl::Status s;
    {
      std::lock_guard<std::mutex> lock(state->mu);
      s = state->error;
      call->audio_seconds = state->audio_seconds;
    }
    if (s.ok()) {
      response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - state->start));
      s = CheckResponseSize(*response, limits_);
    }
    finish(*call, s);
  };
  auto runner = [this, call, ctx, request, response, state, n, complete](absl::Duration queue_wait) {
    metrics_->JobStarted(absl::ToDoubleSeconds(queue_wait));
    call->queue_ms = std::max(call->queue_ms.load(), absl::ToDoubleMilliseconds(queue_wait));
    for (;;) {
      const int i = state->next.fetch_add(1);
      if (i >= n) break;
      {
        std::lock_guard<std::mutex> lock(state->mu);
        if (!state->error.ok()) break;
      }
      Job job(ctx, queue_wait);
      absl::Status s = job.Check();
      if (s.ok()) {
        s = InvertMelAt(job, request->requests(i), response->mutable_responses(i), absl::StrFormat("requests[%d]", i));
      }
      std::lock_guard<std::mutex> lock(state->mu);
      state->audio_seconds += job.audio_seconds;
      if (!s.ok()) {
        if (state->error.ok()) state->error = s;
        break;
      }
    }
    if (state->runners_left.fetch_sub(1) == 1) complete();
  };
  int submitted = 0;
  absl::Status rejection;
  for (int r = 0; r < runners; ++r) {
    rejection = pool_->TrySubmit(runner);
    if (!rejection.ok()) break;
    ++submitted;
  }
  const int unsubmitted = runners - submitted;
  if (unsubmitted > 0) {
    if (submitted == 0) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->error = rejection;
    }
    if (state->runners_left.fetch_sub(unsubmitted) == unsubmitted) complete();
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* SpectrogramService::StreamVocode(
    grpc::CallbackServerContext* ctx) {
  std::shared_ptr<Call> call = BeginCall("StreamVocode", ctx);
  if (absl::Status s = auth_->Check(ctx->client_metadata()); !s.ok()) {
    EndCall(*call, s);
    return new FinishedBidiReactor(ToGrpcStatus(s));
  }
  StreamVocodeEnvironment env{&stream_scheduler_, metrics_, &limits_, &extractors_, nullptr};
  env.on_end = [this, call](const absl::Status& status, double audio_seconds, double queue_ms) {
    call->audio_seconds = audio_seconds;
    call->queue_ms = queue_ms;
    EndCall(*call, status);
  };
  return NewStreamVocodeReactor(ctx, std::move(env));
}

grpc::ServerUnaryReactor* SpectrogramService::Reorder(grpc::CallbackServerContext* ctx,
                                                      const v1::ReorderRequest* request, v1::ReorderResponse* response) {
  return RunUnary("Reorder", ctx, request, response, &SpectrogramService::DoReorder);
}

grpc::ServerUnaryReactor* SpectrogramService::Transform(grpc::CallbackServerContext* ctx,
                                                        const v1::TransformRequest* request,
                                                        v1::TransformResponse* response) {
  return RunUnary("Transform", ctx, request, response, &SpectrogramService::DoTransform);
}

grpc::ServerUnaryReactor* SpectrogramService::Render(grpc::CallbackServerContext* ctx, const v1::RenderRequest* request,
                                                     v1::RenderResponse* response) {
  return RunUnary("Render", ctx, request, response, &SpectrogramService::DoRender);
}

grpc::ServerUnaryReactor* SpectrogramService::GetServerInfo(grpc::CallbackServerContext* ctx,
                                                            const v1::GetServerInfoRequest*,
                                                            v1::GetServerInfoResponse* response) {
  // Cheap and non-DSP: answered on the gRPC thread, so it works under load.
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  std::shared_ptr<Call> call = BeginCall("GetServerInfo", ctx);
  absl::Status s = auth_->Check(ctx->client_metadata());
  if (s.ok()) {
    response->set_version(SPECINV_VERSION);
    for (const std::string& name : PresetNames()) {
      absl::StatusOr<FeatureConfig> preset = GetPreset(name);
      if (!preset.ok()) continue;
      v1::Preset* p = response->add_presets();
      p->set_name(name);
      p->set_description(PresetDescription(name));
      FromFeatureConfig(*preset, p->mutable_config());
    }
    for (InversionMethod m : {InversionMethod::kGriffinLim, InversionMethod::kFastGriffinLim, InversionMethod::kPghi,
                              InversionMethod::kPghiFgla, InversionMethod::kRefine}) {
      response->add_methods(ToProtoMethod(m));
    }
    v1::ServerLimits* l = response->mutable_limits();
    l->set_max_message_bytes(limits_.max_message_bytes);
    l->set_max_audio_duration_seconds(limits_.max_audio_seconds);
    l->set_max_iterations(limits_.max_iterations);
    l->set_max_n_fft(limits_.max_n_fft);
    l->set_max_batch_size(limits_.max_batch_size);
    l->set_max_image_side_pixels(limits_.max_image_side_pixels);
    response->set_worker_count(pool_->workers());
    response->set_queue_capacity(pool_->queue_capacity());
    for (const std::string& rpc : ImplementedRpcs()) response->add_implemented_rpcs(rpc);
    response->set_uptime_seconds(absl::ToDoubleSeconds(absl::Now() - info_.start_time));
    response->set_tls_enabled(info_.tls_enabled);
    response->set_auth_required(auth_->enabled());
    response->set_busy_workers(pool_->busy());
    response->set_queued_jobs(pool_->queued());
  }
  EndCall(*call, s);
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

// ---- RPC bodies (worker threads) --------------------------------------------

namespace {

// Streaming RPCs: forwards every progress_interval_iterations-th event.
void SetProgress(SpectrogramService::Job& job, const v1::InversionOptions& proto, InversionOptions* options) {
  if (!job.on_progress) return;
  const int interval = proto.has_progress_interval_iterations() ? proto.progress_interval_iterations() : 1;
  options->progress = [&job, interval](const InversionProgress& p) {
    if (p.iteration % interval == 0 || p.iteration == p.total_iterations) job.on_progress(ToProto(p, job.start));
  };
}

}  // namespace

absl::Status SpectrogramService::DoAnalyze(Job& job, const v1::AnalyzeRequest& request,
                                           v1::AnalyzeResponse* response) {
  const v1::SpectrogramKind kind = request.kind();
  if (kind == v1::SPECTROGRAM_KIND_UNSPECIFIED || !v1::SpectrogramKind_IsValid(kind)) {
    return InvalidField("kind", absl::StrFormat("is required: one of SPECTROGRAM_KIND_STFT_MAGNITUDE, "
                                                "SPECTROGRAM_KIND_COMPLEX_STFT, SPECTROGRAM_KIND_PHASE, "
                                                "SPECTROGRAM_KIND_MEL, SPECTROGRAM_KIND_LOG_MEL; got %d",
                                                static_cast<int>(kind)));
  }
  if (!v1::TensorFormat_IsValid(request.tensor_format())) {
    return InvalidField("tensor_format", absl::StrFormat("has unknown value %d", static_cast<int>(request.tensor_format())));
  }
  if (!v1::TensorLayout_IsValid(request.layout())) {
    return InvalidField("layout", absl::StrFormat("has unknown value %d", static_cast<int>(request.layout())));
  }
  const bool mel = kind == v1::SPECTROGRAM_KIND_MEL || kind == v1::SPECTROGRAM_KIND_LOG_MEL;
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, "config", mel);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = extractors_.Get(*config);
  if (!cached.ok()) return WithConfigField(cached.status(), "config");
  const FeatureExtractor& fx = **cached;
  absl::StatusOr<specinv::Audio> audio = DecodeAudioMessage(request.audio(), config->sample_rate, limits_, "audio");
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / config->sample_rate;
  if (absl::Status s = job.Check(); !s.ok()) return s;

  const std::span<const float> samples(audio->samples);
  const v1::TensorFormat format = request.tensor_format();
  const v1::TensorLayout layout = request.layout();
  v1::Tensor* out = response->mutable_spectrogram();
  int64_t frames = 0;
  switch (kind) {
    case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE: {
      absl::StatusOr<RealMatrix> m = fx.Magnitude(samples);
      if (!m.ok()) return WithField(m.status(), "audio");
      frames = m->cols();
      RealMatrixToTensor(*m, format, layout, out);
      break;
    }
    case v1::SPECTROGRAM_KIND_COMPLEX_STFT:
    case v1::SPECTROGRAM_KIND_PHASE: {
      absl::StatusOr<ComplexMatrix> spec = fx.ComplexSpectrogram(samples);
      if (!spec.ok()) return WithField(spec.status(), "audio");
      frames = spec->cols();
      if (kind == v1::SPECTROGRAM_KIND_COMPLEX_STFT) {
        ComplexMatrixToTensor(*spec, format, layout, out);
      } else {
        const RealMatrix phase = spec->array().arg().matrix();
        RealMatrixToTensor(phase, format, layout, out);
      }
      break;
    }
    case v1::SPECTROGRAM_KIND_MEL:
    case v1::SPECTROGRAM_KIND_LOG_MEL: {
      absl::StatusOr<RealMatrix> m =
          kind == v1::SPECTROGRAM_KIND_MEL ? fx.Mel(samples) : fx.LogMel(samples);
      if (!m.ok()) return WithField(m.status(), "audio");
      frames = m->cols();
      RealMatrixToTensor(*m, format, layout, out);
      if (!fx.filterbank().warning().empty()) response->add_warnings(fx.filterbank().warning());
      break;
    }
    default: break;
  }
  FromFeatureConfig(fx.config(), response->mutable_effective_config());
  response->set_kind(kind);
  response->set_audio_duration_seconds(job.audio_seconds);
  response->set_num_samples(static_cast<int64_t>(audio->samples.size()));
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  (void)frames;
  return absl::OkStatus();
}

absl::Status SpectrogramService::DoInvertMel(Job& job, const v1::InvertMelRequest& request,
                                             v1::InvertMelResponse* response) {
  return InvertMelAt(job, request, response, "");
}

absl::Status SpectrogramService::InvertMelAt(Job& job, const v1::InvertMelRequest& request,
                                             v1::InvertMelResponse* response, const std::string& prefix) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, Path(prefix, "config"));
  if (!config.ok()) return config.status();
  if (!v1::MelDomain_IsValid(request.input_domain())) {
    return InvalidField(Path(prefix, "input_domain"),
                        absl::StrFormat("has unknown value %d", static_cast<int>(request.input_domain())));
  }
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = extractors_.Get(*config);
  if (!cached.ok()) return WithConfigField(cached.status(), Path(prefix, "config"));
  const FeatureExtractor& fx = **cached;

  const std::string mel_path = Path(prefix, "mel");
  absl::StatusOr<RealMatrix> mel = TensorToRealMatrix(request.mel(), mel_path);
  if (!mel.ok()) return mel.status();
  if (mel->rows() != config->n_mels) {
    return InvalidField(mel_path,
                        absl::StrFormat("has %d mel bins but config.n_mels is %d (tensor shape [%d, %d], layout %s)",
                                        mel->rows(), config->n_mels, request.mel().shape_size() > 0 ? request.mel().shape(0) : mel->rows(),
                                        request.mel().shape_size() > 1 ? request.mel().shape(1) : mel->cols(),
                                        request.mel().layout() == v1::TENSOR_LAYOUT_FRAMES_BINS ? "FRAMES_BINS"
                                                                                                : "BINS_FRAMES"));
  }
  const int64_t frames = mel->cols();
  const double implied_seconds =
      static_cast<double>(frames) * config->stft.hop_length / config->sample_rate;
  if (implied_seconds > limits_.max_audio_seconds) {
    return InvalidField(mel_path,
                        absl::StrFormat("has %d frames = %.1f s of audio at hop %d and %g Hz, above the server limit "
                                        "--max-audio-seconds=%g",
                                        frames, implied_seconds, config->stft.hop_length, config->sample_rate,
                                        limits_.max_audio_seconds));
  }

  const v1::MelNormalization& norm = request.normalization();
  if (norm.mean_size() != 0 || norm.std_size() != 0) {
    const std::string norm_path = Path(prefix, "normalization");
    if (norm.mean_size() != 0 && norm.mean_size() != config->n_mels) {
      return InvalidField(Path(norm_path, "mean"), absl::StrFormat("must have 0 or n_mels=%d values, got %d",
                                                                   config->n_mels, norm.mean_size()));
    }
    if (norm.std_size() != 0 && norm.std_size() != config->n_mels) {
      return InvalidField(Path(norm_path, "std"), absl::StrFormat("must have 0 or n_mels=%d values, got %d",
                                                                  config->n_mels, norm.std_size()));
    }
    for (int m = 0; m < norm.std_size(); ++m) {
      if (!std::isfinite(norm.std(m)) || norm.std(m) <= 0.0f) {
        return InvalidField(absl::StrFormat("%s.std[%d]", norm_path, m),
                            absl::StrFormat("must be finite and > 0, got %g", static_cast<double>(norm.std(m))));
      }
    }
    for (int m = 0; m < norm.mean_size(); ++m) {
      if (!std::isfinite(norm.mean(m))) {
        return InvalidField(absl::StrFormat("%s.mean[%d]", norm_path, m), "must be finite");
      }
    }
    for (int m = 0; m < config->n_mels; ++m) {
      const float scale = norm.std_size() != 0 ? norm.std(m) : 1.0f;
      const float offset = norm.mean_size() != 0 ? norm.mean(m) : 0.0f;
      mel->row(m) = (mel->row(m).array() * scale + offset).matrix();
    }
  }
  if (request.input_domain() == v1::MEL_DOMAIN_LINEAR) {
    for (int64_t i = 0; i < mel->size(); ++i) {
      if (mel->data()[i] < 0.0f) {
        return InvalidField(mel_path, absl::StrFormat("has a negative value %g at bin %d, frame %d; a linear "
                                                      "(MEL_DOMAIN_LINEAR) mel must be >= 0",
                                                      static_cast<double>(mel->data()[i]), i % mel->rows(),
                                                      i / mel->rows()));
      }
    }
  } else {
    absl::StatusOr<RealMatrix> linear = fx.Decompress(*mel);
    if (!linear.ok()) return WithField(linear.status(), mel_path);
    mel = *std::move(linear);
  }

  absl::StatusOr<InversionOptions> options = ToInversionOptions(
      request.options(), /*mel_input=*/true, config->stft.n_fft / 2 + 1, frames, limits_, Path(prefix, "options"));
  if (!options.ok()) return options.status();
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, limits_, Path(prefix, "output"));
      !s.ok()) {
    return s;
  }
  // Lengths the frames can produce go to the engine; others are served by
  // zero-padding or truncating the default-length result.
  std::optional<int64_t> resize_to;
  if (request.output().has_length_samples()) {
    const int64_t length = request.output().length_samples();
    if (FeatureLayout(fx, frames, length).ok()) {
      options->length = length;
    } else {
      resize_to = length;
    }
  }
  options->check = job.Checker();
  options->max_threads = pool_->ThreadsForRunningJob();  // idle workers lend their cores
  SetProgress(job, request.options(), &*options);

  absl::StatusOr<InversionResult> result = specinv::InvertMel(fx, *mel, *options);
  if (!result.ok()) return AttributeInversionError(result.status(), prefix, "mel");
  if (resize_to) result->audio.resize(static_cast<size_t>(*resize_to), 0.0f);

  if (absl::Status s = EncodeAudioMessage(result->audio, config->sample_rate, request.output().encoding(),
                                          response->mutable_audio());
      !s.ok()) {
    return s;
  }
  job.audio_seconds = static_cast<double>(result->audio.size()) / config->sample_rate;
  response->set_spectral_convergence_mel_db(result->spectral_convergence_db);
  response->set_iterations_run(result->iterations_run);
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  response->set_stop_reason(result->stop_reason);
  FromFeatureConfig(*config, response->mutable_effective_config());
  response->set_queue_milliseconds(absl::ToDoubleMilliseconds(job.queue_wait));
  return absl::OkStatus();
}

absl::Status SpectrogramService::DoInvertSpectrogram(Job& job, const v1::InvertSpectrogramRequest& request,
                                                     v1::InvertSpectrogramResponse* response) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, "config", /*needs_mel=*/false);
  if (!config.ok()) return config.status();
  absl::StatusOr<Stft> stft = Stft::Create(config->stft);
  if (!stft.ok()) return WithConfigField(stft.status(), "config");

  absl::StatusOr<RealMatrix> magnitude = TensorToRealMatrix(request.magnitude(), "magnitude");
  if (!magnitude.ok()) return magnitude.status();
  const int bins = stft->num_bins();
  if (magnitude->rows() != bins) {
    return InvalidField("magnitude", absl::StrFormat("has %d bins but config.n_fft=%d needs n_fft/2+1=%d",
                                                     magnitude->rows(), config->stft.n_fft, bins));
  }
  for (int64_t i = 0; i < magnitude->size(); ++i) {
    if (magnitude->data()[i] < 0.0f) {
      return InvalidField("magnitude", absl::StrFormat("has a negative value %g at bin %d, frame %d; magnitudes "
                                                       "must be >= 0",
                                                       static_cast<double>(magnitude->data()[i]),
                                                       i % magnitude->rows(), i / magnitude->rows()));
    }
  }
  const int64_t frames = magnitude->cols();
  const double implied_seconds = static_cast<double>(frames) * config->stft.hop_length / config->sample_rate;
  if (implied_seconds > limits_.max_audio_seconds) {
    return InvalidField("magnitude",
                        absl::StrFormat("has %d frames = %.1f s of audio at hop %d and %g Hz, above the server limit "
                                        "--max-audio-seconds=%g",
                                        frames, implied_seconds, config->stft.hop_length, config->sample_rate,
                                        limits_.max_audio_seconds));
  }
  absl::StatusOr<InversionOptions> options =
      ToInversionOptions(request.options(), /*mel_input=*/false, bins, frames, limits_, "options");
  if (!options.ok()) return options.status();
  if (request.has_phase()) {
    absl::StatusOr<RealMatrix> phase = TensorToRealMatrix(request.phase(), "phase");
    if (!phase.ok()) return phase.status();
    if (phase->rows() != magnitude->rows() || phase->cols() != magnitude->cols()) {
      return InvalidField("phase", absl::StrFormat("must have the magnitude's shape (bins=%d, frames=%d), got (%d, %d)",
                                                   magnitude->rows(), magnitude->cols(), phase->rows(), phase->cols()));
    }
    options->init = PhaseInit::kGiven;
    options->initial_phase = *std::move(phase);
  }
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, limits_, "output"); !s.ok()) {
    return s;
  }
  // A preset with its own framing (HiFi-GAN's outer padding, Whisper's dropped
  // last frame) inverts on that framing, so the audio lines up with the
  // signal its magnitude came from.
  std::shared_ptr<const FeatureExtractor> framing;
  if (config->framing != Framing::kStft || config->drop_last_frame) {
    absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = extractors_.Get(*config);
    if (!cached.ok()) return WithConfigField(cached.status(), "config");
    framing = *std::move(cached);
  }
  std::optional<int64_t> resize_to;
  if (request.output().has_length_samples()) {
    const int64_t length = request.output().length_samples();
    const bool exact = framing ? FeatureLayout(*framing, frames, length).ok() : StftLayout(*stft, frames, length).ok();
    if (exact) {
      options->length = length;
    } else {
      resize_to = length;
    }
  }
  options->check = job.Checker();
  options->max_threads = pool_->ThreadsForRunningJob();  // idle workers lend their cores
  SetProgress(job, request.options(), &*options);

  absl::StatusOr<InversionResult> result =
      framing ? InvertMagnitude(*framing, *magnitude, *options) : InvertMagnitude(*stft, *magnitude, *options);
  if (!result.ok()) return AttributeInversionError(result.status(), "", "magnitude");
  if (resize_to) result->audio.resize(static_cast<size_t>(*resize_to), 0.0f);

  if (absl::Status s = EncodeAudioMessage(result->audio, config->sample_rate, request.output().encoding(),
                                          response->mutable_audio());
      !s.ok()) {
    return s;
  }
  job.audio_seconds = static_cast<double>(result->audio.size()) / config->sample_rate;
  response->set_spectral_convergence_db(result->spectral_convergence_db);
  response->set_iterations_run(result->iterations_run);
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  response->set_stop_reason(result->stop_reason);
  FromFeatureConfig(*config, response->mutable_effective_config());
  response->set_queue_milliseconds(absl::ToDoubleMilliseconds(job.queue_wait));
  return absl::OkStatus();
}

absl::Status SpectrogramService::DoReorder(Job& job, const v1::ReorderRequest& request,
                                           v1::ReorderResponse* response) {
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, "config");
  if (!config.ok()) return config.status();
  ReorderOptions options;
  switch (request.strategy()) {
    case v1::REORDER_STRATEGY_PCA: options.strategy = ReorderStrategy::kPca; break;
    case v1::REORDER_STRATEGY_TSNE: options.strategy = ReorderStrategy::kTsne; break;
    case v1::REORDER_STRATEGY_REVERSE_TIME: options.strategy = ReorderStrategy::kReverseTime; break;
    case v1::REORDER_STRATEGY_REVERSE_FREQUENCY: options.strategy = ReorderStrategy::kReverseFrequency; break;
    case v1::REORDER_STRATEGY_SHUFFLE: options.strategy = ReorderStrategy::kShuffle; break;
    case v1::REORDER_STRATEGY_SORT_BY: options.strategy = ReorderStrategy::kSortBy; break;
    case v1::REORDER_STRATEGY_NEAREST_NEIGHBOR_WALK: options.strategy = ReorderStrategy::kNearestNeighborWalk; break;
    case v1::REORDER_STRATEGY_CUSTOM: options.strategy = ReorderStrategy::kCustom; break;
    default:
      return InvalidField("strategy", absl::StrFormat("is required: one of REORDER_STRATEGY_PCA, _TSNE, _REVERSE_TIME, "
                                                      "_REVERSE_FREQUENCY, _SHUFFLE, _SORT_BY, "
                                                      "_NEAREST_NEIGHBOR_WALK, _CUSTOM; got %d",
                                                      static_cast<int>(request.strategy())));
  }
  options.features.volume_normalize = request.features().volume_normalize();
  options.features.frequency_weighting = request.features().frequency_weighting();
  const v1::TsneOptions& tsne = request.tsne();
  if (tsne.has_perplexity()) options.tsne.perplexity = tsne.perplexity();
  if (tsne.has_learning_rate()) options.tsne.learning_rate = tsne.learning_rate();
  if (tsne.has_iterations()) options.tsne.iterations = tsne.iterations();
  if (tsne.has_theta()) options.tsne.theta = tsne.theta();
  options.tsne.seed = tsne.seed();
  switch (tsne.algorithm()) {
    case v1::TSNE_ALGORITHM_UNSPECIFIED: options.tsne.algorithm = TsneAlgorithm::kAuto; break;
    case v1::TSNE_ALGORITHM_EXACT: options.tsne.algorithm = TsneAlgorithm::kExact; break;
    case v1::TSNE_ALGORITHM_BARNES_HUT: options.tsne.algorithm = TsneAlgorithm::kBarnesHut; break;
    default:
      return InvalidField("tsne.algorithm", absl::StrFormat("has unknown value %d", static_cast<int>(tsne.algorithm())));
  }
  options.seed = request.seed();
  switch (request.sort_key()) {
    case v1::SORT_KEY_UNSPECIFIED:
      if (options.strategy == ReorderStrategy::kSortBy) {
        return InvalidField("sort_key", "is required with REORDER_STRATEGY_SORT_BY: SORT_KEY_RMS, "
                                        "SORT_KEY_SPECTRAL_CENTROID or SORT_KEY_SPECTRAL_FLATNESS");
      }
      break;
    case v1::SORT_KEY_RMS: options.sort_key = SortKey::kRms; break;
    case v1::SORT_KEY_SPECTRAL_CENTROID: options.sort_key = SortKey::kSpectralCentroid; break;
    case v1::SORT_KEY_SPECTRAL_FLATNESS: options.sort_key = SortKey::kSpectralFlatness; break;
    default: return InvalidField("sort_key", absl::StrFormat("has unknown value %d", static_cast<int>(request.sort_key())));
  }
  options.descending = request.descending();
  options.start_frame = request.start_frame();
  options.custom_order.assign(request.custom_order().begin(), request.custom_order().end());
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, limits_, "output"); !s.ok()) return s;
  if (request.output().has_length_samples()) options.length = request.output().length_samples();
  options.check = job.Checker();
  options.max_threads = pool_->ThreadsForRunningJob();
  if (absl::Status s = ValidateReorderOptions(options); !s.ok()) return AttributeLeadingField(s);

  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = extractors_.Get(*config);
  if (!cached.ok()) return WithConfigField(cached.status(), "config");
  const FeatureExtractor& fx = **cached;
  absl::StatusOr<specinv::Audio> audio = DecodeAudioMessage(request.audio(), config->sample_rate, limits_, "audio");
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / config->sample_rate;
  if (absl::Status s = job.Check(); !s.ok()) return s;

  absl::StatusOr<ReorderResult> result = specinv::Reorder(fx, audio->samples, options);
  if (!result.ok()) return AttributeLeadingField(result.status());
  if (absl::Status s = EncodeAudioMessage(result->audio, config->sample_rate, request.output().encoding(),
                                          response->mutable_audio());
      !s.ok()) {
    return s;
  }
  response->mutable_order()->Assign(result->order.begin(), result->order.end());
  response->mutable_embedding()->Assign(result->embedding.begin(), result->embedding.end());
  response->set_num_frames(result->num_frames);
  FromFeatureConfig(*config, response->mutable_effective_config());
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  return absl::OkStatus();
}

absl::Status SpectrogramService::DoTransform(Job& job, const v1::TransformRequest& request,
                                             v1::TransformResponse* response) {
  const bool warp = request.has_mel_warp();
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, "config", /*needs_mel=*/warp);
  if (!config.ok()) return config.status();
  TransformOptions options;
  switch (request.phase()) {
    case v1::PHASE_OPERATION_UNSPECIFIED:
    case v1::PHASE_OPERATION_KEEP: options.phase = PhaseOperation::kKeep; break;
    case v1::PHASE_OPERATION_ZERO: options.phase = PhaseOperation::kZero; break;
    case v1::PHASE_OPERATION_CONJUGATE: options.phase = PhaseOperation::kConjugate; break;
    case v1::PHASE_OPERATION_RANDOM: options.phase = PhaseOperation::kRandom; break;
    case v1::PHASE_OPERATION_RESYNTHESIZE: options.phase = PhaseOperation::kResynthesize; break;
    default: return InvalidField("phase", absl::StrFormat("has unknown value %d", static_cast<int>(request.phase())));
  }
  options.seed = request.seed();
  options.checkerboard = request.checkerboard();
  for (const v1::BandMute& band : request.band_mutes()) {
    options.band_mutes.push_back(specinv::BandMute{band.low_hertz(), band.high_hertz()});
  }
  if (request.has_time_gate()) {
    options.time_gate = specinv::TimeGate{request.time_gate().period_seconds(), request.time_gate().open_fraction()};
  }
  if (warp) {
    options.mel_warp = specinv::MelWarp{request.mel_warp().shift_bins(), request.mel_warp().reverse_time(),
                                        request.mel_warp().flip_frequency()};
  }
  if (absl::Status s = ValidateAudioOutput(request.output(), config->sample_rate, limits_, "output"); !s.ok()) return s;
  if (request.output().has_length_samples()) options.length = request.output().length_samples();

  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> cached = extractors_.Get(*config);
  if (!cached.ok()) return WithConfigField(cached.status(), "config");
  const FeatureExtractor& fx = **cached;
  absl::StatusOr<specinv::Audio> audio = DecodeAudioMessage(request.audio(), config->sample_rate, limits_, "audio");
  if (!audio.ok()) return audio.status();
  job.audio_seconds = static_cast<double>(audio->samples.size()) / config->sample_rate;
  absl::StatusOr<InversionOptions> inversion =
      ToInversionOptions(request.inversion(), /*mel_input=*/warp, config->stft.n_fft / 2 + 1,
                         fx.NumFrames(static_cast<int64_t>(audio->samples.size())), limits_, "inversion");
  if (!inversion.ok()) return inversion.status();
  options.inversion = *std::move(inversion);
  options.inversion.check = job.Checker();
  options.max_threads = pool_->ThreadsForRunningJob();
  if (absl::Status s = ValidateTransformOptions(options, config->sample_rate); !s.ok()) {
    return AttributeLeadingField(s);
  }
  if (absl::Status s = job.Check(); !s.ok()) return s;

  absl::StatusOr<TransformResult> result = specinv::Transform(fx, audio->samples, options);
  if (!result.ok()) return AttributeLeadingField(result.status());
  if (absl::Status s = EncodeAudioMessage(result->audio, config->sample_rate, request.output().encoding(),
                                          response->mutable_audio());
      !s.ok()) {
    return s;
  }
  FromFeatureConfig(*config, response->mutable_effective_config());
  response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - job.start));
  return absl::OkStatus();
}

absl::Status SpectrogramService::DoRender(Job& job, const v1::RenderRequest& request, v1::RenderResponse* response) {
  RenderOptions options;
  switch (request.view()) {
    case v1::RENDER_VIEW_MAGNITUDE: options.view = RenderView::kMagnitude; break;
    case v1::RENDER_VIEW_MEL: options.view = RenderView::kMel; break;
    case v1::RENDER_VIEW_PHASE: options.view = RenderView::kPhase; break;
    case v1::RENDER_VIEW_PHASE_DEINTERLEAVED: options.view = RenderView::kPhaseDeinterleaved; break;
    case v1::RENDER_VIEW_PHASE_FFT2: options.view = RenderView::kPhaseFft2; break;
    case v1::RENDER_VIEW_INSTANTANEOUS_FREQUENCY: options.view = RenderView::kInstantaneousFrequency; break;
    case v1::RENDER_VIEW_GROUP_DELAY: options.view = RenderView::kGroupDelay; break;
    default:
      return InvalidField("view", absl::StrFormat("is required: one of RENDER_VIEW_MAGNITUDE, _MEL, _PHASE, "
                                                  "_PHASE_DEINTERLEAVED, _PHASE_FFT2, _INSTANTANEOUS_FREQUENCY, "
                                                  "_GROUP_DELAY; got %d",
                                                  static_cast<int>(request.view())));
  }
  switch (request.colormap()) {
    case v1::COLORMAP_UNSPECIFIED: break;
    case v1::COLORMAP_VIRIDIS: options.colormap = Colormap::kViridis; break;
    case v1::COLORMAP_MAGMA: options.colormap = Colormap::kMagma; break;
    case v1::COLORMAP_INFERNO: options.colormap = Colormap::kInferno; break;
    case v1::COLORMAP_GRAY: options.colormap = Colormap::kGray; break;
    case v1::COLORMAP_HUE: options.colormap = Colormap::kHue; break;
    case v1::COLORMAP_RED_BLUE: options.colormap = Colormap::kRedBlue; break;
    default:
      return InvalidField("colormap", absl::StrFormat("has unknown value %d", static_cast<int>(request.colormap())));
  }
  switch (request.interpolation()) {
    case v1::INTERPOLATION_UNSPECIFIED:
    case v1::INTERPOLATION_NEAREST: options.interpolation = Interpolation::kNearest; break;
    case v1::INTERPOLATION_BILINEAR: options.interpolation = Interpolation::kBilinear; break;
    default:
      return InvalidField("interpolation",
                          absl::StrFormat("has unknown value %d", static_cast<int>(request.interpolation())));
  }
  options.width = request.width_pixels();
  options.height = request.height_pixels();
  if (request.has_top_db()) options.top_db = request.top_db();
  if (request.has_fmin_hertz()) options.fmin_hertz = request.fmin_hertz();
  if (request.has_fmax_hertz()) options.fmax_hertz = request.fmax_hertz();
  options.color_bar = request.color_bar();
  options.weight_by_magnitude = request.weight_by_magnitude();
  options.max_dimension = limits_.max_image_side_pixels;
  const std::initializer_list<std::pair<absl::string_view, absl::string_view>> renames = {
      {"width", "width_pixels"}, {"height", "height_pixels"}};
  if (absl::Status s = ValidateRenderOptions(options); !s.ok()) return AttributeLeadingField(s, renames);

  const v1::SpectrogramKind kind = request.spectrogram_kind();
  const bool mel = options.view == RenderView::kMel || kind == v1::SPECTROGRAM_KIND_MEL ||
                   kind == v1::SPECTROGRAM_KIND_LOG_MEL;
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(request.config(), limits_, "config", mel);
  if (!config.ok()) return config.status();

  absl::StatusOr<Rendering> rendering;
  switch (request.source_case()) {
    case v1::RenderRequest::kAudio: {
      absl::StatusOr<specinv::Audio> audio =
          DecodeAudioMessage(request.audio(), config->sample_rate, limits_, "audio");
      if (!audio.ok()) return audio.status();
      job.audio_seconds = static_cast<double>(audio->samples.size()) / config->sample_rate;
      if (absl::Status s = job.Check(); !s.ok()) return s;
      rendering = RenderSpectrogram(std::span<const float>(audio->samples), *config, options);
      break;
    }
    case v1::RenderRequest::kSpectrogram: {
      if (kind == v1::SPECTROGRAM_KIND_COMPLEX_STFT) {
        absl::StatusOr<ComplexMatrix> stft = TensorToComplexMatrix(request.spectrogram(), "spectrogram");
        if (!stft.ok()) return stft.status();
        rendering = RenderSpectrogram(*stft, *config, options);
        break;
      }
      RenderTensorKind tensor_kind;
      switch (kind) {
        case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE: tensor_kind = RenderTensorKind::kStftMagnitude; break;
        case v1::SPECTROGRAM_KIND_PHASE: tensor_kind = RenderTensorKind::kPhase; break;
        case v1::SPECTROGRAM_KIND_MEL: tensor_kind = RenderTensorKind::kMel; break;
        case v1::SPECTROGRAM_KIND_LOG_MEL: tensor_kind = RenderTensorKind::kLogMel; break;
        default:
          return InvalidField("spectrogram_kind",
                              absl::StrFormat("is required with spectrogram (what the tensor holds); got %d",
                                              static_cast<int>(kind)));
      }
      absl::StatusOr<RealMatrix> tensor = TensorToRealMatrix(request.spectrogram(), "spectrogram");
      if (!tensor.ok()) return tensor.status();
      rendering = RenderSpectrogram(*tensor, tensor_kind, *config, options);
      break;
    }
    case v1::RenderRequest::SOURCE_NOT_SET:
      return InvalidField("source", "is required: set audio or spectrogram");
  }
  if (!rendering.ok()) {
    absl::Status s = rendering.status();
    // Shape errors about the given tensor.
    if (request.source_case() == v1::RenderRequest::kSpectrogram && absl::StrContains(s.message(), "must have shape")) {
      return WithField(s, "spectrogram");
    }
    return AttributeLeadingField(s, renames);
  }
  absl::StatusOr<std::string> png = EncodePng(rendering->image);
  if (!png.ok()) return png.status();
  response->set_png_data(*std::move(png));
  response->set_width_pixels(rendering->image.width);
  response->set_height_pixels(rendering->image.height);
  response->set_value_min(rendering->value_min);
  response->set_value_max(rendering->value_max);
  response->set_value_unit(rendering->value_unit);
  FromFeatureConfig(*config, response->mutable_effective_config());
  return absl::OkStatus();
}

}  // namespace specinv::server
