// Copyright specinv authors.
//
// NumPy .npy reading and writing (format versions 1.0 and 2.0), in memory.
//
// Supported arrays: little-endian float32 ('<f4'), float64 ('<f8', converted
// to float32 on read) and complex64 ('<c8'); 1-D or 2-D, C order. A 2-D array
// saved with fortran_order True (np.save keeps the column-major layout of
// e.g. a transposed array or librosa.stft output) is rejected unless
// NpyParseOptions::allow_fortran_order is set, in which case it is reordered
// to C order on read; NpyArray is always C order. (1-D arrays are the same in
// both orders.) Everything else is rejected with a precise
// InvalidArgument: bad magic, versions other than 1.0 / 2.0, a header that is
// not a dict with exactly the keys 'descr', 'fortran_order' and 'shape',
// other dtypes (e.g. '<i4', '>f4'), other ranks, fewer data bytes than the
// shape needs ("truncated"), or trailing bytes after the data ("size
// mismatch").
//
// Spectrogram conversion: RealMatrix / ComplexMatrix (types.h) are
// column-major (bins, frames). MatrixLayout says how the 2-D .npy array is
// oriented: kBinsFrames = shape (bins, frames) (librosa's convention, the
// default for the API), kFramesBins = shape (frames, bins) (common in
// vocoder code). A C-order (frames, bins) array has the same memory layout as
// the column-major matrix; (bins, frames) needs a transpose copy.
//
// Writers always emit C order, version 1.0, with the header NumPy itself
// writes (padded to a multiple of 64 bytes), so np.load reads them. All functions are pure and thread-safe.

#ifndef SPECINV_NPY_H_
#define SPECINV_NPY_H_

#include <complex>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/base/types.h"

namespace specinv {

enum class NpyDtype {
  kFloat32,    // '<f4'
  kFloat64,    // '<f8' (held as float32 in memory)
  kComplex64,  // '<c8'
};

// An in-memory array. Elements are in C order (last index fastest).
// Real dtypes fill `real`, complex64 fills `complex`; the other vector is
// empty. The element count must equal the product of `shape`.
struct NpyArray {
  std::vector<int64_t> shape;
  NpyDtype dtype = NpyDtype::kFloat32;
  std::vector<float> real;
  std::vector<std::complex<float>> complex;

  bool is_complex() const { return dtype == NpyDtype::kComplex64; }
  // Product of shape (1 for an empty shape).
  int64_t num_elements() const;
};

enum class MatrixLayout {
  kBinsFrames,  // .npy shape (bins, frames)
  kFramesBins,  // .npy shape (frames, bins)
};

struct NpyParseOptions {
  // Accept 2-D fortran_order True arrays (reordered to C order). Off by
  // default: the API takes C-order arrays; callers reading files written by
  // other tools (e.g. test fixtures made with librosa) opt in.
  bool allow_fortran_order = false;
};

// Parses a complete .npy file into a C-order array.
absl::StatusOr<NpyArray> ParseNpy(std::span<const uint8_t> bytes, const NpyParseOptions& options = {});

// Serialises `array` (dtype kFloat64 writes '<f8', widening the floats).
// InvalidArgument if the shape is not 1-D / 2-D, has a negative dimension, or
// does not match the size of the vector selected by dtype.
absl::StatusOr<std::string> SerializeNpy(const NpyArray& array);

// 2-D real (float32/float64) array -> (bins, frames) matrix.
absl::StatusOr<RealMatrix> NpyToRealMatrix(const NpyArray& array, MatrixLayout layout);
// 2-D complex64 array -> (bins, frames) matrix.
absl::StatusOr<ComplexMatrix> NpyToComplexMatrix(const NpyArray& array, MatrixLayout layout);
// 1-D real array -> samples.
absl::StatusOr<std::vector<float>> NpyToRealVector(const NpyArray& array);

// (bins, frames) matrix -> float32 / complex64 .npy bytes in `layout`.
std::string RealMatrixToNpy(const RealMatrix& matrix, MatrixLayout layout);
std::string ComplexMatrixToNpy(const ComplexMatrix& matrix, MatrixLayout layout);
// Samples -> 1-D float32 .npy bytes.
std::string RealVectorToNpy(std::span<const float> samples);

}  // namespace specinv

#endif  // SPECINV_NPY_H_
