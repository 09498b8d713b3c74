// Copyright specinv authors.

#include "specinv/render/render.h"

#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/features.h"
#include "specinv/render/png_image.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

constexpr double kSampleRate = 22050.0;

FeatureConfig Librosa() { return GetPreset("librosa").value(); }  // n_fft 2048, hop 512, 128 mels

// Renders, encodes to PNG and decodes the PNG again: every image check below
// looks at what a client would receive.
Image RenderDecoded(std::span<const float> audio, const FeatureConfig& config, const RenderOptions& options) {
  auto rendering = RenderSpectrogram(audio, config, options);
  EXPECT_TRUE(rendering.ok()) << rendering.status();
  if (!rendering.ok()) return Image{};
  auto png = EncodePng(rendering->image);
  EXPECT_TRUE(png.ok()) << png.status();
  if (!png.ok()) return Image{};
  auto decoded = DecodePng(*png);
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *std::move(decoded) : Image{};
}

double Luma(Rgb8 c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

// Row with the largest mean of `brightness` over the columns [x0, x1).
template <typename F>
int BrightestRow(const Image& image, int x0, int x1, F brightness) {
  int best = -1;
  double best_value = -1.0;
  for (int y = 0; y < image.height; ++y) {
    double sum = 0.0;
    for (int x = x0; x < x1; ++x) sum += brightness(image.at(x, y));
    if (sum > best_value) {
      best_value = sum;
      best = y;
    }
  }
  return best;
}

// Mean Euclidean RGB distance between vertically adjacent pixels, skipping
// the pair (skip_row, skip_row + 1) when skip_row >= 0.
double MeanRowToRowChange(const Image& image, int skip_row) {
  double sum = 0.0;
  int count = 0;
  for (int y = 0; y + 1 < image.height; ++y) {
    if (y == skip_row) continue;
    for (int x = 0; x < image.width; ++x) {
      const Rgb8 a = image.at(x, y), b = image.at(x, y + 1);
      const double dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
      sum += std::sqrt(dr * dr + dg * dg + db * db);
      ++count;
    }
  }
  return sum / count;
}

// Value of a gray-map pixel: entry i covers [i, i+1) / 256 of [lo, hi].
double GrayValue(Rgb8 c, double lo, double hi) { return lo + (hi - lo) * (c.r + 0.5) / 256.0; }

// The bare heatmap: every check below (except ConcurrentRendersAgree) is
// about its pixels; figure_test.cc covers the frame.
RenderOptions Bare() {
  RenderOptions o;
  o.figure = false;
  return o;
}

void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(fragment));
}

// ---------------------------------------------------------------- PNG

TEST(PngImageTest, EncodeDecodeRoundTrip) {
  Image image = Image::Filled(7, 5, Rgb8{});
  std::mt19937 rng(3);
  for (auto& byte : image.rgb) byte = static_cast<uint8_t>(rng() & 0xff);
  auto png = EncodePng(image);
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->substr(1, 3), "PNG");
  auto decoded = DecodePng(*png);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->width, 7);
  EXPECT_EQ(decoded->height, 5);
  EXPECT_EQ(decoded->rgb, image.rgb);
}

TEST(PngImageTest, InvalidInput) {
  Image wrong;
  wrong.width = 4;
  wrong.height = 2;
  wrong.rgb.resize(10);
  ExpectInvalid(EncodePng(wrong).status(), "image rgb has 10 bytes; a 4x2 RGB image needs 3 * 4 * 2 = 24");
  ExpectInvalid(EncodePng(Image{}).status(), "image width must be in [1, 65535], got 0");
  ExpectInvalid(DecodePng("").status(), "png is empty");
  ExpectInvalid(DecodePng("this is not a png file").status(), "png is not a readable PNG file");
  // A valid PNG cut short.
  const std::string png = EncodePng(Image::Filled(64, 64, Rgb8{1, 2, 3})).value();
  EXPECT_FALSE(DecodePng(std::string_view(png).substr(0, png.size() / 2)).ok());
}

// ---------------------------------------------------------------- geometry

TEST(RenderTest, Dimensions) {
  const auto y = testing::Sine(1000.0, kSampleRate, 22050);  // 44 frames
  const FeatureConfig config = Librosa();
  RenderOptions o = Bare();
  Image native = RenderDecoded(y, config, o);
  EXPECT_EQ(native.width, 44);
  EXPECT_EQ(native.height, 1025);
  o.view = RenderView::kMel;
  Image mel = RenderDecoded(y, config, o);
  EXPECT_EQ(mel.width, 44);
  EXPECT_EQ(mel.height, 128);
  o.width = 300;
  o.height = 200;
  o.color_bar = true;
  for (RenderView view : {RenderView::kMagnitude, RenderView::kMel, RenderView::kPhase,
                          RenderView::kPhaseDeinterleaved, RenderView::kPhaseFft2,
                          RenderView::kInstantaneousFrequency, RenderView::kGroupDelay}) {
    for (Interpolation interpolation : {Interpolation::kNearest, Interpolation::kBilinear}) {
      o.view = view;
      o.interpolation = interpolation;
      Image image = RenderDecoded(y, config, o);
      EXPECT_EQ(image.width, 300 + kColorBarGap + kColorBarWidth) << RenderViewName(view);
      EXPECT_EQ(image.height, 200) << RenderViewName(view);
    }
  }
  // A frequency range keeps only the bins inside it: 10.77 Hz apart, so
  // [1000, 2000] Hz holds bins 93..185.
  RenderOptions range = Bare();
  range.fmin_hertz = 1000.0;
  range.fmax_hertz = 2000.0;
  EXPECT_EQ(RenderDecoded(y, config, range).height, 93);
}

TEST(RenderTest, ToneBrightestRowIsItsFrequency) {
  const auto y = testing::Sine(1000.0, kSampleRate, 22050);
  const FeatureConfig config = Librosa();
  const int tone_bin = static_cast<int>(std::lround(1000.0 * config.stft.n_fft / kSampleRate));  // 93
  // One row per bin, top = Nyquist: bin k is row 1024 - k. Luminance of viridis.
  RenderOptions o = Bare();
  Image image = RenderDecoded(y, config, o);
  EXPECT_EQ(BrightestRow(image, 5, image.width - 5, Luma), 1024 - tone_bin);
  // Resampled to 300 rows over [500, 2000] Hz (bins 47..185), bilinear, gray.
  o.fmin_hertz = 500.0;
  o.fmax_hertz = 2000.0;
  o.height = 300;
  o.width = 100;
  o.interpolation = Interpolation::kBilinear;
  o.colormap = Colormap::kGray;
  image = RenderDecoded(y, config, o);
  const int rows = 185 - 47 + 1;
  const double source_row = rows - 1 - (tone_bin - 47);                // from the top
  const double expected_y = (source_row + 0.5) * o.height / rows - 0.5;  // pixel centres aligned
  const int brightest = BrightestRow(image, 10, 90, [](Rgb8 c) { return static_cast<double>(c.r); });
  EXPECT_NEAR(brightest, expected_y, 1.0);
  // The highest frequency shown is at the top: a 1900 Hz tone sits near row 0.
  const auto high = testing::Sine(1990.0, kSampleRate, 22050);
  image = RenderDecoded(high, config, o);
  EXPECT_LE(BrightestRow(image, 10, 90, [](Rgb8 c) { return static_cast<double>(c.r); }), 3);
}

TEST(RenderTest, SilenceRendersFloorColour) {
  const std::vector<float> silence(22050, 0.0f);
  for (const char* preset : {"librosa", "hifigan", "whisper"}) {
    const FeatureConfig config = GetPreset(preset).value();
    for (RenderView view : {RenderView::kMagnitude, RenderView::kMel}) {
      for (Colormap map : {Colormap::kViridis, Colormap::kMagma, Colormap::kInferno, Colormap::kGray}) {
        RenderOptions o = Bare();
        o.view = view;
        o.colormap = map;
        o.width = 64;
        o.height = 48;
        const Image image = RenderDecoded(silence, config, o);
        const Rgb8 floor = GetColormapTable(map)[0];
        int wrong = 0;
        for (int yy = 0; yy < image.height; ++yy) {
          for (int x = 0; x < image.width; ++x) wrong += image.at(x, yy) == floor ? 0 : 1;
        }
        EXPECT_EQ(wrong, 0) << preset << " " << RenderViewName(view) << " " << ColormapName(map);
      }
    }
  }
  // Phase weighted by magnitude: silence is black.
  RenderOptions o = Bare();
  o.view = RenderView::kPhase;
  o.weight_by_magnitude = true;
  const Image phase = RenderDecoded(silence, Librosa(), o);
  for (uint8_t byte : phase.rgb) ASSERT_EQ(byte, 0);
}

TEST(RenderTest, DeinterleavedPhaseIsSmootherThanRawPhase) {
  // Inside a sinusoid's main lobe the window transform keeps its sign and the
  // window centre (n_fft/2) adds a linear phase of -pi per bin, so the raw
  // phase alternates by pi from row to row. A 512-sample window in a 2048-point
  // FFT widens the main lobe to +-8 bins, so the test sees 13 such rows.
  const auto y = testing::Sine(1000.0, kSampleRate, 44100);  // bin 92.88
  FeatureConfig config = Librosa();
  config.stft.win_length = 512;
  RenderOptions o = Bare();
  o.fmin_hertz = 930.0;  // bins 87..99
  o.fmax_hertz = 1075.0;
  o.view = RenderView::kPhase;
  const Image raw = RenderDecoded(y, config, o);
  o.view = RenderView::kPhaseDeinterleaved;
  const Image deinterleaved = RenderDecoded(y, config, o);
  ASSERT_EQ(raw.height, 13);
  ASSERT_EQ(deinterleaved.height, 13);
  // 7 even rows at the bottom (rows 6..12 from the top), 6 odd rows above:
  // the seam between the halves is between rows 5 and 6.
  const double raw_change = MeanRowToRowChange(raw, -1);
  const double deinterleaved_change = MeanRowToRowChange(deinterleaved, 5);
  EXPECT_GT(raw_change, 200.0);  // opposite hues
  EXPECT_LT(deinterleaved_change, 0.1 * raw_change) << raw_change << " vs " << deinterleaved_change;
}

TEST(RenderTest, InstantaneousFrequencyShowsDeviationInHz) {
  const double f0 = 1005.0;  // bin 93 is centred at 1001.29 Hz: +3.71 Hz
  const auto y = testing::Sine(f0, kSampleRate, 22050);
  const FeatureConfig config = Librosa();
  RenderOptions o = Bare();
  o.view = RenderView::kInstantaneousFrequency;
  o.colormap = Colormap::kGray;
  o.fmin_hertz = 980.0;  // bins 92..94 (991, 1001, 1012 Hz)
  o.fmax_hertz = 1020.0;
  auto rendering = RenderSpectrogram(y, config, o);
  ASSERT_TRUE(rendering.ok()) << rendering.status();
  const double range = kSampleRate / (2.0 * config.stft.hop_length);
  EXPECT_DOUBLE_EQ(rendering->value_min, -range);
  EXPECT_DOUBLE_EQ(rendering->value_max, range);
  EXPECT_EQ(rendering->value_unit, "Hz");
  const Image image = DecodePng(EncodePng(rendering->image).value()).value();
  ASSERT_EQ(image.height, 3);
  const double bin_hz = kSampleRate / config.stft.n_fft;
  const double tolerance = 2.0 * range / 256.0;  // one colour step
  for (int k = 92; k <= 94; ++k) {
    const int row = 94 - k;
    for (int x = 5; x < image.width - 5; ++x) {
      EXPECT_NEAR(GrayValue(image.at(x, row), -range, range), f0 - k * bin_hz, tolerance)
          << "bin " << k << " frame " << x;
    }
  }
}

TEST(RenderTest, GroupDelayShowsImpulseTime) {
  std::vector<float> y(22050, 0.0f);
  y[5000] = 1.0f;
  const FeatureConfig config = Librosa();
  RenderOptions o = Bare();
  o.view = RenderView::kGroupDelay;
  o.colormap = Colormap::kGray;
  o.fmax_hertz = 4000.0;
  auto rendering = RenderSpectrogram(y, config, o);
  ASSERT_TRUE(rendering.ok()) << rendering.status();
  EXPECT_EQ(rendering->value_unit, "s");
  const Image& image = rendering->image;
  const double range = config.stft.n_fft / (2.0 * kSampleRate);
  for (int t : {9, 10, 11}) {  // window centres at t * 512 samples
    const double expected = (5000.0 - t * config.stft.hop_length) / kSampleRate;
    for (int row = 0; row < image.height; row += 37) {
      EXPECT_NEAR(GrayValue(image.at(t, row), -range, range), expected, 2.0 * range / 256.0) << t;
    }
  }
}

TEST(RenderTest, BilinearPhaseInterpolatesOnTheCircle) {
  FeatureConfig config = Librosa();
  config.stft.n_fft = 16;
  config.stft.hop_length = 4;
  config.n_mels = 4;
  // Two frames whose angles are just either side of the -pi / pi seam.
  RealMatrix phase(9, 2);
  phase.col(0).setConstant(static_cast<float>(std::numbers::pi - 0.05));
  phase.col(1).setConstant(static_cast<float>(-std::numbers::pi + 0.05));
  RenderOptions o = Bare();
  o.view = RenderView::kPhase;
  o.width = 3;
  o.interpolation = Interpolation::kBilinear;
  auto rendering = RenderSpectrogram(phase, RenderTensorKind::kPhase, config, o);
  ASSERT_TRUE(rendering.ok()) << rendering.status();
  // The middle column lies half way: the angle pi (red), not 0 (cyan).
  const Rgb8 middle = rendering->image.at(1, 4);
  EXPECT_EQ(middle.r, 255);
  EXPECT_LT(middle.g, 20);
  EXPECT_LT(middle.b, 20);
}

TEST(RenderTest, ColorBarShowsTheMap) {
  const auto y = testing::Sine(1000.0, kSampleRate, 22050);
  RenderOptions o = Bare();
  o.colormap = Colormap::kInferno;
  o.color_bar = true;
  o.width = 50;
  o.height = 300;
  auto rendering = RenderSpectrogram(y, Librosa(), o);
  ASSERT_TRUE(rendering.ok()) << rendering.status();
  const Image& image = rendering->image;
  ASSERT_EQ(image.width, 50 + kColorBarGap + kColorBarWidth);
  EXPECT_EQ(rendering->plot_width, 50);
  const ColormapTable& table = GetColormapTable(Colormap::kInferno);
  for (int x = 50; x < 50 + kColorBarGap; ++x) EXPECT_EQ(image.at(x, 150), (Rgb8{255, 255, 255}));
  for (int x = 50 + kColorBarGap; x < image.width; ++x) {
    EXPECT_EQ(image.at(x, 299), table[0]);
    EXPECT_EQ(image.at(x, 0), table[255]);
    EXPECT_EQ(image.at(x, 149), table[128]);  // t = 1 - 149.5 / 300 = 0.5017
  }
}

TEST(RenderTest, DynamicRangeReported) {
  const auto y = testing::Sine(1000.0, kSampleRate, 22050, 0.5);
  RenderOptions o = Bare();
  o.top_db = 60.0;
  auto rendering = RenderSpectrogram(y, Librosa(), o);
  ASSERT_TRUE(rendering.ok()) << rendering.status();
  // A 0.5 sine under a 2048-point Hann window peaks near 0.5 * 2048 / 4 = 256 (48 dB).
  EXPECT_NEAR(rendering->value_max, 20.0 * std::log10(256.0), 1.5);
  EXPECT_NEAR(rendering->value_max - rendering->value_min, 60.0, 1e-9);
  EXPECT_EQ(rendering->value_unit, "dB");
  EXPECT_EQ(rendering->colormap, Colormap::kViridis);
}

// ---------------------------------------------------------------- other sources

TEST(RenderTest, TensorSourcesMatchAudio) {
  const auto y = testing::Chirp(200.0, 6000.0, kSampleRate, 22050);
  const FeatureConfig config = Librosa();
  const FeatureExtractor extractor = FeatureExtractor::Create(config).value();
  const ComplexMatrix stft = extractor.ComplexSpectrogram(y).value();
  for (RenderView view : {RenderView::kMagnitude, RenderView::kMel, RenderView::kPhase,
                          RenderView::kPhaseFft2, RenderView::kGroupDelay}) {
    RenderOptions o = Bare();
    o.view = view;
    o.width = 120;
    o.height = 90;
    o.interpolation = Interpolation::kBilinear;
    const Image from_audio = RenderSpectrogram(y, config, o).value().image;
    EXPECT_EQ(RenderSpectrogram(stft, config, o).value().image.rgb, from_audio.rgb) << RenderViewName(view);
    if (view == RenderView::kMagnitude || view == RenderView::kMel) {
      const RealMatrix magnitude = stft.cwiseAbs();
      auto image = RenderSpectrogram(magnitude, RenderTensorKind::kStftMagnitude, config, o);
      ASSERT_TRUE(image.ok()) << image.status();
      EXPECT_EQ(image->image.rgb, from_audio.rgb) << RenderViewName(view);
    } else {
      const RealMatrix phase = stft.unaryExpr([](std::complex<float> c) { return std::arg(c); });
      auto image = RenderSpectrogram(phase, RenderTensorKind::kPhase, config, o);
      ASSERT_TRUE(image.ok()) << image.status();
      // Same angles up to the -pi / pi convention, so (nearly) the same pixels.
      int differing = 0;
      for (size_t i = 0; i < from_audio.rgb.size(); ++i) differing += image->image.rgb[i] != from_audio.rgb[i];
      EXPECT_LT(differing, static_cast<int>(from_audio.rgb.size() / 100)) << RenderViewName(view);
    }
  }
}

TEST(RenderTest, LogMelTensorMatchesMelTensor) {
  const auto y = testing::Chirp(200.0, 6000.0, kSampleRate, 22050);
  const FeatureConfig config = GetPreset("hifigan").value();
  const FeatureExtractor extractor = FeatureExtractor::Create(config).value();
  RenderOptions o = Bare();
  o.view = RenderView::kMel;
  o.colormap = Colormap::kGray;
  auto from_mel = RenderSpectrogram(extractor.Mel(y).value(), RenderTensorKind::kMel, config, o);
  auto from_log_mel = RenderSpectrogram(extractor.LogMel(y).value(), RenderTensorKind::kLogMel, config, o);
  ASSERT_TRUE(from_mel.ok()) << from_mel.status();
  ASSERT_TRUE(from_log_mel.ok()) << from_log_mel.status();
  ASSERT_EQ(from_mel->image.rgb.size(), from_log_mel->image.rgb.size());
  // ln / exp round trip: at most one grey level apart, except where the
  // hifigan clamp (1e-5) lifted a quieter value.
  int far = 0;
  for (size_t i = 0; i < from_mel->image.rgb.size(); ++i) {
    far += std::abs(from_mel->image.rgb[i] - from_log_mel->image.rgb[i]) > 1;
  }
  EXPECT_LT(far, static_cast<int>(from_mel->image.rgb.size() / 50));
}

TEST(RenderTest, ConcurrentRendersAgree) {
  const auto y = testing::Chirp(200.0, 6000.0, kSampleRate, 22050);
  const FeatureConfig config = Librosa();
  RenderOptions o;  // a figure: text is drawn on every thread
  o.view = RenderView::kPhaseFft2;
  o.weight_by_magnitude = true;
  const std::vector<uint8_t> expected = RenderSpectrogram(y, config, o).value().image.rgb;
  std::vector<std::vector<uint8_t>> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      RenderOptions mine = o;
      mine.fmax_hertz = 11025.0 - 100.0 * static_cast<double>(i);  // different row counts: different FFT sizes
      (void)RenderSpectrogram(y, config, mine);
      results[i] = RenderSpectrogram(y, config, o).value().image.rgb;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

// ---------------------------------------------------------------- errors

TEST(RenderTest, InvalidOptions) {
  const auto y = testing::Sine(1000.0, kSampleRate, 22050);
  const FeatureConfig config = Librosa();
  auto render = [&](const RenderOptions& o) { return RenderSpectrogram(y, config, o).status(); };
  RenderOptions o = Bare();
  o.width = 9000;
  ExpectInvalid(render(o), "width must be in [0, 8192], got 9000");
  o.color_bar = true;
  o.width = 8180;
  ExpectInvalid(render(o), "width must be in [0, 8172] (max_dimension 8192 minus the 20-pixel colour bar), got 8180");
  o = Bare();
  o.height = -1;
  ExpectInvalid(render(o), "height must be in [0, 8192], got -1");
  o = Bare();
  o.max_dimension = 40;  // 44 frames
  ExpectInvalid(render(o), "width is 0 (one column per frame) but there are 44 frames, more than the 40 columns");
  o.width = 40;
  ExpectInvalid(render(o), "height is 0 (one row per bin) but 1025 rows are visible, more than max_dimension 40");
  o.height = 40;
  EXPECT_TRUE(render(o).ok());
  o = Bare();
  o.max_dimension = 0;
  ExpectInvalid(render(o), "max_dimension must be in [1, 65535], got 0");
  o = Bare();
  o.top_db = 0.0;
  ExpectInvalid(render(o), "top_db must be in (0, 1000], got 0");
  o = Bare();
  o.view = static_cast<RenderView>(99);
  ExpectInvalid(render(o), "view must be one of magnitude, mel, phase, phase_deinterleaved, phase_fft2, "
                           "instantaneous_frequency, group_delay; got enum value 99");
  o = Bare();
  o.colormap = static_cast<Colormap>(17);
  ExpectInvalid(render(o), "colormap must be one of");
  o = Bare();
  o.interpolation = static_cast<Interpolation>(5);
  ExpectInvalid(render(o), "interpolation must be one of nearest, bilinear; got enum value 5");
  o = Bare();
  o.weight_by_magnitude = true;
  ExpectInvalid(render(o), "weight_by_magnitude applies to the phase views");
  // Frequency range.
  o = Bare();
  o.fmin_hertz = -1.0;
  ExpectInvalid(render(o), "fmin_hertz must be in [0, 11025) (sample_rate / 2), got -1");
  o.fmin_hertz = 2000.0;
  o.fmax_hertz = 1000.0;
  ExpectInvalid(render(o), "fmax_hertz must be in (fmin_hertz = 2000, 11025] (sample_rate / 2), got 1000");
  o.fmax_hertz = 20000.0;
  ExpectInvalid(render(o), "got 20000");
  o.fmin_hertz = 1002.0;  // between bins 93 (1001.3 Hz) and 94 (1012.1 Hz)
  o.fmax_hertz = 1010.0;
  ExpectInvalid(render(o), "fmin_hertz and fmax_hertz select [1002, 1010] Hz, which contains no STFT bin; bins are 10.7666 Hz apart");
  o.view = RenderView::kMel;
  o.fmin_hertz = 495.0;  // between the centres of mel bands 18 (490 Hz) and 19 (516 Hz)
  o.fmax_hertz = 510.0;
  ExpectInvalid(render(o), "fmin_hertz and fmax_hertz select [495, 510] Hz, which contains no mel band centre (the 128 bands");
  // Names.
  ExpectInvalid(ParseRenderView("spectrum").status(), "view must be one of magnitude, mel");
  ExpectInvalid(ParseInterpolation("cubic").status(), "interpolation must be one of nearest, bilinear; got \"cubic\"");
  for (RenderView view : {RenderView::kMagnitude, RenderView::kMel, RenderView::kPhase,
                          RenderView::kPhaseDeinterleaved, RenderView::kPhaseFft2,
                          RenderView::kInstantaneousFrequency, RenderView::kGroupDelay}) {
    EXPECT_EQ(ParseRenderView(RenderViewName(view)).value(), view);
  }
}

TEST(RenderTest, InvalidSources) {
  const FeatureConfig config = Librosa();
  RenderOptions o = Bare();
  // Zero-size inputs.
  ExpectInvalid(RenderSpectrogram(std::vector<float>{}, config, o).status(), "audio is empty");
  ExpectInvalid(RenderSpectrogram(ComplexMatrix(1025, 0), config, o).status(),
                "stft must have shape (n_fft/2+1 = 1025, frames >= 1), got (1025, 0)");
  ExpectInvalid(RenderSpectrogram(RealMatrix(1025, 0), RenderTensorKind::kStftMagnitude, config, o).status(),
                "spectrogram (stft_magnitude) must have shape (n_fft/2+1 = 1025, frames >= 1), got (1025, 0)");
  RenderOptions mel = Bare();
  mel.view = RenderView::kMel;
  ExpectInvalid(RenderSpectrogram(RealMatrix::Ones(80, 10), RenderTensorKind::kMel, config, mel).status(),
                "spectrogram (mel) must have shape (n_mels = 128, frames >= 1), got (80, 10)");
  // Values.
  RealMatrix negative = RealMatrix::Ones(1025, 3);
  negative(4, 1) = -1.0f;
  ExpectInvalid(RenderSpectrogram(negative, RenderTensorKind::kStftMagnitude, config, o).status(),
                "spectrogram[1029] is -1; all values must be finite and >= 0");
  std::vector<float> nan_audio(4096, 0.0f);
  nan_audio[7] = std::nanf("");
  ExpectInvalid(RenderSpectrogram(nan_audio, config, o).status(), "audio[7] is NaN");
  // Views a kind cannot feed.
  o.view = RenderView::kPhase;
  ExpectInvalid(RenderSpectrogram(RealMatrix::Ones(1025, 3), RenderTensorKind::kStftMagnitude, config, o).status(),
                "view phase needs the phase, which a stft_magnitude spectrogram lacks");
  o.view = RenderView::kMagnitude;
  ExpectInvalid(RenderSpectrogram(RealMatrix::Zero(1025, 3), RenderTensorKind::kPhase, config, o).status(),
                "view magnitude needs magnitudes, which a phase spectrogram lacks");
  o.view = RenderView::kGroupDelay;
  o.weight_by_magnitude = true;
  ExpectInvalid(RenderSpectrogram(RealMatrix::Zero(1025, 3), RenderTensorKind::kPhase, config, o).status(),
                "weight_by_magnitude needs magnitudes, which a phase spectrogram lacks");
  o = Bare();
  ExpectInvalid(RenderSpectrogram(RealMatrix::Ones(128, 3), RenderTensorKind::kMel, config, o).status(),
                "view magnitude needs an STFT; a mel spectrogram only supports view mel");
  // Bad analysis configuration.
  FeatureConfig bad = config;
  bad.stft.n_fft = 8;
  ExpectInvalid(RenderSpectrogram(std::vector<float>(4096, 0.0f), bad, o).status(), "n_fft must be in [16, 65536], got 8");
}

}  // namespace
}  // namespace specinv
