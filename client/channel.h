// Copyright specinv authors.
//
// Connection settings shared by every subcommand, and the gRPC channel they
// produce: target and load balancing, TLS, bearer token, deadlines, message
// size limits and the retry policy (gRPC service config).
//
// Retry policy: calls to specinv.v1.Spectrogram and grpc.health.v1.Health that
// fail with UNAVAILABLE or RESOURCE_EXHAUSTED are retried by gRPC itself, up to
// `max_attempts` attempts in total (gRPC caps this at 5), with exponential
// backoff from `initial_backoff_ms` (x2 per attempt, at most 2 s; a server's
// grpc-retry-pushback-ms hint takes precedence). Retrying never outlives the
// call's deadline. `max_attempts` = 1 disables retries.
//
// Load balancing: "pick_first" (gRPC's default) or "round_robin"; with
// round_robin a target without a scheme is resolved as "dns:///<target>", so
// every address a name resolves to (e.g. a Kubernetes headless Service) gets
// calls in turn, and client-side health checking (grpc.health.v1 Watch on
// "specinv.v1.Spectrogram") keeps new calls away from backends that report
// NOT_SERVING, such as a replica draining after SIGTERM.
//
// Thread safety: a Connection is immutable after Open; Prepare may be called
// from any thread, and the channel is thread-safe.

#ifndef SPECINV_CLIENT_CHANNEL_H_
#define SPECINV_CLIENT_CHANNEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include "absl/status/statusor.h"

namespace specinv::client {

inline constexpr char kDefaultServer[] = "localhost:50051";

struct ConnectionOptions {
  std::string server = kDefaultServer;  // host:port, or any gRPC target URI (dns:///, unix:)
  int64_t deadline_ms = 120000;         // per call, > 0
  std::string tls_ca;                   // PEM file of root certificates; enables TLS
  std::string tls_cert;                 // PEM client certificate (mutual TLS), needs tls_key
  std::string tls_key;                  // PEM client private key
  std::string tls_server_name;          // overrides the name checked against the certificate
  std::string token_file;               // file holding a bearer token (whitespace trimmed)
  std::string lb;                       // "", "pick_first" or "round_robin"
  int max_attempts = 4;                 // retry policy attempts, [1, 5]
  int initial_backoff_ms = 100;         // first retry backoff, [1, 60000]
  int max_message_mb = 64;              // send and receive limit, [1, 2047]
};

// The gRPC service config JSON for the options (load balancing and retry).
std::string ServiceConfigJson(const ConnectionOptions& options);

// The channel target: options.server, with "dns:///" prepended for
// round_robin when it has no scheme.
std::string ChannelTarget(const ConnectionOptions& options);

class Connection {
 public:
  // Validates the options, reads the TLS files and token, builds the channel
  // (connection happens lazily, on the first call). InvalidArgument for bad
  // options, NotFound for unreadable files.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const ConnectionOptions& options);

  const ConnectionOptions& options() const { return options_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // Sets the call's deadline (now + deadline_ms, or `deadline_ms_override`)
  // and the authorization metadata.
  void Prepare(grpc::ClientContext* context,
               std::optional<int64_t> deadline_ms_override = std::nullopt) const;

 private:
  Connection() = default;
  ConnectionOptions options_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_CHANNEL_H_
