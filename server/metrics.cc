// Copyright specinv authors.

#include "server/metrics.h"

#include <httplib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace specinv::server {
namespace {

std::string FormatBound(double bound) { return absl::StrFormat("%g", bound); }

void AppendHistogram(std::string* out, absl::string_view name, absl::string_view labels,
                     const std::array<int64_t, Metrics::kBuckets.size()>& buckets, int64_t count,
                     double sum) {
  const std::string sep = labels.empty() ? "" : ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    absl::StrAppend(out, name, "_bucket{", labels, sep, "le=\"", FormatBound(Metrics::kBuckets[i]),
                    "\"} ", cumulative, "\n");
  }
  absl::StrAppend(out, name, "_bucket{", labels, sep, "le=\"+Inf\"} ", count, "\n");
  const std::string braces = labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(out, name, "_sum", braces, " ", absl::StrFormat("%.6f", sum), "\n");
  absl::StrAppend(out, name, "_count", braces, " ", count, "\n");
}

}  // namespace

void Metrics::Histogram::Observe(double value) {
  size_t i = 0;
  while (i < kBuckets.size() && value > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++buckets[i];
  ++count;
  sum += value;
}

Metrics::Metrics(std::function<PoolGauges()> pool_gauges) : pool_gauges_(std::move(pool_gauges)) {}

void Metrics::RpcStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::RpcFinished(absl::string_view method, absl::string_view code, double seconds,
                          double audio_seconds) {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{std::string(method), std::string(code)}];
  durations_[std::string(method)].Observe(seconds);
  audio_seconds_[std::string(method)] += audio_seconds;
}

void Metrics::JobStarted(double queue_wait_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_wait_.Observe(queue_wait_seconds);
}

void Metrics::StreamVocodeOpened() { vocode_streams_.fetch_add(1, std::memory_order_relaxed); }

void Metrics::StreamVocodeClosed() { vocode_streams_.fetch_sub(1, std::memory_order_relaxed); }

int64_t Metrics::open_stream_vocode_streams() const { return vocode_streams_.load(std::memory_order_relaxed); }

int64_t Metrics::RpcCount(absl::string_view method, absl::string_view code) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find({std::string(method), std::string(code)});
  return it == requests_.end() ? 0 : it->second;
}

namespace {

// One family per counter, one sample per cache.
void AppendCaches(std::string* out, const std::vector<CacheGauges>& caches) {
  if (caches.empty()) return;
  struct Family {
    const char* name;
    const char* help;
    const char* type;
    int64_t CacheGauges::*value;
  };
  static constexpr Family kFamilies[] = {
      {"specinv_cache_entries", "Entries held by a bounded cache.", "gauge", &CacheGauges::entries},
      {"specinv_cache_bytes", "Estimated bytes held by a bounded cache.", "gauge", &CacheGauges::bytes},
      {"specinv_cache_limit_bytes", "The byte bound of a cache (--fft-plan-cache-mb, --extractor-cache-mb).",
       "gauge", &CacheGauges::limit_bytes},
      {"specinv_cache_hits_total", "Lookups answered from a cache.", "counter", &CacheGauges::hits},
      {"specinv_cache_misses_total", "Lookups that had to build the entry.", "counter", &CacheGauges::misses},
      {"specinv_cache_evictions_total", "Entries dropped to stay under the bound.", "counter",
       &CacheGauges::evictions},
  };
  for (const Family& f : kFamilies) {
    absl::StrAppend(out, "# HELP ", f.name, " ", f.help, "\n# TYPE ", f.name, " ", f.type, "\n");
    for (const CacheGauges& c : caches) {
      absl::StrAppend(out, f.name, "{cache=\"", c.name, "\"} ", c.*(f.value), "\n");
    }
  }
}

}  // namespace

std::string Metrics::RenderPrometheus() const {
  std::string out;
  const PoolGauges pool = pool_gauges_ ? pool_gauges_() : PoolGauges{};
  std::lock_guard<std::mutex> lock(mu_);
  absl::StrAppend(&out, "# HELP specinv_rpc_requests_total RPCs finished, by method and status code.\n",
                  "# TYPE specinv_rpc_requests_total counter\n");
  for (const auto& [key, count] : requests_) {
    absl::StrAppend(&out, "specinv_rpc_requests_total{method=\"", key.first, "\",code=\"", key.second,
                    "\"} ", count, "\n");
  }
  absl::StrAppend(&out, "# HELP specinv_rpc_duration_seconds RPC latency from receipt to status.\n",
                  "# TYPE specinv_rpc_duration_seconds histogram\n");
  for (const auto& [method, h] : durations_) {
    AppendHistogram(&out, "specinv_rpc_duration_seconds", absl::StrCat("method=\"", method, "\""),
                    h.buckets, h.count, h.sum);
  }
  absl::StrAppend(&out, "# HELP specinv_rpc_audio_seconds_total Seconds of audio analysed or produced.\n",
                  "# TYPE specinv_rpc_audio_seconds_total counter\n");
  for (const auto& [method, seconds] : audio_seconds_) {
    absl::StrAppend(&out, "specinv_rpc_audio_seconds_total{method=\"", method, "\"} ",
                    absl::StrFormat("%.6f", seconds), "\n");
  }
  absl::StrAppend(&out, "# HELP specinv_job_queue_wait_seconds Time jobs waited for a worker.\n",
                  "# TYPE specinv_job_queue_wait_seconds histogram\n");
  AppendHistogram(&out, "specinv_job_queue_wait_seconds", "", queue_wait_.buckets, queue_wait_.count,
                  queue_wait_.sum);
  auto gauge = [&out](absl::string_view name, absl::string_view help, absl::string_view type, int64_t v) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ", v,
                    "\n");
  };
  gauge("specinv_jobs_rejected_total", "Jobs rejected because the queue was full.", "counter",
        pool.rejected_total);
  gauge("specinv_queue_depth", "Jobs waiting for a worker.", "gauge", pool.queue_depth);
  gauge("specinv_queue_capacity", "Jobs that may wait before new ones are rejected.", "gauge",
        pool.queue_capacity);
  gauge("specinv_workers_busy", "Workers running a job.", "gauge", pool.workers_busy);
  gauge("specinv_workers", "Worker threads.", "gauge", pool.workers);
  gauge("specinv_rpcs_in_flight", "RPCs received and not yet finished.", "gauge",
        in_flight_.load(std::memory_order_relaxed));
  gauge("specinv_stream_vocode_streams", "StreamVocode streams open (call started, status not yet sent).", "gauge",
        vocode_streams_.load(std::memory_order_relaxed));
  AppendCaches(&out, cache_gauges_ ? cache_gauges_() : std::vector<CacheGauges>{});
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(const Metrics* metrics,
                                                                            const std::string& host,
                                                                            int port) {
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->http_ = std::make_unique<httplib::Server>();
  server->http_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->RenderPrometheus(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server->http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (port == 0) {
    server->port_ = server->http_->bind_to_any_port(host);
  } else {
    server->port_ = server->http_->bind_to_port(host, port) ? port : -1;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrFormat("metrics: cannot listen on %s:%d (--metrics-port)", host, port));
  }
  httplib::Server* http = server->http_.get();
  server->thread_ = std::thread([http] { http->listen_after_bind(); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace specinv::server
