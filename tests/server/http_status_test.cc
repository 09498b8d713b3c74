// Copyright specinv authors.

#include "server/http/http_status.h"

#include <gtest/gtest.h>

#include "server/status_mapping.h"

namespace specinv::server {
namespace {

TEST(HttpStatusTest, CodesMapToTheDocumentedStatuses) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
}

TEST(HttpStatusTest, ErrorJsonCarriesCodeMessageFieldAndRequestId) {
  const std::string json = ErrorJson(InvalidField("config.hop_length", "must be in [1, 1024], got 0"), "abc");
  EXPECT_NE(json.find(R"("code":"INVALID_ARGUMENT")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("field":"config.hop_length")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("request_id":"abc")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(must be in [1, 1024], got 0)"), std::string::npos) << json;
  // Quotes and control characters in messages are escaped.
  const std::string escaped = ErrorJson(absl::InvalidArgumentError("a \"quoted\"\nline"), "");
  EXPECT_NE(escaped.find(R"(a \"quoted\"\nline)"), std::string::npos) << escaped;
  EXPECT_EQ(escaped.find("request_id"), std::string::npos) << escaped;
}

TEST(HttpStatusTest, RetryAfterIsWholeSecondsRoundedUp) {
  EXPECT_FALSE(RetryAfterOf(absl::ResourceExhaustedError("busy")).has_value());
  EXPECT_EQ(RetryAfterOf(WithRetryDelay(absl::ResourceExhaustedError("busy"), absl::Milliseconds(30))), "1");
  EXPECT_EQ(RetryAfterOf(WithRetryDelay(absl::ResourceExhaustedError("busy"), absl::Milliseconds(2100))), "3");
}

TEST(HttpStatusTest, RetryAfterMsIsTheHintInMilliseconds) {
  EXPECT_FALSE(RetryAfterMsOf(absl::ResourceExhaustedError("busy")).has_value());
  EXPECT_EQ(RetryAfterMsOf(WithRetryDelay(absl::ResourceExhaustedError("busy"), absl::Milliseconds(30))), "30");
  EXPECT_EQ(RetryAfterMsOf(WithRetryDelay(absl::ResourceExhaustedError("busy"), absl::Milliseconds(2100))), "2100");
}

}  // namespace
}  // namespace specinv::server
