// Copyright specinv authors.
//
// Projection of one spectrum frame onto the mel constraint W a = m: the
// magnitude step of mel-consistent Griffin-Lim (method "mel_fgla").
//
// Given a complex frame r (n_fft/2+1 bins) and its mel target m (n_mels
// values, the FeatureExtractor's domain before compression: m = W |X|^p),
// Project returns the magnitude |X| whose power a = |X|^p is the nearest (in
// the least-squares sense) to |r|^p among the powers that reproduce m:
//
//   a <- a + W^T (W W^T + lambda I)^-1 (m - W a),  a <- max(a, 0)
//
// repeated `rounds` times (the clipping at zero makes one round inexact);
// bins no filter covers get magnitude 0 (the mel says nothing of them; the
// mel inverse gives them 0 too). lambda = 1e-6 * trace(W W^T) / n_mels keeps
// the system regular for empty filters. Because the phase is kept, the
// result is the projection of r onto {X : W |X|^p = m} up to the clipping.
//
// Cost per frame: rounds * (2 * nnz(W) + 2 * n_mels * (b + 1)) multiply-adds,
// b the bandwidth of W W^T (1 for triangular filters that overlap only
// their neighbours): Create factors W W^T + lambda I once (Cholesky, whose
// factor keeps the band), Project solves by banded substitution. Memory:
// (bandwidth + 1) * n_mels + num_bins floats (bytes()). Immutable after Create; Project is
// thread-safe with per-thread scratch.

#ifndef SPECINV_MEL_PROJECTION_H_
#define SPECINV_MEL_PROJECTION_H_

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "specinv/analysis/mel_filterbank.h"

namespace specinv {

struct MelProjectionOptions {
  double power = 1.0;  // p of the mel (1 magnitude, 2 power), (0, 4]
  int rounds = 2;      // projection + clipping rounds, [1, 16]
};

class MelProjection {
 public:
  // `filterbank` must outlive the projection.
  static absl::StatusOr<MelProjection> Create(const MelFilterbank& filterbank, const MelProjectionOptions& options);

  int num_bins() const { return filterbank_->num_bins(); }
  int n_mels() const { return filterbank_->n_mels(); }
  // Floats of scratch Project needs.
  int scratch_size() const { return num_bins() + 2 * n_mels(); }
  // Bytes held (the banded factor and the coverage mask).
  size_t bytes() const { return (inv_diagonal_.size() + band_.size() + covered_.size()) * sizeof(float); }

  // spectrum: num_bins() complex values; target: n_mels() mel values;
  // magnitude: num_bins() outputs; scratch: scratch_size() floats.
  void Project(const std::complex<float>* spectrum, const float* target, float* magnitude, float* scratch) const;

 private:
  MelProjection() = default;
  const MelFilterbank* filterbank_ = nullptr;
  // Cholesky factor L of W W^T + lambda I (lower), in band storage:
  // inv_diagonal_[i] = 1 / L(i, i), band_[i * bandwidth_ + d - 1] =
  // L(i, i - d) for d = 1..bandwidth_ (0 above the first rows).
  std::vector<float> inv_diagonal_;
  std::vector<float> band_;
  int bandwidth_ = 0;             // L(i, j) = 0 for i - j > bandwidth_
  std::vector<float> covered_;    // 1: bin k is in some filter, else 0
  float power_ = 1.0f;
  int rounds_ = 2;
};

}  // namespace specinv

#endif  // SPECINV_MEL_PROJECTION_H_
