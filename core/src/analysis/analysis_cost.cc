// Copyright specinv authors.

#include "specinv/analysis/analysis_cost.h"

#include <algorithm>
#include <cmath>

namespace specinv {
namespace {

int64_t Frames(const StftOptions& stft, int64_t num_samples, int64_t pad) {
  const int64_t padded = num_samples + 2 * pad;
  if (num_samples <= 0 || padded < stft.n_fft) return 0;
  return 1 + (padded - stft.n_fft) / stft.hop_length;
}

double FftFlops(int n_fft) { return 5.0 * n_fft * std::log2(static_cast<double>(std::max(n_fft, 2))); }

}  // namespace

int64_t FeatureFrames(const FeatureConfig& config, int64_t num_samples) {
  const StftOptions& stft = config.stft;
  const int64_t pad = config.framing == Framing::kHifiGanReflect ? (stft.n_fft - stft.hop_length) / 2
                      : stft.center                                ? stft.n_fft / 2
                                                                   : 0;
  int64_t frames = Frames(stft, num_samples, pad);
  if (config.drop_last_frame && frames > 0) --frames;
  return frames;
}

int64_t AnalysisOutputBytes(const FeatureConfig& config, int64_t num_samples, AnalysisOutput output) {
  const int64_t frames = FeatureFrames(config, num_samples);
  const int64_t bins = config.stft.n_fft / 2 + 1;
  switch (output) {
    case AnalysisOutput::kComplex: return SaturatingMul(SaturatingMul(frames, bins), 8);
    case AnalysisOutput::kMagnitude:
    case AnalysisOutput::kPhase: return SaturatingMul(SaturatingMul(frames, bins), 4);
    case AnalysisOutput::kMel:
    case AnalysisOutput::kLogMel: return SaturatingMul(SaturatingMul(frames, config.n_mels), 4);
  }
  return 0;
}

JobCost AnalysisCost(const FeatureConfig& config, int64_t num_samples, AnalysisOutput output) {
  const int64_t frames = FeatureFrames(config, num_samples);
  const int64_t bins = config.stft.n_fft / 2 + 1;
  const int64_t cells = SaturatingMul(frames, bins);
  const int64_t complex_bytes = SaturatingMul(cells, 8);
  const int64_t real_bytes = SaturatingMul(cells, 4);
  const int64_t mel_bytes = SaturatingMul(SaturatingMul(frames, config.n_mels), 4);
  // Input samples, plus a padded copy for the reflect-padded framings.
  int64_t peak = SaturatingMul(num_samples, 8);
  peak = SaturatingAdd(peak, complex_bytes);
  switch (output) {
    case AnalysisOutput::kComplex: break;
    case AnalysisOutput::kMagnitude:
    case AnalysisOutput::kPhase: peak = SaturatingAdd(peak, real_bytes); break;
    case AnalysisOutput::kMel: peak = SaturatingAdd(SaturatingAdd(peak, real_bytes), mel_bytes); break;
    case AnalysisOutput::kLogMel:
      peak = SaturatingAdd(SaturatingAdd(peak, real_bytes), SaturatingMul(mel_bytes, 2));
      break;
  }
  JobCost cost;
  cost.peak_bytes = peak;
  cost.work_flops = static_cast<double>(frames) * FftFlops(config.stft.n_fft);
  if (output == AnalysisOutput::kMel || output == AnalysisOutput::kLogMel) {
    cost.work_flops += 2.0 * static_cast<double>(cells);  // sparse filterbank: ~2 filters per bin
  }
  return cost;
}

int64_t ExtractorResidentBytes(const FeatureConfig& config) {
  const int64_t bins = config.stft.n_fft / 2 + 1;
  const int64_t weights = SaturatingMul(bins, std::max(config.n_mels, 1));
  // Filterbank: dense + sparse float weights; inverter: the same again plus a
  // float64 pseudo-inverse; window: float + float64; per-bin steps.
  int64_t bytes = SaturatingMul(weights, 4 + 4 + 4 + 4 + 8);
  bytes = SaturatingAdd(bytes, SaturatingMul(config.stft.n_fft, 4 + 8));
  return SaturatingAdd(bytes, SaturatingMul(bins, 8));
}

}  // namespace specinv
