// Copyright specinv authors.
//
// ExtractorCache: the FeatureExtractors (window, mel filterbank, its
// inverter) of recently used configurations, so a request does not rebuild
// them (building one costs about as much as a few Griffin-Lim iterations).
// Bounded by bytes: each entry counts ExtractorResidentBytes(config)
// (analysis_cost.h); least recently used entries are evicted while the total
// is above the limit (the newest entry is kept even when it alone exceeds
// it). FFT plans are bounded separately by the plan cache. Extractors are
// immutable and shared between concurrent jobs; an evicted one lives on
// until its last user drops it. Thread-safe.

#ifndef SPECINV_SERVER_EXTRACTOR_CACHE_H_
#define SPECINV_SERVER_EXTRACTOR_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"

namespace specinv::server {

// Default bound: 64 MiB (about 30 extractors of n_fft 2048 with 128 mels).
inline constexpr int64_t kDefaultExtractorCacheBytes = int64_t{64} << 20;

struct ExtractorCacheStats {
  int64_t entries = 0;
  int64_t bytes = 0;  // estimated, see above
  int64_t limit_bytes = 0;
  int64_t hits = 0;
  int64_t misses = 0;
  int64_t evictions = 0;
};

class ExtractorCache {
 public:
  explicit ExtractorCache(int64_t limit_bytes = kDefaultExtractorCacheBytes) : limit_bytes_(limit_bytes) {}

  // The extractor of a validated `config` (FeatureExtractor::Create's errors
  // otherwise).
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> Get(const FeatureConfig& config);

  ExtractorCacheStats stats() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const FeatureExtractor> extractor;
    int64_t bytes = 0;
  };
  const int64_t limit_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t bytes_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
  int64_t evictions_ = 0;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_EXTRACTOR_CACHE_H_
