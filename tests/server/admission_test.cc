// Copyright specinv authors.
//
// Admission (admission.h), exception containment and bounded echoes
// (call.h), readiness signals of the pool and the stream registry.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/admission.h"
#include "server/call.h"
#include "server/status_mapping.h"
#include "server/stream_vocode.h"
#include "server/worker_pool.h"

namespace specinv::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Admission Typical() {
  Admission a;
  a.cost.peak_bytes = 10 << 20;
  a.cost_field = "config.hop_length";
  a.cost_detail = "1000 samples -> 10 frames";
  a.response_bytes = 1 << 20;
  a.output_seconds = 5.0;
  a.output_field = "output.length_samples";
  a.input_seconds = 2.0;
  a.input_field = "audio.pcm_data";
  return a;
}

TEST(AdmissionTest, AdmitsWhatFits) { EXPECT_TRUE(Admit(Typical(), ServiceLimits{}).ok()); }

TEST(AdmissionTest, RefusesMemoryNamingFieldLimitAndFlag) {
  ServiceLimits limits;
  limits.max_job_memory_bytes = 64 << 20;
  Admission a = Typical();
  a.cost.peak_bytes = int64_t{3} << 30;
  const absl::Status s = Admit(a, limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), StartsWith("config.hop_length "));
  EXPECT_THAT(std::string(s.message()), HasSubstr("3072 MiB"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("--max-job-memory-mb"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("1000 samples -> 10 frames"));
  EXPECT_EQ(FieldOf(s), "config.hop_length");
  EXPECT_FALSE(RetryDelayOf(s).has_value());  // deterministic: never retried
}

TEST(AdmissionTest, RefusesOutputAudioAboveTheLimit) {
  Admission a = Typical();
  a.output_seconds = 1393.0;
  const absl::Status s = Admit(a, ServiceLimits{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "output.length_samples");
  EXPECT_THAT(std::string(s.message()), HasSubstr("--max-audio-seconds=600"));
}

TEST(AdmissionTest, RefusesDecodedInputAboveTheLimit) {
  Admission a = Typical();
  a.input_seconds = 601.0;
  const absl::Status s = Admit(a, ServiceLimits{});
  EXPECT_EQ(FieldOf(s), "audio.pcm_data");
}

TEST(AdmissionTest, RefusesAResponseLargerThanAMessageBeforeComputingIt) {
  Admission a = Typical();
  a.response_bytes = int64_t{1} << 30;
  const absl::Status s = Admit(a, ServiceLimits{});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--max-message-mb"));
  EXPECT_FALSE(RetryDelayOf(s).has_value());
}

TEST(RunContainedTest, BadAllocBecomesResourceExhausted) {
  const absl::Status s = RunContained("InvertMel", "abc123", []() -> absl::Status { throw std::bad_alloc(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("out of memory while running InvertMel"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("abc123"));
}

TEST(RunContainedTest, OtherExceptionsBecomeInternalWithTheRequestId) {
  const absl::Status s =
      RunContained("Reorder", "req-7", []() -> absl::Status { throw std::runtime_error("vector::_M_range_check"); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("req-7"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("vector::_M_range_check"));
  const absl::Status odd = RunContained("Render", "r", []() -> absl::Status { throw 42; });
  EXPECT_EQ(odd.code(), absl::StatusCode::kInternal);
}

TEST(RunContainedTest, StatusesPassThrough) {
  EXPECT_TRUE(RunContained("Analyze", "x", [] { return absl::OkStatus(); }).ok());
  EXPECT_EQ(RunContained("Analyze", "x", [] { return absl::CancelledError("c"); }).code(),
            absl::StatusCode::kCancelled);
}

TEST(BoundedEchoTest, CutsLongUserText) {
  EXPECT_EQ(BoundedEcho("hifigan"), "hifigan");
  const std::string echoed = BoundedEcho(std::string(1 << 20, 'x'));
  EXPECT_LT(echoed.size(), kMaxEchoChars + 40);
  EXPECT_THAT(echoed, HasSubstr("1048576 characters"));
}

TEST(WorkerPoolContainmentTest, AThrowingJobLeavesTheWorkerServing) {
  WorkerPool pool(1, 4);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.TrySubmit([](absl::Duration) { throw std::runtime_error("boom"); }).ok());
  ASSERT_TRUE(pool.TrySubmit([](absl::Duration) { throw std::bad_alloc(); }).ok());
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { ++ran; }).ok());
  pool.Stop();
  EXPECT_EQ(ran.load(), 1);
}

TEST(WorkerPoolReadinessTest, ReportsSaturationAndRecovery) {
  WorkerPool pool(1, 1);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> reports;
  bool open = false;
  pool.SetSaturationListener([&](bool saturated) {
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(saturated);
    cv.notify_all();
  });
  auto blocking = [&](absl::Duration) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
  };
  ASSERT_TRUE(pool.TrySubmit(blocking).ok());
  ASSERT_TRUE(pool.TrySubmit(blocking).ok());  // the worker's and the queue's place: saturated
  EXPECT_EQ(pool.TrySubmit(blocking).code(), absl::StatusCode::kResourceExhausted);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_FALSE(reports.empty());
    EXPECT_TRUE(reports.back());
    open = true;
    cv.notify_all();
  }
  pool.Stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_FALSE(reports.back());
  for (size_t i = 1; i < reports.size(); ++i) EXPECT_NE(reports[i], reports[i - 1]);  // transitions only
}

class FakeStream final : public StreamRegistry::Stream {
 public:
  bool HoldIfIdle(absl::Time now, absl::Duration idle_timeout) override {
    return !expired_.load() && now - opened_ >= idle_timeout;
  }
  void ExpireHeld(absl::Duration) override { expired_ = true; }
  std::atomic<bool> expired_{false};

 private:
  absl::Time opened_ = absl::Now();
};

TEST(StreamRegistryTest, CapsOpenStreamsAndFreesPlaces) {
  StreamRegistry registry(2, absl::Seconds(60));
  FakeStream a, b;
  ASSERT_TRUE(registry.TryReserve().ok());
  registry.Add(&a);
  ASSERT_TRUE(registry.TryReserve().ok());
  registry.Add(&b);
  EXPECT_TRUE(absl::IsResourceExhausted(registry.TryReserve()));
  EXPECT_EQ(registry.open(), 2);
  registry.Remove(&a);
  EXPECT_TRUE(registry.TryReserve().ok());
  registry.Add(&a);
  registry.Remove(&a);
  registry.Remove(&b);
  EXPECT_EQ(registry.open(), 0);
}

TEST(StreamRegistryTest, SweeperAsksIdleStreamsToExpire) {
  StreamRegistry registry(4, absl::Milliseconds(40));
  FakeStream stream;
  ASSERT_TRUE(registry.TryReserve().ok());
  registry.Add(&stream);
  for (int i = 0; i < 500 && !stream.expired_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(stream.expired_.load());
  registry.Remove(&stream);
}

}  // namespace
}  // namespace specinv::server
