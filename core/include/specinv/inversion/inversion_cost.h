// Copyright specinv authors.
//
// Cost of an inversion (inversion.h) from its shapes and options alone:
// nothing is allocated (see base/job_cost.h).
//
// Shapes: B = n_fft/2+1 bins, F frames, M mel bands (0 for a linear
// magnitude), L output samples. Memory counted (measured on 10 min of
// audio: the Griffin-Lim family peaks at 2.9-3.4x the complex spectrogram,
// refine at 3.9x): 4.5 complex (B, F) spectrograms of 8 B per element, the
// (M, F) input and NNLS's (B, F) iterates for a mel, the given initial
// phase, L-BFGS's 2 * history + 4 signal-sized vectors for refine, and three
// signal-sized vectors. Work: two FFTs per frame per iteration, NNLS
// products, L-BFGS evaluations.
// Pure functions; thread-safe.

#ifndef SPECINV_INVERSION_INVERSION_COST_H_
#define SPECINV_INVERSION_INVERSION_COST_H_

#include <cstdint>

#include "specinv/base/job_cost.h"
#include "specinv/inversion/inversion.h"

namespace specinv {

struct InversionShape {
  int n_fft = 0;            // FFT size
  int64_t frames = 0;       // F
  int n_mels = 0;           // M; 0 = the input is a linear magnitude
  int64_t length = 0;       // L, the output samples
};

// Memory and work of InvertMel / InvertMagnitude with `options` (method,
// iterations, refine_iterations, nnls_iterations, refine_history,
// initial phase) on `shape`. output_samples = shape.length.
JobCost InversionCost(const InversionShape& shape, const InversionOptions& options);

// The method a request that names none gets: the best-quality method whose
// work (InversionCost, with `options`' iteration counts) fits the default
// budget for the clip's length. Candidates, best first: for a mel (shape.n_mels
// > 0) joint, refine, pghi_fgla, fgla; for a linear magnitude pghi_fgla,
// fgla. The budget is kDefaultBudgetFlopsPerFrame * frames * (n_fft / 1024)
// log2(n_fft) / 10, i.e. the work of joint at its defaults (32 Griffin-Lim
// and 50 L-BFGS iterations) for that many frames, about 0.05 s of one core
// per second of 22 kHz audio: with default iterations a mel gets joint, and
// a request raising the iterations falls back to a cheaper method. fgla is
// the fallback when nothing fits, and the answer when librosa_precision is
// set or the initial phase is not the default zero (a random or given start
// is used by gl/fgla only; the PGHI-based methods make their own).
InversionMethod DefaultInversionMethod(const InversionShape& shape, const InversionOptions& options);
inline constexpr double kDefaultBudgetFlopsPerFrame = 3.0e7;

}  // namespace specinv

#endif  // SPECINV_INVERSION_INVERSION_COST_H_
