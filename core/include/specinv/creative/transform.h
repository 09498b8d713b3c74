// Copyright specinv authors.
//
// Creative phase and bin transforms of a signal's STFT, then resynthesis.
//
// Transform(extractor, audio, options), in this order (the Transform RPC's):
//   1. X = extractor.ComplexSpectrogram(audio), (n_fft/2+1, frames).
//   2. Phase operation (ApplyPhaseOperation):
//        kKeep          X unchanged;
//        kZero          |X| (zero phase: every frame becomes a symmetric pulse);
//        kConjugate     conj(X) (negated phase: every frame time-reversed);
//        kRandom        |X| e^{i phi}, phi uniform in [0, 2 pi) from `seed`, a
//                       counter-based function of (seed, bin, frame); the DC and
//                       Nyquist bins get a random sign instead (they are real);
//        kResynthesize  the phase is discarded and |X| is inverted with
//                       `inversion` (InvertMagnitude) at the end.
//   3. Masks, on X (or |X|): checkerboard (bin k of frame t muted when k + t is
//      even: even bins on even frames, odd bins on odd frames), band mutes
//      (bins whose centre frequency k sr / n_fft lies in [low, high] muted),
//      time gate (frame t muted unless the time of its centre sample, modulo
//      period_seconds, is below open_fraction * period_seconds).
//   4. Optional mel warp: M = W |X|^power (the config's mel), then in this
//      order flip_frequency (band m <- band n_mels-1-m), shift_bins (band m <-
//      band m - shift: content moves up for shift > 0, the vacated bands are
//      0), reverse_time (frame t <- frame frames-1-t); M is inverted with
//      `inversion` (InvertMel). The phase operation does not matter then.
//   5. Otherwise: inverse STFT with the config's framing (SynthesizeFrames),
//      or InvertMagnitude for kResynthesize.
// Output: exactly `length` samples, default the input's length.
//
// The same inputs and options give byte-identical audio (for any max_threads).
// Errors: InvalidArgument naming the field ("phase", "band_mutes[1].high_hertz",
// "time_gate.open_fraction", "mel_warp.shift_bins", "inversion.iterations",
// "audio[7]", ...) and its range.
//
// Thread safety: pure functions, re-entrant; a call uses up to
// options.max_threads threads.

#ifndef SPECINV_TRANSFORM_H_
#define SPECINV_TRANSFORM_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/inversion.h"
#include "specinv/base/types.h"

namespace specinv {

enum class PhaseOperation { kKeep, kZero, kConjugate, kRandom, kResynthesize };
// "keep", "zero", "conjugate", "random", "resynthesize"
absl::StatusOr<PhaseOperation> ParsePhaseOperation(std::string_view name);
std::string_view PhaseOperationName(PhaseOperation op);

struct BandMute {
  double low_hertz = 0.0;   // [0, sample_rate / 2]
  double high_hertz = 0.0;  // > low_hertz, finite (may exceed sample_rate / 2)
};

struct TimeGate {
  double period_seconds = 0.5;  // > 0
  double open_fraction = 0.5;   // (0, 1]
};

struct MelWarp {
  int shift_bins = 0;           // (-n_mels, n_mels); > 0 pitch up, < 0 down
  bool reverse_time = false;
  bool flip_frequency = false;
};

struct TransformOptions {
  PhaseOperation phase = PhaseOperation::kKeep;
  uint64_t seed = 0;                // kRandom
  bool checkerboard = false;
  std::vector<BandMute> band_mutes;
  std::optional<TimeGate> time_gate;
  std::optional<MelWarp> mel_warp;
  // Used by kResynthesize and mel warps. Its `length` and `max_threads` are
  // replaced by the fields below.
  InversionOptions inversion;
  std::optional<int64_t> length;    // output samples, >= 1; unset = input length
  int max_threads = 1;              // >= 1
  // Polled during the STFT analysis (every few milliseconds), between the
  // spectral edits and by the inversion engine when inversion.check is empty;
  // a non-OK status (Cancelled, DeadlineExceeded) is returned.
  std::function<absl::Status()> check;
};

// Checks that need no input; `sample_rate` bounds the band edges.
absl::Status ValidateTransformOptions(const TransformOptions& options, double sample_rate);

struct TransformResult {
  std::vector<float> audio;
  int num_frames = 0;
  // Set when the inversion engine ran (kResynthesize or a mel warp).
  std::optional<InversionResult> inversion;  // its audio is moved into `audio`
};

absl::StatusOr<TransformResult> Transform(const FeatureExtractor& extractor, std::span<const float> audio,
                                          const TransformOptions& options);

// --- Building blocks, in place on a (bins, frames) STFT ---

// kKeep, kZero, kConjugate, kRandom; kResynthesize is handled by Transform
// (here it behaves as kZero: only the magnitude survives).
void ApplyPhaseOperation(PhaseOperation op, uint64_t seed, ComplexMatrix* spec);
// Uniform phase in [0, 2 pi) of (bin, frame) for `seed` (the kRandom rule).
double TransformRandomPhase(uint64_t seed, int64_t bin, int64_t frame);
void ApplyCheckerboard(ComplexMatrix* spec);
void ApplyBandMute(const BandMute& band, double sample_rate, int n_fft, ComplexMatrix* spec);
// All bands at once, the same bins as ApplyBandMute for each band: the union
// of their bin ranges is zeroed. O(bands + bins * frames), so a million
// (possibly overlapping) bands cost no more than one pass over the STFT.
void ApplyBandMutes(std::span<const BandMute> bands, double sample_rate, int n_fft, ComplexMatrix* spec);
// `first_centre` is the sample time of frame 0's centre in the original
// signal and `hop` the samples between frames.
void ApplyTimeGate(const TimeGate& gate, double sample_rate, int64_t first_centre, int hop,
                   ComplexMatrix* spec);
// The warp of step 4 on an (n_mels, frames) mel.
RealMatrix WarpMel(const RealMatrix& mel, const MelWarp& warp);

}  // namespace specinv

#endif  // SPECINV_TRANSFORM_H_
