// Copyright specinv authors.

#include "specinv/inversion/inversion_cost.h"

#include <algorithm>
#include <cmath>

namespace specinv {

JobCost InversionCost(const InversionShape& shape, const InversionOptions& options) {
  const int64_t bins = shape.n_fft / 2 + 1;
  const int64_t cells = SaturatingMul(bins, shape.frames);
  const int64_t complex_bytes = SaturatingMul(cells, 8);
  const int64_t real_bytes = SaturatingMul(cells, 4);
  const int64_t signal_bytes = SaturatingMul(std::max<int64_t>(shape.length, 0), 4);

  // 4.5 complex spectrograms (target magnitude, angles, rebuilt, previous, scratch).
  int64_t peak = SaturatingAdd(SaturatingMul(complex_bytes, 4), complex_bytes / 2);
  peak = SaturatingAdd(peak, SaturatingMul(signal_bytes, 3));
  if (shape.n_mels > 0) {
    // The (M, F) mel, and NNLS's magnitude iterates (x, y, gradient).
    peak = SaturatingAdd(peak, SaturatingMul(SaturatingMul(shape.frames, shape.n_mels), 4));
    peak = SaturatingAdd(peak, SaturatingMul(real_bytes, 3));
  }
  if (options.initial_phase.has_value() || options.initial_complex.has_value()) {
    peak = SaturatingAdd(peak, complex_bytes);
  }
  const bool refine = options.method == InversionMethod::kRefine;
  if (refine) {
    peak = SaturatingAdd(peak, SaturatingMul(signal_bytes, 2 * static_cast<int64_t>(options.refine_history) + 4));
  }

  const double fft = 5.0 * shape.n_fft * std::log2(static_cast<double>(std::max(shape.n_fft, 2)));
  const double per_iteration = 2.0 * static_cast<double>(shape.frames) * fft;
  double iterations = options.method == InversionMethod::kPghi ? 0.0 : std::max(options.iterations, 0);
  if (refine) iterations += 2.0 * std::max(options.refine_iterations, 100);  // evaluations ~ 2 per iteration
  JobCost cost;
  cost.peak_bytes = peak;
  cost.work_flops = per_iteration * (iterations + 1.0);
  if (shape.n_mels > 0) {
    cost.work_flops += 4.0 * static_cast<double>(cells) * std::max(options.nnls_iterations, 1);
  }
  cost.output_samples = shape.length;
  return cost;
}

}  // namespace specinv
