// Copyright specinv authors.
//
// Data parallelism inside one job: ParallelFor splits [0, n) into contiguous
// chunks and runs them on a process-wide pool of helper threads plus the
// calling thread. With max_threads <= 1 (the default everywhere) the work runs
// inline on the caller, so a server that runs one job per core gets no
// oversubscription; callers that own idle cores may ask for more.
// Thread-safe; re-entrant calls from inside a chunk run inline.

#ifndef SPECINV_PARALLEL_H_
#define SPECINV_PARALLEL_H_

#include <cstdint>
#include <functional>

namespace specinv {

// Number of hardware threads (>= 1).
int HardwareThreads();

// Calls fn(begin, end) over disjoint chunks covering [0, n), using at most
// max_threads threads (the caller included). Returns when all chunks are done.
// Exceptions: an exception thrown by fn in any chunk (on a helper thread or
// the caller) is captured; chunks that have not started yet are skipped,
// running ones finish, and once every chunk is done the first exception is
// rethrown on the calling thread. The pool stays usable afterwards; helper
// threads never let an exception escape.
void ParallelFor(int64_t n, int max_threads, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace specinv

#endif  // SPECINV_PARALLEL_H_
