// Copyright specinv authors.

#include "client/payloads.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/files.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/demo_signal.h"
#include "specinv/io/npy.h"

namespace specinv::client {
namespace {

absl::Status Prefixed(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(path, ": ", status.message()));
}

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(*bytes));
  if (!array.ok()) return Prefixed(path, array.status());
  return array;
}

void AppendFloatsLe(std::span<const float> values, std::string* out) {
  static_assert(sizeof(float) == 4);
  const size_t offset = out->size();
  out->resize(offset + values.size() * 4);
  // The supported platforms are little-endian (as the API's float32 format).
  std::memcpy(out->data() + offset, values.data(), values.size() * 4);
}

}  // namespace

bool IsAudioPath(const std::string& path) {
  if (path == kDemoInput) return true;
  const std::string ext = FileExtension(path);
  return ext == "wav" || ext == "wave" || ext == "flac" || ext == "ogg" || ext == "oga" ||
         ext == "opus" || ext == "mp3";
}

absl::StatusOr<v1::Audio> AudioFromFile(const std::string& path) {
  if (path == kDemoInput) {
    absl::StatusOr<std::vector<float>> demo = GenerateDemoSignal(22050.0, 3.0);
    if (!demo.ok()) return demo.status();
    return AudioFromSamples(*demo, 22050);
  }
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  if (bytes->empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": file is empty"));
  v1::Audio audio;
  audio.set_encoded_data(*std::move(bytes));
  return audio;
}

v1::Audio AudioFromSamples(std::span<const float> samples, int sample_rate_hertz) {
  v1::Audio audio;
  std::string pcm;
  AppendFloatsLe(samples, &pcm);
  audio.set_pcm_data(std::move(pcm));
  audio.set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  audio.set_sample_rate_hertz(sample_rate_hertz);
  audio.set_channel_count(1);
  return audio;
}

absl::StatusOr<v1::TensorLayout> ParseLayoutFlag(const std::string& value) {
  return ParseEnum<v1::TensorLayout>("--layout", value);
}

absl::StatusOr<v1::Tensor> TensorFromNpyFile(const std::string& path, v1::TensorLayout layout) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(*bytes));
  if (!array.ok()) return Prefixed(path, array.status());
  if (array->is_complex() || array->shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": expected a 2-D real array, got ", array->is_complex() ? "complex " : "",
        array->shape.size(), "-D shape (", absl::StrJoin(array->shape, ", "), ")"));
  }
  v1::Tensor tensor;
  for (int64_t d : array->shape) tensor.add_shape(d);
  tensor.set_npy_data(*std::move(bytes));
  tensor.set_layout(layout);
  return tensor;
}

absl::StatusOr<std::vector<float>> VectorFromNpyFile(const std::string& path) {
  absl::StatusOr<NpyArray> array = ReadNpy(path);
  if (!array.ok()) return array.status();
  absl::StatusOr<std::vector<float>> values = NpyToRealVector(*array);
  if (!values.ok()) return Prefixed(path, values.status());
  return values;
}

absl::StatusOr<RealMatrix> MatrixFromNpyFile(const std::string& path, v1::TensorLayout layout) {
  absl::StatusOr<NpyArray> array = ReadNpy(path);
  if (!array.ok()) return array.status();
  absl::StatusOr<RealMatrix> matrix = NpyToRealMatrix(
      *array, layout == v1::TENSOR_LAYOUT_FRAMES_BINS ? MatrixLayout::kFramesBins
                                                      : MatrixLayout::kBinsFrames);
  if (!matrix.ok()) return Prefixed(path, matrix.status());
  return matrix;
}

v1::Tensor TensorFromColumns(const RealMatrix& matrix, int64_t first, int64_t count) {
  v1::Tensor tensor;
  const int64_t bins = matrix.rows();
  tensor.add_shape(bins);
  tensor.add_shape(count);
  tensor.set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
  std::vector<float> values(static_cast<size_t>(bins * count));
  for (int64_t b = 0; b < bins; ++b) {
    for (int64_t t = 0; t < count; ++t) {
      values[static_cast<size_t>(b * count + t)] = matrix(b, first + t);
    }
  }
  std::string data;
  AppendFloatsLe(values, &data);
  tensor.set_float32_data(std::move(data));
  return tensor;
}

absl::StatusOr<v1::MelNormalization> NormalizationFromFlags(const MelInputFlags& flags) {
  v1::MelNormalization normalization;
  if (!flags.mel_mean.empty()) {
    absl::StatusOr<std::vector<float>> mean = VectorFromNpyFile(flags.mel_mean);
    if (!mean.ok()) return mean.status();
    normalization.mutable_mean()->Assign(mean->begin(), mean->end());
  }
  if (!flags.mel_std.empty()) {
    absl::StatusOr<std::vector<float>> std_dev = VectorFromNpyFile(flags.mel_std);
    if (!std_dev.ok()) return std_dev.status();
    normalization.mutable_std()->Assign(std_dev->begin(), std_dev->end());
  }
  return normalization;
}

absl::StatusOr<v1::MelDomain> DomainFromFlags(const MelInputFlags& flags) {
  if (flags.domain.empty()) return v1::MEL_DOMAIN_UNSPECIFIED;
  return ParseEnum<v1::MelDomain>("--domain", flags.domain);
}

std::string Float32Npy(std::span<const int64_t> shape, std::span<const float> values) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&dims, i == 0 ? "" : ", ", shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header =
      absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", dims, "), }");
  // Magic (6) + version (2) + header length (2) + header + '\n', padded to 64.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  AppendFloatsLe(values, &out);
  return out;
}

absl::StatusOr<std::string> TensorToNpyBytes(const v1::Tensor& tensor) {
  if (tensor.has_npy_data()) return tensor.npy_data();
  int64_t elements = 1;
  for (int64_t d : tensor.shape()) {
    if (d < 0) return absl::InvalidArgumentError("tensor has a negative dimension");
    elements *= d;
  }
  if (tensor.shape().empty() ||
      static_cast<int64_t>(tensor.float32_data().size()) != elements * 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor of shape (", absl::StrJoin(tensor.shape(), ", "), ") has ",
        tensor.float32_data().size(), " data bytes, expected ", elements * 4));
  }
  std::vector<float> values(static_cast<size_t>(elements));
  std::memcpy(values.data(), tensor.float32_data().data(), values.size() * 4);
  return Float32Npy(std::span<const int64_t>(tensor.shape().data(), tensor.shape().size()),
                    values);
}

absl::StatusOr<std::vector<float>> SamplesFromAudio(const v1::Audio& audio) {
  if (audio.has_encoded_data()) {
    absl::StatusOr<Audio> decoded = DecodeAudio(AsBytes(audio.encoded_data()));
    if (!decoded.ok()) return decoded.status();
    return std::move(decoded->samples);
  }
  const std::string& pcm = audio.pcm_data();
  if (audio.encoding() == v1::AUDIO_ENCODING_PCM_INT16_LE) {
    std::vector<float> samples(pcm.size() / 2);
    for (size_t i = 0; i < samples.size(); ++i) {
      const auto lo = static_cast<uint16_t>(static_cast<unsigned char>(pcm[2 * i]));
      const auto hi = static_cast<uint16_t>(static_cast<unsigned char>(pcm[2 * i + 1]));
      samples[i] = static_cast<float>(static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)))) /
                   32768.0f;
    }
    return samples;
  }
  if (pcm.size() % 4 != 0) {
    return absl::DataLossError(absl::StrCat("float32 PCM of ", pcm.size(), " bytes"));
  }
  std::vector<float> samples(pcm.size() / 4);
  std::memcpy(samples.data(), pcm.data(), pcm.size());
  return samples;
}

absl::Status WriteAudio(const v1::Audio& audio, AudioFileKind kind, const std::string& path) {
  if (kind == AudioFileKind::kNpy) {
    absl::StatusOr<std::vector<float>> samples = SamplesFromAudio(audio);
    if (!samples.ok()) return samples.status();
    return WriteFileBytes(path, RealVectorToNpy(*samples));
  }
  return WriteFileBytes(path, audio.has_encoded_data() ? audio.encoded_data() : audio.pcm_data());
}

}  // namespace specinv::client
