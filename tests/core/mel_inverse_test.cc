// Copyright specinv authors.
//
// Mel -> linear magnitude: the librosa mel_to_stft (NNLS) cases and the
// clamped pseudo-inverse.

#include "specinv/inversion/mel_inverse.h"

#include <string>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/analysis/stft.h"
#include "testing/reference.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using testing::LoadReferenceCases;
using testing::ReferenceCase;

class NnlsReferenceTest : public ::testing::TestWithParam<ReferenceCase> {};

TEST_P(NnlsReferenceTest, MatchesLibrosaReference) {
  const ReferenceCase& c = GetParam();
  auto fb = MelFilterbank::Create(testing::MelOptionsFromParams(c.params));
  ASSERT_TRUE(fb.ok()) << fb.status();
  const RealMatrix mel = testing::LoadReferenceMatrix(testing::ReferenceOutputOf(c.inputs.at("mel").get<std::string>()));
  const double power = c.params.at("power").get<double>();
  const double bound = c.tolerance.at("mel_residual_rel").get<double>();
  MelInverseOptions o;
  o.power = power;
  auto mag = MelToMagnitude(*fb, mel, o);
  ASSERT_TRUE(mag.ok()) << mag.status();
  ASSERT_EQ(mag->rows(), c.shape[0]);
  ASSERT_EQ(mag->cols(), c.shape[1]);
  EXPECT_GE(mag->minCoeff(), 0.0f);
  const double nnls = MelResidualRel(*fb, *mag, mel, power);
  EXPECT_LE(nnls, bound) << c.name;
  EXPECT_LE(nnls, bound / 4.0) << c.name << ": NNLS should go well below librosa's residual";
  // librosa's own answer meets its bound too (sanity of the residual measure).
  const RealMatrix librosa = testing::LoadReferenceMatrix(c.output);
  EXPECT_LE(MelResidualRel(*fb, librosa, mel, power), bound * 1.0001);
  // The clamped pseudo-inverse is librosa's starting point, where its
  // L-BFGS-B stops: same residual to within float rounding.
  o.method = MelInverseMethod::kPseudoInverse;
  auto pinv = MelToMagnitude(*fb, mel, o);
  ASSERT_TRUE(pinv.ok());
  EXPECT_NEAR(MelResidualRel(*fb, *pinv, mel, power), bound, 0.01 * bound) << c.name;
}

std::string CaseName(const ::testing::TestParamInfo<ReferenceCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Librosa, NnlsReferenceTest, ::testing::ValuesIn(LoadReferenceCases("mel_to_stft_nnls")),
                         CaseName);

MelFilterbank Filterbank(int n_fft, int n_mels, double fmax = 8000.0) {
  MelOptions o;
  o.sample_rate = 22050.0;
  o.n_fft = n_fft;
  o.n_mels = n_mels;
  o.fmax = fmax;
  return MelFilterbank::Create(o).value();
}

TEST(MelInverseTest, PowerSpectrumRoundTrip) {
  const MelFilterbank fb = Filterbank(1024, 80);
  StftOptions so;
  so.n_fft = 1024;
  so.hop_length = 256;
  const Stft stft = Stft::Create(so).value();
  const RealMatrix mag = stft.Forward(testing::Chirp(100.0, 7000.0, 22050.0, 22050)).value().cwiseAbs();
  RealMatrix mel;
  fb.Apply(mag.array().square().matrix(), &mel);
  MelInverseOptions o;
  o.power = 2.0;
  auto est = MelToMagnitude(fb, mel, o);
  ASSERT_TRUE(est.ok());
  EXPECT_LE(MelResidualRel(fb, *est, mel, 2.0), 0.01);
  o.method = MelInverseMethod::kPseudoInverse;
  auto pinv = MelToMagnitude(fb, mel, o);
  ASSERT_TRUE(pinv.ok());
  EXPECT_GT(MelResidualRel(fb, *pinv, mel, 2.0), MelResidualRel(fb, *est, mel, 2.0));
}

TEST(MelInverseTest, ThreadsGiveIdenticalResults) {
  const MelFilterbank fb = Filterbank(512, 40);
  RealMatrix mel = RealMatrix::Random(40, 300).cwiseAbs();
  MelInverseOptions o;
  auto one = MelToMagnitude(fb, mel, o);
  o.max_threads = 3;
  auto three = MelToMagnitude(fb, mel, o);
  ASSERT_TRUE(one.ok() && three.ok());
  EXPECT_TRUE(*one == *three);
}

TEST(MelInverseTest, EmptyFiltersFallBackToDensePseudoInverse) {
  // 128 mels on a 256-point FFT: some filters are empty.
  MelOptions mo;
  mo.sample_rate = 22050.0;
  mo.n_fft = 256;
  mo.n_mels = 128;
  const MelFilterbank fb = MelFilterbank::Create(mo).value();
  ASSERT_FALSE(fb.empty_filters().empty());
  RealMatrix mag = RealMatrix::Random(129, 20).cwiseAbs();
  RealMatrix mel;
  fb.Apply(mag, &mel);
  auto est = MelToMagnitude(fb, mel, {});
  ASSERT_TRUE(est.ok()) << est.status();
  EXPECT_TRUE(est->allFinite());
  EXPECT_LE(MelResidualRel(fb, *est, mel, 1.0), 0.02);
}

TEST(MelInverseTest, SilenceGivesZeros) {
  const MelFilterbank fb = Filterbank(512, 40);
  auto est = MelToMagnitude(fb, RealMatrix::Zero(40, 3), {});
  ASSERT_TRUE(est.ok());
  EXPECT_EQ(est->maxCoeff(), 0.0f);
  EXPECT_EQ(MelResidualRel(fb, *est, RealMatrix::Zero(40, 3), 1.0), 0.0);
}

TEST(MelInverseTest, InvalidInputs) {
  const MelFilterbank fb = Filterbank(512, 40);
  EXPECT_EQ(MelToMagnitude(fb, RealMatrix::Ones(39, 3), {}).status().message(),
            "mel must have n_mels = 40 rows, got 39");
  EXPECT_EQ(MelToMagnitude(fb, RealMatrix::Ones(40, 0), {}).status().message(),
            "mel must have at least 1 frame, got 0");
  RealMatrix neg = RealMatrix::Ones(40, 3);
  neg(5, 2) = -1.0f;
  EXPECT_EQ(MelToMagnitude(fb, neg, {}).status().message(),
            "mel[85] is -1; all values must be finite and >= 0");
  MelInverseOptions o;
  o.power = 0.0;
  EXPECT_EQ(MelToMagnitude(fb, RealMatrix::Ones(40, 3), o).status().message(), "power must be in (0, 4], got 0");
  EXPECT_EQ(*ParseMelInverseMethod("pinv"), MelInverseMethod::kPseudoInverse);
  EXPECT_EQ(ParseMelInverseMethod("lsq").status().message(),
            "mel inverse method must be one of nnls, pinv; got \"lsq\"");
}

}  // namespace
}  // namespace specinv

namespace specinv {
namespace {

// Whisper's filterbanks (80 or 128 bands on 201 bins) make W W^T badly
// conditioned; the exact minimum-norm solution then explodes and clamping it
// leaves garbage. The truncated pseudo-inverse must stay a usable estimate on
// its own, and NNLS from it must reach the usual residual.
TEST(MelInverseTest, PseudoInverseStaysBoundedOnWhisperFilterbanks) {
  for (const char* name : {"whisper", "whisper-128", "hifigan"}) {
    SCOPED_TRACE(name);
    const FeatureExtractor fx = FeatureExtractor::Create(GetPreset(name).value()).value();
    const auto audio = testing::Chirp(100.0, 7000.0, fx.config().sample_rate, 16000, 0.3);
    const RealMatrix mel = fx.Mel(audio).value();
    MelInverseOptions o;
    o.power = fx.config().power;
    o.method = MelInverseMethod::kPseudoInverse;
    const RealMatrix pinv = fx.mel_inverter().Apply(mel, o).value();
    EXPECT_LE(MelResidualRel(fx.filterbank(), pinv, mel, o.power), 0.5);
    o.method = MelInverseMethod::kNnls;
    const RealMatrix nnls = fx.mel_inverter().Apply(mel, o).value();
    EXPECT_LE(MelResidualRel(fx.filterbank(), nnls, mel, o.power), 0.05);
  }
}

// A reused inverter gives what a one-off MelToMagnitude gives.
TEST(MelInverseTest, ReusedInverterMatchesOneOffCalls) {
  const FeatureExtractor fx = FeatureExtractor::Create(GetPreset("whisper-128").value()).value();
  const auto audio = testing::Chirp(200.0, 5000.0, fx.config().sample_rate, 8000, 0.3);
  const RealMatrix mel = fx.Mel(audio).value();
  MelInverseOptions o;
  o.power = fx.config().power;
  const MelInverter inverter(fx.filterbank());
  const MelInverter copy = inverter;
  for (int block = 0; block < 3; ++block) {
    const RealMatrix part = mel.middleCols(block * 10, 10);
    EXPECT_EQ(copy.Apply(part, o).value(), MelToMagnitude(fx.filterbank(), part, o).value());
  }
}

}  // namespace
}  // namespace specinv
