// Copyright specinv authors.

#include "server/http/http_status.h"

#include <algorithm>
#include <cmath>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/status_mapping.h"

namespace specinv::server {

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted: return 409;
    case absl::StatusCode::kResourceExhausted: return 429;
    case absl::StatusCode::kCancelled: return 499;
    case absl::StatusCode::kUnimplemented: return 501;
    case absl::StatusCode::kUnavailable: return 503;
    case absl::StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

std::string ErrorJson(const absl::Status& status, absl::string_view request_id) {
  google::protobuf::Struct body;
  auto& fields = *body.mutable_fields();
  fields["code"].set_string_value(std::string(absl::StatusCodeToString(status.code())));
  fields["message"].set_string_value(std::string(status.message()));
  if (std::optional<std::string> field = FieldOf(status)) fields["field"].set_string_value(*field);
  if (!request_id.empty()) fields["request_id"].set_string_value(std::string(request_id));
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(body, &json).ok()) {
    return absl::StrCat("{\"code\":\"", absl::StatusCodeToString(status.code()), "\"}");
  }
  return json + "\n";
}

std::optional<std::string> RetryAfterMsOf(const absl::Status& status) {
  std::optional<absl::Duration> delay = RetryDelayOf(status);
  if (!delay) return std::nullopt;
  return absl::StrCat(static_cast<int64_t>(std::ceil(absl::ToDoubleMilliseconds(*delay))));
}

std::optional<std::string> RetryAfterOf(const absl::Status& status) {
  std::optional<absl::Duration> delay = RetryDelayOf(status);
  if (!delay) return std::nullopt;
  return absl::StrCat(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(absl::ToDoubleSeconds(*delay)))));
}

}  // namespace specinv::server
