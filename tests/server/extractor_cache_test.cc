// Copyright specinv authors.

#include "server/extractor_cache.h"

#include <gtest/gtest.h>

#include "specinv/analysis/analysis_cost.h"

namespace specinv::server {
namespace {

TEST(ExtractorCacheTest, SharesExtractorsOfEqualConfigs) {
  ExtractorCache cache;
  FeatureConfig hifigan = *GetPreset("hifigan");
  auto a = cache.Get(hifigan);
  auto b = cache.Get(*GetPreset("hifigan"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 1);
  EXPECT_EQ(cache.stats().bytes, ExtractorResidentBytes(hifigan));
  FeatureConfig other = hifigan;
  other.n_mels = 64;
  auto c = cache.Get(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->get(), a->get());
  EXPECT_EQ((*c)->config().n_mels, 64);
}

TEST(ExtractorCacheTest, EvictsLeastRecentlyUsedBeyondTheByteBound) {
  FeatureConfig base = *GetPreset("librosa");
  FeatureConfig c1 = base, c2 = base, c3 = base;
  c2.n_mels = 64;
  c3.n_mels = 32;
  // Room for c1 and one of the smaller two, not all three.
  ExtractorCache cache(ExtractorResidentBytes(c1) + ExtractorResidentBytes(c2));
  auto first = cache.Get(c1);
  ASSERT_TRUE(cache.Get(c2).ok());
  ASSERT_TRUE(cache.Get(c1).ok());  // c1 most recent
  ASSERT_TRUE(cache.Get(c3).ok());  // evicts c2
  ExtractorCacheStats stats = cache.stats();
  EXPECT_EQ(stats.entries, 2);
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_EQ(stats.bytes, ExtractorResidentBytes(c1) + ExtractorResidentBytes(c3));
  EXPECT_LE(stats.bytes, stats.limit_bytes);
  EXPECT_EQ(cache.Get(c1)->get(), first->get());
  const int64_t hits = cache.stats().hits;
  ASSERT_TRUE(cache.Get(c2).ok());
  EXPECT_EQ(cache.stats().hits, hits);  // c2 was rebuilt
}

TEST(ExtractorCacheTest, AnEntryLargerThanTheBoundIsKeptAlone) {
  ExtractorCache cache(1);
  FeatureConfig a = *GetPreset("librosa");
  FeatureConfig b = a;
  b.n_mels = 40;
  auto first = cache.Get(a);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(cache.stats().entries, 1);
  ASSERT_TRUE(cache.Get(b).ok());
  EXPECT_EQ(cache.stats().entries, 1);
  EXPECT_EQ(cache.stats().evictions, 1);
  // The evicted extractor stays valid for its holder.
  EXPECT_EQ((*first)->config().n_mels, a.n_mels);
}

TEST(ExtractorCacheTest, ResidentBytesGrowWithTheFilterbank) {
  FeatureConfig small = *GetPreset("librosa");
  FeatureConfig large = small;
  large.stft.n_fft = 4096;
  large.stft.win_length = 4096;
  EXPECT_GT(ExtractorResidentBytes(large), ExtractorResidentBytes(small));
  // At least the dense float filterbank.
  EXPECT_GE(ExtractorResidentBytes(small), int64_t{4} * small.n_mels * (small.stft.n_fft / 2 + 1));
}

TEST(ExtractorCacheTest, InvalidConfigIsAnError) {
  ExtractorCache cache;
  FeatureConfig bad = *GetPreset("librosa");
  bad.stft.n_fft = 8;
  EXPECT_EQ(cache.Get(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.stats().entries, 0);
}

}  // namespace
}  // namespace specinv::server
