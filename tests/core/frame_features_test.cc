// Copyright specinv authors.

#include "specinv/creative/frame_features.h"

#include <cmath>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/scaling.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr double kSr = 8000.0;

FeatureConfig SmallConfig(double power = 2.0) {
  FeatureConfig c;
  c.sample_rate = kSr;
  c.stft.n_fft = 256;
  c.stft.hop_length = 64;
  c.n_mels = 32;
  c.power = power;
  return c;
}

FeatureExtractor Extractor(const FeatureConfig& c) { return FeatureExtractor::Create(c).value(); }

TEST(FrameFeaturesTest, PlainFeaturesArePowerToDbReferredToTheMaximum) {
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::Chirp(200.0, 3000.0, kSr, 4000);
  const RealMatrix mel = fx.Mel(y).value();
  auto features = ComputeFrameFeatures(fx, y, FrameFeatureOptions{});
  ASSERT_TRUE(features.ok()) << features.status();
  const RealMatrix expected = PowerToDb(mel, std::nullopt, 1e-10, 80.0);
  ASSERT_EQ(features->rows(), mel.rows());
  ASSERT_EQ(features->cols(), mel.cols());
  EXPECT_LE((*features - expected).cwiseAbs().maxCoeff(), 1e-3f);
  EXPECT_FLOAT_EQ(features->maxCoeff(), 0.0f);
  EXPECT_GE(features->minCoeff(), -80.0f);
}

TEST(FrameFeaturesTest, MagnitudeMelUsesAmplitudeDb) {
  const auto fx = Extractor(SmallConfig(1.0));
  const auto y = testing::Chirp(200.0, 3000.0, kSr, 4000);
  const RealMatrix mel = fx.Mel(y).value();
  const RealMatrix features = ComputeFrameFeatures(fx, y, FrameFeatureOptions{}).value();
  const RealMatrix expected = AmplitudeToDb(mel, std::nullopt, 1e-5, 80.0);
  EXPECT_LE((features - expected).cwiseAbs().maxCoeff(), 1e-3f);
}

TEST(FrameFeaturesTest, VolumeNormalizationRemovesPerFrameLevel) {
  // The same tone twice, the second time 20 dB quieter.
  auto y = testing::Sine(700.0, kSr, 8000, 0.5);
  for (size_t i = 4000; i < y.size(); ++i) y[i] *= 0.1f;
  const auto fx = Extractor(SmallConfig());
  FrameFeatureOptions normalized;
  normalized.volume_normalize = true;
  normalized.top_db = std::nullopt;
  FrameFeatureOptions plain;
  plain.top_db = std::nullopt;
  const RealMatrix a = ComputeFrameFeatures(fx, y, normalized).value();
  const RealMatrix b = ComputeFrameFeatures(fx, y, plain).value();
  const Eigen::Index loud = 20;   // frame centres well inside each half
  const Eigen::Index quiet = 100;
  const int peak_band = [&] {
    Eigen::Index m = 0;
    b.col(loud).maxCoeff(&m);
    return static_cast<int>(m);
  }();
  EXPECT_NEAR(b(peak_band, loud) - b(peak_band, quiet), 20.0f, 0.1f);
  EXPECT_LE((a.col(loud) - a.col(quiet)).cwiseAbs().maxCoeff(), 0.05f);
}

TEST(FrameFeaturesTest, FrequencyWeightingFavoursLowBands) {
  EXPECT_FLOAT_EQ(LowBandWeight(0), 1.0f);
  for (int m = 1; m < 200; ++m) {
    EXPECT_LT(LowBandWeight(m), LowBandWeight(m - 1));
    EXPECT_NEAR(LowBandWeight(m), 1.0 / (1.0 + std::log(1.0 + m)), 1e-6);
  }
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::WhiteNoise(4000, 7);
  FrameFeatureOptions weighted;
  weighted.frequency_weighting = true;
  const RealMatrix a = ComputeFrameFeatures(fx, y, FrameFeatureOptions{}).value();
  const RealMatrix b = ComputeFrameFeatures(fx, y, weighted).value();
  for (Eigen::Index m = 0; m < a.rows(); ++m) {
    for (Eigen::Index t = 0; t < a.cols(); t += 7) {
      EXPECT_NEAR(b(m, t), a(m, t) * LowBandWeight(static_cast<int>(m)), 1e-4f);
    }
  }
}

TEST(FrameFeaturesTest, OptionsCompose) {
  auto y = testing::Chirp(300.0, 2500.0, kSr, 6000);
  for (size_t i = 0; i < y.size(); ++i) y[i] *= static_cast<float>(0.1 + 0.9 * static_cast<double>(i) / 6000.0);
  const auto fx = Extractor(SmallConfig());
  FrameFeatureOptions norm;
  norm.volume_normalize = true;
  FrameFeatureOptions both = norm;
  both.frequency_weighting = true;
  const RealMatrix a = ComputeFrameFeatures(fx, y, norm).value();
  const RealMatrix b = ComputeFrameFeatures(fx, y, both).value();
  for (Eigen::Index m = 0; m < a.rows(); ++m) {
    EXPECT_LE((b.row(m) - a.row(m) * LowBandWeight(static_cast<int>(m))).cwiseAbs().maxCoeff(), 1e-4f);
  }
  // Normalisation changes the features of a crescendo; weighting on top changes them again.
  const RealMatrix plain = ComputeFrameFeatures(fx, y, FrameFeatureOptions{}).value();
  EXPECT_GT((plain - a).cwiseAbs().maxCoeff(), 1.0f);
}

TEST(FrameFeaturesTest, ZeroInput) {
  const auto fx = Extractor(SmallConfig());
  const std::vector<float> y(2000, 0.0f);
  for (bool norm : {false, true}) {
    FrameFeatureOptions o;
    o.volume_normalize = norm;
    auto features = ComputeFrameFeatures(fx, y, o);
    ASSERT_TRUE(features.ok()) << features.status();
    EXPECT_TRUE(features->allFinite());
    EXPECT_EQ(features->cwiseAbs().maxCoeff(), 0.0f);
  }
  const ComplexMatrix spec = fx.ComplexSpectrogram(y).value();
  for (float c : SpectralCentroid(spec, kSr, 256)) EXPECT_EQ(c, 0.0f);
  for (float f : SpectralFlatness(spec)) EXPECT_FLOAT_EQ(f, 1.0f);
  const std::vector<float> rms = FrameRms(fx, y).value();
  for (float r : rms) EXPECT_EQ(r, 0.0f);
}

TEST(FrameFeaturesTest, InvalidOptions) {
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::Sine(440.0, kSr, 2000);
  FrameFeatureOptions o;
  o.amin = 0.0;
  auto s = ComputeFrameFeatures(fx, y, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("features.amin"));
  o = FrameFeatureOptions{};
  o.top_db = -1.0;
  EXPECT_THAT(std::string(ComputeFrameFeatures(fx, y, o).status().message()), HasSubstr("features.top_db"));

  RealMatrix mel = RealMatrix::Ones(4, 3);
  mel(2, 1) = std::nanf("");
  EXPECT_THAT(std::string(MelToFrameFeatures(mel, 2.0, {}).status().message()), HasSubstr("mel["));
  EXPECT_THAT(std::string(MelToFrameFeatures(RealMatrix::Ones(4, 3), 0.0, {}).status().message()),
              HasSubstr("power"));
  EXPECT_FALSE(MelToFrameFeatures(RealMatrix(0, 0), 2.0, {}).ok());

  auto bad = y;
  bad[17] = std::nanf("");
  EXPECT_THAT(std::string(ComputeFrameFeatures(fx, bad, {}).status().message()), HasSubstr("audio[17]"));
  EXPECT_THAT(std::string(FrameRms(fx, bad).status().message()), HasSubstr("audio[17]"));
}

TEST(FrameFeaturesTest, RmsOfASineIsAmplitudeOverRootTwo) {
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::Sine(500.0, kSr, 4000, 0.4);
  const auto rms = FrameRms(fx, y).value();
  ASSERT_EQ(static_cast<int64_t>(rms.size()), fx.NumFrames(4000));
  for (size_t t = 4; t + 4 < rms.size(); ++t) EXPECT_NEAR(rms[t], 0.4 / std::sqrt(2.0), 2e-3);
  // Centred constant padding: the first frame is half zeros.
  EXPECT_NEAR(rms[0], 0.4 / 2.0, 5e-3);
}

TEST(FrameFeaturesTest, RmsFollowsEveryFraming) {
  for (const char* preset : {"hifigan", "whisper", "espnet"}) {
    const auto fx = Extractor(GetPreset(preset).value());
    const auto y = testing::Sine(300.0, fx.config().sample_rate, 5000, 0.3);
    const auto rms = FrameRms(fx, y).value();
    EXPECT_EQ(static_cast<int64_t>(rms.size()), fx.NumFrames(5000)) << preset;
    EXPECT_EQ(static_cast<int64_t>(rms.size()), fx.ComplexSpectrogram(y)->cols()) << preset;
    EXPECT_NEAR(rms[rms.size() / 2], 0.3 / std::sqrt(2.0), 5e-3) << preset;
  }
}

TEST(FrameFeaturesTest, CentroidAndFlatnessSeparateToneFromNoise) {
  const auto fx = Extractor(SmallConfig());
  const auto tone = fx.ComplexSpectrogram(testing::Sine(1000.0, kSr, 4000)).value();
  const auto noise = fx.ComplexSpectrogram(testing::WhiteNoise(4000, 3)).value();
  const auto centroid = SpectralCentroid(tone, kSr, 256);
  EXPECT_NEAR(centroid[centroid.size() / 2], 1000.0, 40.0);
  const auto noise_centroid = SpectralCentroid(noise, kSr, 256);
  EXPECT_NEAR(noise_centroid[noise_centroid.size() / 2], kSr / 4.0, 300.0);
  const auto tone_flatness = SpectralFlatness(tone);
  const auto noise_flatness = SpectralFlatness(noise);
  EXPECT_LT(tone_flatness[tone_flatness.size() / 2], 0.01f);
  EXPECT_GT(noise_flatness[noise_flatness.size() / 2], 0.3f);
  EXPECT_LE(noise_flatness[noise_flatness.size() / 2], 1.0f);
}

}  // namespace
}  // namespace specinv
