// Copyright specinv authors.
//
// MelProjection: the projected magnitude reproduces the mel, is the nearest
// such magnitude in the relative norm, equals a dense solve of the same
// system, keeps a harmonic frame's valleys, leaves a consistent frame
// unchanged, zeroes uncovered bins, and works on filterbanks with narrow and
// empty filters.

#include "specinv/inversion/mel_projection.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "specinv/analysis/mel_filterbank.h"

namespace specinv {
namespace {

MelFilterbank Filterbank(double fmax) {
  MelOptions o;
  o.sample_rate = 22050.0;
  o.n_fft = 1024;
  o.n_mels = 80;
  o.fmax = fmax;
  return MelFilterbank::Create(o).value();
}

std::vector<float> Mel(const MelFilterbank& fb, const std::vector<float>& a) {
  std::vector<float> m(static_cast<size_t>(fb.n_mels()), 0.0f);
  for (int i = 0; i < fb.n_mels(); ++i) {
    for (int k = 0; k < fb.row_size(i); ++k) {
      m[static_cast<size_t>(i)] += fb.row_values(i)[k] * a[static_cast<size_t>(fb.row_begin(i) + k)];
    }
  }
  return m;
}

double RelativeError(const std::vector<float>& want, const std::vector<float>& got) {
  double e = 0.0, r = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = static_cast<double>(want[i]) - static_cast<double>(got[i]);
    e += d * d;
    r += static_cast<double>(want[i]) * static_cast<double>(want[i]);
  }
  return std::sqrt(e / r);
}

class MelProjectionTest : public ::testing::Test {
 protected:
  MelProjectionTest() : fb_(Filterbank(8000.0)), bins_(fb_.num_bins()) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.5f, 1.5f), ph(0.0f, 6.283f);
    truth_.resize(static_cast<size_t>(bins_));
    phase_.resize(static_cast<size_t>(bins_));
    for (int k = 0; k < bins_; ++k) {
      truth_[static_cast<size_t>(k)] = u(rng);
      phase_[static_cast<size_t>(k)] = ph(rng);
    }
    // Bins no filter weighs (DC, above fmax) carry nothing the mel sees.
    std::vector<bool> covered(static_cast<size_t>(bins_), false);
    for (int i = 0; i < fb_.n_mels(); ++i) {
      for (int k = 0; k < fb_.row_size(i); ++k) {
        if (fb_.row_values(i)[k] != 0.0f) covered[static_cast<size_t>(fb_.row_begin(i) + k)] = true;
      }
    }
    for (int k = 0; k < bins_; ++k) {
      if (!covered[static_cast<size_t>(k)]) truth_[static_cast<size_t>(k)] = 0.0f;
    }
    mel_ = Mel(fb_, truth_);
  }
  std::vector<std::complex<float>> Spectrum(const std::vector<float>& mag) const {
    std::vector<std::complex<float>> x(static_cast<size_t>(bins_));
    for (int k = 0; k < bins_; ++k) x[static_cast<size_t>(k)] = std::polar(mag[static_cast<size_t>(k)], phase_[static_cast<size_t>(k)]);
    return x;
  }
  std::vector<float> Project(const MelProjection& p, const std::vector<float>& mag) const {
    const auto x = Spectrum(mag);
    std::vector<float> out(static_cast<size_t>(bins_)), scratch(static_cast<size_t>(p.scratch_size()));
    p.Project(x.data(), mel_.data(), out.data(), scratch.data());
    return out;
  }
  MelFilterbank fb_;
  int bins_;
  std::vector<float> truth_, phase_, mel_;
};

TEST_F(MelProjectionTest, ReproducesTheMelAndIsTheNearest) {
  auto p = MelProjection::Create(fb_, MelProjectionOptions{});
  ASSERT_TRUE(p.ok()) << p.status();
  // A start 20 % off the truth: the clipping at zero stays inactive.
  std::vector<float> start = truth_;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.8f, 1.2f);
  for (float& v : start) v *= u(rng);
  const double before = RelativeError(mel_, Mel(fb_, start));
  const std::vector<float> got = Project(*p, start);
  EXPECT_GT(before, 1e-2);
  EXPECT_LT(RelativeError(mel_, Mel(fb_, got)), 1e-4);
  // Nearest in sum (got - start)^2 / w, w = start + 1e-3 max(start): no
  // farther from the start than the truth, which also reproduces the mel.
  const float floor = 1e-3f * *std::max_element(start.begin(), start.end());
  double to_got = 0.0, to_truth = 0.0;
  for (int k = 0; k < bins_; ++k) {
    const size_t i = static_cast<size_t>(k);
    const double w = static_cast<double>(start[i] + floor);
    const double dg = static_cast<double>(got[i]) - static_cast<double>(start[i]);
    const double dt = static_cast<double>(truth_[i]) - static_cast<double>(start[i]);
    to_got += dg * dg / w;
    to_truth += dt * dt / w;
  }
  EXPECT_LT(to_got, to_truth);
}

// One round computed densely in double: a + w * W^T (W diag(w) W^T +
// lambda I)^-1 (m - W a), clipped at 0, from the header's definition.
TEST_F(MelProjectionTest, MatchesADenseSolve) {
  auto p = MelProjection::Create(fb_, MelProjectionOptions{});
  ASSERT_TRUE(p.ok());
  std::vector<float> start = truth_;
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  for (float& v : start) v *= u(rng);
  const std::vector<float> got = Project(*p, start);

  const int n = fb_.n_mels();
  const Eigen::MatrixXd w_mel = fb_.weights().cast<double>();
  Eigen::VectorXd a(bins_), weight(bins_);
  for (int k = 0; k < bins_; ++k) a(k) = static_cast<double>(start[static_cast<size_t>(k)]);
  weight = a.array() + 1e-3 * a.maxCoeff();
  Eigen::VectorXd m(n);
  for (int i = 0; i < n; ++i) m(i) = static_cast<double>(mel_[static_cast<size_t>(i)]);
  Eigen::MatrixXd gram = w_mel * weight.asDiagonal() * w_mel.transpose();
  const double lambda = 1e-4 * gram.trace() / n;
  gram.diagonal().array() += lambda;
  const Eigen::VectorXd coef = gram.ldlt().solve(m - w_mel * a);
  const Eigen::VectorXd want = (a.array() + weight.array() * (w_mel.transpose() * coef).array()).max(0.0);
  for (int k = 0; k < bins_; ++k) {
    EXPECT_NEAR(got[static_cast<size_t>(k)], want(k), 1e-5 * (1.0 + std::abs(want(k)))) << k;
  }
}

// Many mels on few bins (empty filters, filters narrower than a bin) and the
// HTK scale: the filters still overlap only their neighbours, and the
// projection reproduces the mel of every non-empty filter.
TEST(MelProjection, NarrowAndEmptyFilters) {
  struct Case {
    int n_fft;
    int n_mels;
    MelScale scale;
    double fmin;
  };
  for (const Case c : {Case{64, 33, MelScale::kSlaney, 0.0}, Case{128, 60, MelScale::kHtk, 0.0},
                       Case{400, 128, MelScale::kSlaney, 0.0}, Case{256, 100, MelScale::kHtk, 300.0}}) {
    SCOPED_TRACE(c.n_fft);
    MelOptions o;
    o.sample_rate = 16000.0;
    o.n_fft = c.n_fft;
    o.n_mels = c.n_mels;
    o.scale = c.scale;
    o.fmin = c.fmin;
    const MelFilterbank fb = MelFilterbank::Create(o).value();
    auto p = MelProjection::Create(fb, MelProjectionOptions{});
    ASSERT_TRUE(p.ok()) << p.status();
    const int bins = fb.num_bins();
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.5f, 1.5f), ph(0.0f, 6.283f);
    std::vector<float> truth(static_cast<size_t>(bins)), start(static_cast<size_t>(bins));
    std::vector<std::complex<float>> x(static_cast<size_t>(bins));
    for (int k = 0; k < bins; ++k) {
      truth[static_cast<size_t>(k)] = u(rng);
      start[static_cast<size_t>(k)] = truth[static_cast<size_t>(k)] * (0.8f + 0.4f * (u(rng) - 0.5f));
      x[static_cast<size_t>(k)] = std::polar(start[static_cast<size_t>(k)], ph(rng));
    }
    const std::vector<float> mel = Mel(fb, truth);
    std::vector<float> out(static_cast<size_t>(bins)), scratch(static_cast<size_t>(p->scratch_size()));
    p->Project(x.data(), mel.data(), out.data(), scratch.data());
    EXPECT_LT(RelativeError(mel, Mel(fb, out)), 1e-3);
    EXPECT_GT(RelativeError(mel, Mel(fb, start)), 1e-2);
  }
}

TEST_F(MelProjectionTest, KeepsAHarmonicFramesValleys) {
  auto p = MelProjection::Create(fb_, MelProjectionOptions{});
  ASSERT_TRUE(p.ok());
  // A comb: a harmonic every 8 bins at 1, valleys at 0.01; the rebuilt
  // frame is 50 % too loud. The correction scales each bin with its own
  // power, so the valleys stay 40 dB under the harmonics.
  std::vector<float> comb(static_cast<size_t>(bins_), 0.0f);
  for (int k = 0; k < bins_; ++k) {
    if (truth_[static_cast<size_t>(k)] > 0.0f) comb[static_cast<size_t>(k)] = k % 8 == 0 ? 1.0f : 0.01f;
  }
  mel_ = Mel(fb_, comb);
  std::vector<float> start = comb;
  for (float& v : start) v *= 1.5f;
  const std::vector<float> got = Project(*p, start);
  EXPECT_LT(RelativeError(mel_, Mel(fb_, got)), 1e-4);
  double peaks = 0.0, valleys = 0.0;
  int num_peaks = 0, num_valleys = 0;
  for (int k = 0; k < bins_; ++k) {
    const float want = comb[static_cast<size_t>(k)];
    if (want == 1.0f) {
      peaks += static_cast<double>(got[static_cast<size_t>(k)]);
      ++num_peaks;
    } else if (want > 0.0f) {
      EXPECT_GT(got[static_cast<size_t>(k)], 0.0f) << k;
      valleys += static_cast<double>(got[static_cast<size_t>(k)]);
      ++num_valleys;
    }
  }
  const double ratio = (valleys / num_valleys) / (peaks / num_peaks);
  EXPECT_GT(ratio, 0.005);
  EXPECT_LT(ratio, 0.02);
  EXPECT_LT(RelativeError(comb, got), 0.1);
}

TEST_F(MelProjectionTest, ConsistentFrameIsAFixedPoint) {
  auto p = MelProjection::Create(fb_, MelProjectionOptions{});
  ASSERT_TRUE(p.ok());
  const std::vector<float> got = Project(*p, truth_);
  for (int k = 0; k < bins_; ++k) EXPECT_NEAR(got[static_cast<size_t>(k)], truth_[static_cast<size_t>(k)], 1e-4) << k;
}

TEST_F(MelProjectionTest, UncoveredBinsAreZeroAndOutputIsNonNegative) {
  auto p = MelProjection::Create(fb_, MelProjectionOptions{});
  ASSERT_TRUE(p.ok());
  std::vector<float> start(static_cast<size_t>(bins_), 3.0f);  // far too loud: clipping acts
  const std::vector<float> got = Project(*p, start);
  for (int k = 0; k < bins_; ++k) {
    EXPECT_GE(got[static_cast<size_t>(k)], 0.0f);
    if (static_cast<double>(k) * 22050.0 / 1024.0 > 8100.0) {
      EXPECT_EQ(got[static_cast<size_t>(k)], 0.0f) << k;
    }
  }
  EXPECT_LT(RelativeError(mel_, Mel(fb_, got)), RelativeError(mel_, Mel(fb_, start)));
}

TEST_F(MelProjectionTest, PowerTwoProjectsThePower) {
  MelProjectionOptions o;
  o.power = 2.0;
  auto p = MelProjection::Create(fb_, o);
  ASSERT_TRUE(p.ok());
  std::vector<float> power = truth_;
  for (float& v : power) v *= v;
  mel_ = Mel(fb_, power);  // m = W |X|^2
  std::vector<float> start = truth_;
  for (float& v : start) v *= 1.1f;
  const std::vector<float> got = Project(*p, start);
  std::vector<float> got_power = got;
  for (float& v : got_power) v *= v;
  EXPECT_LT(RelativeError(mel_, Mel(fb_, got_power)), 1e-4);
}

TEST(MelProjection, InvalidOptions) {
  const MelFilterbank fb = Filterbank(8000.0);
  MelProjectionOptions o;
  o.power = 0.0;
  EXPECT_EQ(MelProjection::Create(fb, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.power = 1.0;
  o.rounds = 0;
  EXPECT_EQ(MelProjection::Create(fb, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.rounds = 17;
  EXPECT_EQ(MelProjection::Create(fb, o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv
