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
  p.covered_.assign(static_cast<size_t>(bins), 0);
  // Gram matrix from the sparse rows, in double.
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < n; ++i) {
    const int bi = filterbank.row_begin(i), ni = filterbank.row_size(i);
    const float* wi = filterbank.row_values(i);
    for (int k = 0; k < ni; ++k) {
      if (wi[k] != 0.0f) p.covered_[static_cast<size_t>(bi + k)] = 1;
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
  p.factor_ = Eigen::MatrixXd(llt.matrixL()).cast<float>();
  p.bandwidth_ = band;
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
  for (int k = 0; k < bins; ++k) {
    const float re = spectrum[k].real(), im = spectrum[k].imag();
    const float p2 = re * re + im * im;
    a[k] = power_ == 1.0f ? std::sqrt(p2) : (power_ == 2.0f ? p2 : std::pow(p2, 0.5f * power_));
  }
  for (int round = 0; round < rounds_; ++round) {
    for (int m = 0; m < n; ++m) {
      const float* w = fb.row_values(m);
      const float* x = a + fb.row_begin(m);
      float acc = 0.0f;
      for (int i = 0, len = fb.row_size(m); i < len; ++i) acc += w[i] * x[i];
      residual[m] = target[m] - acc;
    }
    // coef = (L L^T)^-1 residual by banded forward and back substitution.
    const float* l = factor_.data();
    const Eigen::Index ld = factor_.rows();
    for (int i = 0; i < n; ++i) {
      float acc = residual[i];
      for (int j = std::max(0, i - bandwidth_); j < i; ++j) acc -= l[i + j * ld] * coef[j];
      coef[i] = acc / l[i + i * ld];
    }
    for (int i = n - 1; i >= 0; --i) {
      float acc = coef[i];
      for (int j = i + 1; j <= std::min(n - 1, i + bandwidth_); ++j) acc -= l[j + i * ld] * coef[j];
      coef[i] = acc / l[i + i * ld];
    }
    for (int m = 0; m < n; ++m) {
      const float* w = fb.row_values(m);
      float* x = a + fb.row_begin(m);
      const float c = coef[m];
      for (int i = 0, len = fb.row_size(m); i < len; ++i) x[i] += w[i] * c;
    }
    for (int k = 0; k < bins; ++k) a[k] = std::max(a[k], 0.0f);
  }
  for (int k = 0; k < bins; ++k) {
    const float v = covered_[static_cast<size_t>(k)] != 0 ? a[k] : 0.0f;
    magnitude[k] = power_ == 1.0f ? v : (power_ == 2.0f ? std::sqrt(v) : std::pow(v, 1.0f / power_));
  }
}

}  // namespace specinv
