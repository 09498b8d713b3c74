// Copyright specinv authors.
//
// Refine on a known linear magnitude (PGHI -> ADMM -> L-BFGS within a budget
// of STFT/iSTFT pairs) on real speech (tests/data/librosa speech22k, n_fft
// 1024, hop 256). librosa 0.10.1 griffinlim, 100 iterations from a random
// phase, reaches -34.4 dB SC_lin on this signal (mean over seeds, see
// inversion_test.cc). Every quality figure here is measured on the returned
// audio by a fresh analysis.

#include "specinv/inversion/magnitude_refine.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/refine.h"
#include "testing/reference.h"

namespace specinv {
namespace {

class MagnitudeRefineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    double sr = 0.0;
    speech_ = testing::LoadReferenceSignal("speech22k", &sr);
    ASSERT_EQ(sr, 22050.0);
    FeatureConfig c = GetPreset("librosa").value();
    c.stft.n_fft = 1024;
    c.stft.hop_length = 256;
    fx_ = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(c).value());
    mag_ = fx_->Magnitude(speech_).value();
    layout_ = FeatureLayout(*fx_, mag_.cols(), static_cast<int64_t>(speech_.size())).value();
  }
  double MeasureDb(const std::vector<float>& audio) const {
    return SpectralConvergenceDb(mag_, fx_->Magnitude(audio).value());
  }
  std::vector<float> speech_;
  std::unique_ptr<FeatureExtractor> fx_;
  RealMatrix mag_;
  SignalLayout layout_;
};

TEST_F(MagnitudeRefineTest, SpendsTheBudgetAndReportsTheAudiosConvergence) {
  MagnitudeRefineOptions o;
  o.budget = 100;
  int last_pairs = 0;
  std::vector<std::string> stages;
  o.progress = [&](int pairs, double, std::string_view stage) {
    EXPECT_GT(pairs, last_pairs);
    EXPECT_LE(pairs, 100);
    last_pairs = pairs;
    if (stages.empty() || stages.back() != stage) stages.emplace_back(stage);
  };
  auto r = RefineFromMagnitude(fx_->stft(), layout_, mag_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(stages, (std::vector<std::string>{"admm", "refine"}));
  EXPECT_EQ(r->admm_iterations, 40);  // 0.4 of the 99 pairs after the start
  EXPECT_EQ(r->pairs, 1 + r->admm_iterations + r->refine_evaluations);
  EXPECT_LE(r->pairs, 100);
  EXPECT_GE(r->pairs, 95) << "the L-BFGS stage uses its evaluations";
  ASSERT_EQ(r->audio.size(), speech_.size());
  EXPECT_NEAR(r->spectral_convergence_db, MeasureDb(r->audio), 0.05);
}

// The quality goal against librosa griffinlim (100 iterations, random phase)
// on speech: at least 5 dB lower SC_lin in 100 pairs.
TEST_F(MagnitudeRefineTest, BeatsLibrosaGriffinLimByFiveDbInTheSamePairs) {
  InversionOptions o;
  o.method = InversionMethod::kRefine;
  o.iterations = 100;
  o.length = static_cast<int64_t>(speech_.size());
  auto r = InvertMagnitude(*fx_, mag_, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LE(r->iterations_run, 100);
  EXPECT_LE(MeasureDb(r->audio), -34.4 - 5.0);
}

// The ADMM stage is what the budget is best spent on: the same budget spent
// as PGHI -> fast Griffin-Lim -> L-BFGS (the mel path's order, assembled here
// from its parts with the same split) ends higher.
TEST_F(MagnitudeRefineTest, AdmmStageBeatsFastGriffinLimStage) {
  MagnitudeRefineOptions mo;
  mo.budget = 100;
  auto admm = RefineFromMagnitude(fx_->stft(), layout_, mag_, mo);
  ASSERT_TRUE(admm.ok()) << admm.status();

  InversionOptions o;
  o.method = InversionMethod::kPghiFgla;
  o.iterations = admm->admm_iterations;
  o.pghi_tolerance_db = mo.pghi_tolerance_db;
  o.length = static_cast<int64_t>(speech_.size());
  auto fgla = InvertMagnitude(*fx_, mag_, o);
  ASSERT_TRUE(fgla.ok()) << fgla.status();
  std::vector<float> x = fgla->audio;
  RefineTarget target;
  target.values = &mag_;
  RefineOptions ro;
  ro.iterations = 1000;
  ro.max_evaluations = admm->refine_evaluations;
  ro.history = mo.history;
  auto refined = RefineSignal(fx_->stft(), layout_, target, ro, &x);
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_EQ(refined->evaluations, admm->refine_evaluations);
  EXPECT_LE(MeasureDb(admm->audio), MeasureDb(x) - 1.0);
}

TEST_F(MagnitudeRefineTest, SmallBudgetsStayWithinThemselves) {
  for (int budget : {1, 2, 3, 4, 7}) {
    SCOPED_TRACE(budget);
    MagnitudeRefineOptions o;
    o.budget = budget;
    auto r = RefineFromMagnitude(fx_->stft(), layout_, mag_, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LE(r->pairs, budget);
    EXPECT_EQ(r->pairs, 1 + r->admm_iterations + r->refine_evaluations);
    EXPECT_TRUE(r->refine_evaluations == 0 || r->refine_evaluations >= 2);
    EXPECT_NEAR(r->spectral_convergence_db, MeasureDb(r->audio), 0.05);
  }
}

TEST_F(MagnitudeRefineTest, ZeroInput) {
  const RealMatrix zero = RealMatrix::Zero(mag_.rows(), mag_.cols());
  MagnitudeRefineOptions o;
  o.budget = 10;
  auto r = RefineFromMagnitude(fx_->stft(), layout_, zero, o);
  ASSERT_TRUE(r.ok()) << r.status();
  for (float v : r->audio) ASSERT_EQ(v, 0.0f);
}

TEST_F(MagnitudeRefineTest, CheckStatusIsReturned) {
  MagnitudeRefineOptions o;
  int calls = 0;
  o.check = [&]() -> absl::Status { return ++calls == 50 ? absl::CancelledError("stop") : absl::OkStatus(); };
  auto r = RefineFromMagnitude(fx_->stft(), layout_, mag_, o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 50);
}

TEST_F(MagnitudeRefineTest, InvalidOptions) {
  MagnitudeRefineOptions o;
  o.budget = 0;
  EXPECT_EQ(RefineFromMagnitude(fx_->stft(), layout_, mag_, o).status().message(),
            "budget must be in [1, 100000000], got 0");
  o = MagnitudeRefineOptions();
  o.admm_share = 1.5;
  EXPECT_FALSE(RefineFromMagnitude(fx_->stft(), layout_, mag_, o).ok());
  o = MagnitudeRefineOptions();
  const RealMatrix wrong = RealMatrix::Ones(mag_.rows() - 1, mag_.cols());
  EXPECT_EQ(RefineFromMagnitude(fx_->stft(), layout_, wrong, o).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv
