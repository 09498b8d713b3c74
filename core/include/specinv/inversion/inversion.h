// Copyright specinv authors.
//
// Phase retrieval and mel inversion: the front door of the inversion engine.
//
// Methods:
//   kGriffinLim      Griffin-Lim (momentum 0).
//   kFastGriffinLim  fast Griffin-Lim with librosa's update order:
//                    angles = rebuilt - m/(1+m) * previous (default m = 0.99).
//   kPghi            phase gradient heap integration (Prusa et al. 2017), no iterations.
//   kPghiFgla        PGHI initial phase, then fast Griffin-Lim.
//   kRefine          on a mel: pghi+fgla, then L-BFGS on the waveform minimising
//                    the mel-domain error ||W |STFT(x)|^p - M||^2 (refine.h).
//                    On a magnitude: PGHI, ADMM phase retrieval, then L-BFGS on
//                    ||S - |STFT(x)|||^2, all within iterations + refine_iterations
//                    STFT/iSTFT pairs (every ADMM iteration and every L-BFGS
//                    evaluation, line searches included, counts one), see
//                    magnitude_refine.h; iterations_run reports the pairs spent.
//                    pghi_tolerance_db does not apply (its PGHI floor is -100 dB).
//   kJoint           joint magnitude-and-phase estimation from a mel: PGHI on the
//                    mel-inverse magnitude, then fast Griffin-Lim whose magnitude
//                    is re-estimated every iteration as the projection of the
//                    rebuilt frame onto the mel constraint W |X|^p = mel
//                    (mel_projection.h) instead of the fixed mel-inverse
//                    magnitude, then the L-BFGS stage of kRefine. On a
//                    magnitude input (nothing to re-estimate) it is kRefine.
//
// The PGHI-based methods ignore `init` (PGHI supplies the initial phase).
// For mel input the mel is first turned into a linear magnitude
// (`mel_inverse`, see mel_inverse.h); unset, DefaultMelInverse chooses.
//
// Magnitudes are (n_fft/2+1, frames) linear |X| (power 1); mels are (n_mels,
// frames) in the FeatureExtractor's domain *before* compression (W |X|^power);
// undo compression first with FeatureExtractor::Decompress.
//
// Output length is exactly options.length when set, else the length the
// spectrogram implies (librosa istft without `length`).
//
// Stopping: after options.iterations, when the relative improvement of the
// spectral convergence falls below options.tolerance, when the time budget is
// spent, or when options.check returns a non-OK status (that status is
// returned, e.g. Cancelled or DeadlineExceeded). `check` is called before
// every iteration (Griffin-Lim and L-BFGS alike), `progress` after every
// iteration; iterations are numbered across stages (fgla, then refine).
// Spectral convergence is only measured during the iterations when progress
// or tolerance needs it (it costs a square root per coefficient).
//
// Results are deterministic: the same input and options (any max_threads)
// give bit-identical audio.
//
// Thread safety: the functions are re-entrant; a call uses up to
// options.max_threads threads.

#ifndef SPECINV_INVERSION_H_
#define SPECINV_INVERSION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

enum class InversionMethod { kGriffinLim, kFastGriffinLim, kPghi, kPghiFgla, kRefine, kJoint };
// "gl", "fgla", "pghi", "pghi_fgla", "refine", "joint"
absl::StatusOr<InversionMethod> ParseInversionMethod(std::string_view name);
std::string_view InversionMethodName(InversionMethod method);

enum class PhaseInit {
  kZero,    // all-zero phase (librosa init=None), deterministic
  kRandom,  // uniform random phase from options.seed (same seed => identical output)
  kGiven,   // options.initial_phase (radians, (bins, frames)) or initial_complex
};
absl::StatusOr<PhaseInit> ParsePhaseInit(std::string_view name);  // "zero", "random", "given"

struct InversionProgress {
  int iteration = 0;              // 1-based, iterations completed
  int total_iterations = 0;       // planned
  double spectral_convergence_db = 0.0;  // current SC on the input (magnitude or mel)
  std::string_view stage;         // "fgla", "refine", ...
};

struct InversionOptions {
  InversionMethod method = InversionMethod::kFastGriffinLim;
  int iterations = 32;            // [0, max_iterations]
  int max_iterations = 1000;      // limit enforced on `iterations`
  double momentum = 0.99;         // [0, 2) for fast Griffin-Lim
  PhaseInit init = PhaseInit::kZero;
  uint64_t seed = 0;
  std::optional<RealMatrix> initial_phase;       // for kGiven, radians (bins, frames)
  std::optional<ComplexMatrix> initial_complex;  // for kGiven, alternative to phase
  std::optional<int64_t> length;  // output samples; unset = implied by the frames
  double tolerance = 0.0;         // stop when relative SC improvement < tolerance (0 = off)
  double time_budget_seconds = 0.0;  // 0 = unlimited
  int refine_iterations = 0;      // L-BFGS iterations for kRefine/kJoint on a mel (0 = method default);
                                  // on a magnitude, pairs added to the budget (see kRefine)
  bool refine_log_domain = false; // kRefine/kJoint: minimise the error of log(mel + eps)
  int max_threads = 1;
  std::function<absl::Status()> check;                     // cancellation/deadline
  std::function<void(const InversionProgress&)> progress;  // may be empty

  // Extensions (defaults are the recommended settings).
  std::optional<MelInverseMethod> mel_inverse;  // mel -> linear magnitude; unset: DefaultMelInverse
  std::optional<int> nnls_iterations;  // per frame, [0, 100000]; unset: DefaultMelInverseIterations
  double pghi_tolerance_db = -40.0;  // [-200, 0], see pghi.h
  int refine_history = 3;           // L-BFGS memory, [1, 50]
  // gl / fgla on a magnitude only: run in librosa's own mixed precision
  // (griffin_lim_librosa.h) to reproduce librosa.griffinlim to its rounding;
  // single-threaded and 2-3x slower. Ignores tolerance and time_budget.
  bool librosa_precision = false;
};

// The mel inverse `method` uses when InversionOptions::mel_inverse is unset,
// for a filterbank of n_mels bands on `bins` = n_fft/2+1 bins: kHarmonic
// (the magnitude as a sum of window main lobes, the structure of harmonic
// sounds, refitted with the comb of the frame's fundamental) for the
// PGHI-based methods, kRefine and kJoint, when bins >= 4 n_mels, i.e.
// when the low bands span several bins and the mel leaves the partials'
// positions inside a band open (tacotron2, hifigan, espnet: 513 bins, 80
// bands; librosa's 1025 on 128); there kLobes lowers SC_mel by 3-7 dB and
// raises STOI on speech and instruments over kNnls, and kHarmonic adds, on
// the bench/quality corpus, STOI +0.0013 to +0.031 and SC_lin +0.4 to
// +2.4 dB for kRefine and kPghiFgla (speech and music, 16 and 22 kHz), and
// +0.0005 to +0.013 STOI for kJoint (make quality). Otherwise kNnls: gl and fgla keep librosa's
// mel_to_stft (an NNLS), and on Whisper's 201 bins (80 or 128 bands) the
// bands nearly pin the magnitude and NNLS fits the mel 2-8 dB better.
MelInverseMethod DefaultMelInverse(InversionMethod method, int64_t bins, int64_t n_mels);

// L-BFGS iterations kRefine and kJoint run on a mel when options.refine_iterations is 0.
inline constexpr int kDefaultRefineIterations = 50;
// L-BFGS memory of kRefine / kJoint on a magnitude: at least this many pairs
// (a larger refine_history raises it).
inline constexpr int kMagnitudeRefineHistory = 8;

struct InversionResult {
  std::vector<float> audio;
  int iterations_run = 0;
  double spectral_convergence_db = 0.0;  // SC on the input the call was given
  std::string stop_reason;               // "iterations", "tolerance", "time_budget", "converged"
};

// Linear magnitude (bins, frames) -> audio, framed as `stft` frames (centre
// padding per its options).
absl::StatusOr<InversionResult> InvertMagnitude(const Stft& stft, const RealMatrix& magnitude,
                                                const InversionOptions& options);
// Linear magnitude (bins, frames) as `extractor` analyses it (its framing:
// e.g. HiFi-GAN's outer reflect padding, Whisper's dropped last frame), so
// the audio lines up with the signal the magnitude came from.
absl::StatusOr<InversionResult> InvertMagnitude(const FeatureExtractor& extractor, const RealMatrix& magnitude,
                                                const InversionOptions& options);

// Mel (n_mels, frames), uncompressed -> audio. The extractor supplies the STFT,
// filterbank and power.
absl::StatusOr<InversionResult> InvertMel(const FeatureExtractor& extractor, const RealMatrix& mel,
                                          const InversionOptions& options);

// Spectral convergence in dB: 20 log10(||target - estimate||_F / ||target||_F).
// Shapes must match; -240 dB when both are zero, +inf when only target is.
double SpectralConvergenceDb(const RealMatrix& target, const RealMatrix& estimate);

// Validates `options` for a spectrogram of `frames` frames (the checks both
// entry points run first). Exposed for front ends that want to fail early.
absl::Status ValidateInversionOptions(const InversionOptions& options, int64_t bins, int64_t frames);

}  // namespace specinv

#endif  // SPECINV_INVERSION_H_
