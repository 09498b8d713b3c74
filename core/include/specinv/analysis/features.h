// Copyright specinv authors.
//
// FeatureExtractor: audio -> complex STFT, magnitude, mel and log-mel, as
// configured by a FeatureConfig (see feature_config.h for the presets).
//
// Shapes: STFT and magnitude are (n_fft/2+1, frames); mel and log-mel are
// (n_mels, frames). Frames follow the framing: librosa's count for kStft,
// 1 + (len + 2*((n_fft-hop)/2) - n_fft) / hop for kHifiGanReflect, minus one
// when drop_last_frame. Magnitude is |X| (with magnitude_epsilon under the
// root), computed as config.magnitude_formula says (by default NumPy's
// complex64 absolute, librosa's S to the bit); mel is W * |X|^power.
//
// Immutable after Create; all methods are const and thread-safe.

#ifndef SPECINV_FEATURES_H_
#define SPECINV_FEATURES_H_

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

class FeatureExtractor {
 public:
  static absl::StatusOr<FeatureExtractor> Create(const FeatureConfig& config);

  const FeatureConfig& config() const { return config_; }
  const Stft& stft() const { return stft_; }
  const MelFilterbank& filterbank() const { return filterbank_; }
  // Mel -> magnitude inverter for filterbank(), built on first use and shared
  // by copies of this extractor (thread-safe).
  const MelInverter& mel_inverter() const;

  // Number of frames produced for num_samples input samples (0 if too short).
  int64_t NumFrames(int64_t num_samples) const;

  // Complex STFT with the configured framing (and last frame dropped if set).
  absl::StatusOr<ComplexMatrix> ComplexSpectrogram(std::span<const float> audio) const;
  // |X| (power 1) with the configured epsilon.
  absl::StatusOr<RealMatrix> Magnitude(std::span<const float> audio) const;
  // W * |X|^power, before compression.
  absl::StatusOr<RealMatrix> Mel(std::span<const float> audio) const;
  // Compress(Mel(audio)) with config.scale.
  absl::StatusOr<RealMatrix> LogMel(std::span<const float> audio) const;

  // The same four analyses, calling `check` before every block of
  // stft().FramesPerCheck() frames (about 2^20 transformed samples, a few
  // milliseconds); its first non-OK status (Cancelled, DeadlineExceeded) is
  // returned. An empty check is never called.
  absl::StatusOr<ComplexMatrix> ComplexSpectrogram(std::span<const float> audio,
                                                   const std::function<absl::Status()>& check) const;
  absl::StatusOr<RealMatrix> Magnitude(std::span<const float> audio,
                                       const std::function<absl::Status()>& check) const;
  absl::StatusOr<RealMatrix> Mel(std::span<const float> audio, const std::function<absl::Status()>& check) const;
  absl::StatusOr<RealMatrix> LogMel(std::span<const float> audio, const std::function<absl::Status()>& check) const;

  // Magnitude -> mel for an existing linear magnitude (power applied here).
  RealMatrix MagnitudeToMel(const RealMatrix& magnitude) const;
  // Undo config.scale on a log-mel (see Decompress for exactness).
  absl::StatusOr<RealMatrix> Decompress(const RealMatrix& log_mel) const;

 private:
  FeatureExtractor(FeatureConfig config, Stft stft, MelFilterbank filterbank);
  FeatureConfig config_;
  Stft stft_;
  MelFilterbank filterbank_;
  struct LazyInverter;
  std::shared_ptr<LazyInverter> inverter_;
};

}  // namespace specinv

#endif  // SPECINV_FEATURES_H_
