// Copyright specinv authors.

#include "specinv/analysis/stft.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

Stft MakeStft(int n_fft, int hop, int win = 0, WindowType window = WindowType::kHann, bool center = true,
              PadMode pad = PadMode::kConstant) {
  StftOptions o;
  o.n_fft = n_fft;
  o.hop_length = hop;
  o.win_length = win;
  o.window = window;
  o.center = center;
  o.pad_mode = pad;
  return Stft::Create(o).value();
}

TEST(StftTest, SineLandsInItsBin) {
  const double sr = 16000.0;
  const int n_fft = 512;
  const int bin = 37;  // exactly on a bin centre
  const auto y = testing::Sine(bin * sr / n_fft, sr, 8000, 0.8);
  const Stft stft = MakeStft(n_fft, 128);
  auto spec = stft.Forward(y);
  ASSERT_TRUE(spec.ok()) << spec.status();
  const int64_t mid = spec->cols() / 2;
  Eigen::Index peak = 0;
  spec->col(mid).cwiseAbs().maxCoeff(&peak);
  EXPECT_EQ(peak, bin);
  // Unnormalised: amplitude A under a periodic Hann of N points peaks at A * N / 4.
  EXPECT_NEAR(std::abs((*spec)(bin, mid)), 0.8 * n_fft / 4.0, 0.8 * n_fft / 4.0 * 1e-3);
}

TEST(StftTest, ParsevalPerFrame) {
  const auto y = testing::WhiteNoise(4096, 7);
  const Stft stft = MakeStft(256, 64, 0, WindowType::kRectangular, false);
  auto spec = stft.Forward(y);
  ASSERT_TRUE(spec.ok());
  for (int64_t f = 0; f < spec->cols(); f += 7) {
    double time_energy = 0.0;
    for (int i = 0; i < 256; ++i) {
      const double v = y[static_cast<size_t>(f * 64 + i)];
      time_energy += v * v;
    }
    // One-sided spectrum: double every bin but DC and Nyquist.
    double freq_energy = 0.0;
    for (int k = 0; k <= 128; ++k) {
      const double m = std::norm((*spec)(k, f));
      freq_energy += (k == 0 || k == 128) ? m : 2.0 * m;
    }
    EXPECT_NEAR(freq_energy / 256.0, time_energy, time_energy * 1e-4) << "frame " << f;
  }
}

TEST(StftTest, FrameCountsFollowLibrosa) {
  EXPECT_EQ(MakeStft(2048, 512).NumFrames(44100), 1 + 44100 / 512);
  EXPECT_EQ(MakeStft(1023, 100, 800).NumFrames(44100), 441);  // odd n_fft: 1 + (len - 1) / hop
  EXPECT_EQ(MakeStft(512, 128, 0, WindowType::kBlackman, false).NumFrames(44100), 1 + (44100 - 512) / 128);
  EXPECT_EQ(MakeStft(512, 128, 0, WindowType::kHann, false).NumFrames(100), 0);
}

class RoundTripTest : public ::testing::TestWithParam<std::tuple<int, int, WindowType, PadMode>> {};

TEST_P(RoundTripTest, InverseRecoversSignal) {
  const auto [n_fft, hop, window, pad] = GetParam();
  const Stft stft = MakeStft(n_fft, hop, 0, window, true, pad);
  const auto y = testing::Chirp(100.0, 7000.0, 22050.0, 9001);
  auto spec = stft.Forward(y);
  ASSERT_TRUE(spec.ok());
  auto back = stft.Inverse(*spec, static_cast<int64_t>(y.size()));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), y.size());
  double err = 0.0;
  for (size_t i = 0; i < y.size(); ++i) err = std::max(err, static_cast<double>(std::abs((*back)[i] - y[i])));
  EXPECT_LT(err, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    ColaWindows, RoundTripTest,
    ::testing::Values(std::make_tuple(1024, 256, WindowType::kHann, PadMode::kReflect),
                      std::make_tuple(512, 256, WindowType::kSqrtHann, PadMode::kConstant),
                      std::make_tuple(1023, 100, WindowType::kHamming, PadMode::kConstant),
                      std::make_tuple(64, 16, WindowType::kBlackman, PadMode::kReflect),
                      std::make_tuple(17, 5, WindowType::kRectangular, PadMode::kConstant)));

TEST(StftTest, InverseLengthIsExact) {
  const Stft stft = MakeStft(1024, 256);
  const auto y = testing::Sine(440.0, 22050.0, 5000);
  auto spec = stft.Forward(y);
  ASSERT_TRUE(spec.ok());
  for (int64_t length : {0L, 1L, 4999L, 5000L, 5001L, 20000L}) {
    auto back = stft.Inverse(*spec, length);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(static_cast<int64_t>(back->size()), length);
  }
  auto implied = stft.Inverse(*spec);
  ASSERT_TRUE(implied.ok());
  EXPECT_EQ(static_cast<int64_t>(implied->size()), stft.DefaultLength(spec->cols()));
  EXPECT_EQ(stft.DefaultLength(spec->cols()), 256 * (spec->cols() - 1));
}

TEST(StftTest, ReflectPaddingMirrorsWithoutEdge) {
  std::vector<float> padded;
  const std::vector<float> y = {1, 2, 3};
  PadSignal(y, 5, PadMode::kReflect, &padded);
  // numpy: np.pad([1,2,3], 5, mode="reflect") = [2,1,2,3,2, 1,2,3, 2,1,2,3,2]
  const std::vector<float> expected = {2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2};
  EXPECT_EQ(padded, expected);
  PadSignal(y, 2, PadMode::kConstant, &padded);
  EXPECT_EQ(padded, (std::vector<float>{0, 0, 1, 2, 3, 0, 0}));
}

// Forward reads interior frames in place and builds only the edge frames;
// it must equal the transform of the explicitly padded copy, bit for bit, for
// both pad modes and for padding longer than the signal (periodic mirror).
TEST(StftTest, InPlaceFramingMatchesPaddedCopy) {
  for (PadMode mode : {PadMode::kConstant, PadMode::kReflect}) {
    for (int64_t len : {int64_t{5}, int64_t{300}, int64_t{5000}}) {
      const Stft stft = MakeStft(256, 64, 0, WindowType::kHann, true, mode);
      const auto y = testing::WhiteNoise(len, 7);
      ComplexMatrix direct, via_copy;
      ASSERT_TRUE(stft.Forward(y, &direct).ok());
      std::vector<float> padded;
      stft.Pad(y, &padded);
      stft.ForwardPadded(padded, &via_copy);
      EXPECT_EQ(direct, via_copy) << PadModeName(mode) << " len " << len;
      ComplexMatrix extended;
      stft.ForwardExtended(y, 100, mode, &extended);
      PadSignal(y, 100, mode, &padded);
      stft.ForwardPadded(padded, &via_copy);
      EXPECT_EQ(extended, via_copy) << PadModeName(mode) << " len " << len;
      EXPECT_EQ(extended.cols(), stft.NumFramesExtended(len, 100));
    }
  }
}

TEST(StftTest, ThreadedMatchesSingleThreaded) {
  const Stft stft = MakeStft(1024, 256);
  const auto y = testing::WhiteNoise(22050 * 2, 3);
  ComplexMatrix one, many;
  ASSERT_TRUE(stft.Forward(y, &one, 1).ok());
  ASSERT_TRUE(stft.Forward(y, &many, 4).ok());
  EXPECT_EQ(one, many);
  std::vector<float> a, b;
  ASSERT_TRUE(stft.Inverse(one, static_cast<int64_t>(y.size()), &a, 1).ok());
  ASSERT_TRUE(stft.Inverse(one, static_cast<int64_t>(y.size()), &b, 4).ok());
  EXPECT_EQ(a, b);
}

TEST(StftTest, ConcurrentCallsAgree) {
  const Stft stft = MakeStft(512, 128);
  const auto y = testing::WhiteNoise(20000, 11);
  const ComplexMatrix expected = stft.Forward(y).value();
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      bool all = true;
      for (int r = 0; r < 5; ++r) all = all && (stft.Forward(y).value() == expected);
      ok[static_cast<size_t>(t)] = all ? 1 : 0;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::accumulate(ok.begin(), ok.end(), 0), 8);
}

TEST(StftTest, ZeroInput) {
  const Stft stft = MakeStft(256, 64);
  auto spec = stft.Forward(std::vector<float>(1000, 0.0f));
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->cwiseAbs().maxCoeff(), 0.0f);
  auto back = stft.Inverse(*spec, 1000);
  ASSERT_TRUE(back.ok());
  for (float v : *back) ASSERT_EQ(v, 0.0f);
}

TEST(StftTest, InvalidOptions) {
  StftOptions o;
  o.n_fft = 8;
  EXPECT_THAT(std::string(Stft::Create(o).status().message()), HasSubstr("n_fft must be in [16, 65536], got 8"));
  o.n_fft = 70000;
  EXPECT_THAT(std::string(Stft::Create(o).status().message()), HasSubstr("n_fft must be in [16, 65536]"));
  o = StftOptions{};
  o.hop_length = 0;
  EXPECT_THAT(std::string(Stft::Create(o).status().message()), HasSubstr("hop_length must be in [1, win_length=2048], got 0"));
  o.hop_length = 1000;
  o.win_length = 800;
  EXPECT_THAT(std::string(Stft::Create(o).status().message()), HasSubstr("hop_length must be in [1, win_length=800], got 1000"));
  o = StftOptions{};
  o.win_length = 4096;
  EXPECT_THAT(std::string(Stft::Create(o).status().message()), HasSubstr("win_length must be in [1, n_fft=2048]"));
  EXPECT_EQ(ParsePadMode("wrap").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StftTest, BadAudio) {
  const Stft stft = MakeStft(256, 64);
  auto empty = stft.Forward(std::vector<float>{});
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr("audio is empty"));
  std::vector<float> y(1000, 0.1f);
  y[123] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(std::string(stft.Forward(y).status().message()), HasSubstr("audio[123] is NaN"));
  y[123] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(std::string(stft.Forward(y).status().message()), HasSubstr("audio[123] is Inf"));
  const Stft no_center = MakeStft(256, 64, 0, WindowType::kHann, false);
  EXPECT_THAT(std::string(no_center.Forward(std::vector<float>(100, 0.0f)).status().message()),
              HasSubstr("needs at least n_fft=256"));
  ComplexMatrix wrong_bins(100, 3);
  EXPECT_THAT(std::string(stft.Inverse(wrong_bins).status().message()), HasSubstr("needs n_fft/2+1=129"));
  ComplexMatrix no_frames(129, 0);
  EXPECT_THAT(std::string(stft.Inverse(no_frames).status().message()), HasSubstr("0 frames"));
}

}  // namespace
}  // namespace specinv
