// Copyright specinv authors.

#include "server/extractor_cache.h"

#include <gtest/gtest.h>

namespace specinv::server {
namespace {

TEST(ExtractorCacheTest, SharesExtractorsOfEqualConfigs) {
  ExtractorCache cache(2);
  FeatureConfig hifigan = *GetPreset("hifigan");
  auto a = cache.Get(hifigan);
  auto b = cache.Get(*GetPreset("hifigan"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.hits(), 1);
  FeatureConfig other = hifigan;
  other.n_mels = 64;
  auto c = cache.Get(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->get(), a->get());
  EXPECT_EQ((*c)->config().n_mels, 64);
}

TEST(ExtractorCacheTest, EvictsLeastRecentlyUsed) {
  ExtractorCache cache(2);
  FeatureConfig base = *GetPreset("librosa");
  FeatureConfig c1 = base, c2 = base, c3 = base;
  c2.n_mels = 64;
  c3.n_mels = 32;
  auto first = cache.Get(c1);
  ASSERT_TRUE(cache.Get(c2).ok());
  ASSERT_TRUE(cache.Get(c1).ok());  // c1 most recent
  ASSERT_TRUE(cache.Get(c3).ok());  // evicts c2
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.Get(c1)->get(), first->get());
  const int64_t hits = cache.hits();
  ASSERT_TRUE(cache.Get(c2).ok());
  EXPECT_EQ(cache.hits(), hits);  // c2 was rebuilt
}

TEST(ExtractorCacheTest, InvalidConfigIsAnError) {
  ExtractorCache cache;
  FeatureConfig bad = *GetPreset("librosa");
  bad.stft.n_fft = 8;
  EXPECT_EQ(cache.Get(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace specinv::server
