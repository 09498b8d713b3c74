// Copyright specinv authors.

#include "specinv/creative/tsne.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv {
namespace {

using ::testing::HasSubstr;

// `clusters` Gaussian blobs of `per_cluster` points in `dims` dimensions,
// cluster c centred at 10 * e_c; labels[i] = cluster of point i. Points are
// interleaved (point i belongs to cluster i % clusters) so the input order says
// nothing about the clusters.
RealMatrix Blobs(int clusters, int per_cluster, int dims, uint32_t seed, std::vector<int>* labels) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const int n = clusters * per_cluster;
  RealMatrix x(dims, n);
  labels->assign(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    const int c = i % clusters;
    (*labels)[static_cast<size_t>(i)] = c;
    for (int d = 0; d < dims; ++d) x(d, i) = noise(rng) + (d == c ? 10.0f : 0.0f);
  }
  return x;
}

// Each point's nn.k neighbours are those of a full double-precision scan of
// `x`, ties by index; distances within `tolerance`.
void ExpectBruteForceNeighbors(const RealMatrix& x, const NeighborLists& nn, double tolerance) {
  const int n = static_cast<int>(x.cols());
  const int k = nn.k;
  for (int i = 0; i < n; ++i) {
    std::vector<std::pair<double, int>> all;
    for (int j = 0; j < n; ++j) {
      if (j != i) all.emplace_back((x.col(i).cast<double>() - x.col(j).cast<double>()).squaredNorm(), j);
    }
    std::sort(all.begin(), all.end());
    for (int e = 0; e < k; ++e) {
      const size_t at = static_cast<size_t>(i * k + e);
      EXPECT_EQ(nn.indices[at], all[static_cast<size_t>(e)].second) << "point " << i;
      EXPECT_NEAR(nn.squared_distances[at], all[static_cast<size_t>(e)].first, tolerance) << "point " << i;
    }
  }
}

// Label changes along the embedding's sorted order.
int LabelChanges(const std::vector<float>& embedding, const std::vector<int>& labels) {
  std::vector<int> order(embedding.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return embedding[static_cast<size_t>(a)] < embedding[static_cast<size_t>(b)];
  });
  int changes = 0;
  for (size_t i = 1; i < order.size(); ++i) {
    changes += labels[static_cast<size_t>(order[i])] != labels[static_cast<size_t>(order[i - 1])] ? 1 : 0;
  }
  return changes;
}

TEST(TsneTest, ExactNearestNeighborsMatchBruteForce) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(3, 40, 6, 11, &labels);
  const int k = 7;
  for (auto [threads, search] : {std::pair{1, NeighborSearch::kBruteForce}, std::pair{2, NeighborSearch::kBruteForce},
                                 std::pair{1, NeighborSearch::kKdTree}, std::pair{2, NeighborSearch::kKdTree}}) {
    auto nn = ExactNearestNeighbors(x, k, threads, {}, search);
    ASSERT_TRUE(nn.ok()) << nn.status();
    ExpectBruteForceNeighbors(x, *nn, 1e-9);
  }
}

// Duplicated points and integer coordinates: many neighbours at exactly equal
// distances, which the k-d tree must order by index as the reference does.
TEST(TsneTest, KdTreeNeighborsBreakTiesByIndex) {
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> value(0, 2);
  RealMatrix x(3, 150);
  for (int j = 0; j < 150; ++j) {
    for (int r = 0; r < 3; ++r) x(r, j) = static_cast<float>(value(rng));
  }
  const int k = 20;
  auto nn = ExactNearestNeighbors(x, k, 2, {}, NeighborSearch::kKdTree);
  ASSERT_TRUE(nn.ok()) << nn.status();
  ExpectBruteForceNeighbors(x, *nn, 0.0);
  EXPECT_FALSE(ExactNearestNeighbors(x, k, 1, {}, static_cast<NeighborSearch>(7)).ok());
}

TEST(TsneTest, TrustworthinessOfPerfectAndRandomEmbeddings) {
  // 1-D data embedded as itself (or mirrored) keeps every neighbourhood.
  const int n = 60;
  RealMatrix line(1, n);
  std::vector<float> same(n);
  std::vector<float> mirrored(n);
  for (int i = 0; i < n; ++i) {
    line(0, i) = static_cast<float>(i * i) * 0.01f;
    same[static_cast<size_t>(i)] = line(0, i);
    mirrored[static_cast<size_t>(i)] = -3.0f * line(0, i);
  }
  EXPECT_DOUBLE_EQ(Trustworthiness(line, same, 5).value(), 1.0);
  EXPECT_DOUBLE_EQ(Trustworthiness(line, mirrored, 5).value(), 1.0);
  // A random embedding of clustered data loses most neighbourhoods.
  std::vector<int> labels;
  const RealMatrix x = Blobs(3, 30, 5, 5, &labels);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> random(static_cast<size_t>(x.cols()));
  for (auto& v : random) v = u(rng);
  const double t = Trustworthiness(x, random, 5).value();
  EXPECT_GT(t, 0.0);
  EXPECT_LT(t, 0.8);
  // Swapping two far-apart points of the perfect embedding lowers it.
  std::swap(same[3], same[50]);
  EXPECT_LT(Trustworthiness(line, same, 5).value(), 1.0);
}

class TsneAlgorithmTest : public ::testing::TestWithParam<TsneAlgorithm> {};

TEST_P(TsneAlgorithmTest, SeparatesClustersContiguously) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(3, 50, 8, 1, &labels);
  TsneOptions o;
  o.algorithm = GetParam();
  o.perplexity = 15.0;
  o.iterations = 500;
  o.seed = 3;
  auto r = Tsne1d(x, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->algorithm, GetParam());
  ASSERT_EQ(r->embedding.size(), 150u);
  EXPECT_EQ(LabelChanges(r->embedding, labels), 2);
  EXPECT_GE(Trustworthiness(x, r->embedding, 5).value(), 0.9);
  EXPECT_GT(r->kl_divergence, 0.0);
  EXPECT_EQ(r->iterations_run, 500);
  EXPECT_DOUBLE_EQ(r->learning_rate, 50.0);  // max(150 / 12, 50)
}

INSTANTIATE_TEST_SUITE_P(Algorithms, TsneAlgorithmTest,
                         ::testing::Values(TsneAlgorithm::kExact, TsneAlgorithm::kBarnesHut),
                         [](const ::testing::TestParamInfo<TsneAlgorithm>& param_info) {
                           return std::string(TsneAlgorithmName(param_info.param));
                         });

TEST(TsneTest, BarnesHutThetaZeroAndHalfAgreeOnStructure) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(4, 30, 6, 2, &labels);
  TsneOptions o;
  o.algorithm = TsneAlgorithm::kBarnesHut;
  o.perplexity = 10.0;
  o.iterations = 400;
  o.theta = 0.0;
  const auto exact_repulsion = Tsne1d(x, o).value();
  o.theta = 0.5;
  const auto approximated = Tsne1d(x, o).value();
  EXPECT_EQ(LabelChanges(exact_repulsion.embedding, labels), 3);
  EXPECT_EQ(LabelChanges(approximated.embedding, labels), 3);
  EXPECT_NEAR(approximated.kl_divergence, exact_repulsion.kl_divergence, 0.1 * exact_repulsion.kl_divergence);
}

TEST(TsneTest, ReproducibleForASeedAndAnyThreadCount) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(3, 30, 5, 4, &labels);
  for (TsneAlgorithm algorithm : {TsneAlgorithm::kExact, TsneAlgorithm::kBarnesHut}) {
    TsneOptions o;
    o.algorithm = algorithm;
    o.perplexity = 8.0;
    o.iterations = 250;
    o.seed = 42;
    const auto a = Tsne1d(x, o).value();
    o.max_threads = 2;
    const auto b = Tsne1d(x, o).value();
    ASSERT_EQ(a.embedding.size(), b.embedding.size());
    EXPECT_EQ(std::memcmp(a.embedding.data(), b.embedding.data(), a.embedding.size() * sizeof(float)), 0);
    o.seed = 43;
    const auto c = Tsne1d(x, o).value();
    EXPECT_NE(std::memcmp(a.embedding.data(), c.embedding.data(), a.embedding.size() * sizeof(float)), 0);
  }
}

TEST(TsneTest, AutoPicksExactForSmallInputsAndCapsPerplexity) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(2, 10, 3, 8, &labels);
  TsneOptions o;
  o.iterations = 250;
  const auto r = Tsne1d(x, o).value();
  EXPECT_EQ(r.algorithm, TsneAlgorithm::kExact);
  EXPECT_DOUBLE_EQ(r.perplexity, 19.0 / 3.0);
  // Two points work with the default perplexity.
  const auto two = Tsne1d(x.leftCols(2), o);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_NE(two->embedding[0], two->embedding[1]);
}

TEST(TsneTest, InvalidOptions) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(2, 10, 3, 8, &labels);
  auto message = [&](const TsneOptions& o, const RealMatrix& points) {
    const auto s = Tsne1d(points, o).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  TsneOptions o;
  o.perplexity = 19.0;  // == n - 1
  EXPECT_THAT(message(o, x), HasSubstr("tsne.perplexity must be in (0, 19)"));
  o.perplexity = 0.0;
  EXPECT_THAT(message(o, x), HasSubstr("tsne.perplexity"));
  o = TsneOptions{};
  o.iterations = 100;
  EXPECT_THAT(message(o, x), HasSubstr("tsne.iterations must be in [250, 10000]"));
  o = TsneOptions{};
  o.theta = 1.5;
  EXPECT_THAT(message(o, x), HasSubstr("tsne.theta"));
  o = TsneOptions{};
  o.learning_rate = -1.0;
  EXPECT_THAT(message(o, x), HasSubstr("tsne.learning_rate"));
  o = TsneOptions{};
  o.algorithm = static_cast<TsneAlgorithm>(7);
  EXPECT_THAT(message(o, x), HasSubstr("tsne.algorithm"));
  EXPECT_THAT(message(TsneOptions{}, x.leftCols(1)), HasSubstr("at least 2 points"));
  // Refused up front instead of allocating n^2 or n * k entries.
  const RealMatrix many = RealMatrix::Random(2, 10001);
  o = TsneOptions{};
  o.algorithm = TsneAlgorithm::kExact;
  EXPECT_THAT(message(o, many), HasSubstr("tsne.algorithm exact supports at most 5000 frames"));
  o.algorithm = TsneAlgorithm::kBarnesHut;
  o.perplexity = 3000.0;
  EXPECT_THAT(message(o, many), HasSubstr("tsne.perplexity 3000 needs 9001 neighbours per frame"));
  RealMatrix bad = x;
  bad(1, 4) = std::nanf("");
  EXPECT_THAT(message(TsneOptions{}, bad), HasSubstr("points["));
  EXPECT_EQ(ParseTsneAlgorithm("barnes_hut").value(), TsneAlgorithm::kBarnesHut);
  EXPECT_THAT(std::string(ParseTsneAlgorithm("fast").status().message()), HasSubstr("tsne.algorithm"));
  EXPECT_FALSE(ExactNearestNeighbors(x, 20).ok());
  EXPECT_FALSE(Trustworthiness(x, std::vector<float>(20, 0.0f), 10).ok());
  EXPECT_FALSE(Trustworthiness(x, std::vector<float>(19, 0.0f), 3).ok());
}

TEST(TsneTest, CheckCallbackStopsTheRun) {
  std::vector<int> labels;
  const RealMatrix x = Blobs(2, 10, 3, 8, &labels);
  TsneOptions o;
  int calls = 0;
  o.check = [&calls]() {
    return ++calls > 3 ? absl::CancelledError("stop") : absl::OkStatus();
  };
  const auto s = Tsne1d(x, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace specinv
