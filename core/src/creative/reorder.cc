// Copyright specinv authors.

#include "specinv/creative/reorder.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/check_poller.h"
#include "specinv/base/validate.h"
#include "specinv/creative/neighbor_index.h"

namespace specinv {
namespace {

constexpr int64_t kMaxLength = int64_t{1} << 32;
// Above this many dimensions and points, PCA uses power iteration instead of
// a dense eigendecomposition.
constexpr Eigen::Index kDenseEigenLimit = 2048;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, range), unbiased (rejection of the short first interval).
uint64_t Bounded(uint64_t* state, uint64_t range) {
  const uint64_t threshold = (0 - range) % range;
  for (;;) {
    const uint64_t r = SplitMix64(state);
    if (r >= threshold) return r % range;
  }
}

// The extractor's Mel(), from an STFT already computed, in blocks of frames
// (each column is independent, so the result does not depend on the block
// size) with `check` polled between blocks.
absl::StatusOr<RealMatrix> MelFromSpectrogram(const FeatureExtractor& extractor, const ComplexMatrix& spec,
                                              const std::function<absl::Status()>& check) {
  const FeatureConfig& config = extractor.config();
  constexpr Eigen::Index kBlockFrames = 4096;
  const Eigen::Index frames = spec.cols();
  RealMatrix mel(config.n_mels, frames);
  RealMatrix block_mel;
  RealMatrix mag;
  const auto eps = static_cast<float>(config.magnitude_epsilon);
  for (Eigen::Index start = 0; start < frames; start += kBlockFrames) {
    if (check) {
      if (absl::Status s = check(); !s.ok()) return s;
    }
    const Eigen::Index count = std::min(kBlockFrames, frames - start);
    const auto block = spec.middleCols(start, count);
    if (config.power == 2.0 && config.magnitude_epsilon == 0.0) {
      mag = block.cwiseAbs2();
      extractor.filterbank().Apply(mag, &block_mel);
    } else {
      mag.resize(spec.rows(), count);
      for (Eigen::Index i = 0; i < mag.size(); ++i) {
        const std::complex<float> c = block.data()[i];
        mag.data()[i] = std::sqrt(c.real() * c.real() + c.imag() * c.imag() + eps);
      }
      block_mel = extractor.MagnitudeToMel(mag);
    }
    mel.middleCols(start, count) = block_mel;
  }
  return mel;
}

// Leading eigenvector of a symmetric positive semi-definite operator by power
// iteration from a fixed start vector.
template <typename Apply>
Eigen::VectorXd PowerIteration(Eigen::Index dim, const Apply& apply) {
  Eigen::VectorXd v(dim);
  for (Eigen::Index i = 0; i < dim; ++i) v(i) = 1.0 + 1e-3 * static_cast<double>(i % 7);
  v.normalize();
  for (int it = 0; it < 2000; ++it) {
    Eigen::VectorXd w = apply(v);
    const double norm = w.norm();
    if (norm == 0.0) return v;
    w /= norm;
    const double change = (w - v).norm();
    v = w;
    if (change < 1e-12) break;
  }
  return v;
}

void FlipForSignRule(Eigen::VectorXd* values, const Eigen::VectorXd& direction) {
  const Eigen::Index n = values->size();
  const double first = (*values)(0);
  const double last = (*values)(n - 1);
  bool flip = false;
  if (first != last) {
    flip = first > last;
  } else if (first != 0.0) {
    flip = first > 0.0;
  } else if (direction.size() > 0) {
    Eigen::Index at = 0;
    direction.cwiseAbs().maxCoeff(&at);
    flip = direction(at) < 0.0;
  }
  if (flip) *values = -*values;
}

absl::Status TooFewFrames(int64_t frames, const FeatureExtractor& extractor, size_t samples) {
  return InvalidField(
      "audio", absl::StrFormat(
                   "gives %d STFT frame(s) (%d samples, n_fft=%d, hop_length=%d); reordering needs at least 2 frames",
                   frames, samples, extractor.config().stft.n_fft, extractor.config().stft.hop_length));
}

}  // namespace

absl::StatusOr<ReorderStrategy> ParseReorderStrategy(std::string_view name) {
  if (name == "pca") return ReorderStrategy::kPca;
  if (name == "tsne") return ReorderStrategy::kTsne;
  if (name == "reverse_time") return ReorderStrategy::kReverseTime;
  if (name == "reverse_frequency") return ReorderStrategy::kReverseFrequency;
  if (name == "shuffle") return ReorderStrategy::kShuffle;
  if (name == "sort_by") return ReorderStrategy::kSortBy;
  if (name == "nearest_neighbor_walk") return ReorderStrategy::kNearestNeighborWalk;
  if (name == "custom") return ReorderStrategy::kCustom;
  return InvalidField(
      "strategy",
      absl::StrFormat("must be one of \"pca\", \"tsne\", \"reverse_time\", \"reverse_frequency\", \"shuffle\", "
                      "\"sort_by\", \"nearest_neighbor_walk\", \"custom\", got \"%s\"",
                      name));
}

std::string_view ReorderStrategyName(ReorderStrategy strategy) {
  switch (strategy) {
    case ReorderStrategy::kPca: return "pca";
    case ReorderStrategy::kTsne: return "tsne";
    case ReorderStrategy::kReverseTime: return "reverse_time";
    case ReorderStrategy::kReverseFrequency: return "reverse_frequency";
    case ReorderStrategy::kShuffle: return "shuffle";
    case ReorderStrategy::kSortBy: return "sort_by";
    case ReorderStrategy::kNearestNeighborWalk: return "nearest_neighbor_walk";
    case ReorderStrategy::kCustom: return "custom";
  }
  return "unknown";
}

absl::StatusOr<SortKey> ParseSortKey(std::string_view name) {
  if (name == "rms") return SortKey::kRms;
  if (name == "spectral_centroid") return SortKey::kSpectralCentroid;
  if (name == "spectral_flatness") return SortKey::kSpectralFlatness;
  return InvalidField(
      "sort_key",
      absl::StrFormat("must be one of \"rms\", \"spectral_centroid\", \"spectral_flatness\", got \"%s\"", name));
}

std::string_view SortKeyName(SortKey key) {
  switch (key) {
    case SortKey::kRms: return "rms";
    case SortKey::kSpectralCentroid: return "spectral_centroid";
    case SortKey::kSpectralFlatness: return "spectral_flatness";
  }
  return "unknown";
}

absl::Status ValidateReorderOptions(const ReorderOptions& o) {
  const int strategy = static_cast<int>(o.strategy);
  if (strategy < static_cast<int>(ReorderStrategy::kPca) || strategy > static_cast<int>(ReorderStrategy::kCustom)) {
    return InvalidField("strategy",
                        absl::StrFormat("must be one of pca, tsne, reverse_time, reverse_frequency, shuffle, sort_by, "
                                        "nearest_neighbor_walk, custom; got enum value %d",
                                        strategy));
  }
  if (auto s = ValidateFrameFeatureOptions(o.features); !s.ok()) return s;
  if (o.strategy == ReorderStrategy::kTsne) {
    if (auto s = ValidateTsneOptions(o.tsne); !s.ok()) return s;
  }
  if (o.strategy == ReorderStrategy::kSortBy) {
    if (!o.sort_key.has_value()) {
      return InvalidField("sort_key",
                          "is required when strategy is sort_by (rms, spectral_centroid or spectral_flatness)");
    }
    const int key = static_cast<int>(*o.sort_key);
    if (key < static_cast<int>(SortKey::kRms) || key > static_cast<int>(SortKey::kSpectralFlatness)) {
      return InvalidField(
          "sort_key",
          absl::StrFormat("must be one of rms, spectral_centroid, spectral_flatness; got enum value %d", key));
    }
  }
  if (o.strategy == ReorderStrategy::kNearestNeighborWalk && o.start_frame < 0) {
    return InvalidField("start_frame", absl::StrFormat("must be in [0, frames), got %d", o.start_frame));
  }
  if (o.strategy == ReorderStrategy::kCustom && o.custom_order.empty()) {
    return InvalidField("custom_order", "is empty; strategy custom needs at least 1 frame index, each in [0, frames)");
  }
  if (o.length.has_value()) {
    if (auto s = CheckRange("length", *o.length, 1, kMaxLength); !s.ok()) return s;
  }
  if (auto s = CheckRange("max_threads", o.max_threads, 1, 1024); !s.ok()) return s;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> PcaProjection(const RealMatrix& features) {
  const Eigen::Index dims = features.rows();
  const Eigen::Index n = features.cols();
  if (n < 2) {
    return InvalidField("features", absl::StrFormat("has %d frame(s); PCA needs at least 2", n));
  }
  if (dims < 1) return InvalidField("features", "has 0 rows; need at least 1 dimension");
  if (auto s = CheckFinite("features", std::span<const float>(features.data(), static_cast<size_t>(features.size())));
      !s.ok()) {
    return s;
  }
  Eigen::MatrixXd centred = features.cast<double>();
  const Eigen::VectorXd mean = centred.rowwise().mean();
  centred.colwise() -= mean;

  Eigen::VectorXd direction;  // unit vector in feature space
  if (std::min(dims, n) <= kDenseEigenLimit) {
    if (dims <= n) {
      Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(dims, dims);
      cov.selfadjointView<Eigen::Lower>().rankUpdate(centred);
      cov /= static_cast<double>(n - 1);
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov.selfadjointView<Eigen::Lower>());
      direction = solver.eigenvectors().col(dims - 1);
    } else {
      Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
      gram.selfadjointView<Eigen::Lower>().rankUpdate(centred.transpose());
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram.selfadjointView<Eigen::Lower>());
      direction = centred * solver.eigenvectors().col(n - 1);
      const double norm = direction.norm();
      if (norm > 0.0) direction /= norm;
    }
  } else {
    direction = PowerIteration(dims, [&](const Eigen::VectorXd& v) -> Eigen::VectorXd {
      return centred * (centred.transpose() * v);
    });
  }
  Eigen::VectorXd values = centred.transpose() * direction;
  FlipForSignRule(&values, direction);
  std::vector<float> out(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) out[static_cast<size_t>(i)] = static_cast<float>(values(i)) + 0.0f;
  return out;
}

std::vector<int> OrderByValue(std::span<const float> values, bool descending) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    const float va = values[static_cast<size_t>(a)];
    const float vb = values[static_cast<size_t>(b)];
    if (va != vb) return descending ? va > vb : va < vb;
    return a < b;
  });
  return order;
}

std::vector<int> ReverseOrder(int n) {
  std::vector<int> order(static_cast<size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = n - 1 - i;
  return order;
}

std::vector<int> ShuffleOrder(int n, uint64_t seed) {
  std::vector<int> order(static_cast<size_t>(std::max(n, 0)));
  std::iota(order.begin(), order.end(), 0);
  uint64_t state = seed;
  for (int i = n - 1; i > 0; --i) {
    const auto j = static_cast<size_t>(Bounded(&state, static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[j]);
  }
  return order;
}

absl::StatusOr<std::vector<int>> NearestNeighborWalk(const RealMatrix& features, int start, int max_threads) {
  return NearestNeighborWalk(features, start, max_threads, std::function<absl::Status()>());
}

namespace {

// The walk over exact k-nearest-neighbour lists (brute force), with a scan of
// every unvisited frame when a list is exhausted. Polls every 2^16 distance
// evaluations (a step through a list counts 1, a scan counts n).
absl::StatusOr<std::vector<int>> BruteForceWalk(const RealMatrix& features, int start, int max_threads,
                                                const std::function<absl::Status()>& check) {
  const auto n = static_cast<int>(features.cols());
  auto nn = ExactNearestNeighbors(features, std::min(n - 1, kWalkNeighbors), max_threads, check,
                                  NeighborSearch::kBruteForce);
  if (!nn.ok()) return nn.status();
  const int k = nn->k;
  std::vector<char> visited(static_cast<size_t>(n), 0);
  std::vector<int> order;
  order.reserve(static_cast<size_t>(n));
  int current = start;
  visited[static_cast<size_t>(current)] = 1;
  order.push_back(current);
  constexpr int64_t kCheckWork = int64_t{1} << 16;
  int64_t work = 0;
  for (int step = 1; step < n; ++step) {
    if (check && ++work >= kCheckWork) {
      work = 0;
      if (absl::Status s = check(); !s.ok()) return s;
    }
    int next = -1;
    const int* list = nn->indices.data() + static_cast<size_t>(current) * static_cast<size_t>(k);
    for (int e = 0; e < k; ++e) {
      if (!visited[static_cast<size_t>(list[e])]) {
        next = list[e];
        break;
      }
    }
    if (next < 0) {  // every listed neighbour is visited: scan the rest
      work += n;
      double best = std::numeric_limits<double>::infinity();
      for (int j = 0; j < n; ++j) {
        if (visited[static_cast<size_t>(j)]) continue;
        const double d = ColumnSquaredDistance(features, current, j);
        if (d < best) {
          best = d;
          next = j;
        }
      }
    }
    visited[static_cast<size_t>(next)] = 1;
    order.push_back(next);
    current = next;
  }
  return order;
}

// The walk over a k-d tree of the unvisited frames: each step asks the tree
// for the nearest column that is not yet visited (visited ones are skipped,
// not removed). Once half of the indexed columns are visited the tree is
// rebuilt over the unvisited ones, so a query never wades through more than
// as many visited columns as there are unvisited ones in the tree, and the
// rebuilds add up to O(n dims log n). Polls before every step and rebuild.
absl::StatusOr<std::vector<int>> KdTreeWalk(const RealMatrix& features, int start,
                                            const std::function<absl::Status()>& check) {
  const auto n = static_cast<int>(features.cols());
  CheckPoller poller(check);
  std::vector<char> visited(static_cast<size_t>(n), 0);
  visited[static_cast<size_t>(start)] = 1;
  std::vector<int> order;
  order.reserve(static_cast<size_t>(n));
  order.push_back(start);
  auto index_unvisited = [&]() -> absl::StatusOr<NeighborIndex> {
    NeighborIndexOptions options;
    options.columns.reserve(static_cast<size_t>(n) - order.size());
    for (int j = 0; j < n; ++j) {
      if (visited[static_cast<size_t>(j)] == 0) options.columns.push_back(j);
    }
    return NeighborIndex::Create(features, options);
  };
  if (!poller.Poll()) return poller.status();
  auto index = index_unvisited();
  if (!index.ok()) return index.status();
  int stale = 0;  // visited columns still in the tree
  std::vector<std::pair<double, int>> nearest;
  int current = start;
  for (int step = 1; step < n; ++step) {
    if (!poller.Poll()) return poller.status();
    if (2 * stale > index->size()) {
      index = index_unvisited();
      if (!index.ok()) return index.status();
      stale = 0;
      if (!poller.Poll()) return poller.status();
    }
    index->Nearest(current, 1, visited.data(), &nearest);
    if (nearest.empty()) return absl::InternalError("nearest-neighbour walk: no unvisited frame left in the tree");
    current = nearest.front().second;
    visited[static_cast<size_t>(current)] = 1;
    order.push_back(current);
    ++stale;
  }
  return order;
}

}  // namespace

absl::StatusOr<std::vector<int>> NearestNeighborWalk(const RealMatrix& features, int start, int max_threads,
                                                     const std::function<absl::Status()>& check,
                                                     NeighborSearch search) {
  const Eigen::Index n64 = features.cols();
  if (n64 < 2) {
    return InvalidField("features", absl::StrFormat("has %d frame(s); the walk needs at least 2", n64));
  }
  if (n64 > std::numeric_limits<int>::max() / 64) {
    return InvalidField("features", absl::StrFormat("has %d frames; too many", n64));
  }
  const auto n = static_cast<int>(n64);
  if (start < 0 || start >= n) {
    return InvalidField("start_frame", absl::StrFormat("must be in [0, %d), got %d", n, start));
  }
  switch (search) {
    case NeighborSearch::kBruteForce: return BruteForceWalk(features, start, max_threads, check);
    case NeighborSearch::kAuto:
    case NeighborSearch::kKdTree: return KdTreeWalk(features, start, check);
  }
  return InvalidField("neighbor_search", absl::StrFormat("must be auto, brute_force or kd_tree, got enum value %d",
                                                         static_cast<int>(search)));
}

ComplexMatrix PermuteFrames(const ComplexMatrix& spec, std::span<const int> order) {
  ComplexMatrix out(spec.rows(), static_cast<Eigen::Index>(order.size()));
  for (size_t i = 0; i < order.size(); ++i) out.col(static_cast<Eigen::Index>(i)) = spec.col(order[i]);
  return out;
}

ComplexMatrix ReverseFrequency(const ComplexMatrix& spec) {
  return spec.colwise().reverse();
}

absl::StatusOr<std::vector<float>> SynthesizeFrames(const FeatureExtractor& extractor, const ComplexMatrix& spec,
                                                    int64_t length, int max_threads) {
  if (auto s = CheckRange("length", length, 1, kMaxLength); !s.ok()) return s;
  const Stft& stft = extractor.stft();
  if (spec.rows() != stft.num_bins() || spec.cols() < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spectrogram is %d x %d; must have n_fft/2+1 = %d rows and at least 1 frame", spec.rows(), spec.cols(),
        stft.num_bins()));
  }
  std::vector<float> out;
  const FeatureConfig& config = extractor.config();
  if (config.framing != Framing::kHifiGanReflect) {
    if (auto s = stft.Inverse(spec, length, &out, max_threads); !s.ok()) return s;
    return out;
  }
  // HiFi-GAN framing: frames sit on the signal reflect-padded by (n_fft-hop)/2.
  std::vector<float> padded;
  if (auto s = stft.Inverse(spec, std::nullopt, &padded, max_threads); !s.ok()) return s;
  const auto pad = static_cast<size_t>((config.stft.n_fft - config.stft.hop_length) / 2);
  out.assign(static_cast<size_t>(length), 0.0f);
  for (size_t i = 0; i < out.size() && i + pad < padded.size(); ++i) out[i] = padded[i + pad];
  return out;
}

absl::StatusOr<ReorderResult> Reorder(const FeatureExtractor& extractor, std::span<const float> audio,
                                      const ReorderOptions& options) {
  if (auto s = ValidateReorderOptions(options); !s.ok()) return s;
  auto spec = extractor.ComplexSpectrogram(audio, options.check);
  if (!spec.ok()) return spec.status();
  const Eigen::Index frames64 = spec->cols();
  if (frames64 < 2) return TooFewFrames(frames64, extractor, audio.size());
  if (frames64 > std::numeric_limits<int>::max() / 64) {
    return InvalidField("audio", absl::StrFormat("gives %d STFT frames; too many", frames64));
  }
  const auto frames = static_cast<int>(frames64);

  ReorderResult result;
  result.num_frames = frames;
  bool reverse_bins = false;
  // Each stage below is a pass over all frames; the check is polled between
  // stages and inside the long ones.
  auto poll = [&options]() { return options.check ? options.check() : absl::OkStatus(); };
  if (absl::Status s = poll(); !s.ok()) return s;
  auto features = [&]() -> absl::StatusOr<RealMatrix> {
    absl::StatusOr<RealMatrix> mel = MelFromSpectrogram(extractor, *spec, options.check);
    if (!mel.ok()) return mel.status();
    auto f = MelToFrameFeatures(*mel, extractor.config().power, options.features, options.check);
    if (!f.ok()) return f.status();
    if (absl::Status s = poll(); !s.ok()) return s;
    return f;
  };
  switch (options.strategy) {
    case ReorderStrategy::kPca: {
      auto f = features();
      if (!f.ok()) return f.status();
      auto values = PcaProjection(*f);
      if (!values.ok()) return values.status();
      result.embedding = *std::move(values);
      result.order = OrderByValue(result.embedding, options.descending);
      break;
    }
    case ReorderStrategy::kTsne: {
      auto f = features();
      if (!f.ok()) return f.status();
      TsneOptions tsne_options = options.tsne;
      tsne_options.max_threads = options.max_threads;
      if (!tsne_options.check) tsne_options.check = options.check;
      if (tsne_options.perplexity.has_value() && *tsne_options.perplexity >= frames - 1) {
        return InvalidField("tsne.perplexity", absl::StrFormat("must be in (0, %d) (frames - 1) for %d frames, got %g",
                                                               frames - 1, frames, *tsne_options.perplexity));
      }
      auto run = Tsne1d(*f, tsne_options);
      if (!run.ok()) return run.status();
      std::vector<float>& e = run->embedding;
      if (e.front() > e.back()) {
        for (float& v : e) v = -v;
      }
      result.embedding = std::move(e);
      run->embedding.clear();
      result.tsne = *std::move(run);
      result.order = OrderByValue(result.embedding, options.descending);
      break;
    }
    case ReorderStrategy::kReverseTime:
      result.order = ReverseOrder(frames);
      break;
    case ReorderStrategy::kReverseFrequency:
      result.order.resize(static_cast<size_t>(frames));
      std::iota(result.order.begin(), result.order.end(), 0);
      reverse_bins = true;
      break;
    case ReorderStrategy::kShuffle:
      result.order = ShuffleOrder(frames, options.seed);
      break;
    case ReorderStrategy::kSortBy: {
      switch (*options.sort_key) {
        case SortKey::kRms: {
          auto rms = FrameRms(extractor, audio);
          if (!rms.ok()) return rms.status();
          result.embedding = *std::move(rms);
          if (result.embedding.size() != static_cast<size_t>(frames)) {
            return absl::InternalError(absl::StrFormat("FrameRms gave %d values for %d frames",
                                                       result.embedding.size(), frames));
          }
          break;
        }
        case SortKey::kSpectralCentroid:
          result.embedding = SpectralCentroid(*spec, extractor.config().sample_rate, extractor.config().stft.n_fft);
          break;
        case SortKey::kSpectralFlatness:
          result.embedding = SpectralFlatness(*spec);
          break;
      }
      result.order = OrderByValue(result.embedding, options.descending);
      break;
    }
    case ReorderStrategy::kNearestNeighborWalk: {
      if (options.start_frame >= frames) {
        return InvalidField("start_frame",
                            absl::StrFormat("must be in [0, %d) (frames), got %d", frames, options.start_frame));
      }
      auto f = features();
      if (!f.ok()) return f.status();
      auto walk = NearestNeighborWalk(*f, options.start_frame, options.max_threads, options.check,
                                      options.neighbor_search);
      if (!walk.ok()) return walk.status();
      result.order = *std::move(walk);
      break;
    }
    case ReorderStrategy::kCustom:
      for (size_t i = 0; i < options.custom_order.size(); ++i) {
        const int v = options.custom_order[i];
        if (v < 0 || v >= frames) {
          return InvalidField(absl::StrCat("custom_order[", i, "]"),
                              absl::StrFormat("must be in [0, %d) (frames), got %d", frames, v));
        }
      }
      result.order = options.custom_order;
      break;
  }

  const ComplexMatrix reordered = reverse_bins ? ReverseFrequency(*spec) : PermuteFrames(*spec, result.order);
  const auto entries = static_cast<int64_t>(result.order.size());
  const int64_t length = options.length.value_or(
      entries == frames ? static_cast<int64_t>(audio.size())
                        : entries * static_cast<int64_t>(extractor.config().stft.hop_length));
  auto out = SynthesizeFrames(extractor, reordered, length, options.max_threads);
  if (!out.ok()) return out.status();
  result.audio = *std::move(out);
  return result;
}

}  // namespace specinv
