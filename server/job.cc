// Copyright specinv authors.

#include "server/job.h"

#include <chrono>

namespace specinv::server {
namespace {
// Cancellations this close to the deadline are reported as deadline exceeded.
constexpr absl::Duration kDeadlineSkew = absl::Milliseconds(250);
}  // namespace

absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  // gRPC reports "no deadline" as a time far in the future.
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

Job::Job(grpc::CallbackServerContext* ctx, absl::Duration wait, int threads)
    : queue_wait(wait),
      max_threads(threads < 1 ? 1 : threads),
      ctx_(ctx),
      deadline_(ctx != nullptr ? DeadlineOf(*ctx) : absl::InfiniteFuture()) {}

Job::Job(absl::Time deadline, int threads) : Job(deadline, absl::ZeroDuration(), threads) {}

Job::Job(absl::Time deadline, absl::Duration wait, int threads, const std::atomic<bool>* cancelled)
    : queue_wait(wait),
      max_threads(threads < 1 ? 1 : threads),
      ctx_(nullptr),
      deadline_(deadline),
      cancelled_(cancelled) {}

absl::Status Job::Check() const {
  if (absl::Now() >= deadline_) return absl::DeadlineExceededError("the call's deadline passed; the job was stopped");
  if (ctx_ != nullptr && ctx_->IsCancelled()) {
    // A client whose deadline expires cancels the call; the server's copy of
    // the deadline (receipt time + timeout) lags by the transit time.
    if (absl::Now() + kDeadlineSkew >= deadline_) {
      return absl::DeadlineExceededError("the call's deadline passed; the job was stopped");
    }
    return absl::CancelledError("the call was cancelled; the job was stopped");
  }
  if (cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed)) {
    return absl::CancelledError("the server is shutting down past its grace period; the job was stopped");
  }
  return absl::OkStatus();
}

std::function<absl::Status()> Job::Checker() const {
  return [this] { return Check(); };
}

}  // namespace specinv::server
