// Copyright specinv authors.
//
// Mel spectrogram -> linear magnitude: the first half of mel inversion
// (librosa.feature.inverse.mel_to_stft).
//
// The mel filterbank W (n_mels, n_fft/2+1) has fewer rows than columns, so
// W P = M has many solutions; we want a non-negative one (P = |X|^power).
//   kPseudoInverse: P = max(0, pinv(W) M), the minimum-norm solution clamped
//                   at zero (librosa's starting point). pinv(W) M is computed
//                   as W^T (W W^T)^-1 M with a Cholesky factorisation of the
//                   small banded W W^T, so it costs a sparse product per frame.
//   kNnls:          min ||W P - M||^2 subject to P >= 0, by accelerated
//                   projected gradient (FISTA with restart) warm-started from
//                   kPseudoInverse, with a diagonal majoriser of W^T W as the
//                   step (each bin gets 1 / sum_m W_mk sum_j W_mj), so every
//                   step is a guaranteed descent step. Each frame stops when
//                   ||W P - M|| <= tolerance * ||M|| or after `iterations`.
//                   librosa's L-BFGS-B stops at its first iterate in practice
//                   (its objective is scaled by 1/size), so its residual is the
//                   clamped pseudo-inverse's; this solver goes well below it.
//   kLobes:         P = D a with a >= 0, where column j of D is the main lobe
//                   of an n_fft-point Hann window (|DTFT|^power, out to its
//                   first null, 2 bins either side) centred at bin j/2: P is
//                   modelled as a sum of windowed sinusoids at half-bin
//                   positions, the structure a harmonic or tonal |X| has.
//                   The atoms stay Hann's whatever the analysis window: a
//                   wider lobe (a window shorter than n_fft) is a sum of
//                   narrow atoms, while wide atoms are so correlated that the
//                   fit converges slowly (a sinusoid under a 512-point window
//                   in a 1024-point frame: -29.5 dB magnitude error with the
//                   Hann atoms, -25.9 dB with atoms of its own window).
//                   a solves min ||W D a - M||^2, a >= 0, by the same
//                   accelerated projected gradient from a = 0 (same
//                   iterations/tolerance). Where the mel bands are narrower
//                   than a harmonic spacing (low frequencies) this puts the
//                   energy at the partials instead of spreading it over the
//                   band as kNnls does: 2-6 dB lower magnitude error than
//                   kNnls on speech and instruments (n_fft 1024, 80 bands).
//                   Costs O(n_fft + n_mels) per iteration (at most n_fft+1
//                   atoms, each touching 1-4 bands), about 3-4x kNnls's time
//                   at the default iterations.
//   kHarmonic:      kLobes, then per frame the fundamental f0 (70-400 Hz,
//                   0.25 Hz steps) whose multiples below 1.5 kHz carry the
//                   most of that estimate, and a second fit over main lobes
//                   at every multiple of f0 (exact fractional-bin positions)
//                   plus kLobes's atoms, started from the kLobes estimate's
//                   values at the partials (the atoms at 0) and run for
//                   (iterations + 1) / 2 iterations (no tolerance stop).
//                   Above about 1 kHz the bands hold several partials and
//                   kLobes places them by guess; the comb places them where
//                   a harmonic sound has them, and the grid keeps whatever
//                   the comb does not explain (noise, a second voice). About
//                   1.5x kLobes's time.
// Finally |X| = P^(1/power).
//
// Everything is per frame on the filterbank's sparse rows; frames are spread
// over max_threads threads. Thread-safe.

#ifndef SPECINV_MEL_INVERSE_H_
#define SPECINV_MEL_INVERSE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/base/types.h"

namespace specinv {

enum class MelInverseMethod { kNnls, kPseudoInverse, kLobes, kHarmonic };
// "nnls", "pinv", "lobes", "harmonic"
absl::StatusOr<MelInverseMethod> ParseMelInverseMethod(std::string_view name);
std::string_view MelInverseMethodName(MelInverseMethod method);
// Iterations per frame when MelInverseOptions::iterations is unset: 50 for
// kNnls (warm-started from the pseudo-inverse, it usually meets the tolerance
// first), 100 for kLobes and kHarmonic (from zero; on speech and instruments
// the magnitude error stops improving by then); 0 for kPseudoInverse.
int DefaultMelInverseIterations(MelInverseMethod method);

struct MelInverseOptions {
  MelInverseMethod method = MelInverseMethod::kNnls;
  // kNnls/kLobes iterations per frame, [0, 100000]; unset: the method's
  // default, DefaultMelInverseIterations (kLobes with 0 gives zeros).
  std::optional<int> iterations;
  double tolerance = 5e-3;    // kNnls/kLobes per-frame relative residual target, [0, 1]
  double power = 1.0;         // mel = W |X|^power, (0, 4]
  int max_threads = 1;
  // Polled about every 1024 frames' pseudo-inverses or FISTA iterations (each
  // O(n_fft/2+1)), i.e. every few milliseconds; a non-OK status (Cancelled,
  // DeadlineExceeded) stops every thread and is returned. Called from the
  // worker threads, one call at a time. Empty: never polled.
  std::function<absl::Status()> check;
};

// Mel -> magnitude for one filterbank, with the pseudo-inverse factorised
// and the NNLS step sizes computed once at construction (for a 128-band
// filterbank on 201 bins the pseudo-inverse is a dense SVD, ~4 ms): build one
// per filterbank and reuse it for every block of frames. kLobes builds its
// dictionary (O(n_fft + n_mels)) on the first call with power 1 or 2 and
// keeps it, and per call for other powers. Copies share the state; Apply is
// const and thread-safe.
class MelInverter {
 public:
  explicit MelInverter(const MelFilterbank& filterbank);
  // As the constructor, polling `check` while the pseudo-inverse is built
  // (between rows of W W^T, before and after the SVD, which is one
  // uninterruptible step); returns check's status when it fails.
  static absl::StatusOr<MelInverter> Create(const MelFilterbank& filterbank,
                                            const std::function<absl::Status()>& check);
  const MelFilterbank& filterbank() const;
  // mel ((n_mels, frames), finite, >= 0) -> magnitude ((n_fft/2+1, frames)).
  // Errors: InvalidArgument for bad shapes/options/input (field attached);
  // InvalidArgument with field "mel" naming the stage (pseudo-inverse, NNLS
  // or lobe NNLS) when finite input overflows to non-finite values;
  // options.check's status when it fails.
  absl::StatusOr<RealMatrix> Apply(const RealMatrix& mel, const MelInverseOptions& options = {}) const;

 private:
  struct State;
  explicit MelInverter(std::shared_ptr<const State> state);
  std::shared_ptr<const State> state_;
};

// One-off MelInverter(filterbank).Apply(mel, options).
absl::StatusOr<RealMatrix> MelToMagnitude(const MelFilterbank& filterbank, const RealMatrix& mel,
                                          const MelInverseOptions& options = {});

// Relative mel residual ||W magnitude^power - mel||_F / ||mel||_F (0 when both are 0).
double MelResidualRel(const MelFilterbank& filterbank, const RealMatrix& magnitude, const RealMatrix& mel,
                      double power);

}  // namespace specinv

#endif  // SPECINV_MEL_INVERSE_H_
