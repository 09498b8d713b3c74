// Copyright specinv authors.

#include "client/files.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace specinv::client {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

absl::Status ErrnoStatus(int error, std::string_view what, const std::string& path) {
  std::string message = absl::StrCat("cannot ", std::string(what), " ", path, ": ", std::strerror(error));
  switch (error) {
    case ENOENT: return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS: return absl::PermissionDeniedError(message);
    default: return absl::DataLossError(message);
  }
}

}  // namespace

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  FilePtr file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return ErrnoStatus(errno, "open", path);
  std::string bytes;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) bytes.append(buffer, n);
  if (std::ferror(file.get())) return ErrnoStatus(errno, "read", path);
  return bytes;
}

absl::Status WriteFileBytes(const std::string& path, std::string_view bytes) {
  if (path == "-") {
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0) {
      return ErrnoStatus(errno, "write", "stdout");
    }
    return absl::OkStatus();
  }
  FilePtr file(std::fopen(path.c_str(), "wb"));
  if (file == nullptr) return ErrnoStatus(errno, "create", path);
  if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
    return ErrnoStatus(errno, "write", path);
  }
  std::FILE* raw = file.release();
  if (std::fclose(raw) != 0) return ErrnoStatus(errno, "write", path);
  return absl::OkStatus();
}

std::string FileExtension(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "";
  return absl::AsciiStrToLower(std::string(path.substr(dot + 1)));
}

}  // namespace specinv::client
