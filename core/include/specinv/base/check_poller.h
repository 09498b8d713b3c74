// Copyright specinv authors.
//
// Cooperative cancellation for loops, including loops split over threads by
// ParallelFor.
//
// Long operations take a `std::function<absl::Status()> check` (Cancelled,
// DeadlineExceeded, ... when the job should stop; OK to go on). A CheckPoller
// wraps one such function for one operation:
//   - Poll() calls it (one call at a time, from any thread) unless an earlier
//     call already failed, and returns false once it has;
//   - Tick(&counter, every) is the cheap form for inner loops: it counts work
//     units in a caller-owned counter and polls once per `every` units;
//   - stopped() is a relaxed atomic read: chunks on other threads use it to
//     stop promptly after one of them saw a failure;
//   - status() is the first failing status (OK while none failed).
// An empty check is never called and never stops. Thread-safe.

#ifndef SPECINV_BASE_CHECK_POLLER_H_
#define SPECINV_BASE_CHECK_POLLER_H_

#include <atomic>
#include <functional>
#include <mutex>

#include "absl/status/status.h"

namespace specinv {

class CheckPoller {
 public:
  // `check` must outlive the poller (may be empty).
  explicit CheckPoller(const std::function<absl::Status()>& check) : check_(check) {}
  CheckPoller(const CheckPoller&) = delete;
  CheckPoller& operator=(const CheckPoller&) = delete;

  // Calls check; true to go on, false once any call has failed.
  bool Poll() {
    if (stopped_.load(std::memory_order_relaxed)) return false;
    if (!check_) return true;
    std::lock_guard<std::mutex> lock(mu_);
    if (!status_.ok()) return false;
    status_ = check_();
    if (status_.ok()) return true;
    stopped_.store(true, std::memory_order_relaxed);
    return false;
  }

  // Counts one unit of work in *counter (owned by the calling thread) and
  // polls every `every` units; between polls only reads stopped().
  bool Tick(int* counter, int every) {
    if (++*counter < every) return !stopped();
    *counter = 0;
    return Poll();
  }

  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

  absl::Status status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  const std::function<absl::Status()>& check_;
  mutable std::mutex mu_;
  absl::Status status_;
  std::atomic<bool> stopped_{false};
};

}  // namespace specinv

#endif  // SPECINV_BASE_CHECK_POLLER_H_
