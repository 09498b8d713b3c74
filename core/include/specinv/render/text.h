// Copyright specinv authors.
//
// Text on images: one line of UTF-8 text drawn into an 8-bit RGB Image with
// pango and cairo (DejaVu Sans, greyscale antialiasing), for figure titles,
// axis labels and tick labels.
//
// Geometry: the text's logical box (pango's logical extents: the advance
// width by the line height) is placed by an anchor point and an alignment;
// rotated text is turned 90 degrees counter-clockwise (it reads bottom to
// top) and aligned by its rotated box. Glyphs are rendered opaque onto
// `style.background`, and only pixels that differ from it are written, so on
// a background of that colour the result is the text composited over it.
// Only pixels inside `clip` (and the image) change.
//
// Fonts: "DejaVu Sans" through fontconfig (fonts-dejavu-core); when it is
// missing fontconfig substitutes another sans font and the text still draws.
// Sizes are absolute pixels per em, so output does not depend on a DPI.
//
// Thread safety: a TextPainter uses the pango font map of the thread that
// created it (pango_cairo_font_map_get_default is per thread); use it on that
// thread only. Painters on different threads are independent and produce
// identical pixels.
//
// Cost: the first painter of a thread loads fontconfig's configuration and
// the font (tens of milliseconds; a few MB kept for the thread's lifetime);
// after that a label costs microseconds plus a scratch surface of its size
// (4 bytes per pixel).

#ifndef SPECINV_RENDER_TEXT_H_
#define SPECINV_RENDER_TEXT_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/render/pixel_rect.h"
#include "specinv/render/png_image.h"

namespace specinv {

struct TextStyle {
  double size_pixels = 11.0;          // em size, (0, 1000]
  bool bold = false;
  Rgb8 color{0, 0, 0};
  Rgb8 background{255, 255, 255};
  int max_width_pixels = 0;           // > 0: longer text ends in an ellipsis to fit (Measure too)
};

enum class TextAlign {
  kStart,   // anchor at the box's left (or top) edge
  kCenter,
  kEnd,     // anchor at the right (or bottom) edge
};

struct TextPlacement {
  double x = 0.0;  // anchor, image pixel coordinates (pixel (i, j) covers [i, i+1) x [j, j+1))
  double y = 0.0;
  TextAlign horizontal = TextAlign::kStart;
  TextAlign vertical = TextAlign::kStart;
  bool rotated = false;  // 90 degrees counter-clockwise
};

struct TextSize {
  int width = 0;   // logical box of the unrotated text
  int height = 0;
};

class TextPainter {
 public:
  // Internal if pango cannot make a context (no font map).
  static absl::StatusOr<TextPainter> Create();

  TextPainter(TextPainter&&) noexcept;
  TextPainter& operator=(TextPainter&&) noexcept;
  ~TextPainter();

  // Logical size of `text` (unrotated). Invalid UTF-8 measures as empty.
  TextSize Measure(std::string_view text, const TextStyle& style) const;

  // Draws `text` into `image`. InvalidArgument for invalid UTF-8 or a size
  // outside (0, 1000]; Internal if cairo cannot make the scratch surface.
  // Empty text draws nothing.
  absl::Status Draw(Image& image, std::string_view text, const TextStyle& style, const TextPlacement& at,
                    const PixelRect& clip) const;

 private:
  struct Impl;
  explicit TextPainter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace specinv

#endif  // SPECINV_RENDER_TEXT_H_
