// Copyright specinv authors.

#include "specinv/inversion/mel_projection.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "absl/strings/str_format.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

// Share of the frame's largest power added to every bin's weight: keeps the
// weighted system regular and lets bins at zero take part of the correction.
constexpr float kWeightFloor = 1e-3f;

// Solves (G + lambda I) coef = residual for the tridiagonal G (diag[i] =
// G(i, i), off[i] = G(i, i - 1), off[0] unused) by L D L^T with D clamped at
// lambda: one division per row and no square root. Overwrites diag with
// 1 / D(i) and off with L(i, i - 1).
void SolveTridiagonal(double* diag, double* off, const double* residual, double lambda, int n, double* coef) {
  double inv_prev = 0.0;
  double z_prev = 0.0;
  for (int i = 0; i < n; ++i) {
    const double g = i > 0 ? off[i] : 0.0;
    const double l = g * inv_prev;
    const double inv = 1.0 / std::max(diag[i] + lambda - l * g, lambda);
    const double z = residual[i] - l * z_prev;
    diag[i] = inv;
    off[i] = l;
    coef[i] = z;
    inv_prev = inv;
    z_prev = z;
  }
  double next = 0.0;
  for (int i = n - 1; i >= 0; --i) {
    next = coef[i] * diag[i] - (i + 1 < n ? off[i + 1] * next : 0.0);
    coef[i] = next;
  }
}

}  // namespace

absl::StatusOr<MelProjection> MelProjection::Create(const MelFilterbank& filterbank,
                                                    const MelProjectionOptions& options) {
  if (auto s = CheckRangeOpenLow("power", options.power, 0.0, 4.0); !s.ok()) return s;
  if (auto s = CheckRange("rounds", options.rounds, 1, 16); !s.ok()) return s;
  MelProjection p;
  p.filterbank_ = &filterbank;
  p.power_ = static_cast<float>(options.power);
  p.rounds_ = options.rounds;
  const int n = filterbank.n_mels();
  const int bins = filterbank.num_bins();
  p.covered_.assign(static_cast<size_t>(bins), 0.0f);
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < filterbank.row_size(i); ++k) {
      if (filterbank.row_values(i)[k] != 0.0f) p.covered_[static_cast<size_t>(filterbank.row_begin(i) + k)] = 1.0f;
    }
  }
  auto overlap = [&](int i, int j) {
    return Overlap{std::max(filterbank.row_begin(i), filterbank.row_begin(j)),
                   std::min(filterbank.row_begin(i) + filterbank.row_size(i),
                            filterbank.row_begin(j) + filterbank.row_size(j)),
                   0};
  };
  // Filter i is non-zero strictly between edges i and i + 2, so it shares
  // bins with filters i - 1 and i + 1 only: check it (O(nnz)).
  std::vector<int> last(static_cast<size_t>(bins), -1);
  for (int i = 0; i < n; ++i) {
    for (int k = filterbank.row_begin(i); k < filterbank.row_begin(i) + filterbank.row_size(i); ++k) {
      int& seen = last[static_cast<size_t>(k)];
      if (seen >= 0 && seen < i - 1) {
        return absl::InternalError(absl::StrFormat("mel filters %d and %d share bin %d; the projection needs "
                                                   "filters that overlap only their neighbours", seen, i, k));
      }
      seen = i;
    }
  }
  p.overlap_.assign(2 * static_cast<size_t>(n), Overlap{});
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d <= std::min(1, i); ++d) {
      Overlap o = overlap(i, i - d);
      if (o.begin >= o.end) continue;
      o.offset = p.products_.size();
      const float* wi = filterbank.row_values(i) - filterbank.row_begin(i);
      const float* wj = filterbank.row_values(i - d) - filterbank.row_begin(i - d);
      for (int k = o.begin; k < o.end; ++k) p.products_.push_back(wi[k] * wj[k]);
      p.overlap_[2 * static_cast<size_t>(i) + static_cast<size_t>(d)] = o;
    }
  }
  return p;
}

void MelProjection::Project(const std::complex<float>* spectrum, const float* target, float* magnitude,
                            float* scratch) const {
  const MelFilterbank& fb = *filterbank_;
  const int bins = fb.num_bins();
  const int n = fb.n_mels();
  float* a = scratch;
  float* w = a + bins;
  // The system in double (its rows can be nearly collinear where narrow
  // filters share a bin): residual, coef, the diagonal and the sub-diagonal.
  void* aligned = w + bins;
  size_t space = static_cast<size_t>(scratch_size() - 2 * bins) * sizeof(float);
  double* residual =
      static_cast<double*>(std::align(alignof(double), DoublesNeeded() * sizeof(double), aligned, space));
  double* coef = residual + n;
  double* diag = coef + n;
  double* off = diag + n;
  // a = |X|^p (the common powers without pow, vectorised).
  Eigen::Map<Eigen::ArrayXf> av(a, bins);
  av = Eigen::Map<const Eigen::ArrayXcf>(spectrum, bins).abs2();
  if (power_ == 1.0f) {
    av = av.sqrt();
  } else if (power_ != 2.0f) {
    av = av.pow(0.5f * power_);
  }
  Eigen::Map<Eigen::ArrayXf> wv(w, bins);
  const auto dot = [](const float* x, const float* y, int len) {
    return static_cast<double>(Eigen::Map<const Eigen::VectorXf>(x, len).dot(Eigen::Map<const Eigen::VectorXf>(y, len)));
  };
  for (int round = 0; round < rounds_; ++round) {
    const float peak = av.maxCoeff();
    wv = av + (peak > 0.0f ? kWeightFloor * peak : 1.0f);
    // residual = m - W a; G = W diag(w) W^T (tridiagonal); lambda from its trace.
    double trace = 0.0;
    for (int i = 0; i < n; ++i) {
      residual[i] = static_cast<double>(target[i]) - dot(fb.row_values(i), a + fb.row_begin(i), fb.row_size(i));
      const Overlap& o0 = overlap_[2 * static_cast<size_t>(i)];
      const Overlap& o1 = overlap_[2 * static_cast<size_t>(i) + 1];
      diag[i] = o0.begin < o0.end ? dot(products_.data() + o0.offset, w + o0.begin, o0.end - o0.begin) : 0.0;
      off[i] = o1.begin < o1.end ? dot(products_.data() + o1.offset, w + o1.begin, o1.end - o1.begin) : 0.0;
      trace += diag[i];
    }
    const double lambda = std::max(1e-4 * trace / n, 1e-300);
    SolveTridiagonal(diag, off, residual, lambda, n, coef);
    // a += w * W^T coef.
    for (int i = 0; i < n; ++i) {
      const int len = fb.row_size(i);
      const int begin = fb.row_begin(i);
      Eigen::Map<Eigen::ArrayXf>(a + begin, len) += static_cast<float>(coef[i]) *
                                                    Eigen::Map<const Eigen::ArrayXf>(fb.row_values(i), len) *
                                                    Eigen::Map<const Eigen::ArrayXf>(w + begin, len);
    }
    av = av.max(0.0f);
  }
  // Bins no filter covers get 0.
  Eigen::Map<Eigen::ArrayXf> out(magnitude, bins);
  const Eigen::Map<const Eigen::ArrayXf> covered(covered_.data(), bins);
  if (power_ == 1.0f) {
    out = av * covered;
  } else if (power_ == 2.0f) {
    out = av.sqrt() * covered;
  } else {
    out = av.pow(1.0f / power_) * covered;
  }
}

}  // namespace specinv
