// Copyright specinv authors.

#include "client/payloads.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "specinv/io/audio_io.h"
#include "specinv/io/npy.h"

namespace specinv::client {
namespace {

std::string FloatBytes(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST(Float32NpyTest, TwoDimensionalParsesBack) {
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  const int64_t shape[] = {2, 3};
  const std::string npy = Float32Npy(shape, values);
  EXPECT_EQ((npy.size() - values.size() * 4) % 64, 0u);  // header padded like NumPy
  absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(npy));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->shape, std::vector<int64_t>({2, 3}));
  EXPECT_EQ(array->real, values);
}

TEST(Float32NpyTest, OneDimensionalShapeHasTrailingComma) {
  const std::vector<float> values = {0.5f, -1.0f};
  const int64_t shape[] = {2};
  const std::string npy = Float32Npy(shape, values);
  EXPECT_NE(npy.find("'shape': (2,)"), std::string::npos);
  absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(npy));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->real, values);
}

TEST(Float32NpyTest, ThreeDimensionalHeader) {
  const std::vector<float> values(2 * 3 * 2, 1.0f);
  const int64_t shape[] = {2, 3, 2};
  const std::string npy = Float32Npy(shape, values);
  EXPECT_EQ(npy.substr(0, 6), "\x93NUMPY");
  EXPECT_NE(npy.find("'shape': (2, 3, 2)"), std::string::npos);
  EXPECT_EQ(npy.size() % 16, (values.size() * 4) % 16);
}

TEST(TensorToNpyBytesTest, Float32DataWithShape) {
  v1::Tensor tensor;
  tensor.add_shape(3);
  tensor.add_shape(2);
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  tensor.set_float32_data(FloatBytes(values));
  absl::StatusOr<std::string> npy = TensorToNpyBytes(tensor);
  ASSERT_TRUE(npy.ok()) << npy.status();
  absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(*npy));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->shape, std::vector<int64_t>({3, 2}));
  EXPECT_EQ(array->real, values);
}

TEST(TensorToNpyBytesTest, NpyDataPassesThrough) {
  v1::Tensor tensor;
  tensor.set_npy_data("anything");
  EXPECT_EQ(*TensorToNpyBytes(tensor), "anything");
}

TEST(TensorToNpyBytesTest, SizeMismatch) {
  v1::Tensor tensor;
  tensor.add_shape(3);
  tensor.add_shape(2);
  tensor.set_float32_data(FloatBytes({1, 2, 3}));
  absl::StatusOr<std::string> npy = TensorToNpyBytes(tensor);
  ASSERT_EQ(npy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(npy.status().message(), "tensor of shape (3, 2) has 12 data bytes, expected 24");
}

TEST(TensorFromColumnsTest, BinsFramesCOrder) {
  RealMatrix m(3, 5);
  for (int b = 0; b < 3; ++b) {
    for (int t = 0; t < 5; ++t) m(b, t) = static_cast<float>(10 * b + t);
  }
  const v1::Tensor tensor = TensorFromColumns(m, 1, 2);
  ASSERT_EQ(tensor.shape_size(), 2);
  EXPECT_EQ(tensor.shape(0), 3);
  EXPECT_EQ(tensor.shape(1), 2);
  EXPECT_EQ(tensor.layout(), v1::TENSOR_LAYOUT_BINS_FRAMES);
  std::vector<float> values(6);
  ASSERT_EQ(tensor.float32_data().size(), 24u);
  std::memcpy(values.data(), tensor.float32_data().data(), 24);
  EXPECT_EQ(values, std::vector<float>({1, 2, 11, 12, 21, 22}));
}

TEST(SamplesFromAudioTest, RawPcmAndEncoded) {
  v1::Audio pcm16;
  pcm16.set_encoding(v1::AUDIO_ENCODING_PCM_INT16_LE);
  pcm16.set_pcm_data(std::string("\x00\x40\x00\xc0\xff\x7f", 6));  // 16384, -16384, 32767
  absl::StatusOr<std::vector<float>> s = SamplesFromAudio(pcm16);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, std::vector<float>({0.5f, -0.5f, 32767.0f / 32768.0f}));

  const std::vector<float> values = {0.25f, -0.125f, 0.0f};
  const v1::Audio f32 = AudioFromSamples(values, 8000);
  EXPECT_EQ(f32.sample_rate_hertz(), 8000);
  EXPECT_EQ(f32.channel_count(), 1);
  EXPECT_EQ(*SamplesFromAudio(f32), values);

  absl::StatusOr<std::string> wav = EncodeAudio(values, 8000.0, AudioEncoding::kWavFloat32);
  ASSERT_TRUE(wav.ok());
  v1::Audio encoded;
  encoded.set_encoded_data(*wav);
  EXPECT_EQ(*SamplesFromAudio(encoded), values);
}

TEST(IsAudioPathTest, Extensions) {
  EXPECT_TRUE(IsAudioPath("a.wav"));
  EXPECT_TRUE(IsAudioPath("a.FLAC"));
  EXPECT_TRUE(IsAudioPath("x/y.mp3"));
  EXPECT_FALSE(IsAudioPath("mel.npy"));
  EXPECT_FALSE(IsAudioPath("noext"));
}

}  // namespace
}  // namespace specinv::client
