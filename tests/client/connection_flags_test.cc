// Copyright specinv authors.
//
// The client's connection flags and their environment variables: every one is
// SPECINV_CLIENT_<FLAG>, so specinv-server's SPECINV_<FLAG> variables (same
// flag names, other meanings: --tls-cert is the server's certificate there)
// never configure the client.

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "client/commands/commands.h"

namespace specinv::client {
namespace {

// Sets environment variables for the lifetime of the object.
class ScopedEnv {
 public:
  void Set(const std::string& name, const std::string& value) {
    ASSERT_EQ(setenv(name.c_str(), value.c_str(), 1), 0);
    names_.push_back(name);
  }
  ~ScopedEnv() {
    for (const std::string& name : names_) unsetenv(name.c_str());
  }

 private:
  std::vector<std::string> names_;
};

ConnectionOptions ParseConnection(const std::string& command_line) {
  CLI::App app;
  ConnectionOptions options;
  AddConnectionFlags(&app, &options);
  app.parse(command_line, false);
  return options;
}

TEST(ConnectionFlagsTest, EveryEnvironmentNameIsClientPrefixed) {
  CLI::App app;
  CommandContext context;
  AddConnectionFlags(&app, &context.connection);
  RegisterCommands(&app, &context);
  std::vector<const CLI::App*> apps = {&app};
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) apps.push_back(sub);
  int with_env = 0;
  for (const CLI::App* a : apps) {
    for (const CLI::Option* option : a->get_options()) {
      const std::string env = option->get_envname();
      if (env.empty()) continue;
      ++with_env;
      EXPECT_TRUE(absl::StartsWith(env, "SPECINV_CLIENT_")) << a->get_name() << " " << option->get_name();
      // SPECINV_CLIENT_ + the long flag name in upper snake case.
      std::string expected = option->get_lnames().empty() ? "" : option->get_lnames().front();
      expected = "SPECINV_CLIENT_" + absl::AsciiStrToUpper(absl::StrReplaceAll(expected, {{"-", "_"}}));
      EXPECT_EQ(env, expected) << option->get_name();
    }
  }
  EXPECT_EQ(with_env, 11);  // every connection flag
}

TEST(ConnectionFlagsTest, ServerVariablesDoNotConfigureTheClient) {
  ScopedEnv env;
  // What a server container sets (its own certificate and limits).
  env.Set("SPECINV_TLS_CERT", "/etc/specinv/server.crt");
  env.Set("SPECINV_TLS_KEY", "/etc/specinv/server.key");
  env.Set("SPECINV_TLS_CLIENT_CA", "/etc/specinv/ca.crt");
  env.Set("SPECINV_MAX_MESSAGE_MB", "100");
  env.Set("SPECINV_PORT", "6000");
  env.Set("SPECINV_AUTH_TOKEN_FILE", "/etc/specinv/tokens");
  const ConnectionOptions o = ParseConnection("");
  const ConnectionOptions defaults;
  EXPECT_EQ(o.tls_cert, "");
  EXPECT_EQ(o.tls_key, "");
  EXPECT_EQ(o.tls_ca, "");
  EXPECT_EQ(o.token_file, "");
  EXPECT_EQ(o.max_message_mb, defaults.max_message_mb);
  EXPECT_EQ(o.server, defaults.server);
}

TEST(ConnectionFlagsTest, ClientVariablesConfigureTheClient) {
  ScopedEnv env;
  env.Set("SPECINV_CLIENT_SERVER", "dns:///specinv:50051");
  env.Set("SPECINV_CLIENT_DEADLINE_MS", "1500");
  env.Set("SPECINV_CLIENT_TLS_CA", "/ca.pem");
  env.Set("SPECINV_CLIENT_TLS_CERT", "/client.pem");
  env.Set("SPECINV_CLIENT_TLS_KEY", "/client.key");
  env.Set("SPECINV_CLIENT_TLS_SERVER_NAME", "specinv.internal");
  env.Set("SPECINV_CLIENT_TOKEN_FILE", "/token");
  env.Set("SPECINV_CLIENT_LB", "round_robin");
  env.Set("SPECINV_CLIENT_MAX_ATTEMPTS", "2");
  env.Set("SPECINV_CLIENT_INITIAL_BACKOFF_MS", "30");
  env.Set("SPECINV_CLIENT_MAX_MESSAGE_MB", "16");
  const ConnectionOptions o = ParseConnection("");
  EXPECT_EQ(o.server, "dns:///specinv:50051");
  EXPECT_EQ(o.deadline_ms, 1500);
  EXPECT_EQ(o.tls_ca, "/ca.pem");
  EXPECT_EQ(o.tls_cert, "/client.pem");
  EXPECT_EQ(o.tls_key, "/client.key");
  EXPECT_EQ(o.tls_server_name, "specinv.internal");
  EXPECT_EQ(o.token_file, "/token");
  EXPECT_EQ(o.lb, "round_robin");
  EXPECT_EQ(o.max_attempts, 2);
  EXPECT_EQ(o.initial_backoff_ms, 30);
  EXPECT_EQ(o.max_message_mb, 16);
  // Flags win over the environment.
  EXPECT_EQ(ParseConnection("--deadline-ms 99 --max-message-mb 8").deadline_ms, 99);
}

}  // namespace
}  // namespace specinv::client
