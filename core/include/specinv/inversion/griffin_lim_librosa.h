// Copyright specinv authors.
//
// Griffin-Lim in librosa 0.10.1's own arithmetic, for reproducing
// `librosa.griffinlim` output to the last bits.
//
// librosa keeps spectra in complex64 and signals in float32 but runs every
// transform in float64 (numpy.fft): each STFT frame is float32 samples times
// the float64 window, transformed in double and rounded to complex64; each
// iSTFT frame is transformed back in double, windowed in double and added to
// a float32 buffer, which is divided by the float32 window-sum-square. The
// phase update is complex64 arithmetic:
//   a = rebuilt - float32(m / (1 + m)) * previous,
//   a *= 1 / (|a| + tiny)  (NumPy's complex division by a real),  a *= S,
// with |a| as NumPy's SIMD loop computes it (larger * sqrt(fma(r, r, 1))).
// Griffin-Lim from a zero phase amplifies rounding differences in bins whose
// rebuilt value is near zero (about 1000x over 16 iterations on a chirp), so
// the fused single-precision engine (griffin_lim.h), though it reaches the
// same spectral convergence, can differ from librosa by 1e-3 of the peak;
// this path follows librosa's rounding: on the nine golden griffinlim cases
// seven come out bit for bit and two within one float32 step (4e-8 of the
// peak). On real recordings (fluidsynth instruments at 22.05 and 44.1 kHz,
// speech at 48 kHz; 27 cases of bench/librosa_precision_grid.sh), given
// librosa's S, it stays within 1e-6 of the peak of librosa's arithmetic
// (bench/librosa_griffinlim_reference.py), 20 cases bit for bit: what is left
// is FFTW and NumPy's pocketfft differing in the last bits of a few double
// values that then round to different complex64 ones.
//
// The output is just as sensitive to `magnitude`: S one float32 step off in
// a third of the bins (sqrt(re^2 + im^2) instead of NumPy's |X|) moves it by
// up to 9e-3 of the peak on those recordings and 7e-2 on the golden chirp.
// Reproducing librosa therefore needs librosa's S to the bit:
// np.abs(librosa.stft(y)), which FeatureExtractor::Magnitude computes
// (MagnitudeFormula::kNumpyAbs, double-precision STFT).
//
// It is the plain, unfused loop: single-threaded, about 2-3x the engine's
// time per iteration. InversionOptions::librosa_precision selects it for the
// gl and fgla methods.

#ifndef SPECINV_GRIFFIN_LIM_LIBROSA_H_
#define SPECINV_GRIFFIN_LIM_LIBROSA_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/griffin_lim.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv {

struct LibrosaGriffinLimOptions {
  int iterations = 32;    // >= 0
  double momentum = 0.99;  // 0 = plain Griffin-Lim
  // Called before every iteration; a non-OK status stops and is returned.
  std::function<absl::Status()> check;
  // Called after every iteration with (iteration, linear spectral convergence
  // of the rebuilt STFT against `magnitude`); may be empty (then not measured).
  std::function<void(int, double)> progress;
};

// Runs Griffin-Lim on `magnitude` ((n_fft/2+1, layout.frames), linear) with
// the frame layout `layout` (from StftLayout), starting from `init`, and
// returns layout.length samples. `stft` supplies n_fft, hop and the window.
// When `spectral_convergence` is set it receives ||S - |STFT(y)||| / ||S|| of
// the returned signal (same arithmetic). The caller validates shapes and
// values (InvertMagnitude does).
absl::StatusOr<std::vector<float>> LibrosaPrecisionGriffinLim(const Stft& stft, const SignalLayout& layout,
                                                              const RealMatrix& magnitude, const InitialPhase& init,
                                                              const LibrosaGriffinLimOptions& options,
                                                              double* spectral_convergence = nullptr);

}  // namespace specinv

#endif  // SPECINV_GRIFFIN_LIM_LIBROSA_H_
