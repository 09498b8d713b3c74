// Copyright specinv authors.
//
// The lobe dictionary of MelInverseMethod::kLobes (internal header): the
// magnitude (in the power domain) modelled as a non-negative sum of a
// window's main lobe (MelInverter uses an n_fft-point Hann window, see
// mel_inverse.h) centred every 1/kLobeOversampling bin.
//   D (bins x atoms): atom j is |DTFT(window)|^power at bin offsets
//     k - j / kLobeOversampling, out to the lobe's first null (at most
//     kMaxLobeHalfWidthBins bins either side), 1 at the centre;
//   A = W D (n_mels x atoms), and A's diagonal-majoriser step sizes.
// Atoms that no band sees (beyond fmin/fmax) are left out: at most
// (n_fft/2) * kLobeOversampling + 1 atoms, in frequency order. Building costs
// O(n_fft * lobe samples) for the lobe shape (MainLobe) and O(nnz) for the
// matrices; D holds about bins * 2 * half-width values, A about
// 2 * nnz(W) + 2 * half-width * n_mels.

#ifndef SPECINV_CORE_SRC_INVERSION_LOBE_DICTIONARY_H_
#define SPECINV_CORE_SRC_INVERSION_LOBE_DICTIONARY_H_

#include <memory>
#include <span>
#include <vector>

#include "inversion/banded_rows.h"
#include "specinv/analysis/mel_filterbank.h"

namespace specinv {

inline constexpr int kLobeOversampling = 2;
inline constexpr int kMaxLobeHalfWidthBins = 8;

struct LobeDictionary {
  BandedRows bin_atoms;    // D
  BandedRows mel_atoms;    // A = W D
  std::vector<float> step;  // per atom, 1 / sum_m A_mj (sum_l A_ml)
};

// The n_fft-point window's |DTFT| (power 1) sampled every 1/oversampling
// bin from the centre (1) out to its first null (at most
// kMaxLobeHalfWidthBins bins); {1} for an all-zero window. Cost
// O(n_fft * samples).
std::vector<double> MainLobe(std::span<const float> window, int oversampling = kLobeOversampling);

// The dictionary for `filterbank` with `unit_lobe` (MainLobe) raised to `power`.
std::shared_ptr<const LobeDictionary> BuildLobeDictionary(const MelFilterbank& filterbank,
                                                          const std::vector<double>& unit_lobe, double power);

}  // namespace specinv

#endif  // SPECINV_CORE_SRC_INVERSION_LOBE_DICTIONARY_H_
