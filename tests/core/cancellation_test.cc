// Copyright specinv authors.
//
// Every long loop polls its operation's check: a check that starts failing
// stops the work and its status is returned. Inputs are sized so that the
// work would run far longer than the polls observed here; the tests count
// the polls (no timing).

#include <cstdint>
#include <functional>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/base/field_error.h"
#include "specinv/creative/reorder.h"
#include "specinv/creative/transform.h"
#include "specinv/creative/tsne.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/io/audio_io.h"
#include "specinv/render/render.h"
#include "specinv/streaming/stream_vocoder.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

// OK for the first `ok_calls` calls, Cancelled from then on; counts calls.
struct CancelAfter {
  explicit CancelAfter(int ok_calls) : ok(ok_calls) {}
  std::function<absl::Status()> Fn() {
    return [this] { return ++calls > ok ? absl::CancelledError("cancelled by test") : absl::OkStatus(); };
  }
  int ok;
  int calls = 0;
};

MelFilterbank Filterbank(int n_fft, int n_mels) {
  MelOptions o;
  o.n_fft = n_fft;
  o.n_mels = n_mels;
  return MelFilterbank::Create(o).value();
}

FeatureExtractor Extractor(const std::string& preset) {
  return FeatureExtractor::Create(GetPreset(preset).value()).value();
}

RealMatrix RandomMel(int n_mels, int frames) {
  RealMatrix mel = RealMatrix::Random(n_mels, frames).cwiseAbs();
  return mel;
}

TEST(MelInverseCancellationTest, CancelledStopsWithinBudget) {
  const MelFilterbank fb = Filterbank(512, 64);
  const RealMatrix mel = RandomMel(64, 4000);
  MelInverseOptions o;
  o.iterations = 2000;  // ~8 M FISTA iterations in all: thousands of polls if it ran
  o.tolerance = 0.0;
  CancelAfter cancel(3);
  o.check = cancel.Fn();
  auto out = MelToMagnitude(fb, mel, o);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 4);  // no poll after the failing one
}

TEST(MelInverseCancellationTest, OkCheckGivesTheSameResult) {
  const MelFilterbank fb = Filterbank(512, 64);
  const RealMatrix mel = RandomMel(64, 3000);  // >= 3000 work units: >= 2 polls
  MelInverseOptions o;
  const RealMatrix plain = MelToMagnitude(fb, mel, o).value();
  CancelAfter never(1 << 30);
  o.check = never.Fn();
  const RealMatrix checked = MelToMagnitude(fb, mel, o).value();
  EXPECT_EQ(plain, checked);
  EXPECT_GT(never.calls, 0);
}

TEST(MelInverseCancellationTest, CreateChecksWhileFactorising) {
  CancelAfter cancel(0);
  auto inverter = MelInverter::Create(Filterbank(2048, 128), cancel.Fn());
  EXPECT_EQ(inverter.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 1);
  CancelAfter never(1 << 30);
  EXPECT_TRUE(MelInverter::Create(Filterbank(2048, 128), never.Fn()).ok());
  EXPECT_GT(never.calls, 1);
}

TEST(MelInverseCancellationTest, OverflowNamesTheStage) {
  const MelFilterbank fb = Filterbank(512, 64);
  RealMatrix mel = RealMatrix::Constant(64, 3, 3e38f);
  auto out = MelToMagnitude(fb, mel, MelInverseOptions{});
  ASSERT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("produced non-finite values at the"));
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("check the mel's scale/domain"));
  EXPECT_EQ(FieldOf(out.status()), "mel");
}

TEST(FeatureCancellationTest, CancelledStopsWithinBudget) {
  const FeatureExtractor fx = Extractor("librosa");  // n_fft 2048: 512 frames per poll
  const std::vector<float> audio = testing::WhiteNoise(22050 * 60, 1);  // 2584 frames: 6 polls
  CancelAfter cancel(2);
  auto spec = fx.ComplexSpectrogram(audio, cancel.Fn());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 3);
  EXPECT_EQ(fx.Mel(audio, CancelAfter(0).Fn()).status().code(), absl::StatusCode::kCancelled);
}

TEST(FeatureCancellationTest, OkCheckGivesTheSameSpectrogram) {
  const FeatureExtractor fx = Extractor("hifigan");
  const std::vector<float> audio = testing::WhiteNoise(22050 * 20, 2);
  CancelAfter never(1 << 30);
  const ComplexMatrix checked = fx.ComplexSpectrogram(audio, never.Fn()).value();
  EXPECT_EQ(checked, fx.ComplexSpectrogram(audio).value());
  const int64_t per_check = fx.stft().FramesPerCheck();
  EXPECT_EQ(never.calls, (checked.cols() + per_check - 1) / per_check);
}

TEST(TsneCancellationTest, NeighbourSearchStops) {
  const RealMatrix points = RealMatrix::Random(4, 3000);  // 12 blocks of 256 points
  for (NeighborSearch search : {NeighborSearch::kBruteForce, NeighborSearch::kKdTree}) {
    CancelAfter cancel(1);
    auto nn = ExactNearestNeighbors(points, 5, 1, cancel.Fn(), search);
    EXPECT_EQ(nn.status().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(cancel.calls, 2);
    CancelAfter never(1 << 30);
    auto full = ExactNearestNeighbors(points, 5, 1, never.Fn(), search);
    ASSERT_TRUE(full.ok());
    // Polled on entry, per chunk of the neighbour lists, every 4 points, and
    // in brute force per block too: no stretch of more than 4 points' work
    // goes unpolled.
    const int blocks = search == NeighborSearch::kBruteForce ? 12 : 0;
    EXPECT_GE(never.calls, blocks + 3000 / 4);
    EXPECT_LE(never.calls, 1 + 2 + blocks + 3000 / 4);
    EXPECT_EQ(full->indices, ExactNearestNeighbors(points, 5, 1, {}, search).value().indices);
  }
}

TEST(TsneCancellationTest, GradientLoopPollsEveryIteration) {
  const RealMatrix points = RealMatrix::Random(3, 60);
  TsneOptions o;
  o.iterations = 500;
  o.algorithm = TsneAlgorithm::kExact;
  CancelAfter cancel(20);
  o.check = cancel.Fn();
  EXPECT_EQ(Tsne1d(points, o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 21);
}

TEST(ReorderCancellationTest, NearestNeighbourWalkStops) {
  const RealMatrix features = RealMatrix::Random(4, 3000);
  for (NeighborSearch search : {NeighborSearch::kBruteForce, NeighborSearch::kKdTree}) {
    CancelAfter cancel(1);
    auto walk = NearestNeighborWalk(features, 0, 1, cancel.Fn(), search);
    EXPECT_EQ(walk.status().code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(cancel.calls, 2);
  }
  // The k-d tree walk polls before each of its n - 1 steps and each tree
  // build (the first and about log2(n) rebuilds).
  CancelAfter never(1 << 30);
  ASSERT_TRUE(NearestNeighborWalk(features, 0, 1, never.Fn(), NeighborSearch::kKdTree).ok());
  EXPECT_GE(never.calls, 3000 - 1 + 1);
  EXPECT_LE(never.calls, 3000 - 1 + 1 + 2 * 12);
}

TEST(ReorderCancellationTest, ReorderStopsInTheAnalysis) {
  const FeatureExtractor fx = Extractor("librosa");
  const std::vector<float> audio = testing::WhiteNoise(22050 * 60, 3);
  ReorderOptions o;
  o.strategy = ReorderStrategy::kNearestNeighborWalk;
  CancelAfter cancel(0);
  o.check = cancel.Fn();
  EXPECT_EQ(Reorder(fx, audio, o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 1);
}

TEST(TransformCancellationTest, CancelledStopsWithinBudget) {
  const FeatureExtractor fx = Extractor("librosa");
  const std::vector<float> audio = testing::WhiteNoise(22050 * 30, 4);
  TransformOptions o;
  o.phase = PhaseOperation::kResynthesize;
  o.inversion.iterations = 1000;
  // OK through the analysis (3 blocks) and the edits (2 polls), cancelled in the inversion.
  CancelAfter cancel(5);
  o.check = cancel.Fn();
  EXPECT_EQ(Transform(fx, audio, o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 6);
}

TEST(RenderCancellationTest, CancelledWhilePainting) {
  const FeatureConfig config = GetPreset("librosa").value();
  const std::vector<float> audio = testing::WhiteNoise(22050 * 10, 5);
  RenderOptions o;
  o.height = 1000;  // 16 row blocks
  o.width = 400;
  CancelAfter never(1 << 30);
  o.check = never.Fn();
  ASSERT_TRUE(RenderSpectrogram(audio, config, o).ok());
  const int total = never.calls;
  EXPECT_GE(total, 1 + 1 + 16);  // analysis, view, rows
  CancelAfter cancel(total - 2);  // fails in the painting, two blocks before the end
  o.check = cancel.Fn();
  EXPECT_EQ(RenderSpectrogram(audio, config, o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, total - 1);
}

TEST(StreamVocoderCancellationTest, CancelledStopsAndEndsTheStream) {
  const FeatureExtractor fx = Extractor("hifigan");
  StreamVocoderOptions options;
  CancelAfter cancel(3);
  options.check = cancel.Fn();
  StreamVocoder vocoder = StreamVocoder::Create(fx, options).value();
  const RealMatrix mel = RandomMel(80, 400);
  std::vector<float> out;
  EXPECT_EQ(vocoder.PushFrames(mel, &out).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 4);
  EXPECT_LT(vocoder.frames_pushed(), 400);
  EXPECT_EQ(vocoder.PushFrames(mel, &out).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(vocoder.Finish(&out).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AudioCancellationTest, DecodeStopsBetweenChunks) {
  const std::vector<float> samples = testing::WhiteNoise(4096 * 64 * 5, 6, 0.25);  // 5 polls
  const std::string wav = EncodeAudio(samples, 16000, AudioEncoding::kWavPcm16).value();
  DecodeOptions o;
  CancelAfter cancel(2);
  o.check = cancel.Fn();
  EXPECT_EQ(DecodeAudio(AsBytes(wav), o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 3);
}

TEST(AudioCancellationTest, ResampleStopsBetweenBlocks) {
  const std::vector<float> samples = testing::WhiteNoise(int64_t{1} << 20, 7, 0.25);  // 4 blocks
  CancelAfter cancel(1);
  EXPECT_EQ(Resample(samples, 44100, 16000, cancel.Fn()).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(cancel.calls, 2);
}

TEST(AudioCancellationTest, BlockedResampleMatchesOneShot) {
  const std::vector<float> samples = testing::WhiteNoise((int64_t{1} << 19) + 12345, 8, 0.25);
  CancelAfter never(1 << 30);
  const std::vector<float> blocked = Resample(samples, 44100, 16000, never.Fn()).value();
  const std::vector<float> oneshot = Resample(samples, 44100, 16000).value();
  ASSERT_EQ(blocked.size(), oneshot.size());
  for (size_t i = 0; i < blocked.size(); ++i) ASSERT_NEAR(blocked[i], oneshot[i], 1e-5f) << i;
  EXPECT_EQ(never.calls, 3);
}

}  // namespace
}  // namespace specinv
