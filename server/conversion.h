// Copyright specinv authors.
//
// Conversion between the specinv.v1 messages and the core library's types,
// with validation: every error is INVALID_ARGUMENT naming the request field
// path (status_mapping.h attaches it for google.rpc.BadRequest). `path`
// arguments are the field path of the message being converted (e.g.
// "config", "requests[2].mel").
//
// Stateless, thread-safe.

#ifndef SPECINV_SERVER_CONVERSION_H_
#define SPECINV_SERVER_CONVERSION_H_

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/limits.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/decode_cost.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/inversion/inversion.h"
#include "specinv/base/types.h"
#include "specinv/v1/audio.pb.h"
#include "specinv/v1/inversion.pb.h"
#include "specinv/v1/spectrogram_config.pb.h"
#include "specinv/v1/tensor.pb.h"

namespace specinv::server {

// Preset (empty = "librosa") plus explicit overrides, validated, with n_fft
// limited to limits.max_n_fft. With needs_mel false (STFT-only requests) the
// mel fields are not validated: if they do not fit the STFT they are
// adjusted (n_mels capped at the bin count, fmin/fmax reset to 0 and the
// Nyquist frequency) so a FeatureExtractor can still be built.
absl::StatusOr<FeatureConfig> ToFeatureConfig(const v1::SpectrogramConfig& proto,
                                              const ServiceLimits& limits, absl::string_view path,
                                              bool needs_mel = true);
// Every field set (the effective configuration).
void FromFeatureConfig(const FeatureConfig& config, v1::SpectrogramConfig* proto);

// An audio message checked and measured, not decoded: the container header
// (or the PCM byte count) gives the frames, channels and source rate, so the
// decoded and resampled sizes are known before decoding (decode_cost.h).
// `message` points into the request, which must outlive it.
struct AudioInput {
  const v1::Audio* message = nullptr;
  std::string path;   // e.g. "audio"
  std::string field;  // "audio.encoded_data" or "audio.pcm_data"
  DecodeShape shape;  // frames: declared, or the most the decoder accepts when undeclared
  double source_seconds() const;
  int64_t samples() const;  // mono samples after resampling to shape.target_rate
};
absl::StatusOr<AudioInput> ToAudioInput(const v1::Audio& audio, double target_sample_rate,
                                        const ServiceLimits& limits, absl::string_view path);
// Decodes a measured input to mono float samples at its target rate,
// polling `check` between blocks (its status is returned as is).
absl::StatusOr<specinv::Audio> DecodeAudioInput(const AudioInput& input, const ServiceLimits& limits,
                                                std::function<absl::Status()> check);

// Checks `output`: an encoding this server can produce, length_samples >= 1
// when set, a whole-hertz rate, and output.sample_rate_hertz (core's
// PlanEncode rules, field "<path>.sample_rate_hertz"). The length's upper
// bound is admission's (admission.h).
absl::Status ValidateAudioOutput(const v1::AudioOutputOptions& output, double sample_rate, absl::string_view path);
// The audio a call returns: `samples` at `sample_rate` (the config's) after
// output.sample_rate_hertz and the codec's own rate rules (core PlanEncode).
// Call after ValidateAudioOutput; an invalid `output` yields the input shape.
EncodedShape OutputAudioShape(const v1::AudioOutputOptions& output, double sample_rate, int64_t samples);
// Bytes of `samples` encoded as `encoding` (upper bound, header slack
// included) and the working memory encoding them takes (the resampled
// float copy when `resampled`, plus the encoder's output).
int64_t EncodedAudioBytes(int64_t samples, v1::AudioEncoding encoding);
int64_t EncodeWorkingBytes(int64_t samples, v1::AudioEncoding encoding, bool resampled);
// Encodes mono samples as `encoding` (unspecified: WAV PCM16) into `audio`.
// Opus and MP3 may change the rate (core EncodedSampleRate); `audio` carries
// the rate encoded.
absl::Status EncodeAudioMessage(std::span<const float> samples, double sample_rate,
                                v1::AudioEncoding encoding, v1::Audio* audio);
// As above, resampled to output.sample_rate_hertz first when set (polling
// `check` while resampling).
absl::Status EncodeAudioMessage(std::span<const float> samples, double sample_rate,
                                const v1::AudioOutputOptions& output, v1::Audio* audio,
                                const std::function<absl::Status()>& check = {});

// A 2-D real tensor as a (bins, frames) matrix, honouring its layout; values
// must be finite.
absl::StatusOr<RealMatrix> TensorToRealMatrix(const v1::Tensor& tensor, absl::string_view path);
// A complex tensor as a (bins, frames) matrix: float32_data of shape
// (bins, frames, 2) (or (frames, bins, 2) for FRAMES_BINS), or a complex64
// .npy; values must be finite.
absl::StatusOr<ComplexMatrix> TensorToComplexMatrix(const v1::Tensor& tensor, absl::string_view path);
// A (bins, frames) matrix as a tensor in the given format and layout.
void RealMatrixToTensor(const RealMatrix& matrix, v1::TensorFormat format, v1::TensorLayout layout,
                        v1::Tensor* tensor);
// A complex (bins, frames) matrix: float32 (bins, frames, 2) or complex64 .npy.
void ComplexMatrixToTensor(const ComplexMatrix& matrix, v1::TensorFormat format,
                           v1::TensorLayout layout, v1::Tensor* tensor);

// Inversion options for a job. `mel_input` allows INVERSION_METHOD_REFINE.
// `check`, `progress`, `length` and `max_threads` are left for the caller.
absl::StatusOr<InversionOptions> ToInversionOptions(const v1::InversionOptions& proto, bool mel_input,
                                                    int num_bins, int64_t num_frames,
                                                    const ServiceLimits& limits, absl::string_view path);

v1::InversionMethod ToProtoMethod(InversionMethod method);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_CONVERSION_H_
