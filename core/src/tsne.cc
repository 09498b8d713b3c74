// Copyright specinv authors.

#include "specinv/tsne.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "absl/strings/str_format.h"
#include "specinv/parallel.h"
#include "specinv/validate.h"

namespace specinv {
namespace {

constexpr double kPerplexityTolerance = 1e-5;
constexpr int kPerplexitySteps = 200;
constexpr int kLeafSize = 8;
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
  const float* x = points.data() + a * points.rows();
  const float* y = points.data() + b * points.rows();
  double s = 0.0;
  for (Eigen::Index r = 0; r < points.rows(); ++r) {
    const double diff = static_cast<double>(x[r]) - static_cast<double>(y[r]);
    s += diff * diff;
  }
  return s;
}

// Symmetric sparse P in CSR form.
struct SparseP {
  std::vector<int> row_ptr;
  std::vector<int> col;
  std::vector<double> val;
};

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

// Balanced binary tree over the sorted coordinates.
struct Node {
  int lo = 0;
  int hi = 0;
  int left = -1;  // -1: leaf
  int right = -1;
  double com = 0.0;
  double extent = 0.0;
};

class LineTree {
 public:
  explicit LineTree(int n) {
    sorted_.resize(static_cast<size_t>(n));
    prefix_.resize(static_cast<size_t>(n) + 1);
    nodes_.reserve(static_cast<size_t>(4 * (n / kLeafSize + 1)));
  }

  // `order` lists the point indices sorted by y.
  void Build(const std::vector<double>& y, const std::vector<int>& order) {
    const size_t n = order.size();
    prefix_[0] = 0.0;
    for (size_t i = 0; i < n; ++i) {
      sorted_[i] = y[static_cast<size_t>(order[i])];
      prefix_[i + 1] = prefix_[i] + sorted_[i];
    }
    nodes_.clear();
    BuildNode(0, static_cast<int>(n));
  }

  // Repulsion on the point at sorted position `pos`: adds sum_j w_ij into *z
  // and sum_j w_ij^2 (y_i - y_j) into *force.
  void Repulsion(int pos, double theta, double* z, double* force) const {
    const double yi = sorted_[static_cast<size_t>(pos)];
    std::array<int, 256> stack{};
    int top = 0;
    stack[static_cast<size_t>(top++)] = 0;
    double zs = 0.0;
    double fs = 0.0;
    while (top > 0) {
      const Node& node = nodes_[static_cast<size_t>(stack[static_cast<size_t>(--top)])];
      if (node.left < 0) {
        for (int q = node.lo; q < node.hi; ++q) {
          if (q == pos) continue;
          const double d = yi - sorted_[static_cast<size_t>(q)];
          const double w = 1.0 / (1.0 + d * d);
          zs += w;
          fs += w * w * d;
        }
        continue;
      }
      const double d = yi - node.com;
      if (node.extent < theta * std::abs(d)) {
        const double w = 1.0 / (1.0 + d * d);
        const auto count = static_cast<double>(node.hi - node.lo);
        zs += count * w;
        fs += count * w * w * d;
      } else {
        stack[static_cast<size_t>(top++)] = node.right;
        stack[static_cast<size_t>(top++)] = node.left;
      }
    }
    *z = zs;
    *force = fs;
  }

 private:
  int BuildNode(int lo, int hi) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back(Node{});
    Node node;
    node.lo = lo;
    node.hi = hi;
    node.com = (prefix_[static_cast<size_t>(hi)] - prefix_[static_cast<size_t>(lo)]) / static_cast<double>(hi - lo);
    node.extent = sorted_[static_cast<size_t>(hi - 1)] - sorted_[static_cast<size_t>(lo)];
    if (hi - lo > kLeafSize) {
      const int mid = lo + (hi - lo) / 2;
      node.left = BuildNode(lo, mid);
      node.right = BuildNode(mid, hi);
    }
    nodes_[static_cast<size_t>(id)] = node;
    return id;
  }

  std::vector<double> sorted_;
  std::vector<double> prefix_;
  std::vector<Node> nodes_;
};

absl::Status CheckPoints(const RealMatrix& points, int min_points) {
  if (points.cols() < min_points) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "points has %d column(s); need at least %d points", points.cols(), min_points));
  }
  if (points.rows() < 1) return absl::InvalidArgumentError("points has 0 rows; need at least 1 dimension");
  if (points.cols() > std::numeric_limits<int>::max() / 64) {
    return absl::InvalidArgumentError(absl::StrFormat("points has %d columns; at most %d supported",
                                                      points.cols(), std::numeric_limits<int>::max() / 64));
  }
  return CheckFinite("points", std::span<const float>(points.data(), static_cast<size_t>(points.size())));
}

}  // namespace

absl::StatusOr<TsneAlgorithm> ParseTsneAlgorithm(std::string_view name) {
  if (name == "auto") return TsneAlgorithm::kAuto;
  if (name == "exact") return TsneAlgorithm::kExact;
  if (name == "barnes_hut") return TsneAlgorithm::kBarnesHut;
  return absl::InvalidArgumentError(absl::StrFormat(
      "tsne.algorithm must be one of \"auto\", \"exact\", \"barnes_hut\", got \"%s\"", name));
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
      return absl::InvalidArgumentError(
          absl::StrFormat("tsne.perplexity must be in (0, frames - 1), got %g", *o.perplexity));
    }
  }
  if (o.learning_rate.has_value()) {
    if (auto s = CheckRangeOpenLow("tsne.learning_rate", *o.learning_rate, 0.0, 1e9); !s.ok()) return s;
  }
  if (auto s = CheckRange("tsne.iterations", o.iterations, 250, 10000); !s.ok()) return s;
  if (o.algorithm != TsneAlgorithm::kAuto && o.algorithm != TsneAlgorithm::kExact &&
      o.algorithm != TsneAlgorithm::kBarnesHut) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tsne.algorithm must be auto, exact or barnes_hut, got enum value %d", static_cast<int>(o.algorithm)));
  }
  if (auto s = CheckRealRange("tsne.theta", o.theta, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRealRange("tsne.early_exaggeration", o.early_exaggeration, 1.0, 100.0); !s.ok()) return s;
  if (auto s = CheckRange("tsne.exaggeration_iterations", o.exaggeration_iterations, 0, o.iterations); !s.ok()) {
    return s;
  }
  if (!std::isfinite(o.initial_momentum) || o.initial_momentum < 0.0 || o.initial_momentum >= 1.0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tsne.initial_momentum must be in [0, 1), got %g", o.initial_momentum));
  }
  if (!std::isfinite(o.final_momentum) || o.final_momentum < 0.0 || o.final_momentum >= 1.0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tsne.final_momentum must be in [0, 1), got %g", o.final_momentum));
  }
  if (auto s = CheckRangeOpenLow("tsne.initial_scale", o.initial_scale, 0.0, 1e4); !s.ok()) return s;
  if (auto s = CheckRange("tsne.max_threads", o.max_threads, 1, 1024); !s.ok()) return s;
  return absl::OkStatus();
}

absl::StatusOr<NeighborLists> ExactNearestNeighbors(const RealMatrix& points, int k, int max_threads) {
  if (auto s = CheckPoints(points, 2); !s.ok()) return s;
  const auto n = static_cast<int>(points.cols());
  if (auto s = CheckRange("k", k, 1, n - 1); !s.ok()) return s;
  if (auto s = CheckRange("max_threads", max_threads, 1, 1024); !s.ok()) return s;

  // Centring keeps |x|^2 small, which keeps the Gram-based distances accurate.
  const Eigen::VectorXd mean = points.cast<double>().rowwise().mean();
  const RealMatrix centred = (points.cast<double>().colwise() - mean).cast<float>();
  std::vector<float> norms(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) norms[static_cast<size_t>(j)] = centred.col(j).squaredNorm();

  const int candidates = std::min(n - 1, k + 8);
  constexpr int64_t kBlockBudget = int64_t{1} << 22;  // floats of Gram block per thread
  const int block = static_cast<int>(std::clamp<int64_t>(kBlockBudget / n, 8, 256));
  const int blocks = (n + block - 1) / block;

  NeighborLists out;
  out.k = k;
  out.indices.resize(static_cast<size_t>(n) * static_cast<size_t>(k));
  out.squared_distances.resize(out.indices.size());
  ParallelFor(blocks, max_threads, [&](int64_t b0, int64_t b1) {
    RealMatrix gram(block, n);
    std::vector<std::pair<float, int>> approx(static_cast<size_t>(n));
    std::vector<std::pair<double, int>> exact(static_cast<size_t>(candidates));
    for (int64_t b = b0; b < b1; ++b) {
      const int start = static_cast<int>(b) * block;
      const int rows = std::min(block, n - start);
      gram.topRows(rows).noalias() = centred.middleCols(start, rows).transpose() * centred;
      for (int r = 0; r < rows; ++r) {
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
  return out;
}

absl::StatusOr<TsneResult> Tsne1d(const RealMatrix& points, const TsneOptions& options) {
  if (auto s = ValidateTsneOptions(options); !s.ok()) return s;
  if (auto s = CheckPoints(points, 2); !s.ok()) return s;
  const auto n = static_cast<int>(points.cols());
  const auto nd = static_cast<double>(n);
  const double perplexity = options.perplexity.value_or(std::min(kTsneDefaultPerplexity, (nd - 1.0) / 3.0));
  if (!(perplexity > 0.0 && perplexity < nd - 1.0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "tsne.perplexity must be in (0, %d) (frames - 1) for %d frames, got %g", n - 1, n, perplexity));
  }
  const double learning_rate = options.learning_rate.value_or(std::max(nd / options.early_exaggeration, 50.0));
  TsneAlgorithm algorithm = options.algorithm;
  if (algorithm == TsneAlgorithm::kAuto) {
    algorithm = n <= kTsneAutoExactMaxPoints ? TsneAlgorithm::kExact : TsneAlgorithm::kBarnesHut;
  }
  const int threads = options.max_threads;
  const double log_perplexity = std::log(perplexity);
  const auto un = static_cast<size_t>(n);

  // Affinities.
  std::vector<double> dense;  // exact: n x n, row-major
  SparseP sparse;
  if (algorithm == TsneAlgorithm::kExact) {
    dense.assign(un * un, 0.0);
    ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
      std::vector<double> d(un - 1);
      std::vector<double> p(un - 1);
      for (int64_t i = i0; i < i1; ++i) {
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
    auto nn = ExactNearestNeighbors(points, k, threads);
    if (!nn.ok()) return nn.status();
    std::vector<double> conditional(un * static_cast<size_t>(k));
    ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const size_t at = static_cast<size_t>(i) * static_cast<size_t>(k);
        ConditionalProbabilities(nn->squared_distances.data() + at, k, log_perplexity, conditional.data() + at);
      }
    });
    sparse = SymmetrizeKnn(*nn, conditional, n);
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
  std::vector<int> position(un);
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  LineTree tree(algorithm == TsneAlgorithm::kBarnesHut ? n : 1);

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
      for (int p = 0; p < n; ++p) position[static_cast<size_t>(order[static_cast<size_t>(p)])] = p;
      tree.Build(y, order);
      ParallelFor(n, threads, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) {
          const auto ui = static_cast<size_t>(i);
          const double yi = y[ui];
          double attr = 0.0;
          for (int e = sparse.row_ptr[ui]; e < sparse.row_ptr[ui + 1]; ++e) {
            const double d = yi - y[static_cast<size_t>(sparse.col[static_cast<size_t>(e)])];
            attr += sparse.val[static_cast<size_t>(e)] * d / (1.0 + d * d);
          }
          attractive[ui] = attr;
          tree.Repulsion(position[ui], options.theta, &z_parts[ui], &repulsive[ui]);
        }
      });
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
    if (options.check && it % 10 == 0) {
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
    return absl::InvalidArgumentError(absl::StrFormat(
        "embedding has %d values; must have one per point (%d)", embedding.size(), n));
  }
  if (auto s = CheckFinite("embedding", embedding); !s.ok()) return s;
  if (k < 1 || 2 * k >= n) {
    return absl::InvalidArgumentError(
        absl::StrFormat("k must be in [1, n / 2) = [1, %g) for %d points, got %d", n / 2.0, n, k));
  }
  const auto un = static_cast<size_t>(n);
  std::vector<std::pair<double, int>> by_input(un - 1);
  std::vector<std::pair<double, int>> by_embedding(un - 1);
  std::vector<int> rank(un, 0);
  double penalty = 0.0;
  for (int i = 0; i < n; ++i) {
    size_t m = 0;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      by_input[m] = {SquaredDistance(points, i, j), j};
      const double d = static_cast<double>(embedding[static_cast<size_t>(i)]) -
                       static_cast<double>(embedding[static_cast<size_t>(j)]);
      by_embedding[m] = {std::abs(d), j};
      ++m;
    }
    std::sort(by_input.begin(), by_input.end());
    for (size_t r = 0; r < by_input.size(); ++r) rank[static_cast<size_t>(by_input[r].second)] = static_cast<int>(r) + 1;
    std::partial_sort(by_embedding.begin(), by_embedding.begin() + k, by_embedding.end());
    for (int e = 0; e < k; ++e) {
      const int r = rank[static_cast<size_t>(by_embedding[static_cast<size_t>(e)].second)];
      if (r > k) penalty += static_cast<double>(r - k);
    }
  }
  const double nd = n;
  const double kd = k;
  return 1.0 - penalty * 2.0 / (nd * kd * (2.0 * nd - 3.0 * kd - 1.0));
}

}  // namespace specinv
