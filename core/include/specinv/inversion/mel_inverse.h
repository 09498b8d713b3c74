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
// Finally |X| = P^(1/power).
//
// Everything is per frame on the filterbank's sparse rows; frames are spread
// over max_threads threads. Thread-safe.

#ifndef SPECINV_MEL_INVERSE_H_
#define SPECINV_MEL_INVERSE_H_

#include <functional>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/base/types.h"

namespace specinv {

enum class MelInverseMethod { kNnls, kPseudoInverse };
absl::StatusOr<MelInverseMethod> ParseMelInverseMethod(std::string_view name);  // "nnls", "pinv"
std::string_view MelInverseMethodName(MelInverseMethod method);

struct MelInverseOptions {
  MelInverseMethod method = MelInverseMethod::kNnls;
  int iterations = 50;        // kNnls iterations per frame, [0, 100000]
  double tolerance = 5e-3;    // kNnls per-frame relative residual target, [0, 1]
  double power = 1.0;         // mel = W |X|^power, (0, 4]
  int max_threads = 1;
  // Polled about every 1024 frames' pseudo-inverses or FISTA iterations (each
  // O(n_fft/2+1)), i.e. every few milliseconds; a non-OK status (Cancelled,
  // DeadlineExceeded) stops every thread and is returned. Called from the
  // worker threads, one call at a time. Empty: never polled.
  std::function<absl::Status()> check;
};

// Mel -> magnitude for one filterbank, with the pseudo-inverse factorised and
// the NNLS step sizes computed once at construction (for a 128-band
// filterbank on 201 bins that is a dense SVD, ~4 ms): build one per
// filterbank and reuse it for every block of frames. Copies share the
// immutable state; Apply is const and thread-safe.
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
  // InvalidArgument with field "mel" naming the stage (pseudo-inverse or
  // NNLS) when finite input overflows to non-finite values; options.check's
  // status when it fails.
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
