// Copyright specinv authors.
//
// Round trips through every encoding EncodeAudio writes: encode a generated
// tone or chirp, decode it back with DecodeAudio, and compare with the
// generated signal (never with values the code under test produced).
//
// Fidelity bounds are codec properties with a margin, measured with
// libsndfile 1.2.0 (Debian bookworm: libopus 1.3, libvorbis 1.3.7, LAME
// 3.100, mpg123 1.31) at its default quality settings; the figures are in
// the comments of each test. SNR of the lossy codecs is taken on a linear
// chirp (100 Hz to 0.4 x the rate, -6 dBFS, 1 s) after aligning the decoded
// signal with the reference (best integer lag within +-3000 samples, over
// 16384 samples in the middle, away from start/end transients); the lag is
// asserted too, so a codec delay left in the output fails. Bounds are the
// measured SNR minus 7-10 dB (encoder versions and tunings differ).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>
#include <span>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/io/audio_io.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

// Power of `x` at `frequency` (Goertzel).
double PowerAt(std::span<const float> x, double frequency, double sample_rate) {
  const double w = 2.0 * std::numbers::pi * frequency / sample_rate;
  const double c = 2.0 * std::cos(w);
  double s1 = 0.0;
  double s2 = 0.0;
  for (float v : x) {
    const double s0 = static_cast<double>(v) + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

// Frequency of the strongest component of the middle 8192 samples: a 5 Hz
// grid from 20 Hz to Nyquist, refined to 0.25 Hz around the best bin.
double DominantFrequency(std::span<const float> x, double sample_rate) {
  const size_t n = std::min<size_t>(8192, x.size());
  const std::span<const float> mid = x.subspan((x.size() - n) / 2, n);
  double best_f = 0.0;
  double best_p = -1.0;
  for (double f = 20.0; f < sample_rate / 2 - 5.0; f += 5.0) {
    const double p = PowerAt(mid, f, sample_rate);
    if (p > best_p) {
      best_p = p;
      best_f = f;
    }
  }
  const double coarse = best_f;
  for (double f = coarse - 5.0; f <= coarse + 5.0; f += 0.25) {
    const double p = PowerAt(mid, f, sample_rate);
    if (p > best_p) {
      best_p = p;
      best_f = f;
    }
  }
  return best_f;
}

struct Alignment {
  int lag = 0;          // decoded[i + lag] matches reference[i]
  double snr_db = 0.0;  // over the compared window
};

// Best integer lag of `decoded` against `reference` in [-max_lag, max_lag]
// by cross-correlation over a window in the middle of the reference, and the
// SNR there (reference power / power of the difference).
Alignment Align(std::span<const float> reference, std::span<const float> decoded, int max_lag = 3000) {
  const auto n = static_cast<int64_t>(std::min(reference.size(), decoded.size()));
  const int64_t window = std::min<int64_t>(16384, n - 2 * max_lag - 2);
  const int64_t begin = (n - window) / 2;
  Alignment best;
  double best_corr = -1e300;
  for (int lag = -max_lag; lag <= max_lag; ++lag) {
    double corr = 0.0;
    for (int64_t i = begin; i < begin + window; ++i) {
      corr += static_cast<double>(reference[i]) * static_cast<double>(decoded[i + lag]);
    }
    if (corr > best_corr) {
      best_corr = corr;
      best.lag = lag;
    }
  }
  double signal = 0.0;
  double noise = 0.0;
  for (int64_t i = begin; i < begin + window; ++i) {
    const double r = reference[i];
    const double d = decoded[i + best.lag];
    signal += r * r;
    noise += (r - d) * (r - d);
  }
  best.snr_db = 10.0 * std::log10(signal / std::max(noise, 1e-30));
  return best;
}

// SNR over the whole signal, no alignment (sample-exact codecs).
double SnrDb(std::span<const float> reference, std::span<const float> decoded) {
  double signal = 0.0;
  double noise = 0.0;
  for (size_t i = 0; i < std::min(reference.size(), decoded.size()); ++i) {
    const double r = reference[i];
    const double d = decoded[i];
    signal += r * r;
    noise += (r - d) * (r - d);
  }
  return 10.0 * std::log10(signal / std::max(noise, 1e-30));
}

Audio RoundTrip(std::span<const float> x, double rate, const EncodeOptions& options, double* encoded_rate = nullptr) {
  absl::StatusOr<EncodedAudio> encoded = EncodeAudio(x, rate, options);
  EXPECT_TRUE(encoded.ok()) << encoded.status();
  if (!encoded.ok()) return {};
  if (encoded_rate != nullptr) *encoded_rate = encoded->sample_rate;
  absl::StatusOr<Audio> decoded = DecodeAudio(AsBytes(encoded->bytes));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  if (!decoded.ok()) return {};
  return *std::move(decoded);
}

EncodeOptions With(AudioEncoding encoding, double sample_rate = 0) {
  EncodeOptions options;
  options.encoding = encoding;
  options.sample_rate = sample_rate;
  return options;
}

#define SKIP_UNLESS_SUPPORTED(encoding)                                                         \
  if (!EncodingSupported(encoding)) {                                                           \
    GTEST_SKIP() << "libsndfile built without " << AudioEncodingName(encoding) << " encoding"; \
  }

TEST(AudioEncodingTest, LosslessEncodingsRoundTripWithinOneLsb) {
  const std::vector<float> x = testing::Chirp(100.0, 7000.0, 16000.0, 16000, 0.9);
  for (AudioEncoding encoding : {AudioEncoding::kWavPcm16, AudioEncoding::kFlac, AudioEncoding::kWavFloat32}) {
    const Audio audio = RoundTrip(x, 16000.0, With(encoding));
    ASSERT_EQ(audio.samples.size(), x.size()) << AudioEncodingName(encoding);
    EXPECT_EQ(audio.sample_rate, 16000.0);
    float max_error = 0.0f;
    for (size_t i = 0; i < x.size(); ++i) max_error = std::max(max_error, std::abs(audio.samples[i] - x[i]));
    EXPECT_LE(max_error, encoding == AudioEncoding::kWavFloat32 ? 0.0f : 0.5f / 32768.0f)
        << AudioEncodingName(encoding);
  }
}

// G.711 companding keeps ~38 dB SNR for signals well above its low-level
// segments (ITU-T G.711/G.712: >= 35 dB from -30 to 0 dBm0). Measured on this
// -1 dBFS chirp: mu-law 38.5 dB, A-law 39.0 dB; lengths exact.
TEST(AudioEncodingTest, MulawAndAlawRoundTripAbove35DbSnrWithExactLength) {
  const std::vector<float> x = testing::Chirp(100.0, 3800.0, 8000.0, 12000, 0.9);
  for (AudioEncoding encoding : {AudioEncoding::kWavMulaw, AudioEncoding::kWavAlaw}) {
    const Audio audio = RoundTrip(x, 8000.0, With(encoding));
    ASSERT_EQ(audio.samples.size(), x.size()) << AudioEncodingName(encoding);
    EXPECT_EQ(audio.sample_rate, 8000.0);
    const double snr = SnrDb(x, audio.samples);
    std::printf("[measure] %s chirp SNR %.2f dB, length delta 0\n", std::string(AudioEncodingName(encoding)).c_str(),
                snr);
    EXPECT_GE(snr, 35.0) << AudioEncodingName(encoding);
  }
}

TEST(AudioEncodingTest, MulawAndAlawFilesAreEightBitWav) {
  const std::vector<float> x = testing::Sine(440.0, 8000.0, 8000, 0.5);
  for (AudioEncoding encoding : {AudioEncoding::kWavMulaw, AudioEncoding::kWavAlaw}) {
    absl::StatusOr<std::string> bytes = EncodeAudio(x, 8000.0, encoding);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    // One byte per sample plus a small header.
    EXPECT_GE(bytes->size(), x.size());
    EXPECT_LE(bytes->size(), x.size() + 128);
    EXPECT_EQ(bytes->substr(0, 4), "RIFF");
    absl::StatusOr<AudioProbe> probe = ProbeAudio(*bytes);
    ASSERT_TRUE(probe.ok()) << probe.status();
    EXPECT_THAT(probe->encoding, HasSubstr(encoding == AudioEncoding::kWavMulaw ? "U-Law" : "A-Law"));
  }
}

// A 1 s tone (pitch and length) and a 1 s chirp (delay and SNR: unlike a
// tone it is not periodic, so the best lag is the codec's true delay).
void ExpectLossyRoundTrip(AudioEncoding encoding, double rate, double frequency, int64_t max_extra_samples,
                          int max_lag, double min_snr_db) {
  const auto n = static_cast<int64_t>(rate);  // 1 s
  const std::string name(AudioEncodingName(encoding));
  const std::vector<float> tone = testing::Sine(frequency, rate, n, 0.5);
  double encoded_rate = 0.0;
  const Audio audio = RoundTrip(tone, rate, With(encoding), &encoded_rate);
  ASSERT_FALSE(audio.samples.empty());
  EXPECT_EQ(encoded_rate, rate) << name;
  EXPECT_EQ(audio.sample_rate, rate) << name;
  const auto length = static_cast<int64_t>(audio.samples.size());
  const double f = DominantFrequency(audio.samples, audio.sample_rate);
  EXPECT_GE(length, n) << name;
  EXPECT_LE(length, n + max_extra_samples) << name;
  EXPECT_NEAR(f, frequency, 2.0) << name;

  const std::vector<float> chirp = testing::Chirp(100.0, 0.4 * rate, rate, n, 0.5);
  const Audio decoded_chirp = RoundTrip(chirp, rate, With(encoding));
  ASSERT_FALSE(decoded_chirp.samples.empty());
  const Alignment a = Align(chirp, decoded_chirp.samples);
  std::printf("[measure] %s at %g Hz: tone length %lld (delta %+lld), peak %.2f Hz (%g Hz sent); chirp 100 Hz-%g Hz: "
              "length delta %+lld, lag %d, aligned SNR %.2f dB\n",
              name.c_str(), rate, static_cast<long long>(length), static_cast<long long>(length - n), f, frequency,
              0.4 * rate, static_cast<long long>(decoded_chirp.samples.size()) - static_cast<long long>(n), a.lag,
              a.snr_db);
  EXPECT_LE(std::abs(a.lag), max_lag) << name;
  EXPECT_GE(a.snr_db, min_snr_db) << name;
}

// libsndfile writes the Ogg granule positions and OpusHead pre-skip, so the
// decoded length is exact and the delay 0. Measured (libopus defaults): chirp
// SNR 27.6 dB at 48 kHz (up to 19.2 kHz), 39.9 dB at 16 kHz; tone peak exact.
TEST(AudioEncodingTest, OpusRoundTripKeepsPitchAndLength) {
  SKIP_UNLESS_SUPPORTED(AudioEncoding::kOggOpus);
  ExpectLossyRoundTrip(AudioEncoding::kOggOpus, 48000.0, 440.0, 0, 0, 20.0);
  ExpectLossyRoundTrip(AudioEncoding::kOggOpus, 16000.0, 440.0, 0, 0, 30.0);
}

TEST(AudioEncodingTest, OpusResamplesUnsupportedRatesToTheNextSupportedOne) {
  SKIP_UNLESS_SUPPORTED(AudioEncoding::kOggOpus);
  EXPECT_EQ(EncodedSampleRate(22050, AudioEncoding::kOggOpus), 24000);
  EXPECT_EQ(EncodedSampleRate(44100, AudioEncoding::kOggOpus), 48000);
  EXPECT_EQ(EncodedSampleRate(96000, AudioEncoding::kOggOpus), 48000);
  EXPECT_EQ(EncodedSampleRate(16000, AudioEncoding::kOggOpus), 16000);
  EXPECT_EQ(EncodedSampleRate(1000, AudioEncoding::kOggOpus), 8000);
  const std::vector<float> x = testing::Sine(1000.0, 22050.0, 22050, 0.5);
  double encoded_rate = 0.0;
  const Audio audio = RoundTrip(x, 22050.0, With(AudioEncoding::kOggOpus), &encoded_rate);
  EXPECT_EQ(encoded_rate, 24000.0);
  EXPECT_EQ(audio.sample_rate, 24000.0);
  EXPECT_EQ(audio.samples.size(), 24000u);  // 1 s either way
  EXPECT_NEAR(DominantFrequency(audio.samples, audio.sample_rate), 1000.0, 2.0);
}

// Vorbis: exact length (granule positions), delay 0. Measured at 44.1 kHz:
// chirp SNR 28.5 dB (up to 17.6 kHz).
TEST(AudioEncodingTest, VorbisRoundTripKeepsPitchAndLength) {
  SKIP_UNLESS_SUPPORTED(AudioEncoding::kOggVorbis);
  ExpectLossyRoundTrip(AudioEncoding::kOggVorbis, 44100.0, 440.0, 0, 0, 20.0);
}

// MP3: LAME adds an encoder delay and pads to whole 1152-sample frames;
// libsndfile's mpg123 decoder removes both when it finds the LAME/Xing tag
// (gapless), otherwise up to 2 frames more come back, delayed. Measured with
// mpg123 1.31: length delta 0 and lag 0 (gapless); chirp SNR 18.6 dB at
// 44.1 kHz (LAME's default lowpass cuts the top of the 17.6 kHz chirp),
// 22.7 dB at 16 kHz.
TEST(AudioEncodingTest, Mp3RoundTripKeepsPitchAndLength) {
  SKIP_UNLESS_SUPPORTED(AudioEncoding::kMp3);
  ASSERT_TRUE(Mp3DecodingSupported());
  ExpectLossyRoundTrip(AudioEncoding::kMp3, 44100.0, 440.0, 2 * 1152 + 576, 2 * 1152 + 576, 12.0);
  ExpectLossyRoundTrip(AudioEncoding::kMp3, 16000.0, 440.0, 2 * 1152 + 576, 2 * 1152 + 576, 15.0);
}

TEST(AudioEncodingTest, Mp3ResamplesUnsupportedRates) {
  EXPECT_EQ(EncodedSampleRate(96000, AudioEncoding::kMp3), 48000);
  EXPECT_EQ(EncodedSampleRate(20000, AudioEncoding::kMp3), 22050);
  EXPECT_EQ(EncodedSampleRate(44100, AudioEncoding::kMp3), 44100);
  EXPECT_EQ(EncodedSampleRate(96000, AudioEncoding::kFlac), 96000);
}

TEST(AudioEncodingTest, OutputSampleRateResamplesBeforeEncoding) {
  // Up 16 kHz -> 48 kHz (x3) and down 48 kHz -> 16 kHz (/3), 1.5 s of a
  // 1 kHz tone: the length scales by the ratio, the pitch stays.
  struct Case {
    double from, to;
  };
  for (const Case c : {Case{16000, 48000}, Case{48000, 16000}, Case{22050, 44100}}) {
    const auto n = static_cast<int64_t>(1.5 * c.from);
    const std::vector<float> x = testing::Sine(1000.0, c.from, n, 0.5);
    absl::StatusOr<EncodedShape> plan = PlanEncode(n, c.from, With(AudioEncoding::kWavFloat32, c.to));
    ASSERT_TRUE(plan.ok()) << plan.status();
    const auto expected = static_cast<int64_t>(1.5 * c.to);
    EXPECT_EQ(plan->samples, expected);
    EXPECT_EQ(plan->sample_rate, c.to);
    double encoded_rate = 0.0;
    const Audio audio = RoundTrip(x, c.from, With(AudioEncoding::kWavFloat32, c.to), &encoded_rate);
    EXPECT_EQ(encoded_rate, c.to);
    EXPECT_EQ(audio.sample_rate, c.to);
    EXPECT_EQ(static_cast<int64_t>(audio.samples.size()), expected);
    EXPECT_NEAR(DominantFrequency(audio.samples, c.to), 1000.0, 1.0) << c.from << " -> " << c.to;
    // Against the tone generated directly at the new rate: soxr HQ is
    // transparent in the passband (measured 130-136 dB SNR, lag 0).
    const std::vector<float> reference = testing::Sine(1000.0, c.to, expected, 0.5);
    const Alignment a = Align(reference, audio.samples, 8);
    std::printf("[measure] resample %g -> %g Hz: lag %d, SNR %.1f dB\n", c.from, c.to, a.lag, a.snr_db);
    EXPECT_EQ(a.lag, 0);
    EXPECT_GE(a.snr_db, 60.0);
  }
}

TEST(AudioEncodingTest, OutputSampleRateAndOpusRateCombine) {
  SKIP_UNLESS_SUPPORTED(AudioEncoding::kOggOpus);
  // 22050 Hz requested as 44100: Opus cannot code 44100, so it becomes 48000.
  absl::StatusOr<EncodedShape> plan = PlanEncode(22050, 22050, With(AudioEncoding::kOggOpus, 44100));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->sample_rate, 48000);
  EXPECT_EQ(plan->samples, 48000);
}

TEST(AudioEncodingTest, PlanEncodeRejectsBadOutputRates) {
  for (double rate : {-8000.0, 22050.5, 384001.0, std::nan("")}) {
    absl::StatusOr<EncodedShape> plan = PlanEncode(1000, 16000, With(AudioEncoding::kWavPcm16, rate));
    ASSERT_FALSE(plan.ok()) << rate;
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(plan.status().message(), HasSubstr("sample_rate_hertz")) << rate;
  }
  // 100 Hz -> 384 kHz is a ratio of 3840, above kMaxResampleRatio.
  absl::StatusOr<EncodedShape> plan = PlanEncode(1000, 100, With(AudioEncoding::kWavPcm16, 384000));
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.status().message(), HasSubstr("sample_rate_hertz"));
  EXPECT_THAT(plan.status().message(), HasSubstr("ratio"));
}

TEST(AudioEncodingTest, NamesRoundTrip) {
  for (AudioEncoding e : {AudioEncoding::kWavPcm16, AudioEncoding::kWavFloat32, AudioEncoding::kFlac,
                          AudioEncoding::kWavMulaw, AudioEncoding::kWavAlaw, AudioEncoding::kOggOpus,
                          AudioEncoding::kOggVorbis, AudioEncoding::kMp3}) {
    absl::StatusOr<AudioEncoding> parsed = ParseAudioEncoding(AudioEncodingName(e));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, e);
  }
  EXPECT_FALSE(ParseAudioEncoding("aac").ok());
}

}  // namespace
}  // namespace specinv
