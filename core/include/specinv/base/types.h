// Copyright specinv authors.
//
// Matrix types shared by the whole library.
//
// A spectrogram is a (bins, frames) matrix: rows are frequency bins
// (n_fft/2+1 for an STFT, n_mels for a mel spectrogram), columns are frames.
// Storage is column-major, so every frame is contiguous in memory. Tensors
// exchanged as .npy or over the API are (bins, frames) in C order unless a
// layout flag says otherwise; converting between the two is a transpose.

#ifndef SPECINV_TYPES_H_
#define SPECINV_TYPES_H_

#include <complex>
#include <cstdint>

#include <Eigen/Core>

namespace specinv {

// Real (bins, frames) matrix, frame-contiguous.
using RealMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
// Complex (bins, frames) matrix, frame-contiguous. std::complex<float> is
// layout-compatible with fftwf_complex.
using ComplexMatrix =
    Eigen::Matrix<std::complex<float>, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

}  // namespace specinv

#endif  // SPECINV_TYPES_H_
