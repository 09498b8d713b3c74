// Copyright specinv authors.
//
// Cost of analysing audio with a FeatureConfig (see base/job_cost.h), from
// the configuration and the sample count alone: nothing is allocated.
//
// Shapes: B = n_fft/2+1 bins, F = FeatureFrames(config, samples) frames,
// M = n_mels. Memory counted: the input samples, the complex STFT (8 B per
// element), the real views derived from it (4 B per element) and the mel
// matrices. Work: F FFTs of n_fft points (5 n log2 n each) plus the mel
// product.
// Pure functions; thread-safe.

#ifndef SPECINV_ANALYSIS_ANALYSIS_COST_H_
#define SPECINV_ANALYSIS_ANALYSIS_COST_H_

#include <cstdint>

#include "specinv/analysis/feature_config.h"
#include "specinv/base/job_cost.h"

namespace specinv {

// What an analysis produces.
enum class AnalysisOutput { kComplex, kMagnitude, kPhase, kMel, kLogMel };

// Frames FeatureExtractor(config).NumFrames(num_samples) will produce (the
// configured framing, center padding and dropped last frame); 0 when the
// input is too short. `config` must be valid.
int64_t FeatureFrames(const FeatureConfig& config, int64_t num_samples);

// Memory and work of analysing `num_samples` samples into `output`, the
// input samples included. The output matrix is (B or M, F) float32 values
// (complex: two per element).
JobCost AnalysisCost(const FeatureConfig& config, int64_t num_samples, AnalysisOutput output);

// Bytes of the output matrix alone (what a response will carry, before any
// encoding overhead).
int64_t AnalysisOutputBytes(const FeatureConfig& config, int64_t num_samples, AnalysisOutput output);

// Bytes a FeatureExtractor of `config` keeps resident, an upper estimate:
// the window (float and float64), the mel filterbank in its dense and sparse
// forms, and the mel inverter built on first use (a copy of the filterbank,
// its pseudo-inverse and step sizes). FFT plans are not counted: they belong
// to the plan cache (base/fft_plan_cache.h).
int64_t ExtractorResidentBytes(const FeatureConfig& config);

}  // namespace specinv

#endif  // SPECINV_ANALYSIS_ANALYSIS_COST_H_
