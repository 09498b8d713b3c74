// Copyright specinv authors.
//
// Cost of decoding and resampling audio (audio_io.h) from what a container
// header or a raw PCM request declares: nothing is decoded (see
// base/job_cost.h).
//
// Memory counted: the interleaved float samples of every channel, the mono
// mixdown, and the resampled signal with soxr's working buffers.
// output_samples is the mono signal after resampling.
// Pure functions; thread-safe.

#ifndef SPECINV_IO_DECODE_COST_H_
#define SPECINV_IO_DECODE_COST_H_

#include <cstdint>

#include "specinv/base/job_cost.h"

namespace specinv {

struct DecodeShape {
  int64_t frames = 0;            // samples per channel at the source rate
  int channels = 1;
  double source_rate = 0.0;      // hertz
  double target_rate = 0.0;      // hertz; 0 or equal to source_rate: no resampling
};

// Mono samples after resampling: ceil(frames * target / source).
int64_t DecodedSamples(const DecodeShape& shape);

JobCost DecodeCost(const DecodeShape& shape);

}  // namespace specinv

#endif  // SPECINV_IO_DECODE_COST_H_
