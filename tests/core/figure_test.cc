// Copyright specinv authors.
//
// Figures (figure.h, figure_layout.h, axis_ticks.h, text.h): tick choice,
// layout geometry, and pixel checks of rendered figures against the layout.

#include "specinv/render/figure.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "specinv/analysis/feature_config.h"
#include "specinv/render/axis_ticks.h"
#include "specinv/render/figure_layout.h"
#include "specinv/render/render.h"
#include "specinv/render/render_cost.h"
#include "specinv/render/text.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kSampleRate = 22050.0;
constexpr double kPi = std::numbers::pi;
const std::string kMinus = "\xe2\x88\x92";
const std::string kPiSign = "\xcf\x80";

FeatureConfig Librosa() { return GetPreset("librosa").value(); }  // n_fft 2048, hop 512, 128 mels

const RenderView kAllViews[] = {RenderView::kMagnitude, RenderView::kMel,
                                RenderView::kPhase,     RenderView::kPhaseDeinterleaved,
                                RenderView::kPhaseFft2, RenderView::kInstantaneousFrequency,
                                RenderView::kGroupDelay};

// Text and lines are drawn in black (antialiased into grey); the frame's
// background is white.
bool IsInk(Rgb8 c) { return !(c == kFigureBackground); }
bool IsBlack(Rgb8 c) { return c == kFigureInk; }

int InkPixels(const Image& image, const PixelRect& r) {
  int count = 0;
  for (int y = r.y; y < r.bottom(); ++y) {
    for (int x = r.x; x < r.right(); ++x) count += IsInk(image.at(x, y)) ? 1 : 0;
  }
  return count;
}

// Mantissa of a positive nice value m x 10^k.
double Mantissa(double v) { return v / std::pow(10.0, std::floor(std::log10(v) + 1e-12)); }

// m x 10^k with m in {1, 2, 3, 5}.
bool IsNice(double v) {
  const double m = Mantissa(v);
  for (double nice : {1.0, 2.0, 3.0, 5.0}) {
    if (std::abs(m - nice) < 1e-9) return true;
  }
  return false;
}

// ---------------------------------------------------------------- ticks

TEST(AxisTicksTest, LinearTicksAreNiceNumbersInRange) {
  struct Case {
    double start, end;
    int length;
    double spacing;
  };
  for (const Case& c : {Case{0.0, 10.0, 500, 40.0}, Case{-0.0116, 2.03, 900, 60.0}, Case{-80.0, 0.0, 300, 24.0},
                        Case{-43.07, 43.07, 200, 24.0}, Case{-0.5, 1024.5, 1025, 28.0}, Case{-0.046, 0.046, 320, 24.0},
                        Case{1000.0, 1000.5, 80, 28.0}}) {
    const Axis axis{.start = c.start, .end = c.end, .length_pixels = c.length};
    const std::vector<Tick> ticks = AxisTicks(axis, c.spacing);
    ASSERT_GE(ticks.size(), 2u) << c.start << ".." << c.end;
    const double step = ticks[1].value - ticks[0].value;
    EXPECT_THAT(Mantissa(step), ::testing::AnyOf(::testing::DoubleNear(1.0, 1e-9), ::testing::DoubleNear(2.0, 1e-9),
                                                 ::testing::DoubleNear(5.0, 1e-9)))
        << step;
    for (size_t i = 0; i < ticks.size(); ++i) {
      const Tick& t = ticks[i];
      EXPECT_GE(t.value, c.start - 1e-12);
      EXPECT_LE(t.value, c.end + 1e-12);
      EXPECT_NEAR(std::remainder(t.value, step), 0.0, 1e-6 * step) << t.value;  // multiples of the step
      EXPECT_NEAR(t.position, AxisPosition(axis, t.value), 1e-9);
      if (i > 0) {
        EXPECT_GE(t.position - ticks[i - 1].position, c.spacing - 1e-6);
      }
    }
    // The step is the smallest nice one that keeps the spacing: 1-2-5 below it would not.
    const double smaller = Mantissa(step) < 3.0 ? step / 2.0 : step * 0.4;
    EXPECT_LT(smaller * c.length / (c.end - c.start), c.spacing) << step;
  }
}

TEST(AxisTicksTest, LinearLabelsUseTheStepsDecimalsAndMinusSign) {
  std::vector<std::string> labels;
  for (const Tick& t : AxisTicks(Axis{.start = 0.0, .end = 10.0, .length_pixels = 500}, 40.0))
    labels.push_back(t.label);
  EXPECT_THAT(labels, ElementsAre("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"));
  labels.clear();
  for (const Tick& t : AxisTicks(Axis{.start = -80.0, .end = 0.0, .length_pixels = 100}, 24.0))
    labels.push_back(t.label);
  EXPECT_THAT(labels, ElementsAre(kMinus + "80", kMinus + "60", kMinus + "40", kMinus + "20", "0"));
  labels.clear();
  for (const Tick& t : AxisTicks(Axis{.start = 0.0, .end = 1.0, .length_pixels = 300}, 60.0)) labels.push_back(t.label);
  EXPECT_THAT(labels, ElementsAre("0.0", "0.2", "0.4", "0.6", "0.8", "1.0"));
  EXPECT_EQ(FormatTickValue(-0.0001, 2), "0.00");
  EXPECT_EQ(FormatTickValue(-1.5, 1), kMinus + "1.5");
  EXPECT_EQ(FormatTickValue(20000.0, 0), "20000");
}

TEST(AxisTicksTest, NarrowRangeKeepsOneTickNearTheMiddle) {
  const Axis axis{.start = 0.31, .end = 0.34, .length_pixels = 10};
  const std::vector<Tick> ticks = AxisTicks(axis, 60.0);
  ASSERT_EQ(ticks.size(), 1u);
  EXPECT_GE(ticks[0].value, 0.31);
  EXPECT_LE(ticks[0].value, 0.34);
}

TEST(AxisTicksTest, MelTicksAreNiceAndSpaced) {
  for (MelScale scale : {MelScale::kSlaney, MelScale::kHtk}) {
    const Axis axis{.scale = AxisScale::kMel, .mel_scale = scale, .start = 0.0, .end = 11025.0, .length_pixels = 320};
    const std::vector<Tick> ticks = AxisTicks(axis, 24.0);
    ASSERT_GE(ticks.size(), 4u);
    EXPECT_EQ(ticks.front().value, 0.0);
    bool has_1000 = false;
    for (size_t i = 0; i < ticks.size(); ++i) {
      const Tick& t = ticks[i];
      has_1000 |= t.value == 1000.0;
      EXPECT_LE(t.value, 11025.0);
      if (t.value > 0.0) {
        EXPECT_TRUE(IsNice(t.value)) << t.value;
      }
      EXPECT_NEAR(t.position, AxisPosition(axis, t.value), 1e-9);
      if (i > 0) {
        EXPECT_GT(t.value, ticks[i - 1].value);
        EXPECT_GE(t.position - ticks[i - 1].position, 24.0 - 1e-9);
      }
    }
    EXPECT_TRUE(has_1000);
  }
  // Mel positions are mel-linear: 1 kHz sits at 15 of the ~48.4 Slaney mels up to 11025 Hz.
  const Axis slaney{.scale = AxisScale::kMel, .start = 0.0, .end = 11025.0, .length_pixels = 1000};
  EXPECT_NEAR(AxisPosition(slaney, 1000.0), 1000.0 * 15.0 / HzToMel(11025.0, MelScale::kSlaney), 1e-6);
}

TEST(AxisTicksTest, LogTicksAreDecadesFirst) {
  const Axis axis{.scale = AxisScale::kLog, .start = 20.0, .end = 20000.0, .length_pixels = 300};
  std::vector<double> values;
  for (const Tick& t : AxisTicks(axis, 24.0)) values.push_back(t.value);
  EXPECT_THAT(values, ::testing::IsSupersetOf({100.0, 1000.0, 10000.0}));
  for (double v : values) EXPECT_TRUE(IsNice(v)) << v;
  EXPECT_NEAR(AxisPosition(axis, 200.0), 100.0, 1e-9);  // one decade of three
  EXPECT_TRUE(std::isnan(AxisPosition(axis, -1.0)));
  EXPECT_TRUE(AxisTicks(Axis{.scale = AxisScale::kLog, .start = 0.0, .end = 10.0, .length_pixels = 100}, 20.0).empty());
}

TEST(AxisTicksTest, AngleTicksAreHalfPiMultiples) {
  const Axis axis{.scale = AxisScale::kAngle, .start = -kPi, .end = kPi, .length_pixels = 300};
  std::vector<std::string> labels;
  std::vector<double> positions;
  for (const Tick& t : AxisTicks(axis, 24.0)) {
    labels.push_back(t.label);
    positions.push_back(t.position);
  }
  EXPECT_THAT(labels, ElementsAre(kMinus + kPiSign, kMinus + kPiSign + "/2", "0", kPiSign + "/2", kPiSign));
  using ::testing::DoubleNear;
  EXPECT_THAT(positions, ElementsAre(DoubleNear(0.0, 1e-9), DoubleNear(75.0, 1e-9), DoubleNear(150.0, 1e-9),
                                     DoubleNear(225.0, 1e-9), DoubleNear(300.0, 1e-9)));
  // Too short for pi/2 steps: multiples of pi.
  labels.clear();
  for (const Tick& t :
       AxisTicks(Axis{.scale = AxisScale::kAngle, .start = -kPi, .end = kPi, .length_pixels = 60}, 24.0)) {
    labels.push_back(t.label);
  }
  EXPECT_THAT(labels, ElementsAre(kMinus + kPiSign, "0", kPiSign));
  EXPECT_EQ(FormatHalfPiMultiple(3), "3" + kPiSign + "/2");
  EXPECT_EQ(FormatHalfPiMultiple(-4), kMinus + "2" + kPiSign);
}

TEST(AxisTicksTest, DegenerateAxesHaveNoTicks) {
  EXPECT_TRUE(AxisTicks(Axis{.start = 0.0, .end = 1.0, .length_pixels = 0}, 10.0).empty());
  EXPECT_TRUE(AxisTicks(Axis{.start = 1.0, .end = 1.0, .length_pixels = 100}, 10.0).empty());
  EXPECT_TRUE(AxisTicks(Axis{.start = 0.0, .end = std::nan(""), .length_pixels = 100}, 10.0).empty());
}

// ---------------------------------------------------------------- layout

TEST(FigureLayoutTest, FrameAroundThePlot) {
  for (const auto& [w, h] : {std::pair{1, 1}, std::pair{44, 128}, std::pair{900, 320}, std::pair{17, 1025}}) {
    const FigureLayout l = ComputeFigureLayout(w, h);
    EXPECT_EQ(l.width, w + kFigureFrameWidth);
    EXPECT_EQ(l.height, h + kFigureFrameHeight);
    EXPECT_EQ(l.plot, (PixelRect{kFigurePlotLeft, kFigurePlotTop, w, h}));
    EXPECT_EQ(l.color_bar.height, h);
    EXPECT_EQ(l.color_bar.y, l.plot.y);
    const PixelRect image{0, 0, l.width, l.height};
    const std::vector<PixelRect> parts = {l.title,           l.x_tick_labels,  l.x_label,
                                          l.y_tick_labels,   l.y_label,        l.color_bar_tick_labels,
                                          l.color_bar_label, BorderOf(l.plot), BorderOf(l.color_bar),
                                          l.x_ticks,         l.y_ticks,        l.color_bar_ticks};
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ(parts[i].Intersection(image), parts[i]) << "part " << i << " leaves the image";
      EXPECT_FALSE(parts[i].empty()) << "part " << i;
      for (size_t j = i + 1; j < parts.size(); ++j) {
        EXPECT_FALSE(parts[i].Intersects(parts[j]))
            << "parts " << i << " and " << j << " overlap, plot " << w << "x" << h;
      }
    }
    // Ticks touch their axis lines.
    EXPECT_EQ(l.x_ticks.y, l.plot.bottom() + 1);
    EXPECT_EQ(l.y_ticks.right(), l.plot.x - 1);
    EXPECT_EQ(l.color_bar_ticks.x, l.color_bar.right() + 1);
  }
}

// ---------------------------------------------------------------- text

TEST(TextPainterTest, DrawsInsideTheClipOnly) {
  auto painter = TextPainter::Create();
  ASSERT_TRUE(painter.ok()) << painter.status();
  const TextStyle style{.size_pixels = 12.0};
  const TextSize size = painter->Measure("Frequency (Hz)", style);
  EXPECT_GT(size.width, 60);
  EXPECT_GE(size.height, 12);
  Image image = Image::Filled(200, 100, kFigureBackground);
  const PixelRect clip{10, 10, 40, 30};
  ASSERT_TRUE(painter->Draw(image, "Frequency (Hz)", style, TextPlacement{.x = 10, .y = 10}, clip).ok());
  EXPECT_GT(InkPixels(image, clip), 20);
  EXPECT_EQ(InkPixels(image, PixelRect{0, 0, 200, 100}), InkPixels(image, clip));
  // Rotated text is taller than wide.
  Image rotated = Image::Filled(60, 200, kFigureBackground);
  ASSERT_TRUE(
      painter
          ->Draw(
              rotated, "Frequency (Hz)", style,
              TextPlacement{
                  .x = 30, .y = 100, .horizontal = TextAlign::kCenter, .vertical = TextAlign::kCenter, .rotated = true},
              PixelRect{0, 0, 60, 200})
          .ok());
  int x0 = 60, x1 = 0, y0 = 200, y1 = 0;
  for (int y = 0; y < 200; ++y) {
    for (int x = 0; x < 60; ++x) {
      if (!IsInk(rotated.at(x, y))) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  EXPECT_GT(y1 - y0, 3 * (x1 - x0));
  EXPECT_NEAR((y0 + y1) / 2.0, 100.0, 4.0);
  EXPECT_EQ(painter->Draw(image, "\xff\xfe", style, TextPlacement{}, clip).code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------- figures

class FigureTest : public ::testing::Test {
 protected:
  static RenderOptions Options(RenderView view, bool figure) {
    RenderOptions o;
    o.view = view;
    o.width = 240;
    o.height = 160;
    o.figure = figure;
    return o;
  }
  Rendering Render(const RenderOptions& o) {
    auto r = RenderSpectrogram(audio_, Librosa(), o);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : Rendering{};
  }
  const std::vector<float> audio_ = testing::Chirp(200.0, 6000.0, kSampleRate, 22050);
};

TEST_F(FigureTest, HeatmapAreaMatchesBareRender) {
  for (RenderView view : kAllViews) {
    const Rendering bare = Render(Options(view, false));
    const Rendering fig = Render(Options(view, true));
    ASSERT_EQ(bare.image.width, 240);
    ASSERT_EQ(bare.image.height, 160);
    EXPECT_EQ(bare.plot_x, 0);
    EXPECT_FALSE(bare.figure.has_value());
    ASSERT_EQ(fig.image.width, 240 + kFigureFrameWidth) << RenderViewName(view);
    ASSERT_EQ(fig.image.height, 160 + kFigureFrameHeight);
    const FigureLayout layout = ComputeFigureLayout(240, 160);
    EXPECT_EQ(fig.plot_x, layout.plot.x);
    EXPECT_EQ(fig.plot_y, layout.plot.y);
    int differing = 0;
    for (int y = 0; y < 160; ++y) {
      for (int x = 0; x < 240; ++x)
        differing += bare.image.at(x, y) == fig.image.at(fig.plot_x + x, fig.plot_y + y) ? 0 : 1;
    }
    EXPECT_EQ(differing, 0) << RenderViewName(view);
    EXPECT_EQ(fig.value_min, bare.value_min);
    EXPECT_EQ(fig.value_max, bare.value_max);
  }
  // The bare colour bar is ignored by a figure (it has its own).
  RenderOptions o = Options(RenderView::kMel, true);
  o.color_bar = true;
  EXPECT_EQ(Render(o).image.width, 240 + kFigureFrameWidth);
}

TEST_F(FigureTest, AxisLinesAndTicksWhereTheLayoutSays) {
  for (RenderView view : {RenderView::kMel, RenderView::kMagnitude, RenderView::kPhaseFft2}) {
    const Rendering r = Render(Options(view, true));
    ASSERT_TRUE(r.figure.has_value());
    const Image& image = r.image;
    const FigureLayout l = ComputeFigureLayout(240, 160);
    // Axis lines: the one-pixel borders of the plot and the colour bar.
    for (const PixelRect& inner : {l.plot, l.color_bar}) {
      const PixelRect b = BorderOf(inner);
      for (int x = b.x; x < b.right(); ++x) {
        EXPECT_TRUE(IsBlack(image.at(x, b.y)));
        EXPECT_TRUE(IsBlack(image.at(x, b.bottom() - 1)));
      }
      for (int y = b.y; y < b.bottom(); ++y) {
        EXPECT_TRUE(IsBlack(image.at(b.x, y)));
        EXPECT_TRUE(IsBlack(image.at(b.right() - 1, y)));
      }
    }
    // Tick marks: black exactly in the tick columns / rows, white elsewhere.
    const FigureTicks ticks = ComputeFigureTicks(*r.figure, 240, 160);
    ASSERT_GE(ticks.x.size(), 2u) << RenderViewName(view);
    ASSERT_GE(ticks.y.size(), 2u) << RenderViewName(view);
    ASSERT_GE(ticks.color.size(), 2u) << RenderViewName(view);
    std::vector<bool> x_tick(static_cast<size_t>(image.width), false);
    for (const Tick& t : ticks.x) x_tick[static_cast<size_t>(XTickColumn(l, t.position))] = true;
    for (int x = l.x_ticks.x; x < l.x_ticks.right(); ++x) {
      for (int y = l.x_ticks.y; y < l.x_ticks.bottom(); ++y) {
        EXPECT_EQ(IsBlack(image.at(x, y)), x_tick[static_cast<size_t>(x)]) << RenderViewName(view) << " x=" << x;
      }
    }
    for (const auto& [axis_ticks, rect] :
         {std::pair{&ticks.y, l.y_ticks}, std::pair{&ticks.color, l.color_bar_ticks}}) {
      std::vector<bool> tick_row(static_cast<size_t>(image.height), false);
      for (const Tick& t : *axis_ticks) tick_row[static_cast<size_t>(YTickRow(l, t.position))] = true;
      for (int y = rect.y; y < rect.bottom(); ++y) {
        for (int x = rect.x; x < rect.right(); ++x) {
          EXPECT_EQ(IsBlack(image.at(x, y)), tick_row[static_cast<size_t>(y)]) << RenderViewName(view) << " y=" << y;
        }
      }
    }
  }
}

TEST_F(FigureTest, TickLabelsInsideAxisArea) {
  for (RenderView view : kAllViews) {
    const Rendering r = Render(Options(view, true));
    ASSERT_TRUE(r.figure.has_value());
    const Image& image = r.image;
    const FigureLayout l = ComputeFigureLayout(240, 160);
    // Every text region has text.
    for (const PixelRect& text : {l.title, l.x_tick_labels, l.x_label, l.y_tick_labels, l.y_label,
                                  l.color_bar_tick_labels, l.color_bar_label}) {
      EXPECT_GT(InkPixels(image, text), 10) << RenderViewName(view) << " at " << text.x << "," << text.y;
    }
    // Nothing outside the drawn parts.
    const std::vector<PixelRect> drawn = {l.title,           l.x_tick_labels,  l.x_label,
                                          l.y_tick_labels,   l.y_label,        l.color_bar_tick_labels,
                                          l.color_bar_label, BorderOf(l.plot), BorderOf(l.color_bar),
                                          l.x_ticks,         l.y_ticks,        l.color_bar_ticks};
    int stray = 0;
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        bool inside = false;
        for (const PixelRect& d : drawn) inside |= d.Contains(x, y);
        if (!inside && IsInk(image.at(x, y))) ++stray;
      }
    }
    EXPECT_EQ(stray, 0) << RenderViewName(view);
    // Each x tick's label sits under it: ink within half a label width of the
    // tick column, in the label row.
    const FigureTicks ticks = ComputeFigureTicks(*r.figure, 240, 160);
    for (const Tick& t : ticks.x) {
      const int col = XTickColumn(l, t.position);
      EXPECT_GT(InkPixels(image, PixelRect{col - 3, l.x_tick_labels.y, 7, l.x_tick_labels.height}), 0)
          << RenderViewName(view) << " tick " << t.label;
    }
    // y tick labels are right-aligned against the ticks and vertically centred on them.
    for (const Tick& t : ticks.y) {
      const int row = YTickRow(l, t.position);
      EXPECT_GT(InkPixels(image, PixelRect{l.y_tick_labels.right() - 8, row - 4, 8, 9}), 0)
          << RenderViewName(view) << " tick " << t.label;
    }
    // Between two y ticks that are far apart there is no label text.
    for (size_t i = 1; i < ticks.y.size(); ++i) {
      const int lower = YTickRow(l, ticks.y[i - 1].position), upper = YTickRow(l, ticks.y[i].position);
      if (lower - upper < 2 * kTickLabelHeight + 4) continue;
      EXPECT_EQ(InkPixels(image, PixelRect{l.y_tick_labels.x, upper + kTickLabelHeight, l.y_tick_labels.width,
                                           lower - upper - 2 * kTickLabelHeight}),
                0)
          << RenderViewName(view);
    }
  }
}

TEST_F(FigureTest, ColorbarSpansLayout) {
  for (RenderView view : {RenderView::kMel, RenderView::kPhase, RenderView::kGroupDelay}) {
    const Rendering r = Render(Options(view, true));
    const FigureLayout l = ComputeFigureLayout(240, 160);
    const PixelRect& bar = l.color_bar;
    for (int y = 0; y < bar.height; ++y) {
      const Rgb8 expected =
          MapColor(r.colormap, 1.0f - (static_cast<float>(y) + 0.5f) / static_cast<float>(bar.height));
      for (int x = bar.x; x < bar.right(); ++x) ASSERT_EQ(r.image.at(x, bar.y + y), expected) << y;
    }
    const ColormapTable& table = GetColormapTable(r.colormap);
    EXPECT_EQ(r.image.at(bar.x, bar.y), table[255]);
    EXPECT_EQ(r.image.at(bar.x, bar.bottom() - 1), table[0]);
    // The colour axis runs over the value range, lowest at the bottom.
    EXPECT_EQ(r.figure->color_axis.start, r.value_min);
    EXPECT_EQ(r.figure->color_axis.end, r.value_max);
  }
}

TEST_F(FigureTest, AxesDescribeTheView) {
  const FeatureConfig config = Librosa();
  const double frames = 44.0;  // 22050 samples, hop 512, centred
  Rendering mel = Render(Options(RenderView::kMel, true));
  ASSERT_TRUE(mel.figure.has_value());
  EXPECT_NEAR(mel.figure->x_axis.start, -0.5 * 512 / kSampleRate, 1e-12);
  EXPECT_NEAR(mel.figure->x_axis.end, (frames - 0.5) * 512 / kSampleRate, 1e-12);
  EXPECT_EQ(mel.figure->x_label, "Time (s)");
  EXPECT_EQ(mel.figure->y_axis.scale, AxisScale::kMel);
  EXPECT_THAT(mel.figure->y_label, HasSubstr("Hz"));
  EXPECT_EQ(mel.figure->color_label, "Level (dB)");
  EXPECT_THAT(mel.figure->title, HasSubstr("Mel spectrogram"));
  EXPECT_THAT(mel.figure->title, HasSubstr("128 mel bands"));
  // The y axis spans the outer edges of the first and last mel bands: band m
  // is centred at mel (m + 1) * mel(sr/2) / 129.
  const double step = HzToMel(kSampleRate / 2.0, MelScale::kSlaney) / 129.0;
  EXPECT_NEAR(HzToMel(mel.figure->y_axis.end, MelScale::kSlaney), 128.5 * step, 1e-9);
  EXPECT_NEAR(HzToMel(mel.figure->y_axis.start, MelScale::kSlaney), 0.5 * step, 1e-9);

  const Rendering magnitude = Render(Options(RenderView::kMagnitude, true));
  EXPECT_EQ(magnitude.figure->y_axis.scale, AxisScale::kLinear);
  EXPECT_NEAR(magnitude.figure->y_axis.end, 1024.5 * kSampleRate / config.stft.n_fft, 1e-9);
  EXPECT_EQ(magnitude.figure->y_label, "Frequency (Hz)");

  const Rendering fft2 = Render(Options(RenderView::kPhaseFft2, true));
  EXPECT_EQ(fft2.figure->x_label, "Cycles per frame");
  EXPECT_EQ(fft2.figure->y_label, "Cycles per bin");
  EXPECT_NEAR(fft2.figure->x_axis.start, (-0.5 - 22.0) / frames, 1e-12);
  EXPECT_NEAR(fft2.figure->x_axis.end, (frames - 0.5 - 22.0) / frames, 1e-12);
}

TEST_F(FigureTest, PhaseViewsGetRadianLabels) {
  for (RenderView view : {RenderView::kPhase, RenderView::kPhaseDeinterleaved}) {
    const Rendering r = Render(Options(view, true));
    ASSERT_TRUE(r.figure.has_value());
    EXPECT_EQ(r.figure->color_axis.scale, AxisScale::kAngle);
    EXPECT_EQ(r.figure->color_label, "Phase (rad)");
    EXPECT_EQ(r.figure->y_axis.scale, AxisScale::kLinear);  // bins or rows, not Hz
    EXPECT_THAT(r.figure->y_label, ::testing::AnyOf(HasSubstr("bin"), HasSubstr("Row")));
    std::vector<std::string> labels;
    for (const Tick& t : ComputeFigureTicks(*r.figure, 240, 160).color) labels.push_back(t.label);
    EXPECT_THAT(labels, ElementsAre(kMinus + kPiSign, kMinus + kPiSign + "/2", "0", kPiSign + "/2", kPiSign));
  }
  const Rendering phase = Render(Options(RenderView::kPhase, true));
  EXPECT_EQ(phase.figure->y_label, "Frequency bin");
  EXPECT_NEAR(phase.figure->y_axis.start, -0.5, 1e-12);
  EXPECT_NEAR(phase.figure->y_axis.end, 1024.5, 1e-12);
}

TEST_F(FigureTest, SmallAndNativeSizesStillFrame) {
  RenderOptions o;  // one column per frame, one row per mel band
  o.view = RenderView::kMel;
  const Rendering r = Render(o);
  EXPECT_EQ(r.plot_width, 44);
  EXPECT_EQ(r.plot_height, 128);
  EXPECT_EQ(r.image.width, 44 + kFigureFrameWidth);
  EXPECT_EQ(r.image.height, 128 + kFigureFrameHeight);
  o.width = 1;
  o.height = 1;
  const Rendering tiny = Render(o);
  EXPECT_EQ(tiny.image.width, 1 + kFigureFrameWidth);
  EXPECT_EQ(tiny.image.height, 1 + kFigureFrameHeight);
}

TEST_F(FigureTest, FrameCountsAgainstMaxDimension) {
  RenderOptions o;
  o.width = 8192 - kFigureFrameWidth + 1;
  auto s = RenderSpectrogram(audio_, Librosa(), o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("minus the 196-pixel figure frame"));
  o = RenderOptions{};
  o.max_dimension = 1000;  // 1025 bins + 85 rows of frame
  s = RenderSpectrogram(audio_, Librosa(), o).status();
  EXPECT_THAT(s.message(),
              HasSubstr("height is 0 (one row per bin) but 1025 rows are visible, more than the 915 rows"));
  o.max_dimension = kFigureFrameWidth;
  EXPECT_THAT(ValidateRenderOptions(o).message(), HasSubstr("max_dimension must be in [197, 65535]"));
  o.figure = false;
  EXPECT_TRUE(ValidateRenderOptions(o).ok());
}

TEST(FigureCostTest, CostCountsTheFrame) {
  const RenderShape shape{.rows = 128, .frames = 44};
  RenderOptions o;
  o.width = 900;
  o.height = 320;
  EXPECT_EQ(RenderPlotPixels(shape, o), 900 * 320);
  const int64_t figure_pixels = RenderPixels(shape, o);
  EXPECT_EQ(figure_pixels, (900 + kFigureFrameWidth) * (320 + kFigureFrameHeight));
  const JobCost figure = RenderCost(shape, o);
  o.figure = false;
  EXPECT_EQ(RenderPixels(shape, o), 900 * 320);
  const JobCost bare = RenderCost(shape, o);
  EXPECT_GT(figure.peak_bytes, bare.peak_bytes + 7 * (figure_pixels - 900 * 320));
  EXPECT_GT(figure.work_flops, bare.work_flops);
  o.color_bar = true;
  EXPECT_EQ(RenderPixels(shape, o), (900 + kColorBarGap + kColorBarWidth) * 320);
}

}  // namespace
}  // namespace specinv
