// Copyright specinv authors.

#include "server/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "specinv/io/audio_io.h"

namespace specinv::server {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

absl::StatusOr<TokenAuthenticator> TokenAuthenticator::FromFile(const std::string& path) {
  absl::StatusOr<std::vector<std::string>> tokens = ReadTokenFile(path);
  if (!tokens.ok()) return tokens.status();
  return TokenAuthenticator(*std::move(tokens));
}

absl::StatusOr<std::vector<std::string>> TokenAuthenticator::ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileBytes(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError("--auth-token-file: " + std::string(text.status().message()));
  }
  std::vector<std::string> tokens;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError("--auth-token-file " + path + " holds no token (one per line)");
  }
  return tokens;
}

absl::Status TokenAuthenticator::Check(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return CheckAuthorization(std::nullopt);
  return CheckAuthorization(absl::string_view(it->second.data(), it->second.size()));
}

absl::Status TokenAuthenticator::CheckAuthorization(std::optional<absl::string_view> value) const {
  if (tokens_.empty()) return absl::OkStatus();
  if (!value.has_value()) {
    return absl::UnauthenticatedError("missing authorization: send \"authorization: Bearer <token>\"");
  }
  constexpr absl::string_view kBearer = "Bearer ";
  if (value->size() <= kBearer.size() || !absl::StartsWithIgnoreCase(*value, kBearer)) {
    return absl::UnauthenticatedError("authorization must be \"Bearer <token>\"");
  }
  const absl::string_view presented = value->substr(kBearer.size());
  bool match = false;
  for (const std::string& token : tokens_) {
    // Compare against every token, no early exit.
    match = ConstantTimeEquals(presented, token) || match;
  }
  if (!match) return absl::UnauthenticatedError("invalid bearer token");
  return absl::OkStatus();
}

}  // namespace specinv::server
