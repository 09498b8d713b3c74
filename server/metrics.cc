// Copyright specinv authors.

#include "server/metrics.h"

#include <httplib.h>
#include <prometheus/client_metric.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <iterator>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace specinv::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const prometheus::Histogram::BucketBoundaries& Boundaries() {
  static const auto* boundaries =
      new prometheus::Histogram::BucketBoundaries(Metrics::kBuckets.begin(), Metrics::kBuckets.end());
  return *boundaries;
}

const prometheus::Summary::Quantiles& Quantiles() {
  static const auto* quantiles = [] {
    auto* out = new prometheus::Summary::Quantiles;
    for (const auto& [quantile, error] : Metrics::kQuantiles) out->emplace_back(quantile, error);
    return out;
  }();
  return *quantiles;
}

MetricFamily Single(const char* name, const char* help, MetricType type, int64_t value) {
  MetricFamily family{name, help, type, {}};
  ClientMetric m;
  (type == MetricType::Counter ? m.counter.value : m.gauge.value) = static_cast<double>(value);
  family.metric.push_back(std::move(m));
  return family;
}

}  // namespace

// Values kept elsewhere (the worker pool, the caches), read at each scrape so
// they are never stale: a prometheus-cpp custom collector.
class Metrics::ReadAtScrape : public prometheus::Collectable {
 public:
  explicit ReadAtScrape(const Metrics* metrics) : metrics_(metrics) {}

  std::vector<MetricFamily> Collect() const override {
    const PoolGauges pool = metrics_->pool_gauges_ ? metrics_->pool_gauges_() : PoolGauges{};
    std::vector<MetricFamily> out = {
        Single("specinv_jobs_rejected_total", "Jobs rejected because the queue was full.", MetricType::Counter,
               pool.rejected_total),
        Single("specinv_queue_depth", "Jobs waiting for a worker.", MetricType::Gauge, pool.queue_depth),
        Single("specinv_queue_capacity", "Jobs that may wait before new ones are rejected.", MetricType::Gauge,
               pool.queue_capacity),
        Single("specinv_workers_busy", "Workers running a job.", MetricType::Gauge, pool.workers_busy),
        Single("specinv_workers", "Worker threads.", MetricType::Gauge, pool.workers),
    };
    const std::vector<CacheGauges> caches =
        metrics_->cache_gauges_ ? metrics_->cache_gauges_() : std::vector<CacheGauges>{};
    if (caches.empty()) return out;
    struct Family {
      const char* name;
      const char* help;
      MetricType type;
      int64_t CacheGauges::*value;
    };
    static constexpr Family kFamilies[] = {
        {"specinv_cache_entries", "Entries held by a bounded cache.", MetricType::Gauge, &CacheGauges::entries},
        {"specinv_cache_bytes", "Estimated bytes held by a bounded cache.", MetricType::Gauge, &CacheGauges::bytes},
        {"specinv_cache_limit_bytes", "The byte bound of a cache (--fft-plan-cache-mb, --extractor-cache-mb).",
         MetricType::Gauge, &CacheGauges::limit_bytes},
        {"specinv_cache_hits_total", "Lookups answered from a cache.", MetricType::Counter, &CacheGauges::hits},
        {"specinv_cache_misses_total", "Lookups that had to build the entry.", MetricType::Counter,
         &CacheGauges::misses},
        {"specinv_cache_evictions_total", "Entries dropped to stay under the bound.", MetricType::Counter,
         &CacheGauges::evictions},
    };
    for (const Family& f : kFamilies) {
      MetricFamily family{f.name, f.help, f.type, {}};
      for (const CacheGauges& c : caches) {
        ClientMetric m;
        m.label.push_back({"cache", c.name});
        const auto value = static_cast<double>(c.*(f.value));
        (f.type == MetricType::Counter ? m.counter.value : m.gauge.value) = value;
        family.metric.push_back(std::move(m));
      }
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  const Metrics* metrics_;
};

Metrics::Metrics(std::function<PoolGauges()> pool_gauges)
    : pool_gauges_(std::move(pool_gauges)),
      registry_(std::make_shared<prometheus::Registry>()),
      read_at_scrape_(std::make_unique<ReadAtScrape>(this)),
      requests_(prometheus::BuildCounter()
                    .Name("specinv_rpc_requests_total")
                    .Help("RPCs finished, by method and status code.")
                    .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("specinv_rpc_duration_seconds")
                     .Help("RPC latency from receipt to status.")
                     .Register(*registry_)),
      audio_seconds_(prometheus::BuildCounter()
                         .Name("specinv_rpc_audio_seconds_total")
                         .Help("Seconds of audio analysed or produced.")
                         .Register(*registry_)),
      queue_durations_(prometheus::BuildSummary()
                           .Name("specinv_queue_duration_seconds")
                           .Help("Time a job waited for a worker, by method (quantiles over the last 60 s).")
                           .Register(*registry_)),
      compute_durations_(prometheus::BuildSummary()
                             .Name("specinv_compute_duration_seconds")
                             .Help("Time a worker ran a job, by method (quantiles over the last 60 s).")
                             .Register(*registry_)),
      queue_wait_(prometheus::BuildHistogram()
                      .Name("specinv_job_queue_wait_seconds")
                      .Help("Time jobs waited for a worker.")
                      .Register(*registry_)
                      .Add({}, Boundaries())),
      in_flight_(prometheus::BuildGauge()
                     .Name("specinv_rpcs_in_flight")
                     .Help("RPCs received and not yet finished.")
                     .Register(*registry_)
                     .Add({})),
      vocode_streams_(prometheus::BuildGauge()
                          .Name("specinv_stream_vocode_streams")
                          .Help("StreamVocode streams open (call started, status not yet sent).")
                          .Register(*registry_)
                          .Add({})) {}

Metrics::~Metrics() = default;

void Metrics::RpcStarted() { in_flight_.Increment(); }

void Metrics::RpcFinished(absl::string_view method, absl::string_view code, double seconds,
                          double audio_seconds) {
  in_flight_.Decrement();
  const std::string m(method);
  requests_.Add({{"method", m}, {"code", std::string(code)}}).Increment();
  durations_.Add({{"method", m}}, Boundaries()).Observe(seconds);
  // prometheus-cpp ignores negative increments; audio seconds are never negative.
  audio_seconds_.Add({{"method", m}}).Increment(audio_seconds);
}

void Metrics::JobStarted(absl::string_view method, double queue_wait_seconds) {
  queue_wait_.Observe(queue_wait_seconds);
  queue_durations_.Add({{"method", std::string(method)}}, Quantiles(), kSummaryMaxAge, kSummaryAgeBuckets)
      .Observe(queue_wait_seconds);
}

void Metrics::JobFinished(absl::string_view method, double compute_seconds) {
  compute_durations_.Add({{"method", std::string(method)}}, Quantiles(), kSummaryMaxAge, kSummaryAgeBuckets)
      .Observe(compute_seconds);
}

void Metrics::StreamVocodeOpened() { vocode_streams_.Increment(); }

void Metrics::StreamVocodeClosed() { vocode_streams_.Decrement(); }

int64_t Metrics::open_stream_vocode_streams() const { return static_cast<int64_t>(vocode_streams_.Value()); }

int64_t Metrics::RpcCount(absl::string_view method, absl::string_view code) const {
  const prometheus::Labels labels = {{"method", std::string(method)}, {"code", std::string(code)}};
  if (!requests_.Has(labels)) return 0;
  return static_cast<int64_t>(requests_.Add(labels).Value());
}

std::string Metrics::RenderPrometheus() const {
  std::vector<MetricFamily> families = registry_->Collect();
  std::vector<MetricFamily> read = read_at_scrape_->Collect();
  families.insert(families.end(), std::make_move_iterator(read.begin()), std::make_move_iterator(read.end()));
  return prometheus::TextSerializer().Serialize(families);
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
