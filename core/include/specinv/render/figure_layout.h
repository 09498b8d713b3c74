// Copyright specinv authors.
//
// Figure layout: where the parts of a spectrogram figure go, in pixels,
// computed from the heatmap size alone. The heatmap keeps its exact size;
// the frame around it has a fixed size, kFigureFrameWidth extra columns and
// kFigureFrameHeight extra rows:
//
//   +--------------------------------------------------------------------+
//   |                             title                                  |
//   | y |  y tick  |-+--------------------------+  +--+-  colour  | colour|
//   |   |  labels  |-|         heatmap          |  |  |-  tick    | bar   |
//   | l |          |-|        (the plot)        |  |  |-  labels  | label |
//   |   |          | +--------------------------+  +--+           |       |
//   |   |                |    |    |    |    (x ticks)             |       |
//   |   |               x tick labels                              |       |
//   |   |                  x label                                 |       |
//   +--------------------------------------------------------------------+
//
// The plot and the colour bar each have a one-pixel border (the axis lines)
// outside their rectangles, so neither the heatmap's nor the bar's pixels are
// covered. Tick marks are kTickLength pixels long and point outwards from
// the axis lines. Text rectangles are clip regions: a tick label is centred
// on its tick and clipped to its rectangle, so the y and colour-bar tick
// label rectangles reach kTickLabelOverhang rows above and below the plot
// (labels of ticks at the ends) and the x tick label rectangle spans all but
// the side label columns. No two rectangles listed in FigureLayout overlap,
// except the ones that contain their borders (see border()).
//
// Pure functions; thread-safe; O(1).

#ifndef SPECINV_RENDER_FIGURE_LAYOUT_H_
#define SPECINV_RENDER_FIGURE_LAYOUT_H_

#include "specinv/render/pixel_rect.h"

namespace specinv {

// Text sizes (pixels per em, DejaVu Sans) and the heights of their lines.
inline constexpr double kTickFontPixels = 11.0;
inline constexpr double kLabelFontPixels = 12.0;
inline constexpr double kTitleFontPixels = 14.0;  // bold

inline constexpr int kFigurePad = 6;            // outer white margin
inline constexpr int kTitleHeight = 18;
inline constexpr int kTitleGap = 12;            // title to the plot's top axis line
inline constexpr int kAxisLabelThickness = 16;  // x label height; y and colour-bar label width
inline constexpr int kTickLabelHeight = 14;     // one line of tick-label text
inline constexpr int kTickLabelWidth = 48;      // y and colour-bar tick-label columns
inline constexpr int kTickLabelOverhang = 7;    // rows a y tick label may reach past the plot's ends
inline constexpr int kTickLength = 4;
inline constexpr int kTickLabelGap = 3;         // tick end to its label
inline constexpr int kAxisLabelGap = 4;         // tick labels to the axis label
inline constexpr int kFigureColorBarGap = 14;   // plot's right axis line to the colour bar's border
inline constexpr int kFigureColorBarWidth = 16;

// Heatmap position in the figure.
inline constexpr int kFigurePlotLeft =
    kFigurePad + kAxisLabelThickness + kAxisLabelGap + kTickLabelWidth + kTickLabelGap + kTickLength + 1;
inline constexpr int kFigurePlotTop = kFigurePad + kTitleHeight + kTitleGap + 1;
// Columns right of and rows below the heatmap.
inline constexpr int kFigureRightFrame = 1 + kFigureColorBarGap + 1 + kFigureColorBarWidth + 1 + kTickLength +
                                         kTickLabelGap + kTickLabelWidth + kAxisLabelGap + kAxisLabelThickness +
                                         kFigurePad;
inline constexpr int kFigureBottomFrame =
    1 + kTickLength + kTickLabelGap + kTickLabelHeight + kAxisLabelGap + kAxisLabelThickness + kFigurePad;
// Extra columns / rows the figure adds to the heatmap.
inline constexpr int kFigureFrameWidth = kFigurePlotLeft + kFigureRightFrame;
inline constexpr int kFigureFrameHeight = kFigurePlotTop + kFigureBottomFrame;

struct FigureLayout {
  int width = 0;   // whole image
  int height = 0;
  PixelRect title;
  PixelRect plot;                  // the heatmap, plot_width x plot_height
  PixelRect x_ticks;               // tick marks below the plot's bottom axis line
  PixelRect x_tick_labels;
  PixelRect x_label;               // "Time (s)"
  PixelRect y_ticks;               // tick marks left of the plot's left axis line
  PixelRect y_tick_labels;
  PixelRect y_label;               // rotated, reads bottom to top
  PixelRect color_bar;             // the gradient, as tall as the plot
  PixelRect color_bar_ticks;       // right of the bar's right border
  PixelRect color_bar_tick_labels;
  PixelRect color_bar_label;       // rotated, reads bottom to top
};

// The layout for a plot_width x plot_height heatmap (both >= 1): the image is
// (plot_width + kFigureFrameWidth) x (plot_height + kFigureFrameHeight).
FigureLayout ComputeFigureLayout(int plot_width, int plot_height);

// The one-pixel frame just outside `r` (the axis lines around the plot or
// the colour bar): r grown by one pixel on every side.
PixelRect BorderOf(const PixelRect& r);

}  // namespace specinv

#endif  // SPECINV_RENDER_FIGURE_LAYOUT_H_
