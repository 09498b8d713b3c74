// Copyright specinv authors.

#include "specinv/inversion/inversion_cost.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "inversion/harmonic_comb.h"

namespace specinv {

JobCost InversionCost(const InversionShape& shape, const InversionOptions& options) {
  const int64_t bins = shape.n_fft / 2 + 1;
  const int64_t cells = SaturatingMul(bins, shape.frames);
  const int64_t complex_bytes = SaturatingMul(cells, 8);
  const int64_t real_bytes = SaturatingMul(cells, 4);
  const int64_t signal_bytes = SaturatingMul(std::max<int64_t>(shape.length, 0), 4);

  // 4.5 complex spectrograms (target magnitude, angles, rebuilt, previous, scratch).
  int64_t peak = SaturatingAdd(SaturatingMul(complex_bytes, 4), complex_bytes / 2);
  peak = SaturatingAdd(peak, SaturatingMul(signal_bytes, 3));
  if (shape.n_mels > 0) {
    // The (M, F) mel, and NNLS's magnitude iterates (x, y, gradient).
    peak = SaturatingAdd(peak, SaturatingMul(SaturatingMul(shape.frames, shape.n_mels), 4));
    peak = SaturatingAdd(peak, SaturatingMul(real_bytes, 3));
  }
  if (options.initial_phase.has_value() || options.initial_complex.has_value()) {
    peak = SaturatingAdd(peak, complex_bytes);
  }
  const bool refine = options.method == InversionMethod::kRefine || options.method == InversionMethod::kJoint;
  if (refine) {
    // A linear magnitude's refine (magnitude_refine.h) keeps at least kMagnitudeRefineHistory pairs.
    const int history = shape.n_mels > 0 ? options.refine_history
                                          : std::max(options.refine_history, kMagnitudeRefineHistory);
    peak = SaturatingAdd(peak, SaturatingMul(signal_bytes, 2 * static_cast<int64_t>(history) + 4));
  }
  const bool project = options.method == InversionMethod::kJoint && shape.n_mels > 0;
  if (project) {
    // The projection (mel_projection.h): its overlap ranges (2 n_mels
    // entries of 16 bytes), the products of overlapping weights (at most
    // n_mels * 2 bins floats) and, per thread, its scratch (2 bins floats
    // and 4 n_mels doubles). The n_mels^2 terms below are an upper bound
    // kept from a general banded solver (bandwidth up to n_mels); the
    // tridiagonal one needs O(n_mels).
    const int64_t n = shape.n_mels;
    const int64_t held =
        SaturatingAdd(SaturatingMul(SaturatingMul(n, n), 16), SaturatingMul(SaturatingMul(n, bins), 8));
    const int64_t per_thread = SaturatingAdd(SaturatingMul(bins, 8), SaturatingMul(SaturatingMul(n, n + 3), 8));
    peak = SaturatingAdd(peak, SaturatingAdd(held, SaturatingMul(per_thread, std::max(options.max_threads, 1))));
  }

  const double fft = 5.0 * shape.n_fft * std::log2(static_cast<double>(std::max(shape.n_fft, 2)));
  const double per_iteration = 2.0 * static_cast<double>(shape.frames) * fft;
  double iterations = options.method == InversionMethod::kPghi ? 0.0 : std::max(options.iterations, 0);
  if (refine && shape.n_mels > 0) {
    iterations += 2.0 * std::max(options.refine_iterations, 100);  // evaluations ~ 2 per iteration
  } else if (refine) {
    iterations += std::max(options.refine_iterations, 0);  // one budget of STFT/iSTFT pairs in all
  }
  JobCost cost;
  cost.peak_bytes = peak;
  cost.work_flops = per_iteration * (iterations + 1.0);
  if (shape.n_mels > 0) {
    // kNnls: W and W^T (about 2 nonzeros per bin) per iteration; kLobes: A
    // and A^T over 2 atoms per bin (about 8 nonzeros each); kHarmonic: the
    // lobe fit, then the same grid plus the comb (at most one partial per
    // bin, 8 bands each) for CombIterations, and the f0 search
    // (kCombF0Scores scores of about 20 interpolations per frame).
    const MelInverseMethod mel_inverse =
        options.mel_inverse.value_or(DefaultMelInverse(options.method, bins, shape.n_mels));
    const int mel_iterations = options.nnls_iterations.value_or(DefaultMelInverseIterations(mel_inverse));
    const bool lobes = mel_inverse == MelInverseMethod::kLobes || mel_inverse == MelInverseMethod::kHarmonic;
    const double per_cell = lobes ? 32.0 : 4.0;
    cost.work_flops += per_cell * static_cast<double>(cells) * std::max(mel_iterations, 1);
    if (mel_inverse == MelInverseMethod::kHarmonic) {
      cost.work_flops += 48.0 * static_cast<double>(cells) * std::max(CombIterations(mel_iterations), 1);
      cost.work_flops += kCombF0Scores * 20.0 * 4.0 * static_cast<double>(shape.frames);
      // Per thread: the comb (harmonic_comb.h: 60 bytes per partial for
      // n_fft/2+1 partials, 24 per bin for the band map) and, over about
      // 3 (n_fft/2+1) columns, its coefficients, steps and 3 FISTA vectors:
      // about 144 bytes per bin.
      cost.peak_bytes = SaturatingAdd(cost.peak_bytes,
                                      SaturatingMul(SaturatingMul(bins, 144), std::max(options.max_threads, 1)));
    }
    if (lobes) {
      // A power other than 1 and 2 builds its lobe dictionary per call
      // (lobe_dictionary.h): two atoms per bin over the Hann lobe's five
      // bins, D and A = W D each built as 16-byte entries and kept as
      // floats, about 600 bytes per bin (about 10 MB measured at n_fft 65536).
      cost.peak_bytes = SaturatingAdd(cost.peak_bytes, SaturatingMul(bins, 600));
    }
  }
  if (project) {
    // One projection round per frame and Griffin-Lim iteration: W a, the
    // weighted band W diag(w) W^T and w W^T coef (about 2 nonzeros per bin,
    // 20 flops per bin in all) and the tridiagonal L D L^T solve (about
    // 8 n_mels).
    const double per_frame = 20.0 * static_cast<double>(bins) + 8.0 * static_cast<double>(shape.n_mels);
    cost.work_flops += per_frame * static_cast<double>(shape.frames) * std::max(options.iterations, 0);
  }
  cost.output_samples = shape.length;
  return cost;
}

InversionMethod DefaultInversionMethod(const InversionShape& shape, const InversionOptions& options) {
  if (options.librosa_precision || options.init != PhaseInit::kZero) return InversionMethod::kFastGriffinLim;
  const double n_fft = std::max(shape.n_fft, 2);
  const double budget = kDefaultBudgetFlopsPerFrame * static_cast<double>(std::max<int64_t>(shape.frames, 1)) *
                        (n_fft / 1024.0) * std::log2(n_fft) / 10.0;
  static constexpr InversionMethod kMel[] = {InversionMethod::kJoint, InversionMethod::kRefine,
                                             InversionMethod::kPghiFgla};
  static constexpr InversionMethod kLinear[] = {InversionMethod::kPghiFgla};
  InversionOptions o = options;
  const std::span<const InversionMethod> candidates = shape.n_mels > 0 ? std::span<const InversionMethod>(kMel)
                                                                       : std::span<const InversionMethod>(kLinear);
  for (InversionMethod m : candidates) {
    o.method = m;
    if (InversionCost(shape, o).work_flops <= budget) return m;
  }
  return InversionMethod::kFastGriffinLim;
}

}  // namespace specinv
