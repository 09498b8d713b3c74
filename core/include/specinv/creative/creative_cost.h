// Copyright specinv authors.
//
// Cost of frame reordering (reorder.h) and of creative transforms
// (transform.h) from the configuration, the input's sample count and the
// options alone: nothing is allocated (see base/job_cost.h).
//
// Reorder: the analysis (analysis/analysis_cost.h), the per-frame features
// (F x n_mels floats, twice), the strategy's own state (t-SNE exact: F^2
// doubles; Barnes-Hut: F x (3 perplexity + 1) neighbours; nearest-neighbour
// walk: F visited flags and the order), the neighbour search's (k-d tree:
// ~16 B per frame per tree, two trees while the walk rebuilds; brute force:
// a 16 MiB Gram block and 8 B per frame per thread, and the walk's
// 16-neighbour lists), the reordered (B, F_out) spectrogram and the output
// signal. F_out is the custom order's length or F; output samples follow
// reorder.h's rule. Work includes the neighbour searches at their O(F^2 M)
// worst case (a k-d tree usually prunes most of it).
//
// Transform: the analysis, one (B, F) copy per stage, the inversion
// (inversion/inversion_cost.h) when the phase is resynthesised or a mel
// warp is asked for, and the output signal (options.length or the input's).
// Pure functions; thread-safe.

#ifndef SPECINV_CREATIVE_CREATIVE_COST_H_
#define SPECINV_CREATIVE_CREATIVE_COST_H_

#include <cstdint>

#include "specinv/analysis/feature_config.h"
#include "specinv/base/job_cost.h"
#include "specinv/creative/reorder.h"
#include "specinv/creative/transform.h"

namespace specinv {

// Output samples of Reorder(config, audio of num_samples, options).
int64_t ReorderOutputSamples(const FeatureConfig& config, int64_t num_samples, const ReorderOptions& options);

JobCost ReorderCost(const FeatureConfig& config, int64_t num_samples, const ReorderOptions& options);

JobCost TransformCost(const FeatureConfig& config, int64_t num_samples, const TransformOptions& options);

}  // namespace specinv

#endif  // SPECINV_CREATIVE_CREATIVE_COST_H_
