// Copyright specinv authors.

#include "specinv/analysis/mel_filterbank.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv {
namespace {

using ::testing::HasSubstr;

TEST(MelFilterbankTest, ScalesRoundTrip) {
  for (MelScale s : {MelScale::kSlaney, MelScale::kHtk}) {
    for (double hz : {0.0, 50.0, 999.0, 1000.0, 4000.0, 11025.0}) {
      EXPECT_NEAR(MelToHz(HzToMel(hz, s), s), hz, 1e-9 * std::max(1.0, hz));
    }
  }
  EXPECT_NEAR(HzToMel(1000.0, MelScale::kSlaney), 15.0, 1e-12);
  EXPECT_NEAR(HzToMel(1000.0, MelScale::kHtk), 999.9855, 1e-3);
}

TEST(MelFilterbankTest, FiltersPeakAtTheirCentreFrequencies) {
  MelOptions o;
  o.sample_rate = 16000;
  o.n_fft = 4096;
  o.n_mels = 40;
  o.norm = MelNorm::kNone;
  auto fb = MelFilterbank::Create(o);
  ASSERT_TRUE(fb.ok()) << fb.status();
  const double mel_hi = HzToMel(8000.0, MelScale::kSlaney);
  for (int m = 0; m < 40; ++m) {
    const double centre_hz = MelToHz(mel_hi * (m + 1) / 41.0, MelScale::kSlaney);
    Eigen::Index peak = 0;
    const float peak_value = fb->weights().row(m).maxCoeff(&peak);
    EXPECT_NEAR(static_cast<double>(peak) * 16000.0 / 4096.0, centre_hz, 16000.0 / 4096.0) << "filter " << m;
    EXPECT_GT(peak_value, 0.9f);
    EXPECT_LE(peak_value, 1.0f);
  }
}

TEST(MelFilterbankTest, SlaneyNormGivesEqualArea) {
  MelOptions o;
  o.sample_rate = 22050;
  o.n_fft = 8192;
  o.n_mels = 64;
  auto fb = MelFilterbank::Create(o);
  ASSERT_TRUE(fb.ok());
  // Area in Hz of an area-normalised triangle is 1: sum(weights) * bin_width ~= 1.
  const double bin_hz = 22050.0 / 8192.0;
  for (int m = 4; m < 64; ++m) EXPECT_NEAR(static_cast<double>(fb->weights().row(m).sum()) * bin_hz, 1.0, 0.05) << m;
}

TEST(MelFilterbankTest, SparseApplyMatchesDense) {
  MelOptions o;
  o.n_fft = 1024;
  o.n_mels = 80;
  o.fmax = 8000.0;
  auto fb = MelFilterbank::Create(o);
  ASSERT_TRUE(fb.ok());
  const RealMatrix spec = RealMatrix::Random(513, 9).cwiseAbs();
  RealMatrix mel, back;
  fb->Apply(spec, &mel);
  EXPECT_TRUE(mel.isApprox(fb->weights() * spec, 1e-5f));
  const RealMatrix m = RealMatrix::Random(80, 9);
  fb->ApplyTranspose(m, &back);
  EXPECT_TRUE(back.isApprox(fb->weights().transpose() * m, 1e-5f));
}

TEST(MelFilterbankTest, EmptyFiltersWarnLikeLibrosa) {
  MelOptions o;
  o.sample_rate = 22050;
  o.n_fft = 256;
  o.n_mels = 128;
  auto fb = MelFilterbank::Create(o);
  ASSERT_TRUE(fb.ok()) << fb.status();
  EXPECT_FALSE(fb->empty_filters().empty());
  EXPECT_THAT(fb->warning(), HasSubstr("mel filters are empty"));
  o.n_mels = 20;
  auto fine = MelFilterbank::Create(o);
  ASSERT_TRUE(fine.ok());
  EXPECT_TRUE(fine->empty_filters().empty());
  EXPECT_TRUE(fine->warning().empty());
}

TEST(MelFilterbankTest, InvalidOptions) {
  MelOptions o;
  o.n_mels = 0;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("n_mels must be in [1, n_fft/2+1=1025], got 0"));
  o = MelOptions{};
  o.n_mels = 2000;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("n_mels must be in [1, n_fft/2+1=1025]"));
  o = MelOptions{};
  o.fmin = 4000;
  o.fmax = 3000;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("fmax_hertz must be in (fmin_hertz=4000"));
  o.fmin = 0;
  o.fmax = 20000;  // above 22050 / 2
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("sample_rate/2=11025"));
  o = MelOptions{};
  o.sample_rate = 0;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("sample_rate_hertz must be in (0, 384000]"));
  o.sample_rate = 400000;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("sample_rate_hertz must be in (0, 384000]"));
  o = MelOptions{};
  o.n_fft = 8;
  EXPECT_THAT(std::string(MelFilterbank::Create(o).status().message()), HasSubstr("n_fft must be in [16, 65536]"));
  EXPECT_FALSE(ParseMelScale("bark").ok());
  EXPECT_FALSE(ParseMelNorm("l2").ok());
}

}  // namespace
}  // namespace specinv
