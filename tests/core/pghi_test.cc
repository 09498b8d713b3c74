// Copyright specinv authors.
//
// PGHI: phase from magnitude alone, no iterations.

#include "specinv/inversion/pghi.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/inversion/inversion.h"
#include "specinv/analysis/stft.h"
#include "testing/reference.h"
#include "testing/signals.h"

namespace specinv {
namespace {

Stft MakeStft(int n_fft, int hop, int win = 0, WindowType window = WindowType::kHann, bool center = true) {
  StftOptions o;
  o.n_fft = n_fft;
  o.hop_length = hop;
  o.win_length = win;
  o.window = window;
  o.center = center;
  o.pad_mode = PadMode::kReflect;
  return Stft::Create(o).value();
}

// SC (dB) of the signal PGHI reconstructs, without any iteration.
double PghiScDb(const Stft& stft, const std::vector<float>& y) {
  const RealMatrix mag = stft.Forward(y).value().cwiseAbs();
  InversionOptions o;
  o.method = InversionMethod::kPghi;
  o.length = static_cast<int64_t>(y.size());
  auto r = InvertMagnitude(stft, mag, o);
  EXPECT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->iterations_run, 0);
  return r->spectral_convergence_db;
}

TEST(PghiTest, PureToneWithoutIterations) {
  const Stft stft = MakeStft(1024, 256);
  EXPECT_LE(PghiScDb(stft, testing::Sine(440.0, 22050.0, 22050)), -20.0);
  EXPECT_LE(PghiScDb(stft, testing::Sine(3001.7, 22050.0, 22050, 0.3, 1.0)), -20.0);
}

TEST(PghiTest, ChirpWithoutIterations) {
  const Stft stft = MakeStft(1024, 256);
  EXPECT_LE(PghiScDb(stft, testing::Chirp(100.0, 5000.0, 22050.0, 44100)), -20.0);
  double sr = 0.0;
  const std::vector<float> chirp = testing::LoadReferenceSignal("chirp22k", &sr);
  EXPECT_LE(PghiScDb(stft, chirp), -20.0);
}

TEST(PghiTest, OtherWindowsAndOddSizes) {
  // Hamming, window shorter than n_fft, odd n_fft: the phase convention
  // (window centre) and gamma follow the window. A wrong centre or gamma
  // gives about 0 dB; Hamming is less Gaussian than Hann, hence -15 dB.
  const Stft hamming = MakeStft(1023, 200, 800, WindowType::kHamming);
  EXPECT_LE(PghiScDb(hamming, testing::Sine(440.0, 22050.0, 22050)), -15.0);
  const Stft blackman = MakeStft(512, 128, 0, WindowType::kBlackman, /*center=*/false);
  EXPECT_LE(PghiScDb(blackman, testing::Chirp(200.0, 3000.0, 16000.0, 16000)), -20.0);
}

TEST(PghiTest, MuchBetterThanZeroPhase) {
  const Stft stft = MakeStft(1024, 256);
  double sr = 0.0;
  const std::vector<float> speech = testing::LoadReferenceSignal("speech22k", &sr);
  const RealMatrix mag = stft.Forward(speech).value().cwiseAbs();
  InversionOptions o;
  o.iterations = 0;
  o.length = static_cast<int64_t>(speech.size());
  auto zero = InvertMagnitude(stft, mag, o);
  o.method = InversionMethod::kPghi;
  auto pghi = InvertMagnitude(stft, mag, o);
  ASSERT_TRUE(zero.ok() && pghi.ok());
  EXPECT_LT(pghi->spectral_convergence_db, zero->spectral_convergence_db - 10.0);
  EXPECT_LT(pghi->spectral_convergence_db, -15.0);
}

TEST(PghiTest, PhaseShapeAndDeterminism) {
  const Stft stft = MakeStft(256, 64);
  const RealMatrix mag = stft.Forward(testing::WhiteNoise(4000, 5)).value().cwiseAbs();
  auto a = PghiPhase(stft, mag);
  auto b = PghiPhase(stft, mag);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->rows(), 129);
  EXPECT_EQ(a->cols(), mag.cols());
  EXPECT_TRUE(*a == *b);
  EXPECT_TRUE(a->allFinite());
  EXPECT_LE(a->cwiseAbs().maxCoeff(), 3.1416f);
}

TEST(PghiTest, SilenceAndSingleFrame) {
  const Stft stft = MakeStft(256, 64);
  auto silent = PghiPhase(stft, RealMatrix::Zero(129, 5));
  ASSERT_TRUE(silent.ok()) << silent.status();
  EXPECT_TRUE(silent->allFinite());
  auto one = PghiPhase(stft, RealMatrix::Ones(129, 1));
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_TRUE(one->allFinite());
}

TEST(PghiTest, Gamma) {
  EXPECT_DOUBLE_EQ(PghiGamma(WindowType::kHann, 1024), 0.25645 * 1024.0 * 1024.0);
  EXPECT_DOUBLE_EQ(PghiGamma(WindowType::kHamming, 400), 0.29794 * 400.0 * 400.0);
  EXPECT_DOUBLE_EQ(PghiGamma(WindowType::kBlackman, 512), 0.17954 * 512.0 * 512.0);
  // The moment match lands close to the fitted Hann value for sqrt-Hann's square (= Hann).
  const double sqrt_hann = PghiGamma(WindowType::kSqrtHann, 1024);
  EXPECT_GT(sqrt_hann, 0.15 * 1024.0 * 1024.0);
  EXPECT_LT(sqrt_hann, 0.5 * 1024.0 * 1024.0);
}

TEST(PghiTest, InvalidInputs) {
  const Stft stft = MakeStft(256, 64);
  EXPECT_EQ(PghiPhase(stft, RealMatrix::Ones(128, 4)).status().message(),
            "magnitude must have n_fft/2+1 = 129 rows (bins) for n_fft=256, got 128");
  EXPECT_EQ(PghiPhase(stft, RealMatrix::Ones(129, 0)).status().message(),
            "magnitude must have at least 1 frame, got 0");
  PghiOptions o;
  o.tolerance_db = 5.0;
  EXPECT_EQ(PghiPhase(stft, RealMatrix::Ones(129, 4), o).status().message(),
            "pghi tolerance_db must be in [-200, 0], got 5");
  RealMatrix bad = RealMatrix::Ones(129, 4);
  bad(2, 1) = -0.5f;
  EXPECT_EQ(PghiPhase(stft, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv
