// Copyright specinv authors.
//
// WorkerPool: a fixed number of threads that run DSP jobs from a bounded
// FIFO queue. It never queues without bound: TrySubmit fails at once with
// ResourceExhausted (with a retry hint attached, see status_mapping.h) when
// `queue_capacity` jobs are already waiting for a worker. gRPC threads only
// submit; DSP work runs here.
//
// Jobs should contain their own exceptions (CallLifecycle::Submit does); one
// that escapes anyway is caught and logged, and the worker goes on. A job
// that is still queued when the pool is destroyed is run before the threads
// exit (Stop drains; a job whose call is gone stops at its first check).
//
// Thread-safe.

#ifndef SPECINV_SERVER_WORKER_POOL_H_
#define SPECINV_SERVER_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace specinv::server {

class WorkerPool {
 public:
  // A job receives the time it spent queued.
  using Job = std::function<void(absl::Duration queue_wait)>;

  // workers >= 1, queue_capacity >= 0.
  WorkerPool(int workers, int queue_capacity);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`. ResourceExhausted ("server busy: ...", retry hint attached)
  // when the queue is full, Unavailable after Stop. Never blocks.
  absl::Status TrySubmit(Job job);

  // TrySubmit's refusal if a job submitted now would be refused (counted as
  // rejected), else OK. Lets a caller shed a call before spending anything
  // on it; TrySubmit still decides.
  absl::Status RefuseIfSaturated();

  // Stops accepting jobs, runs the queued ones, joins the threads.
  // Idempotent.
  void Stop();

  int workers() const { return static_cast<int>(threads_.size()); }
  int queue_capacity() const { return queue_capacity_; }
  // Jobs running now.
  int busy() const { return busy_.load(std::memory_order_relaxed); }
  // Jobs waiting now.
  int queued() const;
  // Threads a running job may use for its own frames: itself plus the
  // workers that are idle with nothing queued (at least 1, at most the
  // machine's hardware threads). A job asks when it starts; DSP results are
  // identical for any thread count, only the time changes.
  int ThreadsForRunningJob() const;
  // Called from inside a job of this pool once its work is done but before
  // it answers its call: the worker counts as free from now on, so a client
  // that sends its next call as soon as it has the answer is not turned away
  // by its own finished job. No effect elsewhere or when called again.
  void ReleaseCurrentJob();
  // Jobs rejected because the queue was full, since start.
  int64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

  // Called with true when the pool becomes saturated (every worker busy and
  // the queue full: the next job would be rejected) and with false when it
  // has room again; outside the pool's lock, from the thread that changed
  // it. Set before the first job. Used for readiness.
  void SetSaturationListener(std::function<void(bool saturated)> listener) { on_saturation_ = std::move(listener); }

  // Suggested wait before retrying a rejected job: the expected time for the
  // workers to drain half of a full queue (mean recent job time x
  // max(1, queue capacity / 2) / workers), at least 10 ms. A caller that
  // waits this long still finds queued work ahead of it, so the workers do not
  // run dry, and it does not spend a call on a queue that cannot have moved.
  absl::Duration RetryHint() const;

 private:
  struct Entry {
    Job job;
    absl::Time enqueued;
  };
  void Loop();
  // Calls the listener when saturation changed since the last call.
  void NotifySaturation();
  bool SaturatedLocked() const;
  // The refusal of a full pool (counted), with its retry hint.
  absl::Status BusyLocked();

  const int queue_capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::atomic<int> busy_{0};
  std::atomic<int64_t> rejected_{0};
  std::atomic<int64_t> mean_job_us_{0};  // exponential moving average
  std::vector<std::thread> threads_;
  std::function<void(bool)> on_saturation_;
  std::mutex saturation_mu_;
  bool saturated_reported_ = false;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_WORKER_POOL_H_
