// Copyright specinv authors.

#include "specinv/io/npy.h"

#include <bit>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/io/audio_io.h"
#include "testing/reference.h"

namespace specinv {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A .npy file with the given header dict text and raw data, header padded
// like NumPy does. `version` 1 or 2 selects the header length field width;
// other values are written as-is with a 2-byte length.
std::string MakeNpy(const std::string& dict, const std::string& data, int major = 1, int minor = 0) {
  const size_t prelude = major == 2 ? 12 : 10;
  std::string header = dict;
  header.append((64 - (prelude + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::string out = "\x93NUMPY";
  out.push_back(static_cast<char>(major));
  out.push_back(static_cast<char>(minor));
  const size_t len_bytes = major == 2 ? 4 : 2;
  for (size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFFu));
  return out + header + data;
}

std::string FloatData(const std::vector<float>& values) {
  std::string out;
  for (float v : values) {
    const auto bits = std::bit_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xFFu));
  }
  return out;
}

absl::StatusOr<NpyArray> Parse(const std::string& bytes) { return ParseNpy(AsBytes(bytes)); }
// The golden files made with NumPy include Fortran-order arrays.
absl::StatusOr<NpyArray> ParseGolden(const std::string& bytes) {
  NpyParseOptions options;
  options.allow_fortran_order = true;
  return ParseNpy(AsBytes(bytes), options);
}

void ExpectInvalid(const std::string& bytes, const std::string& message_part) {
  auto array = Parse(bytes);
  EXPECT_EQ(array.status().code(), absl::StatusCode::kInvalidArgument) << message_part;
  EXPECT_THAT(array.status().ToString(), HasSubstr(message_part));
}

// ----------------------------------------------------------------------------
// Round trips.

TEST(NpyRoundTripTest, Float32OneAndTwoD) {
  NpyArray a;
  a.shape = {2, 3};
  a.real = {0.5f, -1.25f, 3.0f, 1e-30f, -0.0f, 7.5e10f};
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto b = Parse(*bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, NpyDtype::kFloat32);
  EXPECT_THAT(b->shape, ElementsAre(2, 3));
  EXPECT_EQ(b->real, a.real);
  EXPECT_TRUE(b->complex.empty());
  EXPECT_EQ(b->num_elements(), 6);

  const std::vector<float> v = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
  auto vb = Parse(RealVectorToNpy(v));
  ASSERT_TRUE(vb.ok()) << vb.status();
  EXPECT_THAT(vb->shape, ElementsAre(5));
  auto back = NpyToRealVector(*vb);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, v);
}

TEST(NpyRoundTripTest, Float64) {
  NpyArray a;
  a.dtype = NpyDtype::kFloat64;
  a.shape = {4};
  a.real = {0.1f, -2.5f, 1e-40f, 3.4e38f};
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, HasSubstr("'descr': '<f8'"));
  auto b = Parse(*bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, NpyDtype::kFloat64);
  EXPECT_EQ(b->real, a.real);

  // A double that is not a float is rounded to the nearest float.
  std::string double_data;
  const auto bits = std::bit_cast<uint64_t>(0.1);
  for (int i = 0; i < 8; ++i) double_data.push_back(static_cast<char>((bits >> (8 * i)) & 0xFFu));
  auto c = Parse(MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", double_data));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->real, std::vector<float>{0.1f});
}

TEST(NpyRoundTripTest, Complex64) {
  NpyArray a;
  a.dtype = NpyDtype::kComplex64;
  a.shape = {3, 2};
  a.complex = {{1.0f, -1.0f}, {0.5f, 2.0f}, {0.0f, 0.0f}, {-3.0f, 1e-20f}, {7.0f, 8.0f}, {-0.25f, 0.125f}};
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, HasSubstr("'descr': '<c8'"));
  auto b = Parse(*bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->dtype, NpyDtype::kComplex64);
  EXPECT_TRUE(b->is_complex());
  EXPECT_THAT(b->shape, ElementsAre(3, 2));
  EXPECT_EQ(b->complex, a.complex);
  EXPECT_TRUE(b->real.empty());
}

TEST(NpyRoundTripTest, HeaderIsNumpyStyle) {
  NpyArray a;
  a.shape = {2, 3};
  a.real.assign(6, 1.0f);
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  const std::string expected_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(*bytes, MakeNpy(expected_dict, FloatData(a.real)));
  EXPECT_EQ((bytes->size() - 6 * 4) % 64, 0u);
  EXPECT_EQ((*bytes)[bytes->size() - 6 * 4 - 1], '\n');
}

TEST(NpyRoundTripTest, Version2Header) {
  auto array = Parse(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                             FloatData({1.5f, -2.5f}), 2));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->shape, ElementsAre(2));
  EXPECT_EQ(array->real, (std::vector<float>{1.5f, -2.5f}));
}

TEST(NpyRoundTripTest, FortranOrderIsRejectedByDefault) {
  const std::string fortran = MakeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                      FloatData({1, 4, 2, 5, 3, 6}));
  auto array = Parse(fortran);
  ASSERT_EQ(array.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(array.status().message()), HasSubstr("'fortran_order' is True for shape (2, 3)"));
  EXPECT_THAT(std::string(array.status().message()), HasSubstr("np.ascontiguousarray"));
}

TEST(NpyRoundTripTest, FortranOrderIsReorderedToCWhenAllowed) {
  // The (2, 3) array [[1, 2, 3], [4, 5, 6]] stored column by column.
  NpyParseOptions allow;
  allow.allow_fortran_order = true;
  auto array = ParseNpy(AsBytes(MakeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                        FloatData({1, 4, 2, 5, 3, 6}))),
                        allow);
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->shape, ElementsAre(2, 3));
  EXPECT_EQ(array->real, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // 1-D arrays are the same in both orders.
  auto vector = Parse(MakeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", FloatData({1, 2, 3})));
  ASSERT_TRUE(vector.ok()) << vector.status();
  EXPECT_EQ(vector->real, (std::vector<float>{1, 2, 3}));
}

TEST(NpyRoundTripTest, EmptyDimension) {
  NpyArray a;
  a.shape = {0, 5};
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto b = Parse(*bytes);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(b->shape, ElementsAre(0, 5));
  EXPECT_TRUE(b->real.empty());
}

// ----------------------------------------------------------------------------
// Matrices.

RealMatrix TestRealMatrix() {
  RealMatrix m(3, 4);  // 3 bins, 4 frames; value encodes (bin, frame)
  for (int b = 0; b < 3; ++b) {
    for (int f = 0; f < 4; ++f) m(b, f) = static_cast<float>(10 * b + f);
  }
  return m;
}

TEST(NpyMatrixTest, RealBinsFramesLayout) {
  const RealMatrix m = TestRealMatrix();
  auto array = Parse(RealMatrixToNpy(m, MatrixLayout::kBinsFrames));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->shape, ElementsAre(3, 4));
  // C order (bins, frames): frame index fastest.
  EXPECT_EQ(array->real, (std::vector<float>{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23}));
  auto back = NpyToRealMatrix(*array, MatrixLayout::kBinsFrames);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(NpyMatrixTest, RealFramesBinsLayout) {
  const RealMatrix m = TestRealMatrix();
  auto array = Parse(RealMatrixToNpy(m, MatrixLayout::kFramesBins));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_THAT(array->shape, ElementsAre(4, 3));
  // C order (frames, bins): bin index fastest.
  EXPECT_EQ(array->real, (std::vector<float>{0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23}));
  auto back = NpyToRealMatrix(*array, MatrixLayout::kFramesBins);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
  // Read with the other layout, the same file is the transpose.
  auto transposed = NpyToRealMatrix(*array, MatrixLayout::kBinsFrames);
  ASSERT_TRUE(transposed.ok()) << transposed.status();
  EXPECT_EQ(*transposed, m.transpose());
}

TEST(NpyMatrixTest, ComplexBothLayouts) {
  ComplexMatrix m(2, 3);
  for (int b = 0; b < 2; ++b) {
    for (int f = 0; f < 3; ++f) m(b, f) = {static_cast<float>(b), static_cast<float>(f) + 0.5f};
  }
  for (MatrixLayout layout : {MatrixLayout::kBinsFrames, MatrixLayout::kFramesBins}) {
    auto array = Parse(ComplexMatrixToNpy(m, layout));
    ASSERT_TRUE(array.ok()) << array.status();
    EXPECT_EQ(array->dtype, NpyDtype::kComplex64);
    if (layout == MatrixLayout::kBinsFrames) {
      EXPECT_THAT(array->shape, ElementsAre(2, 3));
      EXPECT_EQ(array->complex[1], m(0, 1));
    } else {
      EXPECT_THAT(array->shape, ElementsAre(3, 2));
      EXPECT_EQ(array->complex[1], m(1, 0));
    }
    auto back = NpyToComplexMatrix(*array, layout);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, m);
  }
}

TEST(NpyMatrixTest, Float64ToRealMatrix) {
  NpyArray a;
  a.dtype = NpyDtype::kFloat64;
  a.shape = {2, 2};
  a.real = {1.0f, 2.0f, 3.0f, 4.0f};
  auto bytes = SerializeNpy(a);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto array = Parse(*bytes);
  ASSERT_TRUE(array.ok()) << array.status();
  auto m = NpyToRealMatrix(*array, MatrixLayout::kBinsFrames);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)(0, 1), 2.0f);
  EXPECT_EQ((*m)(1, 0), 3.0f);
}

TEST(NpyMatrixTest, InvalidConversions) {
  NpyArray complex;
  complex.dtype = NpyDtype::kComplex64;
  complex.shape = {1, 2};
  complex.complex = {{1, 2}, {3, 4}};
  EXPECT_THAT(NpyToRealMatrix(complex, MatrixLayout::kBinsFrames).status().ToString(),
              HasSubstr("expected a real (float32/float64) array, got dtype '<c8'"));
  EXPECT_THAT(NpyToRealVector(complex).status().ToString(), HasSubstr("got dtype '<c8'"));
  NpyArray real;
  real.shape = {4};
  real.real = {1, 2, 3, 4};
  EXPECT_THAT(NpyToComplexMatrix(real, MatrixLayout::kBinsFrames).status().ToString(),
              HasSubstr("expected a complex64 array, got dtype '<f4'"));
  EXPECT_THAT(NpyToRealMatrix(real, MatrixLayout::kBinsFrames).status().ToString(),
              HasSubstr("expected a 2-D array, got shape (4,)"));
  real.shape = {2, 2};
  EXPECT_THAT(NpyToRealVector(real).status().ToString(), HasSubstr("expected a 1-D array, got shape (2, 2)"));
  real.shape = {3, 2};
  EXPECT_EQ(NpyToRealMatrix(real, MatrixLayout::kBinsFrames).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NpyMatrixTest, SerializeInvalidArray) {
  NpyArray a;
  a.shape = {2, 3};
  a.real = {1, 2, 3};
  auto mismatch = SerializeNpy(a);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mismatch.status().ToString(), HasSubstr("shape (2, 3) needs 6 elements but the array holds 3"));
  a.shape = {1, 1, 3};
  EXPECT_THAT(SerializeNpy(a).status().ToString(), HasSubstr("only 1-D and 2-D"));
  a.shape = {-1, -3};
  EXPECT_EQ(SerializeNpy(a).status().code(), absl::StatusCode::kInvalidArgument);
}

// ----------------------------------------------------------------------------
// Malformed files.

const char kGoodDict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";

TEST(NpyParseTest, ValidBaseline) {
  // The malformed cases below are all derived from this valid file.
  auto array = Parse(MakeNpy(kGoodDict, FloatData({1, 2})));
  ASSERT_TRUE(array.ok()) << array.status();
  EXPECT_EQ(array->real, (std::vector<float>{1, 2}));
  // Double quotes, no trailing comma, other key order, extra spaces.
  auto variant = Parse(MakeNpy("{ \"shape\" : ( 2 , ) , \"fortran_order\": False, \"descr\": \"<f4\"}",
                               FloatData({1, 2})));
  ASSERT_TRUE(variant.ok()) << variant.status();
  EXPECT_EQ(variant->real, (std::vector<float>{1, 2}));
}

TEST(NpyParseTest, BadMagic) {
  std::string bytes = MakeNpy(kGoodDict, FloatData({1, 2}));
  bytes[1] = 'M';
  ExpectInvalid(bytes, "not a .npy file: bad magic");
  ExpectInvalid("", "bad magic");
  ExpectInvalid("\x93NUM", "bad magic");
}

TEST(NpyParseTest, UnsupportedVersion) {
  ExpectInvalid(MakeNpy(kGoodDict, FloatData({1, 2}), 3, 0), "unsupported .npy format version 3.0 (supported: 1.0, 2.0)");
  ExpectInvalid(MakeNpy(kGoodDict, FloatData({1, 2}), 1, 1), "unsupported .npy format version 1.1");
  ExpectInvalid(MakeNpy(kGoodDict, FloatData({1, 2}), 0, 0), "unsupported .npy format version 0.0");
  ExpectInvalid(std::string("\x93NUMPY\x01", 7), "missing the format version");
}

TEST(NpyParseTest, TruncatedHeader) {
  const std::string bytes = MakeNpy(kGoodDict, "");
  ExpectInvalid(bytes.substr(0, 9), "missing the header length");
  ExpectInvalid(bytes.substr(0, 40), "truncated .npy header: it declares 118 bytes but only 30 follow");
}

TEST(NpyParseTest, HeaderNotDict) {
  ExpectInvalid(MakeNpy("[1, 2, 3]", FloatData({1, 2})), "malformed .npy header: expected a Python dict literal");
  ExpectInvalid(MakeNpy("{'descr' '<f4'}", FloatData({1, 2})), "expected ':' after key 'descr'");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", FloatData({1, 2})),
                "unexpected text after the dict");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", FloatData({1, 2})),
                "expected ',' or '}'");
}

TEST(NpyParseTest, MissingOrUnexpectedKeys) {
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, }", FloatData({1, 2})),
                "malformed .npy header: missing key 'shape'");
  ExpectInvalid(MakeNpy("{'fortran_order': False, 'shape': (2,), }", FloatData({1, 2})), "missing key 'descr'");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'shape': (2,), }", FloatData({1, 2})), "missing key 'fortran_order'");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': True}", FloatData({1, 2})),
                "unexpected key 'extra'");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", FloatData({1, 2})),
                "duplicate key 'descr'");
}

TEST(NpyParseTest, BadValueTypes) {
  ExpectInvalid(MakeNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", FloatData({1, 2})),
                "unsupported value for key 'descr'");
  ExpectInvalid(MakeNpy("{'descr': True, 'fortran_order': False, 'shape': (2,)}", FloatData({1, 2})),
                "'descr' must be a string");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2,)}", FloatData({1, 2})),
                "'fortran_order' must be True or False");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': '2'}", FloatData({1, 2})),
                "'shape' must be a tuple");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", FloatData({1, 2})),
                "expected a non-negative integer in the tuple for key 'shape'");
}

TEST(NpyParseTest, UnknownDtype) {
  for (const char* descr : {"<i4", ">f4", "<f2", "|b1", "<c16", "float32"}) {
    ExpectInvalid(MakeNpy(std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (2,), }",
                          FloatData({1, 2})),
                  std::string("unsupported .npy dtype '") + descr + "' (supported: '<f4', '<f8', '<c8'");
  }
}

TEST(NpyParseTest, UnsupportedRank) {
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }", FloatData({1, 2})),
                "only 1-D and 2-D .npy arrays are supported, got shape (1, 1, 2) (3-D)");
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", FloatData({1})),
                "got shape () (0-D)");
}

TEST(NpyParseTest, TruncatedData) {
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", FloatData({1, 2, 3})),
                "truncated .npy data: shape (3, 4) of '<f4' needs 48 bytes, got 12");
  ExpectInvalid(MakeNpy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", FloatData({1, 2, 3})),
                "truncated .npy data: shape (2,) of '<c8' needs 16 bytes, got 12");
  // A shape whose byte count overflows 64 bits is also truncated, not a crash.
  ExpectInvalid(
      MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", FloatData({1, 2})),
      "needs more than 2^63 bytes");
}

TEST(NpyParseTest, ShapeDataSizeMismatch) {
  ExpectInvalid(MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", FloatData({1, 2, 3})),
                "shape/data size mismatch: shape (2,) of '<f4' needs 8 bytes, but 12 data bytes follow the header");
}

// ----------------------------------------------------------------------------
// Golden data written by NumPy.

TEST(NpyReferenceTest, ManifestFilesParseWithManifestShape) {
  const auto cases = testing::LoadReferenceCases();
  ASSERT_FALSE(cases.empty());
  int complex_cases = 0;
  for (const auto& c : cases) {
    auto bytes = ReadFileBytes(testing::ReferenceDir() + "/" + c.output);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto array = ParseGolden(*bytes);
    ASSERT_TRUE(array.ok()) << c.name << ": " << array.status();
    EXPECT_EQ(array->shape, c.shape) << c.name;
    if (c.kind == "stft_complex") {
      ++complex_cases;
      EXPECT_EQ(array->dtype, NpyDtype::kComplex64) << c.name;
      EXPECT_EQ(static_cast<int64_t>(array->complex.size()), array->num_elements()) << c.name;
    } else {
      EXPECT_EQ(array->dtype, NpyDtype::kFloat32) << c.name;
      EXPECT_EQ(static_cast<int64_t>(array->real.size()), array->num_elements()) << c.name;
    }
  }
  EXPECT_GT(complex_cases, 0);
}

TEST(NpyReferenceTest, COrderFilesReserializeByteIdentical) {
  // The float32 mel filterbank and the 1-D signal are C order in the golden
  // data; our writer must reproduce NumPy's bytes exactly.
  for (const std::string path : {"cases/melfb_0.npy", "signals/chirp22k.npy"}) {
    auto bytes = ReadFileBytes(testing::ReferenceDir() + "/" + path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_THAT(*bytes, HasSubstr("'fortran_order': False")) << path;
    auto array = ParseGolden(*bytes);
    ASSERT_TRUE(array.ok()) << path << ": " << array.status();
    auto again = SerializeNpy(*array);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(*again == *bytes) << path;
  }
}

TEST(NpyReferenceTest, StftCaseMatchesDirectDft) {
  // stft_chirp22k_0 was saved by NumPy in Fortran order. Check the orientation
  // of the parsed matrix against a direct DFT of a few frames of the signal:
  // librosa.stft(n_fft=2048, hop=512, periodic Hann, center, zero padding).
  ComplexMatrix ref;
  for (const auto& c : testing::LoadReferenceCases("stft_complex")) {
    if (c.name != "stft_chirp22k_0") continue;
    auto bytes = ReadFileBytes(testing::ReferenceDir() + "/" + c.output);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_THAT(*bytes, HasSubstr("'fortran_order': True"));
    auto array = ParseGolden(*bytes);
    ASSERT_TRUE(array.ok()) << array.status();
    auto m = NpyToComplexMatrix(*array, MatrixLayout::kBinsFrames);
    ASSERT_TRUE(m.ok()) << m.status();
    ref = *std::move(m);
  }
  ASSERT_EQ(ref.rows(), 1025);
  ASSERT_EQ(ref.cols(), 87);
  double sample_rate = 0;
  const std::vector<float> y = testing::LoadReferenceSignal("chirp22k", &sample_rate);
  ASSERT_EQ(y.size(), 44100u);
  const int n_fft = 2048;
  const int hop = 512;
  const double tolerance = 1e-4 + 1e-4 * static_cast<double>(ref.cwiseAbs().maxCoeff());
  for (int frame : {0, 1, 40, 86}) {
    for (int bin : {0, 5, 100, 700, 1024}) {
      std::complex<double> sum = 0.0;
      for (int n = 0; n < n_fft; ++n) {
        const int64_t t = static_cast<int64_t>(frame) * hop + n - n_fft / 2;
        if (t < 0 || t >= static_cast<int64_t>(y.size())) continue;
        const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * n / n_fft);
        const double angle = -2.0 * std::numbers::pi * static_cast<double>(bin) * n / n_fft;
        sum += w * static_cast<double>(y[static_cast<size_t>(t)]) * std::polar(1.0, angle);
      }
      const std::complex<double> got(ref(bin, frame).real(), ref(bin, frame).imag());
      EXPECT_LE(std::abs(got - sum), tolerance) << "bin " << bin << " frame " << frame;
    }
  }
}

}  // namespace
}  // namespace specinv
