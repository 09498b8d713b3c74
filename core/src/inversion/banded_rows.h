// Copyright specinv authors.
//
// A non-negative sparse matrix whose rows are contiguous runs of columns
// (internal header): the lobe dictionary's operators in mel_inverse.cc.
// Apply and ApplyTranspose are long contiguous dot products and axpys, so
// they vectorise; cost 2 flops per stored value. Immutable once built;
// const methods are thread-safe.

#ifndef SPECINV_CORE_SRC_INVERSION_BANDED_ROWS_H_
#define SPECINV_CORE_SRC_INVERSION_BANDED_ROWS_H_

#include <algorithm>
#include <cstddef>
#include <vector>

namespace specinv {

// One non-zero of a sparse matrix.
struct Entry {
  int row, col;
  double value;
};

// A non-negative matrix stored by rows, each row one contiguous run of
// columns (gaps inside a run stored as zeros), so products are long
// contiguous dot products and axpys. Immutable once built.
class BandedRows {
 public:
  BandedRows(int rows, int cols, const std::vector<Entry>& entries)
      : cols_(cols), begin_(static_cast<size_t>(rows), 0), size_(static_cast<size_t>(rows), 0),
        offset_(static_cast<size_t>(rows), 0) {
    std::vector<int> lo(static_cast<size_t>(rows), cols), hi(static_cast<size_t>(rows), 0);
    for (const Entry& e : entries) {
      lo[static_cast<size_t>(e.row)] = std::min(lo[static_cast<size_t>(e.row)], e.col);
      hi[static_cast<size_t>(e.row)] = std::max(hi[static_cast<size_t>(e.row)], e.col + 1);
    }
    size_t total = 0;
    for (int r = 0; r < rows; ++r) {
      const size_t i = static_cast<size_t>(r);
      begin_[i] = hi[i] > lo[i] ? lo[i] : 0;
      size_[i] = std::max(0, hi[i] - lo[i]);
      offset_[i] = total;
      total += static_cast<size_t>(size_[i]);
    }
    values_.assign(total, 0.0f);
    for (const Entry& e : entries) {
      const size_t i = static_cast<size_t>(e.row);
      values_[offset_[i] + static_cast<size_t>(e.col - begin_[i])] += static_cast<float>(e.value);
    }
  }
  int rows() const { return static_cast<int>(begin_.size()); }
  int cols() const { return cols_; }
  // y (rows) = M x (cols).
  void Apply(const float* x, float* y) const {
    for (int r = 0, n = rows(); r < n; ++r) {
      const float* v = values_.data() + offset_[static_cast<size_t>(r)];
      const float* in = x + begin_[static_cast<size_t>(r)];
      float acc = 0.0f;
      for (int i = 0, len = size_[static_cast<size_t>(r)]; i < len; ++i) acc += v[i] * in[i];
      y[r] = acc;
    }
  }
  // g (cols) = M^T y (rows).
  void ApplyTranspose(const float* y, float* g) const {
    std::fill(g, g + cols_, 0.0f);
    for (int r = 0, n = rows(); r < n; ++r) {
      const float* v = values_.data() + offset_[static_cast<size_t>(r)];
      float* out = g + begin_[static_cast<size_t>(r)];
      const float yr = y[r];
      for (int i = 0, len = size_[static_cast<size_t>(r)]; i < len; ++i) out[i] += v[i] * yr;
    }
  }
  // Diagonal majoriser of M^T M for non-negative M, as step sizes:
  // 1 / sum_r M_rj (sum_l M_rl) (0 for an empty column).
  std::vector<float> Steps() const {
    std::vector<double> d(static_cast<size_t>(cols_), 0.0);
    for (int r = 0; r < rows(); ++r) {
      const float* v = values_.data() + offset_[static_cast<size_t>(r)];
      const int len = size_[static_cast<size_t>(r)];
      double row_sum = 0.0;
      for (int i = 0; i < len; ++i) row_sum += static_cast<double>(v[i]);
      for (int i = 0; i < len; ++i) d[static_cast<size_t>(begin_[static_cast<size_t>(r)] + i)] += static_cast<double>(v[i]) * row_sum;
    }
    std::vector<float> step(static_cast<size_t>(cols_), 0.0f);
    for (size_t j = 0; j < step.size(); ++j) step[j] = d[j] > 0.0 ? static_cast<float>(1.0 / d[j]) : 0.0f;
    return step;
  }

 private:
  int cols_;
  std::vector<int> begin_, size_;
  std::vector<size_t> offset_;
  std::vector<float> values_;
};

}  // namespace specinv

#endif  // SPECINV_CORE_SRC_INVERSION_BANDED_ROWS_H_
