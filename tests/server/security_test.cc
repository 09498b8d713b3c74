// Copyright specinv authors.
//
// Bearer-token auth, TLS and mutual TLS, the metrics endpoint, log format.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/auth.h"
#include "server/logging.h"
#include "server/test_server.h"
#include "specinv/io/audio_io.h"

// Last: with OpenSSL support on, its headers define macros that break Eigen.
#include <httplib.h>

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;

TEST(AuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(server::ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(server::ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(server::ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(server::ConstantTimeEquals("", "x"));
  EXPECT_TRUE(server::ConstantTimeEquals("", ""));
}

TEST(AuthTest, TokenFileParsing) {
  const std::string path = ::testing::TempDir() + "/specinv_tokens_" + std::to_string(getpid());
  ASSERT_TRUE(WriteFileBytes(path, "# comment\n\n  alpha  \nbeta\n").ok());
  auto auth = server::TokenAuthenticator::FromFile(path);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(auth->enabled());
  ASSERT_TRUE(WriteFileBytes(path, "# only a comment\n").ok());
  EXPECT_FALSE(server::TokenAuthenticator::FromFile(path).ok());
  EXPECT_FALSE(server::TokenAuthenticator::FromFile(path + ".missing").ok());
  std::filesystem::remove(path);
}

class AuthServerTest : public ::testing::Test {
 protected:
  static server::ServerOptions Options() {
    server::ServerOptions o = TestOptions();
    o.auth_tokens = {"first-token", "s3cret-token"};
    o.allow_insecure_auth = true;  // loopback test; TLS is covered by TlsTest
    return o;
  }
  grpc::Status Info(const std::string& authorization) {
    v1::GetServerInfoResponse info;
    auto ctx = Context();
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    return server_.stub().GetServerInfo(ctx.get(), {}, &info);
  }
  TestServer server_{Options()};
};

TEST_F(AuthServerTest, MissingOrWrongTokenIsUnauthenticated) {
  EXPECT_EQ(Info("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info("Bearer wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info("s3cret-token").error_code(), grpc::StatusCode::UNAUTHENTICATED);  // no scheme
  EXPECT_THAT(Info("Bearer wrong").error_message(), ::testing::Not(HasSubstr("wrong")));
  EXPECT_TRUE(Info("Bearer s3cret-token").ok());
  EXPECT_TRUE(Info("Bearer first-token").ok());

  // DSP RPCs are guarded too, before any work is queued.
  v1::AnalyzeResponse response;
  EXPECT_EQ(Call(server_, &v1::Spectrogram::Stub::Analyze, {}, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto ctx2 = Context();
  auto reader = server_.stub().InvertMelStream(ctx2.get(), {});
  v1::InvertMelStreamResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthServerTest, HealthIsExempt) {
  auto health = grpc::health::v1::Health::NewStub(server_.NewChannel());
  grpc::health::v1::HealthCheckResponse response;
  auto ctx = Context();
  ASSERT_TRUE(health->Check(ctx.get(), {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(AuthOptionsTest, TokenOnPlaintextPortIsRefusedUnlessAllowed) {
  server::ServerOptions o = TestOptions();
  o.auth_tokens = {"s3cret-token"};
  absl::StatusOr<std::unique_ptr<server::SpecinvServer>> refused = server::SpecinvServer::Start(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--allow-insecure-auth"));
}

// Certificates made at test time with the openssl command line tool.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "openssl tool not available";
    dir_ = ::testing::TempDir() + "/specinv_tls_" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
    const std::string d = dir_;
    const std::string cmd =
        "cd " + d + " && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
        "-days 1 -subj /CN=specinv-test-ca && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 "
        "-extfile san.ext && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.csr "
        "-subj /CN=client && "
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1";
    ASSERT_EQ(std::system((cmd + " > /dev/null 2>&1").c_str()), 0) << cmd;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Read(const std::string& name) { return *ReadFileBytes(dir_ + "/" + name); }
  std::shared_ptr<grpc::Channel> Channel(int port, bool client_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read("ca.pem");
    if (client_cert) {
      ssl.pem_private_key = Read("client.key");
      ssl.pem_cert_chain = Read("client.pem");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl), args);
  }
  grpc::Status Info(const std::shared_ptr<grpc::Channel>& channel, v1::GetServerInfoResponse* info) {
    auto ctx = Context(absl::Seconds(10));
    return v1::Spectrogram::NewStub(channel)->GetServerInfo(ctx.get(), {}, info);
  }
  std::string dir_;
};

TEST_F(TlsTest, ServesOverTls) {
  server::ServerOptions o = TestOptions();
  o.tls_cert_file = dir_ + "/server.pem";
  o.tls_key_file = dir_ + "/server.key";
  TestServer server(o);
  v1::GetServerInfoResponse info;
  grpc::Status status = Info(Channel(server.server().port(), false), &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(info.tls_enabled());
  // A plaintext client cannot talk to it.
  auto ctx = Context(absl::Seconds(5));
  EXPECT_FALSE(server.stub().GetServerInfo(ctx.get(), {}, &info).ok());
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  server::ServerOptions o = TestOptions();
  o.tls_cert_file = dir_ + "/server.pem";
  o.tls_key_file = dir_ + "/server.key";
  o.tls_client_ca_file = dir_ + "/ca.pem";
  TestServer server(o);
  v1::GetServerInfoResponse info;
  EXPECT_TRUE(Info(Channel(server.server().port(), true), &info).ok());
  EXPECT_FALSE(Info(Channel(server.server().port(), false), &info).ok());
}

TEST(ServerOptionsTest, InvalidOptionsAreRejected) {
  server::ServerOptions o = TestOptions();
  o.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_THAT(std::string(server::SpecinvServer::Start(o).status().message()), HasSubstr("--tls-cert and --tls-key"));
  o.tls_key_file = "/nonexistent/key.pem";
  EXPECT_THAT(std::string(server::SpecinvServer::Start(o).status().message()), HasSubstr("--tls-cert"));
  o = TestOptions();
  o.limits.max_n_fft = 8;
  EXPECT_THAT(std::string(server::SpecinvServer::Start(o).status().message()), HasSubstr("--max-n-fft"));
  o = TestOptions();
  o.workers = -2;
  EXPECT_THAT(std::string(server::SpecinvServer::Start(o).status().message()), HasSubstr("--workers"));
  o = TestOptions();
  o.http_port = 70000;
  EXPECT_THAT(std::string(server::SpecinvServer::Start(o).status().message()), HasSubstr("--http-port"));
}

TEST(ServerOptionsTest, TakenPortIsAnError) {
  TestServer first;
  server::ServerOptions o = TestOptions();
  o.port = first.server().port();
  auto second = server::SpecinvServer::Start(o);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("cannot listen"));
}

TEST(MetricsEndpointTest, ServesPrometheusText) {
  server::ServerOptions o = TestOptions();
  o.metrics_host = "127.0.0.1";
  o.metrics_port = 0;
  TestServer server(o);
  ASSERT_GT(server.server().metrics_port(), 0);
  v1::GetServerInfoResponse info;
  ASSERT_TRUE(Call(server, &v1::Spectrogram::Stub::GetServerInfo, {}, &info).ok());
  httplib::Client client("127.0.0.1", server.server().metrics_port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain"));
  EXPECT_THAT(res->body, HasSubstr("specinv_rpc_requests_total{code=\"OK\",method=\"GetServerInfo\"} 1\n"));
  EXPECT_THAT(res->body, HasSubstr("# TYPE specinv_rpc_duration_seconds histogram\n"));
  EXPECT_THAT(res->body, HasSubstr("specinv_rpc_duration_seconds_bucket{method=\"GetServerInfo\",le=\"+Inf\"} 1\n"));
  EXPECT_THAT(res->body, HasSubstr("specinv_workers_busy 0\n"));
}

TEST(LoggingTest, TextAndJsonLines) {
  const std::string text = server::FormatEvent(server::LogFormat::kText, "rpc",
                                               {{"request_id", "ab12"}, {"method", "Analyze"}, {"status", "OK"},
                                                {"duration_ms", 1.5}, {"error", "bad \"x\""}});
  EXPECT_EQ(text, "rpc request_id=ab12 method=Analyze status=OK duration_ms=1.500 error=\"bad \\\"x\\\"\"");
  const std::string json = server::FormatEvent(server::LogFormat::kJson, "rpc",
                                               {{"request_id", "ab12"}, {"audio_s", 2.0}, {"tls", false},
                                                {"error", "line\nbreak"}});
  EXPECT_EQ(json, "\"event\":\"rpc\",\"request_id\":\"ab12\",\"audio_s\":2.000,\"tls\":false,"
                  "\"error\":\"line\\nbreak\"");
  EXPECT_FALSE(server::ConfigureLogging("loud", "text").ok());
  EXPECT_FALSE(server::ConfigureLogging("info", "xml").ok());
  EXPECT_TRUE(server::ConfigureLogging("warn", "text").ok());
}

}  // namespace
}  // namespace specinv::testing
