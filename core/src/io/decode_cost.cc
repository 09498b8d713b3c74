// Copyright specinv authors.

#include "specinv/io/decode_cost.h"

#include <cmath>
#include <limits>

namespace specinv {

int64_t DecodedSamples(const DecodeShape& shape) {
  if (shape.frames <= 0) return 0;
  if (!(shape.target_rate > 0.0) || !(shape.source_rate > 0.0) || shape.target_rate == shape.source_rate) {
    return shape.frames;
  }
  const double out = std::ceil(static_cast<double>(shape.frames) * shape.target_rate / shape.source_rate);
  if (!(out < 9.0e18)) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(out);
}

JobCost DecodeCost(const DecodeShape& shape) {
  const int64_t interleaved = SaturatingMul(SaturatingMul(shape.frames, shape.channels), 4);
  const int64_t mono = SaturatingMul(shape.frames, 4);
  const int64_t resampled = DecodedSamples(shape);
  JobCost cost;
  cost.peak_bytes = SaturatingAdd(SaturatingAdd(interleaved, mono), SaturatingMul(resampled, 8));
  cost.work_flops = static_cast<double>(shape.frames) * shape.channels * 4.0 +
                    (resampled != shape.frames ? 200.0 * static_cast<double>(resampled) : 0.0);
  cost.output_samples = resampled;
  return cost;
}

}  // namespace specinv
