// Copyright specinv authors.

#include "specinv/base/fft_plan_cache.h"

#include <algorithm>
#include <complex>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/base/fft.h"

namespace specinv {
namespace {

// Each test starts from an empty cache with a known bound and restores the
// default afterwards.
class FftPlanCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClearFftPlanCache();
    SetFftPlanCacheLimitBytes(kDefaultFftPlanCacheLimitBytes);
  }
  void TearDown() override { SetFftPlanCacheLimitBytes(kDefaultFftPlanCacheLimitBytes); }
};

TEST_F(FftPlanCacheTest, SecondGetIsAHitAndSharesThePlan) {
  const FftPlanCacheStats before = GetFftPlanCacheStats();
  auto a = RealFft::Get(1000);
  auto b = RealFft::Get(1000);
  const FftPlanCacheStats after = GetFftPlanCacheStats();
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(after.misses - before.misses, 1);
  EXPECT_EQ(after.hits - before.hits, 1);
  EXPECT_EQ(after.entries, 1);
  EXPECT_EQ(after.bytes, EstimatedRealFftBytes(1000, sizeof(float)));
  EXPECT_EQ(after.limit_bytes, kDefaultFftPlanCacheLimitBytes);
}

TEST_F(FftPlanCacheTest, LeastRecentlyUsedIsEvictedFirst) {
  // Room for exactly two of the three transforms.
  const int64_t a_bytes = EstimatedRealFftBytes(4000, sizeof(float));
  const int64_t b_bytes = EstimatedRealFftBytes(4001, sizeof(float));
  const int64_t c_bytes = EstimatedRealFftBytes(4002, sizeof(float));
  SetFftPlanCacheLimitBytes(a_bytes + std::max(b_bytes, c_bytes));
  RealFft::Get(4000);  // a
  RealFft::Get(4001);  // b
  RealFft::Get(4000);  // a is now the most recent
  const FftPlanCacheStats before = GetFftPlanCacheStats();
  RealFft::Get(4002);  // c: over the bound, b (least recent) goes
  const FftPlanCacheStats after = GetFftPlanCacheStats();
  EXPECT_EQ(after.evictions - before.evictions, 1);
  EXPECT_EQ(after.entries, 2);
  EXPECT_EQ(after.bytes, a_bytes + c_bytes);
  RealFft::Get(4000);  // still cached
  EXPECT_EQ(GetFftPlanCacheStats().hits, after.hits + 1);
  RealFft::Get(4001);  // was evicted
  EXPECT_EQ(GetFftPlanCacheStats().misses, after.misses + 1);
}

TEST_F(FftPlanCacheTest, HeldPlanStaysValidAfterEviction) {
  auto fft = RealFft::Get(64);
  SetFftPlanCacheLimitBytes(0);  // evicts everything
  EXPECT_EQ(GetFftPlanCacheStats().entries, 0);
  EXPECT_EQ(GetFftPlanCacheStats().bytes, 0);
  AlignedVector<float> in(64, 1.0f);
  AlignedVector<std::complex<float>> out(33);
  fft->Forward(in.data(), out.data());
  EXPECT_FLOAT_EQ(out[0].real(), 64.0f);
  EXPECT_FLOAT_EQ(std::abs(out[1]), 0.0f);
  // With a zero bound nothing is kept, but Get still works.
  auto again = RealFft::Get(64);
  EXPECT_NE(again, nullptr);
  EXPECT_EQ(GetFftPlanCacheStats().entries, 0);
}

TEST_F(FftPlanCacheTest, ShrinkingTheLimitEvictsDownToIt) {
  for (int n = 100; n < 110; ++n) RealFftDouble::Get(n);
  EXPECT_EQ(GetFftPlanCacheStats().entries, 10);
  const FftPlanCacheStats before = GetFftPlanCacheStats();
  SetFftPlanCacheLimitBytes(EstimatedRealFftBytes(109, sizeof(double)) * 3);
  const FftPlanCacheStats after = GetFftPlanCacheStats();
  EXPECT_LE(after.bytes, after.limit_bytes);
  EXPECT_EQ(after.entries, 3);
  EXPECT_EQ(after.evictions - before.evictions, 7);
}

TEST_F(FftPlanCacheTest, ComplexFft2dMatchesDirectSum) {
  const int rows = 3, cols = 5;
  std::vector<std::complex<float>> in(rows * cols), out(rows * cols);
  for (int i = 0; i < rows * cols; ++i) in[static_cast<size_t>(i)] = {static_cast<float>(i % 4), 0.5f * static_cast<float>(i % 3)};
  ComplexFft2d::Get(rows, cols)->Forward(in.data(), out.data());
  const double two_pi = 6.283185307179586;
  for (int k = 0; k < rows; ++k) {
    for (int l = 0; l < cols; ++l) {
      std::complex<double> sum = 0.0;
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
          sum += std::complex<double>(in[static_cast<size_t>(r + c * rows)]) *
                 std::polar(1.0, -two_pi * (static_cast<double>(k * r) / rows + static_cast<double>(l * c) / cols));
        }
      }
      EXPECT_NEAR(out[static_cast<size_t>(k + l * rows)].real(), sum.real(), 1e-4);
      EXPECT_NEAR(out[static_cast<size_t>(k + l * rows)].imag(), sum.imag(), 1e-4);
    }
  }
}

}  // namespace
}  // namespace specinv
