// Copyright specinv authors.
//
// The cost model (base/job_cost.h and the estimators beside each operation)
// against what the operations really produce.

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/analysis_cost.h"
#include "specinv/analysis/features.h"
#include "specinv/base/job_cost.h"
#include "specinv/creative/creative_cost.h"
#include "specinv/creative/reorder.h"
#include "specinv/inversion/inversion_cost.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/decode_cost.h"
#include "testing/signals.h"

namespace specinv {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(JobCostTest, SaturatingArithmeticClampsInsteadOfWrapping) {
  EXPECT_EQ(SaturatingMul(int64_t{1} << 40, int64_t{1} << 40), kMax);
  EXPECT_EQ(SaturatingAdd(kMax - 1, 5), kMax);
  EXPECT_EQ(SaturatingMul(6, 7), 42);
  EXPECT_EQ(SaturatingMul(-3, 7), 0);  // negative counts are no cost
  EXPECT_EQ(SaturatingAdd(-3, 7), 7);
}

TEST(JobCostTest, ThenKeepsThePeakOfTheLargerStageWithWhatIsHeld) {
  JobCost first{100, 1.0, 0};
  JobCost second{50, 2.0, 7};
  const JobCost both = first.Then(second, 80);
  EXPECT_EQ(both.peak_bytes, 130);  // 80 held + 50
  EXPECT_DOUBLE_EQ(both.work_flops, 3.0);
  EXPECT_EQ(both.output_samples, 7);
  EXPECT_EQ(first.Then(second, 0).peak_bytes, 100);
  EXPECT_EQ(first.Plus(second).peak_bytes, 150);
}

class FeatureFramesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FeatureFramesTest, MatchesTheFramesAnalysisProduces) {
  absl::StatusOr<FeatureConfig> config = GetPreset(GetParam());
  ASSERT_TRUE(config.ok());
  absl::StatusOr<FeatureExtractor> fx = FeatureExtractor::Create(*config);
  ASSERT_TRUE(fx.ok());
  for (int64_t samples : {int64_t{config->stft.n_fft}, int64_t{5000}, int64_t{22051}, int64_t{40000}}) {
    const std::vector<float> audio = testing::Sine(440.0, config->sample_rate, samples);
    absl::StatusOr<RealMatrix> log_mel = fx->LogMel(audio);
    ASSERT_TRUE(log_mel.ok()) << log_mel.status();
    EXPECT_EQ(FeatureFrames(*config, samples), log_mel->cols()) << GetParam() << " " << samples;
    EXPECT_EQ(AnalysisOutputBytes(*config, samples, AnalysisOutput::kLogMel), log_mel->size() * 4);
    absl::StatusOr<ComplexMatrix> stft = fx->ComplexSpectrogram(audio);
    ASSERT_TRUE(stft.ok());
    EXPECT_EQ(AnalysisOutputBytes(*config, samples, AnalysisOutput::kComplex), stft->size() * 8);
    // The estimate covers at least the matrices that must exist together.
    const JobCost cost = AnalysisCost(*config, samples, AnalysisOutput::kLogMel);
    EXPECT_GE(cost.peak_bytes, stft->size() * 8 + log_mel->size() * 4 + samples * 4);
  }
}

INSTANTIATE_TEST_SUITE_P(Presets, FeatureFramesTest,
                         ::testing::Values("librosa", "hifigan", "tacotron2", "espnet", "whisper"));

TEST(AnalysisCostTest, HopOneOfALongFftIsEnormousFromATinyInput) {
  FeatureConfig config;
  config.stft.n_fft = 16384;
  config.stft.hop_length = 1;
  // 10 s at 22050 Hz: 441 KB of PCM16 asks for a 441001 x 8193 STFT.
  const JobCost cost = AnalysisCost(config, 220500, AnalysisOutput::kMagnitude);
  EXPECT_GT(cost.peak_bytes, int64_t{20} << 30);
  EXPECT_EQ(FeatureFrames(config, 220500), 220501);
}

TEST(InversionCostTest, GrowsWithFramesAndCountsTheMelStage) {
  InversionOptions options;
  InversionShape shape{1024, 1000, 0, 256000};
  const JobCost linear = InversionCost(shape, options);
  shape.frames = 2000;
  const JobCost twice = InversionCost(shape, options);
  EXPECT_GT(twice.peak_bytes, linear.peak_bytes * 3 / 2);
  shape.n_mels = 80;
  const JobCost mel = InversionCost(shape, options);
  EXPECT_GT(mel.peak_bytes, twice.peak_bytes);
  EXPECT_EQ(mel.output_samples, 256000);
  // At least the 4.5 complex spectrograms the Griffin-Lim family keeps.
  EXPECT_GE(twice.peak_bytes, 2000 * 513 * 8 * 4);
  options.method = InversionMethod::kRefine;
  EXPECT_GT(InversionCost(shape, options).peak_bytes, mel.peak_bytes);
}

TEST(InversionCostTest, JointCountsTheRefineStageAndTheMelProjection) {
  InversionShape shape{1024, 1000, 80, 256000};
  InversionOptions refine;
  refine.method = InversionMethod::kRefine;
  InversionOptions joint = refine;
  joint.method = InversionMethod::kJoint;
  const JobCost r = InversionCost(shape, refine);
  const JobCost j = InversionCost(shape, joint);
  // The same L-BFGS buffers plus the projection's tables and scratch (80
  // mels: at least 80 x 80 doubles).
  EXPECT_GE(j.peak_bytes, r.peak_bytes + 80 * 80 * 8);
  EXPECT_GT(j.work_flops, r.work_flops);
  // The projection is per Griffin-Lim iteration: more iterations, more extra work than refine's.
  joint.iterations = refine.iterations = 200;
  EXPECT_GT(InversionCost(shape, joint).work_flops - InversionCost(shape, refine).work_flops,
            j.work_flops - r.work_flops);
  // Magnitude input: nothing to project, the cost of refine.
  shape.n_mels = 0;
  EXPECT_EQ(InversionCost(shape, joint).peak_bytes, InversionCost(shape, refine).peak_bytes);
}

TEST(InversionCostTest, LobesCountTheirDictionary) {
  // kLobes builds a dictionary of two atoms per bin for powers other than 1
  // and 2 on every call; at n_fft 65536 the cost names it (megabytes).
  const InversionShape shape{65536, 10, 80, 65536 + 9 * 16384};
  InversionOptions nnls;
  nnls.method = InversionMethod::kPghiFgla;
  nnls.mel_inverse = MelInverseMethod::kNnls;
  InversionOptions lobes = nnls;
  lobes.mel_inverse = MelInverseMethod::kLobes;
  EXPECT_GE(InversionCost(shape, lobes).peak_bytes - InversionCost(shape, nnls).peak_bytes, 10 << 20);
}

TEST(DefaultInversionMethodTest, BestMethodWithinTheBudget) {
  const InversionShape mel{1024, 1000, 80, 256000};
  const InversionShape linear{1024, 1000, 0, 256000};
  InversionOptions o;  // default iterations
  EXPECT_EQ(DefaultInversionMethod(mel, o), InversionMethod::kJoint);
  EXPECT_EQ(DefaultInversionMethod(linear, o), InversionMethod::kPghiFgla);
  // The budget is per frame: a clip ten times longer gets the same method.
  EXPECT_EQ(DefaultInversionMethod(InversionShape{1024, 10000, 80, 2560000}, o), InversionMethod::kJoint);
  // Whatever is chosen fits the budget; a dearer request falls back.
  o.iterations = 150;
  const InversionMethod dear = DefaultInversionMethod(mel, o);
  EXPECT_NE(dear, InversionMethod::kJoint);
  InversionOptions joint = o;
  joint.method = InversionMethod::kJoint;
  InversionOptions chosen = o;
  chosen.method = dear;
  EXPECT_LT(InversionCost(mel, chosen).work_flops, InversionCost(mel, joint).work_flops);
  o.iterations = 1000000;
  EXPECT_EQ(DefaultInversionMethod(mel, o), InversionMethod::kFastGriffinLim);
  // A random or given start and librosa precision are gl/fgla features.
  InversionOptions random;
  random.init = PhaseInit::kRandom;
  EXPECT_EQ(DefaultInversionMethod(mel, random), InversionMethod::kFastGriffinLim);
  InversionOptions exact;
  exact.librosa_precision = true;
  EXPECT_EQ(DefaultInversionMethod(linear, exact), InversionMethod::kFastGriffinLim);
}

TEST(DecodeCostTest, ResampledLengthMatchesTheResampler) {
  const std::vector<float> audio = testing::Sine(440.0, 16000.0, 16000);
  for (double to : {22050.0, 8000.0, 44100.0}) {
    absl::StatusOr<std::vector<float>> out = Resample(audio, 16000.0, to);
    ASSERT_TRUE(out.ok());
    const int64_t predicted = DecodedSamples(DecodeShape{16000, 1, 16000.0, to});
    EXPECT_GE(predicted, static_cast<int64_t>(out->size()));
    EXPECT_LE(predicted, static_cast<int64_t>(out->size()) + 1);
  }
  EXPECT_EQ(DecodedSamples(DecodeShape{600, 1, 1.0, 22050.0}), 600 * 22050);
  const JobCost eight = DecodeCost(DecodeShape{1000, 8, 16000.0, 16000.0});
  EXPECT_GE(eight.peak_bytes, 1000 * 8 * 4 + 1000 * 4);
}

TEST(ReorderCostTest, OutputSamplesMatchReorder) {
  FeatureConfig config;
  config.stft.n_fft = 512;
  config.stft.hop_length = 128;
  config.n_mels = 32;
  absl::StatusOr<FeatureExtractor> fx = FeatureExtractor::Create(config);
  ASSERT_TRUE(fx.ok());
  const std::vector<float> audio = testing::Sine(440.0, config.sample_rate, 10000);
  const int64_t frames = FeatureFrames(config, 10000);
  std::vector<std::vector<int>> orders = {{0, 1, 2}, std::vector<int>(static_cast<size_t>(frames), 3)};
  for (const std::vector<int>& order : orders) {
    ReorderOptions options;
    options.strategy = ReorderStrategy::kCustom;
    options.custom_order = order;
    absl::StatusOr<ReorderResult> result = Reorder(*fx, audio, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(ReorderOutputSamples(config, 10000, options), static_cast<int64_t>(result->audio.size()));
  }
  ReorderOptions reverse;
  reverse.strategy = ReorderStrategy::kReverseTime;
  reverse.length = 777;
  absl::StatusOr<ReorderResult> result = Reorder(*fx, audio, reverse);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(ReorderOutputSamples(config, 10000, reverse), 777);
  EXPECT_EQ(result->audio.size(), 777u);
}

TEST(ReorderCostTest, ACustomOrderOfMillionsOfFramesIsCostedBeforeItRuns) {
  FeatureConfig config;
  ReorderOptions options;
  options.strategy = ReorderStrategy::kCustom;
  options.custom_order.assign(4000000, 0);
  const JobCost cost = ReorderCost(config, 220500, options);
  EXPECT_GT(cost.peak_bytes, int64_t{4000000} * 1025 * 8);
  EXPECT_EQ(cost.output_samples, int64_t{4000000} * 512);
}

}  // namespace
}  // namespace specinv
