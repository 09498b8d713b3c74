// Copyright specinv authors.
//
// FeatureConfig: everything that defines a (log-)mel front end, and the named
// presets that reproduce the front ends of librosa, HiFi-GAN, Tacotron 2,
// ESPnet and Whisper exactly.
//
// | preset      | sr    | n_fft/hop/win  | mels | fmin-fmax  | framing            | magnitude           | scale                        |
// |-------------|-------|----------------|------|------------|--------------------|---------------------|------------------------------|
// | librosa     | 22050 | 2048/512/2048  | 128  | 0-sr/2     | centre, constant   | power (|X|^2)       | none                         |
// | hifigan     | 22050 | 1024/256/1024  | 80   | 0-8000     | reflect (n-h)/2    | sqrt(re^2+im^2+1e-9)| ln(max(x,1e-5))              |
// | tacotron2   | 22050 | 1024/256/1024  | 80   | 0-8000     | centre, reflect    | |X|                 | ln(max(x,1e-5))              |
// | espnet      | 16000 | 1024/256/1024  | 80   | 80-7600    | centre, reflect    | |X|                 | log10(max(x,1e-10))          |
// | whisper     | 16000 | 400/160/400    | 80   | 0-8000     | centre, reflect    | |X|^2, last dropped | whisper log10, floor max-8   |
// | whisper-128 | 16000 | 400/160/400    | 128  | 0-8000     | centre, reflect    | |X|^2, last dropped | whisper log10, floor max-8   |
//
// All mel filterbanks are Slaney-scale, Slaney-normalised (librosa defaults),
// all windows periodic Hann.

#ifndef SPECINV_FEATURE_CONFIG_H_
#define SPECINV_FEATURE_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/analysis/scaling.h"
#include "specinv/analysis/stft.h"

namespace specinv {

inline constexpr double kMaxSampleRate = 384000.0;

enum class Framing {
  kStft,             // as StftOptions says (center + pad_mode), librosa/torch.stft
  kHifiGanReflect,   // reflect-pad (n_fft - hop)/2 on both sides, then no centring
};

// How Magnitude computes |X| of the complex64 STFT.
enum class MagnitudeFormula {
  // NumPy's complex64 absolute (base/numpy_abs.h), as librosa's
  // np.abs(stft(y)): bit for bit the magnitude librosa gives Griffin-Lim.
  // Used when magnitude_epsilon is 0; with an epsilon, kSqrtOfSquares.
  kNumpyAbs,
  // sqrt(re^2 + im^2 + magnitude_epsilon) in float32, as the torch front ends
  // (HiFi-GAN, Tacotron 2, ESPnet) compute it.
  kSqrtOfSquares,
};

struct FeatureConfig {
  std::string preset;              // name of the preset it came from, "" if custom
  double sample_rate = 22050.0;    // Hz, (0, 384000]
  StftOptions stft;
  Framing framing = Framing::kStft;
  double magnitude_epsilon = 0.0;  // added under the square root of |X| (hifigan: 1e-9), >= 0
  MagnitudeFormula magnitude_formula = MagnitudeFormula::kNumpyAbs;  // kSqrtOfSquares for hifigan/tacotron2/espnet
  double power = 2.0;              // exponent of |X|: 1 (magnitude) or 2 (power)
  int n_mels = 128;                // [1, n_fft/2+1]
  double fmin = 0.0;               // Hz
  std::optional<double> fmax;      // Hz, unset = sample_rate / 2
  MelScale mel_scale = MelScale::kSlaney;
  MelNorm mel_norm = MelNorm::kSlaney;
  bool drop_last_frame = false;    // Whisper drops the last STFT frame
  ScaleOptions scale;              // compression applied by log-mel

  MelOptions mel_options() const;
};

// Full validation: every error names the field and its allowed range.
absl::Status ValidateFeatureConfig(const FeatureConfig& config);

// Preset names, in a stable order.
std::vector<std::string> PresetNames();
// The preset's configuration; NotFound listing the names for unknown ones.
absl::StatusOr<FeatureConfig> GetPreset(std::string_view name);

}  // namespace specinv

#endif  // SPECINV_FEATURE_CONFIG_H_
