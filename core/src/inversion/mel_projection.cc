// Copyright specinv authors.

#include "specinv/inversion/mel_projection.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>

#include "specinv/base/validate.h"

namespace specinv {

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
  // Gram matrix from the sparse rows, in double.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    const int bi = filterbank.row_begin(i), ni = filterbank.row_size(i);
    const float* wi = filterbank.row_values(i);
    for (int k = 0; k < ni; ++k) {
      if (wi[k] != 0.0f) p.covered_[static_cast<size_t>(bi + k)] = 1.0f;
    }
    for (int j = 0; j < n; ++j) {
      const int bj = filterbank.row_begin(j), nj = filterbank.row_size(j);
      const int lo = std::max(bi, bj), hi = std::min(bi + ni, bj + nj);
      const float* wj = filterbank.row_values(j);
      double acc = 0.0;
      for (int k = lo; k < hi; ++k) acc += static_cast<double>(wi[k - bi]) * static_cast<double>(wj[k - bj]);
      gram(i, j) = acc;
    }
  }
  const double lambda = std::max(1e-6 * gram.trace() / n, 1e-30);
  gram.diagonal().array() += lambda;
  int band = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < i; ++j) {
      if (gram(i, j) != 0.0) band = std::max(band, i - j);
    }
  }
  Eigen::LLT<Eigen::MatrixXd> llt(gram);
  if (llt.info() != Eigen::Success) {
    return absl::InternalError("mel projection: the regularised Gram matrix is not positive definite");
  }
  const Eigen::MatrixXd factor = llt.matrixL();
  p.bandwidth_ = band;
  p.inv_diagonal_.resize(static_cast<size_t>(n));
  p.band_.assign(static_cast<size_t>(n) * static_cast<size_t>(band), 0.0f);
  for (int i = 0; i < n; ++i) {
    p.inv_diagonal_[static_cast<size_t>(i)] = static_cast<float>(1.0 / factor(i, i));
    for (int d = 1; d <= std::min(band, i); ++d) {
      p.band_[static_cast<size_t>(i) * static_cast<size_t>(band) + static_cast<size_t>(d - 1)] =
          static_cast<float>(factor(i, i - d));
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
  float* residual = scratch + bins;
  float* coef = residual + n;
  // a = |X|^p (the common powers without pow, vectorised).
  Eigen::Map<Eigen::ArrayXf> av(a, bins);
  av = Eigen::Map<const Eigen::ArrayXcf>(spectrum, bins).abs2();
  if (power_ == 1.0f) {
    av = av.sqrt();
  } else if (power_ != 2.0f) {
    av = av.pow(0.5f * power_);
  }
  const int b = bandwidth_;
  const float* inv_diag = inv_diagonal_.data();
  const float* band = band_.data();  // band[i * b + d - 1] = L(i, i - d), d = 1..b
  for (int round = 0; round < rounds_; ++round) {
    for (int m = 0; m < n; ++m) {
      const int len = fb.row_size(m);
      const float acc = Eigen::Map<const Eigen::VectorXf>(fb.row_values(m), len)
                            .dot(Eigen::Map<const Eigen::VectorXf>(a + fb.row_begin(m), len));
      residual[m] = target[m] - acc;
    }
    // coef = (L L^T)^-1 residual by banded forward and back substitution.
    for (int i = 0; i < n; ++i) {
      float acc = residual[i];
      const float* row = band + static_cast<ptrdiff_t>(i) * b;
      for (int d = 1, dn = std::min(b, i); d <= dn; ++d) acc -= row[d - 1] * coef[i - d];
      coef[i] = acc * inv_diag[i];
    }
    for (int i = n - 1; i >= 0; --i) {
      float acc = coef[i];
      for (int d = 1, dn = std::min(b, n - 1 - i); d <= dn; ++d) {
        acc -= band[static_cast<ptrdiff_t>(i + d) * b + d - 1] * coef[i + d];
      }
      coef[i] = acc * inv_diag[i];
    }
    for (int m = 0; m < n; ++m) {
      const int len = fb.row_size(m);
      Eigen::Map<Eigen::VectorXf>(a + fb.row_begin(m), len) +=
          coef[m] * Eigen::Map<const Eigen::VectorXf>(fb.row_values(m), len);
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
