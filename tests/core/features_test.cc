// Copyright specinv authors.

#include "specinv/analysis/features.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/base/numpy_abs.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

TEST(FeaturesTest, EveryPresetIsValid) {
  for (const auto& name : PresetNames()) {
    auto preset = GetPreset(name);
    ASSERT_TRUE(preset.ok()) << name << ": " << preset.status();
    EXPECT_EQ(preset->preset, name);
    EXPECT_TRUE(FeatureExtractor::Create(*preset).ok()) << name;
  }
  EXPECT_EQ(GetPreset("wavenet").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(GetPreset("wavenet").status().message()), HasSubstr("hifigan"));
}

TEST(FeaturesTest, MagnitudeFormulaPerPreset) {
  // librosa's np.abs for librosa-style configurations; the torch front ends'
  // sqrt(re^2 + im^2 (+ eps)) for the TTS presets.
  EXPECT_EQ(FeatureConfig{}.magnitude_formula, MagnitudeFormula::kNumpyAbs);
  EXPECT_EQ(GetPreset("librosa")->magnitude_formula, MagnitudeFormula::kNumpyAbs);
  for (const char* name : {"hifigan", "tacotron2", "espnet"}) {
    EXPECT_EQ(GetPreset(name)->magnitude_formula, MagnitudeFormula::kSqrtOfSquares) << name;
  }
}

TEST(FeaturesTest, NumpyComplexAbsSpecialValues) {
  EXPECT_EQ(NumpyComplexAbs(0.0f, 0.0f), 0.0f);
  EXPECT_EQ(NumpyComplexAbs(-0.0f, 0.0f), 0.0f);
  EXPECT_EQ(NumpyComplexAbs(3.0f, -4.0f), 5.0f);
  EXPECT_EQ(NumpyComplexAbs(-2.5f, 0.0f), 2.5f);
  EXPECT_EQ(NumpyComplexAbs(INFINITY, NAN), INFINITY);
  EXPECT_EQ(NumpyComplexAbs(1.0f, -INFINITY), INFINITY);
  EXPECT_TRUE(std::isnan(NumpyComplexAbs(NAN, 1.0f)));
  // No overflow or underflow where re^2 + im^2 would.
  EXPECT_NEAR(NumpyComplexAbs(3e30f, 4e30f), 5e30f, 5e30f * 1e-6f);
  EXPECT_NEAR(NumpyComplexAbs(3e-30f, 4e-30f), 5e-30f, 5e-30f * 1e-6f);
}

TEST(FeaturesTest, EspnetPresetParameters) {
  auto c = GetPreset("espnet").value();
  EXPECT_EQ(c.sample_rate, 16000.0);
  EXPECT_EQ(c.stft.n_fft, 1024);
  EXPECT_EQ(c.stft.hop_length, 256);
  EXPECT_EQ(c.n_mels, 80);
  EXPECT_EQ(c.fmin, 80.0);
  EXPECT_EQ(c.fmax.value(), 7600.0);
  EXPECT_EQ(c.scale.kind, ScaleKind::kLog10);
  EXPECT_EQ(c.scale.clamp, 1e-10);
}

TEST(FeaturesTest, FrameCountsPerFraming) {
  auto hifigan = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  EXPECT_EQ(hifigan.NumFrames(44100), 172);  // 1 + (44100 + 768 - 1024) / 256
  auto whisper = FeatureExtractor::Create(GetPreset("whisper").value()).value();
  EXPECT_EQ(whisper.NumFrames(22848), 142);  // 1 + 22848 / 160, last frame dropped
  auto tacotron = FeatureExtractor::Create(GetPreset("tacotron2").value()).value();
  EXPECT_EQ(tacotron.NumFrames(22050), 1 + 22050 / 256);
  const auto y = testing::Sine(440.0, 22050.0, 22050);
  EXPECT_EQ(hifigan.LogMel(y)->cols(), hifigan.NumFrames(22050));
}

TEST(FeaturesTest, ToneLandsInTheRightMelBand) {
  auto fx = FeatureExtractor::Create(GetPreset("tacotron2").value()).value();
  const auto y = testing::Sine(1000.0, 22050.0, 22050);
  auto mel = fx.Mel(y);
  ASSERT_TRUE(mel.ok());
  Eigen::Index band = 0;
  mel->col(mel->cols() / 2).maxCoeff(&band);
  // The band whose filter has the most weight at 1 kHz.
  Eigen::Index expected = 0;
  fx.filterbank().weights().col(static_cast<Eigen::Index>(std::lround(1000.0 * 1024 / 22050.0))).maxCoeff(&expected);
  EXPECT_EQ(band, expected);
}

TEST(FeaturesTest, LogMelDecompressesToMel) {
  for (const char* name : {"hifigan", "tacotron2", "espnet", "whisper"}) {
    auto config = GetPreset(name).value();
    auto fx = FeatureExtractor::Create(config).value();
    const auto y = testing::Chirp(100.0, 6000.0, config.sample_rate, static_cast<int64_t>(config.sample_rate));
    const RealMatrix mel = fx.Mel(y).value();
    auto back = fx.Decompress(fx.LogMel(y).value());
    ASSERT_TRUE(back.ok());
    // Above the clamp/floor the inverse is exact.
    const float floor = std::string(name) == "whisper" ? mel.maxCoeff() * 1e-8f : static_cast<float>(config.scale.clamp);
    for (Eigen::Index i = 0; i < mel.size(); ++i) {
      if (mel.data()[i] > 10.0f * floor) {
        ASSERT_NEAR(back->data()[i], mel.data()[i], 1e-4f * mel.data()[i]) << name << " " << i;
      }
    }
  }
}

TEST(FeaturesTest, ZeroInput) {
  auto fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  auto log_mel = fx.LogMel(std::vector<float>(4096, 0.0f));
  ASSERT_TRUE(log_mel.ok());
  // sqrt(1e-9) = 3.16e-5 per bin times filter weights stays below the 1e-5 clamp? Check against direct math.
  const RealMatrix mel = fx.Mel(std::vector<float>(4096, 0.0f)).value();
  for (Eigen::Index i = 0; i < mel.size(); ++i) {
    EXPECT_NEAR(log_mel->data()[i], std::log(std::max(mel.data()[i], 1e-5f)), 1e-6f);
  }
}

TEST(FeaturesTest, InvalidOptions) {
  FeatureConfig c;
  c.power = 3.0;
  EXPECT_THAT(std::string(FeatureExtractor::Create(c).status().message()), HasSubstr("power must be 1"));
  c = FeatureConfig{};
  c.magnitude_epsilon = -1.0;
  EXPECT_THAT(std::string(FeatureExtractor::Create(c).status().message()), HasSubstr("magnitude_epsilon must be >= 0"));
  c = FeatureConfig{};
  c.sample_rate = 0.0;
  EXPECT_THAT(std::string(FeatureExtractor::Create(c).status().message()), HasSubstr("sample_rate_hertz must be in (0, 384000]"));
  c = FeatureConfig{};
  c.fmax = 12000.0;
  EXPECT_THAT(std::string(FeatureExtractor::Create(c).status().message()), HasSubstr("fmax_hertz"));
  auto fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  EXPECT_THAT(std::string(fx.Mel(std::vector<float>(10, 0.0f)).status().message()), HasSubstr("too short"));
  EXPECT_THAT(std::string(fx.Mel(std::vector<float>{}).status().message()), HasSubstr("audio is empty"));
}

}  // namespace
}  // namespace specinv
