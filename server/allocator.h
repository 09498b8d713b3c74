// Copyright specinv authors.
//
// How much freed heap memory the process keeps for reuse instead of handing
// it back to the kernel.
//
// glibc's defaults return a freed block of a few MiB to the kernel
// (munmap/madvise) and the next job faults every page back in: on a DSP job
// of tens of milliseconds that costs 10-25 % of its CPU time (the kernel
// zeroes each 4 KiB page on first touch). Serving processes (specinv-server,
// `specinv bench --in-process`) instead keep up to `retain_bytes` free at the
// top of each malloc arena and serve blocks up to min(retain_bytes, 32 MiB)
// from the arenas; larger blocks are still mapped and unmapped per use.
//
// Cost: resident memory may stay up to retain_bytes per arena in use (about
// one per worker thread) above the live working set; the per-job budget
// (--max-job-memory-mb) is unaffected.
//
// Process-wide (mallopt); call once at start, before worker threads exist.

#ifndef SPECINV_SERVER_ALLOCATOR_H_
#define SPECINV_SERVER_ALLOCATOR_H_

#include <cstdint>

#include "absl/status/status.h"

namespace specinv::server {

// The default of specinv-server --malloc-retain-mb, in bytes.
inline constexpr int64_t kDefaultMallocRetainBytes = int64_t{64} << 20;

// retain_bytes 0 keeps the C library's defaults. InvalidArgument outside
// [0, 2047 MiB]; FailedPrecondition when the allocator refuses the setting
// (another malloc, such as a sanitizer's): nothing changed, the process can
// go on with the allocator's defaults.
absl::Status RetainFreedMemory(int64_t retain_bytes);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_ALLOCATOR_H_
