// Copyright specinv authors.

#include "specinv/base/fft_plan_cache.h"

#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

namespace specinv {
namespace {

using Key = std::tuple<internal::FftKind, int, int>;

struct Entry {
  std::shared_ptr<const void> value;
  int64_t bytes = 0;
  std::list<Key>::iterator lru;  // position in PlanCache::lru (front = most recent)
};

class PlanCache {
 public:
  static PlanCache& Instance() {
    static PlanCache* cache = new PlanCache();  // never destroyed: plans may outlive static destruction
    return *cache;
  }

  std::shared_ptr<const void> Get(const Key& key, int64_t bytes,
                                  const std::function<std::shared_ptr<const void>()>& make) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ++stats_.hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.value;
    }
    ++stats_.misses;
    std::shared_ptr<const void> value = make();
    lru_.push_front(key);
    entries_.emplace(key, Entry{value, bytes, lru_.begin()});
    stats_.bytes += bytes;
    EvictLocked();
    return value;
  }

  void SetLimit(int64_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.limit_bytes = std::max<int64_t>(0, bytes);
    EvictLocked();
  }

  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!lru_.empty()) EvictBackLocked();
  }

  FftPlanCacheStats Stats() {
    std::lock_guard<std::mutex> lock(mu_);
    FftPlanCacheStats s = stats_;
    s.entries = static_cast<int64_t>(entries_.size());
    return s;
  }

 private:
  PlanCache() { stats_.limit_bytes = kDefaultFftPlanCacheLimitBytes; }

  void EvictLocked() {
    while (stats_.bytes > stats_.limit_bytes && !lru_.empty()) EvictBackLocked();
  }
  void EvictBackLocked() {
    auto it = entries_.find(lru_.back());
    stats_.bytes -= it->second.bytes;
    ++stats_.evictions;
    entries_.erase(it);  // the holders' shared_ptrs keep the transform alive
    lru_.pop_back();
  }

  std::mutex mu_;
  std::map<Key, Entry> entries_;
  std::list<Key> lru_;
  FftPlanCacheStats stats_;
};

}  // namespace

void SetFftPlanCacheLimitBytes(int64_t bytes) { PlanCache::Instance().SetLimit(bytes); }

FftPlanCacheStats GetFftPlanCacheStats() { return PlanCache::Instance().Stats(); }

void ClearFftPlanCache() { PlanCache::Instance().Clear(); }

namespace internal {

std::shared_ptr<const void> FftPlanCacheGet(FftKind kind, int a, int b, int64_t bytes,
                                            const std::function<std::shared_ptr<const void>()>& make) {
  return PlanCache::Instance().Get(Key{kind, a, b}, bytes, make);
}

}  // namespace internal
}  // namespace specinv
