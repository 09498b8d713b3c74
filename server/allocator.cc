// Copyright specinv authors.

#include "server/allocator.h"

#include <malloc.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace specinv::server {

absl::Status RetainFreedMemory(int64_t retain_bytes) {
  constexpr int64_t kMaxRetain = int64_t{2047} << 20;  // mallopt takes an int
  if (retain_bytes < 0 || retain_bytes > kMaxRetain) {
    return absl::InvalidArgumentError(
        absl::StrCat("--malloc-retain-mb must be in [0, 2047], got ", retain_bytes / double{1 << 20}));
  }
  if (retain_bytes == 0) return absl::OkStatus();
  // glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit).
  constexpr int64_t kMaxMmapThreshold = int64_t{32} << 20;
  const int mmap_threshold = static_cast<int>(std::min(retain_bytes, kMaxMmapThreshold));
  const int trim_threshold = static_cast<int>(retain_bytes);
  if (mallopt(M_MMAP_THRESHOLD, mmap_threshold) != 1 || mallopt(M_TRIM_THRESHOLD, trim_threshold) != 1) {
    return absl::FailedPreconditionError(
        "the allocator refused the malloc thresholds of --malloc-retain-mb (not glibc's malloc, e.g. under a "
        "sanitizer); its defaults stay");
  }
  return absl::OkStatus();
}

}  // namespace specinv::server
