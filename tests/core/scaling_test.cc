// Copyright specinv authors.

#include "specinv/analysis/scaling.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv {
namespace {

RealMatrix Ramp() {
  RealMatrix m(3, 4);
  m << 1e-12f, 1e-6f, 1e-3f, 1.0f, 2.0f, 10.0f, 100.0f, 0.5f, 0.0f, 3.0f, 7.0f, 1e-4f;
  return m;
}

TEST(ScalingTest, PowerToDbMatchesDefinition) {
  const RealMatrix p = Ramp();
  const RealMatrix db = PowerToDb(p, 1.0, 1e-10, std::nullopt);
  for (Eigen::Index i = 0; i < p.size(); ++i) {
    const double expected = 10.0 * std::log10(std::max(1e-10, static_cast<double>(p.data()[i])));
    EXPECT_NEAR(db.data()[i], expected, 1e-4) << i;
  }
}

TEST(ScalingTest, RefMaxAndTopDb) {
  const RealMatrix db = PowerToDb(Ramp(), std::nullopt, 1e-10, 60.0);
  EXPECT_NEAR(db.maxCoeff(), 0.0f, 1e-6f);  // ref = max => max maps to 0 dB
  EXPECT_NEAR(db.minCoeff(), -60.0f, 1e-5f);
}

TEST(ScalingTest, AmplitudeToDbIsPowerOfSquare) {
  const RealMatrix a = Ramp();
  EXPECT_TRUE(AmplitudeToDb(a, 1.0, 1e-5, std::nullopt).isApprox(PowerToDb(a.cwiseAbs2(), 1.0, 1e-10, std::nullopt), 1e-5f));
}

TEST(ScalingTest, DbInversesAreExactAboveTheFloor) {
  RealMatrix p(2, 2);
  p << 1e-3f, 0.25f, 4.0f, 1.0f;
  EXPECT_TRUE(DbToPower(PowerToDb(p, 2.0, 1e-10, std::nullopt), 2.0).isApprox(p, 1e-5f));
  EXPECT_TRUE(DbToAmplitude(AmplitudeToDb(p, 1.0, 1e-5, std::nullopt), 1.0).isApprox(p, 1e-5f));
}

TEST(ScalingTest, CompressDecompressRoundTrips) {
  RealMatrix x(2, 3);
  x << 1e-3f, 0.5f, 2.0f, 10.0f, 0.01f, 1.0f;
  for (ScaleKind kind : {ScaleKind::kNone, ScaleKind::kLn, ScaleKind::kLog10, ScaleKind::kWhisper}) {
    ScaleOptions o;
    o.kind = kind;
    o.clamp = 1e-5;
    auto c = Compress(x, o);
    ASSERT_TRUE(c.ok()) << c.status();
    auto d = Decompress(*c, o);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_TRUE(d->isApprox(x, 1e-5f)) << ScaleKindName(kind);
  }
  ScaleOptions ln;
  ln.kind = ScaleKind::kLn;
  ln.clamp = 1e-5;
  RealMatrix tiny = RealMatrix::Constant(1, 1, 1e-9f);
  EXPECT_NEAR(Compress(tiny, ln)->coeff(0, 0), std::log(1e-5f), 1e-6f);  // the clamp is applied
}

TEST(ScalingTest, WhisperFloorsEightBelowMax) {
  RealMatrix x(1, 3);
  x << 1.0f, 1e-12f, 1e-3f;
  ScaleOptions o;
  o.kind = ScaleKind::kWhisper;
  o.clamp = 1e-10;
  auto c = Compress(x, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NEAR(c->coeff(0, 0), 1.0f, 1e-6f);           // (0 + 4) / 4
  EXPECT_NEAR(c->coeff(0, 1), (-8.0f + 4.0f) / 4.0f, 1e-6f);  // floored at max - 8
  EXPECT_NEAR(c->coeff(0, 2), (-3.0f + 4.0f) / 4.0f, 1e-6f);
}

TEST(ScalingTest, InvalidOptions) {
  ScaleOptions o;
  o.kind = ScaleKind::kPowerDb;
  o.amin = 0.0;
  EXPECT_THAT(std::string(Compress(Ramp(), o).status().message()), ::testing::HasSubstr("amin must be > 0"));
  o = ScaleOptions{};
  o.top_db = -1.0;
  EXPECT_THAT(std::string(Compress(Ramp(), o).status().message()), ::testing::HasSubstr("top_db must be >= 0"));
  o = ScaleOptions{};
  o.kind = ScaleKind::kLn;
  o.clamp = -1.0;
  EXPECT_THAT(std::string(Compress(Ramp(), o).status().message()), ::testing::HasSubstr("clamp must be > 0"));
  RealMatrix nan = RealMatrix::Constant(2, 2, std::nanf(""));
  o = ScaleOptions{};
  o.kind = ScaleKind::kLn;
  EXPECT_THAT(std::string(Decompress(nan, o).status().message()), ::testing::HasSubstr("not finite"));
  EXPECT_FALSE(ParseScaleKind("log2").ok());
}

}  // namespace
}  // namespace specinv
