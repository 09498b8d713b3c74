// Copyright specinv authors.

#include "client/channel.h"

#include <chrono>
#include <string>
#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/files.h"

namespace specinv::client {
namespace {

absl::Status ValidateOptions(const ConnectionOptions& options) {
  if (options.server.empty()) return absl::InvalidArgumentError("--server must not be empty");
  if (options.deadline_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--deadline-ms must be > 0, got ", options.deadline_ms));
  }
  if (!options.lb.empty() && options.lb != "pick_first" && options.lb != "round_robin") {
    return absl::InvalidArgumentError(
        absl::StrCat("--lb must be one of pick_first, round_robin, got \"", options.lb, "\""));
  }
  if (options.max_attempts < 1 || options.max_attempts > 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-attempts must be in [1, 5], got ", options.max_attempts));
  }
  if (options.initial_backoff_ms < 1 || options.initial_backoff_ms > 60000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--initial-backoff-ms must be in [1, 60000], got ", options.initial_backoff_ms));
  }
  if (options.max_message_mb < 1 || options.max_message_mb > 2047) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-message-mb must be in [1, 2047], got ", options.max_message_mb));
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (!options.tls_cert.empty() && options.tls_ca.empty()) {
    return absl::InvalidArgumentError("--tls-cert needs --tls-ca (mutual TLS runs over TLS)");
  }
  return absl::OkStatus();
}

}  // namespace

std::string ServiceConfigJson(const ConnectionOptions& options) {
  std::string json = "{";
  if (!options.lb.empty()) {
    absl::StrAppend(&json, "\"loadBalancingConfig\":[{\"", options.lb, "\":{}}],");
  }
  if (options.lb == "round_robin") {
    // Client-side health checking: backends whose health service says
    // NOT_SERVING (e.g. draining after SIGTERM) get no new calls.
    absl::StrAppend(&json, "\"healthCheckConfig\":{\"serviceName\":\"specinv.v1.Spectrogram\"},");
  }
  absl::StrAppend(&json, "\"methodConfig\":[{\"name\":[{\"service\":\"specinv.v1.Spectrogram\"},",
                  "{\"service\":\"grpc.health.v1.Health\"}]");
  if (options.max_attempts > 1) {
    const double initial_s = options.initial_backoff_ms / 1000.0;
    const double max_s = initial_s > 2.0 ? initial_s : 2.0;
    absl::StrAppend(&json, ",\"retryPolicy\":{",
                    absl::StrFormat("\"maxAttempts\":%d,", options.max_attempts),
                    absl::StrFormat("\"initialBackoff\":\"%.3fs\",", initial_s),
                    absl::StrFormat("\"maxBackoff\":\"%.3fs\",", max_s),
                    "\"backoffMultiplier\":2,",
                    "\"retryableStatusCodes\":[\"UNAVAILABLE\",\"RESOURCE_EXHAUSTED\",\"CANCELLED\"]}");
  }
  absl::StrAppend(&json, "}]}");
  return json;
}

std::string ChannelTarget(const ConnectionOptions& options) {
  if (options.lb == "round_robin" && !absl::StrContains(options.server, ":///") &&
      !absl::StartsWith(options.server, "unix:") && !absl::StartsWith(options.server, "ipv4:") &&
      !absl::StartsWith(options.server, "ipv6:")) {
    return absl::StrCat("dns:///", options.server);
  }
  return options.server;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) return status;
  std::unique_ptr<Connection> connection(new Connection());
  connection->options_ = options;

  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadFileBytes(options.token_file);
    if (!token.ok()) return token.status();
    connection->token_ = std::string(absl::StripAsciiWhitespace(*token));
    if (connection->token_.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token-file ", options.token_file, " holds no token"));
    }
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    absl::StatusOr<std::string> ca = ReadFileBytes(options.tls_ca);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *std::move(ca);
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadFileBytes(options.tls_cert);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFileBytes(options.tls_key);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  }

  grpc::ChannelArguments args;
  const int max_bytes = options.max_message_mb * 1024 * 1024;
  args.SetMaxReceiveMessageSize(max_bytes);
  args.SetMaxSendMessageSize(max_bytes);
  args.SetServiceConfigJSON(ServiceConfigJson(options));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, options.max_attempts > 1 ? 1 : 0);
  // A request is retried only while it fits the retry buffer; allow whole messages.
  args.SetInt(GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE, max_bytes);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  args.SetString(GRPC_ARG_PRIMARY_USER_AGENT_STRING, "specinv-client/" SPECINV_VERSION);
  // Responses of hundreds of KB (audio) arrive without waiting for HTTP/2
  // window updates: the announced stream window is larger than gRPC's 64 KiB
  // default.
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 << 20);
  connection->channel_ = grpc::CreateCustomChannel(ChannelTarget(options), credentials, args);
  return connection;
}

void Connection::Prepare(grpc::ClientContext* context,
                         std::optional<int64_t> deadline_ms_override) const {
  const int64_t deadline_ms = deadline_ms_override.value_or(options_.deadline_ms);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadline_ms));
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
}

}  // namespace specinv::client
