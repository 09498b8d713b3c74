// Copyright specinv authors.

#include "specinv/creative/creative_cost.h"

#include <algorithm>
#include <cmath>

#include "specinv/analysis/analysis_cost.h"
#include "specinv/inversion/inversion_cost.h"

namespace specinv {
namespace {


// Working memory of one exact k-NN search over `frames` points beyond its
// output lists: the k-d tree's column list, permutation and nodes (~16 B per
// point), or brute force's Gram block (2^22 floats) and candidate buffer
// (8 B per point) on each thread.
int64_t NeighborSearchBytes(NeighborSearch search, int dims, int64_t frames, int max_threads) {
  if (ResolveNeighborSearch(search, dims) == NeighborSearch::kKdTree) return SaturatingMul(frames, 16);
  const int64_t per_thread = SaturatingAdd(int64_t{4} << 22, SaturatingMul(frames, 8));
  return SaturatingMul(per_thread, std::max(max_threads, 1));
}

}  // namespace

int64_t ReorderOutputSamples(const FeatureConfig& config, int64_t num_samples, const ReorderOptions& options) {
  if (options.length.has_value()) return *options.length;
  const int64_t frames = FeatureFrames(config, num_samples);
  if (options.strategy != ReorderStrategy::kCustom) return num_samples;
  const auto entries = static_cast<int64_t>(options.custom_order.size());
  if (entries == frames) return num_samples;
  return SaturatingMul(entries, config.stft.hop_length);
}

JobCost ReorderCost(const FeatureConfig& config, int64_t num_samples, const ReorderOptions& options) {
  const int64_t frames = FeatureFrames(config, num_samples);
  const int64_t bins = config.stft.n_fft / 2 + 1;
  const JobCost analysis = AnalysisCost(config, num_samples, AnalysisOutput::kComplex);
  const int64_t spectrogram_bytes = AnalysisOutputBytes(config, num_samples, AnalysisOutput::kComplex);

  JobCost strategy;
  const double m = std::max(config.n_mels, 1);
  const double f = static_cast<double>(frames);
  const int64_t feature_bytes = SaturatingMul(SaturatingMul(frames, std::max(config.n_mels, 1)), 8);
  switch (options.strategy) {
    case ReorderStrategy::kPca:
    case ReorderStrategy::kSortBy:
      strategy.peak_bytes = feature_bytes;
      strategy.work_flops = f * m * m;
      break;
    case ReorderStrategy::kTsne: {
      const bool exact = options.tsne.algorithm == TsneAlgorithm::kExact ||
                         (options.tsne.algorithm == TsneAlgorithm::kAuto && frames <= kTsneAutoExactMaxPoints);
      const auto k = static_cast<int64_t>(3.0 * std::min(options.tsne.perplexity.value_or(kTsneDefaultPerplexity), f)) + 1;
      strategy.peak_bytes = SaturatingAdd(
          feature_bytes, exact ? SaturatingMul(SaturatingMul(frames, frames), 16)
                               : SaturatingAdd(SaturatingMul(SaturatingMul(frames, k), 24),
                                               NeighborSearchBytes(options.tsne.neighbor_search, config.n_mels,
                                                                   frames, options.max_threads)));
      strategy.work_flops = f * f * m + (exact ? f * f : f * std::log2(std::max(f, 2.0))) * options.tsne.iterations;
      break;
    }
    case ReorderStrategy::kNearestNeighborWalk:
      if (options.neighbor_search != NeighborSearch::kBruteForce) {
        // Visited flags and the order (5 B per frame), and while the tree is
        // rebuilt the old and the new one (column lists and nodes, ~16 B per
        // frame each).
        strategy.peak_bytes = SaturatingAdd(feature_bytes, SaturatingMul(frames, 40));
      } else {
        strategy.peak_bytes =
            SaturatingAdd(SaturatingAdd(feature_bytes, SaturatingMul(frames, 5)),
                          SaturatingAdd(SaturatingMul(SaturatingMul(frames, kWalkNeighbors), 12),
                                        NeighborSearchBytes(NeighborSearch::kBruteForce, config.n_mels, frames,
                                                            options.max_threads)));
      }
      strategy.work_flops = f * f * m;
      break;
    case ReorderStrategy::kReverseTime:
    case ReorderStrategy::kReverseFrequency:
    case ReorderStrategy::kShuffle:
    case ReorderStrategy::kCustom: break;
  }
  const int64_t out_frames = options.strategy == ReorderStrategy::kCustom
                                 ? static_cast<int64_t>(options.custom_order.size())
                                 : frames;
  const int64_t out_samples = ReorderOutputSamples(config, num_samples, options);
  JobCost synthesis;
  synthesis.peak_bytes = SaturatingAdd(SaturatingMul(SaturatingMul(out_frames, bins), 8), SaturatingMul(out_samples, 8));
  synthesis.work_flops = static_cast<double>(out_frames) * 5.0 * config.stft.n_fft *
                         std::log2(static_cast<double>(std::max(config.stft.n_fft, 2)));
  synthesis.output_samples = out_samples;
  return analysis.Then(strategy, spectrogram_bytes).Then(synthesis, SaturatingAdd(spectrogram_bytes, feature_bytes));
}

JobCost TransformCost(const FeatureConfig& config, int64_t num_samples, const TransformOptions& options) {
  const int64_t spectrogram_bytes = AnalysisOutputBytes(config, num_samples, AnalysisOutput::kComplex);
  const JobCost analysis = AnalysisCost(config, num_samples, AnalysisOutput::kComplex);
  const int64_t out_samples = options.length.value_or(num_samples);
  JobCost stages;
  stages.peak_bytes = SaturatingMul(spectrogram_bytes, 2);
  stages.work_flops = static_cast<double>(spectrogram_bytes) / 8.0 *
                      (4.0 + static_cast<double>(options.band_mutes.size() > 0 ? 1 : 0));
  JobCost synthesis;
  if (options.phase == PhaseOperation::kResynthesize || options.mel_warp.has_value()) {
    InversionShape shape;
    shape.n_fft = config.stft.n_fft;
    shape.frames = FeatureFrames(config, num_samples);
    shape.n_mels = options.mel_warp.has_value() ? config.n_mels : 0;
    shape.length = out_samples;
    synthesis = InversionCost(shape, options.inversion);
  } else {
    synthesis.peak_bytes = SaturatingMul(out_samples, 8);
    synthesis.output_samples = out_samples;
  }
  synthesis.output_samples = out_samples;
  return analysis.Then(stages, spectrogram_bytes).Then(synthesis, spectrogram_bytes);
}

}  // namespace specinv
