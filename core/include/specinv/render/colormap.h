// Copyright specinv authors.
//
// Colour maps: 256-entry RGB tables that turn a value in [0, 1] into a colour.
//
// | map       | definition                                                              |
// |-----------|-------------------------------------------------------------------------|
// | viridis   | matplotlib `_viridis_data` (lib/matplotlib/_cm_listed.py), 256 entries   |
// | magma     | matplotlib `_magma_data`, 256 entries                                   |
// | inferno   | matplotlib `_inferno_data`, 256 entries                                 |
// | gray      | entry i = (i, i, i): black = lowest                                     |
// | hue       | HSV hue 360 * i / 256 degrees at full saturation and value (cyclic:     |
// |           | red, yellow, green, cyan, blue, magenta, back towards red)              |
// | red_blue  | matplotlib "bwr": blue (0,0,1) -> white -> red (1,0,0), linear in i/255  |
//
// viridis, magma and inferno are the perceptually uniform maps by Stéfan van
// der Walt and Nathaniel Smith (CC0); their float tables are copied verbatim
// and converted to bytes by rounding 255 * v to the nearest integer
// (matplotlib's `bytes=True` truncates instead, so a channel may differ by 1).
//
// Lookup follows matplotlib's Colormap.__call__ for N = 256: entry
// floor(256 * t), with t < 0 -> entry 0, t >= 1 -> entry 255, NaN -> entry 0.
//
// Immutable tables; all functions are thread-safe.

#ifndef SPECINV_COLORMAP_H_
#define SPECINV_COLORMAP_H_

#include <array>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/render/png_image.h"

namespace specinv {

enum class Colormap {
  kViridis,
  kMagma,
  kInferno,
  kGray,
  kHue,      // cyclic, for phase
  kRedBlue,  // diverging, blue = lowest, white = middle, red = highest
};

inline constexpr int kColormapSize = 256;
using ColormapTable = std::array<Rgb8, kColormapSize>;

// "viridis", "magma", "inferno", "gray" (or "grey"), "hue", "red_blue".
// InvalidArgument naming `colormap` and the allowed names otherwise.
absl::StatusOr<Colormap> ParseColormap(std::string_view name);
std::string_view ColormapName(Colormap map);
// InvalidArgument if `map` is not one of the enumerators (e.g. a cast from
// an unchecked integer).
absl::Status ValidateColormap(Colormap map);

// The map's 256 colours, lowest first. `map` must be valid.
const ColormapTable& GetColormapTable(Colormap map);

// Colour of t (see the lookup rule above). `map` must be valid.
Rgb8 MapColor(Colormap map, float t);

// True when the first and last colours meet (hue), so the map suits angles.
bool IsCyclic(Colormap map);

}  // namespace specinv

#endif  // SPECINV_COLORMAP_H_
