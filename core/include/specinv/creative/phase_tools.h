// Copyright specinv authors.
//
// Phase analysis of STFTs, for display and diagnostics: principal angles,
// instantaneous frequency, group delay, row de-interleaving and 2-D DFTs.
//
// Conventions: phase matrices are (bins, frames) = (n_fft/2+1, frames) in
// radians, as produced by PhaseAngle from an STFT of stft.h (librosa
// framing: frame t starts at sample t * hop of the padded signal, and the
// window is centred at sample n_fft/2 of the frame). Angles are principal
// values in (-pi, pi].
//
// Pure functions; thread-safe. Fft2 uses FFTW (ComplexFft2d of fft.h) for
// every shape; its plans live in the bounded plan cache of fft_plan_cache.h.

#ifndef SPECINV_PHASE_TOOLS_H_
#define SPECINV_PHASE_TOOLS_H_

#include "absl/status/statusor.h"
#include "specinv/base/types.h"

namespace specinv {

// Principal value of `angle` in (-pi, pi].
double PrincipalAngle(double angle);

// atan2(imag, real) per element, in (-pi, pi] (0 for 0 + 0i; -pi becomes pi).
RealMatrix PhaseAngle(const ComplexMatrix& stft);

// Instantaneous frequency as the deviation from each bin's centre frequency,
// in Hz: for frame t >= 1 and bin k,
//   PrincipalAngle(phi[k,t] - phi[k,t-1] - 2 pi k hop / n_fft) * sample_rate / (2 pi hop),
// which lies in (-sample_rate / (2 hop), sample_rate / (2 hop)]. A sinusoid of
// frequency f gives f - k * sample_rate / n_fft in the bins of its main lobe
// (as long as that deviation is inside the range). Frame 0 has no
// predecessor and repeats frame 1 (zeros when there is only one frame).
// InvalidArgument when phase does not have n_fft/2+1 rows and >= 1 column, or
// n_fft, hop_length or sample_rate are out of range.
absl::StatusOr<RealMatrix> InstantaneousFrequencyDeviation(const RealMatrix& phase, int n_fft, int hop_length,
                                                           double sample_rate);

// Group delay relative to the centre of the frame's window, in seconds: for
// bin k < n_fft/2,
//   -PrincipalAngle(phi[k+1,t] - phi[k,t] + 2 pi floor(n_fft/2) / n_fft) * n_fft / (2 pi sample_rate),
// i.e. minus the frequency derivative of the phase with the window centre's
// linear phase removed; range (-n_fft / (2 sample_rate), n_fft / (2 sample_rate)].
// An impulse d samples after the window centre gives d / sample_rate in every
// bin. The last bin (Nyquist) has no upper neighbour and repeats the one
// below. Same shape requirements as InstantaneousFrequencyDeviation.
absl::StatusOr<RealMatrix> GroupDelay(const RealMatrix& phase, int n_fft, double sample_rate);

// Rows reordered as 0, 2, 4, ... followed by 1, 3, 5, ...: for a phase image
// whose neighbouring bins differ by about pi (any sinusoid under a symmetric
// window), each half is smooth.
RealMatrix DeinterleaveRows(const RealMatrix& matrix);

// Unnormalised 2-D DFT: out(k, l) = sum_{r,c} in(r, c) exp(-2 pi i (k r / rows + l c / cols)).
// Any shape with rows, cols >= 1 (an empty input gives an empty output).
// Cost O(rows cols log(rows cols)); memory: the output plus, on the first use
// of a shape, two temporary arrays of the same size for planning.
ComplexMatrix Fft2(const ComplexMatrix& image);

// numpy.fft.fftshift over both axes: element (0, 0) moves to (rows/2, cols/2).
RealMatrix FftShift(const RealMatrix& matrix);

}  // namespace specinv

#endif  // SPECINV_PHASE_TOOLS_H_
