// Copyright specinv authors.
//
// ExtractorCache: the FeatureExtractors (window, FFT plan, mel filterbank) of
// recently used configurations, so a request does not rebuild them (building
// one costs about as much as a few Griffin-Lim iterations). Least recently
// used entries are evicted beyond `capacity`. Extractors are immutable and
// shared between concurrent jobs. Thread-safe.

#ifndef SPECINV_SERVER_EXTRACTOR_CACHE_H_
#define SPECINV_SERVER_EXTRACTOR_CACHE_H_

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"

namespace specinv::server {

class ExtractorCache {
 public:
  explicit ExtractorCache(size_t capacity = 32) : capacity_(capacity) {}

  // The extractor of a validated `config` (FeatureExtractor::Create's errors
  // otherwise).
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> Get(const FeatureConfig& config);

  size_t size() const;
  int64_t hits() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const FeatureExtractor>>;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t hits_ = 0;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_EXTRACTOR_CACHE_H_
