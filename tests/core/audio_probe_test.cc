// Copyright specinv authors.
//
// ProbeAudio reads the header only; max_output_samples bounds the decode.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/base/field_error.h"
#include "specinv/io/audio_io.h"
#include "testing/signals.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

std::string Encode(int64_t samples, double rate, AudioEncoding encoding) {
  return EncodeAudio(testing::Sine(440.0, rate, samples, 0.5), rate, encoding).value();
}

TEST(ProbeAudioTest, WavHeaderFields) {
  const std::string wav = Encode(12345, 22050, AudioEncoding::kWavPcm16);
  auto probe = ProbeAudio(wav);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->frames, 12345);
  EXPECT_TRUE(probe->exact_length);
  EXPECT_EQ(probe->channels, 1);
  EXPECT_EQ(probe->sample_rate, 22050.0);
  EXPECT_THAT(probe->container, HasSubstr("WAV"));
  EXPECT_THAT(probe->encoding, HasSubstr("16 bit"));
}

TEST(ProbeAudioTest, FlacHeaderFields) {
  const std::string flac = Encode(30000, 16000, AudioEncoding::kFlac);
  auto probe = ProbeAudio(flac);
  ASSERT_TRUE(probe.ok()) << probe.status();
  EXPECT_EQ(probe->frames, 30000);
  EXPECT_EQ(probe->channels, 1);
  EXPECT_EQ(probe->sample_rate, 16000.0);
  EXPECT_THAT(probe->container, HasSubstr("FLAC"));
}

TEST(ProbeAudioTest, DecodedSamplesPredictsTheDecode) {
  const std::string wav = Encode(12345, 22050, AudioEncoding::kWavFloat32);
  const AudioProbe probe = ProbeAudio(wav).value();
  DecodeOptions same;
  EXPECT_EQ(DecodedSamples(probe, same), 12345);
  EXPECT_EQ(static_cast<int64_t>(DecodeAudio(AsBytes(wav), same).value().samples.size()), 12345);
  DecodeOptions resample;
  resample.target_sample_rate = 16000.0;
  const int64_t predicted = DecodedSamples(probe, resample);
  EXPECT_EQ(predicted, static_cast<int64_t>(DecodeAudio(AsBytes(wav), resample).value().samples.size()));
  AudioProbe unknown = probe;
  unknown.frames = -1;
  EXPECT_EQ(DecodedSamples(unknown, resample), -1);
}

TEST(ProbeAudioTest, InvalidInput) {
  EXPECT_EQ(ProbeAudio(std::string_view()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ProbeAudio(std::string_view("this is not audio at all, just text")).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A WAV cut inside its data chunk.
  const std::string wav = Encode(1000, 8000, AudioEncoding::kWavPcm16);
  EXPECT_EQ(ProbeAudio(std::string_view(wav).substr(0, wav.size() / 2)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MaxOutputSamplesTest, RejectsFromTheHeader) {
  const std::string wav = Encode(10000, 16000, AudioEncoding::kWavPcm16);
  DecodeOptions o;
  o.max_output_samples = 9999;
  const absl::Status s = DecodeAudio(AsBytes(wav), o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "audio");
  EXPECT_THAT(std::string(s.message()), HasSubstr("max_output_samples"));
  o.max_output_samples = 10000;
  EXPECT_TRUE(DecodeAudio(AsBytes(wav), o).ok());
}

TEST(MaxOutputSamplesTest, CountsResampledSamples) {
  const std::string wav = Encode(10000, 16000, AudioEncoding::kWavPcm16);
  DecodeOptions o;
  o.max_output_samples = 6000;
  EXPECT_FALSE(DecodeAudio(AsBytes(wav), o).ok());
  o.target_sample_rate = 8000.0;  // 5000 samples out
  auto audio = DecodeAudio(AsBytes(wav), o);
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->samples.size(), 5000u);
}

TEST(MaxOutputSamplesTest, RawPcmAndInvalidOptions) {
  std::vector<uint8_t> pcm(2 * 5000, 0);
  DecodeOptions o;
  o.max_output_samples = 4999;
  EXPECT_EQ(DecodeRawPcm(pcm, PcmFormat::kS16Le, 8000, 1, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.max_output_samples = -1;
  const absl::Status s = DecodeRawPcm(pcm, PcmFormat::kS16Le, 8000, 1, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(s), "max_output_samples");
}

}  // namespace
}  // namespace specinv
