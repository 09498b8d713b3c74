// Copyright specinv authors.
//
// The harmonic comb of MelInverseMethod::kHarmonic (internal header). A
// frame's lobe estimate (lobe_dictionary.h) places each band's energy on
// some partial inside the band; above about 1 kHz the bands are wider than a
// voice's harmonic spacing and the placement is a guess. The comb takes the
// fundamental from the resolved partials below kCombSearchMaxHz and offers
// window main lobes at every multiple of it, at their exact (fractional-bin)
// positions, next to the lobe grid:
//   columns 0..partials-1: the comb's lobes (mel columns W d_h);
//   columns partials..: the grid's atoms (LobeDictionary::mel_atoms), when
//   the grid is in use.
// A CombOperator is per thread (SetF0 rewrites it); its storage is sized at
// construction for n_fft/2+1 partials, so SetF0 does not allocate. Apply and
// ApplyTranspose cost 2 flops per stored value, as BandedRows.

#ifndef SPECINV_CORE_SRC_INVERSION_HARMONIC_COMB_H_
#define SPECINV_CORE_SRC_INVERSION_HARMONIC_COMB_H_

#include <vector>

#include "inversion/banded_rows.h"
#include "specinv/analysis/mel_filterbank.h"

namespace specinv {

inline constexpr int kCombLobeOversampling = 64;     // lobe table samples per bin
inline constexpr double kCombMinF0 = 70.0;           // Hz
inline constexpr double kCombMaxF0 = 400.0;          // Hz
inline constexpr double kCombF0Step = 0.25;          // Hz
inline constexpr double kCombCoarseStep = 1.0;       // Hz, the search's first pass
inline constexpr int kCombRefined = 3;               // first-pass maxima refined
inline constexpr double kCombSearchMaxHz = 1500.0;   // partials the f0 search scores
// Candidates the f0 search scores: every kCombCoarseStep Hz, then 2 kCombFine
// + 1 around each of kCombRefined maxima (each score: at most 21 interpolations).
inline constexpr int kCombCoarse = static_cast<int>((kCombMaxF0 - kCombMinF0) / kCombCoarseStep) + 1;
inline constexpr int kCombFine = static_cast<int>(kCombCoarseStep / kCombF0Step);
inline constexpr int kCombF0Scores = kCombCoarse + kCombRefined * (2 * kCombFine + 1);

// Iterations of the comb fit for kHarmonic's `iterations`: half of them,
// since it starts from the lobe fit's values at the partials (WarmStart).
// On the quality corpus (`joint`), 50 gave the speech STOI of 100 and music
// within +-0.005; started from zero instead, 100 gave 0.002 less at 16 kHz.
constexpr int CombIterations(int iterations) { return (iterations + 1) / 2; }

// The f0 (Hz, in [kCombMinF0, kCombMaxF0] on a kCombF0Step grid) whose
// partials below kCombSearchMaxHz carry the most of `x` (`bins` non-negative
// values, linearly interpolated): the maximum over f0 of sum_h x(h f0) /
// sqrt(number of partials), searched every kCombCoarseStep Hz and then every
// kCombF0Step Hz within one coarse step of the first pass's kCombRefined best
// local maxima. 0 when x is zero there. Cost kCombF0Scores (358) scores of
// at most 21 interpolations (a full fine search: 1321 scores).
double CombF0(const float* x, int bins, double bin_hz);

class CombOperator {
 public:
  // `fine_lobe`: the window's main lobe in the power domain, sampled every
  // 1/kCombLobeOversampling bin from the centre to its first null.
  // `grid_mel`: the lobe grid's mel atoms (n_mels rows).
  CombOperator(const MelFilterbank& fb, const std::vector<double>& fine_lobe, const BandedRows& grid_mel);

  // The comb at f0 (Hz): partials at h f0 (h >= 1) below the last band's
  // upper edge. Returns the number of partials.
  int SetF0(double f0, double bin_hz);
  // With the grid, cols() = partials + grid atoms; without, partials.
  void UseGrid(bool use) { use_grid_ = use; }

  int rows() const { return n_mels_; }
  int cols() const { return partials_ + (use_grid_ ? grid_->cols() : 0); }
  void Apply(const float* x, float* y) const;
  void ApplyTranspose(const float* y, float* g) const;
  // A start for the fit (cols() values): each partial's coefficient is
  // `estimate` (n_fft/2+1 bins, power domain, linearly interpolated) at its
  // position, the grid's are 0.
  void WarmStart(const float* estimate, float* coefficients) const;
  // The diagonal majoriser's step sizes (BandedRows::Steps) into `step` (cols()).
  void Steps(std::vector<float>* step);
  // The bins (power domain) of `coefficients` (cols()): the comb's lobes plus,
  // with the grid, grid_bins * the grid's coefficients.
  void Synthesize(const float* coefficients, const BandedRows& grid_bins, float* out) const;

 private:
  static constexpr int kSpan = 5;       // bins a lobe touches (|k - p| < 2)
  static constexpr int kMelSpan = 8;    // bands a lobe touches, at most
  int n_mels_ = 0;
  int bins_ = 0;
  int last_bin_ = 0;  // partials stay below it (the last band's upper edge)
  std::vector<double> lobe_;
  const BandedRows* grid_ = nullptr;
  // Bands containing each bin: band_of_[bin * 3 + i] (-1 unused), weights alike.
  std::vector<int> band_of_;
  std::vector<float> band_weight_;
  std::vector<float> grid_row_sums_;  // grid_mel * 1
  int partials_ = 0;
  double spacing_ = 0.0;  // f0 in bins (SetF0)
  bool use_grid_ = false;
  // Per partial: first bin and kSpan values; first band and kMelSpan values.
  std::vector<int> bin_begin_, mel_begin_;
  std::vector<float> bin_values_, mel_values_;
  std::vector<float> row_sums_;
};

}  // namespace specinv

#endif  // SPECINV_CORE_SRC_INVERSION_HARMONIC_COMB_H_
