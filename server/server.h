// Copyright specinv authors.
//
// SpecinvServer: the whole service process minus flag parsing and signals:
// the gRPC server (Spectrogram service, grpc.health.v1.Health, reflection),
// the worker pool, metrics (and their HTTP endpoint) and authentication.
// Used by specinv-server's main and, in-process, by the end-to-end tests.
//
// Shutdown (also run by the destructor): health turns NOT_SERVING, the
// server stops accepting calls, in-flight calls get up to `grace` to finish
// (after that they are cancelled, which stops their jobs within one
// iteration), then the workers stop.

#ifndef SPECINV_SERVER_SERVER_H_
#define SPECINV_SERVER_SERVER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/server.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/service.h"
#include "server/extractor_cache.h"
#include "server/http/http_api.h"
#include "server/worker_pool.h"
#include "specinv/base/fft_plan_cache.h"

namespace specinv::server {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 50051;               // 0 picks a free port (see SpecinvServer::port)
  int workers = 0;                // 0 = hardware threads
  int queue_depth = -1;           // -1 = 2 x workers
  ServiceLimits limits;
  std::string metrics_host = "0.0.0.0";
  int metrics_port = 9090;        // 0 picks a free port, -1 disables the endpoint
  std::string http_host;          // the HTTP API's address (empty: `host`)
  int http_port = 0;              // the HTTP API (server/http/http_api.h); 0 disables it
  std::string tls_cert_file;      // PEM; with tls_key_file enables TLS
  std::string tls_key_file;       // PEM
  std::string tls_client_ca_file; // PEM; requires and verifies client certificates (mutual TLS)
  std::string auth_token_file;    // one bearer token per line; empty = no auth
  std::vector<std::string> auth_tokens;  // in addition to the file (tests)
  // Bearer tokens on a plaintext port travel in clear: refused unless TLS is
  // on or this is set (--allow-insecure-auth), e.g. behind a TLS-terminating
  // proxy on a private network.
  bool allow_insecure_auth = false;
  // Bounds of the two caches, bytes (least recently used entries go; both
  // are visible in /metrics): FFT plans (process-wide) and extractors.
  int64_t fft_plan_cache_bytes = kDefaultFftPlanCacheLimitBytes;
  int64_t extractor_cache_bytes = kDefaultExtractorCacheBytes;
};

class SpecinvServer {
 public:
  // Validates the options, binds and starts serving (health SERVING).
  static absl::StatusOr<std::unique_ptr<SpecinvServer>> Start(const ServerOptions& options);
  ~SpecinvServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : -1; }
  int http_port() const { return http_api_ ? http_api_->port() : 0; }
  WorkerPool& pool() { return *pool_; }
  Metrics& metrics() { return *metrics_; }
  const SpectrogramService& service() const { return *service_; }
  const ServerOptions& options() const { return options_; }

  // See the file comment. Idempotent; thread-safe.
  void Shutdown(absl::Duration grace);

 private:
  explicit SpecinvServer(ServerOptions options) : options_(std::move(options)) {}

  ServerOptions options_;
  int port_ = 0;
  TokenAuthenticator auth_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsHttpServer> metrics_http_;
  std::unique_ptr<SpectrogramService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpApi> http_api_;
  std::atomic<grpc::HealthCheckServiceInterface*> health_{nullptr};
  std::atomic<bool> saturated_{false};
  std::atomic<bool> draining_{false};
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_SERVER_H_
