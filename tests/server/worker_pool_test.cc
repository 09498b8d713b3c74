// Copyright specinv authors.

#include "server/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/status_mapping.h"
#include "specinv/base/parallel.h"

namespace specinv::server {
namespace {

TEST(WorkerPoolTest, RunsEveryAcceptedJob) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(3, 100);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { ++ran; }).ok());
    pool.Stop();
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(WorkerPoolTest, CapacityIsWorkersPlusQueueDepth) {
  WorkerPool pool(2, 3);
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int started = 0;
  auto blocking = [&](absl::Duration) {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  };
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(pool.RefuseIfSaturated().ok()) << i;  // room: nothing counted
    ASSERT_TRUE(pool.TrySubmit(blocking).ok()) << i;
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started == 2; });
  }
  EXPECT_EQ(pool.busy(), 2);
  EXPECT_EQ(pool.queued(), 3);
  // Shedding answers as TrySubmit would, before any job exists.
  absl::Status shed = pool.RefuseIfSaturated();
  EXPECT_EQ(shed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(RetryDelayOf(shed).has_value());
  EXPECT_EQ(pool.rejected(), 1);
  EXPECT_EQ(pool.queued(), 3);
  absl::Status rejected = pool.TrySubmit(blocking);
  EXPECT_EQ(rejected.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(RetryDelayOf(rejected).has_value());
  EXPECT_EQ(pool.rejected(), 2);
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  pool.Stop();
  EXPECT_EQ(started, 5);
  EXPECT_EQ(pool.TrySubmit(blocking).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(pool.RefuseIfSaturated().code(), absl::StatusCode::kUnavailable);
}

// A job alone in the pool may use the idle workers' cores; with every worker
// busy it gets one thread.
TEST(WorkerPoolTest, RunningJobBorrowsIdleWorkers) {
  WorkerPool pool(2, 4);
  const int cap = std::max(1, HardwareThreads());
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int alone = 0, crowded = 0, started = 0;
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) {
                    std::unique_lock<std::mutex> lock(mu);
                    alone = pool.ThreadsForRunningJob();
                    ++started;
                    cv.notify_all();
                    cv.wait(lock, [&] { return open; });
                  }).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started == 1; });
  }
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) {
                    std::lock_guard<std::mutex> lock(mu);
                    crowded = pool.ThreadsForRunningJob();
                    ++started;
                  }).ok());
  // The second job runs while the first still holds its worker.
  for (int i = 0; i < 500; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(mu);
    if (started == 2) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  pool.Stop();
  EXPECT_EQ(alone, std::min(2, cap));
  EXPECT_EQ(crowded, 1);
}

// A job that has released its slot (its answer is on the way) no longer
// counts: with one worker and no queue the next job is accepted at once.
TEST(WorkerPoolTest, ReleasedJobFreesItsWorkerForTheNextCall) {
  WorkerPool pool(1, 0);
  std::mutex mu;
  std::condition_variable cv;
  bool released = false, open = false;
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) {
                    pool.ReleaseCurrentJob();
                    pool.ReleaseCurrentJob();  // idempotent
                    std::unique_lock<std::mutex> lock(mu);
                    released = true;
                    cv.notify_all();
                    cv.wait(lock, [&] { return open; });
                  }).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return released; });
  }
  EXPECT_EQ(pool.busy(), 0);
  std::atomic<int> second{0};
  EXPECT_TRUE(pool.TrySubmit([&](absl::Duration) { ++second; }).ok());
  // A second one is refused: the released job's successor holds the queue.
  EXPECT_EQ(pool.TrySubmit([](absl::Duration) {}).code(), absl::StatusCode::kResourceExhausted);
  pool.ReleaseCurrentJob();  // not a worker thread: no effect
  EXPECT_EQ(pool.busy(), 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  pool.Stop();
  EXPECT_EQ(second.load(), 1);
  EXPECT_EQ(pool.busy(), 0);
}

TEST(WorkerPoolTest, ZeroQueueAcceptsOnlyWhenAWorkerIsIdle) {
  WorkerPool pool(1, 0);
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool started = false;
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) {
                    std::unique_lock<std::mutex> lock(mu);
                    started = true;
                    cv.notify_all();
                    cv.wait(lock, [&] { return open; });
                  })
                  .ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  EXPECT_EQ(pool.TrySubmit([](absl::Duration) {}).code(), absl::StatusCode::kResourceExhausted);
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
}

TEST(WorkerPoolTest, JobsSeeTheirQueueWait) {
  WorkerPool pool(1, 4);
  std::vector<absl::Duration> waits(2);
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration w) {
                    waits[0] = w;
                    absl::SleepFor(absl::Milliseconds(20));
                  })
                  .ok());
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration w) { waits[1] = w; }).ok());
  pool.Stop();
  EXPECT_GE(waits[1], absl::Milliseconds(15));
  EXPECT_GE(pool.RetryHint(), absl::Milliseconds(10));
}

TEST(WorkerPoolTest, RetryHintIsTheTimeToDrainHalfTheQueue) {
  // One worker, a queue of 8: after jobs of 40 ms, half the queue (4 jobs)
  // drains in about 160 ms. The mean is an average of recent jobs that starts
  // from the first one, so the hint lies between 4 x 40 ms and 4 x the
  // slowest job's time.
  WorkerPool pool(1, 8);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.TrySubmit([](absl::Duration) { absl::SleepFor(absl::Milliseconds(40)); }).ok());
  }
  pool.Stop();
  EXPECT_GE(pool.RetryHint(), absl::Milliseconds(4 * 40));
  EXPECT_LT(pool.RetryHint(), absl::Milliseconds(4 * 400));
}

}  // namespace
}  // namespace specinv::server
