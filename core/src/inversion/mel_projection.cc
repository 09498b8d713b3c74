// Copyright specinv authors.

#include "specinv/inversion/mel_projection.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "specinv/base/validate.h"

namespace specinv {
namespace {

// Share of the frame's largest power added to every bin's weight: keeps the
// weighted system regular and lets bins at zero take part of the correction.
constexpr float kWeightFloor = 1e-3f;

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
  int band = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) {
      const Overlap o = overlap(i, j);
      if (o.begin < o.end) band = std::max(band, i - j);
    }
  }
  p.bandwidth_ = band;
  p.overlap_.assign(static_cast<size_t>(n) * static_cast<size_t>(band + 1), Overlap{});
  for (int i = 0; i < n; ++i) {
    for (int d = 0; d <= std::min(band, i); ++d) {
      Overlap o = overlap(i, i - d);
      if (o.begin >= o.end) continue;
      o.offset = p.products_.size();
      const float* wi = filterbank.row_values(i) - filterbank.row_begin(i);
      const float* wj = filterbank.row_values(i - d) - filterbank.row_begin(i - d);
      for (int k = o.begin; k < o.end; ++k) p.products_.push_back(wi[k] * wj[k]);
      p.overlap_[static_cast<size_t>(i) * static_cast<size_t>(band + 1) + static_cast<size_t>(d)] = o;
    }
  }
  return p;
}

void MelProjection::Project(const std::complex<float>* spectrum, const float* target, float* magnitude,
                            float* scratch) const {
  const MelFilterbank& fb = *filterbank_;
  const int bins = fb.num_bins();
  const int n = fb.n_mels();
  const int b = bandwidth_;
  const size_t stride = static_cast<size_t>(b + 1);
  float* a = scratch;
  float* w = a + bins;
  // The banded system in double (its rows can be nearly collinear where
  // narrow filters share a bin): residual, coef, then the band.
  void* aligned = w + bins;
  size_t space = static_cast<size_t>(scratch_size() - 2 * bins) * sizeof(float);
  double* residual =
      static_cast<double*>(std::align(alignof(double), DoublesNeeded() * sizeof(double), aligned, space));
  double* coef = residual + n;
  double* gram = coef + n;  // gram[i * stride + d] = G(i, i - d), then the Cholesky factor L(i, i - d)
  // a = |X|^p (the common powers without pow, vectorised).
  Eigen::Map<Eigen::ArrayXf> av(a, bins);
  av = Eigen::Map<const Eigen::ArrayXcf>(spectrum, bins).abs2();
  if (power_ == 1.0f) {
    av = av.sqrt();
  } else if (power_ != 2.0f) {
    av = av.pow(0.5f * power_);
  }
  Eigen::Map<Eigen::ArrayXf> wv(w, bins);
  for (int round = 0; round < rounds_; ++round) {
    const float peak = av.maxCoeff();
    wv = av + (peak > 0.0f ? kWeightFloor * peak : 1.0f);
    // residual = m - W a; G = W diag(w) W^T (band); lambda from its trace.
    double trace = 0.0;
    for (int i = 0; i < n; ++i) {
      const int len = fb.row_size(i);
      const int begin = fb.row_begin(i);
      const float* wi = fb.row_values(i);
      residual[i] = static_cast<double>(target[i]) -
                    static_cast<double>(Eigen::Map<const Eigen::VectorXf>(wi, len).dot(
                        Eigen::Map<const Eigen::VectorXf>(a + begin, len)));
      for (int d = 0; d <= b; ++d) {
        const Overlap o = d <= i ? overlap_[static_cast<size_t>(i) * stride + static_cast<size_t>(d)] : Overlap{};
        double acc = 0.0;
        if (o.begin < o.end) {
          const int cnt = o.end - o.begin;
          acc = static_cast<double>(Eigen::Map<const Eigen::VectorXf>(products_.data() + o.offset, cnt)
                                        .dot(Eigen::Map<const Eigen::VectorXf>(w + o.begin, cnt)));
        }
        gram[static_cast<size_t>(i) * stride + static_cast<size_t>(d)] = acc;
      }
      trace += gram[static_cast<size_t>(i) * stride];
    }
    const double lambda = std::max(1e-4 * trace / n, 1e-300);
    // Banded Cholesky in place: L(i, j) for j = i - b..i.
    for (int i = 0; i < n; ++i) {
      double* li = gram + static_cast<size_t>(i) * stride;
      li[0] += lambda;
      for (int d = std::min(b, i); d >= 1; --d) {
        const int j = i - d;
        const double* lj = gram + static_cast<size_t>(j) * stride;
        double acc = li[d];
        for (int k = std::max(i - b, 0); k < j; ++k) acc -= li[i - k] * lj[j - k];
        li[d] = acc / lj[0];
      }
      double acc = li[0];
      for (int d = 1; d <= std::min(b, i); ++d) acc -= li[d] * li[d];
      li[0] = std::sqrt(std::max(acc, lambda));
    }
    // coef = (L L^T)^-1 residual by forward and back substitution.
    for (int i = 0; i < n; ++i) {
      const double* li = gram + static_cast<size_t>(i) * stride;
      double acc = residual[i];
      for (int d = 1, dn = std::min(b, i); d <= dn; ++d) acc -= li[d] * coef[i - d];
      coef[i] = acc / li[0];
    }
    for (int i = n - 1; i >= 0; --i) {
      double acc = coef[i];
      for (int d = 1, dn = std::min(b, n - 1 - i); d <= dn; ++d) {
        acc -= gram[static_cast<size_t>(i + d) * stride + static_cast<size_t>(d)] * coef[i + d];
      }
      coef[i] = acc / gram[static_cast<size_t>(i) * stride];
    }
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
