// Copyright specinv authors.
//
// Phase retrieval for a known linear magnitude S within a fixed budget of
// STFT/iSTFT pairs (the `refine` method on a magnitude input):
//
//   1. PGHI phase (pghi.h) with a low floor (default -100 dB: every
//      coefficient's phase integrated from the gradients),
//   2. ADMM phase retrieval (admm_phase.h) for `admm_share` of the budget,
//   3. L-BFGS on the waveform minimising ||S - |STFT(x)|||^2 (refine.h), the
//      squared spectral convergence itself, for the rest, line searches
//      included.
//
// Why this order: Griffin-Lim from PGHI stalls on some recordings (a room
// recording at 22050 Hz: -33.7 dB after 100 iterations, -33.2 dB after 30);
// ADMM's dual variable carries it out of such stationary points, and L-BFGS
// descends much further from where ADMM leaves it than from where fast
// Griffin-Lim does (same recording: -42.5 dB in 100 pairs). Over the
// bench/quality corpus (24 clips, n_fft 1024, hop 256) this order at 100
// pairs beats pghi -> fast Griffin-Lim -> L-BFGS at 150+ pairs on most clips;
// bench/quality/linear_table.py prints the comparison.
//
// Budget accounting, in STFT/iSTFT pairs (the unit of one Griffin-Lim
// iteration): the start's synthesis counts 1, each ADMM iteration 1, each
// L-BFGS evaluation (one analysis and one adjoint synthesis) 1. The
// returned `pairs` never exceeds `budget`.
//
// Memory: PGHI's phase ((bins, frames) floats) and ADMM's state (a complex
// spectrogram and two signal-length buffers), freed before the L-BFGS
// vectors (2 * history + 4 signals) are allocated. Results are
// deterministic for any max_threads.
//
// Thread safety: re-entrant; a call uses up to max_threads threads.

#ifndef SPECINV_MAGNITUDE_REFINE_H_
#define SPECINV_MAGNITUDE_REFINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"
#include "specinv/inversion/frame_processor.h"

namespace specinv {

struct MagnitudeRefineOptions {
  int budget = 100;                  // STFT/iSTFT pairs in all, >= 1
  double admm_share = 0.4;           // of the pairs after the start, [0, 1]
  double pghi_tolerance_db = -100.0; // PGHI floor, [-200, 0] (pghi.h)
  uint64_t seed = 0;                 // PGHI's random phase under its floor
  int history = 8;                   // L-BFGS memory, [1, 50]
  double tolerance = 0.0;            // L-BFGS stage: stop when the relative SC improvement is below
  double time_budget_seconds = 0.0;  // 0 = unlimited, measured from the call
  int max_threads = 1;
  std::function<absl::Status()> check;  // before every iteration; a non-OK status is returned
  // After every iteration: the pairs spent so far (in the L-BFGS stage the
  // pairs before it plus the L-BFGS iterations, a lower bound, as a line
  // search may evaluate more than once), the spectral convergence (dB) the
  // iteration measured and the stage ("admm", "refine").
  std::function<void(int pairs, double sc_db, std::string_view stage)> progress;
};

struct MagnitudeRefineResult {
  std::vector<float> audio;                // layout.length samples
  int pairs = 0;                           // STFT/iSTFT pairs spent, <= budget
  int admm_iterations = 0;
  int refine_evaluations = 0;
  double spectral_convergence_db = 0.0;    // of the audio on S (nan when no L-BFGS stage ran)
  std::string stop_reason;                 // "iterations" (budget spent), "tolerance", "time_budget", "converged"
};

// `magnitude` is (stft.num_bins(), layout.frames), finite, >= 0. Errors:
// InvalidArgument for bad options or shapes; the status of options.check.
absl::StatusOr<MagnitudeRefineResult> RefineFromMagnitude(const Stft& stft, const SignalLayout& layout,
                                                          const RealMatrix& magnitude,
                                                          const MagnitudeRefineOptions& options);

}  // namespace specinv

#endif  // SPECINV_MAGNITUDE_REFINE_H_
