// Copyright specinv authors.

#include "server/call.h"

#include <algorithm>
#include <exception>
#include <new>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/logging.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

// The client's request id when it is a sane token, else a fresh one.
std::string SaneRequestId(absl::string_view id) {
  const bool sane = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  return sane ? std::string(id) : NewRequestId();
}

std::string RequestIdOf(const grpc::CallbackServerContext& ctx) {
  auto it = ctx.client_metadata().find("x-request-id");
  if (it == ctx.client_metadata().end()) return NewRequestId();
  return SaneRequestId(absl::string_view(it->second.data(), it->second.size()));
}

// Log lines carry at most this much of an error message.
constexpr size_t kMaxLoggedMessageChars = 1024;

}  // namespace

std::string BoundedEcho(absl::string_view text) {
  if (text.size() <= kMaxEchoChars) return std::string(text);
  return absl::StrCat(text.substr(0, kMaxEchoChars), "... (", text.size(), " characters)");
}

absl::Status RunContained(absl::string_view what, absl::string_view request_id,
                          const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("out of memory while running %s (request id %s); the server is short of memory: retry "
                        "later or send a smaller request",
                        what, request_id));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrFormat("internal error while running %s (request id %s): %s", what,
                                               request_id, BoundedEcho(e.what())));
  } catch (...) {
    return absl::InternalError(
        absl::StrFormat("internal error while running %s (request id %s): unknown exception", what, request_id));
  }
}

CallLifecycle::CallLifecycle(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth,
                             const ServiceLimits* limits)
    : pool_(pool), metrics_(metrics), auth_(auth), limits_(limits) {}

std::shared_ptr<CallRecord> CallLifecycle::Begin(const char* method, grpc::CallbackServerContext* ctx,
                                                 absl::Status* auth) const {
  auto call = std::make_shared<CallRecord>();
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
  *auth = auth_->Check(ctx->client_metadata());
  return call;
}

std::shared_ptr<CallRecord> CallLifecycle::Begin(const char* method, const HttpOrigin& origin,
                                                 absl::Status* auth) const {
  auto call = std::make_shared<CallRecord>();
  call->method = method;
  call->request_id = SaneRequestId(origin.request_id);
  call->peer = origin.peer;
  call->start = absl::Now();
  call->deadline = origin.deadline;
  call->cancelled = origin.cancelled;
  metrics_->RpcStarted();
  if (origin.authorization.has_value()) {
    *auth = auth_->CheckAuthorization(absl::string_view(*origin.authorization));
  } else {
    *auth = auth_->CheckAuthorization(std::nullopt);
  }
  return call;
}

absl::Status CallLifecycle::Shed() const { return pool_->RefuseIfSaturated(); }

absl::Status CallLifecycle::Admit(CallRecord& call, const Admission& admission) const {
  call.cost = admission.cost.ToString();
  return server::Admit(admission, *limits_);
}

absl::Status CallLifecycle::Submit(std::shared_ptr<CallRecord> call, grpc::CallbackServerContext* ctx,
                                   std::function<absl::Status(Job&)> body,
                                   std::function<void(const absl::Status&)> done,
                                   std::function<void(const v1::InversionProgress&)> on_progress) const {
  return pool_->TrySubmit([this, call = std::move(call), ctx, body = std::move(body), done = std::move(done),
                           on_progress = std::move(on_progress)](absl::Duration queue_wait) {
    call->queue_ms = absl::ToDoubleMilliseconds(queue_wait);
    metrics_->JobStarted(call->method, absl::ToDoubleSeconds(queue_wait));
    Job job = ctx != nullptr ? Job(ctx, queue_wait, pool_->ThreadsForRunningJob())
                             : Job(call->deadline, queue_wait, pool_->ThreadsForRunningJob(), call->cancelled);
    job.on_progress = on_progress;
    absl::Status s = job.Check();  // cancelled or expired while queued: dropped, never run
    if (s.ok()) {
      const absl::Time started = absl::Now();
      s = RunContained(call->method, call->request_id, [&] { return body(job); });
      metrics_->JobFinished(call->method, absl::ToDoubleSeconds(absl::Now() - started));
    }
    call->audio_seconds = job.audio_seconds;
    pool_->ReleaseCurrentJob();  // free before answering: the client may call again at once
    done(s);
  });
}

void CallLifecycle::End(CallRecord& call, grpc::CallbackServerContext* ctx, const absl::Status& status) const {
  if (ctx != nullptr) {
    if (auto delay = RetryDelayOf(status)) ctx->AddTrailingMetadata(kRetryPushbackKey, RetryPushbackMetadata(*delay));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - call.start);
  const std::string code = absl::StatusCodeToString(status.code());
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
              {"cost", call.cost}, {"peer", call.peer}});
  } else {
    const absl::string_view message = status.message();
    std::string logged(message.substr(0, kMaxLoggedMessageChars));
    if (message.size() > kMaxLoggedMessageChars) absl::StrAppend(&logged, "... (", message.size(), " characters)");
    LogEvent(level, "rpc",
             {{"request_id", call.request_id}, {"method", call.method}, {"status", code},
              {"duration_ms", seconds * 1e3}, {"audio_s", audio_seconds}, {"queue_ms", call.queue_ms.load()},
              {"cost", call.cost}, {"peer", call.peer}, {"error", logged}});
  }
}

}  // namespace specinv::server
