// Copyright specinv authors.
//
// PixelRect: an axis-aligned rectangle of whole pixels in image coordinates
// (x to the right, y down, (0, 0) = top-left pixel). It covers the columns
// [x, x + width) and the rows [y, y + height); width or height <= 0 is empty.
//
// Plain value type; thread-safe.

#ifndef SPECINV_RENDER_PIXEL_RECT_H_
#define SPECINV_RENDER_PIXEL_RECT_H_

#include <algorithm>

namespace specinv {

struct PixelRect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;

  int right() const { return x + width; }    // first column past the rectangle
  int bottom() const { return y + height; }  // first row past the rectangle
  bool empty() const { return width <= 0 || height <= 0; }
  bool Contains(int px, int py) const { return px >= x && px < right() && py >= y && py < bottom(); }
  bool Intersects(const PixelRect& o) const {
    return !empty() && !o.empty() && x < o.right() && o.x < right() && y < o.bottom() && o.y < bottom();
  }
  // The common part (empty when they do not meet).
  PixelRect Intersection(const PixelRect& o) const {
    const int x0 = std::max(x, o.x), y0 = std::max(y, o.y);
    const int x1 = std::min(right(), o.right()), y1 = std::min(bottom(), o.bottom());
    if (x1 <= x0 || y1 <= y0) return PixelRect{};
    return PixelRect{x0, y0, x1 - x0, y1 - y0};
  }
  bool operator==(const PixelRect&) const = default;
};

}  // namespace specinv

#endif  // SPECINV_RENDER_PIXEL_RECT_H_
