// Copyright specinv authors.
//
// Per-frame features for similarity-based frame reordering (reorder.h).
//
// Vector features: the mel spectrogram of a FeatureConfig in decibels, one
// column of n_mels values per STFT frame, with two optional, composable
// pre-processing steps:
//
//   1. volume normalisation: every frame's mel is divided by its sum before
//      the dB conversion, so frames that differ only in level get the same
//      features (an all-zero frame stays zero and lands on the dB floor);
//   2. frequency weighting: band m (0-based) of the dB features is multiplied
//      by LowBandWeight(m) = 1 / (1 + ln(1 + m)), decreasing with the log of
//      the band index, so low bands count more in distances and covariances
//      (band 0: 1, band 1: 0.59, band 127: 0.17).
//
// The dB conversion is the config's power-aware power_to_db: with mel values
// M = W |X|^p (p = config.power), dB = 10 log10(max(M^(2/p), amin)), referred
// to the maximum of the whole matrix (so the loudest cell is 0 dB) and floored
// at -top_db (librosa.power_to_db(ref=np.max, amin, top_db) for p = 2,
// amplitude_to_db for p = 1). Weighting is applied after the floor, so every
// feature lies in [-top_db * weight, 0]. The config's own `scale` is not used.
//
// Scalar features (one value per frame, for sort_by):
//   FrameRms          root mean square of the n_fft samples of each frame, cut
//                     from the signal padded as the framing pads it
//                     (librosa.feature.rms(y, frame_length=n_fft, hop_length,
//                     center) for centred constant padding);
//   SpectralCentroid  sum_k f_k |X_k| / sum_k |X_k| in Hz, f_k = k sr / n_fft
//                     (librosa.feature.spectral_centroid); 0 for a silent frame;
//   SpectralFlatness  geometric / arithmetic mean of max(|X_k|^2, 1e-10)
//                     (librosa.feature.spectral_flatness, power 2, amin 1e-10);
//                     1 for a silent frame.
//
// Shapes: features are (n_mels, frames), frame-contiguous (types.h); scalar
// features have one value per frame, in frame order.
//
// Thread safety: pure functions, re-entrant.

#ifndef SPECINV_FRAME_FEATURES_H_
#define SPECINV_FRAME_FEATURES_H_

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/base/types.h"

namespace specinv {

struct FrameFeatureOptions {
  bool volume_normalize = false;         // divide each frame's mel by its sum before dB
  bool frequency_weighting = false;      // multiply band m by LowBandWeight(m)
  double amin = 1e-10;                   // power floor inside the log, (0, 1]
  std::optional<double> top_db = 80.0;   // dynamic range below the maximum, >= 0; unset = no floor
};

// InvalidArgument naming the field ("features.amin", "features.top_db") and range.
absl::Status ValidateFrameFeatureOptions(const FrameFeatureOptions& options);

// 1 / (1 + ln(1 + band)), band >= 0.
float LowBandWeight(int band);

// dB features from an uncompressed mel (n_mels, frames), W |X|^power with
// power > 0 (1 = magnitude, 2 = power). InvalidArgument for an empty, negative
// or non-finite mel, a bad power, or bad options.
// `check` (may be empty) is polled every 4096 frames; its error is returned.
absl::StatusOr<RealMatrix> MelToFrameFeatures(const RealMatrix& mel, double power,
                                              const FrameFeatureOptions& options,
                                              const std::function<absl::Status()>& check = {});

// Mel of `audio` with the extractor's config, then MelToFrameFeatures.
absl::StatusOr<RealMatrix> ComputeFrameFeatures(const FeatureExtractor& extractor,
                                                std::span<const float> audio,
                                                const FrameFeatureOptions& options);

// Scalar features. FrameRms needs the audio and framing; the spectral ones take
// the complex STFT (bins = n_fft/2+1 rows) of the extractor.
absl::StatusOr<std::vector<float>> FrameRms(const FeatureExtractor& extractor,
                                            std::span<const float> audio);
std::vector<float> SpectralCentroid(const ComplexMatrix& spec, double sample_rate, int n_fft);
std::vector<float> SpectralFlatness(const ComplexMatrix& spec);

}  // namespace specinv

#endif  // SPECINV_FRAME_FEATURES_H_
