// Copyright specinv authors.

#include "server/status_mapping.h"

#include <cstdint>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "specinv/base/field_error.h"

namespace specinv::server {
namespace {

constexpr char kRetryPayload[] = "type.googleapis.com/specinv.internal.RetryDelayMs";

absl::string_view LastComponent(absl::string_view path) {
  const size_t dot = path.rfind('.');
  absl::string_view leaf = dot == absl::string_view::npos ? path : path.substr(dot + 1);
  const size_t bracket = leaf.find('[');
  return bracket == absl::string_view::npos ? leaf : leaf.substr(0, bracket);
}

// `message` starts with `name` followed by a space, '[' or ':'.
bool StartsWithName(absl::string_view message, absl::string_view name) {
  return !name.empty() && message.size() > name.size() && absl::StartsWith(message, name) &&
         (message[name.size()] == ' ' || message[name.size()] == '[' || message[name.size()] == ':');
}

absl::Status Rebuild(const absl::Status& original, std::string message, std::string field) {
  absl::Status out(original.code(), message);
  original.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  out.SetPayload(specinv::kFieldPayloadUrl, absl::Cord(field));
  return out;
}

}  // namespace

absl::Status InvalidField(absl::string_view path, absl::string_view message) {
  const absl::string_view leaf = LastComponent(path);
  if (!leaf.empty() && absl::StartsWith(message, leaf)) {
    return WithField(absl::InvalidArgumentError(message), path);
  }
  // Our own messages continue the path: "config.n_fft must be in ...".
  absl::Status s = absl::InvalidArgumentError(absl::StrCat(path, " ", message));
  s.SetPayload(specinv::kFieldPayloadUrl, absl::Cord(path));
  return s;
}

absl::Status WithField(const absl::Status& status, absl::string_view path) {
  if (status.ok()) return status;
  const absl::string_view message = status.message();
  std::string field(path);
  // The name the message starts with: core's field, else the path's leaf.
  absl::string_view named = LastComponent(path);
  if (auto existing = FieldOf(status)) {
    named = "";
    const size_t head_end = existing->find_first_of(".[");
    const absl::string_view head = absl::string_view(*existing).substr(0, head_end);
    if (head_end != std::string::npos && (*existing)[head_end] == '[' && head == LastComponent(path)) {
      field = absl::StrCat(path, absl::string_view(*existing).substr(head_end));  // keep "[3]"
    }
    if (StartsWithName(message, *existing)) {
      return Rebuild(status, absl::StrCat(field, message.substr(existing->size())), field);
    }
  }
  if (!named.empty() && StartsWithName(message, named)) {
    return Rebuild(status, absl::StrCat(path, message.substr(named.size())), field);
  }
  return Rebuild(status, absl::StrCat(field, ": ", message), field);
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  auto payload = status.GetPayload(specinv::kFieldPayloadUrl);
  if (!payload) return std::nullopt;
  return std::string(*payload);
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  status.SetPayload(kRetryPayload, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(delay))));
  return status;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryPayload);
  int64_t ms = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return absl::Milliseconds(ms);
}

std::string RetryPushbackMetadata(absl::Duration delay) {
  return absl::StrCat(std::max<int64_t>(0, absl::ToInt64Milliseconds(delay)));
}

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return grpc::StatusCode::OK;
    case absl::StatusCode::kCancelled: return grpc::StatusCode::CANCELLED;
    case absl::StatusCode::kUnknown: return grpc::StatusCode::UNKNOWN;
    case absl::StatusCode::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case absl::StatusCode::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case absl::StatusCode::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case absl::StatusCode::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case absl::StatusCode::kPermissionDenied: return grpc::StatusCode::PERMISSION_DENIED;
    case absl::StatusCode::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case absl::StatusCode::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case absl::StatusCode::kAborted: return grpc::StatusCode::ABORTED;
    case absl::StatusCode::kOutOfRange: return grpc::StatusCode::OUT_OF_RANGE;
    case absl::StatusCode::kUnimplemented: return grpc::StatusCode::UNIMPLEMENTED;
    case absl::StatusCode::kInternal: return grpc::StatusCode::INTERNAL;
    case absl::StatusCode::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case absl::StatusCode::kDataLoss: return grpc::StatusCode::DATA_LOSS;
    case absl::StatusCode::kUnauthenticated: return grpc::StatusCode::UNAUTHENTICATED;
    default: return grpc::StatusCode::UNKNOWN;
  }
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const grpc::StatusCode code = ToGrpcCode(status.code());
  const std::string message(status.message());
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(code));
  details.set_message(message);
  if (auto field = FieldOf(status)) {
    google::rpc::BadRequest bad_request;
    auto* violation = bad_request.add_field_violations();
    violation->set_field(*field);
    violation->set_description(message);
    details.add_details()->PackFrom(bad_request);
  }
  if (auto delay = RetryDelayOf(status)) {
    google::rpc::RetryInfo retry;
    const int64_t ms = absl::ToInt64Milliseconds(*delay);
    retry.mutable_retry_delay()->set_seconds(ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
    details.add_details()->PackFrom(retry);
  }
  if (details.details_size() == 0) return grpc::Status(code, message);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace specinv::server
