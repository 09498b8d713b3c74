// Copyright specinv authors.
//
// Short-time objective intelligibility: STOI (Taal, Hendriks, Heusdens,
// Jensen, IEEE TASLP 2011) and extended STOI / ESTOI (Jensen & Taal, IEEE
// TASLP 2016), following the reference implementation pystoi 0.4.1
// (`pystoi.stoi(clean, degraded, fs, extended)`). An evaluation measure: it
// is not used by the serving path.
//
// Algorithm (all arithmetic in float64; x = clean, y = degraded):
//  1. Resampling. When sample_rate != 10000 both signals are resampled to
//     10 kHz, by default with pystoi's own polyphase filter (StoiResampler::
//     kPystoi), optionally with libsoxr (kSoxr). The choice matters: ESTOI of
//     band-limited signals depends on the filter (see StoiResampler). At
//     10 kHz nothing is resampled. With the default, scores agree with
//     pystoi to about 1e-12 on float64 input (the reference pairs at 10 and
//     22.05 kHz); float32 input (the span<const float> overload) moves them
//     by up to about 1e-4 on signals with bands far below the rest (6.5e-5
//     for ESTOI of 1.5 kHz low-passed speech).
//  2. Silent-frame removal. Frames of 256 samples every 128, starting at
//     i = 0, 128, ... while i < len - 256 (pystoi's framing, which never
//     includes a frame that ends exactly at the last sample), each multiplied
//     by w[n] = 0.5 - 0.5 cos(2 pi (n+1) / 257), n in [0, 256) (numpy
//     hanning(258) without its zero end points). A frame is kept when its
//     clean energy e = 20 log10(||w x_frame|| + eps) satisfies
//     e > max(e) - 40 dB, i.e. strictly within 40 dB of the loudest clean
//     frame; the same frames are kept for y. The kept windowed frames
//     are overlap-added at hop 128 into signals of (kept-1)*128 + 256 samples.
//  3. STFT: the same framing and window on the reconstructed signals, each
//     frame zero-padded to 512 points (FFTW, double precision).
//  4. One-third octave bands: 15 bands with centres 150 * 2^(k/3) Hz; band k
//     covers the FFT bins [lo_k, hi_k) whose bin frequencies b * 10000 / 512
//     are nearest to 150 * 2^((2k-1)/6) and 150 * 2^((2k+1)/6) Hz. Band
//     envelopes X(k, m) = sqrt(sum over the band of |X(b, m)|^2).
//  5. Segments of N = 30 consecutive frames, one ending at each frame
//     m = 30 .. M (M frames).
//     STOI: per band, y is scaled by ||x_seg|| / (||y_seg|| + eps), clipped
//     to at most (1 + 10^(15/20)) x (BETA = -15 dB), and the correlation
//     coefficient of x and the clipped y over the 30 frames is taken with
//     norms + eps; the score is the mean over bands and segments.
//     ESTOI: each 15 x 30 segment of x and of y is normalised to zero mean
//     and unit norm along time (rows), then along frequency (columns); the
//     score is the mean over segments of sum(x_n .* y_n) / 30.
//  eps is the float64 machine epsilon (2.22e-16), as in pystoi.
//
// Differences from pystoi, all deliberate:
//  - pystoi returns 1e-5 (with a warning) when fewer than 30 STFT frames
//    remain; this returns InvalidArgument instead (a score for a signal that
//    is too short is meaningless).
//  - ESTOI: pystoi adds Gaussian noise of standard deviation eps before each
//    normalisation (to avoid 0/0 on constant rows), making the score
//    non-deterministic at the 1e-16 level; this adds eps to the norms
//    instead, so it is deterministic, and a constant row (e.g. all-zero
//    input) contributes 0.
//
// Units and scaling: samples are linear amplitude at `sample_rate` hertz; the
// score is scale-invariant in both signals. STOI and ESTOI lie in [-1, 1]
// (means of correlations); identical signals score 1.
//
// Errors (InvalidArgument naming the field, see base/field_error.h):
// "sample_rate" outside (0, 384000] or too far from 10 kHz to resample
// (io/audio_io.h kMaxResampleRatio), or, with the pystoi resampler, not a
// whole number of hertz or needing more than kStoiMaxPystoiFilterTaps taps;
// "degraded" when its length differs from clean's; "clean" / "degraded" for an empty signal or a non-finite sample
// ("clean[17]"); "clean" when the signal is too short for 30 STFT frames at
// 10 kHz (at least kStoiMinSamples10k samples after resampling) or when fewer
// than 30 frames remain after silent-frame removal.
//
// Cost: per signal one resampling (pystoi filter: taps / (10000/g)
// multiply-adds per output sample, 160 at 22.05 kHz, plus building the
// filter; soxr: O(n)), one 512-point FFT per 12.8 ms frame, and 15 * 30
// multiply-adds per band and segment; memory O(n + taps). Pure function;
// thread-safe.

#ifndef SPECINV_EVALUATION_STOI_H_
#define SPECINV_EVALUATION_STOI_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace specinv {

// The rate STOI works at (Hz); other rates are resampled to it.
inline constexpr double kStoiSampleRate = 10000.0;
// Fewest samples at 10 kHz that give 30 STFT frames (when no frame is silent):
// 31 frames of 256 every 128 (the first frame starting after len - 256 is not
// taken), i.e. 256 + 30 * 128 + 1.
inline constexpr int64_t kStoiMinSamples10k = 256 + 30 * 128 + 1;

// How signals at other rates are brought to 10 kHz.
enum class StoiResampler {
  // pystoi's own resampler (utils.resample_oct): scipy.signal.resample_poly
  // by 10000/g : fs/g (g = gcd) with Octave's Kaiser-windowed sinc (60 dB
  // stopband rejection, transition width a tenth of the cutoff, taps summing
  // to one), zero-phase, ceil(n * 10000 / fs) output samples, in float64.
  // Reproduces pystoi's scores at any whole-number rate. Its filter has
  // 2 * ceil(36.2 * max(10000, fs) / g) + 1 taps, so rates with a small gcd
  // with 10000 need a long filter (22050 Hz: 31 947 taps, 160 per output).
  kPystoi,
  // libsoxr at SOXR_HQ (Resample in io/audio_io.h), float32, round(n * 10000
  // / fs) samples; any rate. A better filter than pystoi's, but scores then
  // differ from pystoi's: on the reference speech at 22.05 kHz STOI by up to
  // 6e-3 and ESTOI by up to 0.11 (a 1.5 kHz low-pass degraded signal).
  kSoxr,
};

// Longest pystoi resampling filter accepted (32 MB of float64 taps).
inline constexpr int64_t kStoiMaxPystoiFilterTaps = int64_t{1} << 22;

struct StoiOptions {
  // false: STOI (Taal et al. 2011); true: extended STOI (Jensen & Taal 2016).
  bool extended = false;
  StoiResampler resampler = StoiResampler::kPystoi;
};

// The STOI (or ESTOI) of `degraded` against `clean`, both at `sample_rate`
// hertz and of equal length. See the file comment for the exact algorithm.
absl::StatusOr<double> ComputeStoi(std::span<const float> clean, std::span<const float> degraded,
                                   double sample_rate, const StoiOptions& options = {});

// As above on float64 samples (no rounding to float32, except inside the
// soxr resampler).
absl::StatusOr<double> ComputeStoi(std::span<const double> clean, std::span<const double> degraded,
                                   double sample_rate, const StoiOptions& options = {});

}  // namespace specinv

#endif  // SPECINV_EVALUATION_STOI_H_
