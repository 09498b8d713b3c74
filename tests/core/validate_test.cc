// Copyright specinv authors.

#include "specinv/base/validate.h"

#include <limits>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/base/field_error.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ValidateTest, CheckRangeNamesFieldAndRange) {
  EXPECT_TRUE(CheckRange("n_mels", 80, 1, 512).ok());
  EXPECT_EQ(Message(CheckRange("n_mels", 0, 1, 512)), "n_mels must be in [1, 512], got 0");
}

// The screens run over the whole array at once; every kind of bad value, at
// the start, in the vectorised middle and in the scalar tail, must be found
// and reported at its index.
TEST(ValidateTest, CheckFiniteFindsEveryNonFiniteValue) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{1000}, size_t{1003}}) {
    std::vector<float> v(n, 0.25f);
    EXPECT_TRUE(CheckFinite("audio", v).ok());
    for (size_t at : {size_t{0}, n / 2, n - 1}) {
      for (float bad : {kNaN, kInf, -kInf, -kNaN}) {
        std::vector<float> w = v;
        w[at] = bad;
        const absl::Status s = CheckFinite("audio", w);
        ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_THAT(Message(s), HasSubstr("audio[" + std::to_string(at) + "] is"));
      }
    }
  }
  // Large finite values, denormals and negative numbers are finite.
  std::vector<float> edge = {std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(),
                             std::numeric_limits<float>::denorm_min(), -1.0f, -0.0f};
  EXPECT_TRUE(CheckFinite("x", edge).ok());
}

TEST(ValidateTest, CheckNonNegativeFiniteRejectsNegativesButNotNegativeZero) {
  std::vector<float> v(1001, 1.0f);
  v[500] = -0.0f;  // -0.0 >= 0: allowed
  v[0] = 0.0f;
  EXPECT_TRUE(CheckNonNegativeFinite("magnitude", v).ok());
  for (float bad : {-1e-30f, -1.0f, kNaN, kInf, -kInf}) {
    std::vector<float> w = v;
    w[999] = bad;
    const absl::Status s = CheckNonNegativeFinite("magnitude", w);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(s), HasSubstr("magnitude[999] is"));
    EXPECT_THAT(Message(s), HasSubstr("finite and >= 0"));
  }
}

// A matrix keeps the element path and says where the element sits.
TEST(ValidateTest, MatrixErrorsGiveBinAndFrame) {
  RealMatrix m = RealMatrix::Ones(5, 4);
  EXPECT_TRUE(CheckNonNegativeFinite("mel", m).ok());
  EXPECT_TRUE(CheckFinite("phase", m).ok());
  m(3, 2) = -2.0f;
  absl::Status s = CheckNonNegativeFinite("mel", m);
  EXPECT_EQ(FieldOf(s), "mel[13]");
  EXPECT_EQ(Message(s), "mel[13] (bin 3, frame 2) is -2; all values must be finite and >= 0");
  EXPECT_TRUE(CheckFinite("phase", m).ok());  // negative but finite
  m(4, 0) = kNaN;
  s = CheckFinite("phase", m);
  EXPECT_EQ(FieldOf(s), "phase[4]");
  EXPECT_EQ(Message(s), "phase[4] (bin 4, frame 0) is NaN; all values must be finite");
}

}  // namespace
}  // namespace specinv
