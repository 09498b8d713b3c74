// Copyright specinv authors.

#include "specinv/creative/reorder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include <Eigen/Eigenvalues>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/frame_features.h"
#include "specinv/creative/tsne.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr double kSr = 8000.0;

FeatureConfig SmallConfig() {
  FeatureConfig c;
  c.sample_rate = kSr;
  c.stft.n_fft = 256;
  c.stft.hop_length = 64;
  c.n_mels = 32;
  return c;
}

FeatureExtractor Extractor(const FeatureConfig& c) { return FeatureExtractor::Create(c).value(); }

// A chirp with noise and a slow level change: frames differ along one
// dominant direction plus detail.
std::vector<float> Material(int64_t n = 6000) {
  auto y = testing::Chirp(150.0, 3200.0, kSr, n, 0.4);
  const auto noise = testing::WhiteNoise(n, 5, 0.05);
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = y[i] * static_cast<float>(0.3 + 0.7 * std::sin(3.0 * static_cast<double>(i) / static_cast<double>(n))) +
           noise[i];
  }
  return y;
}

bool IsPermutation(std::vector<int> order, int n) {
  if (static_cast<int>(order.size()) != n) return false;
  std::sort(order.begin(), order.end());
  for (int i = 0; i < n; ++i) {
    if (order[static_cast<size_t>(i)] != i) return false;
  }
  return true;
}

bool SameBytes(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Independent PCA: textbook covariance, Eigen's self-adjoint solver, the
// documented sign rule (first frame lower than the last).
std::vector<int> EigenPcaOrder(const RealMatrix& features, bool descending) {
  const Eigen::MatrixXd x = features.cast<double>();
  const Eigen::MatrixXd centred = x.colwise() - x.rowwise().mean();
  const Eigen::MatrixXd cov = centred * centred.transpose() / static_cast<double>(x.cols() - 1);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
  Eigen::VectorXd proj = centred.transpose() * solver.eigenvectors().col(cov.rows() - 1);
  if (proj(0) > proj(proj.size() - 1)) proj = -proj;
  std::vector<int> order(static_cast<size_t>(proj.size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return descending ? proj(a) > proj(b) : proj(a) < proj(b); });
  return order;
}

TEST(ReorderTest, PcaOrderMatchesEigenSolver) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material();
  for (bool weighting : {false, true}) {
    for (bool descending : {false, true}) {
      ReorderOptions o;
      o.strategy = ReorderStrategy::kPca;
      o.features.frequency_weighting = weighting;
      o.features.volume_normalize = weighting;
      o.descending = descending;
      auto r = Reorder(fx, y, o);
      ASSERT_TRUE(r.ok()) << r.status();
      const RealMatrix features = ComputeFrameFeatures(fx, y, o.features).value();
      EXPECT_THAT(r->order, ElementsAreArray(EigenPcaOrder(features, descending)));
      ASSERT_EQ(r->embedding.size(), static_cast<size_t>(r->num_frames));
      EXPECT_LT(r->embedding.front(), r->embedding.back());  // the sign rule
    }
  }
}

TEST(ReorderTest, PcaProjectionUsesTheGramMatrixForFewFrames) {
  // More dimensions than frames: the dual (Gram) path must agree with the
  // covariance computed independently.
  std::mt19937 rng(4);
  std::normal_distribution<float> g(0.0f, 1.0f);
  RealMatrix f(40, 12);
  for (Eigen::Index i = 0; i < f.size(); ++i) f.data()[i] = g(rng);
  f.row(3) *= 6.0f;  // a clearly dominant direction
  const auto values = PcaProjection(f).value();
  EXPECT_THAT(OrderByValue(values, false), ElementsAreArray(EigenPcaOrder(f, false)));
}

// Three tones A B C A B C; a frame's tone is the one under its centre sample.
struct ToneFrames {
  std::vector<float> audio;
  std::vector<int> labels;
};

ToneFrames ThreeTones(const FeatureExtractor& fx) {
  const double seconds = 0.5;
  ToneFrames t;
  t.audio = testing::ToneSequence({400.0, 1100.0, 2600.0, 400.0, 1100.0, 2600.0}, seconds, kSr, 0.5);
  const auto each = static_cast<int64_t>(seconds * kSr);
  const int64_t frames = fx.NumFrames(static_cast<int64_t>(t.audio.size()));
  for (int64_t f = 0; f < frames; ++f) {
    const int64_t centre = std::min<int64_t>(f * fx.config().stft.hop_length, static_cast<int64_t>(t.audio.size()) - 1);
    t.labels.push_back(static_cast<int>((centre / each) % 3));
  }
  return t;
}

TEST(ReorderTest, TsneKeepsEachTonesFramesTogether) {
  auto config = SmallConfig();
  config.stft.hop_length = 128;
  const auto fx = Extractor(config);
  const ToneFrames tones = ThreeTones(fx);
  ReorderOptions o;
  o.strategy = ReorderStrategy::kTsne;
  o.features.volume_normalize = true;
  o.tsne.perplexity = 20.0;
  o.tsne.iterations = 500;
  o.tsne.seed = 1;
  for (TsneAlgorithm algorithm : {TsneAlgorithm::kExact, TsneAlgorithm::kBarnesHut}) {
    o.tsne.algorithm = algorithm;
    auto r = Reorder(fx, tones.audio, o);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->order.size(), tones.labels.size());
    ASSERT_TRUE(IsPermutation(r->order, r->num_frames));
    int same = 0;
    for (size_t i = 1; i < r->order.size(); ++i) {
      same += tones.labels[static_cast<size_t>(r->order[i])] == tones.labels[static_cast<size_t>(r->order[i - 1])];
    }
    const double share = static_cast<double>(same) / static_cast<double>(r->order.size() - 1);
    EXPECT_GE(share, 0.95) << TsneAlgorithmName(algorithm);
    const RealMatrix features = ComputeFrameFeatures(fx, tones.audio, o.features).value();
    EXPECT_GE(Trustworthiness(features, r->embedding, 5).value(), 0.9) << TsneAlgorithmName(algorithm);
    ASSERT_TRUE(r->tsne.has_value());
    EXPECT_EQ(r->tsne->algorithm, algorithm);
    EXPECT_LE(r->embedding.front(), r->embedding.back());
  }
}

TEST(ReorderTest, NearestNeighborWalkKeepsTonesTogether) {
  auto config = SmallConfig();
  config.stft.hop_length = 128;
  const auto fx = Extractor(config);
  const ToneFrames tones = ThreeTones(fx);
  ReorderOptions o;
  o.strategy = ReorderStrategy::kNearestNeighborWalk;
  o.features.volume_normalize = true;
  o.start_frame = 5;
  auto r = Reorder(fx, tones.audio, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(IsPermutation(r->order, r->num_frames));
  EXPECT_EQ(r->order.front(), 5);
  int same = 0;
  for (size_t i = 1; i < r->order.size(); ++i) {
    same += tones.labels[static_cast<size_t>(r->order[i])] == tones.labels[static_cast<size_t>(r->order[i - 1])];
  }
  EXPECT_GE(static_cast<double>(same) / static_cast<double>(r->order.size() - 1), 0.9);
  EXPECT_TRUE(r->embedding.empty());
}

TEST(ReorderTest, NearestNeighborWalkMatchesBruteForce) {
  std::mt19937 rng(12);
  std::normal_distribution<float> g(0.0f, 1.0f);
  RealMatrix f(5, 90);
  for (Eigen::Index i = 0; i < f.size(); ++i) f.data()[i] = g(rng);
  for (int start : {0, 17, 89}) {
    std::vector<int> expected{start};
    std::vector<bool> seen(90, false);
    seen[static_cast<size_t>(start)] = true;
    for (int step = 1; step < 90; ++step) {
      int best = -1;
      double best_d = 0.0;
      for (int j = 0; j < 90; ++j) {
        if (seen[static_cast<size_t>(j)]) continue;
        const double d = (f.col(expected.back()).cast<double>() - f.col(j).cast<double>()).squaredNorm();
        if (best < 0 || d < best_d) {
          best = j;
          best_d = d;
        }
      }
      seen[static_cast<size_t>(best)] = true;
      expected.push_back(best);
    }
    for (NeighborSearch search : {NeighborSearch::kBruteForce, NeighborSearch::kKdTree}) {
      EXPECT_THAT(NearestNeighborWalk(f, start, 1, {}, search).value(), ElementsAreArray(expected)) << start;
    }
  }
}

// Reference: the walk over every unvisited frame, ties to the lowest index.
std::vector<int> ReferenceWalk(const RealMatrix& f, int start) {
  const auto n = static_cast<int>(f.cols());
  std::vector<int> order{start};
  std::vector<bool> seen(static_cast<size_t>(n), false);
  seen[static_cast<size_t>(start)] = true;
  for (int step = 1; step < n; ++step) {
    int best = -1;
    double best_d = 0.0;
    for (int j = 0; j < n; ++j) {
      if (seen[static_cast<size_t>(j)]) continue;
      double d = 0.0;
      for (Eigen::Index r = 0; r < f.rows(); ++r) {
        const double diff = static_cast<double>(f(r, order.back())) - static_cast<double>(f(r, j));
        d += diff * diff;
      }
      if (best < 0 || d < best_d) {
        best = j;
        best_d = d;
      }
    }
    seen[static_cast<size_t>(best)] = true;
    order.push_back(best);
  }
  return order;
}

// Repeated frames (as silence gives) and coarse values: many equal distances,
// and the tree is rebuilt several times along the walk.
TEST(ReorderTest, KdTreeWalkMatchesBruteForceWithTies) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> value(-3, 3);
  for (int dims : {2, 16, 128}) {
    RealMatrix f(dims, 700);
    for (int j = 0; j < 700; ++j) {
      if (j % 4 == 3) {
        f.col(j) = f.col(j / 2);
      } else {
        for (int r = 0; r < dims; ++r) f(r, j) = static_cast<float>(value(rng)) * 10.0f - 40.0f;
      }
    }
    for (int start : {0, 3, 699}) {
      EXPECT_THAT(NearestNeighborWalk(f, start, 1, {}, NeighborSearch::kKdTree).value(),
                  ElementsAreArray(ReferenceWalk(f, start)))
          << "dims " << dims << " start " << start;
    }
  }
}

TEST(ReorderTest, ReverseTwiceIsIdentity) {
  const auto fx = Extractor(SmallConfig());
  const ComplexMatrix spec = fx.ComplexSpectrogram(Material()).value();
  const auto n = static_cast<int>(spec.cols());
  const auto rev = ReverseOrder(n);
  std::vector<int> composed(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) composed[static_cast<size_t>(i)] = rev[static_cast<size_t>(rev[static_cast<size_t>(i)])];
  std::vector<int> identity(static_cast<size_t>(n));
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(composed, identity);
  EXPECT_NE(rev, identity);
  EXPECT_TRUE(PermuteFrames(PermuteFrames(spec, rev), rev) == spec);
  EXPECT_TRUE(ReverseFrequency(ReverseFrequency(spec)) == spec);
  EXPECT_FALSE(ReverseFrequency(spec) == spec);

  // At the audio level: with non-overlapping rectangular frames the STFT is
  // invertible frame by frame, so reversing the audio twice gives it back.
  FeatureConfig blocks = SmallConfig();
  blocks.stft.n_fft = 64;
  blocks.stft.hop_length = 64;
  blocks.stft.window = WindowType::kRectangular;
  blocks.stft.center = false;
  blocks.n_mels = 8;
  const auto bx = Extractor(blocks);
  const auto y = Material(64 * 40);
  for (ReorderStrategy s : {ReorderStrategy::kReverseTime, ReorderStrategy::kReverseFrequency}) {
    ReorderOptions o;
    o.strategy = s;
    const auto once = Reorder(bx, y, o).value();
    const auto twice = Reorder(bx, once.audio, o).value();
    ASSERT_EQ(twice.audio.size(), y.size());
    double err = 0.0;
    double diff_once = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
      err = std::max(err, static_cast<double>(std::abs(twice.audio[i] - y[i])));
      diff_once = std::max(diff_once, static_cast<double>(std::abs(once.audio[i] - y[i])));
    }
    EXPECT_LT(err, 1e-5) << ReorderStrategyName(s);
    EXPECT_GT(diff_once, 0.1) << ReorderStrategyName(s);
  }
}

TEST(ReorderTest, ShuffleIsAReproduciblePermutation) {
  for (int n : {2, 7, 1000}) {
    const auto a = ShuffleOrder(n, 99);
    EXPECT_TRUE(IsPermutation(a, n));
    EXPECT_EQ(a, ShuffleOrder(n, 99));
  }
  EXPECT_NE(ShuffleOrder(1000, 1), ShuffleOrder(1000, 2));
  // Every position is reachable: over many seeds each element visits each slot.
  std::vector<std::vector<int>> hits(5, std::vector<int>(5, 0));
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    const auto p = ShuffleOrder(5, seed);
    for (int i = 0; i < 5; ++i) ++hits[static_cast<size_t>(i)][static_cast<size_t>(p[static_cast<size_t>(i)])];
  }
  for (const auto& row : hits) {
    for (int h : row) EXPECT_NEAR(h, 400, 80);
  }
  const auto fx = Extractor(SmallConfig());
  const auto y = Material();
  ReorderOptions o;
  o.strategy = ReorderStrategy::kShuffle;
  o.seed = 5;
  const auto r1 = Reorder(fx, y, o).value();
  const auto r2 = Reorder(fx, y, o).value();
  EXPECT_EQ(r1.order, ShuffleOrder(r1.num_frames, 5));
  EXPECT_TRUE(SameBytes(r1.audio, r2.audio));
}

TEST(ReorderTest, IdentityOrderReconstructsTheInput) {
  for (const char* preset : {"", "hifigan", "whisper"}) {
    const FeatureConfig config = *preset ? GetPreset(preset).value() : SmallConfig();
    const auto fx = Extractor(config);
    const auto y = testing::Chirp(200.0, 3000.0, config.sample_rate, 9000, 0.5);
    ReorderOptions o;
    o.strategy = ReorderStrategy::kCustom;
    o.custom_order.resize(static_cast<size_t>(fx.NumFrames(9000)));
    std::iota(o.custom_order.begin(), o.custom_order.end(), 0);
    const auto r = Reorder(fx, y, o).value();
    ASSERT_EQ(r.audio.size(), y.size()) << preset;
    // Whisper drops the last frame: compare where every frame is present.
    const size_t end = y.size() - static_cast<size_t>(config.stft.n_fft);
    double err = 0.0;
    for (size_t i = 0; i < end; ++i) err = std::max(err, static_cast<double>(std::abs(r.audio[i] - y[i])));
    EXPECT_LT(err, 1e-4) << preset;
  }
}

TEST(ReorderTest, OutputLengthEqualsInputForFullLengthOrders) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material(5001);
  for (ReorderStrategy s :
       {ReorderStrategy::kPca, ReorderStrategy::kTsne, ReorderStrategy::kReverseTime,
        ReorderStrategy::kReverseFrequency, ReorderStrategy::kShuffle, ReorderStrategy::kSortBy,
        ReorderStrategy::kNearestNeighborWalk}) {
    ReorderOptions o;
    o.strategy = s;
    o.sort_key = SortKey::kSpectralCentroid;
    o.tsne.iterations = 250;
    const auto r = Reorder(fx, y, o);
    ASSERT_TRUE(r.ok()) << ReorderStrategyName(s) << ": " << r.status();
    EXPECT_EQ(r->audio.size(), y.size()) << ReorderStrategyName(s);
    EXPECT_TRUE(IsPermutation(r->order, r->num_frames)) << ReorderStrategyName(s);
    EXPECT_EQ(r->num_frames, fx.NumFrames(5001));
  }
  // A partial custom order: one hop per entry; an explicit length wins.
  ReorderOptions o;
  o.strategy = ReorderStrategy::kCustom;
  o.custom_order = {3, 3, 10, 0};
  EXPECT_EQ(Reorder(fx, y, o)->audio.size(), 4u * 64u);
  o.length = 1234;
  EXPECT_EQ(Reorder(fx, y, o)->audio.size(), 1234u);
}

TEST(ReorderTest, SortByOrdersTheKeyValues) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material();
  for (SortKey key : {SortKey::kRms, SortKey::kSpectralCentroid, SortKey::kSpectralFlatness}) {
    for (bool descending : {false, true}) {
      ReorderOptions o;
      o.strategy = ReorderStrategy::kSortBy;
      o.sort_key = key;
      o.descending = descending;
      const auto r = Reorder(fx, y, o).value();
      ASSERT_EQ(r.embedding.size(), static_cast<size_t>(r.num_frames));
      for (size_t i = 1; i < r.order.size(); ++i) {
        const float prev = r.embedding[static_cast<size_t>(r.order[i - 1])];
        const float cur = r.embedding[static_cast<size_t>(r.order[i])];
        if (descending) {
          EXPECT_GE(prev, cur);
        } else {
          EXPECT_LE(prev, cur);
        }
      }
    }
  }
  // The key values are the frame features of frame_features.h.
  ReorderOptions o;
  o.strategy = ReorderStrategy::kSortBy;
  o.sort_key = SortKey::kRms;
  EXPECT_EQ(Reorder(fx, y, o)->embedding, FrameRms(fx, y).value());
}

TEST(ReorderTest, SameRequestGivesByteIdenticalAudio) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material();
  for (ReorderStrategy s : {ReorderStrategy::kPca, ReorderStrategy::kTsne, ReorderStrategy::kNearestNeighborWalk}) {
    ReorderOptions o;
    o.strategy = s;
    o.tsne.iterations = 250;
    o.tsne.algorithm = TsneAlgorithm::kBarnesHut;
    const auto a = Reorder(fx, y, o).value();
    const auto b = Reorder(fx, y, o).value();
    o.max_threads = 2;
    const auto c = Reorder(fx, y, o).value();
    EXPECT_TRUE(SameBytes(a.audio, b.audio)) << ReorderStrategyName(s);
    EXPECT_TRUE(SameBytes(a.audio, c.audio)) << ReorderStrategyName(s);
    EXPECT_EQ(a.order, c.order);
    EXPECT_TRUE(SameBytes(a.embedding, c.embedding));
  }
}

TEST(ReorderTest, BadInputsGivePreciseErrors) {
  const auto fx = Extractor(SmallConfig());
  const auto y = Material(3000);
  auto message = [&](const ReorderOptions& o, const std::vector<float>& audio) {
    const auto s = Reorder(fx, audio, o).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  EXPECT_THAT(std::string(ParseReorderStrategy("spiral").status().message()),
              HasSubstr("strategy must be one of"));
  EXPECT_EQ(ParseReorderStrategy("nearest_neighbor_walk").value(), ReorderStrategy::kNearestNeighborWalk);
  for (ReorderStrategy s : {ReorderStrategy::kPca, ReorderStrategy::kCustom}) {
    EXPECT_EQ(ParseReorderStrategy(ReorderStrategyName(s)).value(), s);
  }
  ReorderOptions o;
  o.strategy = static_cast<ReorderStrategy>(42);
  EXPECT_THAT(message(o, y), HasSubstr("strategy"));

  const int frames = static_cast<int>(fx.NumFrames(3000));
  o = ReorderOptions{};
  o.strategy = ReorderStrategy::kTsne;
  o.tsne.perplexity = frames;
  EXPECT_THAT(message(o, y), HasSubstr("tsne.perplexity must be in (0, " + std::to_string(frames - 1) + ")"));
  o.tsne.perplexity = 5.0;
  o.tsne.iterations = 10;
  EXPECT_THAT(message(o, y), HasSubstr("tsne.iterations"));

  FeatureConfig one_frame = SmallConfig();
  one_frame.stft.center = false;
  const auto fx1 = Extractor(one_frame);
  const auto s1 = Reorder(fx1, std::vector<float>(300, 0.1f), ReorderOptions{}).status();
  EXPECT_EQ(s1.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s1.message()), HasSubstr("at least 2 frames"));

  auto nan = y;
  nan[123] = std::nanf("");
  EXPECT_THAT(message(ReorderOptions{}, nan), HasSubstr("audio[123] is NaN"));
  EXPECT_THAT(message(ReorderOptions{}, {}), HasSubstr("audio is empty"));

  o = ReorderOptions{};
  o.strategy = ReorderStrategy::kSortBy;
  EXPECT_THAT(message(o, y), HasSubstr("sort_key is required"));
  o.sort_key = static_cast<SortKey>(9);
  EXPECT_THAT(message(o, y), HasSubstr("sort_key must be one of"));
  EXPECT_THAT(std::string(ParseSortKey("loudness").status().message()), HasSubstr("sort_key"));

  o = ReorderOptions{};
  o.strategy = ReorderStrategy::kNearestNeighborWalk;
  o.start_frame = frames;
  EXPECT_THAT(message(o, y), HasSubstr("start_frame must be in [0, " + std::to_string(frames) + ")"));

  o = ReorderOptions{};
  o.strategy = ReorderStrategy::kCustom;
  EXPECT_THAT(message(o, y), HasSubstr("custom_order is empty"));
  o.custom_order = {0, frames, 1};
  EXPECT_THAT(message(o, y), HasSubstr("custom_order[1] must be in [0, " + std::to_string(frames) + ")"));
  o.custom_order = {0, 1};
  o.length = 0;
  EXPECT_THAT(message(o, y), HasSubstr("length"));

  o = ReorderOptions{};
  o.features.amin = -1.0;
  EXPECT_THAT(message(o, y), HasSubstr("features.amin"));
}

}  // namespace
}  // namespace specinv
