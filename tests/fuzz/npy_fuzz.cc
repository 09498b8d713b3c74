// Copyright specinv authors.
//
// libFuzzer target: the .npy reader and its matrix conversions must return a
// status for any input, never crash, hang or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <span>

#include "specinv/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto array = specinv::ParseNpy(std::span<const uint8_t>(data, size));
  if (!array.ok()) return 0;
  if (array->is_complex()) {
    auto m = specinv::NpyToComplexMatrix(*array, specinv::MatrixLayout::kBinsFrames);
    if (m.ok()) (void)specinv::ComplexMatrixToNpy(*m, specinv::MatrixLayout::kFramesBins);
  } else {
    auto m = specinv::NpyToRealMatrix(*array, specinv::MatrixLayout::kFramesBins);
    if (m.ok()) (void)specinv::RealMatrixToNpy(*m, specinv::MatrixLayout::kBinsFrames);
    (void)specinv::NpyToRealVector(*array);
  }
  (void)specinv::SerializeNpy(*array);
  return 0;
}
