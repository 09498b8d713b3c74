// Copyright specinv authors.

#include "specinv/base/parallel.h"

#include <atomic>
#include <new>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace specinv {
namespace {

constexpr int64_t kN = 64;

// Runs a full ParallelFor and checks every index is visited exactly once.
void ExpectPoolWorks() {
  std::vector<std::atomic<int>> visits(kN);
  ParallelFor(kN, 8, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < kN; ++i) EXPECT_EQ(visits[static_cast<size_t>(i)].load(), 1) << i;
}

TEST(ParallelForTest, CoversEveryIndexOnce) { ExpectPoolWorks(); }

// The chunk holding the last index runs on a helper thread when there is one.
TEST(ParallelForTest, HelperChunkExceptionIsRethrownOnCaller) {
  std::atomic<int> chunks{0};
  EXPECT_THROW(ParallelFor(kN, 8,
                           [&](int64_t, int64_t end) {
                             chunks.fetch_add(1);
                             if (end == kN) throw std::runtime_error("helper chunk failed");
                           }),
               std::runtime_error);
  EXPECT_GE(chunks.load(), 1);
  ExpectPoolWorks();
}

// The chunk holding index 0 runs on the calling thread.
TEST(ParallelForTest, CallerChunkExceptionIsRethrownAfterAllChunks) {
  std::atomic<int> running{0};
  std::atomic<int> finished{0};
  EXPECT_THROW(ParallelFor(kN, 8,
                           [&](int64_t begin, int64_t) {
                             running.fetch_add(1);
                             if (begin == 0) throw std::bad_alloc();
                             finished.fetch_add(1);
                           }),
               std::bad_alloc);
  // Every chunk that started has finished by the time the exception arrives.
  EXPECT_EQ(running.load(), finished.load() + 1);
  ExpectPoolWorks();
}

TEST(ParallelForTest, EveryChunkThrowingRethrowsOneAndPoolSurvives) {
  for (int round = 0; round < 20; ++round) {
    EXPECT_THROW(ParallelFor(kN, 8,
                             [&](int64_t begin, int64_t) {
                               if (begin == 0) throw std::bad_alloc();
                               throw std::runtime_error("chunk failed");
                             }),
                 std::exception);
  }
  ExpectPoolWorks();
}

TEST(ParallelForTest, InlineExceptionPropagates) {
  EXPECT_THROW(ParallelFor(kN, 1, [](int64_t, int64_t) { throw std::runtime_error("inline"); }),
               std::runtime_error);
  ExpectPoolWorks();
}

}  // namespace
}  // namespace specinv
