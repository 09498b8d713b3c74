// Copyright specinv authors.

#include "specinv/render/colormap.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr Colormap kAllMaps[] = {Colormap::kViridis, Colormap::kMagma,   Colormap::kInferno,
                                 Colormap::kGray,    Colormap::kHue,     Colormap::kRedBlue};

// Rec. 709 relative luminance of 8-bit sRGB values, without linearisation:
// enough to order colours by lightness.
double Luma(Rgb8 c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

Rgb8 Hex(uint32_t rgb) {
  return Rgb8{static_cast<uint8_t>(rgb >> 16), static_cast<uint8_t>((rgb >> 8) & 0xff),
              static_cast<uint8_t>(rgb & 0xff)};
}

TEST(ColormapTest, MatchesPublishedColours) {
  // The hex colours matplotlib documents for these maps (to_hex of the
  // first, middle and last entries).
  EXPECT_EQ(GetColormapTable(Colormap::kViridis)[0], Hex(0x440154));
  EXPECT_EQ(GetColormapTable(Colormap::kViridis)[128], Hex(0x21918c));
  EXPECT_EQ(GetColormapTable(Colormap::kViridis)[255], Hex(0xfde725));
  EXPECT_EQ(GetColormapTable(Colormap::kMagma)[0], Hex(0x000004));
  EXPECT_EQ(GetColormapTable(Colormap::kMagma)[255], Hex(0xfcfdbf));
  EXPECT_EQ(GetColormapTable(Colormap::kInferno)[0], Hex(0x000004));
  EXPECT_EQ(GetColormapTable(Colormap::kInferno)[255], Hex(0xfcffa4));
}

TEST(ColormapTest, SequentialMapsGetLighter) {
  // Perceptually uniform maps rise in lightness monotonically; a mistyped
  // table entry would show up as a dip or a jump.
  for (Colormap map : {Colormap::kViridis, Colormap::kMagma, Colormap::kInferno, Colormap::kGray}) {
    const ColormapTable& table = GetColormapTable(map);
    for (int i = 1; i < kColormapSize; ++i) {
      const double step = Luma(table[static_cast<size_t>(i)]) - Luma(table[static_cast<size_t>(i - 1)]);
      EXPECT_GE(step, -0.5) << ColormapName(map) << " entry " << i;
      EXPECT_LE(step, 4.0) << ColormapName(map) << " entry " << i;
    }
    EXPECT_GT(Luma(table[255]) - Luma(table[0]), 150.0) << ColormapName(map);
  }
}

TEST(ColormapTest, GrayIsTheIdentity) {
  const ColormapTable& gray = GetColormapTable(Colormap::kGray);
  for (int i = 0; i < kColormapSize; ++i) {
    const auto v = static_cast<uint8_t>(i);
    EXPECT_EQ(gray[static_cast<size_t>(i)], (Rgb8{v, v, v}));
  }
}

TEST(ColormapTest, HueIsCyclic) {
  const ColormapTable& hue = GetColormapTable(Colormap::kHue);
  EXPECT_TRUE(IsCyclic(Colormap::kHue));
  EXPECT_FALSE(IsCyclic(Colormap::kViridis));
  EXPECT_EQ(hue[0], (Rgb8{255, 0, 0}));
  EXPECT_EQ(hue[128], (Rgb8{0, 255, 255}));  // half way round: cyan
  // Neighbouring entries, including last -> first, differ by one small step.
  for (int i = 0; i < kColormapSize; ++i) {
    const Rgb8 a = hue[static_cast<size_t>(i)];
    const Rgb8 b = hue[static_cast<size_t>((i + 1) % kColormapSize)];
    const int d = std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b);
    EXPECT_LE(d, 7) << i;
  }
}

TEST(ColormapTest, RedBlueGoesThroughWhite) {
  const ColormapTable& rb = GetColormapTable(Colormap::kRedBlue);
  EXPECT_EQ(rb[0], (Rgb8{0, 0, 255}));
  EXPECT_EQ(rb[255], (Rgb8{255, 0, 0}));
  for (int i : {127, 128}) {
    const Rgb8 c = rb[static_cast<size_t>(i)];
    EXPECT_GE(std::min({c.r, c.g, c.b}), 253) << i;
  }
}

TEST(ColormapTest, LookupFollowsMatplotlib) {
  const ColormapTable& table = GetColormapTable(Colormap::kMagma);
  EXPECT_EQ(MapColor(Colormap::kMagma, 0.0f), table[0]);
  EXPECT_EQ(MapColor(Colormap::kMagma, 1.0f), table[255]);
  EXPECT_EQ(MapColor(Colormap::kMagma, 0.5f), table[128]);
  EXPECT_EQ(MapColor(Colormap::kMagma, 127.9f / 256.0f), table[127]);
  EXPECT_EQ(MapColor(Colormap::kMagma, 1.0f / 256.0f), table[1]);
  EXPECT_EQ(MapColor(Colormap::kMagma, -3.0f), table[0]);
  EXPECT_EQ(MapColor(Colormap::kMagma, 7.0f), table[255]);
  EXPECT_EQ(MapColor(Colormap::kMagma, std::numeric_limits<float>::quiet_NaN()), table[0]);
}

TEST(ColormapTest, NamesRoundTrip) {
  for (Colormap map : kAllMaps) {
    auto parsed = ParseColormap(ColormapName(map));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, map);
    EXPECT_TRUE(ValidateColormap(map).ok());
  }
  EXPECT_EQ(ParseColormap("grey").value(), Colormap::kGray);
}

TEST(ColormapTest, InvalidNames) {
  auto jet = ParseColormap("jet");
  ASSERT_FALSE(jet.ok());
  EXPECT_EQ(jet.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(jet.status().message(), HasSubstr("colormap must be one of viridis"));
  EXPECT_THAT(jet.status().message(), HasSubstr("\"jet\""));
  const absl::Status bad = ValidateColormap(static_cast<Colormap>(42));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("enum value 42"));
}

}  // namespace
}  // namespace specinv
