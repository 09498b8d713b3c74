// Copyright specinv authors.

#include "specinv/creative/tsne.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "absl/strings/str_format.h"
#include "specinv/base/check_poller.h"
#include "specinv/base/field_error.h"
#include "specinv/base/parallel.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

constexpr double kPerplexityTolerance = 1e-5;
constexpr int kPerplexitySteps = 200;
constexpr int kLeafSize = 32;
constexpr double kMinGain = 0.01;
constexpr double kTiny = 1e-300;

// SplitMix64 (Steele, Lea & Flood 2014): portable and fully specified.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double Uniform01(uint64_t* state) {  // [0, 1)
  return static_cast<double>(SplitMix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

double StandardNormal(uint64_t* state) {  // Box-Muller, one value per call
  const double u1 = 1.0 - Uniform01(state);  // (0, 1]
  const double u2 = Uniform01(state);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

// Fills p[0..m) with the Gaussian conditional probabilities over squared
// distances d[0..m) whose entropy is log_perplexity (nats).
void ConditionalProbabilities(const double* d, int m, double log_perplexity, double* p) {
  double dmin = std::numeric_limits<double>::infinity();
  double mean = 0.0;
  for (int j = 0; j < m; ++j) dmin = std::min(dmin, d[j]);
  for (int j = 0; j < m; ++j) mean += d[j] - dmin;
  mean /= static_cast<double>(m);
  double beta = mean > 0.0 ? 1.0 / mean : 1.0;
  double lo = 0.0;
  double hi = std::numeric_limits<double>::infinity();
  for (int step = 0; step < kPerplexitySteps; ++step) {
    double sum = 0.0;
    double weighted = 0.0;
    for (int j = 0; j < m; ++j) {
      const double shifted = d[j] - dmin;
      const double e = std::exp(-shifted * beta);
      p[j] = e;
      sum += e;
      weighted += shifted * e;
    }
    // sum >= 1: the nearest candidate contributes exp(0).
    const double entropy = std::log(sum) + beta * weighted / sum;
    const double diff = entropy - log_perplexity;
    for (int j = 0; j < m; ++j) p[j] /= sum;
    if (std::abs(diff) <= kPerplexityTolerance) break;
    if (diff > 0.0) {  // too flat: sharpen
      lo = beta;
      beta = std::isinf(hi) ? beta * 2.0 : 0.5 * (beta + hi);
    } else {
      hi = beta;
      beta = 0.5 * (beta + lo);
    }
  }
}

double SquaredDistance(const RealMatrix& points, Eigen::Index a, Eigen::Index b) {
  return ColumnSquaredDistance(points, a, b);
}

// Symmetric sparse P in CSR form.
struct SparseP {
  std::vector<int> row_ptr;
  std::vector<int> col;
  std::vector<double> val;
};

// Sizes `v` to `n` zeros in chunks of 2^20, polling between them: the first
// touch of hundreds of MB of fresh pages takes long enough to need it. False
// once the poller has stopped.
template <typename T>
bool ResizePolled(std::vector<T>* v, size_t n, CheckPoller* poller) {
  constexpr size_t kChunk = size_t{1} << 20;
  v->clear();
  v->reserve(n);
  while (v->size() < n) {
    if (!poller->Poll()) return false;
    v->resize(std::min(n, v->size() + kChunk));
  }
  return true;
}

// k neighbours of each of n points, zeroed, allocated in polled chunks;
// false when the poller stopped it.
bool AllocateLists(int n, int k, CheckPoller* poller, NeighborLists* out) {
  out->k = k;
  const size_t entries = static_cast<size_t>(n) * static_cast<size_t>(k);
  return ResizePolled(&out->indices, entries, poller) && ResizePolled(&out->squared_distances, entries, poller);
}

SparseP SymmetrizeKnn(const NeighborLists& nn, const std::vector<double>& conditional, int n) {
  const int k = nn.k;
  std::vector<int> count(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    count[static_cast<size_t>(i)] += k;
    for (int e = 0; e < k; ++e) ++count[static_cast<size_t>(nn.indices[static_cast<size_t>(i * k + e)])];
  }
  std::vector<int> ptr(static_cast<size_t>(n) + 1, 0);
  for (int i = 0; i < n; ++i) ptr[static_cast<size_t>(i) + 1] = ptr[static_cast<size_t>(i)] + count[static_cast<size_t>(i)];
  std::vector<std::pair<int, double>> entries(static_cast<size_t>(ptr.back()));
  std::vector<int> fill(ptr.begin(), ptr.end() - 1);
  for (int i = 0; i < n; ++i) {
    for (int e = 0; e < k; ++e) {
      const auto idx = static_cast<size_t>(i * k + e);
      const int j = nn.indices[idx];
      const double p = conditional[idx];
      entries[static_cast<size_t>(fill[static_cast<size_t>(i)]++)] = {j, p};
      entries[static_cast<size_t>(fill[static_cast<size_t>(j)]++)] = {i, p};
    }
  }
  SparseP out;
  out.row_ptr.assign(static_cast<size_t>(n) + 1, 0);
  out.col.reserve(entries.size());
  out.val.reserve(entries.size());
  double total = 0.0;
  for (int i = 0; i < n; ++i) {
    auto begin = entries.begin() + ptr[static_cast<size_t>(i)];
    auto end = entries.begin() + ptr[static_cast<size_t>(i) + 1];
    std::sort(begin, end, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = begin; it != end;) {
      const int j = it->first;
      double v = 0.0;
      for (; it != end && it->first == j; ++it) v += it->second;
      out.col.push_back(j);
      out.val.push_back(v);
      total += v;
    }
    out.row_ptr[static_cast<size_t>(i) + 1] = static_cast<int>(out.col.size());
  }
  const double inv = 1.0 / std::max(total, kTiny);
  for (double& v : out.val) v *= inv;
  return out;
}

// Balanced binary tree over the sorted coordinates (Barnes-Hut in 1-D).
struct Node {
  int lo = 0;     // sorted positions [lo, hi)
  int hi = 0;
  int left = -1;  // -1: leaf
  int right = -1;
  double com = 0.0;
  double extent = 0.0;
};

// Per-thread lists of one leaf's interactions.
struct LeafScratch {
  std::vector<float> far_com;
  std::vector<float> far_count;
  std::vector<float> w;
  std::vector<int> near;  // leaf node ids
};

class LineTree {
 public:
  explicit LineTree(int n) {
    sorted_.resize(static_cast<size_t>(n));
    prefix_.resize(static_cast<size_t>(n) + 1);
    nodes_.reserve(static_cast<size_t>(4 * (n / kLeafSize + 1)));
    leaves_.reserve(static_cast<size_t>(2 * (n / kLeafSize + 1)));
  }

  // `order` lists the point indices sorted by y.
  void Build(const std::vector<double>& y, const std::vector<int>& order) {
    const size_t n = order.size();
    prefix_[0] = 0.0;
    for (size_t i = 0; i < n; ++i) {
      const double v = y[static_cast<size_t>(order[i])];
      sorted_[i] = static_cast<float>(v);
      prefix_[i + 1] = prefix_[i] + v;
    }
    nodes_.clear();
    leaves_.clear();
    BuildNode(0, static_cast<int>(n));
  }

  int num_leaves() const { return static_cast<int>(leaves_.size()); }

  // Repulsion on every point of leaf `leaf` (0-based, left to right): for the
  // point at sorted position p, z[p] = sum_{j != i} w_ij and force[p] =
  // sum_j w_ij^2 (y_i - y_j). The opening test is made once for the leaf:
  // a node is summarised by its centre of mass when its extent is below
  // theta times the distance from that centre to the nearest point of the
  // leaf (the per-point Barnes-Hut test for the leaf's worst-placed point);
  // leaves that are not summarised are summed exactly. Float arithmetic,
  // vectorised; the point's own term (w = 1, force 0) is removed afterwards.
  void LeafRepulsion(int leaf, double theta, LeafScratch* scratch, double* z, double* force) const {
    const Node& target = nodes_[static_cast<size_t>(leaves_[static_cast<size_t>(leaf)])];
    const double lo = sorted_[static_cast<size_t>(target.lo)];
    const double hi = sorted_[static_cast<size_t>(target.hi - 1)];
    scratch->far_com.clear();
    scratch->far_count.clear();
    scratch->near.clear();
    std::array<int, 256> stack;
    int top = 0;
    stack[static_cast<size_t>(top++)] = 0;
    while (top > 0) {
      const int id = stack[static_cast<size_t>(--top)];
      const Node& node = nodes_[static_cast<size_t>(id)];
      if (node.left < 0) {
        scratch->near.push_back(id);
        continue;
      }
      const double distance = node.com < lo ? lo - node.com : (node.com > hi ? node.com - hi : 0.0);
      if (node.extent < theta * distance) {
        scratch->far_com.push_back(static_cast<float>(node.com));
        scratch->far_count.push_back(static_cast<float>(node.hi - node.lo));
      } else {
        stack[static_cast<size_t>(top++)] = node.right;
        stack[static_cast<size_t>(top++)] = node.left;
      }
    }
    const auto far = static_cast<Eigen::Index>(scratch->far_com.size());
    scratch->w.resize(std::max(static_cast<size_t>(far), static_cast<size_t>(kLeafSize)));
    const Eigen::Map<const Eigen::ArrayXf> com(scratch->far_com.data(), far);
    const Eigen::Map<const Eigen::ArrayXf> count(scratch->far_count.data(), far);
    for (int p = target.lo; p < target.hi; ++p) {
      const float yi = sorted_[static_cast<size_t>(p)];
      Eigen::Map<Eigen::ArrayXf> w(scratch->w.data(), far);
      w = (1.0f + (yi - com).square()).inverse();
      double zs = static_cast<double>((count * w).sum());
      double fs = static_cast<double>((count * w.square() * (yi - com)).sum());
      for (int id : scratch->near) {
        const Node& node = nodes_[static_cast<size_t>(id)];
        const Eigen::Map<const Eigen::ArrayXf> ys(sorted_.data() + node.lo, node.hi - node.lo);
        Eigen::Map<Eigen::ArrayXf> wn(scratch->w.data(), node.hi - node.lo);
        wn = (1.0f + (yi - ys).square()).inverse();
        // Reduce an expression, not the Map itself: Eigen starts a direct-access
        // reduction at the first aligned element, which would make the summation
        // order (and the last bits) depend on the buffer's address.
        zs += static_cast<double>((wn * 1.0f).sum());
        fs += static_cast<double>((wn.square() * (yi - ys)).sum());
      }
      z[p] = zs - 1.0;
      force[p] = fs;
    }
  }

 private:
  int BuildNode(int lo, int hi) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back(Node{});
    Node node;
    node.lo = lo;
    node.hi = hi;
    node.com = (prefix_[static_cast<size_t>(hi)] - prefix_[static_cast<size_t>(lo)]) / static_cast<double>(hi - lo);
    node.extent = static_cast<double>(sorted_[static_cast<size_t>(hi - 1)]) - static_cast<double>(sorted_[static_cast<size_t>(lo)]);
    if (hi - lo > kLeafSize) {
      const int mid = lo + (hi - lo) / 2;
      node.left = BuildNode(lo, mid);
      node.right = BuildNode(mid, hi);
    } else {
      leaves_.push_back(id);
    }
    nodes_[static_cast<size_t>(id)] = node;
    return id;
  }

  std::vector<float> sorted_;
  std::vector<double> prefix_;
  std::vector<Node> nodes_;
  std::vector<int> leaves_;
};

absl::Status CheckPoints(const RealMatrix& points, int min_points) {
  if (points.cols() < min_points) {
    return InvalidField("points",
                        absl::StrFormat("has %d column(s); need at least %d points", points.cols(), min_points));
  }
  if (points.rows() < 1) return InvalidField("points", "has 0 rows; need at least 1 dimension");
  if (points.cols() > std::numeric_limits<int>::max() / 64) {
    return InvalidField("points", absl::StrFormat("has %d columns; at most %d supported", points.cols(),
                                                  std::numeric_limits<int>::max() / 64));
  }
  return CheckFinite("points", std::span<const float>(points.data(), static_cast<size_t>(points.size())));
}

absl::Status CheckNeighborSearch(std::string_view field, NeighborSearch search) {
  if (search != NeighborSearch::kAuto && search != NeighborSearch::kBruteForce &&
      search != NeighborSearch::kKdTree) {
    return InvalidField(field, absl::StrFormat("must be auto, brute_force or kd_tree, got enum value %d",
                                               static_cast<int>(search)));
  }
  return absl::OkStatus();
}

// The k-d tree path of ExactNearestNeighbors (inputs already checked): one
// NeighborIndex query per point, `check` polled every 4 points.
absl::StatusOr<NeighborLists> KdTreeNearestNeighbors(const RealMatrix& points, int k, int max_threads,
                                                     const std::function<absl::Status()>& check) {
  const auto n = static_cast<int>(points.cols());
  auto index = NeighborIndex::Create(points);
  if (!index.ok()) return index.status();
  CheckPoller poller(check);
  NeighborLists out;
  if (!AllocateLists(n, k, &poller, &out)) return poller.status();
  ParallelFor(n, max_threads, [&](int64_t i0, int64_t i1) {
    std::vector<std::pair<double, int>> nearest;
    int since_poll = 0;
    for (int64_t i = i0; i < i1; ++i) {
      if (!poller.Tick(&since_poll, 4)) return;
      index->Nearest(static_cast<int>(i), k, nullptr, &nearest);
      const size_t at = static_cast<size_t>(i) * static_cast<size_t>(k);
      for (size_t e = 0; e < nearest.size(); ++e) {
        out.indices[at + e] = nearest[e].second;
        out.squared_distances[at + e] = nearest[e].first;
      }
    }
  });
  if (poller.stopped()) return poller.status();
  return out;
}

}  // namespace

absl::StatusOr<TsneAlgorithm> ParseTsneAlgorithm(std::string_view name) {
  if (name == "auto") return TsneAlgorithm::kAuto;
  if (name == "exact") return TsneAlgorithm::kExact;
  if (name == "barnes_hut") return TsneAlgorithm::kBarnesHut;
  return InvalidField("tsne.algorithm",
                      absl::StrFormat("must be one of \"auto\", \"exact\", \"barnes_hut\", got \"%s\"", name));
}

std::string_view TsneAlgorithmName(TsneAlgorithm algorithm) {
  switch (algorithm) {
    case TsneAlgorithm::kAuto: return "auto";
    case TsneAlgorithm::kExact: return "exact";
    case TsneAlgorithm::kBarnesHut: return "barnes_hut";
  }
  return "unknown";
}

absl::Status ValidateTsneOptions(const TsneOptions& o) {
  if (o.perplexity.has_value()) {
    if (!std::isfinite(*o.perplexity) || *o.perplexity <= 0.0) {
      return InvalidField("tsne.perplexity", absl::StrFormat("must be in (0, frames - 1), got %g", *o.perplexity));
    }
  }
  if (o.learning_rate.has_value()) {
    if (auto s = CheckRangeOpenLow("tsne.learning_rate", *o.learning_rate, 0.0, 1e9); !s.ok()) return s;
  }
  if (auto s = CheckRange("tsne.iterations", o.iterations, 250, 10000); !s.ok()) return s;
  if (o.algorithm != TsneAlgorithm::kAuto && o.algorithm != TsneAlgorithm::kExact &&
      o.algorithm != TsneAlgorithm::kBarnesHut) {
    return InvalidField("tsne.algorithm", absl::StrFormat("must be auto, exact or barnes_hut, got enum value %d",
                                                          static_cast<int>(o.algorithm)));
  }
  if (auto s = CheckRealRange("tsne.theta", o.theta, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRealRange("tsne.early_exaggeration", o.early_exaggeration, 1.0, 100.0); !s.ok()) return s;
  if (auto s = CheckRange("tsne.exaggeration_iterations", o.exaggeration_iterations, 0, o.iterations); !s.ok()) {
    return s;
  }
  if (!std::isfinite(o.initial_momentum) || o.initial_momentum < 0.0 || o.initial_momentum >= 1.0) {
    return InvalidField("tsne.initial_momentum", absl::StrFormat("must be in [0, 1), got %g", o.initial_momentum));
  }
  if (!std::isfinite(o.final_momentum) || o.final_momentum < 0.0 || o.final_momentum >= 1.0) {
    return InvalidField("tsne.final_momentum", absl::StrFormat("must be in [0, 1), got %g", o.final_momentum));
  }
  if (auto s = CheckRangeOpenLow("tsne.initial_scale", o.initial_scale, 0.0, 1e4); !s.ok()) return s;
  if (auto s = CheckRange("tsne.max_threads", o.max_threads, 1, 1024); !s.ok()) return s;
  if (auto s = CheckNeighborSearch("tsne.neighbor_search", o.neighbor_search); !s.ok()) return s;
  return absl::OkStatus();
}

absl::StatusOr<NeighborLists> ExactNearestNeighbors(const RealMatrix& points, int k, int max_threads) {
  return ExactNearestNeighbors(points, k, max_threads, std::function<absl::Status()>());
}

absl::StatusOr<NeighborLists> ExactNearestNeighbors(const RealMatrix& points, int k, int max_threads,
                                                    const std::function<absl::Status()>& check,
                                                    NeighborSearch search) {
  if (auto s = CheckPoints(points, 2); !s.ok()) return s;
  const auto n = static_cast<int>(points.cols());
  if (auto s = CheckRange("k", k, 1, n - 1); !s.ok()) return s;
  if (auto s = CheckRange("max_threads", max_threads, 1, 1024); !s.ok()) return s;
  if (auto s = CheckNeighborSearch("neighbor_search", search); !s.ok()) return s;
  if (check) {
    if (absl::Status s = check(); !s.ok()) return s;
  }
  if (ResolveNeighborSearch(search, points.rows()) == NeighborSearch::kKdTree) {
    return KdTreeNearestNeighbors(points, k, max_threads, check);
  }

  // Centring keeps |x|^2 small, which keeps the Gram-based distances accurate.
  const Eigen::VectorXd mean = points.cast<double>().rowwise().mean();
  const RealMatrix centred = (points.cast<double>().colwise() - mean).cast<float>();
  std::vector<float> norms(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) norms[static_cast<size_t>(j)] = centred.col(j).squaredNorm();

  const int candidates = std::min(n - 1, k + 8);
  constexpr int64_t kBlockBudget = int64_t{1} << 22;  // floats of Gram block per thread
  const int block = static_cast<int>(std::clamp<int64_t>(kBlockBudget / n, 8, 256));
  const int blocks = (n + block - 1) / block;

  // Polled per block (at most 2^22 Gram entries) and every 4 rows within it.
  CheckPoller poller(check);
  NeighborLists out;
  if (!AllocateLists(n, k, &poller, &out)) return poller.status();
  ParallelFor(blocks, max_threads, [&](int64_t b0, int64_t b1) {
    RealMatrix gram(block, n);
    std::vector<std::pair<float, int>> approx(static_cast<size_t>(n));
    std::vector<std::pair<double, int>> exact(static_cast<size_t>(candidates));
    int since_poll = 0;
    for (int64_t b = b0; b < b1; ++b) {
      if (!poller.Poll()) return;
      const int start = static_cast<int>(b) * block;
      const int rows = std::min(block, n - start);
      gram.topRows(rows).noalias() = centred.middleCols(start, rows).transpose() * centred;
      for (int r = 0; r < rows; ++r) {
        // A row selects among all n candidates (~1 ms at n = 150k).
        if (!poller.Tick(&since_poll, 4)) return;
        const int i = start + r;
        size_t m = 0;
        for (int j = 0; j < n; ++j) {
          if (j == i) continue;
          approx[m++] = {norms[static_cast<size_t>(i)] + norms[static_cast<size_t>(j)] - 2.0f * gram(r, j), j};
        }
        std::nth_element(approx.begin(), approx.begin() + (candidates - 1), approx.begin() + static_cast<int64_t>(m));
        for (int c = 0; c < candidates; ++c) {
          const int j = approx[static_cast<size_t>(c)].second;
          exact[static_cast<size_t>(c)] = {SquaredDistance(points, i, j), j};
        }
        std::sort(exact.begin(), exact.end());
        for (int e = 0; e < k; ++e) {
          const size_t at = static_cast<size_t>(i) * static_cast<size_t>(k) + static_cast<size_t>(e);
          out.indices[at] = exact[static_cast<size_t>(e)].second;
          out.squared_distances[at] = exact[static_cast<size_t>(e)].first;
        }
      }
    }
  });
  if (poller.stopped()) return poller.status();
  return out;
}

absl::StatusOr<TsneResult> Tsne1d(const RealMatrix& points, const TsneOptions& options) {
  if (auto s = ValidateTsneOptions(options); !s.ok()) return s;
  if (auto s = CheckPoints(points, 2); !s.ok()) return s;
  const auto n = static_cast<int>(points.cols());
  const auto nd = static_cast<double>(n);
  const double perplexity = options.perplexity.value_or(std::min(kTsneDefaultPerplexity, (nd - 1.0) / 3.0));
  if (!(perplexity > 0.0 && perplexity < nd - 1.0)) {
    return InvalidField("tsne.perplexity",
                        absl::StrFormat("must be in (0, %d) (frames - 1) for %d frames, got %g", n - 1, n, perplexity));
  }
  const double learning_rate = options.learning_rate.value_or(std::max(nd / options.early_exaggeration, 50.0));
  TsneAlgorithm algorithm = options.algorithm;
  if (algorithm == TsneAlgorithm::kAuto) {
    algorithm = n <= kTsneAutoExactMaxPoints ? TsneAlgorithm::kExact : TsneAlgorithm::kBarnesHut;
  }
  if (algorithm == TsneAlgorithm::kExact && n > kTsneExactMaxPoints) {
    return InvalidField(
        "tsne.algorithm",
        absl::StrFormat("exact supports at most %d frames (O(n^2) memory and time), got %d; use barnes_hut",
                        kTsneExactMaxPoints, n));
  }
  if (algorithm == TsneAlgorithm::kBarnesHut) {
    const int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(std::floor(3.0 * perplexity + 1.0)));
    if (k * n > kTsneMaxNeighborEntries) {
      return InvalidField("tsne.perplexity",
                          absl::StrFormat("%g needs %d neighbours per frame; at most %d neighbour entries in total, so "
                                          "perplexity must be below %g for %d frames",
                                          perplexity, k, kTsneMaxNeighborEntries,
                                          (static_cast<double>(kTsneMaxNeighborEntries / n) - 1.0) / 3.0, n));
    }
  }
  const int threads = options.max_threads;
  const double log_perplexity = std::log(perplexity);
  const auto un = static_cast<size_t>(n);

  // Affinities.
  std::vector<double> dense;  // exact: n x n, row-major
  SparseP sparse;
  if (algorithm == TsneAlgorithm::kExact) {
    dense.assign(un * un, 0.0);
    CheckPoller poller(options.check);  // every 64 rows of O(n) work each
    ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
      std::vector<double> d(un - 1);
      std::vector<double> p(un - 1);
      int since = 0;
      for (int64_t i = i0; i < i1; ++i) {
        if (!poller.Tick(&since, 64)) return;
        size_t m = 0;
        for (int64_t j = 0; j < n; ++j) {
          if (j != i) d[m++] = SquaredDistance(points, i, j);
        }
        ConditionalProbabilities(d.data(), n - 1, log_perplexity, p.data());
        m = 0;
        for (int64_t j = 0; j < n; ++j) {
          if (j != i) dense[static_cast<size_t>(i) * un + static_cast<size_t>(j)] = p[m++];
        }
      }
    });
    if (poller.stopped()) return poller.status();
    double total = 0.0;
    for (size_t i = 0; i < un; ++i) {
      for (size_t j = i + 1; j < un; ++j) {
        const double v = dense[i * un + j] + dense[j * un + i];
        dense[i * un + j] = v;
        dense[j * un + i] = v;
        total += 2.0 * v;
      }
    }
    const double inv = 1.0 / std::max(total, kTiny);
    for (double& v : dense) v *= inv;
  } else {
    const int k = std::min(n - 1, static_cast<int>(std::floor(3.0 * perplexity + 1.0)));
    auto nn = ExactNearestNeighbors(points, k, threads, options.check, options.neighbor_search);
    if (!nn.ok()) return nn.status();
    CheckPoller poller(options.check);  // every 1024 rows of O(k log) work each
    std::vector<double> conditional;
    if (!ResizePolled(&conditional, un * static_cast<size_t>(k), &poller)) return poller.status();
    ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
      int since = 0;
      for (int64_t i = i0; i < i1; ++i) {
        if (!poller.Tick(&since, 1024)) return;
        const size_t at = static_cast<size_t>(i) * static_cast<size_t>(k);
        ConditionalProbabilities(nn->squared_distances.data() + at, k, log_perplexity, conditional.data() + at);
      }
    });
    if (poller.stopped()) return poller.status();
    sparse = SymmetrizeKnn(*nn, conditional, n);
    if (options.check) {
      if (absl::Status s = options.check(); !s.ok()) return s;
    }
  }

  // Initial embedding.
  std::vector<double> y(un);
  uint64_t rng = options.seed;
  for (double& v : y) v = options.initial_scale * StandardNormal(&rng);

  std::vector<double> update(un, 0.0);
  std::vector<double> gains(un, 1.0);
  std::vector<double> attractive(un, 0.0);
  std::vector<double> repulsive(un, 0.0);
  std::vector<double> z_parts(un, 0.0);
  std::vector<int> order(un);
  std::vector<double> sorted_z(un, 0.0);
  std::vector<double> sorted_force(un, 0.0);
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  LineTree tree(algorithm == TsneAlgorithm::kBarnesHut ? n : 1);
  // Barnes-Hut scratch: P in float and the gathered differences, one slot per entry.
  const std::vector<float> p_float(sparse.val.begin(), sparse.val.end());
  std::vector<float> gathered(sparse.val.size());

  auto compute_forces = [&]() -> double {
    if (algorithm == TsneAlgorithm::kExact) {
      ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const double yi = y[static_cast<size_t>(i)];
          const double* prow = dense.data() + static_cast<size_t>(i) * un;
          double attr = 0.0;
          double rep = 0.0;
          double z = 0.0;
          for (int64_t j = 0; j < n; ++j) {
            if (j == i) continue;
            const double d = yi - y[static_cast<size_t>(j)];
            const double w = 1.0 / (1.0 + d * d);
            attr += prow[j] * w * d;
            rep += w * w * d;
            z += w;
          }
          attractive[static_cast<size_t>(i)] = attr;
          repulsive[static_cast<size_t>(i)] = rep;
          z_parts[static_cast<size_t>(i)] = z;
        }
      });
    } else {
      std::sort(order.begin(), order.end(), [&](int a, int b) {
        const double ya = y[static_cast<size_t>(a)];
        const double yb = y[static_cast<size_t>(b)];
        return ya < yb || (ya == yb && a < b);
      });
      tree.Build(y, order);
      ParallelFor(tree.num_leaves(), threads, [&](int64_t l0, int64_t l1) {
        LeafScratch scratch;
        for (int64_t leaf = l0; leaf < l1; ++leaf) {
          tree.LeafRepulsion(static_cast<int>(leaf), options.theta, &scratch, sorted_z.data(), sorted_force.data());
        }
      });
      ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const auto ui = static_cast<size_t>(i);
          const double yi = y[ui];
          // Attraction over the row's neighbours: gather, then one vectorised pass.
          const int begin = sparse.row_ptr[ui];
          const int count = sparse.row_ptr[ui + 1] - begin;
          float* g = gathered.data() + begin;
          for (int e = 0; e < count; ++e) {
            g[e] = static_cast<float>(yi - y[static_cast<size_t>(sparse.col[static_cast<size_t>(begin + e)])]);
          }
          const Eigen::Map<const Eigen::ArrayXf> d(g, count);
          const Eigen::Map<const Eigen::ArrayXf> p(p_float.data() + begin, count);
          attractive[ui] = static_cast<double>((p * d / (1.0f + d.square())).sum());
        }
      });
      for (int p = 0; p < n; ++p) {
        const auto i = static_cast<size_t>(order[static_cast<size_t>(p)]);
        z_parts[i] = sorted_z[static_cast<size_t>(p)];
        repulsive[i] = sorted_force[static_cast<size_t>(p)];
      }
    }
    double z = 0.0;
    for (double v : z_parts) z += v;
    return std::max(z, kTiny);
  };

  TsneResult result;
  result.algorithm = algorithm;
  result.perplexity = perplexity;
  result.learning_rate = learning_rate;
  for (int it = 0; it < options.iterations; ++it) {
    if (options.check) {
      if (auto s = options.check(); !s.ok()) return s;
    }
    const bool exploring = it < options.exaggeration_iterations;
    const double alpha = exploring ? options.early_exaggeration : 1.0;
    const double momentum = exploring ? options.initial_momentum : options.final_momentum;
    const double z = compute_forces();
    const double inv_z = 1.0 / z;
    double mean = 0.0;
    for (size_t i = 0; i < un; ++i) {
      const double g = alpha * attractive[i] - repulsive[i] * inv_z;
      double& gain = gains[i];
      gain = (update[i] * g < 0.0) ? gain + 0.2 : gain * 0.8;
      gain = std::max(gain, kMinGain);
      update[i] = momentum * update[i] - learning_rate * gain * g;
      y[i] += update[i];
      mean += y[i];
    }
    mean /= nd;
    for (double& v : y) v -= mean;
    result.iterations_run = it + 1;
  }

  // KL divergence of the final embedding.
  const double z = compute_forces();
  double kl = 0.0;
  if (algorithm == TsneAlgorithm::kExact) {
    for (size_t i = 0; i < un; ++i) {
      for (size_t j = 0; j < un; ++j) {
        const double p = dense[i * un + j];
        if (i == j || p <= 0.0) continue;
        const double d = y[i] - y[j];
        const double q = 1.0 / (1.0 + d * d) / z;
        kl += p * std::log(std::max(p, kTiny) / std::max(q, kTiny));
      }
    }
  } else {
    for (size_t i = 0; i < un; ++i) {
      for (int e = sparse.row_ptr[i]; e < sparse.row_ptr[i + 1]; ++e) {
        const double p = sparse.val[static_cast<size_t>(e)];
        if (p <= 0.0) continue;
        const double d = y[i] - y[static_cast<size_t>(sparse.col[static_cast<size_t>(e)])];
        const double q = 1.0 / (1.0 + d * d) / z;
        kl += p * std::log(std::max(p, kTiny) / std::max(q, kTiny));
      }
    }
  }
  result.kl_divergence = kl;
  result.embedding.resize(un);
  for (size_t i = 0; i < un; ++i) result.embedding[i] = static_cast<float>(y[i]);
  return result;
}

absl::StatusOr<double> Trustworthiness(const RealMatrix& points, std::span<const float> embedding, int k) {
  if (auto s = CheckPoints(points, 3); !s.ok()) return s;
  const auto n = static_cast<int>(points.cols());
  if (static_cast<int64_t>(embedding.size()) != n) {
    return InvalidField("embedding",
                        absl::StrFormat("has %d values; must have one per point (%d)", embedding.size(), n));
  }
  if (auto s = CheckFinite("embedding", embedding); !s.ok()) return s;
  if (k < 1 || 2 * k >= n) {
    return InvalidField("k", absl::StrFormat("must be in [1, n / 2) = [1, %g) for %d points, got %d", n / 2.0, n, k));
  }
  const auto un = static_cast<size_t>(n);
  // Embedding neighbours: expand left and right from each point's place on the
  // sorted line, O(k) per point.
  std::vector<int> sorted(un);
  for (int i = 0; i < n; ++i) sorted[static_cast<size_t>(i)] = i;
  auto e = [&](int i) { return static_cast<double>(embedding[static_cast<size_t>(i)]); };
  std::sort(sorted.begin(), sorted.end(), [&](int a, int b) { return e(a) < e(b) || (e(a) == e(b) && a < b); });
  std::vector<int> place(un);
  for (int p = 0; p < n; ++p) place[static_cast<size_t>(sorted[static_cast<size_t>(p)])] = p;
  std::vector<double> distance(un);
  std::vector<int> near(static_cast<size_t>(k));
  double penalty = 0.0;
  for (int i = 0; i < n; ++i) {
    int left = place[static_cast<size_t>(i)] - 1;
    int right = place[static_cast<size_t>(i)] + 1;
    for (int c = 0; c < k; ++c) {
      bool take_left = false;
      if (left < 0) {
        take_left = false;
      } else if (right >= n) {
        take_left = true;
      } else {
        const int a = sorted[static_cast<size_t>(left)];
        const int b = sorted[static_cast<size_t>(right)];
        const double da = std::abs(e(i) - e(a));
        const double db = std::abs(e(i) - e(b));
        take_left = da < db || (da == db && a < b);
      }
      near[static_cast<size_t>(c)] = take_left ? sorted[static_cast<size_t>(left--)] : sorted[static_cast<size_t>(right++)];
    }
    // Input-space rank of each embedding neighbour: 1 + the points closer to i
    // (ties by index).
    for (int j = 0; j < n; ++j) distance[static_cast<size_t>(j)] = j == i ? -1.0 : SquaredDistance(points, i, j);
    for (int j : near) {
      const double dj = distance[static_cast<size_t>(j)];
      int rank = 1;
      for (int l = 0; l < n; ++l) {
        const double dl = distance[static_cast<size_t>(l)];
        if (l != i && (dl < dj || (dl == dj && l < j))) ++rank;
      }
      if (rank > k) penalty += static_cast<double>(rank - k);
    }
  }
  const double nd = n;
  const double kd = k;
  return 1.0 - penalty * 2.0 / (nd * kd * (2.0 * nd - 3.0 * kd - 1.0));
}

}  // namespace specinv
