// Copyright specinv authors.

#include "specinv/analysis/window.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace specinv {
namespace {

TEST(WindowTest, HannIsPeriodic) {
  auto w = MakeWindow(WindowType::kHann, 8, 8);
  ASSERT_TRUE(w.ok()) << w.status();
  // Periodic Hann of 8: 0.5 - 0.5 cos(2 pi n / 8); w[0] = 0, w[4] = 1, symmetric about 4.
  EXPECT_FLOAT_EQ((*w)[0], 0.0f);
  EXPECT_FLOAT_EQ((*w)[4], 1.0f);
  EXPECT_NEAR((*w)[1], 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi / 8.0), 1e-7);
  EXPECT_FLOAT_EQ((*w)[3], (*w)[5]);
}

TEST(WindowTest, ShortWindowIsZeroPaddedAndCentred) {
  auto w = MakeWindow(WindowType::kRectangular, 5, 12);
  ASSERT_TRUE(w.ok()) << w.status();
  // librosa pad_center: (12 - 5) / 2 = 3 zeros on the left, 4 on the right.
  for (int i = 0; i < 12; ++i) EXPECT_FLOAT_EQ((*w)[static_cast<size_t>(i)], (i >= 3 && i < 8) ? 1.0f : 0.0f) << i;
}

TEST(WindowTest, HammingAndBlackmanEndpoints) {
  auto hamming = MakeWindow(WindowType::kHamming, 16, 16);
  auto blackman = MakeWindow(WindowType::kBlackman, 16, 16);
  ASSERT_TRUE(hamming.ok() && blackman.ok());
  EXPECT_NEAR((*hamming)[0], 0.08f, 1e-6);
  EXPECT_NEAR((*hamming)[8], 1.0f, 1e-6);
  EXPECT_NEAR((*blackman)[0], 0.0f, 1e-6);
  EXPECT_NEAR((*blackman)[8], 1.0f, 1e-6);
}

TEST(WindowTest, SqrtHannSquaresToHann) {
  auto s = MakeWindow(WindowType::kSqrtHann, 32, 32);
  auto h = MakeWindow(WindowType::kHann, 32, 32);
  ASSERT_TRUE(s.ok() && h.ok());
  for (size_t i = 0; i < 32; ++i) EXPECT_NEAR((*s)[i] * (*s)[i], (*h)[i], 1e-6) << i;
}

TEST(WindowTest, ParseNames) {
  EXPECT_EQ(ParseWindowType("hann").value(), WindowType::kHann);
  EXPECT_EQ(ParseWindowType("boxcar").value(), WindowType::kRectangular);
  EXPECT_EQ(ParseWindowType("sqrt_hann").value(), WindowType::kSqrtHann);
  for (auto t : {WindowType::kHann, WindowType::kHamming, WindowType::kBlackman, WindowType::kRectangular,
                 WindowType::kSqrtHann}) {
    EXPECT_EQ(ParseWindowType(WindowTypeName(t)).value(), t);
  }
}

TEST(WindowTest, InvalidOptions) {
  auto unknown = ParseWindowType("kaiser");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("window must be one of"), std::string_view::npos);
  auto too_long = MakeWindow(WindowType::kHann, 20, 16);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("win_length must be in [1, 16], got 20"), std::string_view::npos)
      << too_long.status();
  EXPECT_FALSE(MakeWindow(WindowType::kHann, 0, 16).ok());
}

}  // namespace
}  // namespace specinv
