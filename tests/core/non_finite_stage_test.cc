// Copyright specinv authors.
//
// Finite input that overflows inside a computation is reported by stage and
// input field, not as a NaN sample of some intermediate.

#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/scaling.h"
#include "specinv/base/field_error.h"
#include "specinv/inversion/inversion.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

TEST(NonFiniteStageTest, DecompressOverflowNamesScaleAndValue) {
  ScaleOptions o;
  o.kind = ScaleKind::kLn;
  RealMatrix log_mel = RealMatrix::Zero(4, 3);
  log_mel(1, 2) = 100.0f;  // e^100 overflows float
  const absl::Status s = Decompress(log_mel, o).status();
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "mel[9]");
  EXPECT_THAT(std::string(s.message()), HasSubstr("overflowed"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("scale ln"));
  log_mel(1, 2) = 80.0f;  // e^80 fits
  EXPECT_TRUE(Decompress(log_mel, o).ok());
}

TEST(NonFiniteStageTest, NonFiniteInputKeepsItsMessage) {
  ScaleOptions o;
  o.kind = ScaleKind::kLn;
  RealMatrix log_mel = RealMatrix::Zero(2, 2);
  log_mel(0, 1) = std::numeric_limits<float>::infinity();
  const absl::Status s = Decompress(log_mel, o).status();
  EXPECT_THAT(std::string(s.message()), HasSubstr("is not finite"));
  EXPECT_EQ(FieldOf(s), "mel[2]");
}

TEST(NonFiniteStageTest, InversionOverflowNamesStageAndInput) {
  const FeatureExtractor fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  const RealMatrix magnitude = RealMatrix::Constant(fx.stft().num_bins(), 8, 3e38f);
  InversionOptions o;
  o.method = InversionMethod::kGriffinLim;
  o.iterations = 2;
  const absl::Status s = InvertMagnitude(fx, magnitude, o).status();
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(FieldOf(s), "magnitude");
  EXPECT_THAT(std::string(s.message()), HasSubstr("non-finite audio at the gl stage"));
}

}  // namespace
}  // namespace specinv
