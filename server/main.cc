// Copyright specinv authors.
//
// specinv-server: the specinv gRPC service. Every flag has an environment
// variable equivalent (SPECINV_<FLAG>, e.g. SPECINV_PORT); flags win.
// SIGTERM/SIGINT: health turns NOT_SERVING, new calls are refused, in-flight
// calls get --shutdown-grace-s to finish, then the process exits 0.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <thread>
#include <cstdio>
#include <pthread.h>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/allocator.h"
#include "server/logging.h"
#include "server/server.h"

int main(int argc, char** argv) {
  using specinv::server::LogEvent;
  // gRPC locks absl::Mutex on every call; Debian's abseil is built with
  // deadlock detection on, which records every lock in a global graph.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  specinv::server::ServerOptions options;
  double max_message_mb = 64.0;
  double shutdown_grace_s = 30.0;
  std::string log_level = "info";
  std::string log_format = "text";

  CLI::App app{"specinv-server: spectrogram analysis and inversion over gRPC"};
  app.set_version_flag("--version", std::string(SPECINV_VERSION));
  app.add_option("--host", options.host, "Address to listen on")->envname("SPECINV_HOST")->capture_default_str();
  app.add_option("--port", options.port, "gRPC port (0 picks a free one)")
      ->envname("SPECINV_PORT")
      ->capture_default_str();
  app.add_option("--workers", options.workers, "DSP worker threads (0 = number of cores)")
      ->envname("SPECINV_WORKERS")
      ->capture_default_str();
  app.add_option("--queue-depth", options.queue_depth,
                 "Jobs that may wait for a worker before new ones are rejected with RESOURCE_EXHAUSTED "
                 "(-1 = 2 x workers)")
      ->envname("SPECINV_QUEUE_DEPTH")
      ->capture_default_str();
  app.add_option("--max-message-mb", max_message_mb, "Largest request/response message, MiB")
      ->envname("SPECINV_MAX_MESSAGE_MB")
      ->capture_default_str();
  app.add_option("--max-audio-seconds", options.limits.max_audio_seconds, "Longest audio accepted or produced")
      ->envname("SPECINV_MAX_AUDIO_SECONDS")
      ->capture_default_str();
  app.add_option("--max-iterations", options.limits.max_iterations, "Largest inversion iteration count")
      ->envname("SPECINV_MAX_ITERATIONS")
      ->capture_default_str();
  app.add_option("--max-n-fft", options.limits.max_n_fft, "Largest n_fft")
      ->envname("SPECINV_MAX_N_FFT")
      ->capture_default_str();
  app.add_option("--max-batch-size", options.limits.max_batch_size, "Most items in one InvertMelBatch")
      ->envname("SPECINV_MAX_BATCH_SIZE")
      ->capture_default_str();
  double max_job_memory_mb = 1024.0;
  app.add_option("--max-job-memory-mb", max_job_memory_mb,
                 "Largest estimated peak working memory of one job, MiB; requests whose cost (computed from their "
                 "shapes before any allocation) is larger are refused with INVALID_ARGUMENT. Keep workers x this "
                 "under the container's memory limit")
      ->envname("SPECINV_MAX_JOB_MEMORY_MB")
      ->capture_default_str();
  double fft_plan_cache_mb = static_cast<double>(options.fft_plan_cache_bytes) / (1 << 20);
  app.add_option("--fft-plan-cache-mb", fft_plan_cache_mb,
                 "Bound of the FFT plan cache, MiB (least recently used plans go; /metrics specinv_cache_*)")
      ->envname("SPECINV_FFT_PLAN_CACHE_MB")
      ->capture_default_str();
  double extractor_cache_mb = static_cast<double>(options.extractor_cache_bytes) / (1 << 20);
  app.add_option("--extractor-cache-mb", extractor_cache_mb,
                 "Bound of the cache of analysis front ends (window, mel filterbank, its inverse), MiB")
      ->envname("SPECINV_EXTRACTOR_CACHE_MB")
      ->capture_default_str();
  double malloc_retain_mb = static_cast<double>(specinv::server::kDefaultMallocRetainBytes) / (1 << 20);
  app.add_option("--malloc-retain-mb", malloc_retain_mb,
                 "Freed heap memory kept for the next jobs instead of returned to the kernel, MiB per malloc arena "
                 "(0 = the C library's defaults); saves the page faults of re-touching fresh memory on every job")
      ->envname("SPECINV_MALLOC_RETAIN_MB")
      ->capture_default_str();
  app.add_option("--max-streams", options.limits.max_streams,
                 "Most StreamVocode calls open at once (beyond: RESOURCE_EXHAUSTED with a retry hint)")
      ->envname("SPECINV_MAX_STREAMS")
      ->capture_default_str();
  app.add_option("--stream-idle-timeout-s", options.limits.stream_idle_timeout_seconds,
                 "A StreamVocode call that sends nothing this long ends with DEADLINE_EXCEEDED")
      ->envname("SPECINV_STREAM_IDLE_TIMEOUT_S")
      ->capture_default_str();
  app.add_flag("--allow-insecure-auth", options.allow_insecure_auth,
               "Accept --auth-token-file on a plaintext port (the token travels in clear; e.g. behind a "
               "TLS-terminating proxy)")
      ->envname("SPECINV_ALLOW_INSECURE_AUTH");
  app.add_option("--metrics-host", options.metrics_host, "Address of the Prometheus endpoint")
      ->envname("SPECINV_METRICS_HOST")
      ->capture_default_str();
  app.add_option("--metrics-port", options.metrics_port,
                 "Port of the Prometheus text endpoint /metrics (0 picks a free one, -1 disables)")
      ->envname("SPECINV_METRICS_PORT")
      ->capture_default_str();
  options.http_port = 8080;
  app.add_option("--http-port", options.http_port,
                 "Port of the HTTP API (POST /v1/invert-mel, /v1/analyze, ...; GET /v1/info, /healthz, /readyz) on "
                 "--host; 0 disables it")
      ->envname("SPECINV_HTTP_PORT")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->envname("SPECINV_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text or json")->envname("SPECINV_LOG_FORMAT")->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file, "PEM server certificate (enables TLS with --tls-key)")
      ->envname("SPECINV_TLS_CERT");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key of --tls-cert")->envname("SPECINV_TLS_KEY");
  app.add_option("--tls-client-ca", options.tls_client_ca_file,
                 "PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS)")
      ->envname("SPECINV_TLS_CLIENT_CA");
  app.add_option("--auth-token-file", options.auth_token_file,
                 "File of accepted bearer tokens, one per line; when set, calls need "
                 "'authorization: Bearer <token>' (health checks exempt)")
      ->envname("SPECINV_AUTH_TOKEN_FILE");
  app.add_option("--shutdown-grace-s", shutdown_grace_s,
                 "On SIGTERM/SIGINT, seconds in-flight calls get to finish before they are cancelled")
      ->envname("SPECINV_SHUTDOWN_GRACE_S")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (absl::Status s = specinv::server::ConfigureLogging(log_level, log_format); !s.ok()) {
    std::fprintf(stderr, "specinv-server: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (!(max_message_mb >= 1.0 && max_message_mb <= 2047.0)) {
    std::fprintf(stderr, "specinv-server: --max-message-mb must be in [1, 2047], got %g\n", max_message_mb);
    return 2;
  }
  if (!(shutdown_grace_s >= 0.0 && shutdown_grace_s <= 86400.0)) {
    std::fprintf(stderr, "specinv-server: --shutdown-grace-s must be in [0, 86400], got %g\n", shutdown_grace_s);
    return 2;
  }
  options.limits.max_message_bytes = static_cast<int64_t>(max_message_mb * 1024.0 * 1024.0);
  // Out-of-range values (validated by the server) map to -1.
  options.limits.max_job_memory_bytes = max_job_memory_mb >= 0.0 && max_job_memory_mb <= 1073741824.0
                                            ? static_cast<int64_t>(max_job_memory_mb * 1024.0 * 1024.0)
                                            : -1;
  // Likewise for the cache bounds.
  auto mib = [](double mb) { return mb >= 0.0 && mb <= 1048576.0 ? static_cast<int64_t>(mb * 1024.0 * 1024.0) : -1; };
  options.fft_plan_cache_bytes = mib(fft_plan_cache_mb);
  options.extractor_cache_bytes = mib(extractor_cache_mb);

  if (absl::Status s = specinv::server::RetainFreedMemory(mib(malloc_retain_mb)); absl::IsInvalidArgument(s)) {
    std::fprintf(stderr, "specinv-server: %s\n", std::string(s.message()).c_str());
    return 2;
  } else if (!s.ok()) {
    LogEvent(spdlog::level::warn, "allocator", {{"warning", std::string(s.message())}});
  }

  // Signals are taken synchronously by this thread; block them before any
  // other thread exists so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = specinv::server::SpecinvServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "specinv-server: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LogEvent(spdlog::level::info, "signal",
           {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}, {"grace_s", shutdown_grace_s}});
  // The bound on exiting holds whatever a library does while the process
  // tears down: a watchdog ends the process grace + 1 s after the signal,
  // saying which phase was stuck (log lines are flushed as written; drained
  // calls are not lost by it).
  static std::atomic<const char*> phase{"draining calls"};
  std::thread([grace = shutdown_grace_s] {
    std::this_thread::sleep_for(std::chrono::duration<double>(grace + 1.0));
    LogEvent(spdlog::level::err, "shutdown",
             {{"error", "the process did not exit within --shutdown-grace-s + 1 s; exiting now"},
              {"stuck_in", std::string(phase.load())}});
    std::_Exit(0);
  }).detach();
  (*server)->Shutdown(absl::Seconds(shutdown_grace_s));
  phase = "releasing the server";
  server->reset();
  phase = "exiting the process";
  return 0;
}
