// Copyright specinv authors.

#include <cstdarg>
#include <cstdio>

#include "client/commands/commands.h"

namespace specinv::client {

absl::StatusOr<const Connection*> CommandContext::Connect() {
  if (connection_ == nullptr) {
    absl::StatusOr<std::unique_ptr<Connection>> opened = Connection::Open(connection);
    if (!opened.ok()) return opened.status();
    connection_ = *std::move(opened);
  }
  return connection_.get();
}

absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> CommandContext::NewStub() {
  absl::StatusOr<const Connection*> connected = Connect();
  if (!connected.ok()) return connected.status();
  return v1::Spectrogram::NewStub((*connected)->channel());
}

void CommandContext::Print(const char* format, ...) const {
  if (quiet) return;
  va_list args;
  va_start(args, format);
  std::vfprintf(info(), format, args);
  va_end(args);
}

void AddConnectionFlags(CLI::App* app, ConnectionOptions* o) {
  const std::string g = "Connection";
  app->add_option("--server", o->server, "host:port or gRPC target (dns:///name:port, unix:path)")
      ->envname("SPECINV_CLIENT_SERVER")
      ->capture_default_str()
      ->group(g);
  app->add_option("--deadline-ms", o->deadline_ms, "deadline of each call, ms")
      ->envname("SPECINV_CLIENT_DEADLINE_MS")
      ->capture_default_str()
      ->group(g);
  app->add_option("--tls-ca", o->tls_ca, "PEM root certificates; enables TLS")
      ->envname("SPECINV_CLIENT_TLS_CA")
      ->group(g);
  app->add_option("--tls-cert", o->tls_cert, "PEM client certificate (mutual TLS)")
      ->envname("SPECINV_CLIENT_TLS_CERT")
      ->group(g);
  app->add_option("--tls-key", o->tls_key, "PEM client key (mutual TLS)")
      ->envname("SPECINV_CLIENT_TLS_KEY")
      ->group(g);
  app->add_option("--tls-server-name", o->tls_server_name,
                  "name to check the server certificate against")
      ->envname("SPECINV_CLIENT_TLS_SERVER_NAME")
      ->group(g);
  app->add_option("--token-file", o->token_file, "file with a bearer token")
      ->envname("SPECINV_CLIENT_TOKEN_FILE")
      ->group(g);
  app->add_option("--lb", o->lb, "load balancing: pick_first, round_robin (dns:/// targets)")
      ->envname("SPECINV_CLIENT_LB")
      ->group(g);
  app->add_option("--max-attempts", o->max_attempts,
                  "attempts per call, retrying UNAVAILABLE and RESOURCE_EXHAUSTED (1 = no retry)")
      ->envname("SPECINV_CLIENT_MAX_ATTEMPTS")
      ->capture_default_str()
      ->group(g);
  app->add_option("--initial-backoff-ms", o->initial_backoff_ms, "first retry backoff, ms")
      ->envname("SPECINV_CLIENT_INITIAL_BACKOFF_MS")
      ->capture_default_str()
      ->group(g);
  app->add_option("--max-message-mb", o->max_message_mb, "largest message sent or received, MiB")
      ->envname("SPECINV_CLIENT_MAX_MESSAGE_MB")
      ->capture_default_str()
      ->group(g);
}

void RegisterCommands(CLI::App* app, CommandContext* context) {
  app->add_flag("-q,--quiet", context->quiet, "print no summaries");
  RegisterInfo(app, context);
  RegisterHealth(app, context);
  RegisterAnalyze(app, context);
  RegisterInvert(app, context);
  RegisterInvertSpectrogram(app, context);
  RegisterReorder(app, context);
  RegisterTransform(app, context);
  RegisterRender(app, context);
  RegisterVocode(app, context);
  RegisterBench(app, context);
}

}  // namespace specinv::client
