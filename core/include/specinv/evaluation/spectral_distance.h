// Copyright specinv authors.
//
// Spectral distances between a reference and a degraded signal (or their
// spectrograms): log-spectral distance and the multi-resolution STFT
// distance of Parallel WaveGAN (Yamamoto et al., ICASSP 2020). Evaluation
// measures; not used by the serving path.
//
// Log-spectral distance (LSD), in dB, on power spectrograms P_ref, P_deg of
// the same (bins, frames) shape:
//   LSD = (1/T) sum_t sqrt( (1/K) sum_k ( 10 log10( max(P_ref(k,t), floor)
//                                                 / max(P_deg(k,t), floor) ) )^2 )
// over T frames and K bins. A gain g on the signal (P_deg = g^2 P_ref, every
// bin above the floor) gives LSD = |20 log10 g| exactly; identical inputs
// give 0. The floor (default 1e-10, librosa's power_to_db amin) keeps silent
// bins finite: two bins both at or below it compare equal. Every bin counts
// equally in dB, so near-silent bins dominate: a signal with digital silence
// reconstructed with a little noise there scores tens of dB (speech22k after
// 16 FGLA iterations: 29.5 dB at floor 1e-10, 5.1 dB at 1e-4); raise the
// floor (relative to the signal's power scale) to discount them.
// From signals, P = |STFT|^2 with the given StftOptions (librosa framing,
// computed in double precision and rounded to float; see analysis/stft.h).
//
// Multi-resolution STFT distance, as Parallel WaveGAN's
// MultiResolutionSTFTLoss (spectral convergence + log STFT magnitude) with
// the resolutions given in the options (default (n_fft, hop) = (512, 128),
// (1024, 256), (2048, 512), win_length = n_fft, periodic Hann window,
// centred frames with reflect padding, as torch.stft center=True):
//   |X| = sqrt(max(|STFT(x)|^2, magnitude_floor))   (PWG clamps at 1e-7)
//   SC_r  = ||  |Y_ref| - |Y_deg|  ||_F / || |Y_ref| ||_F
//   MAG_r = mean over bins and frames of | ln|Y_ref| - ln|Y_deg| |
//   distance = (1/R) sum_r SC_r + (1/R) sum_r MAG_r
// (Y_ref: the reference, PWG's "ground truth" y; MAG uses the natural log, as
// torch.log). Identical inputs give 0; the distance grows with added noise.
// Not symmetric: SC is normalised by the reference.
//
// Inputs are linear-amplitude samples; reference and degraded must have the
// same length (and the spectrograms the same shape). All sums are in float64.
//
// Errors: InvalidArgument naming the field — "degraded" for a length or shape
// that differs from the reference's; "reference" / "degraded" when empty,
// "reference[i]" / "degraded[i]" for a non-finite (or, for power, negative)
// value; "floor" / "magnitude_floor" unless finite and > 0; "resolutions"
// when empty; "resolutions[i].n_fft" etc. for invalid STFT settings; "stft.*"
// for invalid LSD STFT options.
//
// Cost: one STFT of each signal per resolution, O(n log n_fft) per
// resolution; memory one spectrogram pair at a time. Pure functions;
// thread-safe.

#ifndef SPECINV_EVALUATION_SPECTRAL_DISTANCE_H_
#define SPECINV_EVALUATION_SPECTRAL_DISTANCE_H_

#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

struct LogSpectralDistanceOptions {
  // STFT of the signals (power = |X|^2). Defaults: librosa's n_fft 2048,
  // hop 512, Hann, centred with zero padding.
  StftOptions stft;
  // Power floor inside the log, > 0 and finite.
  double floor = 1e-10;
};

absl::Status ValidateLogSpectralDistanceOptions(const LogSpectralDistanceOptions& options);

// LSD (dB) of two power spectrograms of the same (bins, frames) shape, both
// non-negative and finite, at least one bin and one frame.
absl::StatusOr<double> LogSpectralDistanceFromPower(const RealMatrix& reference_power,
                                                    const RealMatrix& degraded_power, double floor = 1e-10);

// LSD (dB) of two equal-length signals through options.stft.
absl::StatusOr<double> LogSpectralDistance(std::span<const float> reference, std::span<const float> degraded,
                                           const LogSpectralDistanceOptions& options = {});

struct StftResolution {
  int n_fft = 1024;     // [16, 65536]
  int hop_length = 256; // [1, win_length]
  int win_length = 0;   // [1, n_fft]; 0 means n_fft
};

struct MultiResolutionStftOptions {
  std::vector<StftResolution> resolutions = {{512, 128, 0}, {1024, 256, 0}, {2048, 512, 0}};
  // Floor on |X|^2 before the square root (Parallel WaveGAN: 1e-7), > 0.
  double magnitude_floor = 1e-7;
};

absl::Status ValidateMultiResolutionStftOptions(const MultiResolutionStftOptions& options);

struct MultiResolutionStftDistance {
  double spectral_convergence = 0.0;  // mean over resolutions of SC_r
  double log_magnitude = 0.0;         // mean over resolutions of MAG_r
  double total = 0.0;                 // spectral_convergence + log_magnitude
};

// The multi-resolution STFT distance of `degraded` from `reference` (equal
// lengths, finite, non-empty).
absl::StatusOr<MultiResolutionStftDistance> ComputeMultiResolutionStftDistance(
    std::span<const float> reference, std::span<const float> degraded, const MultiResolutionStftOptions& options = {});

}  // namespace specinv

#endif  // SPECINV_EVALUATION_SPECTRAL_DISTANCE_H_
