// Copyright specinv authors.
//
// Metrics: the Prometheus text of what Metrics records and reads at scrape.

#include "server/metrics.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv::server {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample line that starts with `series` (name and labels,
// exactly as rendered), or NaN when there is none.
double Sample(const std::string& text, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const size_t at = text.find(key);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

TEST(MetricsTest, OpenStreamVocodeStreamsGauge) {
  Metrics metrics;
  EXPECT_THAT(metrics.RenderPrometheus(),
              HasSubstr("# HELP specinv_stream_vocode_streams StreamVocode streams open (call started, status not "
                        "yet sent).\n# TYPE specinv_stream_vocode_streams gauge\nspecinv_stream_vocode_streams 0\n"));
  metrics.StreamVocodeOpened();
  metrics.StreamVocodeOpened();
  EXPECT_EQ(metrics.open_stream_vocode_streams(), 2);
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 2\n"));
  metrics.StreamVocodeClosed();
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 1\n"));
  metrics.StreamVocodeClosed();
  EXPECT_EQ(metrics.open_stream_vocode_streams(), 0);
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 0\n"));
}

TEST(MetricsTest, RpcCountersAndCumulativeDurationBuckets) {
  Metrics metrics;
  metrics.RpcStarted();
  metrics.RpcStarted();
  metrics.RpcStarted();
  EXPECT_EQ(Sample(metrics.RenderPrometheus(), "specinv_rpcs_in_flight"), 3.0);
  metrics.RpcFinished("Analyze", "OK", 0.003, 1.5);
  metrics.RpcFinished("Analyze", "OK", 0.2, 2.0);
  metrics.RpcFinished("Analyze", "INVALID_ARGUMENT", 400.0, 0.0);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_EQ(Sample(text, "specinv_rpcs_in_flight"), 0.0);
  EXPECT_EQ(metrics.RpcCount("Analyze", "OK"), 2);
  EXPECT_EQ(metrics.RpcCount("Analyze", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(metrics.RpcCount("Render", "OK"), 0);
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_rpc_requests_total counter\n"));
  EXPECT_EQ(Sample(text, "specinv_rpc_requests_total{code=\"OK\",method=\"Analyze\"}"), 2.0);
  EXPECT_EQ(Sample(text, "specinv_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Analyze\"}"), 1.0);
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_rpc_duration_seconds histogram\n"));
  // 0.003 s falls in (0.0025, 0.005], 0.2 s in (0.1, 0.25], 400 s above every bound.
  const std::string bucket = "specinv_rpc_duration_seconds_bucket{method=\"Analyze\",le=";
  EXPECT_EQ(Sample(text, bucket + "\"0.0025\"}"), 0.0);
  EXPECT_EQ(Sample(text, bucket + "\"0.005\"}"), 1.0);
  EXPECT_EQ(Sample(text, bucket + "\"0.1\"}"), 1.0);
  EXPECT_EQ(Sample(text, bucket + "\"0.25\"}"), 2.0);
  EXPECT_EQ(Sample(text, bucket + "\"300\"}"), 2.0);
  EXPECT_EQ(Sample(text, bucket + "\"+Inf\"}"), 3.0);
  EXPECT_EQ(Sample(text, "specinv_rpc_duration_seconds_count{method=\"Analyze\"}"), 3.0);
  EXPECT_DOUBLE_EQ(Sample(text, "specinv_rpc_duration_seconds_sum{method=\"Analyze\"}"), 400.203);
  EXPECT_DOUBLE_EQ(Sample(text, "specinv_rpc_audio_seconds_total{method=\"Analyze\"}"), 3.5);
}

// Jobs of 1, 2, ..., 100 ms for Analyze: the q-quantile has rank q * 100, and
// the summary may answer any rank within its error (0.05, 0.01, 0.001 of the
// 100 observations, at least one rank). A slow Render job must not leak into
// Analyze's series.
TEST(MetricsTest, QueueAndComputeSummariesByMethod) {
  Metrics metrics;
  for (int ms = 100; ms >= 1; --ms) {
    metrics.JobStarted("Analyze", ms * 1e-3);
    metrics.JobFinished("Analyze", ms * 2e-3);
  }
  metrics.JobStarted("Render", 50.0);
  metrics.JobFinished("Render", 70.0);
  const std::string text = metrics.RenderPrometheus();
  for (const std::string name : {"specinv_queue_duration_seconds", "specinv_compute_duration_seconds"}) {
    SCOPED_TRACE(name);
    const double scale = name == "specinv_queue_duration_seconds" ? 1e-3 : 2e-3;
    EXPECT_THAT(text, HasSubstr("# TYPE " + name + " summary\n"));
    const std::string analyze = name + "{method=\"Analyze\",quantile=";
    EXPECT_THAT(Sample(text, analyze + "\"0.5\"}"), DoubleNear(50 * scale, 5.01 * scale));
    EXPECT_THAT(Sample(text, analyze + "\"0.9\"}"), DoubleNear(90 * scale, 1.01 * scale));
    EXPECT_THAT(Sample(text, analyze + "\"0.99\"}"), DoubleNear(99 * scale, 1.01 * scale));
    EXPECT_EQ(Sample(text, name + "_count{method=\"Analyze\"}"), 100.0);
    EXPECT_NEAR(Sample(text, name + "_sum{method=\"Analyze\"}"), 5050 * scale, 1e-9);
    EXPECT_EQ(Sample(text, name + "_count{method=\"Render\"}"), 1.0);
  }
  EXPECT_EQ(Sample(text, "specinv_queue_duration_seconds{method=\"Render\",quantile=\"0.5\"}"), 50.0);
  EXPECT_EQ(Sample(text, "specinv_compute_duration_seconds{method=\"Render\",quantile=\"0.99\"}"), 70.0);
  // The all-methods queue histogram still counts every job.
  EXPECT_EQ(Sample(text, "specinv_job_queue_wait_seconds_count"), 101.0);
  EXPECT_EQ(Sample(text, "specinv_job_queue_wait_seconds_bucket{le=\"0.0025\"}"), 2.0);
  EXPECT_EQ(Sample(text, "specinv_job_queue_wait_seconds_bucket{le=\"0.25\"}"), 100.0);
}

TEST(MetricsTest, PoolAndCacheValuesAreReadAtEachScrape) {
  PoolGauges pool{.queue_depth = 3, .queue_capacity = 8, .workers_busy = 2, .workers = 4, .rejected_total = 5};
  Metrics metrics([&pool] { return pool; });
  EXPECT_THAT(metrics.RenderPrometheus(), Not(HasSubstr("specinv_cache_")));
  std::vector<CacheGauges> caches = {{"fft_plans", 2, 4096, 1 << 20, 10, 2, 0},
                                     {"extractors", 1, 512, 1 << 16, 3, 1, 1}};
  metrics.SetCacheGauges([&caches] { return caches; });
  std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_jobs_rejected_total counter\nspecinv_jobs_rejected_total 5\n"));
  EXPECT_EQ(Sample(text, "specinv_queue_depth"), 3.0);
  EXPECT_EQ(Sample(text, "specinv_queue_capacity"), 8.0);
  EXPECT_EQ(Sample(text, "specinv_workers_busy"), 2.0);
  EXPECT_EQ(Sample(text, "specinv_workers"), 4.0);
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_cache_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_cache_evictions_total counter\n"));
  EXPECT_EQ(Sample(text, "specinv_cache_bytes{cache=\"fft_plans\"}"), 4096.0);
  EXPECT_EQ(Sample(text, "specinv_cache_limit_bytes{cache=\"extractors\"}"), 65536.0);
  EXPECT_EQ(Sample(text, "specinv_cache_hits_total{cache=\"fft_plans\"}"), 10.0);
  EXPECT_EQ(Sample(text, "specinv_cache_evictions_total{cache=\"extractors\"}"), 1.0);
  pool.queue_depth = 7;
  caches[0].bytes = 8192;
  text = metrics.RenderPrometheus();
  EXPECT_EQ(Sample(text, "specinv_queue_depth"), 7.0);
  EXPECT_EQ(Sample(text, "specinv_cache_bytes{cache=\"fft_plans\"}"), 8192.0);
}

}  // namespace
}  // namespace specinv::server
