// Copyright specinv authors.
//
// Conversions between local files and the API's Audio / Tensor messages:
// audio files in, .npy spectrograms in and out, returned audio out.
// Pure functions over their arguments (plus file I/O); thread-compatible.

#ifndef SPECINV_CLIENT_PAYLOADS_H_
#define SPECINV_CLIENT_PAYLOADS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/flags.h"
#include "specinv/base/types.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::client {

// True for paths whose extension names an audio container the server decodes
// (wav, flac, ogg, oga, opus, mp3).
// The built-in demo input: this name in place of an audio path stands for
// 3 s of the core's synthetic demo phrase at 22050 Hz (see demo_signal.h).
inline constexpr char kDemoInput[] = "demo";

bool IsAudioPath(const std::string& path);

// An audio file as `encoded_data` (the server detects the container).
absl::StatusOr<v1::Audio> AudioFromFile(const std::string& path);

// Mono float32 samples as raw PCM.
v1::Audio AudioFromSamples(std::span<const float> samples, int sample_rate_hertz);

// Parses a layout flag ("bins-frames", "frames-bins").
absl::StatusOr<v1::TensorLayout> ParseLayoutFlag(const std::string& value);

// A 2-D real .npy file as a Tensor (the file's bytes in `npy_data`, shape
// from its header, `layout` set). The file is checked locally first, so a
// bad file gives InvalidArgument naming the path.
absl::StatusOr<v1::Tensor> TensorFromNpyFile(const std::string& path, v1::TensorLayout layout);

// A 1-D .npy of floats (e.g. per-bin means).
absl::StatusOr<std::vector<float>> VectorFromNpyFile(const std::string& path);

// A 2-D real .npy file as a (bins, frames) matrix.
absl::StatusOr<RealMatrix> MatrixFromNpyFile(const std::string& path, v1::TensorLayout layout);

// A (bins, frames) block of columns [first, first + count) as a Tensor in
// layout (bins, frames) with float32_data.
v1::Tensor TensorFromColumns(const RealMatrix& matrix, int64_t first, int64_t count);

// The mel normalization flags (--mel-mean / --mel-std) as a message.
absl::StatusOr<v1::MelNormalization> NormalizationFromFlags(const MelInputFlags& flags);
// --domain as an enum (empty -> MEL_DOMAIN_UNSPECIFIED).
absl::StatusOr<v1::MelDomain> DomainFromFlags(const MelInputFlags& flags);

// .npy bytes (float32, C order, any rank >= 1) of shape and values.
std::string Float32Npy(std::span<const int64_t> shape, std::span<const float> values);

// A returned tensor as a .npy file's bytes: `npy_data` as is, or
// `float32_data` + `shape` serialised. InvalidArgument when the sizes
// disagree.
absl::StatusOr<std::string> TensorToNpyBytes(const v1::Tensor& tensor);

// Decoded samples of returned audio (raw PCM or an encoded file).
absl::StatusOr<std::vector<float>> SamplesFromAudio(const v1::Audio& audio);

// Writes returned audio to `path` as the plan says: the returned bytes as
// they are, or (kNpy) the samples as a 1-D float32 .npy.
absl::Status WriteAudio(const v1::Audio& audio, AudioFileKind kind, const std::string& path);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_PAYLOADS_H_
