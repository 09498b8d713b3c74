// Copyright specinv authors.
//
// STOI / ESTOI against pystoi 0.4.1 (tests/data/librosa/perceptual/manifest.json)
// and against properties that follow from the algorithm's definition.

#include "specinv/evaluation/stoi.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "specinv/base/field_error.h"
#include "specinv/io/npy.h"
#include "testing/reference.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using testing::LoadReferenceVector;
using testing::ReadFileOrFail;
using testing::ReferenceDir;

struct PerceptualCase {
  std::string clean;
  std::string degraded;
  double sample_rate = 0.0;
  double stoi = 0.0;
  double estoi = 0.0;
  double tolerance = 0.0;
};

std::vector<PerceptualCase> LoadPerceptualCases() {
  std::vector<PerceptualCase> out;
  const std::string text = ReadFileOrFail(ReferenceDir() + "/perceptual/manifest.json");
  if (text.empty()) return out;
  const nlohmann::json manifest = nlohmann::json::parse(text);
  const auto& tolerance = manifest.at("tolerance");
  for (const auto& c : manifest.at("cases")) {
    PerceptualCase pc;
    pc.clean = c.at("clean").get<std::string>();
    pc.degraded = c.at("degraded").get<std::string>();
    pc.sample_rate = c.at("sample_rate").get<double>();
    pc.stoi = c.at("stoi").get<double>();
    pc.estoi = c.at("estoi").get<double>();
    // Tolerance keys are the rate suffix of the file names ("10k", "22k").
    const std::string rate = pc.clean.substr(pc.clean.rfind('_') + 1, pc.clean.rfind('.') - pc.clean.rfind('_') - 1);
    pc.tolerance = tolerance.at(rate).get<double>();
    out.push_back(pc);
  }
  return out;
}

// A 1-D float64 .npy file of the reference directory as doubles (the core
// reader rounds to float32; pystoi ran on the float64 values). ParseNpy
// checks the file; the data are its last 8 * n bytes, little endian.
std::vector<double> LoadFloat64Vector(const std::string& relative_path) {
  const std::string bytes = ReadFileOrFail(ReferenceDir() + "/" + relative_path);
  auto array = ParseNpy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (!array.ok() || array->dtype != NpyDtype::kFloat64 || array->shape.size() != 1) {
    ADD_FAILURE() << relative_path << ": not a 1-D float64 array";
    return {};
  }
  const size_t n = static_cast<size_t>(array->shape[0]);
  std::vector<double> out(n);
  std::memcpy(out.data(), bytes.data() + bytes.size() - n * sizeof(double), n * sizeof(double));
  return out;
}

TEST(StoiTest, MatchesPystoiReference) {
  const auto cases = LoadPerceptualCases();
  ASSERT_EQ(cases.size(), 6u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.degraded);
    const std::vector<double> clean = LoadFloat64Vector("perceptual/" + c.clean);
    const std::vector<double> degraded = LoadFloat64Vector("perceptual/" + c.degraded);
    ASSERT_FALSE(clean.empty());
    const auto stoi = ComputeStoi(std::span<const double>(clean), degraded, c.sample_rate);
    ASSERT_TRUE(stoi.ok()) << stoi.status();
    const auto estoi = ComputeStoi(std::span<const double>(clean), degraded, c.sample_rate, {.extended = true});
    ASSERT_TRUE(estoi.ok()) << estoi.status();
    std::printf("[ pystoi  ] %-22s fs=%5.0f  STOI %.10f (ref %.10f, diff %+.2e)  ESTOI %.10f (ref %.10f, diff %+.2e)\n",
                c.degraded.c_str(), c.sample_rate, *stoi, c.stoi, *stoi - c.stoi, *estoi, c.estoi, *estoi - c.estoi);
    EXPECT_NEAR(*stoi, c.stoi, c.tolerance);
    EXPECT_NEAR(*estoi, c.estoi, c.tolerance);
    // On the float64 samples pystoi saw, with its resampler, the algorithm is
    // the same arithmetic: far closer than the manifest's bound.
    EXPECT_NEAR(*stoi, c.stoi, 1e-9);
    EXPECT_NEAR(*estoi, c.estoi, 1e-9);
    // The float32 entry point (the samples rounded to float) stays within the tolerance too.
    const std::vector<float> clean32 = LoadReferenceVector("perceptual/" + c.clean);
    const std::vector<float> degraded32 = LoadReferenceVector("perceptual/" + c.degraded);
    const auto stoi32 = ComputeStoi(clean32, degraded32, c.sample_rate);
    const auto estoi32 = ComputeStoi(clean32, degraded32, c.sample_rate, {.extended = true});
    ASSERT_TRUE(stoi32.ok() && estoi32.ok());
    EXPECT_NEAR(*stoi32, c.stoi, c.tolerance);
    EXPECT_NEAR(*estoi32, c.estoi, c.tolerance);
  }
}

// libsoxr instead of pystoi's resampler: STOI stays within the manifest's
// 22.05 kHz tolerance; ESTOI of band-limited signals does not (documented in
// stoi.h), so it is only required to stay a valid score.
TEST(StoiTest, SoxrResamplerStoiWithinTolerance) {
  for (const auto& c : LoadPerceptualCases()) {
    if (c.sample_rate == kStoiSampleRate) continue;
    SCOPED_TRACE(c.degraded);
    const std::vector<double> clean = LoadFloat64Vector("perceptual/" + c.clean);
    const std::vector<double> degraded = LoadFloat64Vector("perceptual/" + c.degraded);
    StoiOptions o;
    o.resampler = StoiResampler::kSoxr;
    const auto stoi = ComputeStoi(std::span<const double>(clean), degraded, c.sample_rate, o);
    ASSERT_TRUE(stoi.ok()) << stoi.status();
    o.extended = true;
    const auto estoi = ComputeStoi(std::span<const double>(clean), degraded, c.sample_rate, o);
    ASSERT_TRUE(estoi.ok()) << estoi.status();
    std::printf("[ soxr    ] %-22s fs=%5.0f  STOI %.6f (ref %.6f, diff %+.2e)  ESTOI %.6f (ref %.6f, diff %+.2e)\n",
                c.degraded.c_str(), c.sample_rate, *stoi, c.stoi, *stoi - c.stoi, *estoi, c.estoi, *estoi - c.estoi);
    EXPECT_NEAR(*stoi, c.stoi, c.tolerance);
    EXPECT_GE(*estoi, -1.0);
    EXPECT_LE(*estoi, 1.0);
  }
}

TEST(StoiTest, IdenticalSignalsScoreOne) {
  for (const char* name : {"perceptual/clean_10k.npy", "perceptual/clean_22k.npy"}) {
    SCOPED_TRACE(name);
    const double rate = std::string(name).find("22k") != std::string::npos ? 22050.0 : 10000.0;
    const std::vector<float> clean = LoadReferenceVector(name);
    for (bool extended : {false, true}) {
      const auto d = ComputeStoi(clean, clean, rate, StoiOptions{.extended = extended});
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_NEAR(*d, 1.0, 1e-9) << "extended=" << extended;
    }
    // Both measures are invariant to the degraded signal's gain.
    std::vector<float> louder(clean);
    for (float& v : louder) v *= 3.0f;
    for (bool extended : {false, true}) {
      const auto d = ComputeStoi(clean, louder, rate, StoiOptions{.extended = extended});
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_NEAR(*d, 1.0, 1e-6) << "extended=" << extended;
    }
  }
}

TEST(StoiTest, ZeroInput) {
  // All-zero clean: every frame is within 40 dB of the loudest, so nothing is
  // removed; the envelopes are zero and every correlation is 0 / eps = 0.
  const std::vector<float> zeros(8000, 0.0f);
  const std::vector<float> noise = testing::WhiteNoise(8000, 3);
  for (bool extended : {false, true}) {
    SCOPED_TRACE(extended ? "ESTOI" : "STOI");
    const auto both_zero = ComputeStoi(zeros, zeros, 10000.0, StoiOptions{.extended = extended});
    ASSERT_TRUE(both_zero.ok()) << both_zero.status();
    EXPECT_EQ(*both_zero, 0.0);
    // A silent degraded signal has zero envelopes: zero correlation.
    const auto silent_degraded = ComputeStoi(noise, zeros, 10000.0, StoiOptions{.extended = extended});
    ASSERT_TRUE(silent_degraded.ok()) << silent_degraded.status();
    EXPECT_EQ(*silent_degraded, 0.0);
  }
}

TEST(StoiTest, MinimumLengthIsThirtyFrames) {
  // 256 + 30*128 + 1 samples give 31 analysis frames, hence 30 STFT frames
  // after overlap-add: the shortest valid input. One sample less gives 29.
  const std::vector<float> ok_noise = testing::WhiteNoise(kStoiMinSamples10k, 5);
  EXPECT_TRUE(ComputeStoi(ok_noise, ok_noise, 10000.0).ok());
  const std::vector<float> short_noise(ok_noise.begin(), ok_noise.end() - 1);
  const auto s = ComputeStoi(short_noise, short_noise, 10000.0);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s.status()), "clean");
}

TEST(StoiTest, InvalidOptions) {
  const std::vector<float> x = testing::WhiteNoise(12000, 1);
  const std::vector<float> shorter(x.begin(), x.end() - 1);

  const auto mismatch = ComputeStoi(x, shorter, 10000.0);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(mismatch.status()), "degraded");

  for (double rate : {0.0, -16000.0, std::numeric_limits<double>::quiet_NaN(), 1e6}) {
    const auto bad_rate = ComputeStoi(x, x, rate);
    EXPECT_EQ(bad_rate.status().code(), absl::StatusCode::kInvalidArgument) << rate;
    EXPECT_EQ(FieldOf(bad_rate.status()), "sample_rate") << rate;
  }

  // 4096 samples at 10 kHz, or the same duration at 16 kHz: too short.
  const std::vector<float> short_signal(x.begin(), x.begin() + 4096);
  const auto too_short = ComputeStoi(short_signal, short_signal, 10000.0);
  EXPECT_EQ(too_short.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(too_short.status()), "clean");
  const std::vector<float> short16k(x.begin(), x.begin() + 6553);
  EXPECT_EQ(FieldOf(ComputeStoi(short16k, short16k, 16000.0).status()), "clean");

  // Long enough, but only ~10 frames are within 40 dB of the loudest.
  std::vector<float> burst(12000, 0.0f);
  for (int i = 0; i < 1200; ++i) burst[static_cast<size_t>(i)] = x[static_cast<size_t>(i)];
  const auto mostly_silent = ComputeStoi(burst, burst, 10000.0);
  EXPECT_EQ(mostly_silent.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(mostly_silent.status()), "clean");

  std::vector<float> with_nan(x);
  with_nan[17] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(FieldOf(ComputeStoi(with_nan, x, 10000.0).status()), "clean[17]");
  EXPECT_EQ(FieldOf(ComputeStoi(x, with_nan, 10000.0).status()), "degraded[17]");

  const std::vector<float> empty;
  EXPECT_EQ(FieldOf(ComputeStoi(empty, empty, 10000.0).status()), "clean");

  // pystoi's resampler needs a whole number of hertz and a bounded filter
  // (2 * ceil(36.2 * 99991) + 1 taps for the prime 99991 Hz); soxr takes both.
  const std::vector<float> long_x = testing::WhiteNoise(60000, 2);
  EXPECT_EQ(FieldOf(ComputeStoi(long_x, long_x, 16000.5).status()), "sample_rate");
  EXPECT_EQ(FieldOf(ComputeStoi(long_x, long_x, 99991.0).status()), "sample_rate");
  StoiOptions soxr;
  soxr.resampler = StoiResampler::kSoxr;
  EXPECT_TRUE(ComputeStoi(long_x, long_x, 16000.5, soxr).ok());
  EXPECT_TRUE(ComputeStoi(long_x, long_x, 99991.0, soxr).ok());
}

}  // namespace
}  // namespace specinv
