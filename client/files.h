// Copyright specinv authors.
//
// Local file helpers for the client: whole-file reads and writes with errors
// that name the path. Thread-compatible (no shared state).

#ifndef SPECINV_CLIENT_FILES_H_
#define SPECINV_CLIENT_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace specinv::client {

// Whole file as bytes. NotFound when it cannot be opened, DataLoss on a read
// error; the message names the path.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

// Writes (replaces) a file with `bytes`; "-" writes to stdout.
// PermissionDenied/NotFound/DataLoss naming the path on failure.
absl::Status WriteFileBytes(const std::string& path, std::string_view bytes);

// Lower-case extension without the dot ("wav" for "a/b.WAV"), "" if none.
std::string FileExtension(std::string_view path);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_FILES_H_
