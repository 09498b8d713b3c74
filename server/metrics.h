// Copyright specinv authors.
//
// Service metrics in the Prometheus text exposition format (version 0.0.4),
// served at /metrics by MetricsHttpServer (cpp-httplib).
//
//   specinv_rpc_requests_total{method,code}       counter
//   specinv_rpc_duration_seconds{method}          histogram (receipt to status)
//   specinv_rpc_audio_seconds_total{method}       counter (audio analysed or produced)
//   specinv_job_queue_wait_seconds                histogram
//   specinv_jobs_rejected_total                   counter (queue full)
//   specinv_queue_depth / specinv_queue_capacity  gauges
//   specinv_workers_busy / specinv_workers        gauges
//   specinv_rpcs_in_flight                        gauge
//   specinv_stream_vocode_streams                 gauge (StreamVocode calls open)
//
// Thread-safe.

#ifndef SPECINV_SERVER_METRICS_H_
#define SPECINV_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <string_view>
#include <thread>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"

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

  explicit Metrics(std::function<PoolGauges()> pool_gauges = {});

  // Where the cache gauges come from; set once, before the metrics are
  // served.
  void SetCacheGauges(std::function<std::vector<CacheGauges>()> read) { cache_gauges_ = std::move(read); }

  void RpcStarted();
  // `code` is the gRPC status code name ("OK", "INVALID_ARGUMENT", ...).
  void RpcFinished(absl::string_view method, absl::string_view code, double seconds, double audio_seconds);
  void JobStarted(double queue_wait_seconds);
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
  struct Histogram {
    std::array<int64_t, kBuckets.size()> buckets{};  // non-cumulative
    int64_t count = 0;
    double sum = 0.0;
    void Observe(double value);
  };
  std::function<PoolGauges()> pool_gauges_;
  std::function<std::vector<CacheGauges>()> cache_gauges_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, int64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::map<std::string, double> audio_seconds_;
  Histogram queue_wait_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<int64_t> vocode_streams_{0};
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
