// Copyright specinv authors.
//
// ApplyBandMutes zeroes exactly the bins ApplyBandMute zeroes band by band,
// in O(bands + bins * frames).

#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/transform.h"
#include "testing/signals.h"

namespace specinv {
namespace {

ComplexMatrix Ones(int bins, int frames) { return ComplexMatrix::Constant(bins, frames, {1.0f, 0.5f}); }

TEST(BandMutesTest, MatchesOneBandAtATime) {
  const double sr = 22050.0;
  const int n_fft = 1024;
  const double bin_hz = sr / n_fft;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> freq(0.0, sr / 2);
  std::vector<BandMute> bands;
  for (int i = 0; i < 40; ++i) {
    const double lo = freq(rng);
    bands.push_back({lo, lo + freq(rng) / 20.0});
  }
  // Edges exactly on bin frequencies, touching and nested bands, one past Nyquist.
  bands.push_back({10 * bin_hz, 12 * bin_hz});
  bands.push_back({12 * bin_hz, 13 * bin_hz});
  bands.push_back({100 * bin_hz, 100.5 * bin_hz});
  bands.push_back({100.2 * bin_hz, 100.4 * bin_hz});  // contains no bin
  bands.push_back({sr / 2 - 1.0, sr});
  ComplexMatrix one_by_one = Ones(n_fft / 2 + 1, 3);
  for (const BandMute& b : bands) ApplyBandMute(b, sr, n_fft, &one_by_one);
  ComplexMatrix all_at_once = Ones(n_fft / 2 + 1, 3);
  ApplyBandMutes(bands, sr, n_fft, &all_at_once);
  EXPECT_EQ(all_at_once, one_by_one);
  EXPECT_EQ(all_at_once(10, 0), std::complex<float>(0.0f, 0.0f));
  EXPECT_EQ(all_at_once(13, 1), std::complex<float>(0.0f, 0.0f));
  EXPECT_EQ(all_at_once(11, 1), std::complex<float>(0.0f, 0.0f));
  EXPECT_EQ(all_at_once(n_fft / 2, 2), std::complex<float>(0.0f, 0.0f));
}

TEST(BandMutesTest, NoBandsChangeNothing) {
  ComplexMatrix spec = Ones(513, 2);
  ApplyBandMutes({}, 22050.0, 1024, &spec);
  EXPECT_EQ(spec, Ones(513, 2));
}

// A million overlapping bands through Transform: validation and muting are
// linear in the band count, and the result equals the union band.
TEST(BandMutesTest, MillionBandsEqualTheirUnion) {
  const FeatureExtractor fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  const std::vector<float> audio = testing::WhiteNoise(22050, 9);
  TransformOptions many;
  many.band_mutes.reserve(1000000);
  for (int i = 0; i < 1000000; ++i) {
    const double lo = 1000.0 + 0.001 * i;
    many.band_mutes.push_back({lo, lo + 500.0});
  }
  TransformOptions one;
  one.band_mutes = {{1000.0, 1000.0 + 0.001 * 999999 + 500.0}};
  auto a = Transform(fx, audio, many);
  auto b = Transform(fx, audio, one);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->audio, b->audio);
}

}  // namespace
}  // namespace specinv
