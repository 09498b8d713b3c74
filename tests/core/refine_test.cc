// Copyright specinv authors.
//
// L-BFGS waveform refinement against mel and magnitude targets.

#include "specinv/inversion/refine.h"

#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion.h"
#include "testing/signals.h"

namespace specinv {
namespace {

class RefineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FeatureConfig c = GetPreset("tacotron2").value();
    c.stft.n_fft = 512;
    c.stft.hop_length = 128;
    c.stft.win_length = 0;
    c.sample_rate = 16000.0;
    c.n_mels = 40;
    fx_ = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(c).value());
    signal_ = testing::ToneSequence({220.0, 330.0, 495.0, 660.0}, 0.25, 16000.0);
    const std::vector<float> chirp = testing::Chirp(300.0, 3000.0, 16000.0, static_cast<int64_t>(signal_.size()), 0.2);
    for (size_t i = 0; i < signal_.size(); ++i) signal_[i] += chirp[i];
    mel_ = fx_->Mel(signal_).value();
    layout_ = FeatureLayout(*fx_, mel_.cols(), static_cast<int64_t>(signal_.size())).value();
    // A rough start: a few Griffin-Lim iterations from the mel.
    InversionOptions o;
    o.iterations = 4;
    o.length = static_cast<int64_t>(signal_.size());
    start_ = InvertMel(*fx_, mel_, o).value().audio;
  }
  std::unique_ptr<FeatureExtractor> fx_;
  std::vector<float> signal_, start_;
  RealMatrix mel_;
  SignalLayout layout_;
};

TEST_F(RefineTest, LowersMelErrorMonotonically) {
  RefineTarget target;
  target.values = &mel_;
  target.filterbank = &fx_->filterbank();
  RefineOptions o;
  o.iterations = 25;
  std::vector<double> sc;
  o.progress = [&](int iteration, double sc_db) {
    EXPECT_EQ(iteration, static_cast<int>(sc.size()) + 1);
    sc.push_back(sc_db);
  };
  std::vector<float> x = start_;
  auto r = RefineSignal(fx_->stft(), layout_, target, o, &x);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(static_cast<int>(sc.size()), r->iterations_run);
  ASSERT_GE(r->iterations_run, 10);
  EXPECT_LE(sc.front(), r->initial_sc_db);
  for (size_t i = 1; i < sc.size(); ++i) EXPECT_LE(sc[i], sc[i - 1]) << "iteration " << i + 1;
  EXPECT_LT(r->final_sc_db, r->initial_sc_db - 3.0);
  EXPECT_LT(r->final_objective, r->initial_objective);
  // The reported SC is the SC of the returned signal.
  const RealMatrix got = fx_->Mel(x).value();
  EXPECT_NEAR(SpectralConvergenceDb(mel_, got), r->final_sc_db, 0.05);
}

TEST_F(RefineTest, LinearMagnitudeTargetAndLogDomain) {
  const RealMatrix mag = fx_->Magnitude(signal_).value();
  RefineTarget target;
  target.values = &mag;
  RefineOptions o;
  o.iterations = 15;
  std::vector<float> x = start_;
  auto r = RefineSignal(fx_->stft(), layout_, target, o, &x);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LT(r->final_sc_db, r->initial_sc_db - 3.0);

  RefineTarget mel_target;
  mel_target.values = &mel_;
  mel_target.filterbank = &fx_->filterbank();
  o.log_domain = true;
  std::vector<float> y = start_;
  auto log = RefineSignal(fx_->stft(), layout_, mel_target, o, &y);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_GT(log->iterations_run, 0);
  EXPECT_LT(log->final_objective, 0.9 * log->initial_objective);
}

TEST_F(RefineTest, ThreadsGiveIdenticalResults) {
  RefineTarget target;
  target.values = &mel_;
  target.filterbank = &fx_->filterbank();
  RefineOptions o;
  o.iterations = 5;
  std::vector<float> a = start_, b = start_;
  o.max_threads = 1;
  ASSERT_TRUE(RefineSignal(fx_->stft(), layout_, target, o, &a).ok());
  o.max_threads = 2;
  ASSERT_TRUE(RefineSignal(fx_->stft(), layout_, target, o, &b).ok());
  EXPECT_EQ(a, b);
}

TEST_F(RefineTest, CancellationAndErrors) {
  RefineTarget target;
  target.values = &mel_;
  target.filterbank = &fx_->filterbank();
  RefineOptions o;
  o.iterations = 50;
  int calls = 0;
  o.check = [&]() -> absl::Status {
    return ++calls == 3 ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  std::vector<float> x = start_;
  auto r = RefineSignal(fx_->stft(), layout_, target, o, &x);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(calls, 3);

  RefineOptions plain;
  std::vector<float> short_signal(10, 0.0f);
  EXPECT_EQ(RefineSignal(fx_->stft(), layout_, target, plain, &short_signal).status().code(),
            absl::StatusCode::kInvalidArgument);
  RealMatrix wrong = RealMatrix::Ones(39, mel_.cols());
  target.values = &wrong;
  auto bad = RefineSignal(fx_->stft(), layout_, target, plain, &x);
  EXPECT_NE(bad.status().message().find("refine target must be (40, "), std::string::npos) << bad.status();
}

// max_evaluations caps the objective evaluations (line searches included)
// before the iteration count does; the signal is the last accepted iterate.
TEST_F(RefineTest, MaxEvaluationsCapsTheWork) {
  RefineTarget target;
  target.values = &mel_;
  target.filterbank = &fx_->filterbank();
  RefineOptions o;
  o.iterations = 1000;
  o.max_evaluations = 9;
  int evaluated_iterations = 0;
  double last_db = 0.0;
  o.progress = [&](int iteration, double sc_db) {
    evaluated_iterations = iteration;
    last_db = sc_db;
  };
  std::vector<float> x = start_;
  auto r = RefineSignal(fx_->stft(), layout_, target, o, &x);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stop_reason, "evaluations");
  EXPECT_LE(r->evaluations, 9);
  EXPECT_GE(r->evaluations, 8) << "only a last line search that would pass the cap is cut";
  EXPECT_EQ(r->iterations_run, evaluated_iterations);
  EXPECT_LE(r->iterations_run, 8);
  EXPECT_NEAR(SpectralConvergenceDb(mel_, fx_->Mel(x).value()), last_db, 0.05);
  o.max_evaluations = -1;
  EXPECT_FALSE(RefineSignal(fx_->stft(), layout_, target, o, &x).ok());
}

}  // namespace
}  // namespace specinv
