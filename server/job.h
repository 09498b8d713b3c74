// Copyright specinv authors.
//
// Job: what an RPC body sees while it runs on a worker thread: the call's
// deadline and cancellation (Check, polled by every long core loop through
// Checker), the threads it may use, the time it waited in the queue, its
// progress sink and the audio seconds it processed (for metrics).
//
// A Job is created by CallLifecycle::Submit on the worker and lives for the
// body's run; it is not shared between threads except through Checker,
// whose closure is thread-safe (it reads the deadline and the context's
// cancellation flag).

#ifndef SPECINV_SERVER_JOB_H_
#define SPECINV_SERVER_JOB_H_

#include <atomic>
#include <functional>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "specinv/v1/inversion.pb.h"

namespace specinv::server {

// The call's deadline, or InfiniteFuture when it has none.
absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx);

class Job {
 public:
  // `ctx` null: a direct (in-process) job without deadline or cancellation.
  Job(grpc::CallbackServerContext* ctx, absl::Duration queue_wait, int max_threads);
  // A direct job that stops at `deadline` (tests, fuzzing).
  Job(absl::Time deadline, int max_threads);
  // A job without a gRPC context (HTTP calls) that stops at `deadline` or
  // when `*cancelled` (if given) turns true.
  Job(absl::Time deadline, absl::Duration queue_wait, int max_threads,
      const std::atomic<bool>* cancelled = nullptr);

  // DeadlineExceeded past the call's deadline, Cancelled when the client
  // cancelled (or the server is shutting down past its grace period).
  absl::Status Check() const;
  // Check as a callable for core options' `check` fields.
  std::function<absl::Status()> Checker() const;

  const absl::Time start = absl::Now();
  const absl::Duration queue_wait;
  // Threads the job may use for its own frames (>= 1): itself plus idle workers.
  const int max_threads;
  double audio_seconds = 0.0;
  // Streaming RPCs: receives progress events (empty for unary calls).
  std::function<void(const v1::InversionProgress&)> on_progress;

 private:
  grpc::CallbackServerContext* ctx_;
  absl::Time deadline_;
  const std::atomic<bool>* cancelled_ = nullptr;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_JOB_H_
