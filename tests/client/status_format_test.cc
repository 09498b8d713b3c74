// Copyright specinv authors.

#include "client/status_format.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

namespace specinv::client {
namespace {

TEST(FormatErrorTest, CodeNameAndMessageOnOneLine) {
  EXPECT_EQ(FormatError(absl::InvalidArgumentError("config.n_fft must be in [16, 65536], got 8")),
            "error: INVALID_ARGUMENT: config.n_fft must be in [16, 65536], got 8");
  EXPECT_EQ(FormatError(absl::ResourceExhaustedError("queue full")),
            "error: RESOURCE_EXHAUSTED: queue full");
}

TEST(FormatErrorTest, MultiLineMessageIsFolded) {
  EXPECT_EQ(FormatError(absl::UnavailableError("first\nsecond\r\nthird\n")),
            "error: UNAVAILABLE: first; second; third");
  EXPECT_EQ(FormatError(absl::UnavailableError("\nleading")), "error: UNAVAILABLE: leading");
}

TEST(FormatErrorTest, EmptyMessage) {
  EXPECT_EQ(FormatError(absl::Status(absl::StatusCode::kCancelled, "")), "error: CANCELLED");
}

TEST(StatusCodeNameTest, AllCanonicalCodes) {
  const std::pair<absl::StatusCode, const char*> cases[] = {
      {absl::StatusCode::kOk, "OK"},
      {absl::StatusCode::kCancelled, "CANCELLED"},
      {absl::StatusCode::kUnknown, "UNKNOWN"},
      {absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
      {absl::StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED"},
      {absl::StatusCode::kNotFound, "NOT_FOUND"},
      {absl::StatusCode::kAlreadyExists, "ALREADY_EXISTS"},
      {absl::StatusCode::kPermissionDenied, "PERMISSION_DENIED"},
      {absl::StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED"},
      {absl::StatusCode::kFailedPrecondition, "FAILED_PRECONDITION"},
      {absl::StatusCode::kAborted, "ABORTED"},
      {absl::StatusCode::kOutOfRange, "OUT_OF_RANGE"},
      {absl::StatusCode::kUnimplemented, "UNIMPLEMENTED"},
      {absl::StatusCode::kInternal, "INTERNAL"},
      {absl::StatusCode::kUnavailable, "UNAVAILABLE"},
      {absl::StatusCode::kDataLoss, "DATA_LOSS"},
      {absl::StatusCode::kUnauthenticated, "UNAUTHENTICATED"},
  };
  for (const auto& [code, name] : cases) EXPECT_EQ(StatusCodeName(code), name);
}

TEST(FromGrpcStatusTest, KeepsCodeAndMessage) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue is full (4 jobs)"));
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "queue is full (4 jobs)");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_EQ(FormatError(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad token"))),
            "error: UNAUTHENTICATED: bad token");
}

}  // namespace
}  // namespace specinv::client
