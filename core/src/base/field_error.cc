// Copyright specinv authors.

#include "specinv/base/field_error.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace specinv {
namespace {

// This abseil build has its own string_view type; convert explicitly.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::Status InvalidField(std::string_view field, std::string_view message) {
  std::string text;
  text.reserve(field.size() + 1 + message.size());
  text.append(field).append(" ").append(message);
  absl::Status status = absl::InvalidArgumentError(text);
  status.SetPayload(kFieldPayloadUrl, absl::Cord(AbslView(field)));
  return status;
}

absl::Status WithField(absl::Status status, std::string_view field) {
  if (status.ok()) return status;
  status.SetPayload(kFieldPayloadUrl, absl::Cord(AbslView(field)));
  return status;
}

std::optional<std::string> FieldOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

absl::Status WithFieldPrefix(absl::Status status, std::string_view prefix) {
  if (status.ok() || prefix.empty()) return status;
  std::optional<std::string> field = FieldOf(status);
  if (!field.has_value()) return status;
  const bool no_dot = field->empty() || (*field)[0] == '[';
  std::string nested(prefix);
  if (!no_dot) nested += '.';
  nested += *field;
  const std::string_view message(status.message().data(), status.message().size());
  if (!field->empty() && message.size() > field->size() && message.substr(0, field->size()) == *field &&
      (message[field->size()] == ' ' || message[field->size()] == '[')) {
    std::string text = nested;
    text.append(message.substr(field->size()));
    absl::Status renamed(status.code(), text);
    status.ForEachPayload([&renamed](absl::string_view url, const absl::Cord& payload) {
      renamed.SetPayload(url, payload);
    });
    status = std::move(renamed);
  }
  status.SetPayload(kFieldPayloadUrl, absl::Cord(nested));
  return status;
}

}  // namespace specinv
