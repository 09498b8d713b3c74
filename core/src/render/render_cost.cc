// Copyright specinv authors.

#include "specinv/render/render_cost.h"

namespace specinv {

int64_t RenderPixels(const RenderShape& shape, const RenderOptions& options) {
  const int64_t width = options.width > 0 ? options.width : shape.frames;
  const int64_t height = options.height > 0 ? options.height : shape.rows;
  return SaturatingMul(width, height);
}

JobCost RenderCost(const RenderShape& shape, const RenderOptions& options) {
  const int64_t cells = SaturatingMul(shape.rows, shape.frames);
  int64_t peak = SaturatingMul(cells, 8);  // values and their scaled copy
  if (shape.complex_input) peak = SaturatingAdd(peak, SaturatingMul(SaturatingMul(shape.complex_rows, shape.frames), 8));
  if (options.view == RenderView::kPhaseFft2) peak = SaturatingAdd(peak, SaturatingMul(cells, 16));
  const int64_t pixels = RenderPixels(shape, options);
  peak = SaturatingAdd(peak, SaturatingMul(pixels, 7));  // RGB image + PNG rows and output
  JobCost cost;
  cost.peak_bytes = peak;
  cost.work_flops = 10.0 * static_cast<double>(cells) + 20.0 * static_cast<double>(pixels);
  return cost;
}

}  // namespace specinv
