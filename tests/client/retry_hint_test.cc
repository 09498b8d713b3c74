// Copyright specinv authors.

#include "client/retry_hint.h"

#include <gtest/gtest.h>

#include <string>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace specinv::client {
namespace {

// error_details bytes: a google.rpc.Status with a RetryInfo (and a
// BadRequest first, so the RetryInfo is not simply the first detail).
std::string DetailsWithRetryInfo(int64_t seconds, int32_t nanos) {
  google::rpc::Status status;
  status.set_code(8);
  google::rpc::BadRequest bad;
  bad.add_field_violations()->set_field("x");
  status.add_details()->PackFrom(bad);
  google::rpc::RetryInfo retry;
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(nanos);
  status.add_details()->PackFrom(retry);
  return status.SerializeAsString();
}

grpc::Status Exhausted(std::string details = "") {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "server busy", std::move(details));
}

TEST(RetryHintTest, ReadsRetryInfoDetail) {
  const TrailingMetadata none;
  EXPECT_EQ(RetryHintMs(Exhausted(DetailsWithRetryInfo(1, 500000000)), none), 1500);
  EXPECT_EQ(RetryHintMs(Exhausted(DetailsWithRetryInfo(0, 25000000)), none), 25);
  EXPECT_EQ(RetryHintMs(Exhausted(DetailsWithRetryInfo(0, 0)), none), 0);
}

TEST(RetryHintTest, ReadsPushbackTrailer) {
  const std::string key = "grpc-retry-pushback-ms";
  std::string value = "250";
  TrailingMetadata trailers{{key, value}};
  EXPECT_EQ(RetryHintMs(Exhausted(), trailers), 250);
  // RetryInfo wins when both are present.
  EXPECT_EQ(RetryHintMs(Exhausted(DetailsWithRetryInfo(0, 40000000)), trailers), 40);
  // Details without a RetryInfo fall back to the trailer.
  google::rpc::Status no_retry;
  no_retry.set_code(8);
  EXPECT_EQ(RetryHintMs(Exhausted(no_retry.SerializeAsString()), trailers), 250);
}

TEST(RetryHintTest, NoHint) {
  const std::string key = "grpc-retry-pushback-ms";
  const TrailingMetadata none;
  EXPECT_FALSE(RetryHintMs(grpc::Status::OK, none).has_value());
  EXPECT_FALSE(RetryHintMs(Exhausted(), none).has_value());
  for (std::string bad : {"-1", "abc", "", "12ms"}) {
    TrailingMetadata trailers{{key, bad}};
    EXPECT_FALSE(RetryHintMs(Exhausted(), trailers).has_value()) << "\"" << bad << "\"";
  }
  // A negative RetryInfo is not a hint; neither are unparseable details.
  EXPECT_FALSE(RetryHintMs(Exhausted(DetailsWithRetryInfo(-1, 0)), none).has_value());
  EXPECT_FALSE(RetryHintMs(Exhausted("\xff\xff not a proto"), none).has_value());
  // The OK status of a call never carries a hint, whatever the trailers say.
  std::string value = "100";
  TrailingMetadata trailers{{key, value}};
  EXPECT_FALSE(RetryHintMs(grpc::Status::OK, trailers).has_value());
}

TEST(RetryHintTest, PayloadRoundTrip) {
  const absl::Status with = WithRetryHintMs(absl::ResourceExhaustedError("busy"), 75);
  EXPECT_EQ(with.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(with.message(), "busy");
  EXPECT_EQ(RetryHintMsOf(with), 75);
  EXPECT_FALSE(RetryHintMsOf(absl::ResourceExhaustedError("busy")).has_value());
  EXPECT_FALSE(RetryHintMsOf(WithRetryHintMs(absl::OkStatus(), 75)).has_value());
  EXPECT_FALSE(RetryHintMsOf(WithRetryHintMs(absl::UnavailableError("x"), -5)).has_value());
}

}  // namespace
}  // namespace specinv::client
