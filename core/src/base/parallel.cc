// Copyright specinv authors.

#include "specinv/base/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace specinv {
namespace {

thread_local bool t_inside_parallel = false;

// A process-wide pool of HardwareThreads()-1 helper threads running chunks.
// Tasks must not throw (ParallelFor wraps every chunk); a task that does
// anyway is swallowed so the helper thread survives.
class HelperPool {
 public:
  static HelperPool& Instance() {
    static HelperPool* pool = new HelperPool(std::max(0, HardwareThreads() - 1));  // never destroyed
    return *pool;
  }
  int size() const { return static_cast<int>(threads_.size()); }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  explicit HelperPool(int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] { Loop(); });
      threads_.back().detach();
    }
  }
  void Loop() {
    t_inside_parallel = true;
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      try {
        task();
      } catch (...) {  // never let an exception end the helper thread (std::terminate)
      }
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
};

}  // namespace

int HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ParallelFor(int64_t n, int max_threads, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  HelperPool* pool = nullptr;
  int threads = 1;
  if (max_threads > 1 && !t_inside_parallel && n > 1) {
    pool = &HelperPool::Instance();
    threads = static_cast<int>(std::min<int64_t>({static_cast<int64_t>(max_threads),
                                                  static_cast<int64_t>(pool->size() + 1), n}));
  }
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  // Shared by the chunks; lives on this frame until every chunk has finished.
  std::mutex mu;
  std::condition_variable done_cv;
  int pending = threads - 1;
  std::exception_ptr first_error;
  bool failed = false;  // guarded by mu; chunks not yet started skip their work
  const int64_t chunk = (n + threads - 1) / threads;
  auto record = [&](std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mu);
    if (!first_error) first_error = std::move(error);
    failed = true;
  };
  for (int t = 1; t < threads; ++t) {
    const int64_t begin = t * chunk;
    const int64_t end = std::min(n, begin + chunk);
    try {
      pool->Submit([&, begin, end] {
        bool skip;
        {
          std::lock_guard<std::mutex> lock(mu);
          skip = failed;
        }
        if (!skip && begin < end) {
          try {
            fn(begin, end);
          } catch (...) {
            record(std::current_exception());
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        if (--pending == 0) done_cv.notify_one();
      });
    } catch (...) {  // Submit failed (allocation): run the chunk here instead
      {
        std::lock_guard<std::mutex> lock(mu);
        --pending;
      }
      if (begin < end) {
        t_inside_parallel = true;
        try {
          fn(begin, end);
        } catch (...) {
          record(std::current_exception());
        }
        t_inside_parallel = false;
      }
    }
  }
  t_inside_parallel = true;
  try {
    fn(0, std::min(n, chunk));
  } catch (...) {
    record(std::current_exception());
  }
  t_inside_parallel = false;
  {
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return pending == 0; });
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace specinv
