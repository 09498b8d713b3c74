// Copyright specinv authors.
//
// Gradient refinement of a waveform against a magnitude or mel target: the
// waveform x itself is optimised with L-BFGS to minimise
//
//   linear:  f(x) = || B Y(x)^p - T ||_F^2
//   log:     f(x) = || log(B Y(x)^p + d) - log(T + d) ||_F^2,  d = 1e-4 max(T)
//
// where Y(x) = sqrt(|STFT(x)|^2 + eps) (eps = magnitude_epsilon, at least
// 1e-12 so the gradient exists at zero), B is the sparse mel filterbank (or
// the identity for a linear-magnitude target) and p the power. The gradient
// goes through the STFT's adjoint (windowed inverse FFTs overlap-added and
// folded back through the padding), frame by frame, so no spectrogram is
// stored: memory is 2 * history + 4 signal-sized float vectors (the signal
// itself included).
//
// L-BFGS: two-loop recursion with H0 = s'y / y'y, backtracking line search
// with the Armijo condition (quadratic interpolation), pairs with s'y <= 0
// skipped. Every accepted step lowers f, so f never rises; with the linear
// objective the reported spectral convergence therefore never rises either.
// The log objective weighs quiet regions heavily and converges slowly: after
// tens of iterations it lowers the log-mel error but may raise the linear SC.
//
// Thread safety: re-entrant; one call uses up to max_threads threads.

#ifndef SPECINV_REFINE_H_
#define SPECINV_REFINE_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

struct RefineTarget {
  const RealMatrix* values = nullptr;           // T: (n_mels or bins, frames), finite, >= 0
  const MelFilterbank* filterbank = nullptr;    // nullptr: T is a linear magnitude
  double power = 1.0;                           // p, (0, 4]
  double magnitude_epsilon = 0.0;               // eps under the square root (HiFi-GAN: 1e-9)
};

struct RefineOptions {
  int iterations = 100;          // L-BFGS iterations, >= 0
  int history = 3;               // L-BFGS memory, [1, 50]
  bool log_domain = false;
  double tolerance = 0.0;        // stop when the relative SC improvement of an iteration is below
  // Objective + gradient evaluations (one STFT and one adjoint iSTFT each, the
  // start's and the line searches' included) the call may spend; 0 =
  // unlimited. The call stops ("evaluations") when the next trial point would
  // exceed it; the signal then holds the last accepted iterate.
  int max_evaluations = 0;
  double time_budget_seconds = 0.0;  // 0 = unlimited (measured from the call)
  int max_threads = 1;
  std::function<absl::Status()> check;                           // called every iteration
  std::function<void(int iteration, double sc_db)> progress;     // after every iteration
};

struct RefineResult {
  int iterations_run = 0;
  int evaluations = 0;           // objective + gradient evaluations
  double initial_sc_db = 0.0;    // spectral convergence of the start on T (linear domain)
  double final_sc_db = 0.0;
  double initial_objective = 0.0;  // f at the start and at the result (never higher)
  double final_objective = 0.0;
  std::string stop_reason;       // "iterations", "tolerance", "time_budget", "converged", "evaluations"
};

// Refines `signal` (layout.length samples) in place. Errors: InvalidArgument
// for mismatched shapes or options; the status of options.check when it
// fails (the signal then holds the last accepted iterate).
absl::StatusOr<RefineResult> RefineSignal(const Stft& stft, const SignalLayout& layout,
                                          const RefineTarget& target, const RefineOptions& options,
                                          std::vector<float>* signal);

}  // namespace specinv

#endif  // SPECINV_REFINE_H_
