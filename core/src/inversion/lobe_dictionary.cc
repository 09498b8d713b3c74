// Copyright specinv authors.

#include "inversion/lobe_dictionary.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

namespace specinv {
namespace {

// |DTFT of window| at nu bins from the centre, normalised so nu = 0 gives 1.
double WindowResponse(std::span<const float> window, double nu, double dc) {
  const double w = 2.0 * M_PI * nu / static_cast<double>(window.size());
  double re = 0.0, im = 0.0;
  for (size_t n = 0; n < window.size(); ++n) {
    re += static_cast<double>(window[n]) * std::cos(w * static_cast<double>(n));
    im -= static_cast<double>(window[n]) * std::sin(w * static_cast<double>(n));
  }
  return std::hypot(re, im) / dc;
}

}  // namespace

std::vector<double> MainLobe(std::span<const float> window, int oversampling) {
  double dc = 0.0;
  for (float v : window) dc += static_cast<double>(v);
  std::vector<double> lobe{1.0};
  if (dc <= 0.0) return lobe;
  double prev = 1.0;
  for (int d = 1; d <= kMaxLobeHalfWidthBins * oversampling; ++d) {
    const double v = WindowResponse(window, static_cast<double>(d) / oversampling, dc);
    if (v >= prev) break;  // past the first null
    lobe.push_back(v);
    prev = v;
  }
  return lobe;
}

std::shared_ptr<const LobeDictionary> BuildLobeDictionary(const MelFilterbank& fb,
                                                          const std::vector<double>& unit_lobe, double power) {
  const int bins = fb.num_bins();
  const int n_mels = fb.n_mels();
  const int atoms = (bins - 1) * kLobeOversampling + 1;
  std::vector<double> lobe(unit_lobe.size());
  for (size_t d = 0; d < lobe.size(); ++d) lobe[d] = std::pow(unit_lobe[d], power);
  const int half = static_cast<int>(lobe.size()) - 1;  // in 1/kLobeOversampling bins
  // D by bins: bin k holds atoms j with |k * kLobeOversampling - j| <= half.
  std::vector<Entry> d_entries;
  for (int k = 0; k < bins; ++k) {
    const int c = k * kLobeOversampling;
    for (int j = std::max(0, c - half); j <= std::min(atoms - 1, c + half); ++j) {
      d_entries.push_back({k, j, lobe[static_cast<size_t>(std::abs(c - j))]});
    }
  }
  // A = W D by mel bands: row m of W times D's rows over its bins.
  std::vector<Entry> a_entries;
  std::vector<double> row(static_cast<size_t>(atoms), 0.0);
  for (int m = 0; m < n_mels; ++m) {
    if (fb.row_size(m) == 0) continue;
    const int k0 = fb.row_begin(m), k1 = k0 + fb.row_size(m);
    const int j0 = std::max(0, k0 * kLobeOversampling - half);
    const int j1 = std::min(atoms, (k1 - 1) * kLobeOversampling + half + 1);
    for (int k = k0; k < k1; ++k) {
      const double w = static_cast<double>(fb.row_values(m)[k - k0]);
      const int c = k * kLobeOversampling;
      for (int j = std::max(0, c - half); j <= std::min(atoms - 1, c + half); ++j) {
        row[static_cast<size_t>(j)] += w * lobe[static_cast<size_t>(std::abs(c - j))];
      }
    }
    for (int j = j0; j < j1; ++j) {
      if (row[static_cast<size_t>(j)] != 0.0) a_entries.push_back({m, j, row[static_cast<size_t>(j)]});
      row[static_cast<size_t>(j)] = 0.0;
    }
  }
  // Atoms no band sees (beyond fmin/fmax) would keep a zero coefficient:
  // drop them and number the rest consecutively (still in frequency order).
  std::vector<int> index(static_cast<size_t>(atoms), -1);
  for (const Entry& e : a_entries) index[static_cast<size_t>(e.col)] = 0;
  int kept = 0;
  for (int& i : index) {
    if (i == 0) i = kept++;
  }
  for (Entry& e : a_entries) e.col = index[static_cast<size_t>(e.col)];
  std::vector<Entry> d_kept;
  for (const Entry& e : d_entries) {
    if (index[static_cast<size_t>(e.col)] >= 0) d_kept.push_back({e.row, index[static_cast<size_t>(e.col)], e.value});
  }
  BandedRows mel_atoms(n_mels, kept, a_entries);
  std::vector<float> step = mel_atoms.Steps();
  return std::make_shared<const LobeDictionary>(
      LobeDictionary{BandedRows(bins, kept, d_kept), std::move(mel_atoms), std::move(step)});
}

}  // namespace specinv
