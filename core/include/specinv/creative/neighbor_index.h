// Copyright specinv authors.
//
// Exact Euclidean nearest neighbours among columns of a (dims, n) matrix,
// through a k-d tree (nanoflann's KDTreeSingleIndexAdaptor) over a chosen
// subset of the columns.
//
// Exactness. The tree searches with squared distances summed in float (eight
// vectorised partial sums, relative error below ~(dims / 8 + 5) 2^-24) and
// keeps every candidate within a slack of the current k-th best: relative
// 1e-6 (dims + 64), over 100 times that error, plus an absolute 1e-12 of the
// data's squared-distance scale dims (2 max|x|)^2 and dims 4 FLT_MIN (the
// rounding of the tree's double lower bounds, float underflow). The
// candidates' squared distances are then recomputed in one sequential double
// sum (ColumnSquaredDistance, the sum of the brute-force paths of tsne.h and
// reorder.h) and ordered by (distance, column index). So Nearest returns
// exactly the k first columns of that order, ties included, as a brute-force
// scan would.
//
// Cost: building O(m dims log m) for m indexed columns; a query between
// O(dims log m) (low intrinsic dimension) and O(m dims) (the tree cannot
// prune: many dimensions of independent noise), each evaluated distance
// costing ~dims flops. Memory: O(m) indices plus the tree's nodes; the matrix
// itself is not copied.
//
// Thread safety: after Create, Nearest is const and may be called from many
// threads at once. The matrix must outlive the index and stay unchanged.

#ifndef SPECINV_NEIGHBOR_INDEX_H_
#define SPECINV_NEIGHBOR_INDEX_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/base/types.h"

namespace specinv {

// How the exact nearest-neighbour searches of tsne.h (ExactNearestNeighbors)
// and reorder.h (NearestNeighborWalk) find their candidates. The tree's
// answers are exact, ties by index; brute force's lists may differ among
// tied or nearly tied neighbours (see ExactNearestNeighbors).
enum class NeighborSearch {
  kAuto,        // ExactNearestNeighbors: kKdTree up to kKdTreeMaxDims
                // dimensions, kBruteForce above; NearestNeighborWalk: kKdTree
  kBruteForce,  // blocked Eigen products over all pairs, O(n^2 dims)
  kKdTree,      // NeighborIndex
};

// Where kAuto stops using the tree for k-nearest-neighbour lists. Measured on
// one thread, 5,000 points, k = 91 (bench/reorder_bench.cc BM_KnnMel,
// BM_KnnNoise; CPU time): on mel frame features (the input Reorder gives
// t-SNE) the tree takes 0.45x the brute-force time at 16 bands, 0.55x at 32,
// 0.80x at 64, 1.26x at 128 and 1.75x at 256; on i.i.d. Gaussian points
// (nothing for a tree to exploit) 0.24x at 2 dimensions, 0.95x at 8 and
// 1.2-2.1x from 16 to 128. Brute force is one matrix product whose cost grows
// slowly with the dimension, while a k-d tree prunes less and less once the
// dimension exceeds the data's intrinsic one. The walk needs one nearest
// unvisited frame per step, where the tree won at every dimension measured
// (BM_WalkMel, BM_WalkNoise: 6-17x faster on mel features up to 256 bands,
// 1.7x on 128-dimensional noise).
inline constexpr int kKdTreeMaxDims = 64;

// kAuto resolved for ExactNearestNeighbors over `dims` dimensions; other
// values unchanged.
NeighborSearch ResolveNeighborSearch(NeighborSearch search, Eigen::Index dims);

struct NeighborIndexOptions {
  // Columns indexed; empty: all columns of the matrix. Each in [0, n), no
  // repeats.
  std::vector<int> columns;
  int leaf_size = 16;  // points per tree leaf, [1, 1024]
};

class NeighborIndex {
 public:
  // InvalidArgument for a matrix with no rows, more than 2^31 - 1 columns,
  // non-finite values, bad columns or leaf_size. Keeps a pointer to `points`.
  static absl::StatusOr<NeighborIndex> Create(const RealMatrix& points, const NeighborIndexOptions& options = {});

  NeighborIndex(NeighborIndex&&) noexcept;
  NeighborIndex& operator=(NeighborIndex&&) noexcept;
  ~NeighborIndex();

  // Number of indexed columns.
  int size() const;

  // The k indexed columns nearest to column `query` of the matrix (itself
  // excluded), skipping every column c with skip[c] != 0 when `skip` is not
  // null (n entries): (squared distance, column) pairs in increasing
  // (distance, column) order, fewer than k when fewer columns are eligible.
  // k >= 1. `out` is overwritten; its capacity is reused.
  void Nearest(int query, int k, const char* skip, std::vector<std::pair<double, int>>* out) const;

 private:
  struct Impl;
  explicit NeighborIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Squared Euclidean distance between columns a and b, accumulated in double
// in index order (the reference sum of the exact neighbour searches).
double ColumnSquaredDistance(const RealMatrix& points, Eigen::Index a, Eigen::Index b);

}  // namespace specinv

#endif  // SPECINV_NEIGHBOR_INDEX_H_
