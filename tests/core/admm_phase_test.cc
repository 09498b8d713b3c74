// Copyright specinv authors.
//
// ADMM phase retrieval engine: fixed point at the true phase, its measured
// convergence against an independent analysis, determinism, silence.

#include "specinv/inversion/admm_phase.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/pghi.h"
#include "testing/reference.h"

namespace specinv {
namespace {

class AdmmPhaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    double sr = 0.0;
    speech_ = testing::LoadReferenceSignal("speech22k", &sr);
    speech_.resize(22050);  // 1 s keeps the sanitizer build quick
    FeatureConfig c = GetPreset("librosa").value();
    c.stft.n_fft = 1024;
    c.stft.hop_length = 256;
    fx_ = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(c).value());
    mag_ = fx_->Magnitude(speech_).value();
    layout_ = FeatureLayout(*fx_, mag_.cols(), static_cast<int64_t>(speech_.size())).value();
  }
  std::vector<float> speech_;
  std::unique_ptr<FeatureExtractor> fx_;
  RealMatrix mag_;
  SignalLayout layout_;
};

// With the true phase, x = z and u = 0: the iterate stays on the signal.
TEST_F(AdmmPhaseTest, TruePhaseIsAFixedPoint) {
  const ComplexMatrix spec = fx_->stft().Forward(speech_).value();
  RealMatrix phase(spec.rows(), spec.cols());
  for (Eigen::Index i = 0; i < spec.size(); ++i) phase.data()[i] = std::arg(spec.data()[i]);
  auto engine = AdmmPhaseEngine::Create(fx_->stft(), layout_, 1);
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine->Start(&mag_, phase);
  for (int i = 0; i < 5; ++i) EXPECT_LT(engine->Iterate(true), 1e-3) << "iteration " << i + 1;
  std::vector<float> out(speech_.size());
  engine->Signal(out.data());
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    const double d = static_cast<double>(out[i]) - static_cast<double>(speech_[i]);
    err += d * d;
    ref += static_cast<double>(speech_[i]) * static_cast<double>(speech_[i]);
  }
  EXPECT_LT(std::sqrt(err / ref), 1e-3);
}

// Iterate(true) reports the spectral convergence of the estimate it analysed,
// i.e. of the signal Signal() returned just before.
TEST_F(AdmmPhaseTest, MeasuredConvergenceMatchesAnIndependentAnalysis) {
  const RealMatrix phase = PghiPhase(fx_->stft(), mag_).value();
  auto engine = AdmmPhaseEngine::Create(fx_->stft(), layout_, 2);
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine->Start(&mag_, phase);
  std::vector<double> measured;
  for (int i = 0; i < 12; ++i) {
    std::vector<float> before(speech_.size());
    engine->Signal(before.data());
    const double expected = SpectralConvergenceDb(mag_, fx_->Magnitude(before).value());
    const double sc = engine->Iterate(true);
    EXPECT_NEAR(20.0 * std::log10(sc), expected, 0.05) << "iteration " << i + 1;
    measured.push_back(expected);
  }
  EXPECT_LT(measured.back(), measured.front() - 3.0) << "the iterations improve on the PGHI start";
  EXPECT_EQ(engine->Iterate(false), -1.0);
}

TEST_F(AdmmPhaseTest, SameAudioForAnyThreadCount) {
  const RealMatrix phase = PghiPhase(fx_->stft(), mag_).value();
  std::vector<std::vector<float>> outs;
  for (int threads : {1, 3}) {
    auto engine = AdmmPhaseEngine::Create(fx_->stft(), layout_, threads);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine->Start(&mag_, phase);
    for (int i = 0; i < 6; ++i) engine->Iterate(i % 2 == 0);
    outs.emplace_back(speech_.size());
    engine->Signal(outs.back().data());
  }
  EXPECT_EQ(outs[0], outs[1]);
}

TEST_F(AdmmPhaseTest, ZeroInput) {
  const RealMatrix zero = RealMatrix::Zero(mag_.rows(), mag_.cols());
  auto engine = AdmmPhaseEngine::Create(fx_->stft(), layout_, 1);
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine->Start(&zero, zero);
  EXPECT_EQ(engine->Iterate(true), 0.0);
  std::vector<float> out(speech_.size(), 1.0f);
  engine->Signal(out.data());
  for (float v : out) ASSERT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace specinv
