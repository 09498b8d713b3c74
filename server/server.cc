// Copyright specinv authors.

#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/logging.h"
#include "server/reflection_auth.h"
#include "specinv/io/audio_io.h"
#include "specinv/base/parallel.h"
#include "specinv/analysis/stft.h"

namespace specinv::server {
namespace {

constexpr char kServiceName[] = "specinv.v1.Spectrogram";
constexpr int kStreamLookaheadBytes = 8 << 20;

absl::Status ValidateOptions(const ServerOptions& o) {
  if (o.port < 0 || o.port > 65535) {
    return absl::InvalidArgumentError(absl::StrFormat("--port must be in [0, 65535], got %d", o.port));
  }
  if (o.metrics_port < -1 || o.metrics_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--metrics-port must be in [-1, 65535] (-1 disables), got %d", o.metrics_port));
  }
  if (o.http_port < 0 || o.http_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--http-port must be in [0, 65535] (0 disables), got %d", o.http_port));
  }
  if (o.workers < 0 || o.workers > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat("--workers must be in [0, 1024] (0 = cores), got %d", o.workers));
  }
  if (o.queue_depth < -1 || o.queue_depth > 100000) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--queue-depth must be in [-1, 100000] (-1 = 2 x workers), got %d", o.queue_depth));
  }
  for (const auto& [flag, bytes] : {std::pair<const char*, int64_t>{"--fft-plan-cache-mb", o.fft_plan_cache_bytes},
                                    {"--extractor-cache-mb", o.extractor_cache_bytes}}) {
    if (bytes < 0 || bytes > (int64_t{1} << 40)) {
      return absl::InvalidArgumentError(absl::StrFormat("%s must be in [0, 1048576], got %g", flag,
                                                        static_cast<double>(bytes) / (1 << 20)));
    }
  }
  const ServiceLimits& l = o.limits;
  if (l.max_message_bytes < (1 << 20) || l.max_message_bytes > (int64_t{2047} << 20)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max-message-mb must be in [1, 2047], got %g", static_cast<double>(l.max_message_bytes) / (1 << 20)));
  }
  if (!(l.max_audio_seconds > 0.0) || l.max_audio_seconds > 86400.0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max-audio-seconds must be in (0, 86400], got %g", l.max_audio_seconds));
  }
  if (l.max_iterations < 0 || l.max_iterations > 1000000) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max-iterations must be in [0, 1000000], got %d", l.max_iterations));
  }
  if (l.max_n_fft < kMinFftSize || l.max_n_fft > kMaxFftSize) {
    return absl::InvalidArgumentError(absl::StrFormat("--max-n-fft must be in [%d, %d], got %d", kMinFftSize,
                                                      kMaxFftSize, l.max_n_fft));
  }
  if (l.max_job_memory_bytes < (int64_t{16} << 20) || l.max_job_memory_bytes > (int64_t{1} << 50)) {
    return absl::InvalidArgumentError(absl::StrFormat("--max-job-memory-mb must be in [16, 2^30], got %g",
                                                      static_cast<double>(l.max_job_memory_bytes) / (1 << 20)));
  }
  if (l.max_streams < 0 || l.max_streams > 100000) {
    return absl::InvalidArgumentError(absl::StrFormat("--max-streams must be in [0, 100000], got %d", l.max_streams));
  }
  if (!(l.stream_idle_timeout_seconds > 0.0) || l.stream_idle_timeout_seconds > 86400.0) {
    return absl::InvalidArgumentError(absl::StrFormat("--stream-idle-timeout-s must be in (0, 86400], got %g",
                                                      l.stream_idle_timeout_seconds));
  }
  if (l.max_batch_size < 1 || l.max_batch_size > 4096) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--max-batch-size must be in [1, 4096], got %d", l.max_batch_size));
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (!o.tls_client_ca_file.empty() && o.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  absl::StatusOr<std::string> pem = ReadFileBytes(path);
  if (!pem.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": ", pem.status().message()));
  return pem;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpecinvServer>> SpecinvServer::Start(const ServerOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  std::unique_ptr<SpecinvServer> self(new SpecinvServer(options));
  ServerOptions& o = self->options_;
  if (o.workers == 0) o.workers = HardwareThreads();
  if (o.queue_depth < 0) o.queue_depth = 2 * o.workers;

  std::vector<std::string> tokens = o.auth_tokens;
  if (!o.auth_token_file.empty()) {
    absl::StatusOr<std::vector<std::string>> from_file = TokenAuthenticator::ReadTokenFile(o.auth_token_file);
    if (!from_file.ok()) return from_file.status();
    tokens.insert(tokens.end(), from_file->begin(), from_file->end());
  }
  for (const std::string& t : tokens) {
    if (t.empty()) return absl::InvalidArgumentError("auth tokens must be non-empty");
  }
  if (!tokens.empty() && o.tls_cert_file.empty() && !o.allow_insecure_auth) {
    return absl::InvalidArgumentError(
        "--auth-token-file on a plaintext port sends the bearer token in clear: enable TLS (--tls-cert, --tls-key) "
        "or say so explicitly with --allow-insecure-auth (e.g. behind a TLS-terminating proxy)");
  }
  self->auth_ = TokenAuthenticator(std::move(tokens));

  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (!o.tls_cert_file.empty()) {
    grpc::SslServerCredentialsOptions ssl(o.tls_client_ca_file.empty()
                                              ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    absl::StatusOr<std::string> cert = ReadPem(o.tls_cert_file, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(o.tls_key_file, "--tls-key");
    if (!key.ok()) return key.status();
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!o.tls_client_ca_file.empty()) {
      absl::StatusOr<std::string> ca = ReadPem(o.tls_client_ca_file, "--tls-client-ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    credentials = grpc::SslServerCredentials(ssl);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }

  self->pool_ = std::make_unique<WorkerPool>(o.workers, o.queue_depth);
  WorkerPool* pool = self->pool_.get();
  // Readiness: the service's health name is NOT_SERVING while every worker
  // is busy and the queue is full, so a balancer routes elsewhere; liveness
  // ("") stays SERVING.
  SpecinvServer* server = self.get();
  pool->SetSaturationListener([server](bool saturated) {
    server->saturated_ = saturated;
    grpc::HealthCheckServiceInterface* h = server->health_.load();
    if (h == nullptr || server->draining_.load()) return;
    h->SetServingStatus(kServiceName, !saturated);
  });
  self->metrics_ = std::make_unique<Metrics>([pool] {
    PoolGauges g;
    g.queue_depth = pool->queued();
    g.queue_capacity = pool->queue_capacity();
    g.workers_busy = pool->busy();
    g.workers = pool->workers();
    g.rejected_total = pool->rejected();
    return g;
  });
  ServiceInfo info;
  info.tls_enabled = !o.tls_cert_file.empty();
  self->service_ = std::make_unique<SpectrogramService>(self->pool_.get(), self->metrics_.get(), &self->auth_,
                                                       o.limits, info, o.extractor_cache_bytes);
  SetFftPlanCacheLimitBytes(o.fft_plan_cache_bytes);
  self->metrics_->SetCacheGauges([service = self->service_.get()] {
    const FftPlanCacheStats plans = GetFftPlanCacheStats();
    const ExtractorCacheStats extractors = service->extractor_cache_stats();
    return std::vector<CacheGauges>{
        {"fft_plans", plans.entries, plans.bytes, plans.limit_bytes, plans.hits, plans.misses, plans.evictions},
        {"extractors", extractors.entries, extractors.bytes, extractors.limit_bytes, extractors.hits,
         extractors.misses, extractors.evictions}};
  });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const int max_message = static_cast<int>(std::min<int64_t>(o.limits.max_message_bytes, std::numeric_limits<int>::max()));
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind the
  // same port and silently split the traffic; a taken port must fail.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(absl::StrCat(o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host, ":", o.port),
                           credentials, &self->port_);
  builder.RegisterService(self->service_.get());
  // Requests of hundreds of KB (audio, spectrograms) arrive without waiting
  // for HTTP/2 window updates: the announced stream window is larger than
  // gRPC's 64 KiB default.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, kStreamLookaheadBytes);
  if (self->auth_.enabled()) {  // interceptors cost every call a little; only auth needs this one
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(NewReflectionAuthInterceptorFactory(&self->auth_));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  self->server_ = builder.BuildAndStart();
  if (!self->server_ || self->port_ == 0) {
    self->pool_->Stop();
    return absl::UnavailableError(absl::StrFormat("cannot listen on %s:%d (--host/--port)", o.host, o.port));
  }
  grpc::HealthCheckServiceInterface* health = self->server_->GetHealthCheckService();
  if (health != nullptr) {
    health->SetServingStatus(true);
    health->SetServingStatus(kServiceName, true);
    self->health_.store(health);
  }

  if (o.metrics_port >= 0) {
    absl::StatusOr<std::unique_ptr<MetricsHttpServer>> http =
        MetricsHttpServer::Start(self->metrics_.get(), o.metrics_host, o.metrics_port);
    if (!http.ok()) {
      self->Shutdown(absl::ZeroDuration());
      return http.status();
    }
    self->metrics_http_ = *std::move(http);
  }
  if (o.http_port > 0) {
    HttpApi::Deps deps;
    deps.life = &self->service_->lifecycle();
    deps.env = &self->service_->env();
    deps.ready = [server] { return !server->saturated_.load() && !server->draining_.load(); };
    deps.server_info = [server](v1::GetServerInfoResponse* out) { server->service_->FillServerInfo(out); };
    deps.vocode = self->service_->stream_environment();
    deps.max_body_bytes = o.limits.max_message_bytes;
    absl::StatusOr<std::unique_ptr<HttpApi>> http =
        HttpApi::Start(deps, o.http_host.empty() ? o.host : o.http_host, o.http_port);
    if (!http.ok()) {
      self->Shutdown(absl::ZeroDuration());
      return http.status();
    }
    self->http_api_ = *std::move(http);
  }
  LogEvent(spdlog::level::info, "start",
           {{"version", SPECINV_VERSION}, {"port", self->port_}, {"metrics_port", self->metrics_port()},
            {"http_port", self->http_port()},
            {"workers", o.workers}, {"queue_depth", o.queue_depth},
            {"max_message_mb", static_cast<double>(o.limits.max_message_bytes) / (1 << 20)},
            {"tls", !o.tls_cert_file.empty()}, {"mutual_tls", !o.tls_client_ca_file.empty()},
            {"auth", self->auth_.enabled()}});
  return self;
}

void SpecinvServer::Shutdown(absl::Duration grace) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  const absl::Time start = absl::Now();
  draining_ = true;
  if (http_api_) http_api_->Drain();
  if (server_) {
    if (grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService()) {
      health->SetServingStatus(false);
      health->SetServingStatus(kServiceName, false);
    }
    LogEvent(spdlog::level::info, "shutdown",
             {{"phase", "draining"}, {"grace_s", absl::ToDoubleSeconds(grace)}, {"busy_workers", pool_->busy()},
              {"queued_jobs", pool_->queued()}});
    // Waits for in-flight calls until the deadline, then cancels the rest
    // (their jobs see the cancellation at the next check) and waits for them.
    server_->Shutdown(absl::ToChronoTime(start + grace));
    server_->Wait();
  }
  if (http_api_) http_api_->Stop(start + grace);  // then cancels what still runs
  if (pool_) pool_->Stop();
  if (metrics_http_) metrics_http_->Stop();
  LogEvent(spdlog::level::info, "shutdown",
           {{"phase", "done"}, {"took_s", absl::ToDoubleSeconds(absl::Now() - start)}});
}

SpecinvServer::~SpecinvServer() { Shutdown(absl::ZeroDuration()); }

}  // namespace specinv::server
