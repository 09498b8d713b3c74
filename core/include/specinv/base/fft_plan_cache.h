// Copyright specinv authors.
//
// The process-wide cache of FFT plans (RealFft, RealFftDouble, ComplexFft2d
// of fft.h), bounded by bytes.
//
// Every cached transform is charged an estimate of its memory: the FFTW plans
// (twiddle tables and plan structures) plus one set of work buffers of that
// size (see EstimatedFftBytes). When the total exceeds the limit, the least
// recently used transforms leave the cache. Transforms are handed out as
// shared_ptr: one that a running job holds stays valid after eviction and is
// freed when its last holder lets go; the next Get of that size plans again.
// A transform larger than the whole limit is returned but not kept.
//
// Thread-safe. Counters are monotonic over the life of the process (hits,
// misses, evictions) or current values (entries, bytes, limit_bytes).

#ifndef SPECINV_BASE_FFT_PLAN_CACHE_H_
#define SPECINV_BASE_FFT_PLAN_CACHE_H_

#include <cstdint>
#include <functional>
#include <memory>

namespace specinv {

// Default bound: 64 MiB (a few hundred plans of the usual sizes).
inline constexpr int64_t kDefaultFftPlanCacheLimitBytes = int64_t{64} << 20;

struct FftPlanCacheStats {
  int64_t entries = 0;      // transforms held by the cache now
  int64_t bytes = 0;        // their estimated bytes
  int64_t limit_bytes = 0;  // the current bound
  int64_t hits = 0;         // Get calls answered from the cache
  int64_t misses = 0;       // Get calls that had to plan
  int64_t evictions = 0;    // transforms dropped to stay under the bound
};

// Sets the bound (bytes, >= 0; 0 caches nothing) and evicts at once down to it.
void SetFftPlanCacheLimitBytes(int64_t bytes);

// A snapshot of the counters.
FftPlanCacheStats GetFftPlanCacheStats();

// Drops every cached transform (counted as evictions). Holders keep theirs.
void ClearFftPlanCache();

namespace internal {

// Kinds of cached transform; part of the cache key.
enum class FftKind { kRealFloat, kRealDouble, kComplex2d };

// Returns the cached transform for (kind, a, b), or makes one with `make`,
// charges it `bytes` and caches it (evicting least recently used entries).
// `make` runs under the cache lock.
std::shared_ptr<const void> FftPlanCacheGet(FftKind kind, int a, int b, int64_t bytes,
                                            const std::function<std::shared_ptr<const void>()>& make);

}  // namespace internal
}  // namespace specinv

#endif  // SPECINV_BASE_FFT_PLAN_CACHE_H_
