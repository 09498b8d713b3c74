// Copyright specinv authors.

#include "specinv/base/job_cost.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_format.h"

namespace specinv {

int64_t SaturatingMul(int64_t a, int64_t b) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (a <= 0 || b <= 0) return 0;
  if (a > kMax / b) return kMax;
  return a * b;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  a = std::max<int64_t>(a, 0);
  b = std::max<int64_t>(b, 0);
  return a > kMax - b ? kMax : a + b;
}

JobCost JobCost::Then(const JobCost& next, int64_t held_bytes) const {
  JobCost out;
  out.peak_bytes = std::max(peak_bytes, SaturatingAdd(held_bytes, next.peak_bytes));
  out.work_flops = work_flops + next.work_flops;
  out.output_samples = next.output_samples > 0 ? next.output_samples : output_samples;
  return out;
}

JobCost JobCost::Plus(const JobCost& other) const {
  JobCost out;
  out.peak_bytes = SaturatingAdd(peak_bytes, other.peak_bytes);
  out.work_flops = work_flops + other.work_flops;
  out.output_samples = SaturatingAdd(output_samples, other.output_samples);
  return out;
}

std::string JobCost::ToString() const {
  return absl::StrFormat("peak %.1f MiB, %.2g FLOP, %d output samples",
                         static_cast<double>(peak_bytes) / (1 << 20), work_flops, output_samples);
}

}  // namespace specinv
