// Copyright specinv authors.

#include "specinv/creative/phase_tools.h"

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/stft.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr double kPi = std::numbers::pi;
constexpr double kSampleRate = 22050.0;
constexpr int kNfft = 2048;
constexpr int kHop = 512;

RealMatrix StftPhase(const std::vector<float>& y) {
  StftOptions o;
  o.n_fft = kNfft;
  o.hop_length = kHop;
  const Stft stft = Stft::Create(o).value();
  return PhaseAngle(stft.Forward(y).value());
}

TEST(PhaseToolsTest, PrincipalAngleRange) {
  EXPECT_DOUBLE_EQ(PrincipalAngle(0.0), 0.0);
  EXPECT_DOUBLE_EQ(PrincipalAngle(kPi), kPi);
  EXPECT_DOUBLE_EQ(PrincipalAngle(-kPi), kPi);  // (-pi, pi]: -pi is pi
  EXPECT_NEAR(PrincipalAngle(3.0 * kPi), kPi, 1e-12);
  EXPECT_NEAR(PrincipalAngle(2.0 * kPi + 0.1), 0.1, 1e-12);
  EXPECT_NEAR(PrincipalAngle(-2.0 * kPi - 0.1), -0.1, 1e-12);
  EXPECT_NEAR(PrincipalAngle(101.0), 101.0 - 16.0 * 2.0 * kPi, 1e-9);
}

TEST(PhaseToolsTest, PhaseAngleIsAtan2) {
  ComplexMatrix x(2, 2);
  x << std::complex<float>(1.0f, 1.0f), std::complex<float>(-1.0f, -0.0f), std::complex<float>(0.0f, 0.0f),
      std::complex<float>(0.0f, -2.0f);
  const RealMatrix p = PhaseAngle(x);
  EXPECT_NEAR(p(0, 0), kPi / 4, 1e-6);
  EXPECT_NEAR(p(0, 1), kPi, 1e-6);  // atan2(-0, -1) = -pi, reported as pi
  EXPECT_EQ(p(1, 0), 0.0f);
  EXPECT_NEAR(p(1, 1), -kPi / 2, 1e-6);
}

TEST(PhaseToolsTest, InstantaneousFrequencyOfToneBetweenBins) {
  const double f0 = 1005.0;  // bin 93 is centred at 1001.29 Hz
  const RealMatrix phase = StftPhase(testing::Sine(f0, kSampleRate, 22050));
  auto dev = InstantaneousFrequencyDeviation(phase, kNfft, kHop, kSampleRate);
  ASSERT_TRUE(dev.ok()) << dev.status();
  ASSERT_EQ(dev->rows(), phase.rows());
  ASSERT_EQ(dev->cols(), phase.cols());
  const double bin_hz = kSampleRate / kNfft;
  const double range = kSampleRate / (2.0 * kHop);  // 21.5 Hz
  for (int k = 92; k <= 94; ++k) {
    const double expected = f0 - k * bin_hz;  // 14.5, 3.7, -7.1 Hz
    for (int t = 5; t < 38; ++t) EXPECT_NEAR((*dev)(k, t), expected, 0.05) << "bin " << k << " frame " << t;
  }
  // Bin 91 is 25.2 Hz below the tone, beyond the unambiguous range: the
  // deviation wraps by sr / hop.
  EXPECT_NEAR((*dev)(91, 20), f0 - 91 * bin_hz - 2.0 * range, 0.05);
  // Frame 0 repeats frame 1.
  EXPECT_EQ((*dev)(93, 0), (*dev)(93, 1));
}

TEST(PhaseToolsTest, GroupDelayOfImpulse) {
  std::vector<float> y(22050, 0.0f);
  const int click = 5000;
  y[click] = 1.0f;
  const RealMatrix phase = StftPhase(y);
  auto delay = GroupDelay(phase, kNfft, kSampleRate);
  ASSERT_TRUE(delay.ok()) << delay.status();
  // Frame t's window is centred on sample t * hop of the signal (centred STFT).
  for (int t : {9, 10, 11}) {
    const double expected = (click - t * kHop) / kSampleRate;  // 17.8 ms, -5.4 ms, -28.7 ms
    for (int k = 0; k <= kNfft / 2; ++k) {
      ASSERT_NEAR((*delay)(k, t), expected, 1e-6) << "bin " << k << " frame " << t;
    }
  }
}

TEST(PhaseToolsTest, InvalidShapes) {
  const RealMatrix wrong = RealMatrix::Zero(100, 4);
  auto dev = InstantaneousFrequencyDeviation(wrong, kNfft, kHop, kSampleRate);
  EXPECT_EQ(dev.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dev.status().message(), HasSubstr("phase must have shape (n_fft/2+1 = 1025, frames >= 1), got (100, 4)"));
  const RealMatrix ok = RealMatrix::Zero(kNfft / 2 + 1, 4);
  auto hop = InstantaneousFrequencyDeviation(ok, kNfft, 0, kSampleRate);
  EXPECT_THAT(hop.status().message(), HasSubstr("hop_length must be in [1, 2048], got 0"));
  auto sr = GroupDelay(ok, kNfft, -1.0);
  EXPECT_THAT(sr.status().message(), HasSubstr("sample_rate"));
  RealMatrix nan = ok;
  nan(3, 2) = std::nanf("");
  EXPECT_THAT(GroupDelay(nan, kNfft, kSampleRate).status().message(), HasSubstr("phase["));
}

TEST(PhaseToolsTest, DeinterleaveRowsOrder) {
  for (int rows : {1, 4, 5}) {
    RealMatrix m(rows, 2);
    for (int r = 0; r < rows; ++r) m.row(r).setConstant(static_cast<float>(r));
    const RealMatrix d = DeinterleaveRows(m);
    std::vector<float> order;
    for (int r = 0; r < rows; ++r) order.push_back(d(r, 1));
    std::vector<float> expected;
    for (int r = 0; r < rows; r += 2) expected.push_back(static_cast<float>(r));
    for (int r = 1; r < rows; r += 2) expected.push_back(static_cast<float>(r));
    EXPECT_EQ(order, expected) << rows;
  }
}

ComplexMatrix DirectDft2(const ComplexMatrix& x) {
  const Eigen::Index rows = x.rows(), cols = x.cols();
  ComplexMatrix out(rows, cols);
  for (Eigen::Index k = 0; k < rows; ++k) {
    for (Eigen::Index l = 0; l < cols; ++l) {
      std::complex<double> acc = 0.0;
      for (Eigen::Index r = 0; r < rows; ++r) {
        for (Eigen::Index c = 0; c < cols; ++c) {
          const double angle = -2.0 * kPi * (static_cast<double>(k * r) / rows + static_cast<double>(l * c) / cols);
          acc += std::complex<double>(x(r, c)) * std::polar(1.0, angle);
        }
      }
      out(k, l) = std::complex<float>(acc);
    }
  }
  return out;
}

TEST(PhaseToolsTest, Fft2MatchesDirectDft) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto [rows, cols] : {std::pair{5, 7}, std::pair{4, 6}, std::pair{1, 9}, std::pair{8, 1}, std::pair{37, 50},
                            std::pair{64, 3}}) {
    ComplexMatrix x(rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = std::complex<float>(u(rng), u(rng));
    const ComplexMatrix fast = Fft2(x);
    const ComplexMatrix direct = DirectDft2(x);
    ASSERT_EQ(fast.rows(), rows);
    ASSERT_EQ(fast.cols(), cols);
    // Relative to the largest output (|x| <= 1.5, so |X| <= 1.5 * rows * cols).
    EXPECT_LT((fast - direct).cwiseAbs().maxCoeff(), 2e-6f * static_cast<float>(rows * cols))
        << rows << "x" << cols;
  }
}

TEST(PhaseToolsTest, Fft2OfPlaneWaveIsOnePeak) {
  const int rows = 12, cols = 20, kr = 6, kc = 3;  // kr = rows/2: alternating sign across rows
  ComplexMatrix x(rows, cols);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      x(r, c) = std::polar(1.0f, static_cast<float>(2.0 * kPi * (static_cast<double>(kr * r) / rows +
                                                                  static_cast<double>(kc * c) / cols)));
    }
  }
  const RealMatrix mag = Fft2(x).cwiseAbs();
  Eigen::Index pr = 0, pc = 0;
  EXPECT_NEAR(mag.maxCoeff(&pr, &pc), rows * cols, 1e-2);
  EXPECT_EQ(pr, kr);
  EXPECT_EQ(pc, kc);
  EXPECT_NEAR(mag.sum(), rows * cols, 0.1);  // nothing leaks elsewhere
}

TEST(PhaseToolsTest, FftShiftMatchesNumpy) {
  RealMatrix m(3, 4);
  m << 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11;
  // np.fft.fftshift(np.arange(12).reshape(3, 4))
  RealMatrix expected(3, 4);
  expected << 10, 11, 8, 9, 2, 3, 0, 1, 6, 7, 4, 5;
  EXPECT_EQ(FftShift(m), expected);
}

}  // namespace
}  // namespace specinv
