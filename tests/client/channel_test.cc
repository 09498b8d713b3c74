// Copyright specinv authors.

#include "client/channel.h"

#include <grpcpp/support/validate_service_config.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "client/files.h"

namespace specinv::client {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("specinv_channel_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

TEST(ServiceConfigJsonTest, DefaultHasValidRetryPolicy) {
  const std::string json = ServiceConfigJson(ConnectionOptions());
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(json), "") << json;
  EXPECT_NE(json.find("\"retryPolicy\""), std::string::npos);
  EXPECT_NE(json.find("\"maxAttempts\":4"), std::string::npos);
  EXPECT_NE(json.find("\"UNAVAILABLE\",\"RESOURCE_EXHAUSTED\""), std::string::npos);
  EXPECT_NE(json.find("specinv.v1.Spectrogram"), std::string::npos);
  EXPECT_EQ(json.find("loadBalancingConfig"), std::string::npos);
}

TEST(ServiceConfigJsonTest, RoundRobinIsValid) {
  ConnectionOptions options;
  options.lb = "round_robin";
  options.max_attempts = 5;
  options.initial_backoff_ms = 250;
  const std::string json = ServiceConfigJson(options);
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(json), "") << json;
  EXPECT_NE(json.find("\"round_robin\""), std::string::npos);
  EXPECT_NE(json.find("\"initialBackoff\":\"0.250s\""), std::string::npos);
  EXPECT_NE(json.find("\"healthCheckConfig\":{\"serviceName\":\"specinv.v1.Spectrogram\"}"),
            std::string::npos);
}

TEST(ServiceConfigJsonTest, OneAttemptHasNoRetryPolicy) {
  ConnectionOptions options;
  options.max_attempts = 1;
  const std::string json = ServiceConfigJson(options);
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(json), "") << json;
  EXPECT_EQ(json.find("retryPolicy"), std::string::npos);
}

TEST(ChannelTargetTest, RoundRobinPrefixesDns) {
  ConnectionOptions options;
  options.server = "specinv-headless:50051";
  EXPECT_EQ(ChannelTarget(options), "specinv-headless:50051");
  options.lb = "round_robin";
  EXPECT_EQ(ChannelTarget(options), "dns:///specinv-headless:50051");
  options.server = "dns:///already:1";
  EXPECT_EQ(ChannelTarget(options), "dns:///already:1");
  options.server = "ipv4:127.0.0.1:1,127.0.0.1:2";
  EXPECT_EQ(ChannelTarget(options), "ipv4:127.0.0.1:1,127.0.0.1:2");
}

TEST(ConnectionTest, InvalidOptions) {
  ConnectionOptions options;
  options.lb = "random";
  absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Open(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--lb"), absl::string_view::npos);

  options = ConnectionOptions();
  options.max_attempts = 6;
  c = Connection::Open(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--max-attempts must be in [1, 5], got 6"),
            absl::string_view::npos);

  options = ConnectionOptions();
  options.deadline_ms = 0;
  EXPECT_EQ(Connection::Open(options).status().code(), absl::StatusCode::kInvalidArgument);

  options = ConnectionOptions();
  options.tls_ca = "/dev/null";
  options.tls_cert = "cert.pem";
  EXPECT_EQ(Connection::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConnectionTest, MissingTokenFileIsNotFound) {
  ConnectionOptions options;
  options.token_file = TempPath("does_not_exist");
  absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Open(options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find(options.token_file), absl::string_view::npos);
}

TEST(ConnectionTest, EmptyTokenFileIsRejected) {
  const std::string path = TempPath("empty_token");
  ASSERT_TRUE(WriteFileBytes(path, " \n").ok());
  ConnectionOptions options;
  options.token_file = path;
  EXPECT_EQ(Connection::Open(options).status().code(), absl::StatusCode::kInvalidArgument);
  std::remove(path.c_str());
}

TEST(ConnectionTest, PrepareSetsDeadlineAndToken) {
  const std::string path = TempPath("token");
  ASSERT_TRUE(WriteFileBytes(path, "s3cret\n").ok());
  ConnectionOptions options;
  options.token_file = path;
  options.deadline_ms = 5000;
  absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Open(options);
  ASSERT_TRUE(c.ok()) << c.status();
  grpc::ClientContext context;
  const auto before = std::chrono::system_clock::now();
  (*c)->Prepare(&context);
  const auto deadline = context.deadline();
  EXPECT_GE(deadline, before + std::chrono::milliseconds(4900));
  EXPECT_LE(deadline, std::chrono::system_clock::now() + std::chrono::milliseconds(5000));
  grpc::ClientContext other;
  (*c)->Prepare(&other, 100);
  EXPECT_LE(other.deadline(), std::chrono::system_clock::now() + std::chrono::milliseconds(100));
  std::remove(path.c_str());
}

TEST(FileExtensionTest, LowerCaseWithoutDot) {
  EXPECT_EQ(FileExtension("a/b.WAV"), "wav");
  EXPECT_EQ(FileExtension("mel.npy"), "npy");
  EXPECT_EQ(FileExtension("dir.d/file"), "");
  EXPECT_EQ(FileExtension("noext"), "");
}

}  // namespace
}  // namespace specinv::client
