// Copyright specinv authors.

#include "specinv/io/audio_io.h"

#include <sndfile.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr float kPcm16Step = 1.0f / 32768.0f;

void AppendLe16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xFFu));
  out.push_back(static_cast<char>((v >> 8) & 0xFFu));
}

void AppendLe32(std::string& out, uint32_t v) {
  AppendLe16(out, v & 0xFFFFu);
  AppendLe16(out, v >> 16);
}

void AppendBe32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFFu));
}

// A canonical 44-byte-header RIFF/WAVE file. format_tag 1 = PCM, 3 = IEEE
// float. `declared_data_size` overrides the data chunk size field.
std::string MakeWav(uint16_t format_tag, uint32_t channels, uint32_t sample_rate, uint32_t bits,
                    const std::string& data, std::optional<uint32_t> declared_data_size = std::nullopt) {
  const uint32_t block_align = channels * bits / 8;
  std::string out = "RIFF";
  AppendLe32(out, static_cast<uint32_t>(36 + data.size()));
  out += "WAVEfmt ";
  AppendLe32(out, 16);
  AppendLe16(out, format_tag);
  AppendLe16(out, channels);
  AppendLe32(out, sample_rate);
  AppendLe32(out, sample_rate * block_align);
  AppendLe16(out, block_align);
  AppendLe16(out, bits);
  out += "data";
  AppendLe32(out, declared_data_size.value_or(static_cast<uint32_t>(data.size())));
  out += data;
  return out;
}

std::string Int16Bytes(const std::vector<int16_t>& values) {
  std::string out;
  for (int16_t v : values) AppendLe16(out, static_cast<uint16_t>(v));
  return out;
}

std::string Float32Bytes(const std::vector<float>& values) {
  std::string out;
  for (float v : values) AppendLe32(out, std::bit_cast<uint32_t>(v));
  return out;
}

// Frequency of a sinusoid from its upward zero crossings (linear
// interpolation between samples), ignoring `margin` samples at both ends.
double ZeroCrossingFrequency(const std::vector<float>& x, double sample_rate, size_t margin) {
  double first = -1.0;
  double last = -1.0;
  int crossings = 0;
  for (size_t i = margin; i + 1 < x.size() - margin; ++i) {
    if (x[i] < 0.0f && x[i + 1] >= 0.0f) {
      const double t = static_cast<double>(i) + static_cast<double>(-x[i] / (x[i + 1] - x[i]));
      if (first < 0.0) first = t;
      last = t;
      ++crossings;
    }
  }
  if (crossings < 2) return 0.0;
  return static_cast<double>(crossings - 1) * sample_rate / (last - first);
}

double Rms(std::span<const float> x) {
  double sum = 0.0;
  for (float v : x) sum += static_cast<double>(v) * static_cast<double>(v);
  return std::sqrt(sum / static_cast<double>(x.size()));
}

uint32_t ReadLe32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  return v;
}

// The chunk ids of a RIFF/WAVE file in order ("fmt ", "data", ...); stops at
// the first chunk that would run past the end.
std::vector<std::string> RiffChunkIds(const std::string& wav) {
  std::vector<std::string> ids;
  if (wav.size() < 12 || wav.compare(0, 4, "RIFF") != 0 || wav.compare(8, 4, "WAVE") != 0) return ids;
  size_t at = 12;
  while (at + 8 <= wav.size()) {
    ids.push_back(wav.substr(at, 4));
    const size_t size = ReadLe32(wav, at + 4);
    at += 8 + size + (size & 1u);  // chunks are padded to even sizes
  }
  return ids;
}

absl::StatusOr<Audio> Decode(const std::string& bytes, const DecodeOptions& options = {}) {
  return DecodeAudio(AsBytes(bytes), options);
}

// ----------------------------------------------------------------------------
// Encoding round trips.

TEST(AudioRoundTripTest, WavFloat32IsBitExact) {
  std::vector<float> x = testing::WhiteNoise(5000, 7, 1.0);
  x[10] = 1.75f;  // out of range values are kept by the float encoding
  x[11] = -3.0f;
  auto bytes = EncodeAudio(x, 22050, AudioEncoding::kWavFloat32);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, StartsWith("RIFF"));
  auto audio = Decode(*bytes);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 22050.0);
  ASSERT_EQ(audio->samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(audio->samples[i], x[i]) << "i=" << i;
}

TEST(AudioRoundTripTest, WavPcm16WithinOneStep) {
  std::vector<float> x = testing::WhiteNoise(8000, 11, 1.0);
  x[0] = 1.0f;
  x[1] = -1.0f;
  x[2] = 0.0f;
  auto bytes = EncodeAudio(x, 16000, AudioEncoding::kWavPcm16);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  // 44-byte canonical header + 2 bytes per sample.
  EXPECT_EQ(bytes->size(), 44 + 2 * x.size());
  auto audio = Decode(*bytes);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 16000.0);
  ASSERT_EQ(audio->samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_LE(std::abs(audio->samples[i] - x[i]), kPcm16Step) << "i=" << i;
    // Decoded values lie on the 16-bit grid.
    const float steps = audio->samples[i] * 32768.0f;
    ASSERT_EQ(steps, std::round(steps)) << "i=" << i;
  }
  EXPECT_EQ(audio->samples[1], -1.0f);
  EXPECT_EQ(audio->samples[2], 0.0f);
}

TEST(AudioRoundTripTest, FlacWithinOneStep) {
  const std::vector<float> x = testing::Sine(440.0, 44100, 30000, 0.9);
  auto bytes = EncodeAudio(x, 44100, AudioEncoding::kFlac);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, StartsWith("fLaC"));
  EXPECT_LT(bytes->size(), 2 * x.size());  // a pure tone compresses
  auto audio = Decode(*bytes);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 44100.0);
  ASSERT_EQ(audio->samples.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) ASSERT_LE(std::abs(audio->samples[i] - x[i]), kPcm16Step) << "i=" << i;
}

TEST(AudioRoundTripTest, PcmEncodingsClipOutOfRange) {
  const std::vector<float> x = {1.5f, -2.0f, 0.5f, 1.0f};
  for (AudioEncoding encoding : {AudioEncoding::kWavPcm16, AudioEncoding::kFlac}) {
    auto bytes = EncodeAudio(x, 8000, encoding);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto audio = Decode(*bytes);
    ASSERT_TRUE(audio.ok()) << audio.status();
    ASSERT_EQ(audio->samples.size(), 4u);
    EXPECT_EQ(audio->samples[0], 32767.0f / 32768.0f) << AudioEncodingName(encoding);
    EXPECT_EQ(audio->samples[1], -1.0f) << AudioEncodingName(encoding);
    EXPECT_EQ(audio->samples[2], 0.5f) << AudioEncodingName(encoding);
    EXPECT_EQ(audio->samples[3], 32767.0f / 32768.0f) << AudioEncodingName(encoding);
  }
}

TEST(AudioRoundTripTest, SampleRatePreserved) {
  const std::vector<float> x = testing::Sine(100.0, 8000, 800);
  for (double rate : {8000.0, 11025.0, 22050.0, 48000.0, 96000.0, 384000.0}) {
    for (AudioEncoding encoding : {AudioEncoding::kWavPcm16, AudioEncoding::kWavFloat32, AudioEncoding::kFlac}) {
      auto bytes = EncodeAudio(x, rate, encoding);
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      auto audio = Decode(*bytes);
      ASSERT_TRUE(audio.ok()) << audio.status();
      EXPECT_EQ(audio->sample_rate, rate) << AudioEncodingName(encoding);
      EXPECT_EQ(audio->samples.size(), x.size()) << AudioEncodingName(encoding);
    }
  }
}

TEST(AudioEncodeTest, WavHasNoPeakChunk) {
  const std::vector<float> x = testing::WhiteNoise(3000, 3, 0.5);
  for (AudioEncoding encoding : {AudioEncoding::kWavFloat32, AudioEncoding::kWavPcm16}) {
    auto bytes = EncodeAudio(x, 16000, encoding);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    const std::vector<std::string> ids = RiffChunkIds(*bytes);
    EXPECT_THAT(ids, ::testing::Contains("fmt ")) << AudioEncodingName(encoding);
    EXPECT_THAT(ids, ::testing::Contains("data")) << AudioEncodingName(encoding);
    EXPECT_THAT(ids, ::testing::Not(::testing::Contains("PEAK"))) << AudioEncodingName(encoding);
  }
}

TEST(AudioEncodeTest, EncodingIsDeterministic) {
  // A PEAK chunk would carry the wall-clock second of the encode; the second
  // round of encodes starts in a later second so such a timestamp would differ.
  const std::vector<float> x = testing::WhiteNoise(3000, 4, 0.9);
  const std::vector<AudioEncoding> encodings = {AudioEncoding::kWavFloat32, AudioEncoding::kWavPcm16,
                                                AudioEncoding::kFlac};
  std::vector<std::string> first;
  for (AudioEncoding encoding : encodings) {
    auto bytes = EncodeAudio(x, 22050, encoding);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    first.push_back(*std::move(bytes));
  }
  const std::time_t encoded_at = std::time(nullptr);
  while (std::time(nullptr) == encoded_at) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (size_t i = 0; i < encodings.size(); ++i) {
    auto second = EncodeAudio(x, 22050, encodings[i]);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_TRUE(first[i] == *second) << AudioEncodingName(encodings[i]) << ": two encodes of the same samples differ";
  }
}

TEST(AudioEncodeTest, InvalidInput) {
  const std::vector<float> x = testing::Sine(100.0, 8000, 100);
  auto zero_rate = EncodeAudio(x, 0, AudioEncoding::kWavPcm16);
  EXPECT_EQ(zero_rate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero_rate.status().ToString(), HasSubstr("sample_rate_hertz must be in (0, 384000], got 0"));
  auto high_rate = EncodeAudio(x, 384001, AudioEncoding::kFlac);
  EXPECT_THAT(high_rate.status().ToString(), HasSubstr("sample_rate_hertz must be in (0, 384000], got 384001"));
  auto fractional = EncodeAudio(x, 22050.5, AudioEncoding::kWavFloat32);
  EXPECT_EQ(fractional.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(fractional.status().ToString(), HasSubstr("whole number"));
  auto empty = EncodeAudio({}, 8000, AudioEncoding::kWavPcm16);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().ToString(), HasSubstr("samples is empty"));
  std::vector<float> nan = x;
  nan[3] = std::numeric_limits<float>::quiet_NaN();
  auto with_nan = EncodeAudio(nan, 8000, AudioEncoding::kWavFloat32);
  EXPECT_EQ(with_nan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(with_nan.status().ToString(), HasSubstr("samples[3] is NaN"));
}

TEST(AudioEncodeTest, ParseAudioEncoding) {
  for (AudioEncoding encoding : {AudioEncoding::kWavPcm16, AudioEncoding::kWavFloat32, AudioEncoding::kFlac}) {
    auto parsed = ParseAudioEncoding(AudioEncodingName(encoding));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, encoding);
  }
  EXPECT_EQ(*ParseAudioEncoding("wav16"), AudioEncoding::kWavPcm16);
  EXPECT_EQ(*ParseAudioEncoding("wav_float"), AudioEncoding::kWavFloat32);
  EXPECT_EQ(*ParseAudioEncoding("flac"), AudioEncoding::kFlac);
  EXPECT_EQ(*ParseAudioEncoding("mp3"), AudioEncoding::kMp3);
  auto bad = ParseAudioEncoding("aac");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().ToString(), HasSubstr("wav16, wav_float, flac, wav_mulaw, wav_alaw, opus, vorbis, mp3; got 'aac'"));
  EXPECT_EQ(*ParsePcmFormat("s16le"), PcmFormat::kS16Le);
  EXPECT_EQ(*ParsePcmFormat("f32le"), PcmFormat::kF32Le);
  EXPECT_THAT(ParsePcmFormat("u8").status().ToString(), HasSubstr("s16le, f32le; got 'u8'"));
}

// ----------------------------------------------------------------------------
// Channels.

class AudioChannelTest : public ::testing::Test {
 protected:
  // Left: a 16-bit sine; right: a constant 0.25; frame-interleaved.
  void SetUp() override {
    const std::vector<float> sine = testing::Sine(300.0, 8000, 1000, 0.8);
    std::vector<int16_t> interleaved;
    for (float s : sine) {
      const auto l = static_cast<int16_t>(std::lround(s * 32768.0f));
      left_.push_back(static_cast<float>(l) * kPcm16Step);
      interleaved.push_back(l);
      interleaved.push_back(8192);
    }
    pcm_ = Int16Bytes(interleaved);
    wav_ = MakeWav(1, 2, 8000, 16, pcm_);
  }
  std::vector<float> left_;
  std::string pcm_;
  std::string wav_;
};

TEST_F(AudioChannelTest, StereoMixdownIsMean) {
  auto audio = Decode(wav_);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 8000.0);
  ASSERT_EQ(audio->samples.size(), left_.size());
  for (size_t i = 0; i < left_.size(); ++i) {
    ASSERT_FLOAT_EQ(audio->samples[i], 0.5f * (left_[i] + 0.25f)) << "i=" << i;
  }
}

TEST_F(AudioChannelTest, PickChannel) {
  DecodeOptions options;
  options.channel_mode = DecodeOptions::ChannelMode::kPick;
  options.channel = 0;
  auto left = Decode(wav_, options);
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(left->samples, left_);
  options.channel = 1;
  auto right = Decode(wav_, options);
  ASSERT_TRUE(right.ok()) << right.status();
  EXPECT_EQ(right->samples, std::vector<float>(left_.size(), 0.25f));
}

TEST_F(AudioChannelTest, PickChannelOutOfRange) {
  DecodeOptions options;
  options.channel_mode = DecodeOptions::ChannelMode::kPick;
  options.channel = 2;
  auto too_high = Decode(wav_, options);
  EXPECT_EQ(too_high.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_high.status().ToString(), HasSubstr("channel must be in [0, 1], got 2"));
  options.channel = -1;
  auto negative = DecodeRawPcm(AsBytes(pcm_), PcmFormat::kS16Le, 8000, 2, options);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().ToString(), HasSubstr("channel must be in [0, 1], got -1"));
}

TEST_F(AudioChannelTest, RawStereoMatchesWav) {
  auto raw = DecodeRawPcm(AsBytes(pcm_), PcmFormat::kS16Le, 8000, 2, {});
  auto wav = Decode(wav_);
  ASSERT_TRUE(raw.ok()) << raw.status();
  ASSERT_TRUE(wav.ok()) << wav.status();
  EXPECT_EQ(raw->samples, wav->samples);
  EXPECT_EQ(raw->sample_rate, 8000.0);
}

// ----------------------------------------------------------------------------
// Resampling.

TEST(AudioResampleTest, KeepsFrequencyAndLengthRatio) {
  const std::vector<float> x = testing::Sine(1000.0, 44100, 44100, 0.5);
  auto y = Resample(x, 44100, 22050);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->size(), 22050u);
  EXPECT_NEAR(ZeroCrossingFrequency(*y, 22050, 200), 1000.0, 0.5);
  // Amplitude is preserved away from the edges.
  EXPECT_NEAR(Rms(std::span<const float>(*y).subspan(200, y->size() - 400)), 0.5 / std::sqrt(2.0), 0.005);
}

TEST(AudioResampleTest, UpsampleNonIntegerRatio) {
  const std::vector<float> x = testing::Sine(1000.0, 16000, 16000, 0.5);
  auto y = Resample(x, 16000, 44100);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->size(), 44100u);
  EXPECT_NEAR(ZeroCrossingFrequency(*y, 44100, 400), 1000.0, 0.5);
}

TEST(AudioResampleTest, SameRateIsIdentity) {
  const std::vector<float> x = testing::WhiteNoise(1000, 3);
  auto y = Resample(x, 22050, 22050);
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(*y, x);
}

TEST(AudioResampleTest, InvalidRates) {
  const std::vector<float> x = testing::Sine(1000.0, 16000, 100);
  EXPECT_THAT(Resample(x, 0, 16000).status().ToString(), HasSubstr("from_hz must be in (0, 384000], got 0"));
  EXPECT_THAT(Resample(x, 16000, 500000).status().ToString(),
              HasSubstr("to_hz must be in (0, 384000], got 500000"));
  std::vector<float> inf = x;
  inf[7] = std::numeric_limits<float>::infinity();
  EXPECT_THAT(Resample(inf, 16000, 8000).status().ToString(), HasSubstr("samples[7] is Inf"));
}

TEST(AudioResampleTest, DecodeWithTargetSampleRate) {
  auto bytes = EncodeAudio(testing::Sine(1000.0, 44100, 44100, 0.5), 44100, AudioEncoding::kWavFloat32);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  DecodeOptions options;
  options.target_sample_rate = 22050;
  auto audio = Decode(*bytes, options);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 22050.0);
  EXPECT_EQ(audio->samples.size(), 22050u);
  EXPECT_NEAR(ZeroCrossingFrequency(audio->samples, 22050, 200), 1000.0, 0.5);
  // The same rate as the source leaves the samples untouched.
  options.target_sample_rate = 44100;
  auto same = Decode(*bytes, options);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->samples, testing::Sine(1000.0, 44100, 44100, 0.5));
  options.target_sample_rate = 0;
  EXPECT_THAT(Decode(*bytes, options).status().ToString(),
              HasSubstr("target_sample_rate_hertz must be in (0, 384000], got 0"));
}

// ----------------------------------------------------------------------------
// Raw PCM.

TEST(AudioRawPcmTest, S16LeValues) {
  const std::string bytes = Int16Bytes({0, 16384, -32768, 32767, -1});
  auto audio = DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 16000, 1, {});
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 16000.0);
  EXPECT_EQ(audio->samples, (std::vector<float>{0.0f, 0.5f, -1.0f, 32767.0f / 32768.0f, -1.0f / 32768.0f}));
}

TEST(AudioRawPcmTest, F32LeValues) {
  const std::vector<float> x = {0.0f, 0.125f, -0.7f, 1.25f};
  const std::string bytes = Float32Bytes(x);
  auto audio = DecodeRawPcm(AsBytes(bytes), PcmFormat::kF32Le, 22050, 1, {});
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->samples, x);
  // Two channels: mean of each pair.
  auto stereo = DecodeRawPcm(AsBytes(bytes), PcmFormat::kF32Le, 22050, 2, {});
  ASSERT_TRUE(stereo.ok()) << stereo.status();
  EXPECT_EQ(stereo->samples, (std::vector<float>{0.0625f, 0.275f}));
}

TEST(AudioRawPcmTest, InvalidParameters) {
  const std::string bytes = Int16Bytes({1, 2, 3, 4});
  auto zero_rate = DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 0, 1, {});
  EXPECT_EQ(zero_rate.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(zero_rate.status().ToString(), HasSubstr("sample_rate_hertz must be in (0, 384000], got 0"));
  auto high_rate = DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 384001, 1, {});
  EXPECT_THAT(high_rate.status().ToString(), HasSubstr("sample_rate_hertz must be in (0, 384000], got 384001"));
  EXPECT_TRUE(DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 384000, 1, {}).ok());
  auto no_channels = DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 8000, 0, {});
  EXPECT_EQ(no_channels.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_channels.status().ToString(), HasSubstr("channels must be in [1, 64], got 0"));
  auto many_channels = DecodeRawPcm(AsBytes(bytes), PcmFormat::kS16Le, 8000, 65, {});
  EXPECT_THAT(many_channels.status().ToString(), HasSubstr("channels must be in [1, 64], got 65"));
}

TEST(AudioRawPcmTest, ByteCountNotMultipleOfFrame) {
  const std::string seven(7, '\0');
  auto s16 = DecodeRawPcm(AsBytes(seven), PcmFormat::kS16Le, 8000, 1, {});
  EXPECT_EQ(s16.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s16.status().ToString(), HasSubstr("raw PCM byte count 7 is not a multiple of the frame size 2"));
  const std::string twelve(12, '\0');
  auto f32_stereo = DecodeRawPcm(AsBytes(twelve), PcmFormat::kF32Le, 8000, 2, {});
  EXPECT_THAT(f32_stereo.status().ToString(),
              HasSubstr("raw PCM byte count 12 is not a multiple of the frame size 8 (2 channels x 4 bytes"));
}

// ----------------------------------------------------------------------------
// Bad input.

TEST(AudioDecodeTest, EmptyInput) {
  auto empty = DecodeAudio({}, {});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(empty.status().message()), "audio is empty (0 bytes)");
  auto raw = DecodeRawPcm({}, PcmFormat::kF32Le, 8000, 1, {});
  EXPECT_EQ(std::string(raw.status().message()), "audio is empty (0 bytes)");
}

TEST(AudioDecodeTest, ZeroFrames) {
  for (uint16_t tag : {1, 3}) {
    auto audio = Decode(MakeWav(tag, 1, 8000, tag == 1 ? 16 : 32, ""));
    EXPECT_EQ(audio.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(audio.status().ToString(), HasSubstr("audio contains no samples (0 frames"));
  }
}

TEST(AudioDecodeTest, TruncatedWav) {
  auto bytes = EncodeAudio(testing::Sine(440.0, 8000, 4000), 8000, AudioEncoding::kWavPcm16);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto cut = Decode(bytes->substr(0, 44 + 3000));
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cut.status().ToString(),
              HasSubstr("truncated WAV file: the data chunk declares 8000 bytes but only 3000 are present"));
  // Cut inside the header.
  auto header = Decode(bytes->substr(0, 30));
  EXPECT_EQ(header.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(header.status().ToString(), HasSubstr("malformed or truncated audio file"));
}

TEST(AudioDecodeTest, TruncatedFlac) {
  auto bytes = EncodeAudio(testing::WhiteNoise(20000, 5), 16000, AudioEncoding::kFlac);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto cut = Decode(bytes->substr(0, bytes->size() / 2));
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(cut.status().ToString(), HasSubstr("truncated or corrupt FLAC"));
  EXPECT_THAT(cut.status().ToString(), HasSubstr("20000"));
}

TEST(AudioDecodeTest, CorruptFlac) {
  auto bytes = EncodeAudio(testing::WhiteNoise(20000, 5), 16000, AudioEncoding::kFlac);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::string corrupt = *bytes;
  for (size_t i = 200; i < corrupt.size(); i += 7) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
  auto audio = Decode(corrupt);
  EXPECT_EQ(audio.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(audio.status().ToString(), HasSubstr("truncated or corrupt FLAC"));
}

TEST(AudioDecodeTest, UnrecognisedFormat) {
  auto audio = Decode("this is plain text, not audio at all; nothing to decode here");
  EXPECT_EQ(audio.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(audio.status().ToString(), HasSubstr("unsupported audio format"));
}

TEST(AudioDecodeTest, UnsupportedContainer) {
  // Sun/NeXT AU, 16-bit linear PCM: libsndfile reads it, the service refuses it.
  std::string au = ".snd";
  AppendBe32(au, 24);     // data offset
  AppendBe32(au, 200);    // data size
  AppendBe32(au, 3);      // 16-bit linear PCM
  AppendBe32(au, 8000);   // sample rate
  AppendBe32(au, 1);      // channels
  au += std::string(200, '\x10');
  auto audio = Decode(au);
  EXPECT_EQ(audio.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(audio.status().ToString(), HasSubstr("unsupported audio container 'AU"));
}

TEST(AudioDecodeTest, Mp3DependsOnLibsndfile) {
  if (Mp3DecodingSupported()) {
    // Encode a tone with libsndfile itself and decode it from memory.
    const std::string path = ::testing::TempDir() + "/specinv_audio_io_test.mp3";
    SF_INFO info{};
    info.samplerate = 44100;
    info.channels = 1;
    info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    ASSERT_NE(file, nullptr) << sf_strerror(nullptr);
    const std::vector<float> x = testing::Sine(1000.0, 44100, 44100, 0.5);
    ASSERT_EQ(sf_writef_float(file, x.data(), static_cast<sf_count_t>(x.size())),
              static_cast<sf_count_t>(x.size()));
    ASSERT_EQ(sf_close(file), 0);
    auto bytes = ReadFileBytes(path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::remove(path.c_str());
    auto audio = Decode(*bytes);
    ASSERT_TRUE(audio.ok()) << audio.status();
    EXPECT_EQ(audio->sample_rate, 44100.0);
    EXPECT_NEAR(static_cast<double>(audio->samples.size()), 44100.0, 2000.0);
    EXPECT_NEAR(ZeroCrossingFrequency(audio->samples, 44100, 3000), 1000.0, 1.0);
  } else {
    // An MPEG-1 layer III frame header followed by silence.
    std::string mp3 = "\xFF\xFB\x90\x64";
    mp3 += std::string(1000, '\0');
    auto audio = Decode(mp3);
    EXPECT_EQ(audio.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(audio.status().ToString(), HasSubstr("MP3 decoding is not supported"));
  }
}

TEST(AudioDecodeTest, NonFiniteSamples) {
  std::vector<float> x = testing::Sine(440.0, 8000, 400);
  x[123] = std::numeric_limits<float>::quiet_NaN();
  auto nan = Decode(MakeWav(3, 1, 8000, 32, Float32Bytes(x)));
  EXPECT_EQ(nan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(nan.status().ToString(), HasSubstr("samples[123] is NaN"));

  x[123] = 0.0f;
  x[5] = std::numeric_limits<float>::infinity();
  auto inf = DecodeRawPcm(AsBytes(Float32Bytes(x)), PcmFormat::kF32Le, 8000, 1, {});
  EXPECT_EQ(inf.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(inf.status().ToString(), HasSubstr("samples[5] is +Inf"));

  x[5] = 0.0f;
  x[301] = -std::numeric_limits<float>::infinity();
  auto stereo = Decode(MakeWav(3, 2, 8000, 32, Float32Bytes(x)));
  EXPECT_THAT(stereo.status().ToString(), HasSubstr("samples[301] (frame 150, channel 1) is -Inf"));
}

TEST(AudioDecodeTest, InvalidHeaderSampleRate) {
  const std::string pcm = Int16Bytes(std::vector<int16_t>(100, 7));
  auto high = Decode(MakeWav(1, 1, 500000, 16, pcm));
  EXPECT_EQ(high.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(high.status().ToString(), HasSubstr("sample_rate_hertz must be in (0, 384000], got 500000"));
  // libsndfile itself refuses a 0 Hz header.
  auto zero = Decode(MakeWav(1, 1, 0, 16, pcm));
  EXPECT_EQ(zero.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Decode(MakeWav(1, 1, 384000, 16, pcm)).ok());
}

TEST(AudioDecodeTest, TooManyChannelsInHeader) {
  const std::string pcm = Int16Bytes(std::vector<int16_t>(65 * 4, 7));
  auto audio = Decode(MakeWav(1, 65, 8000, 16, pcm));
  EXPECT_EQ(audio.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(audio.status().ToString(), HasSubstr("channels must be in [1, 64], got 65"));
}

TEST(AudioDecodeTest, MaxDuration) {
  auto bytes = EncodeAudio(testing::Sine(440.0, 8000, 16000), 8000, AudioEncoding::kFlac);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  DecodeOptions options;
  options.max_duration_seconds = 1.5;
  auto too_long = Decode(*bytes, options);
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.status().ToString(), HasSubstr("audio duration 2.000 s"));
  EXPECT_THAT(too_long.status().ToString(), HasSubstr("exceeds max_duration_seconds 1.5"));
  options.max_duration_seconds = 2.0;
  EXPECT_TRUE(Decode(*bytes, options).ok());
  options.max_duration_seconds = 0.0;  // unlimited
  EXPECT_TRUE(Decode(*bytes, options).ok());

  const std::string raw(8000 * 2, '\0');  // 1 s of s16le at 8 kHz
  options.max_duration_seconds = 0.5;
  auto raw_long = DecodeRawPcm(AsBytes(raw), PcmFormat::kS16Le, 8000, 1, options);
  EXPECT_THAT(raw_long.status().ToString(), HasSubstr("audio duration 1.000 s"));

  options.max_duration_seconds = -1.0;
  auto negative = Decode(*bytes, options);
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(negative.status().ToString(), HasSubstr("max_duration_seconds must be finite and >= 0"));
}

// ----------------------------------------------------------------------------
// Files.

TEST(AudioFileTest, WriteThenRead) {
  const std::string path = ::testing::TempDir() + "/specinv_audio_io_test.bin";
  const std::string data("binary\0data\xff\0", 13);
  ASSERT_TRUE(WriteFileBytes(path, data).ok());
  auto read = ReadFileBytes(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, data);
  std::remove(path.c_str());
}

TEST(AudioFileTest, MissingFile) {
  auto read = ReadFileBytes(::testing::TempDir() + "/specinv_no_such_file.wav");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().ToString(), HasSubstr("specinv_no_such_file.wav"));
  auto write = WriteFileBytes("/nonexistent-dir/specinv/x.wav", "abc");
  EXPECT_FALSE(write.ok());
}

}  // namespace
}  // namespace specinv
