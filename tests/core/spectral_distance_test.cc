// Copyright specinv authors.
//
// Log-spectral distance and multi-resolution STFT distance: expected values
// are closed-form consequences of the definitions (a gain g gives
// LSD = |20 log10 g|, SC = |1 - g|, MAG = |ln g|).

#include "specinv/evaluation/spectral_distance.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/base/field_error.h"
#include "testing/signals.h"

namespace specinv {
namespace {

std::vector<float> Scaled(const std::vector<float>& x, float g) {
  std::vector<float> out(x);
  for (float& v : out) v *= g;
  return out;
}

// A speech-like test signal: a chirp plus low-level noise (every STFT bin
// far above the floors).
std::vector<float> TestSignal() {
  std::vector<float> x = testing::Chirp(100.0, 8000.0, 22050.0, 22050);
  const std::vector<float> n = testing::WhiteNoise(22050, 11, 0.05);
  for (size_t i = 0; i < x.size(); ++i) x[i] += n[i];
  return x;
}

TEST(SpectralDistanceTest, LsdZeroForIdenticalSignals) {
  const std::vector<float> x = TestSignal();
  const auto d = LogSpectralDistance(x, x);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, 0.0);
  // Two all-zero spectrograms are equal at the floor.
  const RealMatrix zero = RealMatrix::Zero(5, 3);
  const auto z = LogSpectralDistanceFromPower(zero, zero);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(*z, 0.0);
}

TEST(SpectralDistanceTest, LsdOfGainIsTwentyLog10Gain) {
  // Power spectrograms: P_deg = g^2 P_ref exactly (g a power of two) or to
  // float rounding.
  RealMatrix p(4, 3);
  p << 0.01f, 0.2f, 1.0f, 3.0f, 7.5f, 1e-3f, 0.5f, 2.0f, 4.0f, 9.0f, 0.125f, 0.3f;
  for (double g : {2.0, 0.5, 3.0, 0.1, 1.0}) {
    const RealMatrix q = p * static_cast<float>(g * g);
    const auto d = LogSpectralDistanceFromPower(p, q);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_NEAR(*d, std::abs(20.0 * std::log10(g)), 1e-5) << "g=" << g;
  }
  // From signals: the STFT is linear, so a gain on the signal is g^2 on the power.
  const std::vector<float> x = TestSignal();
  for (float g : {2.0f, 0.25f, 1.5f}) {
    const auto d = LogSpectralDistance(x, Scaled(x, g));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_NEAR(*d, std::abs(20.0 * std::log10(static_cast<double>(g))), 1e-4) << "g=" << g;
  }
}

TEST(SpectralDistanceTest, LsdInvalidOptions) {
  const RealMatrix p = RealMatrix::Constant(4, 3, 1.0f);
  EXPECT_EQ(FieldOf(LogSpectralDistanceFromPower(p, RealMatrix::Constant(4, 2, 1.0f)).status()), "degraded");
  EXPECT_EQ(FieldOf(LogSpectralDistanceFromPower(p, p, 0.0).status()), "floor");
  EXPECT_EQ(FieldOf(LogSpectralDistanceFromPower(RealMatrix(0, 0), RealMatrix(0, 0)).status()), "reference");
  RealMatrix negative = p;
  negative(1, 0) = -1.0f;
  EXPECT_EQ(FieldOf(LogSpectralDistanceFromPower(negative, p).status()), "reference[1]");

  const std::vector<float> x = TestSignal();
  const std::vector<float> shorter(x.begin(), x.end() - 1);
  const auto mismatch = LogSpectralDistance(x, shorter);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(mismatch.status()), "degraded");
  LogSpectralDistanceOptions bad;
  bad.stft.n_fft = 8;
  EXPECT_EQ(FieldOf(LogSpectralDistance(x, x, bad).status()), "stft.n_fft");
}

TEST(SpectralDistanceTest, MultiResolutionStftZeroForIdentical) {
  const std::vector<float> x = TestSignal();
  const auto d = ComputeMultiResolutionStftDistance(x, x);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->spectral_convergence, 0.0);
  EXPECT_EQ(d->log_magnitude, 0.0);
  EXPECT_EQ(d->total, 0.0);
}

TEST(SpectralDistanceTest, MultiResolutionStftOfGain) {
  // |STFT(g x)| = g |STFT(x)|: SC = |1 - g| and MAG = |ln g| at every resolution.
  const std::vector<float> x = TestSignal();
  for (float g : {0.5f, 2.0f, 1.25f}) {
    const auto d = ComputeMultiResolutionStftDistance(x, Scaled(x, g));
    ASSERT_TRUE(d.ok()) << d.status();
    const double gd = static_cast<double>(g);
    EXPECT_NEAR(d->spectral_convergence, std::abs(1.0 - gd), 1e-5) << "g=" << g;
    EXPECT_NEAR(d->log_magnitude, std::abs(std::log(gd)), 1e-5) << "g=" << g;
    EXPECT_NEAR(d->total, std::abs(1.0 - gd) + std::abs(std::log(gd)), 2e-5) << "g=" << g;
  }
}

TEST(SpectralDistanceTest, MultiResolutionStftIncreasesWithNoise) {
  const std::vector<float> x = TestSignal();
  const std::vector<float> noise = testing::WhiteNoise(static_cast<int64_t>(x.size()), 99, 1.0);
  double previous_total = 0.0;
  double previous_sc = 0.0;
  double previous_lsd = 0.0;
  for (float level : {0.003f, 0.01f, 0.03f, 0.1f, 0.3f}) {
    std::vector<float> y(x);
    for (size_t i = 0; i < y.size(); ++i) y[i] += level * noise[i];
    const auto d = ComputeMultiResolutionStftDistance(x, y);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_GT(d->total, previous_total) << "level=" << level;
    EXPECT_GT(d->spectral_convergence, previous_sc) << "level=" << level;
    previous_total = d->total;
    previous_sc = d->spectral_convergence;
    const auto lsd = LogSpectralDistance(x, y);
    ASSERT_TRUE(lsd.ok()) << lsd.status();
    EXPECT_GT(*lsd, previous_lsd) << "level=" << level;
    previous_lsd = *lsd;
  }
}

TEST(SpectralDistanceTest, MultiResolutionStftInvalidOptions) {
  const std::vector<float> x = TestSignal();
  const std::vector<float> shorter(x.begin(), x.end() - 1);
  EXPECT_EQ(FieldOf(ComputeMultiResolutionStftDistance(x, shorter).status()), "degraded");
  const std::vector<float> empty;
  EXPECT_EQ(FieldOf(ComputeMultiResolutionStftDistance(empty, empty).status()), "reference");
  std::vector<float> with_inf(x);
  with_inf[3] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(FieldOf(ComputeMultiResolutionStftDistance(x, with_inf).status()), "degraded[3]");

  MultiResolutionStftOptions none;
  none.resolutions.clear();
  EXPECT_EQ(FieldOf(ComputeMultiResolutionStftDistance(x, x, none).status()), "resolutions");
  MultiResolutionStftOptions bad_fft;
  bad_fft.resolutions[1].n_fft = 8;
  const auto s = ComputeMultiResolutionStftDistance(x, x, bad_fft);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s.status()), "resolutions[1].n_fft");
  MultiResolutionStftOptions bad_floor;
  bad_floor.magnitude_floor = 0.0;
  EXPECT_EQ(FieldOf(ComputeMultiResolutionStftDistance(x, x, bad_floor).status()), "magnitude_floor");
}

}  // namespace
}  // namespace specinv
