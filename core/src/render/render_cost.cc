// Copyright specinv authors.

#include "specinv/render/render_cost.h"

namespace specinv {

namespace {

int64_t PlotWidth(const RenderShape& shape, const RenderOptions& options) {
  return options.width > 0 ? options.width : shape.frames;
}
int64_t PlotHeight(const RenderShape& shape, const RenderOptions& options) {
  return options.height > 0 ? options.height : shape.rows;
}

}  // namespace

int64_t RenderPlotPixels(const RenderShape& shape, const RenderOptions& options) {
  return SaturatingMul(PlotWidth(shape, options), PlotHeight(shape, options));
}

int64_t RenderPixels(const RenderShape& shape, const RenderOptions& options) {
  const int64_t width = PlotWidth(shape, options);
  const int64_t height = PlotHeight(shape, options);
  if (options.figure) {
    return SaturatingMul(SaturatingAdd(width, kFigureFrameWidth), SaturatingAdd(height, kFigureFrameHeight));
  }
  return SaturatingMul(SaturatingAdd(width, options.color_bar ? kColorBarGap + kColorBarWidth : 0), height);
}

JobCost RenderCost(const RenderShape& shape, const RenderOptions& options) {
  const int64_t cells = SaturatingMul(shape.rows, shape.frames);
  int64_t peak = SaturatingMul(cells, 8);  // values and their scaled copy
  if (shape.complex_input) peak = SaturatingAdd(peak, SaturatingMul(SaturatingMul(shape.complex_rows, shape.frames), 8));
  if (options.view == RenderView::kPhaseFft2) peak = SaturatingAdd(peak, SaturatingMul(cells, 16));
  const int64_t pixels = RenderPixels(shape, options);
  peak = SaturatingAdd(peak, SaturatingMul(pixels, 7));  // RGB image + PNG rows and output
  double flops = 10.0 * static_cast<double>(cells) + 20.0 * static_cast<double>(pixels);
  if (options.figure) {
    const int64_t plot = RenderPlotPixels(shape, options);
    peak = SaturatingAdd(peak, SaturatingAdd(SaturatingMul(plot, 3), kFigureTextBytes));  // heatmap + text
    flops += 20.0 * static_cast<double>(plot) + kFigureTextFlops;
  }
  JobCost cost;
  cost.peak_bytes = peak;
  cost.work_flops = flops;
  return cost;
}

}  // namespace specinv
