// Copyright specinv authors.

#include "client/retry_hint.h"

#include <limits>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "client/status_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace specinv::client {
namespace {

constexpr char kPushbackKey[] = "grpc-retry-pushback-ms";
constexpr char kHintPayload[] = "type.specinv.dev/specinv.client.RetryHintMs";
constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000 - 1;

std::optional<int64_t> RetryInfoMs(const std::string& details) {
  if (details.empty()) return std::nullopt;
  google::rpc::Status rpc_status;
  if (!rpc_status.ParseFromString(details)) return std::nullopt;
  for (const auto& any : rpc_status.details()) {
    google::rpc::RetryInfo info;
    if (!any.Is<google::rpc::RetryInfo>() || !any.UnpackTo(&info)) continue;
    const int64_t seconds = info.retry_delay().seconds();
    const int32_t nanos = info.retry_delay().nanos();
    if (seconds < 0 || nanos < 0 || nanos > 999999999 || seconds > kMaxSeconds) return std::nullopt;
    return seconds * 1000 + nanos / 1000000;
  }
  return std::nullopt;
}

std::optional<int64_t> PushbackMs(const TrailingMetadata& trailers) {
  auto it = trailers.find(kPushbackKey);
  if (it == trailers.end()) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &ms) || ms < 0) {
    return std::nullopt;
  }
  return ms;
}

}  // namespace

std::optional<int64_t> RetryHintMs(const grpc::Status& status, const TrailingMetadata& trailers) {
  if (status.ok()) return std::nullopt;
  if (std::optional<int64_t> ms = RetryInfoMs(status.error_details())) return ms;
  return PushbackMs(trailers);
}

absl::Status WithRetryHintMs(absl::Status status, int64_t ms) {
  if (status.ok() || ms < 0) return status;
  status.SetPayload(kHintPayload, absl::Cord(std::to_string(ms)));
  return status;
}

std::optional<int64_t> RetryHintMsOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kHintPayload);
  if (!payload) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &ms) || ms < 0) return std::nullopt;
  return ms;
}

absl::Status FromGrpcCall(const grpc::Status& status, const grpc::ClientContext& context) {
  absl::Status out = FromGrpcStatus(status);
  if (status.ok()) return out;
  if (std::optional<int64_t> ms = RetryHintMs(status, context.GetServerTrailingMetadata())) {
    out = WithRetryHintMs(std::move(out), *ms);
  }
  return out;
}

}  // namespace specinv::client
