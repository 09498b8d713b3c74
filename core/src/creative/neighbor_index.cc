// Copyright specinv authors.

#include "specinv/creative/neighbor_index.h"

#include <nanoflann.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <queue>
#include <span>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

// The candidates' slack (see the header): relative to the k-th best, over
// 100 times the float sum's error bound (about (dims / 8 + 5) 2^-24); and
// absolute, over 1000 times the rounding of the tree's double lower bounds.
double RelativeSlack(Eigen::Index dims) { return 1e-6 * static_cast<double>(dims + 64); }
constexpr double kScaleSlack = 1e-12;

// nanoflann's dataset interface over the indexed columns: tree position i is
// column columns[i].
struct Columns {
  const float* data = nullptr;
  size_t dims = 0;
  std::vector<int> columns;

  const float* Point(size_t i) const { return data + static_cast<size_t>(columns[i]) * dims; }
  size_t kdtree_get_point_count() const { return columns.size(); }
  float kdtree_get_pt(size_t i, size_t d) const { return Point(i)[d]; }
  template <class BoundingBox>
  bool kdtree_get_bbox(BoundingBox&) const {
    return false;
  }
};

// The skip mask of the query running on this thread (null: none). The tree is
// shared between threads; the mask belongs to one query.
thread_local const char* t_skip = nullptr;

// Squared Euclidean distance in float, eight partial sums (vectorised), or
// +inf for a column the running query skips (the tree then never offers it,
// at the cost of a byte read instead of a distance). Only guides the search:
// relative error below dims * 2^-23 plus underflow below dims * FLT_MIN, both
// covered by the candidates' slack; the reported distances are
// ColumnSquaredDistance.
struct SearchDistance {
  using ElementType = float;
  using DistanceType = double;

  explicit SearchDistance(const Columns& source) : columns(source) {}

  double evalMetric(const float* a, uint32_t b, size_t size, double = -1.0) const {
    if (t_skip != nullptr && t_skip[columns.columns[b]] != 0) return std::numeric_limits<double>::infinity();
    const float* y = columns.Point(b);
    float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    size_t r = 0;
    for (; r + 8 <= size; r += 8) {
      for (size_t l = 0; l < 8; ++l) {
        const float d = a[r + l] - y[r + l];
        s[l] += d * d;
      }
    }
    for (; r < size; ++r) {
      const float d = a[r] - y[r];
      s[0] += d * d;
    }
    return static_cast<double>(((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7])));
  }

  template <typename U, typename V>
  double accum_dist(const U a, const V b, size_t) const {
    const double d = static_cast<double>(a) - static_cast<double>(b);
    return d * d;
  }

  const Columns& columns;
};

using Tree = nanoflann::KDTreeSingleIndexAdaptor<SearchDistance, Columns, -1, uint32_t>;

// nanoflann result set: every eligible point within the slack of the k-th
// best search distance so far (the tree only offers points below
// worstDist()).
class Candidates {
 public:
  Candidates(const Columns& columns, int k, int exclude, const char* skip, double relative_slack,
             double absolute_slack, std::vector<std::pair<double, int>>* out)
      : columns_(columns), k_(static_cast<size_t>(k)), exclude_(exclude), skip_(skip),
        relative_slack_(relative_slack), absolute_slack_(absolute_slack), out_(out) {
    out_->clear();
  }

  bool full() const { return best_.size() == k_; }
  double worstDist() const { return bound_; }

  bool addPoint(double distance, uint32_t position) {
    const int column = columns_.columns[position];
    if (column == exclude_ || (skip_ != nullptr && skip_[column] != 0) || !(distance < bound_)) return true;
    out_->emplace_back(distance, column);
    if (best_.size() < k_) {
      best_.push(distance);
    } else if (distance < best_.top()) {
      best_.pop();
      best_.push(distance);
    }
    if (best_.size() == k_) {
      bound_ = best_.top() * (1.0 + relative_slack_) + absolute_slack_;
      if (out_->size() >= 4 * k_ + 64) Drop();
    }
    return true;
  }

  // Candidates at or beyond the bound are no longer needed.
  void Drop() {
    std::erase_if(*out_, [this](const std::pair<double, int>& c) { return !(c.first < bound_); });
  }

 private:
  const Columns& columns_;
  const size_t k_;
  const int exclude_;
  const char* skip_;
  const double relative_slack_;
  const double absolute_slack_;
  std::vector<std::pair<double, int>>* out_;
  std::priority_queue<double> best_;  // the k smallest search distances
  double bound_ = std::numeric_limits<double>::infinity();
};

}  // namespace

NeighborSearch ResolveNeighborSearch(NeighborSearch search, Eigen::Index dims) {
  if (search != NeighborSearch::kAuto) return search;
  return dims <= kKdTreeMaxDims ? NeighborSearch::kKdTree : NeighborSearch::kBruteForce;
}

double ColumnSquaredDistance(const RealMatrix& points, Eigen::Index a, Eigen::Index b) {
  const float* x = points.data() + a * points.rows();
  const float* y = points.data() + b * points.rows();
  double s = 0.0;
  for (Eigen::Index r = 0; r < points.rows(); ++r) {
    const double diff = static_cast<double>(x[r]) - static_cast<double>(y[r]);
    s += diff * diff;
  }
  return s;
}

struct NeighborIndex::Impl {
  const RealMatrix* points = nullptr;
  Columns columns;
  double relative_slack = 0.0;
  double absolute_slack = 0.0;
  std::unique_ptr<Tree> tree;
};

NeighborIndex::NeighborIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NeighborIndex::NeighborIndex(NeighborIndex&&) noexcept = default;
NeighborIndex& NeighborIndex::operator=(NeighborIndex&&) noexcept = default;
NeighborIndex::~NeighborIndex() = default;

absl::StatusOr<NeighborIndex> NeighborIndex::Create(const RealMatrix& points, const NeighborIndexOptions& options) {
  if (points.rows() < 1) return InvalidField("points", "has 0 rows; need at least 1 dimension");
  if (points.cols() > std::numeric_limits<int>::max()) {
    return InvalidField("points", absl::StrFormat("has %d columns; at most %d supported", points.cols(),
                                                  std::numeric_limits<int>::max()));
  }
  if (auto s = CheckRange("leaf_size", options.leaf_size, 1, 1024); !s.ok()) return s;
  if (auto s = CheckFinite("points", std::span<const float>(points.data(), static_cast<size_t>(points.size())));
      !s.ok()) {
    return s;
  }
  const auto n = static_cast<int>(points.cols());
  auto impl = std::make_unique<Impl>();
  impl->points = &points;
  impl->columns.data = points.data();
  impl->columns.dims = static_cast<size_t>(points.rows());
  if (options.columns.empty()) {
    impl->columns.columns.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) impl->columns.columns[static_cast<size_t>(i)] = i;
  } else {
    std::vector<char> seen(static_cast<size_t>(n), 0);
    for (size_t i = 0; i < options.columns.size(); ++i) {
      const int c = options.columns[i];
      if (c < 0 || c >= n || seen[static_cast<size_t>(c)] != 0) {
        return InvalidField(absl::StrFormat("columns[%d]", i),
                            absl::StrFormat("must be a distinct column in [0, %d), got %d", n, c));
      }
      seen[static_cast<size_t>(c)] = 1;
    }
    impl->columns.columns = options.columns;
  }
  const double max_abs = points.size() > 0 ? static_cast<double>(points.cwiseAbs().maxCoeff()) : 0.0;
  impl->relative_slack = RelativeSlack(points.rows());
  impl->absolute_slack = kScaleSlack * static_cast<double>(points.rows()) * 4.0 * max_abs * max_abs +
                         static_cast<double>(points.rows()) * 4.0 * static_cast<double>(std::numeric_limits<float>::min());
  impl->tree = std::make_unique<Tree>(
      points.rows(), impl->columns,
      nanoflann::KDTreeSingleIndexAdaptorParams(static_cast<size_t>(options.leaf_size)));
  return NeighborIndex(std::move(impl));
}

int NeighborIndex::size() const { return static_cast<int>(impl_->columns.columns.size()); }

void NeighborIndex::Nearest(int query, int k, const char* skip, std::vector<std::pair<double, int>>* out) const {
  Candidates candidates(impl_->columns, k, query, skip, impl_->relative_slack, impl_->absolute_slack, out);
  if (!impl_->columns.columns.empty()) {
    const float* q = impl_->points->data() + static_cast<Eigen::Index>(query) * impl_->points->rows();
    t_skip = skip;
    impl_->tree->findNeighbors(candidates, q, nanoflann::SearchParams());
    t_skip = nullptr;
  }
  candidates.Drop();
  for (auto& [distance, column] : *out) distance = ColumnSquaredDistance(*impl_->points, query, column);
  const auto keep = std::min(out->size(), static_cast<size_t>(k));
  std::partial_sort(out->begin(), out->begin() + static_cast<std::ptrdiff_t>(keep), out->end());
  out->resize(keep);
}

}  // namespace specinv
