// Copyright specinv authors.
//
// Frame reordering: rearranges the complex STFT frames of a signal and
// resynthesises them by inverse STFT, so every frame keeps its own phase.
//
// Reorder(extractor, audio, options):
//   1. X = extractor.ComplexSpectrogram(audio): (n_fft/2+1, frames), with the
//      config's framing (any hop/window, e.g. hop 400 / n_fft 2000 at 44.1 kHz).
//   2. An order (order[i] = the original frame placed at position i) and, for
//      the strategies that have one, a 1-D embedding value per original frame:
//        kPca               first principal component of the frame features
//                           (frame_features.h), sorted ascending (see
//                           PcaProjection for the sign rule);
//        kTsne              1-D t-SNE of the frame features (tsne.h), same
//                           sign rule, sorted ascending;
//        kReverseTime       frames - 1, ..., 0;
//        kReverseFrequency  identity order; the bins of every frame reversed
//                           (bin k <- bin n_fft/2 - k);
//        kShuffle           a uniformly random permutation from `seed`
//                           (ShuffleOrder);
//        kSortBy            ascending by `sort_key` (frame_features.h); the
//                           embedding holds the key values;
//        kNearestNeighborWalk  from `start_frame`, repeatedly the nearest
//                           unvisited frame in feature space (NearestNeighborWalk);
//        kCustom            exactly `custom_order` (entries in [0, frames),
//                           repeats allowed, any non-zero length).
//      `descending` reverses the sorted strategies (pca, tsne, sort_by). Ties
//      are broken by frame index, so orders are deterministic.
//   3. audio = inverse STFT of the reordered frames with the config's framing
//      (SynthesizeFrames). Output length: `length` when set; else the input's
//      length when the order has one entry per frame (a "full-length"
//      order); else hop_length * entries (each frame advances one hop).
//
// The same inputs and options give byte-identical results, for any
// max_threads. Errors: InvalidArgument naming the field ("strategy",
// "tsne.perplexity", "start_frame", "custom_order[3]", "audio[12]", ...) and
// the allowed range; inputs with fewer than 2 frames are rejected.
//
// Thread safety: pure functions, re-entrant; a call uses up to
// options.max_threads threads.

#ifndef SPECINV_REORDER_H_
#define SPECINV_REORDER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/frame_features.h"
#include "specinv/creative/tsne.h"
#include "specinv/base/types.h"

namespace specinv {

enum class ReorderStrategy {
  kPca,
  kTsne,
  kReverseTime,
  kReverseFrequency,
  kShuffle,
  kSortBy,
  kNearestNeighborWalk,
  kCustom,
};
// "pca", "tsne", "reverse_time", "reverse_frequency", "shuffle", "sort_by",
// "nearest_neighbor_walk", "custom".
absl::StatusOr<ReorderStrategy> ParseReorderStrategy(std::string_view name);
std::string_view ReorderStrategyName(ReorderStrategy strategy);

enum class SortKey {
  kRms,               // FrameRms
  kSpectralCentroid,  // SpectralCentroid, Hz
  kSpectralFlatness,  // SpectralFlatness
};
// "rms", "spectral_centroid", "spectral_flatness".
absl::StatusOr<SortKey> ParseSortKey(std::string_view name);
std::string_view SortKeyName(SortKey key);

struct ReorderOptions {
  ReorderStrategy strategy = ReorderStrategy::kPca;
  FrameFeatureOptions features;     // pca, tsne, nearest_neighbor_walk
  TsneOptions tsne;                 // tsne (its max_threads is replaced by max_threads below)
  uint64_t seed = 0;                // shuffle
  std::optional<SortKey> sort_key;  // sort_by: required
  bool descending = false;          // pca, tsne, sort_by
  int start_frame = 0;              // nearest_neighbor_walk, [0, frames)
  std::vector<int> custom_order;    // custom: each in [0, frames), at least 1 entry
  std::optional<int64_t> length;    // output samples, >= 1; see above for unset
  int max_threads = 1;              // >= 1
  // nearest_neighbor_walk's search; tsne uses tsne.neighbor_search.
  NeighborSearch neighbor_search = NeighborSearch::kAuto;
  // Polled during the STFT analysis, t-SNE, the neighbour search and the
  // nearest-neighbour walk; a non-OK status aborts and is returned.
  std::function<absl::Status()> check;
};

// Checks that do not depend on the input (enum values, ranges).
absl::Status ValidateReorderOptions(const ReorderOptions& options);

struct ReorderResult {
  std::vector<float> audio;       // the resynthesised signal
  std::vector<int> order;         // order[i] = original frame at position i
  std::vector<float> embedding;   // one value per original frame; empty when none
  int num_frames = 0;             // frames of the analysed STFT
  std::optional<TsneResult> tsne; // diagnostics of the t-SNE run (embedding moved out)
};

absl::StatusOr<ReorderResult> Reorder(const FeatureExtractor& extractor, std::span<const float> audio,
                                      const ReorderOptions& options);

// --- Building blocks (used by Reorder, public for tests and other callers) ---

// Projection of every column of `features` (dims, n) on the leading
// eigenvector of the sample covariance (double precision; Eigen's
// SelfAdjointEigenSolver on the smaller of the dims x dims covariance and the
// n x n Gram matrix). Sign rule: the first frame gets the lower value,
// i.e. the projection is negated when value[0] > value[n-1]; when they are
// equal, when value[0] > 0; when that is 0 too, when the eigenvector's
// largest-magnitude component is negative. n >= 2.
absl::StatusOr<std::vector<float>> PcaProjection(const RealMatrix& features);

// Indices sorted by value (ascending, or descending), ties by index.
std::vector<int> OrderByValue(std::span<const float> values, bool descending);

// n-1, ..., 0.
std::vector<int> ReverseOrder(int n);

// Fisher-Yates with a SplitMix64 generator and unbiased bounded draws: the
// same (n, seed) gives the same permutation on every platform.
std::vector<int> ShuffleOrder(int n, uint64_t seed);

// Greedy walk: order[0] = start, then repeatedly the unvisited column of
// `features` nearest (Euclidean, summed in double) to the last one visited,
// ties by index. kKdTree and kAuto: each step queries a k-d tree
// (NeighborIndex) of the unvisited frames, rebuilt over the frames still
// unvisited whenever half of its columns have been visited (one thread).
// kBruteForce: exact 16-nearest-neighbour lists (ExactNearestNeighbors,
// max_threads threads) with a scan of all unvisited frames when a list is
// exhausted, O(n^2 dims) at worst.
inline constexpr int kWalkNeighbors = 16;  // kBruteForce: neighbours listed per frame
absl::StatusOr<std::vector<int>> NearestNeighborWalk(const RealMatrix& features, int start,
                                                     int max_threads = 1);
// As above, polling `check` (kKdTree: before every step and tree build;
// kBruteForce: per neighbour block and every 2^16 distance evaluations of the
// walk); its first non-OK status is returned.
absl::StatusOr<std::vector<int>> NearestNeighborWalk(const RealMatrix& features, int start, int max_threads,
                                                     const std::function<absl::Status()>& check,
                                                     NeighborSearch search = NeighborSearch::kAuto);

// Frames of `spec` in `order` (columns spec(:, order[i])). Entries must be in
// [0, spec.cols()).
ComplexMatrix PermuteFrames(const ComplexMatrix& spec, std::span<const int> order);

// Every frame's bins reversed: out(k, t) = spec(bins - 1 - k, t).
ComplexMatrix ReverseFrequency(const ComplexMatrix& spec);

// Inverse STFT of `spec` with the extractor's framing (centred, uncentred or
// HiFi-GAN's reflect padding), exactly `length` samples (zero-filled where no
// frame reaches). `spec` must have n_fft/2+1 rows and >= 1 column.
absl::StatusOr<std::vector<float>> SynthesizeFrames(const FeatureExtractor& extractor,
                                                    const ComplexMatrix& spec, int64_t length,
                                                    int max_threads = 1);

}  // namespace specinv

#endif  // SPECINV_REORDER_H_
