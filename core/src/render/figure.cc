// Copyright specinv authors.

#include "specinv/render/figure.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "absl/strings/str_format.h"
#include "specinv/render/text.h"

namespace specinv {
namespace {

// Upper estimate of a tick label's width: DejaVu Sans digits, signs and the
// decimal point are at most 0.7 em wide.
double EstimatedLabelWidth(std::string_view utf8) {
  int code_points = 0;
  for (char c : utf8) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return 0.7 * kTickFontPixels * code_points;
}

// True when neighbouring x labels, centred on their ticks, keep a gap of
// at least kMinLabelGap pixels.
constexpr double kMinLabelGap = 8.0;
bool LabelsClear(const std::vector<Tick>& ticks) {
  for (size_t i = 1; i < ticks.size(); ++i) {
    const double need = (EstimatedLabelWidth(ticks[i - 1].label) + EstimatedLabelWidth(ticks[i].label)) / 2.0;
    if (ticks[i].position - ticks[i - 1].position < need + kMinLabelGap) return false;
  }
  return true;
}

void FillRect(Image& image, const PixelRect& r, Rgb8 colour) {
  const PixelRect v = r.Intersection(PixelRect{0, 0, image.width, image.height});
  for (int y = v.y; y < v.bottom(); ++y) {
    for (int x = v.x; x < v.right(); ++x) image.set(x, y, colour);
  }
}

// One-pixel outline just outside `r`.
void Outline(Image& image, const PixelRect& r, Rgb8 colour) {
  const PixelRect b = BorderOf(r);
  FillRect(image, PixelRect{b.x, b.y, b.width, 1}, colour);
  FillRect(image, PixelRect{b.x, b.bottom() - 1, b.width, 1}, colour);
  FillRect(image, PixelRect{b.x, b.y, 1, b.height}, colour);
  FillRect(image, PixelRect{b.right() - 1, b.y, 1, b.height}, colour);
}

// Centred on `centre` along `length` pixels from `start`, or left-aligned
// when the text does not fit.
double CentredAnchor(double start, double length, double centre, double text_width, TextAlign* align) {
  if (text_width > length) {
    *align = TextAlign::kStart;
    return start;
  }
  *align = TextAlign::kCenter;
  // Keep the whole text inside [start, start + length].
  return std::clamp(centre, start + text_width / 2.0, start + length - text_width / 2.0);
}

}  // namespace

FigureTicks ComputeFigureTicks(const FigureSpec& spec, int plot_width, int plot_height) {
  FigureTicks ticks;
  Axis x = spec.x_axis;
  x.length_pixels = plot_width;
  double spacing = kXTickSpacing;
  ticks.x = AxisTicks(x, spacing);
  for (int guard = 0; guard < 8 && !LabelsClear(ticks.x); ++guard) {
    spacing *= 1.5;
    ticks.x = AxisTicks(x, spacing);
  }
  Axis y = spec.y_axis;
  y.length_pixels = plot_height;
  ticks.y = AxisTicks(y, kYTickSpacing);
  Axis c = spec.color_axis;
  c.length_pixels = plot_height;
  ticks.color = AxisTicks(c, kColorTickSpacing);
  return ticks;
}

int XTickColumn(const FigureLayout& layout, double position) {
  const int offset = std::clamp(static_cast<int>(std::floor(position)), 0, std::max(0, layout.plot.width - 1));
  return layout.plot.x + offset;
}

int YTickRow(const FigureLayout& layout, double position) {
  const int offset = std::clamp(static_cast<int>(std::floor(position)), 0, std::max(0, layout.plot.height - 1));
  return layout.plot.bottom() - 1 - offset;
}

absl::StatusOr<Image> ComposeFigure(const Image& heatmap, const FigureSpec& spec) {
  if (heatmap.width < 1 || heatmap.height < 1 || heatmap.width > kMaxPngDimension - kFigureFrameWidth ||
      heatmap.height > kMaxPngDimension - kFigureFrameHeight ||
      heatmap.rgb.size() != 3 * static_cast<size_t>(heatmap.width) * static_cast<size_t>(heatmap.height)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "figure heatmap must be between 1x1 and %dx%d pixels with 3 bytes per pixel, got %dx%d (%d bytes)",
        kMaxPngDimension - kFigureFrameWidth, kMaxPngDimension - kFigureFrameHeight, heatmap.width, heatmap.height,
        heatmap.rgb.size()));
  }
  const FigureLayout layout = ComputeFigureLayout(heatmap.width, heatmap.height);
  Image image = Image::Filled(layout.width, layout.height, kFigureBackground);

  // Heatmap, copied row by row.
  const size_t row_bytes = 3 * static_cast<size_t>(heatmap.width);
  for (int y = 0; y < heatmap.height; ++y) {
    const size_t src = static_cast<size_t>(y) * row_bytes;
    const size_t dst = 3 * (static_cast<size_t>(layout.plot.y + y) * static_cast<size_t>(layout.width) +
                            static_cast<size_t>(layout.plot.x));
    std::copy_n(heatmap.rgb.begin() + static_cast<ptrdiff_t>(src), row_bytes,
                image.rgb.begin() + static_cast<ptrdiff_t>(dst));
  }
  // Colour bar gradient, lowest colour at the bottom.
  const PixelRect& bar = layout.color_bar;
  for (int y = 0; y < bar.height; ++y) {
    const Rgb8 colour = MapColor(spec.colormap, 1.0f - (static_cast<float>(y) + 0.5f) / static_cast<float>(bar.height));
    FillRect(image, PixelRect{bar.x, bar.y + y, bar.width, 1}, colour);
  }
  Outline(image, layout.plot, kFigureInk);
  Outline(image, bar, kFigureInk);

  absl::StatusOr<TextPainter> painter = TextPainter::Create();
  if (!painter.ok()) return painter.status();
  const TextStyle tick_style{.size_pixels = kTickFontPixels};

  const FigureTicks ticks = ComputeFigureTicks(spec, heatmap.width, heatmap.height);
  for (const Tick& t : ticks.x) {
    const int col = XTickColumn(layout, t.position);
    FillRect(image, PixelRect{col, layout.x_ticks.y, 1, layout.x_ticks.height}, kFigureInk);
    const TextPlacement at{.x = col + 0.5,
                           .y = static_cast<double>(layout.x_tick_labels.y),
                           .horizontal = TextAlign::kCenter,
                           .vertical = TextAlign::kStart};
    if (auto s = painter->Draw(image, t.label, tick_style, at, layout.x_tick_labels); !s.ok()) return s;
  }
  for (const Tick& t : ticks.y) {
    const int row = YTickRow(layout, t.position);
    FillRect(image, PixelRect{layout.y_ticks.x, row, layout.y_ticks.width, 1}, kFigureInk);
    const TextPlacement at{.x = static_cast<double>(layout.y_tick_labels.right()),
                           .y = row + 0.5,
                           .horizontal = TextAlign::kEnd,
                           .vertical = TextAlign::kCenter};
    if (auto s = painter->Draw(image, t.label, tick_style, at, layout.y_tick_labels); !s.ok()) return s;
  }
  for (const Tick& t : ticks.color) {
    const int row = YTickRow(layout, t.position);
    FillRect(image, PixelRect{layout.color_bar_ticks.x, row, layout.color_bar_ticks.width, 1}, kFigureInk);
    const TextPlacement at{.x = static_cast<double>(layout.color_bar_tick_labels.x),
                           .y = row + 0.5,
                           .horizontal = TextAlign::kStart,
                           .vertical = TextAlign::kCenter};
    if (auto s = painter->Draw(image, t.label, tick_style, at, layout.color_bar_tick_labels); !s.ok()) return s;
  }

  // Title, centred over the heatmap when it fits in the title row.
  {
    TextStyle title_style{.size_pixels = kTitleFontPixels, .bold = true, .max_width_pixels = layout.title.width};
    const TextSize size = painter->Measure(spec.title, title_style);
    TextPlacement at{.y = layout.title.y + layout.title.height / 2.0, .vertical = TextAlign::kCenter};
    at.x = CentredAnchor(layout.title.x, layout.title.width, layout.plot.x + layout.plot.width / 2.0, size.width,
                         &at.horizontal);
    if (auto s = painter->Draw(image, spec.title, title_style, at, layout.title); !s.ok()) return s;
  }
  {
    const TextStyle x_label_style{.size_pixels = kLabelFontPixels, .max_width_pixels = layout.x_label.width};
    const TextSize size = painter->Measure(spec.x_label, x_label_style);
    TextPlacement at{.y = layout.x_label.y + layout.x_label.height / 2.0, .vertical = TextAlign::kCenter};
    at.x = CentredAnchor(layout.x_label.x, layout.x_label.width, layout.plot.x + layout.plot.width / 2.0, size.width,
                         &at.horizontal);
    if (auto s = painter->Draw(image, spec.x_label, x_label_style, at, layout.x_label); !s.ok()) return s;
  }
  // Side labels, rotated, centred on the plot's height.
  for (const auto& [text, rect] :
       {std::pair{&spec.y_label, &layout.y_label}, std::pair{&spec.color_label, &layout.color_bar_label}}) {
    const TextStyle side_style{.size_pixels = kLabelFontPixels, .max_width_pixels = rect->height};
    const TextSize size = painter->Measure(*text, side_style);
    TextPlacement at{.x = rect->x + rect->width / 2.0, .horizontal = TextAlign::kCenter, .rotated = true};
    if (size.width > rect->height) {
      // Too long: keep its beginning, which is at the bottom.
      at.y = rect->bottom();
      at.vertical = TextAlign::kEnd;
    } else {
      at.y = std::clamp(layout.plot.y + layout.plot.height / 2.0, rect->y + size.width / 2.0,
                        rect->bottom() - size.width / 2.0);
      at.vertical = TextAlign::kCenter;
    }
    if (auto s = painter->Draw(image, *text, side_style, at, *rect); !s.ok()) return s;
  }
  return image;
}

}  // namespace specinv
