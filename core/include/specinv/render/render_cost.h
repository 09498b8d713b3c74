// Copyright specinv authors.
//
// Cost of rendering (render.h) from the spectrogram's shape and the options
// alone: nothing is allocated (see base/job_cost.h).
//
// Memory counted: the complex (B, F) STFT when rendering from audio or a
// complex tensor (8 B per element), two real (rows, F) views (the values and
// their scaled copy), a 2-D DFT's complex buffers for the FFT2 phase view,
// and the RGB image (3 B per pixel) with its PNG encoding (at most the raw
// size plus a small overhead). The heatmap is `width` x `height` pixels, where
// 0 means one column per frame / one row per bin, as render.h says; the image
// adds the bare colour bar's columns, or for a figure (the default) the
// figure frame (figure_layout.h), whose composition also holds the heatmap
// (3 B per heatmap pixel) next to the figure and draws text: kFigureTextBytes
// for label surfaces and the thread's font caches, kFigureTextFlops of work.
// Pure functions; thread-safe.

#ifndef SPECINV_RENDER_RENDER_COST_H_
#define SPECINV_RENDER_RENDER_COST_H_

#include <cstdint>

#include "specinv/base/job_cost.h"
#include "specinv/render/render.h"

namespace specinv {

struct RenderShape {
  int64_t rows = 0;            // bins (or mel bands) of the rendered matrix
  int64_t frames = 0;          // F
  bool complex_input = false;  // an STFT is computed or given (audio or complex tensor)
  int64_t complex_rows = 0;    // its bins, when complex_input
};

inline constexpr int64_t kFigureTextBytes = int64_t{8} << 20;
inline constexpr double kFigureTextFlops = 5e6;

// Pixels (width x height) of the heatmap alone.
int64_t RenderPlotPixels(const RenderShape& shape, const RenderOptions& options);
// Pixels of the final image: the heatmap plus the colour bar or figure frame.
int64_t RenderPixels(const RenderShape& shape, const RenderOptions& options);

JobCost RenderCost(const RenderShape& shape, const RenderOptions& options);

}  // namespace specinv

#endif  // SPECINV_RENDER_RENDER_COST_H_
