// Copyright specinv authors.

#include "specinv/render/text.h"

#include <cairo.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace specinv {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";
constexpr double kMaxTextPixels = 1000.0;

struct LayoutDeleter {
  void operator()(PangoLayout* layout) const { g_object_unref(layout); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, LayoutDeleter>;

struct SurfaceDeleter {
  void operator()(cairo_surface_t* surface) const { cairo_surface_destroy(surface); }
};
struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
};

double AlignFraction(TextAlign align) {
  switch (align) {
    case TextAlign::kStart: return 0.0;
    case TextAlign::kCenter: return 0.5;
    case TextAlign::kEnd: return 1.0;
  }
  return 0.0;
}

}  // namespace

struct TextPainter::Impl {
  PangoContext* context = nullptr;
  ~Impl() {
    if (context != nullptr) g_object_unref(context);
  }

  LayoutPtr Layout(std::string_view text, const TextStyle& style) const {
    LayoutPtr layout(pango_layout_new(context));
    PangoFontDescription* font = pango_font_description_new();
    pango_font_description_set_family(font, kFontFamily);
    pango_font_description_set_weight(font, style.bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(font, style.size_pixels * PANGO_SCALE);
    pango_layout_set_font_description(layout.get(), font);
    pango_font_description_free(font);
    pango_layout_set_single_paragraph_mode(layout.get(), TRUE);
    if (style.max_width_pixels > 0) {
      pango_layout_set_width(layout.get(), style.max_width_pixels * PANGO_SCALE);
      pango_layout_set_ellipsize(layout.get(), PANGO_ELLIPSIZE_END);
    }
    pango_layout_set_text(layout.get(), text.data(), static_cast<int>(text.size()));
    return layout;
  }
};

TextPainter::TextPainter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextPainter::TextPainter(TextPainter&&) noexcept = default;
TextPainter& TextPainter::operator=(TextPainter&&) noexcept = default;
TextPainter::~TextPainter() = default;

absl::StatusOr<TextPainter> TextPainter::Create() {
  PangoFontMap* font_map = pango_cairo_font_map_get_default();  // per thread, not owned
  if (font_map == nullptr) return absl::InternalError("text: pango has no cairo font map");
  auto impl = std::make_unique<Impl>();
  impl->context = pango_font_map_create_context(font_map);
  if (impl->context == nullptr) return absl::InternalError("text: pango could not create a context");
  // Greyscale antialiasing and whole-pixel metrics: the same pixels on every
  // machine with the same fonts, whatever the display settings.
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_SLIGHT);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_ON);
  pango_cairo_context_set_font_options(impl->context, options);
  cairo_font_options_destroy(options);
  return TextPainter(std::move(impl));
}

TextSize TextPainter::Measure(std::string_view text, const TextStyle& style) const {
  if (text.empty() || !g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr) ||
      !(style.size_pixels > 0.0 && style.size_pixels <= kMaxTextPixels)) {
    return TextSize{};
  }
  LayoutPtr layout = impl_->Layout(text, style);
  PangoRectangle logical;
  pango_layout_get_pixel_extents(layout.get(), nullptr, &logical);
  return TextSize{logical.width, logical.height};
}

absl::Status TextPainter::Draw(Image& image, std::string_view text, const TextStyle& style, const TextPlacement& at,
                               const PixelRect& clip) const {
  if (!(style.size_pixels > 0.0 && style.size_pixels <= kMaxTextPixels)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("text size_pixels must be in (0, %g], got %g", kMaxTextPixels, style.size_pixels));
  }
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  const PixelRect visible = clip.Intersection(PixelRect{0, 0, image.width, image.height});
  if (text.empty() || visible.empty()) return absl::OkStatus();

  LayoutPtr layout = impl_->Layout(text, style);
  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents(layout.get(), &ink, &logical);
  // The scratch surface holds both boxes (ink may stick out of the logical box).
  const int x0 = std::min(ink.x, logical.x), y0 = std::min(ink.y, logical.y);
  const int x1 = std::max(ink.x + ink.width, logical.x + logical.width);
  const int y1 = std::max(ink.y + ink.height, logical.y + logical.height);
  const int sw = x1 - x0, sh = y1 - y0;
  if (sw <= 0 || sh <= 0) return absl::OkStatus();

  std::unique_ptr<cairo_surface_t, SurfaceDeleter> surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, sw, sh));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    return absl::InternalError(absl::StrFormat("text: cairo could not create a %dx%d surface: %s", sw, sh,
                                               cairo_status_to_string(cairo_surface_status(surface.get()))));
  }
  {
    std::unique_ptr<cairo_t, CairoDeleter> cr(cairo_create(surface.get()));
    cairo_set_source_rgb(cr.get(), style.background.r / 255.0, style.background.g / 255.0, style.background.b / 255.0);
    cairo_paint(cr.get());
    cairo_set_source_rgb(cr.get(), style.color.r / 255.0, style.color.g / 255.0, style.color.b / 255.0);
    cairo_move_to(cr.get(), -x0, -y0);
    pango_cairo_show_layout(cr.get(), layout.get());
    if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) {
      return absl::InternalError(
          absl::StrFormat("text: cairo failed drawing: %s", cairo_status_to_string(cairo_status(cr.get()))));
    }
  }
  cairo_surface_flush(surface.get());
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());

  // The logical box in the image, after rotation.
  const int box_w = at.rotated ? logical.height : logical.width;
  const int box_h = at.rotated ? logical.width : logical.height;
  const auto left = static_cast<int>(std::floor(at.x - AlignFraction(at.horizontal) * box_w + 0.5));
  const auto top = static_cast<int>(std::floor(at.y - AlignFraction(at.vertical) * box_h + 0.5));
  for (int j = 0; j < sh; ++j) {
    const unsigned char* row = data + static_cast<ptrdiff_t>(j) * stride;
    for (int i = 0; i < sw; ++i) {
      uint32_t pixel = 0;
      std::memcpy(&pixel, row + 4 * static_cast<ptrdiff_t>(i), sizeof(pixel));
      const Rgb8 c{static_cast<uint8_t>((pixel >> 16) & 0xff), static_cast<uint8_t>((pixel >> 8) & 0xff),
                   static_cast<uint8_t>(pixel & 0xff)};
      if (c == style.background) continue;
      // Position relative to the logical box's top-left corner.
      const int u = i + x0 - logical.x;
      const int v = j + y0 - logical.y;
      const int px = at.rotated ? left + v : left + u;
      const int py = at.rotated ? top + logical.width - 1 - u : top + v;
      if (visible.Contains(px, py)) image.set(px, py, c);
    }
  }
  return absl::OkStatus();
}

}  // namespace specinv
