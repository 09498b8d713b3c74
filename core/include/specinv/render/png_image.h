// Copyright specinv authors.
//
// 8-bit RGB images and their PNG encoding, in memory (libpng's simplified
// API; no files are touched).
//
// An Image is `height` rows of `width` pixels, stored row-major with the top
// row first, 3 bytes (R, G, B) per pixel: pixel (x, y) starts at byte
// 3 * (y * width + x). EncodePng writes an 8-bit RGB PNG (colour type 2,
// no alpha, an sRGB chunk) in one compression pass with libpng's "fast"
// settings (PNG_IMAGE_FLAG_FAST: encoding is several times quicker, and
// spectrogram files come out about as small). DecodePng reads any PNG libpng
// understands (grey, palette, 16-bit, alpha) and converts it to 8-bit RGB,
// compositing alpha onto black.
//
// Pure functions; thread-safe.

#ifndef SPECINV_PNG_IMAGE_H_
#define SPECINV_PNG_IMAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace specinv {

// One 8-bit RGB pixel.
struct Rgb8 {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;
  bool operator==(const Rgb8&) const = default;
};

// Largest width or height EncodePng and DecodePng accept, and the largest
// pixel count (width * height) DecodePng accepts, so a hostile PNG header
// cannot make DecodePng allocate more than 3 * kMaxPngPixels bytes.
inline constexpr int kMaxPngDimension = 65535;
inline constexpr int64_t kMaxPngPixels = int64_t{1} << 28;

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // 3 * width * height bytes, top row first

  // A width x height image filled with `fill` (no validation: callers check
  // the size first).
  static Image Filled(int width, int height, Rgb8 fill);

  // Pixel accessors; (x, y) must be inside the image (not checked).
  Rgb8 at(int x, int y) const {
    const size_t i = 3 * (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x));
    return Rgb8{rgb[i], rgb[i + 1], rgb[i + 2]};
  }
  void set(int x, int y, Rgb8 c) {
    const size_t i = 3 * (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x));
    rgb[i] = c.r;
    rgb[i + 1] = c.g;
    rgb[i + 2] = c.b;
  }
};

// PNG file bytes of `image`. InvalidArgument when width or height is outside
// [1, kMaxPngDimension] or rgb does not hold exactly 3 * width * height bytes;
// Internal if libpng fails.
absl::StatusOr<std::string> EncodePng(const Image& image);

// Decodes a complete PNG file into 8-bit RGB. InvalidArgument naming the
// problem for data that is not a PNG, is truncated or corrupt, or whose size
// exceeds kMaxPngDimension / kMaxPngPixels.
absl::StatusOr<Image> DecodePng(std::string_view png);

}  // namespace specinv

#endif  // SPECINV_PNG_IMAGE_H_
