// Copyright specinv authors.

#include "server/status_mapping.h"

#include <cctype>
#include <cstdint>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace specinv::server {
namespace {

constexpr char kFieldPayload[] = "type.googleapis.com/specinv.internal.FieldPath";
constexpr char kRetryPayload[] = "type.googleapis.com/specinv.internal.RetryDelayMs";

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '[' ||
         c == ']';
}

absl::string_view LastComponent(absl::string_view path) {
  const size_t dot = path.rfind('.');
  absl::string_view leaf = dot == absl::string_view::npos ? path : path.substr(dot + 1);
  const size_t bracket = leaf.find('[');
  return bracket == absl::string_view::npos ? leaf : leaf.substr(0, bracket);
}

absl::Status Rebuild(const absl::Status& original, std::string message, std::string field) {
  absl::Status out(original.code(), message);
  original.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  out.SetPayload(kFieldPayload, absl::Cord(field));
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
  s.SetPayload(kFieldPayload, absl::Cord(path));
  return s;
}

absl::Status WithField(const absl::Status& status, absl::string_view path) {
  if (status.ok()) return status;
  const absl::string_view message = status.message();
  if (auto existing = FieldOf(status)) {
    // Nested attribution: prefix the existing path and the message.
    const std::string full = absl::StrCat(path, ".", *existing);
    std::string new_message(message);
    if (absl::StartsWith(message, *existing)) {
      new_message = absl::StrCat(path, ".", message);
    }
    return Rebuild(status, std::move(new_message), full);
  }
  const absl::string_view leaf = LastComponent(path);
  if (!leaf.empty() && message.size() > leaf.size() && absl::StartsWith(message, leaf) &&
      (message[leaf.size()] == ' ' || message[leaf.size()] == '[' || message[leaf.size()] == ':')) {
    std::string new_message = absl::StrCat(path, message.substr(leaf.size()));
    // "audio.pcm_data[3] is NaN" -> keep the index in the message, the path stays the field.
    return Rebuild(status, std::move(new_message), std::string(path));
  }
  return Rebuild(status, absl::StrCat(path, ": ", message), std::string(path));
}

absl::Status WithConfigField(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  const absl::string_view message = status.message();
  size_t n = 0;
  while (n < message.size() && IsIdentChar(message[n]) && message[n] != '[') ++n;
  const absl::string_view word = message.substr(0, n);
  static constexpr absl::string_view kTop[] = {
      "sample_rate_hertz", "n_fft",  "hop_length", "win_length", "window",   "center",
      "pad_mode",          "framing", "power",     "magnitude_epsilon", "n_mels", "fmin_hertz",
      "fmax_hertz",        "mel_scale", "mel_norm", "drop_last_frame", "preset"};
  static constexpr absl::string_view kScale[] = {"amin", "top_db", "clamp", "kind"};
  for (absl::string_view f : kTop) {
    if (word == f) return WithField(status, absl::StrCat(prefix, ".", f));
  }
  for (absl::string_view f : kScale) {
    if (word == f) return WithField(status, absl::StrCat(prefix, ".scale.", f));
  }
  if (word == "ref") {
    return Rebuild(status, absl::StrCat(prefix, ".scale.ref_value", message.substr(word.size())),
                   absl::StrCat(prefix, ".scale.ref_value"));
  }
  return WithField(status, prefix);
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPayload);
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
