// Copyright specinv authors.
//
// Access to the librosa 0.10.1 golden data in tests/data/librosa (override
// with the SPECINV_REFERENCE_DIR environment variable). Missing data is a test
// failure, never a skip: the reference cases are the floor of correctness.

#ifndef SPECINV_TESTS_TESTING_REFERENCE_H_
#define SPECINV_TESTS_TESTING_REFERENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "specinv/inversion/inversion.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/io/npy.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"

namespace specinv::testing {

struct ReferenceCase {
  std::string name;
  std::string kind;
  nlohmann::json params;
  nlohmann::json inputs;
  nlohmann::json tolerance;
  std::string output;  // path relative to the reference directory
  std::vector<int64_t> shape;
};

std::string ReferenceDir();
// All cases in manifest.json, in file order (empty, with a test failure, if unreadable).
std::vector<ReferenceCase> LoadReferenceCases();
// The cases of one kind.
std::vector<ReferenceCase> LoadReferenceCases(const std::string& kind);
// Loads a .npy file relative to the reference directory (fails the test if unreadable).
NpyArray LoadReferenceNpy(const std::string& relative_path);
// A 2-D (bins, frames) array as a RealMatrix / ComplexMatrix.
RealMatrix LoadReferenceMatrix(const std::string& relative_path);
ComplexMatrix LoadReferenceComplexMatrix(const std::string& relative_path);
// A 1-D float32 array.
std::vector<float> LoadReferenceVector(const std::string& relative_path);
// A reference signal by name ("chirp22k", "speech22k", "speech16k"); sets *sample_rate.
std::vector<float> LoadReferenceSignal(const std::string& name, double* sample_rate);
// StftOptions / MelOptions from a case's librosa params (win_length null = n_fft,
// fmax null = sr/2, htk bool, norm "slaney" or null).
StftOptions StftOptionsFromParams(const nlohmann::json& params);
MelOptions MelOptionsFromParams(const nlohmann::json& params);
// A griffinlim case's inversion: gl (momentum 0) or fgla, n_iter iterations,
// zero initial phase (librosa init=None), the case's output length.
InversionOptions GriffinLimOptionsFromParams(const nlohmann::json& params);
// The output file of the named case (fails the test if there is none).
std::string ReferenceOutputOf(const std::string& case_name);
// Reads a whole file (empty string with a test failure if unreadable).
std::string ReadFileOrFail(const std::string& path);

}  // namespace specinv::testing

#endif  // SPECINV_TESTS_TESTING_REFERENCE_H_
