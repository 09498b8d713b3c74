// Copyright specinv authors.

#include "client/bench.h"
#include "client/retry_hint.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace specinv::client {
namespace {

TEST(PercentileTest, NearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 50);
  EXPECT_DOUBLE_EQ(Percentile(v, 95), 95);
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 99);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 100);
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile({7.0}, 99), 7.0);
  EXPECT_DOUBLE_EQ(Percentile({}, 50), 0.0);
  EXPECT_DOUBLE_EQ(Percentile({1, 2, 3, 4}, 50), 2);
}

TEST(SummarizeTest, Statistics) {
  const LatencySummary s = Summarize({4, 1, 3, 2});
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.mean_ms, 2.5);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 4);
  EXPECT_DOUBLE_EQ(s.p50_ms, 2);
  EXPECT_DOUBLE_EQ(s.p99_ms, 4);
  EXPECT_EQ(Summarize({}).count, 0);
}

TEST(LoadOptionsTest, InvalidOptions) {
  LoadOptions o;
  EXPECT_EQ(ValidateLoadOptions(o).code(), absl::StatusCode::kInvalidArgument);  // no stop rule
  o.count = 10;
  EXPECT_TRUE(ValidateLoadOptions(o).ok());
  o.concurrency = 0;
  EXPECT_EQ(ValidateLoadOptions(o).message(), "--concurrency must be in [1, 1024], got 0");
  o.concurrency = 1;
  o.rate = -1;
  EXPECT_EQ(ValidateLoadOptions(o).code(), absl::StatusCode::kInvalidArgument);
  o.rate = 0;
  o.duration_s = -2;
  EXPECT_EQ(ValidateLoadOptions(o).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RunLoadTest, CountsEveryCallByStatus) {
  LoadOptions o;
  o.concurrency = 4;
  o.count = 103;
  std::atomic<int> calls{0};
  std::atomic<int> max_worker{-1};
  const LoadReport report = RunLoad(o, [&](int worker) {
    int seen = max_worker.load();
    while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {
    }
    const int n = calls.fetch_add(1);
    if (n % 10 == 3) return absl::ResourceExhaustedError("queue full");
    if (n % 25 == 7) return absl::UnavailableError("connection reset");
    return absl::OkStatus();
  });
  EXPECT_EQ(calls.load(), 103);
  EXPECT_LE(max_worker.load(), 3);
  EXPECT_EQ(report.sent, 103);
  int expected_exhausted = 0;
  int expected_unavailable = 0;
  for (int n = 0; n < 103; ++n) {
    if (n % 10 == 3) {
      ++expected_exhausted;
    } else if (n % 25 == 7) {
      ++expected_unavailable;
    }
  }
  EXPECT_EQ(report.errors.at("RESOURCE_EXHAUSTED"), expected_exhausted);
  EXPECT_EQ(report.errors.at("UNAVAILABLE"), expected_unavailable);
  EXPECT_EQ(report.ok, 103 - expected_exhausted - expected_unavailable);
  EXPECT_EQ(report.ok_latency.count, report.ok);
  EXPECT_EQ(report.all_latency.count, 103);
  EXPECT_EQ(report.sample_messages.at("RESOURCE_EXHAUSTED"), "queue full");
  EXPECT_EQ(report.concurrency, 4);
}

TEST(RunLoadTest, DurationStopsIssuing) {
  LoadOptions o;
  o.concurrency = 2;
  o.duration_s = 0.2;
  const auto start = std::chrono::steady_clock::now();
  const LoadReport report = RunLoad(o, [](int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return absl::OkStatus();
  });
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(elapsed, 0.2);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_GT(report.sent, 4);
  EXPECT_EQ(report.ok, report.sent);
  EXPECT_GE(report.ok_latency.p50_ms, 10.0);
}

TEST(RunLoadTest, CountsOverdueCalls) {
  LoadOptions o;
  o.concurrency = 2;
  o.count = 6;
  o.overdue_ms = 15.0;
  std::atomic<int> n{0};
  const LoadReport report = RunLoad(o, [&](int) {
    if (n.fetch_add(1) % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return absl::OkStatus();
  });
  EXPECT_EQ(report.overdue, 2);
  EXPECT_DOUBLE_EQ(report.overdue_ms, 15.0);
  EXPECT_NE(FormatReport(report, "x").find("overdue (> 15 ms): 2"), std::string::npos);
  EXPECT_NE(FormatReportJson(report, "x").find("\"overdue\":2,\"overdue_ms\":15.0"),
            std::string::npos);
}

TEST(RunLoadTest, RatePacesCalls) {
  LoadOptions o;
  o.concurrency = 4;
  o.count = 6;
  o.rate = 50.0;  // 6 calls at 50/s: the last starts 100 ms after the first
  const LoadReport report = RunLoad(o, [](int) { return absl::OkStatus(); });
  EXPECT_EQ(report.sent, 6);
  EXPECT_GE(report.wall_s, 0.09);
}

TEST(RetryWaitTest, WaitsForTheServerHint) {
  LoadOptions o;
  EXPECT_EQ(RetryWaitMs(absl::OkStatus(), o), 0.0);
  EXPECT_EQ(RetryWaitMs(absl::ResourceExhaustedError("busy"), o), 0.0);  // no hint
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::ResourceExhaustedError("busy"), 250), o), 250.0);
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::UnavailableError("draining"), 40), o), 40.0);
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::ResourceExhaustedError("busy"), 0), o), 0.0);
  // Capped at max_retry_wait_ms.
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::ResourceExhaustedError("busy"), 100000), o), 30000.0);
  o.max_retry_wait_ms = 500.0;
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::ResourceExhaustedError("busy"), 100000), o), 500.0);
  // --ignore-retry-hints.
  o.honor_retry_hints = false;
  EXPECT_EQ(RetryWaitMs(WithRetryHintMs(absl::ResourceExhaustedError("busy"), 250), o), 0.0);
  o.count = 1;
  o.max_retry_wait_ms = -1.0;
  EXPECT_EQ(ValidateLoadOptions(o).message(), "--max-retry-wait-ms must be finite and >= 0, got -1");
}

TEST(RunLoadTest, RejectedCallDelaysTheWorkersNextCall) {
  LoadOptions o;
  o.concurrency = 1;
  o.count = 3;
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> starts, ends;
  int n = 0;
  const LoadReport report = RunLoad(o, [&](int) {
    starts.push_back(Clock::now());
    absl::Status s = n++ == 0 ? WithRetryHintMs(absl::ResourceExhaustedError("queue full"), 60)
                              : absl::OkStatus();
    ends.push_back(Clock::now());
    return s;
  });
  ASSERT_EQ(starts.size(), 3u);
  EXPECT_EQ(report.sent, 3);
  EXPECT_EQ(report.ok, 2);
  EXPECT_EQ(report.rejected, 1);
  EXPECT_EQ(report.retry_waits, 1);
  EXPECT_DOUBLE_EQ(report.retry_wait_ms, 60.0);
  // The second call was issued no earlier than the hint after the rejection
  // (the worker sleeps until then; a sleep never ends early).
  EXPECT_GE(starts[1] - ends[0], std::chrono::milliseconds(60));
  const std::string text = FormatReport(report, "x");
  EXPECT_NE(text.find("rejected (RESOURCE_EXHAUSTED, after the channel's own retries): 1; waited for the "
                      "server's retry hint 1 times, 0.060 s in all"),
            std::string::npos)
      << text;
  EXPECT_NE(FormatReportJson(report, "x").find("\"rejected\":1,\"retry_waits\":1,\"retry_wait_s\":0.0600"),
            std::string::npos);
}

TEST(RunLoadTest, IgnoredHintsAreNotWaitedFor) {
  LoadOptions o;
  o.concurrency = 2;
  o.count = 8;
  o.honor_retry_hints = false;
  const LoadReport report =
      RunLoad(o, [](int) { return WithRetryHintMs(absl::ResourceExhaustedError("queue full"), 60000); });
  EXPECT_EQ(report.sent, 8);
  EXPECT_EQ(report.rejected, 8);
  EXPECT_EQ(report.retry_waits, 0);
  EXPECT_EQ(report.retry_wait_ms, 0.0);
}

TEST(RunLoadTest, HintBeyondTheDurationEndsTheWorker) {
  // Each worker's first call is rejected with a 20 s hint; the run lasts
  // 0.5 s, so no worker issues a second call (and nobody sleeps 20 s): no
  // wait was taken before a next call.
  LoadOptions o;
  o.concurrency = 3;
  o.duration_s = 0.5;
  const LoadReport report =
      RunLoad(o, [](int) { return WithRetryHintMs(absl::ResourceExhaustedError("queue full"), 20000); });
  EXPECT_EQ(report.sent, 3);
  EXPECT_EQ(report.rejected, 3);
  EXPECT_EQ(report.retry_waits, 0);
  EXPECT_EQ(report.retry_wait_ms, 0.0);
}

TEST(FormatReportTest, TextAndJson) {
  LoadReport r;
  r.concurrency = 8;
  r.sent = 10;
  r.ok = 8;
  r.errors["RESOURCE_EXHAUSTED"] = 2;
  r.sample_messages["RESOURCE_EXHAUSTED"] = "queue \"full\"";
  r.wall_s = 2.0;
  r.ok_latency = Summarize({10, 20, 30, 40, 50, 60, 70, 80});
  r.all_latency = Summarize({1, 1, 10, 20, 30, 40, 50, 60, 70, 80});
  const std::string text = FormatReport(r, "InvertMel");
  EXPECT_NE(text.find("InvertMel: 10 requests, 8 ok, 2 failed, concurrency 8"), std::string::npos);
  EXPECT_NE(text.find("throughput: 5.00 requests/s (4.00 ok/s)"), std::string::npos);
  EXPECT_NE(text.find("p50 40.00"), std::string::npos);
  EXPECT_NE(text.find("errors: RESOURCE_EXHAUSTED 2"), std::string::npos);
  const std::string json = FormatReportJson(r, "Invert\"Mel");
  EXPECT_NE(json.find("\"title\":\"Invert\\\"Mel\""), std::string::npos);
  EXPECT_NE(json.find("\"sent\":10,\"ok\":8,\"failed\":2"), std::string::npos);
  EXPECT_NE(json.find("\"errors\":{\"RESOURCE_EXHAUSTED\":2}"), std::string::npos);
  EXPECT_NE(json.find("\"p99_ms\":80.000"), std::string::npos);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace specinv::client
