// Copyright specinv authors.

#include "specinv/io/demo_signal.h"

#include <cmath>

#include <gtest/gtest.h>

#include "specinv/analysis/features.h"

namespace specinv {
namespace {

TEST(DemoSignalTest, DeterministicAndNormalised) {
  auto a = GenerateDemoSignal(22050.0, 2.0);
  auto b = GenerateDemoSignal(22050.0, 2.0);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 44100u);
  EXPECT_EQ(*a, *b);
  float peak = 0.0f;
  for (float v : *a) peak = std::max(peak, std::abs(v));
  EXPECT_NEAR(peak, 0.5f, 1e-6f);
}

TEST(DemoSignalTest, HasVoicedEnergyInSpeechBands) {
  auto y = GenerateDemoSignal(22050.0, 3.0).value();
  auto fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  const RealMatrix mel = fx.Mel(y).value();
  // Most frames carry energy (no long silence) and the energy is spread over many bands.
  int active = 0;
  for (Eigen::Index f = 0; f < mel.cols(); ++f) active += mel.col(f).sum() > 1e-2f ? 1 : 0;
  EXPECT_GT(active, mel.cols() * 9 / 10);
  int bands = 0;
  const Eigen::VectorXf band_energy = mel.rowwise().sum();
  for (Eigen::Index m = 0; m < mel.rows(); ++m) bands += band_energy(m) > 1e-3f * band_energy.maxCoeff() ? 1 : 0;
  EXPECT_GT(bands, 40);
}

TEST(DemoSignalTest, InvalidOptions) {
  EXPECT_EQ(GenerateDemoSignal(0.0, 1.0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateDemoSignal(22050.0, 0.0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateDemoSignal(22050.0, 120.0).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv
