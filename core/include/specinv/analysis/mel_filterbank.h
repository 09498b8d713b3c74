// Copyright specinv authors.
//
// Mel filterbank with librosa 0.10.1 semantics (librosa.filters.mel).
//
// n_mels triangular filters whose edges are n_mels+2 points equally spaced on
// the mel scale between fmin and fmax, evaluated at the rfft bin frequencies
// k * sample_rate / n_fft, k in [0, n_fft/2]. Slaney normalisation divides
// each filter by half its bandwidth in Hz (2 / (f[i+2] - f[i])), giving
// constant energy per channel. The matrix is (n_mels, n_fft/2+1), computed in
// double and stored as float32, like librosa's default dtype.
//
// Each filter covers only a few bins, so Apply/ApplyTranspose use a sparse
// row representation: cost is proportional to the non-zeros, not to
// n_mels * bins. Immutable after Create; thread-safe.

#ifndef SPECINV_MEL_FILTERBANK_H_
#define SPECINV_MEL_FILTERBANK_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/base/types.h"

namespace specinv {

enum class MelScale {
  kSlaney,  // linear below 1 kHz, logarithmic above (librosa default, htk=False)
  kHtk,     // 2595 * log10(1 + f / 700)
};
enum class MelNorm {
  kSlaney,  // area normalisation (librosa norm="slaney")
  kNone,    // peak 1
};
absl::StatusOr<MelScale> ParseMelScale(std::string_view name);  // "slaney", "htk"
absl::StatusOr<MelNorm> ParseMelNorm(std::string_view name);    // "slaney", "none"
std::string_view MelScaleName(MelScale scale);
std::string_view MelNormName(MelNorm norm);

// Hz <-> mel on the given scale (librosa.hz_to_mel / mel_to_hz).
double HzToMel(double hz, MelScale scale);
double MelToHz(double mel, MelScale scale);

struct MelOptions {
  double sample_rate = 22050.0;     // Hz, (0, 384000]
  int n_fft = 2048;                 // [16, 65536]
  int n_mels = 128;                 // [1, n_fft/2+1]
  double fmin = 0.0;                // Hz, [0, fmax)
  std::optional<double> fmax;       // Hz, (fmin, sample_rate/2]; unset means sample_rate/2
  MelScale scale = MelScale::kSlaney;
  MelNorm norm = MelNorm::kSlaney;

  double effective_fmax() const { return fmax.value_or(sample_rate / 2.0); }
};

absl::Status ValidateMelOptions(const MelOptions& options);

class MelFilterbank {
 public:
  static absl::StatusOr<MelFilterbank> Create(const MelOptions& options);

  const MelOptions& options() const { return options_; }
  int n_mels() const { return options_.n_mels; }
  int num_bins() const { return options_.n_fft / 2 + 1; }

  // Dense (n_mels, n_fft/2+1) weights, librosa's layout.
  const RealMatrix& weights() const { return weights_; }
  // Filters that are all zero (too many mels for the FFT resolution). librosa
  // warns about these; so do we, through this list and warning().
  const std::vector<int>& empty_filters() const { return empty_filters_; }
  // Human-readable warning, empty when every filter is non-empty.
  const std::string& warning() const { return warning_; }

  // mel = W * spec: (num_bins, frames) -> (n_mels, frames). `mel` is resized
  // only when its shape differs.
  void Apply(const RealMatrix& spec, RealMatrix* mel) const;
  // spec = W^T * mel: (n_mels, frames) -> (num_bins, frames).
  void ApplyTranspose(const RealMatrix& mel, RealMatrix* spec) const;

  // Sparse rows: filter m touches bins [row_begin(m), row_begin(m)+row_size(m)).
  int row_begin(int m) const { return row_begin_[static_cast<size_t>(m)]; }
  int row_size(int m) const { return row_size_[static_cast<size_t>(m)]; }
  const float* row_values(int m) const { return values_.data() + row_offset_[static_cast<size_t>(m)]; }

 private:
  MelFilterbank() = default;
  MelOptions options_;
  RealMatrix weights_;
  std::vector<int> empty_filters_;
  std::string warning_;
  std::vector<int> row_begin_, row_size_, row_offset_;
  std::vector<float> values_;
};

}  // namespace specinv

#endif  // SPECINV_MEL_FILTERBANK_H_
