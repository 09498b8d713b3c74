// Copyright specinv authors.
//
// Optional bearer-token authentication. Clients send the metadata entry
// "authorization: Bearer <token>". Tokens are compared in constant time
// (independent of where the first difference is). The health service is
// exempt (it is not part of the Spectrogram service).
// Immutable after construction; thread-safe.

#ifndef SPECINV_SERVER_AUTH_H_
#define SPECINV_SERVER_AUTH_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/support/string_ref.h>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace specinv::server {

// True iff a == b; the running time depends only on the lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

class TokenAuthenticator {
 public:
  // No tokens: authentication disabled.
  TokenAuthenticator() = default;
  // Each token non-empty.
  explicit TokenAuthenticator(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  // One token per line; blank lines and lines starting with '#' are ignored;
  // surrounding whitespace is trimmed. At least one token is required.
  static absl::StatusOr<TokenAuthenticator> FromFile(const std::string& path);
  // The tokens of a token file (same rules as FromFile).
  static absl::StatusOr<std::vector<std::string>> ReadTokenFile(const std::string& path);

  bool enabled() const { return !tokens_.empty(); }

  // OK when disabled or the metadata carries a valid bearer token;
  // Unauthenticated otherwise (the message never echoes the token).
  absl::Status Check(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) const;
  // The same for the value of an authorization header (HTTP), nullopt when
  // the header is absent.
  absl::Status CheckAuthorization(std::optional<absl::string_view> value) const;

 private:
  std::vector<std::string> tokens_;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_AUTH_H_
