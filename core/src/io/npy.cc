// Copyright specinv authors.

#include "specinv/io/npy.h"

#include <bit>
#include <cctype>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace specinv {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
constexpr size_t kPreludeV1 = kMagicSize + 2 + 2;  // magic, version, uint16 header length
constexpr size_t kPreludeV2 = kMagicSize + 2 + 4;  // magic, version, uint32 header length

const char* DtypeDescr(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat32:
      return "<f4";
    case NpyDtype::kFloat64:
      return "<f8";
    case NpyDtype::kComplex64:
      return "<c8";
  }
  return "?";
}

size_t DtypeSize(NpyDtype dtype) { return dtype == NpyDtype::kFloat32 ? 4 : 8; }

std::string ShapeString(std::span<const int64_t> shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

uint64_t LoadLe64(const uint8_t* p) {
  return static_cast<uint64_t>(LoadLe32(p)) | (static_cast<uint64_t>(LoadLe32(p + 4)) << 32);
}

void AppendLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

void AppendLe64(std::string& out, uint64_t v) {
  AppendLe32(out, static_cast<uint32_t>(v & 0xFFFFFFFFu));
  AppendLe32(out, static_cast<uint32_t>(v >> 32));
}

absl::Status HeaderError(const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed .npy header: ", what));
}

// ---------------------------------------------------------------------------
// Parser for the header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// Values may be strings, True/False or tuples of non-negative integers.

struct HeaderValue {
  enum class Kind { kString, kBool, kTuple } kind = Kind::kString;
  std::string text;
  bool boolean = false;
  std::vector<int64_t> tuple;
};

class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  absl::StatusOr<std::map<std::string, HeaderValue>> ParseDict() {
    SkipSpace();
    if (!Consume('{')) {
      return HeaderError(absl::StrCat("expected a Python dict literal starting with '{', got '",
                                      Excerpt(), "'"));
    }
    std::map<std::string, HeaderValue> dict;
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      auto key = ParseString();
      if (!key.ok()) return HeaderError(absl::StrCat("expected a quoted key at '", Excerpt(), "'"));
      SkipSpace();
      if (!Consume(':')) return HeaderError(absl::StrCat("expected ':' after key '", *key, "'"));
      auto value = ParseValue(*key);
      if (!value.ok()) return value.status();
      if (!dict.emplace(*key, *std::move(value)).second) {
        return HeaderError(absl::StrCat("duplicate key '", *key, "'"));
      }
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume('}')) break;
      return HeaderError(absl::StrCat("expected ',' or '}' at '", Excerpt(), "'"));
    }
    SkipSpace();
    if (pos_ != text_.size()) {
      return HeaderError(absl::StrCat("unexpected text after the dict: '", Excerpt(), "'"));
    }
    return dict;
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) == word) {
      pos_ += word.size();
      return true;
    }
    return false;
  }
  std::string Excerpt() const {
    const std::string_view rest = text_.substr(std::min(pos_, text_.size()), 24);
    std::string out;
    for (char c : rest) out.push_back(std::isprint(static_cast<unsigned char>(c)) != 0 ? c : '?');
    return out;
  }

  absl::StatusOr<std::string> ParseString() {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return absl::InvalidArgumentError("not a string");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return absl::InvalidArgumentError("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  absl::StatusOr<HeaderValue> ParseValue(const std::string& key) {
    SkipSpace();
    HeaderValue value;
    if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"')) {
      auto s = ParseString();
      if (!s.ok()) return HeaderError(absl::StrCat("unterminated string for key '", key, "'"));
      value.kind = HeaderValue::Kind::kString;
      value.text = *std::move(s);
      return value;
    }
    if (ConsumeWord("True")) {
      value.kind = HeaderValue::Kind::kBool;
      value.boolean = true;
      return value;
    }
    if (ConsumeWord("False")) {
      value.kind = HeaderValue::Kind::kBool;
      value.boolean = false;
      return value;
    }
    if (Consume('(')) {
      value.kind = HeaderValue::Kind::kTuple;
      while (true) {
        SkipSpace();
        if (Consume(')')) return value;
        auto number = ParseNonNegativeInt();
        if (!number.has_value()) {
          return HeaderError(absl::StrCat("expected a non-negative integer in the tuple for key '", key,
                                          "' at '", Excerpt(), "'"));
        }
        value.tuple.push_back(*number);
        SkipSpace();
        if (Consume(',')) continue;
        SkipSpace();
        if (Consume(')')) return value;
        return HeaderError(absl::StrCat("expected ',' or ')' in the tuple for key '", key, "'"));
      }
    }
    return HeaderError(absl::StrCat("unsupported value for key '", key, "' at '", Excerpt(),
                                    "' (expected a string, True/False or a tuple)"));
  }

  std::optional<int64_t> ParseNonNegativeInt() {
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0) {
      const int digit = text_[pos_] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) return std::nullopt;
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    ConsumeWord("L");  // Python 2 long suffix
    return v;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

absl::Status CheckShape(std::span<const int64_t> shape) {
  if (shape.size() != 1 && shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("only 1-D and 2-D .npy arrays are supported, got shape ",
                                                   ShapeString(shape), " (", shape.size(), "-D)"));
  }
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeString(shape), " has a negative dimension"));
    }
  }
  return absl::OkStatus();
}

// Product of dims, or nullopt on overflow.
std::optional<int64_t> CountElements(std::span<const int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    count *= d;
  }
  return count;
}

template <typename Matrix>
using RowMajorOf = Eigen::Matrix<typename Matrix::Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

absl::Status CheckMatrixShape(const NpyArray& array, bool want_complex) {
  if (want_complex != array.is_complex()) {
    return absl::InvalidArgumentError(absl::StrCat("expected a ", want_complex ? "complex64" : "real (float32/float64)",
                                                   " array, got dtype '", DtypeDescr(array.dtype), "'"));
  }
  if (array.shape.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a 2-D array, got shape ", ShapeString(array.shape)));
  }
  const auto count = CountElements(array.shape);
  const size_t have = want_complex ? array.complex.size() : array.real.size();
  if (!count.has_value() || array.shape[0] < 0 || array.shape[1] < 0 || static_cast<size_t>(*count) != have) {
    return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeString(array.shape), " does not match the ",
                                                   have, " elements held"));
  }
  return absl::OkStatus();
}

template <typename Matrix, typename Scalar>
Matrix ToMatrix(const std::vector<Scalar>& data, const std::vector<int64_t>& shape, MatrixLayout layout) {
  if (layout == MatrixLayout::kFramesBins) {
    // C-order (frames, bins) == column-major (bins, frames).
    return Eigen::Map<const Matrix>(data.data(), shape[1], shape[0]);
  }
  return Eigen::Map<const RowMajorOf<Matrix>>(data.data(), shape[0], shape[1]);
}

// Column-major (rows, cols) data -> row-major.
template <typename T>
std::vector<T> FortranToC(const std::vector<T>& data, int64_t rows, int64_t cols) {
  using Map = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>>;
  std::vector<T> out(data.size());
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(out.data(), rows, cols) =
      Map(data.data(), rows, cols);
  return out;
}

std::string MakeHeader(NpyDtype dtype, std::span<const int64_t> shape) {
  std::string dict = absl::StrCat("{'descr': '", DtypeDescr(dtype), "', 'fortran_order': False, 'shape': ",
                                  ShapeString(shape), ", }");
  // Pad with spaces so that magic + version + length + header is a multiple
  // of 64 bytes, ending in '\n'.
  const size_t unpadded = kPreludeV1 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicSize);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(dict.size() & 0xFFu));
  out.push_back(static_cast<char>((dict.size() >> 8) & 0xFFu));
  out += dict;
  return out;
}

void AppendFloats(std::string& out, std::span<const float> values) {
  for (float v : values) AppendLe32(out, std::bit_cast<uint32_t>(v));
}

void AppendComplex(std::string& out, std::span<const std::complex<float>> values) {
  for (const std::complex<float>& v : values) {
    AppendLe32(out, std::bit_cast<uint32_t>(v.real()));
    AppendLe32(out, std::bit_cast<uint32_t>(v.imag()));
  }
}

}  // namespace

int64_t NpyArray::num_elements() const { return CountElements(shape).value_or(-1); }

absl::StatusOr<NpyArray> ParseNpy(std::span<const uint8_t> bytes, const NpyParseOptions& options) {
  if (bytes.size() < kMagicSize || std::memcmp(bytes.data(), kMagic, kMagicSize) != 0) {
    return absl::InvalidArgumentError("not a .npy file: bad magic (expected \\x93NUMPY)");
  }
  if (bytes.size() < kMagicSize + 2) {
    return absl::InvalidArgumentError("truncated .npy file: missing the format version");
  }
  const int major = bytes[kMagicSize];
  const int minor = bytes[kMagicSize + 1];
  if ((major != 1 && major != 2) || minor != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported .npy format version %d.%d (supported: 1.0, 2.0)", major, minor));
  }
  const size_t prelude = major == 1 ? kPreludeV1 : kPreludeV2;
  if (bytes.size() < prelude) {
    return absl::InvalidArgumentError("truncated .npy file: missing the header length");
  }
  const size_t header_len = major == 1 ? (static_cast<size_t>(bytes[8]) | (static_cast<size_t>(bytes[9]) << 8))
                                       : static_cast<size_t>(LoadLe32(bytes.data() + 8));
  if (header_len > bytes.size() - prelude) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "truncated .npy header: it declares %d bytes but only %d follow", header_len, bytes.size() - prelude));
  }
  const std::string_view header(reinterpret_cast<const char*>(bytes.data() + prelude), header_len);
  auto dict = HeaderParser(header).ParseDict();
  if (!dict.ok()) return dict.status();

  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (!dict->contains(key)) return HeaderError(absl::StrCat("missing key '", key, "'"));
  }
  for (const auto& [key, value] : *dict) {
    if (key != "descr" && key != "fortran_order" && key != "shape") {
      return HeaderError(absl::StrCat("unexpected key '", key, "' (expected exactly descr, fortran_order, shape)"));
    }
  }
  const HeaderValue& descr = dict->at("descr");
  const HeaderValue& fortran = dict->at("fortran_order");
  const HeaderValue& shape_value = dict->at("shape");
  if (descr.kind != HeaderValue::Kind::kString) return HeaderError("'descr' must be a string");
  if (fortran.kind != HeaderValue::Kind::kBool) return HeaderError("'fortran_order' must be True or False");
  if (shape_value.kind != HeaderValue::Kind::kTuple) return HeaderError("'shape' must be a tuple");

  NpyArray array;
  if (descr.text == "<f4") {
    array.dtype = NpyDtype::kFloat32;
  } else if (descr.text == "<f8") {
    array.dtype = NpyDtype::kFloat64;
  } else if (descr.text == "<c8") {
    array.dtype = NpyDtype::kComplex64;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unsupported .npy dtype '", descr.text,
                                                   "' (supported: '<f4', '<f8', '<c8'; little-endian only)"));
  }
  array.shape = shape_value.tuple;
  if (auto status = CheckShape(array.shape); !status.ok()) return status;
  if (fortran.boolean && array.shape.size() == 2 && !options.allow_fortran_order) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unsupported .npy layout: 'fortran_order' is True for shape ", ShapeString(array.shape),
        " (column-major data); save a C-order array, e.g. np.save(path, np.ascontiguousarray(x))"));
  }

  const size_t item = DtypeSize(array.dtype);
  const size_t available = bytes.size() - prelude - header_len;
  const auto count = CountElements(array.shape);
  const auto max_count = static_cast<int64_t>(std::numeric_limits<int64_t>::max() / static_cast<int64_t>(item));
  if (!count.has_value() || *count > max_count || static_cast<uint64_t>(*count) * item > available) {
    return absl::InvalidArgumentError(absl::StrCat("truncated .npy data: shape ", ShapeString(array.shape), " of '",
                                                   descr.text, "' needs ",
                                                   count.has_value() && *count <= max_count
                                                       ? absl::StrCat(static_cast<uint64_t>(*count) * item)
                                                       : std::string("more than 2^63"),
                                                   " bytes, got ", available));
  }
  const auto n = static_cast<size_t>(*count);
  if (n * item != available) {
    return absl::InvalidArgumentError(absl::StrCat("shape/data size mismatch: shape ", ShapeString(array.shape),
                                                   " of '", descr.text, "' needs ", n * item, " bytes, but ",
                                                   available, " data bytes follow the header"));
  }

  const uint8_t* data = bytes.data() + prelude + header_len;
  switch (array.dtype) {
    case NpyDtype::kFloat32:
      array.real.resize(n);
      for (size_t i = 0; i < n; ++i) array.real[i] = std::bit_cast<float>(LoadLe32(data + 4 * i));
      break;
    case NpyDtype::kFloat64:
      array.real.resize(n);
      for (size_t i = 0; i < n; ++i) {
        array.real[i] = static_cast<float>(std::bit_cast<double>(LoadLe64(data + 8 * i)));
      }
      break;
    case NpyDtype::kComplex64:
      array.complex.resize(n);
      for (size_t i = 0; i < n; ++i) {
        array.complex[i] = {std::bit_cast<float>(LoadLe32(data + 8 * i)),
                            std::bit_cast<float>(LoadLe32(data + 8 * i + 4))};
      }
      break;
  }
  if (fortran.boolean && array.shape.size() == 2) {
    // Column-major on disk (e.g. np.save of librosa.stft output): reorder to C order.
    if (array.is_complex()) {
      array.complex = FortranToC(array.complex, array.shape[0], array.shape[1]);
    } else {
      array.real = FortranToC(array.real, array.shape[0], array.shape[1]);
    }
  }
  return array;
}

absl::StatusOr<std::string> SerializeNpy(const NpyArray& array) {
  if (auto status = CheckShape(array.shape); !status.ok()) return status;
  const auto count = CountElements(array.shape);
  const size_t have = array.is_complex() ? array.complex.size() : array.real.size();
  if (!count.has_value() || static_cast<uint64_t>(*count) != have) {
    return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeString(array.shape), " needs ",
                                                   count.has_value() ? absl::StrCat(*count) : "too many",
                                                   " elements but the array holds ", have));
  }
  if (array.dtype != NpyDtype::kFloat32 && array.dtype != NpyDtype::kFloat64 &&
      array.dtype != NpyDtype::kComplex64) {
    return absl::InvalidArgumentError(absl::StrFormat("unknown dtype %d", static_cast<int>(array.dtype)));
  }
  std::string out = MakeHeader(array.dtype, array.shape);
  out.reserve(out.size() + have * DtypeSize(array.dtype));
  switch (array.dtype) {
    case NpyDtype::kFloat32:
      AppendFloats(out, array.real);
      break;
    case NpyDtype::kFloat64:
      for (float v : array.real) AppendLe64(out, std::bit_cast<uint64_t>(static_cast<double>(v)));
      break;
    case NpyDtype::kComplex64:
      AppendComplex(out, array.complex);
      break;
  }
  return out;
}

absl::StatusOr<RealMatrix> NpyToRealMatrix(const NpyArray& array, MatrixLayout layout) {
  if (auto status = CheckMatrixShape(array, /*want_complex=*/false); !status.ok()) return status;
  return ToMatrix<RealMatrix>(array.real, array.shape, layout);
}

absl::StatusOr<ComplexMatrix> NpyToComplexMatrix(const NpyArray& array, MatrixLayout layout) {
  if (auto status = CheckMatrixShape(array, /*want_complex=*/true); !status.ok()) return status;
  return ToMatrix<ComplexMatrix>(array.complex, array.shape, layout);
}

absl::StatusOr<std::vector<float>> NpyToRealVector(const NpyArray& array) {
  if (array.is_complex()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a real (float32/float64) array, got dtype '", DtypeDescr(array.dtype), "'"));
  }
  if (array.shape.size() != 1 || array.shape[0] < 0 || static_cast<size_t>(array.shape[0]) != array.real.size()) {
    return absl::InvalidArgumentError(absl::StrCat("expected a 1-D array, got shape ", ShapeString(array.shape)));
  }
  return array.real;
}

std::string RealMatrixToNpy(const RealMatrix& matrix, MatrixLayout layout) {
  const int64_t bins = matrix.rows();
  const int64_t frames = matrix.cols();
  if (layout == MatrixLayout::kFramesBins) {
    const int64_t shape[] = {frames, bins};
    std::string out = MakeHeader(NpyDtype::kFloat32, shape);
    AppendFloats(out, std::span<const float>(matrix.data(), static_cast<size_t>(matrix.size())));
    return out;
  }
  const int64_t shape[] = {bins, frames};
  const RowMajorOf<RealMatrix> row_major = matrix;
  std::string out = MakeHeader(NpyDtype::kFloat32, shape);
  AppendFloats(out, std::span<const float>(row_major.data(), static_cast<size_t>(row_major.size())));
  return out;
}

std::string ComplexMatrixToNpy(const ComplexMatrix& matrix, MatrixLayout layout) {
  const int64_t bins = matrix.rows();
  const int64_t frames = matrix.cols();
  if (layout == MatrixLayout::kFramesBins) {
    const int64_t shape[] = {frames, bins};
    std::string out = MakeHeader(NpyDtype::kComplex64, shape);
    AppendComplex(out, std::span<const std::complex<float>>(matrix.data(), static_cast<size_t>(matrix.size())));
    return out;
  }
  const int64_t shape[] = {bins, frames};
  const RowMajorOf<ComplexMatrix> row_major = matrix;
  std::string out = MakeHeader(NpyDtype::kComplex64, shape);
  AppendComplex(out, std::span<const std::complex<float>>(row_major.data(), static_cast<size_t>(row_major.size())));
  return out;
}

std::string RealVectorToNpy(std::span<const float> samples) {
  const int64_t shape[] = {static_cast<int64_t>(samples.size())};
  std::string out = MakeHeader(NpyDtype::kFloat32, shape);
  AppendFloats(out, samples);
  return out;
}

}  // namespace specinv
