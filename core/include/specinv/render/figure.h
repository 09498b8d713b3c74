// Copyright specinv authors.
//
// Figure: a heatmap framed for reading, as plotting libraries draw a
// spectrogram (librosa's specshow with a colour bar): a title, axis lines
// with outward tick marks and labels on the left (y) and bottom (x) of the
// heatmap, axis labels, and a colour bar on the right with its own ticks and
// label. Positions come from ComputeFigureLayout (figure_layout.h); ticks
// from AxisTicks (axis_ticks.h), at least kXTickSpacing / kYTickSpacing /
// kColorTickSpacing pixels apart (x ticks further apart when their labels
// would touch); text from TextPainter (text.h).
//
// The heatmap's pixels are copied unchanged into layout.plot; the colour
// bar's row y (0 = top) has the colour MapColor(colormap, 1 - (y + 0.5) / h),
// the same gradient as the bare image's colour bar, so its bottom is the
// lowest colour (colour_axis.start) and its top the highest (colour_axis.end).
// Background white, lines and text black.
//
// Thread-safe (text is drawn with a painter of the calling thread). Cost: the
// figure image (3 bytes per pixel) plus text (see text.h); O(figure pixels).

#ifndef SPECINV_RENDER_FIGURE_H_
#define SPECINV_RENDER_FIGURE_H_

#include <string>

#include "absl/status/statusor.h"
#include "specinv/render/axis_ticks.h"
#include "specinv/render/colormap.h"
#include "specinv/render/figure_layout.h"
#include "specinv/render/png_image.h"

namespace specinv {

inline constexpr double kXTickSpacing = 60.0;
inline constexpr double kYTickSpacing = 28.0;
inline constexpr double kColorTickSpacing = 24.0;
inline constexpr Rgb8 kFigureBackground{255, 255, 255};
inline constexpr Rgb8 kFigureInk{0, 0, 0};

// What the frame says. The axes' length_pixels are ignored: they are the
// heatmap's width (x) and height (y, colour bar).
struct FigureSpec {
  std::string title;
  Axis x_axis;              // left edge -> right edge of the heatmap
  std::string x_label;
  Axis y_axis;              // bottom edge -> top edge of the heatmap
  std::string y_label;
  Axis color_axis;          // bottom -> top of the colour bar (lowest -> highest colour)
  std::string color_label;
  Colormap colormap = Colormap::kViridis;
};

// The ticks ComposeFigure draws on each axis (lengths set from the heatmap).
struct FigureTicks {
  std::vector<Tick> x;
  std::vector<Tick> y;
  std::vector<Tick> color;
};
FigureTicks ComputeFigureTicks(const FigureSpec& spec, int plot_width, int plot_height);

// Row / column of the image a tick at `position` sits on.
int XTickColumn(const FigureLayout& layout, double position);
int YTickRow(const FigureLayout& layout, double position);  // also the colour bar's ticks

// The figure around `heatmap` (at least 1x1, at most kMaxPngDimension minus
// the frame on each side; InvalidArgument otherwise). Errors from text
// drawing (Internal) are returned.
absl::StatusOr<Image> ComposeFigure(const Image& heatmap, const FigureSpec& spec);

}  // namespace specinv

#endif  // SPECINV_RENDER_FIGURE_H_
