// Copyright specinv authors.
//
// JobCost: what one job will take, computed from the shapes of its inputs
// alone, before anything large is allocated. The estimators live next to the
// operations they describe (analysis/analysis_cost.h,
// inversion/inversion_cost.h, creative/creative_cost.h,
// render/render_cost.h, io/decode_cost.h, streaming/stream_vocoder.h); a
// caller that admits work (the server) adds up the stages of a job and
// compares the total with its limits once, up front.
//
// Units: bytes for memory, floating-point operations for work (an order of
// magnitude figure, used for logging and time estimates, not for refusals),
// samples for audio produced. All arithmetic saturates at INT64_MAX (an
// absurd request gives an absurd, not a wrapped, figure).
// Pure value type; thread-safe.

#ifndef SPECINV_BASE_JOB_COST_H_
#define SPECINV_BASE_JOB_COST_H_

#include <cstdint>
#include <string>

namespace specinv {

// a * b and a + b for non-negative values, clamped to INT64_MAX.
int64_t SaturatingMul(int64_t a, int64_t b);
int64_t SaturatingAdd(int64_t a, int64_t b);

struct JobCost {
  // Working memory at the job's peak: inputs converted to core types,
  // intermediates and outputs alive at the same time.
  int64_t peak_bytes = 0;
  // Approximate floating-point operations.
  double work_flops = 0.0;
  // Audio samples the job produces (0: none).
  int64_t output_samples = 0;

  // The cost of running `next` after this stage while this stage's
  // `held_bytes` stay alive: peak = max(peak, held + next.peak), work adds
  // up, output samples are the later stage's when it produces audio.
  JobCost Then(const JobCost& next, int64_t held_bytes) const;
  // Two independent stages alive together (e.g. an input held for the whole
  // job): peaks and work add up, output samples add up.
  JobCost Plus(const JobCost& other) const;

  // "peak 12.3 MiB, 4.5 GFLOP, 22050 samples", for logs and messages.
  std::string ToString() const;
};

}  // namespace specinv

#endif  // SPECINV_BASE_JOB_COST_H_
