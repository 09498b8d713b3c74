// Copyright specinv authors.

#include "specinv/render/figure_layout.h"

namespace specinv {

FigureLayout ComputeFigureLayout(int plot_width, int plot_height) {
  FigureLayout l;
  l.width = plot_width + kFigureFrameWidth;
  l.height = plot_height + kFigureFrameHeight;
  l.plot = PixelRect{kFigurePlotLeft, kFigurePlotTop, plot_width, plot_height};
  const PixelRect& p = l.plot;
  l.title = PixelRect{kFigurePad, kFigurePad, l.width - 2 * kFigurePad, kTitleHeight};

  // Left side, from the plot outwards.
  l.y_ticks = PixelRect{p.x - 1 - kTickLength, p.y, kTickLength, p.height};
  l.y_tick_labels = PixelRect{l.y_ticks.x - kTickLabelGap - kTickLabelWidth, p.y - kTickLabelOverhang, kTickLabelWidth,
                              p.height + 2 * kTickLabelOverhang};
  const int side_label_top = l.title.bottom() + kAxisLabelGap;
  const int side_label_height = l.height - kFigurePad - side_label_top;
  l.y_label = PixelRect{kFigurePad, side_label_top, kAxisLabelThickness, side_label_height};

  // Right side: colour bar, its ticks, labels and the rotated unit label.
  l.color_bar = PixelRect{p.right() + 1 + kFigureColorBarGap + 1, p.y, kFigureColorBarWidth, p.height};
  l.color_bar_ticks = PixelRect{l.color_bar.right() + 1, p.y, kTickLength, p.height};
  l.color_bar_tick_labels = PixelRect{l.color_bar_ticks.right() + kTickLabelGap, p.y - kTickLabelOverhang,
                                      kTickLabelWidth, p.height + 2 * kTickLabelOverhang};
  l.color_bar_label =
      PixelRect{l.width - kFigurePad - kAxisLabelThickness, side_label_top, kAxisLabelThickness, side_label_height};

  // Below the plot, between the side label columns.
  const int inner_left = l.y_label.right() + kAxisLabelGap;
  const int inner_width = l.color_bar_label.x - kAxisLabelGap - inner_left;
  l.x_ticks = PixelRect{p.x, p.bottom() + 1, p.width, kTickLength};
  l.x_tick_labels = PixelRect{inner_left, l.x_ticks.bottom() + kTickLabelGap, inner_width, kTickLabelHeight};
  l.x_label = PixelRect{inner_left, l.x_tick_labels.bottom() + kAxisLabelGap, inner_width, kAxisLabelThickness};
  return l;
}

PixelRect BorderOf(const PixelRect& r) { return PixelRect{r.x - 1, r.y - 1, r.width + 2, r.height + 2}; }

}  // namespace specinv
