// Copyright specinv authors.
//
// One-dimensional t-SNE (van der Maaten & Hinton 2008; Barnes-Hut variant van
// der Maaten 2014) for ordering frames by similarity, plus the exact nearest
// neighbours and the trustworthiness metric it is built and checked with.
//
// Input: `points` is a (dims, n) matrix, one point per column (the frame
// feature layout of frame_features.h). Output: one coordinate per point.
//
// Affinities. Squared Euclidean distances; for each point a binary search on
// the Gaussian precision beta_i makes the entropy of p_{j|i} equal
// ln(perplexity) (tolerance 1e-5 nats, at most 200 steps). Exact: p_{j|i}
// over all other points. Barnes-Hut: over the k = min(n - 1, floor(3
// perplexity + 1)) exact nearest neighbours (ExactNearestNeighbors, by k-d
// tree or brute force per neighbor_search). Then
// P = (P_cond + P_cond^T) / sum, as scikit-learn does.
//
// Optimisation (scikit-learn's schedule). Student-t kernel w_ij = 1 / (1 +
// (y_i - y_j)^2), Z = sum_{i != j} w_ij. Gradient without the conventional
// factor 4 (as bhtsne and openTSNE write it):
//   g_i = alpha sum_j p_ij w_ij (y_i - y_j) - sum_j w_ij^2 (y_i - y_j) / Z
// with alpha = early_exaggeration for the first exaggeration_iterations, then
// 1. Updates: per-coordinate gains (+0.2 when the gradient's sign differs from
// the last update's, x0.8 otherwise, at least 0.01), momentum initial_momentum
// during exaggeration then final_momentum, update = momentum * update -
// learning_rate * gain * g; the embedding is re-centred on 0 after every step.
// The automatic learning rate max(n / early_exaggeration, 50) equals
// scikit-learn's learning_rate="auto" (which divides by 4 again because its
// gradient carries the factor 4).
//
// Barnes-Hut in 1-D: every iteration the points are sorted and a balanced
// binary tree is built over the sorted line (leaves of at most 32 consecutive
// points; each node knows its count, centre of mass and extent). The opening
// test is made once per leaf of query points: a node is summarised by its
// centre of mass for the whole leaf when extent < theta * (distance from the
// centre of mass to the leaf's nearest point), i.e. the classic per-point test
// for the leaf's worst-placed point; otherwise its children are visited, and
// leaves reached that way are summed exactly. O(n log n) per iteration; the
// inner loops run in single precision, vectorised, accumulated in double.
// theta = 0 sums every pair exactly.
//
// Initialisation: y_i ~ N(0, initial_scale^2) from a portable generator seeded
// by `seed` (SplitMix64 + Box-Muller), so a seed gives the same embedding on
// every platform with the same libm, for every max_threads (all reductions are
// done in a fixed order).
//
// Thread safety: re-entrant; a call uses up to options.max_threads threads.

#ifndef SPECINV_TSNE_H_
#define SPECINV_TSNE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/base/types.h"
#include "specinv/creative/neighbor_index.h"

namespace specinv {

enum class TsneAlgorithm {
  kAuto,       // exact for n <= kTsneAutoExactMaxPoints, Barnes-Hut above
  kExact,      // dense P over all pairs, O(n^2) per iteration
  kBarnesHut,  // sparse P over 3*perplexity neighbours, O(n log n) per iteration
};
// "auto", "exact", "barnes_hut"
absl::StatusOr<TsneAlgorithm> ParseTsneAlgorithm(std::string_view name);
std::string_view TsneAlgorithmName(TsneAlgorithm algorithm);

inline constexpr int kTsneAutoExactMaxPoints = 500;
// kExact is refused above this many points (dense n x n affinities).
inline constexpr int kTsneExactMaxPoints = 5000;
// Barnes-Hut keeps n * k neighbours (k = 3 perplexity + 1); larger requests
// are refused instead of exhausting memory.
inline constexpr int64_t kTsneMaxNeighborEntries = int64_t{50} * 1000 * 1000;
inline constexpr double kTsneDefaultPerplexity = 30.0;

struct TsneOptions {
  // (0, n - 1). Unset: min(30, (n - 1) / 3), so short inputs still work.
  std::optional<double> perplexity;
  // > 0 (and finite). Unset: max(n / early_exaggeration, 50).
  std::optional<double> learning_rate;
  int iterations = 1000;                // [250, 10000]
  uint64_t seed = 0;                    // initial embedding
  TsneAlgorithm algorithm = TsneAlgorithm::kAuto;
  double theta = 0.5;                   // Barnes-Hut accuracy, [0, 1]
  double early_exaggeration = 12.0;     // [1, 100]
  int exaggeration_iterations = 250;    // [0, iterations]
  double initial_momentum = 0.5;        // [0, 1)
  double final_momentum = 0.8;          // [0, 1)
  double initial_scale = 1e-4;          // standard deviation of the initial y, (0, 1e4]
  int max_threads = 1;                  // >= 1
  // Barnes-Hut's neighbour search (ExactNearestNeighbors).
  NeighborSearch neighbor_search = NeighborSearch::kAuto;
  // Polled every gradient iteration, every 64 points while exact affinities
  // are computed and every 4 points (and brute force: every block of <= 2^22
  // distances) of the k-NN search; a non-OK status stops the run and is returned. Called from
  // worker threads, one call at a time.
  std::function<absl::Status()> check;
};

// Checks that do not depend on the input size; errors name "tsne.<field>".
absl::Status ValidateTsneOptions(const TsneOptions& options);

struct TsneResult {
  std::vector<float> embedding;   // n coordinates, in input order
  TsneAlgorithm algorithm = TsneAlgorithm::kExact;  // the one used (never kAuto)
  double perplexity = 0.0;        // effective
  double learning_rate = 0.0;     // effective
  int iterations_run = 0;
  // KL(P || Q) of the final embedding (Barnes-Hut: over the sparse P, with the
  // tree's Z).
  double kl_divergence = 0.0;
};

// 1-D t-SNE of the columns of `points`. InvalidArgument for fewer than 2
// points, non-finite values, perplexity outside (0, n - 1), kExact above
// kTsneExactMaxPoints, a perplexity needing more than kTsneMaxNeighborEntries
// neighbour entries, or bad options.
absl::StatusOr<TsneResult> Tsne1d(const RealMatrix& points, const TsneOptions& options);

// k nearest neighbours of every column of `points` under the Euclidean
// distance, the point itself excluded. indices/squared_distances are n * k,
// row i holding point i's neighbours in increasing (distance, index) order,
// the distances summed in double precision (ColumnSquaredDistance).
// 1 <= k <= n - 1. Search (NeighborSearch): a k-d tree (NeighborIndex, exact
// ties included), or brute force, where the k + 8 best candidates by blocked
// Eigen products on centred data (float) are re-ranked in double: among
// exactly equal distances it may keep any of the tied points, and it misses a
// neighbour whose float estimate falls beyond those candidates (257 of the
// 455,000 entries of the 5,000 x 128 grain features at k = 91, where every
// miss is a slightly farther point; bench/reorder_bench.cc BM_ExactKnn).
struct NeighborLists {
  int k = 0;
  std::vector<int> indices;
  std::vector<double> squared_distances;
};
absl::StatusOr<NeighborLists> ExactNearestNeighbors(const RealMatrix& points, int k,
                                                    int max_threads = 1);
// As above, polling `check` (called from worker threads, one call at a time)
// every 4 points, and in brute force also once per block of at most 2^22
// candidate distances; its first non-OK status is returned.
absl::StatusOr<NeighborLists> ExactNearestNeighbors(const RealMatrix& points, int k, int max_threads,
                                                    const std::function<absl::Status()>& check,
                                                    NeighborSearch search = NeighborSearch::kAuto);

// Trustworthiness (Venna & Kaski 2001; sklearn.manifold.trustworthiness) of a
// 1-D embedding of the columns of `points`, in [0, 1]:
//   T(k) = 1 - 2 / (n k (2n - 3k - 1)) sum_i sum_{j in U_i} (r(i, j) - k)
// where U_i are the k nearest neighbours of i in the embedding that are not
// among its k nearest in the input, and r(i, j) is j's rank among i's input
// neighbours. Ties are broken by index. O(n^2 log n). 1 <= k < n / 2.
absl::StatusOr<double> Trustworthiness(const RealMatrix& points, std::span<const float> embedding,
                                       int k);

}  // namespace specinv

#endif  // SPECINV_TSNE_H_
