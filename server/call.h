// Copyright specinv authors.
//
// CallLifecycle: the life of every RPC, shared by unary, server-streaming,
// batch and bidirectional calls, so that a new RPC gets each step without
// anyone remembering it:
//
//   Begin     request id (the client's x-request-id when sane, else a new
//             one; sent back in trailing metadata), peer, start time, the
//             started-RPC counter, and authentication (health is exempt:
//             it is not this service).
//   Admit     the job's predicted cost against the limits (admission.h).
//   Submit    the job on the worker pool. A job whose call was cancelled or
//             whose deadline passed while it was queued is dropped, never
//             run. The body runs inside exception containment:
//             std::bad_alloc becomes RESOURCE_EXHAUSTED ("out of memory
//             while ..."), any other exception INTERNAL with the request id;
//             the worker is freed either way and the call always finishes.
//   End       the retry hint (only on a status that carries one: a full
//             queue or too many streams; deterministic refusals carry none),
//             metrics, and one log line with the error message cut to a
//             bounded length.
//
// Thread-safe. The pointers given at construction must outlive it.

#ifndef SPECINV_SERVER_CALL_H_
#define SPECINV_SERVER_CALL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/admission.h"
#include "server/auth.h"
#include "server/job.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace specinv::server {

// Per-call record, shared by the gRPC side and the worker job.
struct CallRecord {
  std::string method;
  std::string request_id;
  std::string peer;
  absl::Time start;
  std::atomic<double> audio_seconds{0.0};
  std::atomic<double> queue_ms{0.0};
  std::string cost;  // the admitted cost, for the log line (empty: none)
  // Calls without a gRPC context (HTTP): when the job must stop.
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancelled = nullptr;
};

// What an HTTP call brings in place of a gRPC context.
struct HttpOrigin {
  std::string request_id;                    // X-Request-Id (kept when sane)
  std::optional<std::string> authorization;  // Authorization header
  std::string peer;                          // "ipv4:addr:port"
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancelled = nullptr;  // set when the server gives up on the call
};

// Runs `body`, turning any exception into a status (see the file comment).
// `what` names the work for the message ("InvertMel").
absl::Status RunContained(absl::string_view what, absl::string_view request_id,
                          const std::function<absl::Status()>& body);

// Longest user-supplied text echoed into a status message or a log line.
inline constexpr size_t kMaxEchoChars = 128;
// `text` cut to kMaxEchoChars characters ("..." and the full length appended
// when cut).
std::string BoundedEcho(absl::string_view text);

class CallLifecycle {
 public:
  CallLifecycle(WorkerPool* pool, Metrics* metrics, const TokenAuthenticator* auth, const ServiceLimits* limits);

  // Starts the call's record (see the file comment). `*auth` receives the
  // authentication result: the caller ends the call with it when not OK.
  std::shared_ptr<CallRecord> Begin(const char* method, grpc::CallbackServerContext* ctx, absl::Status* auth) const;
  // The same for an HTTP call (server/http/): the request id is sent back by
  // the caller as an X-Request-Id header; Submit and End take a null ctx.
  std::shared_ptr<CallRecord> Begin(const char* method, const HttpOrigin& origin, absl::Status* auth) const;

  // The pool's refusal when it is saturated now (WorkerPool::
  // RefuseIfSaturated): a call is shed before its request is parsed or
  // prepared, the work a saturated server can least afford.
  absl::Status Shed() const;

  // Admission of a prepared job (admission.h); records the cost for the log.
  absl::Status Admit(CallRecord& call, const Admission& admission) const;

  // Queues `body` for a worker; `done` receives its status on the worker
  // thread, after the worker has been released (it must finish the call).
  // Returns the pool's refusal (queue full: RESOURCE_EXHAUSTED with a retry
  // hint; shutting down: UNAVAILABLE), in which case nothing runs.
  // `on_progress`, if set, is given to the Job.
  absl::Status Submit(std::shared_ptr<CallRecord> call, grpc::CallbackServerContext* ctx,
                      std::function<absl::Status(Job&)> body, std::function<void(const absl::Status&)> done,
                      std::function<void(const v1::InversionProgress&)> on_progress = {}) const;

  // Retry-hint metadata when the status carries one, metrics, log line.
  // Must be called before the call's Finish (it adds trailing metadata).
  void End(CallRecord& call, grpc::CallbackServerContext* ctx, const absl::Status& status) const;

  WorkerPool* pool() const { return pool_; }
  const ServiceLimits& limits() const { return *limits_; }

 private:
  WorkerPool* pool_;
  Metrics* metrics_;
  const TokenAuthenticator* auth_;
  const ServiceLimits* limits_;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_CALL_H_
