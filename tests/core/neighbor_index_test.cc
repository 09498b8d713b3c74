// Copyright specinv authors.
//
// NeighborIndex: the k-d tree's answers against a brute-force scan written
// here (every eligible column, distances summed in index order, sorted by
// (distance, column)), on data with many exact ties.

#include "specinv/creative/neighbor_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv {
namespace {

using ::testing::HasSubstr;

// `n` columns of `dims` small integers (few distinct values, so many equal
// distances), every third column a copy of an earlier one (distance 0).
RealMatrix TiedPoints(int dims, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> value(-2, 2);
  RealMatrix x(dims, n);
  for (int j = 0; j < n; ++j) {
    if (j > 0 && j % 3 == 0) {
      x.col(j) = x.col(std::uniform_int_distribution<int>(0, j - 1)(rng));
    } else {
      for (int r = 0; r < dims; ++r) x(r, j) = static_cast<float>(value(rng));
    }
  }
  return x;
}

std::vector<std::pair<double, int>> BruteForce(const RealMatrix& x, int query, int k,
                                               const std::vector<char>* skip, const std::vector<int>* columns) {
  std::vector<std::pair<double, int>> all;
  for (int j = 0; j < x.cols(); ++j) {
    if (j == query || (skip != nullptr && (*skip)[static_cast<size_t>(j)] != 0)) continue;
    if (columns != nullptr && std::find(columns->begin(), columns->end(), j) == columns->end()) continue;
    double d = 0.0;
    for (int r = 0; r < x.rows(); ++r) {
      const double diff = static_cast<double>(x(r, query)) - static_cast<double>(x(r, j));
      d += diff * diff;
    }
    all.emplace_back(d, j);
  }
  std::sort(all.begin(), all.end());
  all.resize(std::min(all.size(), static_cast<size_t>(k)));
  return all;
}

TEST(NeighborIndexTest, MatchesBruteForceWithTies) {
  for (int dims : {1, 3, 8, 40}) {
    const RealMatrix x = TiedPoints(dims, 300, 5 + static_cast<uint32_t>(dims));
    for (int leaf_size : {1, 16}) {
      NeighborIndexOptions options;
      options.leaf_size = leaf_size;
      auto index = NeighborIndex::Create(x, options);
      ASSERT_TRUE(index.ok()) << index.status();
      EXPECT_EQ(index->size(), 300);
      std::vector<std::pair<double, int>> got;
      for (int k : {1, 7, 299, 400}) {
        for (int q = 0; q < 300; q += 7) {
          index->Nearest(q, k, nullptr, &got);
          ASSERT_EQ(got, BruteForce(x, q, k, nullptr, nullptr))
              << "dims " << dims << " leaf " << leaf_size << " k " << k << " query " << q;
        }
      }
    }
  }
}

TEST(NeighborIndexTest, SkipsMarkedColumnsAndIndexesOnlyItsSubset) {
  const RealMatrix x = TiedPoints(4, 200, 9);
  std::vector<char> skip(200, 0);
  for (int j = 0; j < 200; j += 2) skip[static_cast<size_t>(j)] = 1;
  std::vector<int> columns;
  for (int j = 199; j >= 0; j -= 3) columns.push_back(j);
  NeighborIndexOptions options;
  options.columns = columns;
  auto index = NeighborIndex::Create(x, options);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->size(), static_cast<int>(columns.size()));
  std::vector<std::pair<double, int>> got;
  for (int q = 0; q < 200; q += 5) {
    index->Nearest(q, 5, skip.data(), &got);
    EXPECT_EQ(got, BruteForce(x, q, 5, &skip, &columns)) << q;
    index->Nearest(q, 1, nullptr, &got);
    EXPECT_EQ(got, BruteForce(x, q, 1, nullptr, &columns)) << q;
  }
  // Every indexed column skipped: nothing to return.
  std::vector<char> all(200, 1);
  index->Nearest(0, 3, all.data(), &got);
  EXPECT_TRUE(got.empty());
}

TEST(NeighborIndexTest, ContinuousDataInManyDimensions) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  RealMatrix x(128, 500);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = g(rng) * 80.0f - 40.0f;
  auto index = NeighborIndex::Create(x);
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<std::pair<double, int>> got;
  for (int q = 0; q < 500; q += 11) {
    index->Nearest(q, 16, nullptr, &got);
    EXPECT_EQ(got, BruteForce(x, q, 16, nullptr, nullptr)) << q;
  }
}

TEST(NeighborIndexTest, InvalidOptions) {
  const RealMatrix x = TiedPoints(2, 10, 1);
  EXPECT_THAT(std::string(NeighborIndex::Create(RealMatrix(0, 5)).status().message()), HasSubstr("0 rows"));
  RealMatrix bad = x;
  bad(1, 4) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(std::string(NeighborIndex::Create(bad).status().message()), HasSubstr("points"));
  NeighborIndexOptions options;
  options.leaf_size = 0;
  EXPECT_THAT(std::string(NeighborIndex::Create(x, options).status().message()), HasSubstr("leaf_size"));
  options = {};
  options.columns = {0, 3, 10};
  EXPECT_THAT(std::string(NeighborIndex::Create(x, options).status().message()), HasSubstr("columns[2]"));
  options.columns = {1, 2, 1};
  EXPECT_THAT(std::string(NeighborIndex::Create(x, options).status().message()), HasSubstr("columns[2]"));
}

TEST(NeighborIndexTest, ResolvesAutoByDimension) {
  EXPECT_EQ(ResolveNeighborSearch(NeighborSearch::kBruteForce, 2), NeighborSearch::kBruteForce);
  EXPECT_EQ(ResolveNeighborSearch(NeighborSearch::kKdTree, 100000), NeighborSearch::kKdTree);
  EXPECT_EQ(ResolveNeighborSearch(NeighborSearch::kAuto, kKdTreeMaxDims), NeighborSearch::kKdTree);
  EXPECT_EQ(ResolveNeighborSearch(NeighborSearch::kAuto, kKdTreeMaxDims + 1), NeighborSearch::kBruteForce);
}

}  // namespace
}  // namespace specinv
