// Copyright specinv authors.

#include "server/extractor_cache.h"

#include "server/conversion.h"
#include "specinv/analysis/analysis_cost.h"
#include "specinv/v1/spectrogram_config.pb.h"

namespace specinv::server {
namespace {

// Every field of the configuration (the effective SpectrogramConfig, which
// round-trips FeatureConfig exactly), serialised deterministically.
std::string Key(const FeatureConfig& config) {
  v1::SpectrogramConfig proto;
  FromFeatureConfig(config, &proto);
  std::string key;
  {
    google::protobuf::io::StringOutputStream stream(&key);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    proto.SerializeToCodedStream(&out);
  }
  return key;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const FeatureExtractor>> ExtractorCache::Get(const FeatureConfig& config) {
  const std::string key = Key(config);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++hits_;
      return it->second->extractor;
    }
    ++misses_;
  }
  // Built outside the lock; a concurrent miss on the same key builds twice
  // and keeps one.
  absl::StatusOr<FeatureExtractor> built = FeatureExtractor::Create(config);
  if (!built.ok()) return built.status();
  auto extractor = std::make_shared<const FeatureExtractor>(*std::move(built));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second->extractor;
  const int64_t bytes = ExtractorResidentBytes(config);
  lru_.push_front(Entry{key, extractor, bytes});
  index_[key] = lru_.begin();
  bytes_ += bytes;
  while (bytes_ > limit_bytes_ && lru_.size() > 1) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++evictions_;
  }
  return extractor;
}

ExtractorCacheStats ExtractorCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ExtractorCacheStats s;
  s.entries = static_cast<int64_t>(lru_.size());
  s.bytes = bytes_;
  s.limit_bytes = limit_bytes_;
  s.hits = hits_;
  s.misses = misses_;
  s.evictions = evictions_;
  return s;
}

}  // namespace specinv::server
