// Copyright specinv authors.

#include "inversion/harmonic_comb.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace specinv {
namespace {

constexpr int kBandsPerBin = 3;  // Slaney triangles overlap in pairs; room for one more

float Interpolate(const float* x, int bins, double position) {
  const int k = static_cast<int>(position);
  if (k + 1 >= bins) return k < bins ? x[k] : 0.0f;
  const float f = static_cast<float>(position - k);
  return (1.0f - f) * x[k] + f * x[k + 1];
}

// sum_h x(h f0) / sqrt(number of partials) over the partials below
// kCombSearchMaxHz; `spacing` is f0 in bins, `limit` kCombSearchMaxHz in bins.
double CombScore(const float* x, int bins, double spacing, double limit) {
  double sum = 0.0;
  int count = 0;
  for (double p = spacing; p < limit; p += spacing, ++count) sum += static_cast<double>(Interpolate(x, bins, p));
  return count > 0 ? sum / std::sqrt(static_cast<double>(count)) : 0.0;
}

}  // namespace

double CombF0(const float* x, int bins, double bin_hz) {
  const double to_bins = 1.0 / bin_hz;
  const double limit = kCombSearchMaxHz * to_bins;
  // Coarse pass: every kCombCoarseStep Hz; keep the kCombRefined best local
  // maxima (best first).
  std::array<double, kCombCoarse + 2> score{};  // score[i + 1] for coarse step i; 0 beyond both ends
  for (int i = 0; i < kCombCoarse; ++i) {
    score[static_cast<size_t>(i + 1)] = CombScore(x, bins, (kCombMinF0 + i * kCombCoarseStep) * to_bins, limit);
  }
  std::array<int, kCombRefined> top;
  top.fill(-1);
  for (int i = 0; i < kCombCoarse; ++i) {
    const size_t at = static_cast<size_t>(i + 1);
    const double v = score[at];
    if (v <= 0.0 || score[at - 1] > v || score[at + 1] >= v) continue;  // not a local maximum
    for (size_t r = 0; r < top.size(); ++r) {
      if (top[r] < 0 || v > score[static_cast<size_t>(top[r] + 1)]) {
        std::copy_backward(top.begin() + static_cast<std::ptrdiff_t>(r), top.end() - 1, top.end());
        top[r] = i;
        break;
      }
    }
  }
  // Fine pass: every kCombF0Step Hz within one coarse step of each.
  double best_score = 0.0, best_f0 = 0.0;
  for (int i : top) {
    if (i < 0) break;
    const double centre = kCombMinF0 + i * kCombCoarseStep;
    for (int j = -kCombFine; j <= kCombFine; ++j) {
      const double f0 = centre + j * kCombF0Step;
      if (f0 < kCombMinF0 || f0 > kCombMaxF0) continue;
      const double v = CombScore(x, bins, f0 * to_bins, limit);
      if (v > best_score) {
        best_score = v;
        best_f0 = f0;
      }
    }
  }
  return best_f0;
}

CombOperator::CombOperator(const MelFilterbank& fb, const std::vector<double>& fine_lobe, const BandedRows& grid_mel)
    : n_mels_(fb.n_mels()), bins_(fb.num_bins()), lobe_(fine_lobe), grid_(&grid_mel) {
  band_of_.assign(static_cast<size_t>(bins_) * kBandsPerBin, -1);
  band_weight_.assign(band_of_.size(), 0.0f);
  for (int m = 0; m < n_mels_; ++m) {
    const float* w = fb.row_values(m);
    for (int i = 0; i < fb.row_size(m); ++i) {
      const int k = fb.row_begin(m) + i;
      if (w[i] == 0.0f) continue;
      last_bin_ = std::max(last_bin_, k);
      for (int s = 0; s < kBandsPerBin; ++s) {
        const size_t at = static_cast<size_t>(k) * kBandsPerBin + static_cast<size_t>(s);
        if (band_of_[at] < 0) {
          band_of_[at] = m;
          band_weight_[at] = w[i];
          break;
        }
      }
    }
  }
  grid_row_sums_.assign(static_cast<size_t>(n_mels_), 0.0f);
  std::vector<float> ones(static_cast<size_t>(grid_mel.cols()), 1.0f);
  grid_mel.Apply(ones.data(), grid_row_sums_.data());
  const size_t max_partials = static_cast<size_t>(bins_);
  bin_begin_.assign(max_partials, 0);
  mel_begin_.assign(max_partials, 0);
  bin_values_.assign(max_partials * kSpan, 0.0f);
  mel_values_.assign(max_partials * kMelSpan, 0.0f);
  row_sums_.assign(static_cast<size_t>(n_mels_), 0.0f);
}

int CombOperator::SetF0(double f0, double bin_hz) {
  partials_ = 0;
  spacing_ = f0 / bin_hz;
  const double half = static_cast<double>(lobe_.size() - 1) / kCombLobeOversampling;  // first null, bins
  for (int h = 1; f0 > 0.0; ++h) {
    const double p = h * spacing_;
    if (p >= static_cast<double>(last_bin_) || partials_ >= bins_) break;
    const size_t j = static_cast<size_t>(partials_++);
    const int k0 = std::max(0, static_cast<int>(std::ceil(p - half)));
    bin_begin_[j] = k0;
    float* bv = bin_values_.data() + j * kSpan;
    std::fill(bv, bv + kSpan, 0.0f);
    for (int i = 0; i < kSpan && k0 + i < bins_; ++i) {
      const double d = std::abs(k0 + i - p) * kCombLobeOversampling;
      const size_t at = static_cast<size_t>(d);
      if (at + 1 >= lobe_.size()) continue;
      const double f = d - static_cast<double>(at);
      bv[i] = static_cast<float>((1.0 - f) * lobe_[at] + f * lobe_[at + 1]);
    }
    // Mel column: the bands over those bins.
    int m_lo = n_mels_, m_hi = -1;
    for (int i = 0; i < kSpan && k0 + i < bins_; ++i) {
      for (int s = 0; s < kBandsPerBin; ++s) {
        const int m = band_of_[static_cast<size_t>(k0 + i) * kBandsPerBin + static_cast<size_t>(s)];
        if (m >= 0) {
          m_lo = std::min(m_lo, m);
          m_hi = std::max(m_hi, m);
        }
      }
    }
    float* mv = mel_values_.data() + j * kMelSpan;
    std::fill(mv, mv + kMelSpan, 0.0f);
    mel_begin_[j] = m_hi >= m_lo ? m_lo : 0;
    for (int i = 0; i < kSpan && k0 + i < bins_; ++i) {
      for (int s = 0; s < kBandsPerBin; ++s) {
        const size_t at = static_cast<size_t>(k0 + i) * kBandsPerBin + static_cast<size_t>(s);
        const int m = band_of_[at];
        if (m >= 0 && m - m_lo < kMelSpan) mv[m - m_lo] += band_weight_[at] * bv[i];
      }
    }
  }
  return partials_;
}

void CombOperator::Apply(const float* x, float* y) const {
  if (use_grid_) {
    grid_->Apply(x + partials_, y);
  } else {
    std::fill(y, y + n_mels_, 0.0f);
  }
  for (int j = 0; j < partials_; ++j) {
    const float* mv = mel_values_.data() + static_cast<size_t>(j) * kMelSpan;
    const int m0 = mel_begin_[static_cast<size_t>(j)];
    for (int i = 0; i < kMelSpan && m0 + i < n_mels_; ++i) y[m0 + i] += mv[i] * x[j];
  }
}

void CombOperator::ApplyTranspose(const float* y, float* g) const {
  if (use_grid_) grid_->ApplyTranspose(y, g + partials_);
  for (int j = 0; j < partials_; ++j) {
    const float* mv = mel_values_.data() + static_cast<size_t>(j) * kMelSpan;
    const int m0 = mel_begin_[static_cast<size_t>(j)];
    float acc = 0.0f;
    for (int i = 0; i < kMelSpan && m0 + i < n_mels_; ++i) acc += mv[i] * y[m0 + i];
    g[j] = acc;
  }
}

void CombOperator::WarmStart(const float* estimate, float* coefficients) const {
  for (int j = 0; j < partials_; ++j) coefficients[j] = Interpolate(estimate, bins_, (j + 1) * spacing_);
  if (use_grid_) std::fill(coefficients + partials_, coefficients + cols(), 0.0f);
}

void CombOperator::Steps(std::vector<float>* step) {
  // Row sums of the whole operator, then 1 / (A_j . row sums) per column.
  if (use_grid_) {
    std::copy(grid_row_sums_.begin(), grid_row_sums_.end(), row_sums_.begin());
  } else {
    std::fill(row_sums_.begin(), row_sums_.end(), 0.0f);
  }
  for (int j = 0; j < partials_; ++j) {
    const float* mv = mel_values_.data() + static_cast<size_t>(j) * kMelSpan;
    const int m0 = mel_begin_[static_cast<size_t>(j)];
    for (int i = 0; i < kMelSpan && m0 + i < n_mels_; ++i) row_sums_[static_cast<size_t>(m0 + i)] += mv[i];
  }
  step->resize(static_cast<size_t>(cols()));
  ApplyTranspose(row_sums_.data(), step->data());
  for (float& s : *step) s = s > 0.0f ? 1.0f / s : 0.0f;
}

void CombOperator::Synthesize(const float* coefficients, const BandedRows& grid_bins, float* out) const {
  if (use_grid_) {
    grid_bins.Apply(coefficients + partials_, out);
  } else {
    std::fill(out, out + bins_, 0.0f);
  }
  for (int j = 0; j < partials_; ++j) {
    const float* bv = bin_values_.data() + static_cast<size_t>(j) * kSpan;
    const int k0 = bin_begin_[static_cast<size_t>(j)];
    for (int i = 0; i < kSpan && k0 + i < bins_; ++i) out[k0 + i] += bv[i] * coefficients[j];
  }
}

}  // namespace specinv
