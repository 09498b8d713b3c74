// Copyright specinv authors.

#include "specinv/creative/transform.h"

#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/frame_features.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr double kSr = 8000.0;
constexpr int kBlock = 64;

FeatureConfig SmallConfig() {
  FeatureConfig c;
  c.sample_rate = kSr;
  c.stft.n_fft = 256;
  c.stft.hop_length = 64;
  c.n_mels = 48;
  return c;
}

// Non-overlapping rectangular blocks: the STFT is exactly invertible block by
// block, so phase operations can be checked sample by sample.
FeatureConfig BlockConfig() {
  FeatureConfig c = SmallConfig();
  c.stft.n_fft = kBlock;
  c.stft.hop_length = kBlock;
  c.stft.window = WindowType::kRectangular;
  c.stft.center = false;
  c.n_mels = 8;
  return c;
}

FeatureExtractor Extractor(const FeatureConfig& c) { return FeatureExtractor::Create(c).value(); }

std::vector<float> Material(int64_t n) {
  auto y = testing::Chirp(200.0, 3000.0, kSr, n, 0.4);
  const auto noise = testing::WhiteNoise(n, 2, 0.1);
  for (size_t i = 0; i < y.size(); ++i) y[i] += noise[i];
  return y;
}

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, static_cast<double>(std::abs(a[i] - b[i])));
  return m;
}

bool SameBytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST(TransformTest, KeepWithoutMasksReconstructsTheInput) {
  for (const char* preset : {"", "hifigan"}) {
    const FeatureConfig config = *preset ? GetPreset(preset).value() : SmallConfig();
    const auto fx = Extractor(config);
    const auto y = Material(6000);
    const auto r = Transform(fx, y, TransformOptions{});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->audio.size(), y.size());
    EXPECT_LT(MaxAbsDiff(r->audio, y), 1e-4) << preset;
    EXPECT_FALSE(r->inversion.has_value());
  }
}

TEST(TransformTest, ConjugateReversesEveryFrame) {
  const auto fx = Extractor(BlockConfig());
  const auto y = Material(kBlock * 20);
  TransformOptions o;
  o.phase = PhaseOperation::kConjugate;
  const auto out = Transform(fx, y, o).value().audio;
  ASSERT_EQ(out.size(), y.size());
  for (size_t b = 0; b < 20; ++b) {
    for (size_t n = 0; n < kBlock; ++n) {
      EXPECT_NEAR(out[b * kBlock + n], y[b * kBlock + (kBlock - n) % kBlock], 1e-5);
    }
  }
}

TEST(TransformTest, ZeroPhaseGivesSymmetricFramesWithTheSameMagnitude) {
  const auto fx = Extractor(BlockConfig());
  const auto y = Material(kBlock * 20);
  TransformOptions o;
  o.phase = PhaseOperation::kZero;
  const auto out = Transform(fx, y, o).value().audio;
  for (size_t b = 0; b < 20; ++b) {
    for (size_t n = 1; n < kBlock; ++n) EXPECT_NEAR(out[b * kBlock + n], out[b * kBlock + kBlock - n], 1e-5);
  }
  const RealMatrix before = fx.Magnitude(y).value();
  const RealMatrix after = fx.Magnitude(out).value();
  EXPECT_LT((before - after).cwiseAbs().maxCoeff(), 1e-4f * before.maxCoeff());
  EXPECT_GT(MaxAbsDiff(out, y), 0.05);
}

TEST(TransformTest, RandomPhaseKeepsMagnitudeAndIsReproducible) {
  const auto fx = Extractor(BlockConfig());
  const auto y = Material(kBlock * 20);
  TransformOptions o;
  o.phase = PhaseOperation::kRandom;
  o.seed = 17;
  const auto a = Transform(fx, y, o).value().audio;
  const auto b = Transform(fx, y, o).value().audio;
  EXPECT_TRUE(SameBytes(a, b));
  const RealMatrix before = fx.Magnitude(y).value();
  const RealMatrix after = fx.Magnitude(a).value();
  EXPECT_LT((before - after).cwiseAbs().maxCoeff(), 1e-4f * before.maxCoeff());
  o.seed = 18;
  const auto c = Transform(fx, y, o).value().audio;
  EXPECT_GT(MaxAbsDiff(a, c), 0.05);
  // The phase is a function of (seed, bin, frame) only, spread over [0, 2 pi).
  double mean_cos = 0.0;
  for (int k = 0; k < 1000; ++k) {
    const double phi = TransformRandomPhase(3, k, 7);
    EXPECT_GE(phi, 0.0);
    EXPECT_LT(phi, 2.0 * std::numbers::pi);
    mean_cos += std::cos(phi) / 1000.0;
  }
  EXPECT_NEAR(mean_cos, 0.0, 0.1);
  EXPECT_EQ(TransformRandomPhase(3, 5, 7), TransformRandomPhase(3, 5, 7));
  EXPECT_NE(TransformRandomPhase(3, 5, 7), TransformRandomPhase(3, 7, 5));
}

TEST(TransformTest, CheckerboardMutesAlternateBins) {
  ComplexMatrix spec = ComplexMatrix::Constant(9, 6, std::complex<float>(1.0f, 2.0f));
  ApplyCheckerboard(&spec);
  for (Eigen::Index t = 0; t < spec.cols(); ++t) {
    for (Eigen::Index k = 0; k < spec.rows(); ++k) {
      EXPECT_EQ(std::abs(spec(k, t)) == 0.0f, (k + t) % 2 == 0) << k << "," << t;
    }
  }
}

TEST(TransformTest, BandMuteRemovesOnlyThatBand) {
  const auto fx = Extractor(SmallConfig());
  auto y = testing::Sine(1000.0, kSr, 8000, 0.3);
  const auto high = testing::Sine(3000.0, kSr, 8000, 0.3);
  for (size_t i = 0; i < y.size(); ++i) y[i] += high[i];
  TransformOptions o;
  o.band_mutes = {{2500.0, 3500.0}};
  const auto out = Transform(fx, y, o).value().audio;
  const RealMatrix before = fx.Magnitude(y).value();
  const RealMatrix after = fx.Magnitude(out).value();
  const Eigen::Index mid = before.cols() / 2;
  const Eigen::Index k1000 = 32;  // 1000 Hz * 256 / 8000
  const Eigen::Index k3000 = 96;
  EXPECT_NEAR(after(k1000, mid), before(k1000, mid), 0.01f * before(k1000, mid));
  EXPECT_LT(after(k3000, mid), 1e-3f * before(k3000, mid));
}

TEST(TransformTest, TimeGateMutesClosedFrames) {
  ComplexMatrix spec = ComplexMatrix::Ones(5, 40);
  // hop 100 samples at 1 kHz: frame t is at 0.1 t s; period 1 s, 30 % open.
  ApplyTimeGate(TimeGate{1.0, 0.3}, 1000.0, 0, 100, &spec);
  for (Eigen::Index t = 0; t < 40; ++t) {
    EXPECT_EQ(spec.col(t).cwiseAbs().sum() > 0.0f, (t % 10) < 3) << t;
  }
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::Sine(700.0, kSr, 16000, 0.5);
  TransformOptions o;
  o.time_gate = TimeGate{0.5, 0.5};
  const auto out = Transform(fx, y, o).value().audio;
  // Middle of an open half (0.25 s) keeps the tone; middle of a closed one (0.75 s) is silent.
  EXPECT_NEAR(out[2000], y[2000], 1e-3);
  EXPECT_LT(std::abs(out[6000]), 1e-6);
}

TEST(TransformTest, WarpMelShiftsFlipsAndReverses) {
  RealMatrix mel(4, 3);
  mel << 1, 2, 3,
         4, 5, 6,
         7, 8, 9,
         10, 11, 12;
  RealMatrix up(4, 3);
  up << 0, 0, 0,
        1, 2, 3,
        4, 5, 6,
        7, 8, 9;
  EXPECT_TRUE(WarpMel(mel, MelWarp{1, false, false}) == up);
  RealMatrix down(4, 3);
  down << 7, 8, 9,
          10, 11, 12,
          0, 0, 0,
          0, 0, 0;
  EXPECT_TRUE(WarpMel(mel, MelWarp{-2, false, false}) == down);
  EXPECT_TRUE(WarpMel(mel, MelWarp{0, false, true}) == mel.colwise().reverse().eval());
  EXPECT_TRUE(WarpMel(mel, MelWarp{0, true, false}) == mel.rowwise().reverse().eval());
  // Flip, then shift, then reverse.
  RealMatrix all(4, 3);
  all << 0, 0, 0,
         12, 11, 10,
         9, 8, 7,
         6, 5, 4;
  EXPECT_TRUE(WarpMel(mel, MelWarp{1, true, true}) == all);
  EXPECT_TRUE(WarpMel(WarpMel(mel, MelWarp{0, true, true}), MelWarp{0, true, true}) == mel);
}

float MeanCentroid(const FeatureExtractor& fx, const std::vector<float>& y) {
  const auto c = SpectralCentroid(fx.ComplexSpectrogram(y).value(), kSr, fx.config().stft.n_fft);
  double s = 0.0;
  for (size_t t = 4; t + 4 < c.size(); ++t) s += static_cast<double>(c[t]);
  return static_cast<float>(s / static_cast<double>(c.size() - 8));
}

TEST(TransformTest, MelShiftMovesPitch) {
  const auto fx = Extractor(SmallConfig());
  const auto y = testing::Sine(600.0, kSr, 6000, 0.5);
  const float original = MeanCentroid(fx, y);
  TransformOptions o;
  o.inversion.iterations = 8;
  o.mel_warp = MelWarp{6, false, false};
  const auto up = Transform(fx, y, o);
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_EQ(up->audio.size(), y.size());
  ASSERT_TRUE(up->inversion.has_value());
  o.mel_warp = MelWarp{-6, false, false};
  const auto down = Transform(fx, y, o).value();
  EXPECT_GT(MeanCentroid(fx, up->audio), original * 1.3f);
  EXPECT_LT(MeanCentroid(fx, down.audio), original / 1.3f);
  // Byte-identical for the same request.
  o.mel_warp = MelWarp{6, false, false};
  EXPECT_TRUE(SameBytes(Transform(fx, y, o).value().audio, up->audio));
}

TEST(TransformTest, MelReverseTimeReversesTheEnvelope) {
  const auto fx = Extractor(SmallConfig());
  auto y = testing::Sine(900.0, kSr, 8000, 0.5);
  for (size_t i = 0; i < y.size(); ++i) y[i] *= static_cast<float>(i) / 8000.0f;  // crescendo
  TransformOptions o;
  o.inversion.iterations = 8;
  o.mel_warp = MelWarp{0, true, false};
  const auto out = Transform(fx, y, o).value().audio;
  auto energy = [](const std::vector<float>& x, size_t a, size_t b) {
    double e = 0.0;
    for (size_t i = a; i < b; ++i) e += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    return e;
  };
  EXPECT_GT(energy(out, 500, 2500), 4.0 * energy(out, 5500, 7500));
  EXPECT_LT(energy(y, 500, 2500), energy(y, 5500, 7500) / 4.0);
}

TEST(TransformTest, ResynthesizeInvertsTheMagnitude) {
  for (const char* preset : {"", "hifigan"}) {
    const FeatureConfig config = *preset ? GetPreset(preset).value() : SmallConfig();
    const auto fx = Extractor(config);
    const auto y = testing::Chirp(300.0, 2000.0, config.sample_rate, 6000, 0.5);
    TransformOptions o;
    o.phase = PhaseOperation::kResynthesize;
    o.inversion.iterations = 16;
    const auto r = Transform(fx, y, o);
    ASSERT_TRUE(r.ok()) << preset << ": " << r.status();
    ASSERT_EQ(r->audio.size(), y.size()) << preset;
    ASSERT_TRUE(r->inversion.has_value());
    EXPECT_EQ(r->inversion->iterations_run, 16);
    // The result's magnitude is close to the input's (phase retrieval, not identity).
    const RealMatrix before = fx.Magnitude(y).value();
    const RealMatrix after = fx.Magnitude(r->audio).value();
    const Eigen::Index inner = before.cols() - 8;
    const double rel = static_cast<double>((before.middleCols(4, inner) - after.middleCols(4, inner)).norm()) /
                       static_cast<double>(before.middleCols(4, inner).norm());
    EXPECT_LT(rel, 0.35) << preset;
  }
}

TEST(TransformTest, BadInputsGivePreciseErrors) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material(4000);
  auto message = [&](const TransformOptions& o, const std::vector<float>& audio) {
    const auto s = Transform(fx, audio, o).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  TransformOptions o;
  o.phase = static_cast<PhaseOperation>(11);
  EXPECT_THAT(message(o, y), HasSubstr("phase must be one of"));
  EXPECT_THAT(std::string(ParsePhaseOperation("invert").status().message()), HasSubstr("phase"));
  EXPECT_EQ(ParsePhaseOperation("resynthesize").value(), PhaseOperation::kResynthesize);
  o = TransformOptions{};
  o.band_mutes = {{100.0, 200.0}, {500.0, 400.0}};
  EXPECT_THAT(message(o, y), HasSubstr("band_mutes[1].high_hertz"));
  o.band_mutes = {{5000.0, 6000.0}};
  EXPECT_THAT(message(o, y), HasSubstr("band_mutes[0].low_hertz must be in [0, 4000]"));
  o = TransformOptions{};
  o.time_gate = TimeGate{0.0, 0.5};
  EXPECT_THAT(message(o, y), HasSubstr("time_gate.period_seconds"));
  o.time_gate = TimeGate{1.0, 0.0};
  EXPECT_THAT(message(o, y), HasSubstr("time_gate.open_fraction"));
  o = TransformOptions{};
  o.mel_warp = MelWarp{48, false, false};
  EXPECT_THAT(message(o, y), HasSubstr("mel_warp.shift_bins must be in [-47, 47]"));
  o = TransformOptions{};
  o.length = 0;
  EXPECT_THAT(message(o, y), HasSubstr("length"));
  auto nan = y;
  nan[7] = std::nanf("");
  EXPECT_THAT(message(TransformOptions{}, nan), HasSubstr("audio[7] is NaN"));
  o = TransformOptions{};
  o.phase = PhaseOperation::kResynthesize;
  o.inversion.iterations = -1;
  EXPECT_THAT(message(o, y), HasSubstr("iterations"));
}

}  // namespace
}  // namespace specinv
