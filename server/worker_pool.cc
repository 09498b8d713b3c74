// Copyright specinv authors.

#include "server/worker_pool.h"

#include <algorithm>
#include <functional>
#include <exception>
#include <string>

#include "absl/strings/str_format.h"
#include "server/logging.h"
#include "server/status_mapping.h"
#include "specinv/base/parallel.h"

namespace specinv::server {

WorkerPool::WorkerPool(int workers, int queue_capacity) : queue_capacity_(std::max(0, queue_capacity)) {
  const int n = std::max(1, workers);
  threads_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Stop(); }

absl::Status WorkerPool::TrySubmit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("server is shutting down; not accepting new jobs");
    // Room if a worker is idle or a queue slot is free: jobs in the system
    // (waiting + running) below workers + capacity.
    if (SaturatedLocked()) return BusyLocked();
    queue_.push_back(Entry{std::move(job), absl::Now()});
  }
  cv_.notify_one();
  NotifySaturation();
  return absl::OkStatus();
}

absl::Status WorkerPool::RefuseIfSaturated() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError("server is shutting down; not accepting new jobs");
  return SaturatedLocked() ? BusyLocked() : absl::OkStatus();
}

absl::Status WorkerPool::BusyLocked() {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  return WithRetryDelay(absl::ResourceExhaustedError(absl::StrFormat(
                            "server busy: all %d workers are busy and the job queue is full (--queue-depth=%d); "
                            "retry later",
                            threads_.size(), queue_capacity_)),
                        RetryHint());
}

bool WorkerPool::SaturatedLocked() const {
  const int64_t in_system = static_cast<int64_t>(queue_.size()) + busy_.load(std::memory_order_relaxed);
  return in_system >= static_cast<int64_t>(threads_.size()) + queue_capacity_;
}

void WorkerPool::NotifySaturation() {
  if (!on_saturation_) return;
  // One notifier at a time, so reports arrive in the order of the states.
  std::lock_guard<std::mutex> report(saturation_mu_);
  bool saturated = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    saturated = SaturatedLocked();
  }
  if (saturated == saturated_reported_) return;
  saturated_reported_ = saturated;
  on_saturation_(saturated);
}

void WorkerPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

int WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

int WorkerPool::ThreadsForRunningJob() const {
  int idle = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle = workers() - busy_.load(std::memory_order_relaxed) - static_cast<int>(queue_.size());
  }
  return std::clamp(1 + idle, 1, std::max(1, HardwareThreads()));
}

namespace {
// The pool whose job this worker thread is running, until the job releases
// its slot (ReleaseCurrentJob) or returns.
thread_local const WorkerPool* tls_unreleased_job_pool = nullptr;
}  // namespace

void WorkerPool::ReleaseCurrentJob() {
  if (tls_unreleased_job_pool != this) return;
  tls_unreleased_job_pool = nullptr;
  busy_.fetch_sub(1, std::memory_order_relaxed);
  NotifySaturation();
}

absl::Duration WorkerPool::RetryHint() const {
  const int64_t mean_us = mean_job_us_.load(std::memory_order_relaxed);
  const int64_t half_queue = std::max<int64_t>(1, queue_capacity_ / 2);
  const int64_t drain_us = mean_us * half_queue / std::max<int64_t>(1, static_cast<int64_t>(threads_.size()));
  return std::max(absl::Milliseconds(10), absl::Microseconds(drain_us));
}

void WorkerPool::Loop() {
  for (;;) {
    Entry entry;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      entry = std::move(queue_.front());
      queue_.pop_front();
      busy_.fetch_add(1, std::memory_order_relaxed);
    }
    const absl::Time start = absl::Now();
    tls_unreleased_job_pool = this;
    // Jobs contain their own exceptions (CallLifecycle::Submit); this is the
    // last line of defence so a worker thread never dies.
    try {
      entry.job(start - entry.enqueued);
    } catch (const std::exception& e) {
      LogEvent(spdlog::level::err, "worker", {{"error", "a job threw"}, {"what", std::string(e.what()).substr(0, 256)}});
    } catch (...) {
      LogEvent(spdlog::level::err, "worker", {{"error", "a job threw a non-standard exception"}});
    }
    const int64_t took_us = absl::ToInt64Microseconds(absl::Now() - start);
    // EWMA with weight 1/8; races between workers only blur the estimate.
    const int64_t old = mean_job_us_.load(std::memory_order_relaxed);
    mean_job_us_.store(old == 0 ? took_us : old + (took_us - old) / 8, std::memory_order_relaxed);
    ReleaseCurrentJob();  // unless the job already did
  }
}

}  // namespace specinv::server
