// Copyright specinv authors.

#include "server/status_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "specinv/base/field_error.h"

namespace specinv::server {
namespace {

TEST(StatusMappingTest, CodesMapOneToOne) {
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kOk), grpc::StatusCode::OK);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kInvalidArgument), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kResourceExhausted), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kDeadlineExceeded), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kCancelled), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kUnauthenticated), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kUnimplemented), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kNotFound), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcCode(absl::StatusCode::kInternal), grpc::StatusCode::INTERNAL);
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(StatusMappingTest, WithFieldReplacesTheCoreFieldName) {
  absl::Status s = WithField(absl::InvalidArgumentError("n_fft must be in [16, 65536], got 8"), "config.n_fft");
  EXPECT_EQ(s.message(), "config.n_fft must be in [16, 65536], got 8");
  EXPECT_EQ(FieldOf(s), "config.n_fft");
  absl::Status other = WithField(absl::InvalidArgumentError("audio is empty (0 bytes)"), "audio.encoded_data");
  EXPECT_EQ(other.message(), "audio.encoded_data: audio is empty (0 bytes)");
  EXPECT_TRUE(WithField(absl::OkStatus(), "x").ok());
}

TEST(StatusMappingTest, CoreFieldIsReplacedKeepingItsIndex) {
  // Core names its own input ("mel[3]"); the service knows where it sits.
  absl::Status core = specinv::WithField(absl::InvalidArgumentError("mel[3] is NaN"), "mel[3]");
  absl::Status placed = WithField(core, "requests[2].mel");
  EXPECT_EQ(placed.message(), "requests[2].mel[3] is NaN");
  EXPECT_EQ(FieldOf(placed), "requests[2].mel[3]");
  // A core name unlike the path's leaf is replaced whole.
  absl::Status samples = specinv::WithField(absl::InvalidArgumentError("samples must not be empty"), "samples");
  absl::Status audio = WithField(samples, "audio.pcm");
  EXPECT_EQ(audio.message(), "audio.pcm must not be empty");
  EXPECT_EQ(FieldOf(audio), "audio.pcm");
}

TEST(StatusMappingTest, DetailsCarryBadRequestAndRetryInfo) {
  grpc::Status bad = ToGrpcStatus(InvalidField("options.iterations", "must be in [0, 1000], got 5000"));
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "options.iterations must be in [0, 1000], got 5000");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(bad.error_details()));
  EXPECT_EQ(details.code(), 3);
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "options.iterations");

  absl::Status busy = WithRetryDelay(absl::ResourceExhaustedError("server busy"), absl::Milliseconds(1250));
  EXPECT_EQ(RetryDelayOf(busy), absl::Milliseconds(1250));
  EXPECT_EQ(RetryPushbackMetadata(*RetryDelayOf(busy)), "1250");
  grpc::Status mapped = ToGrpcStatus(busy);
  ASSERT_TRUE(details.ParseFromString(mapped.error_details()));
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(details.details(0).UnpackTo(&retry));
  EXPECT_EQ(retry.retry_delay().seconds(), 1);
  EXPECT_EQ(retry.retry_delay().nanos(), 250000000);

  // No structured detail: plain status.
  EXPECT_TRUE(ToGrpcStatus(absl::InternalError("boom")).error_details().empty());
}

}  // namespace
}  // namespace specinv::server
