// Copyright specinv authors.
//
// `specinv`: the command-line client of the specinv service.

#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "absl/synchronization/mutex.h"

#include "client/commands/commands.h"
#include "client/status_format.h"

int main(int argc, char** argv) {
  using specinv::client::kExitFailure;
  using specinv::client::kExitOk;
  using specinv::client::kExitUsage;
  // As in specinv-server: no global lock graph on every gRPC mutex.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  CLI::App app{"specinv: audio <-> spectrograms over gRPC (client of specinv-server)", "specinv"};
  app.set_version_flag("--version", SPECINV_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // connection flags may follow the subcommand
  specinv::client::CommandContext context;
  specinv::client::AddConnectionFlags(&app, &context.connection);
  specinv::client::RegisterCommands(&app, &context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: INVALID_ARGUMENT: %s (see specinv --help)\n", e.what());
    return kExitUsage;
  }
  if (!context.action) {
    std::fprintf(stderr, "error: INVALID_ARGUMENT: no subcommand (see specinv --help)\n");
    return kExitUsage;
  }
  absl::Status status;
  try {
    status = context.action();
  } catch (const std::exception& e) {
    status = absl::InternalError(e.what());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", specinv::client::FormatError(status).c_str());
    return kExitFailure;
  }
  return kExitOk;
}
