// Copyright specinv authors.
//
// Request tensors -> core matrices (server/conversion.h): real and complex
// spectrograms in both layouts and encodings, and the errors naming the field.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <complex>
#include <limits>
#include <cstring>
#include <string>

#include "server/conversion.h"
#include "server/status_mapping.h"
#include "specinv/io/npy.h"

namespace specinv::server {
namespace {

using ::testing::HasSubstr;

// (bins 3, frames 2) with distinct values.
RealMatrix Real() {
  RealMatrix m(3, 2);
  m << 1, 2, 3, 4, 5, 6;
  return m;
}

ComplexMatrix Complex() {
  ComplexMatrix m(3, 2);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = {static_cast<float>(i), -0.5f * static_cast<float>(i)};
  return m;
}

// C-order float32 bytes of `m` in `layout` (complex: real, imaginary pairs).
template <typename Matrix>
v1::Tensor Float32Tensor(const Matrix& m, v1::TensorLayout layout) {
  using Scalar = typename Matrix::Scalar;
  const bool frames_bins = layout == v1::TENSOR_LAYOUT_FRAMES_BINS;
  const Eigen::Index d0 = frames_bins ? m.cols() : m.rows(), d1 = frames_bins ? m.rows() : m.cols();
  std::string bytes;
  for (Eigen::Index i = 0; i < d0; ++i) {
    for (Eigen::Index j = 0; j < d1; ++j) {
      const Scalar v = frames_bins ? m(j, i) : m(i, j);
      bytes.append(reinterpret_cast<const char*>(&v), sizeof(Scalar));
    }
  }
  v1::Tensor t;
  t.set_layout(layout);
  t.add_shape(d0);
  t.add_shape(d1);
  if (sizeof(Scalar) == 8) t.add_shape(2);
  t.set_float32_data(bytes);
  return t;
}

TEST(TensorConversionTest, BothLayoutsAndEncodingsGiveTheSameMatrix) {
  for (v1::TensorLayout layout : {v1::TENSOR_LAYOUT_BINS_FRAMES, v1::TENSOR_LAYOUT_FRAMES_BINS}) {
    SCOPED_TRACE(layout);
    const MatrixLayout npy_layout =
        layout == v1::TENSOR_LAYOUT_FRAMES_BINS ? MatrixLayout::kFramesBins : MatrixLayout::kBinsFrames;
    EXPECT_EQ(TensorToRealMatrix(Float32Tensor(Real(), layout), "magnitude").value(), Real());
    EXPECT_EQ(TensorToComplexMatrix(Float32Tensor(Complex(), layout), "spectrogram").value(), Complex());
    v1::Tensor real_npy, complex_npy;
    real_npy.set_layout(layout);
    real_npy.set_npy_data(RealMatrixToNpy(Real(), npy_layout));
    complex_npy.set_layout(layout);
    complex_npy.set_npy_data(ComplexMatrixToNpy(Complex(), npy_layout));
    EXPECT_EQ(TensorToRealMatrix(real_npy, "magnitude").value(), Real());
    EXPECT_EQ(TensorToComplexMatrix(complex_npy, "spectrogram").value(), Complex());
  }
}

TEST(TensorConversionTest, ShapeAndBytesMustAgree) {
  v1::Tensor real = Float32Tensor(Real(), v1::TENSOR_LAYOUT_BINS_FRAMES);
  real.set_shape(1, 3);
  absl::Status s = TensorToRealMatrix(real, "magnitude").status();
  EXPECT_EQ(FieldOf(s), "magnitude.float32_data");
  EXPECT_THAT(s.message(), HasSubstr("has 24 bytes; shape [3, 3] needs 36"));

  v1::Tensor complex = Float32Tensor(Complex(), v1::TENSOR_LAYOUT_BINS_FRAMES);
  complex.set_shape(1, 3);
  s = TensorToComplexMatrix(complex, "spectrogram").status();
  EXPECT_EQ(FieldOf(s), "spectrogram.float32_data");
  EXPECT_THAT(s.message(), HasSubstr("has 48 bytes; shape [3, 3, 2] needs 72"));

  complex.mutable_shape()->RemoveLast();  // (3, 3): no trailing 2
  s = TensorToComplexMatrix(complex, "spectrogram").status();
  EXPECT_EQ(FieldOf(s), "spectrogram.shape");
  EXPECT_THAT(s.message(), HasSubstr("must be (bins, frames, 2) for a complex spectrogram"));
}

// The .npy file's shape rules for real and complex tensors alike.
TEST(TensorConversionTest, NpyShapeMustMatchTheFile) {
  v1::Tensor real;
  real.set_npy_data(RealMatrixToNpy(Real(), MatrixLayout::kBinsFrames));
  real.add_shape(2);
  real.add_shape(3);
  absl::Status s = TensorToRealMatrix(real, "magnitude").status();
  EXPECT_EQ(FieldOf(s), "magnitude.shape");
  EXPECT_THAT(s.message(), HasSubstr("is [2, 3] but the .npy array has shape [3, 2]"));

  v1::Tensor complex;
  complex.set_npy_data(ComplexMatrixToNpy(Complex(), MatrixLayout::kBinsFrames));
  complex.add_shape(2);
  complex.add_shape(3);
  s = TensorToComplexMatrix(complex, "spectrogram").status();
  EXPECT_EQ(FieldOf(s), "spectrogram.shape");
  EXPECT_THAT(s.message(), HasSubstr("is [2, 3] but the .npy array has shape [3, 2]"));
}

TEST(TensorConversionTest, NpyMustHoldTheRightKind) {
  v1::Tensor complex_file;
  complex_file.set_npy_data(ComplexMatrixToNpy(Complex(), MatrixLayout::kBinsFrames));
  absl::Status s = TensorToRealMatrix(complex_file, "magnitude").status();
  EXPECT_EQ(FieldOf(s), "magnitude.npy_data");
  EXPECT_THAT(s.message(), HasSubstr("holds a complex array"));

  v1::Tensor real_file;
  real_file.set_npy_data(RealMatrixToNpy(Real(), MatrixLayout::kBinsFrames));
  s = TensorToComplexMatrix(real_file, "spectrogram").status();
  EXPECT_EQ(FieldOf(s), "spectrogram.npy_data");
  EXPECT_THAT(s.message(), HasSubstr("holds a real array"));
}

TEST(TensorConversionTest, NonFiniteValuesAreRefused) {
  RealMatrix real = Real();
  real(2, 1) = std::numeric_limits<float>::quiet_NaN();
  absl::Status s = TensorToRealMatrix(Float32Tensor(real, v1::TENSOR_LAYOUT_BINS_FRAMES), "magnitude").status();
  EXPECT_EQ(FieldOf(s), "magnitude");
  EXPECT_THAT(s.message(), HasSubstr("NaN at bin 2, frame 1"));

  ComplexMatrix complex = Complex();
  complex(1, 0) = {0.0f, std::numeric_limits<float>::infinity()};
  s = TensorToComplexMatrix(Float32Tensor(complex, v1::TENSOR_LAYOUT_FRAMES_BINS), "spectrogram").status();
  EXPECT_EQ(FieldOf(s), "spectrogram");
  EXPECT_THAT(s.message(), HasSubstr("non-finite value at bin 1, frame 0"));
}

}  // namespace
}  // namespace specinv::server
