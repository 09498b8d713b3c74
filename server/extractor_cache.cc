// Copyright specinv authors.

#include "server/extractor_cache.h"

#include "server/conversion.h"
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
      return it->second->second;
    }
  }
  // Built outside the lock; a concurrent miss on the same key builds twice
  // and keeps one.
  absl::StatusOr<FeatureExtractor> built = FeatureExtractor::Create(config);
  if (!built.ok()) return built.status();
  auto extractor = std::make_shared<const FeatureExtractor>(*std::move(built));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it != index_.end()) return it->second->second;
  lru_.emplace_front(key, extractor);
  index_[key] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return extractor;
}

size_t ExtractorCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

int64_t ExtractorCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

}  // namespace specinv::server
