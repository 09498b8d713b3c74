// Copyright specinv authors.
//
// Service metrics, kept in a prometheus-cpp registry and rendered with its
// TextSerializer (Prometheus text exposition format 0.0.4), served at
// /metrics by MetricsHttpServer (cpp-httplib).
//
//   specinv_rpc_requests_total{method,code}       counter
//   specinv_rpc_duration_seconds{method}          histogram (receipt to status)
//   specinv_rpc_audio_seconds_total{method}       counter (audio analysed or produced)
//   specinv_queue_duration_seconds{method}        summary (time a job waited for a worker)
//   specinv_compute_duration_seconds{method}      summary (time a worker ran the job)
//   specinv_job_queue_wait_seconds                histogram (all methods)
//   specinv_jobs_rejected_total                   counter (queue full)
//   specinv_queue_depth / specinv_queue_capacity  gauges
//   specinv_workers_busy / specinv_workers        gauges
//   specinv_rpcs_in_flight                        gauge
//   specinv_stream_vocode_streams                 gauge (StreamVocode calls open)
//   specinv_cache_{entries,bytes,limit_bytes}{cache}             gauges
//   specinv_cache_{hits,misses,evictions}_total{cache}           counters
//
// The two summaries follow Triton's nv_inference_queue_summary_us and
// nv_inference_compute_infer_summary_us, in seconds: quantiles 0.5, 0.9 and
// 0.99 (CKMS, rank errors 0.05, 0.01, 0.001) over a sliding window of
// kSummaryMaxAge in kSummaryAgeBuckets buckets; _sum and _count are over the
// process' lifetime. A StreamVocode stream counts one job per message.
// Within a sample's braces the labels are in name order (code before method).
//
// Thread-safe. Cost: an observation takes a lock of its series (summaries:
// O(log window) insertion); rendering is linear in the number of series.

#ifndef SPECINV_SERVER_METRICS_H_
#define SPECINV_SERVER_METRICS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace httplib {
class Server;
}

namespace specinv::server {

// Gauges read from the worker pool when rendering.
struct PoolGauges {
  int64_t queue_depth = 0;
  int64_t queue_capacity = 0;
  int64_t workers_busy = 0;
  int64_t workers = 0;
  int64_t rejected_total = 0;
};

// Counters of a bounded cache, read when rendering.
struct CacheGauges {
  std::string name;  // the "cache" label: "fft_plans", "extractors"
  int64_t entries = 0;
  int64_t bytes = 0;
  int64_t limit_bytes = 0;
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets.
  static constexpr std::array<double, 16> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5,   5.0,
                                                      10.0,  30.0,   60.0,  300.0};
  // Quantiles of the queue and compute summaries, with their rank errors.
  static constexpr std::array<std::pair<double, double>, 3> kQuantiles = {{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}};
  static constexpr std::chrono::seconds kSummaryMaxAge{60};
  static constexpr int kSummaryAgeBuckets = 5;

  explicit Metrics(std::function<PoolGauges()> pool_gauges = {});
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Where the cache gauges come from; set once, before the metrics are
  // served.
  void SetCacheGauges(std::function<std::vector<CacheGauges>()> read) { cache_gauges_ = std::move(read); }

  void RpcStarted();
  // `code` is the gRPC status code name ("OK", "INVALID_ARGUMENT", ...).
  void RpcFinished(absl::string_view method, absl::string_view code, double seconds, double audio_seconds);
  // A worker took a job of `method` that had waited `queue_wait_seconds`.
  void JobStarted(absl::string_view method, double queue_wait_seconds);
  // A worker finished a job of `method` after `compute_seconds`.
  void JobFinished(absl::string_view method, double compute_seconds);
  // A StreamVocode stream is open from the start of its call until its
  // status is sent (whatever the outcome); each opened stream is closed once.
  void StreamVocodeOpened();
  void StreamVocodeClosed();
  int64_t open_stream_vocode_streams() const;

  // Count of finished RPCs of `method` with `code` (for tests and logs).
  int64_t RpcCount(absl::string_view method, absl::string_view code) const;

  // The whole exposition text.
  std::string RenderPrometheus() const;

 private:
  class ReadAtScrape;  // pool and cache values, read when rendering

  std::function<PoolGauges()> pool_gauges_;
  std::function<std::vector<CacheGauges>()> cache_gauges_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ReadAtScrape> read_at_scrape_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& audio_seconds_;
  prometheus::Family<prometheus::Summary>& queue_durations_;
  prometheus::Family<prometheus::Summary>& compute_durations_;
  prometheus::Histogram& queue_wait_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& vocode_streams_;
};

// Serves GET /metrics (and /healthz, "ok") on its own thread.
class MetricsHttpServer {
 public:
  // Binds host:port (port 0 picks a free one) and starts serving.
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(const Metrics* metrics,
                                                                  const std::string& host, int port);
  ~MetricsHttpServer();
  int port() const { return port_; }
  void Stop();

 private:
  MetricsHttpServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_METRICS_H_
