// Copyright specinv authors.

#include "testing/reference.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace specinv::testing {

std::string ReferenceDir() {
  if (const char* env = std::getenv("SPECINV_REFERENCE_DIR"); env != nullptr && *env != '\0') return env;
  return SPECINV_REFERENCE_DIR;
}

std::string ReadFileOrFail(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<ReferenceCase> LoadReferenceCases() {
  std::vector<ReferenceCase> cases;
  const std::string text = ReadFileOrFail(ReferenceDir() + "/manifest.json");
  if (text.empty()) return cases;
  const nlohmann::json manifest = nlohmann::json::parse(text);
  for (const auto& c : manifest.at("cases")) {
    ReferenceCase rc;
    rc.name = c.at("name").get<std::string>();
    rc.kind = c.at("kind").get<std::string>();
    rc.params = c.value("params", nlohmann::json::object());
    rc.inputs = c.value("inputs", nlohmann::json::object());
    rc.tolerance = c.value("tolerance", nlohmann::json::object());
    rc.output = c.at("output").get<std::string>();
    rc.shape = c.at("shape").get<std::vector<int64_t>>();
    cases.push_back(std::move(rc));
  }
  return cases;
}

std::vector<ReferenceCase> LoadReferenceCases(const std::string& kind) {
  std::vector<ReferenceCase> out;
  for (auto& c : LoadReferenceCases()) {
    if (c.kind == kind) out.push_back(std::move(c));
  }
  return out;
}

NpyArray LoadReferenceNpy(const std::string& relative_path) {
  const std::string bytes = ReadFileOrFail(ReferenceDir() + "/" + relative_path);
  // 21 of the golden files (the complex STFTs and GL inputs) were saved by
  // np.save in Fortran order.
  NpyParseOptions options;
  options.allow_fortran_order = true;
  auto array = ParseNpy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
                        options);
  if (!array.ok()) {
    ADD_FAILURE() << relative_path << ": " << array.status();
    return {};
  }
  return *std::move(array);
}

RealMatrix LoadReferenceMatrix(const std::string& relative_path) {
  auto m = NpyToRealMatrix(LoadReferenceNpy(relative_path), MatrixLayout::kBinsFrames);
  if (!m.ok()) {
    ADD_FAILURE() << relative_path << ": " << m.status();
    return {};
  }
  return *std::move(m);
}

ComplexMatrix LoadReferenceComplexMatrix(const std::string& relative_path) {
  auto m = NpyToComplexMatrix(LoadReferenceNpy(relative_path), MatrixLayout::kBinsFrames);
  if (!m.ok()) {
    ADD_FAILURE() << relative_path << ": " << m.status();
    return {};
  }
  return *std::move(m);
}

std::vector<float> LoadReferenceVector(const std::string& relative_path) {
  auto v = NpyToRealVector(LoadReferenceNpy(relative_path));
  if (!v.ok()) {
    ADD_FAILURE() << relative_path << ": " << v.status();
    return {};
  }
  return *std::move(v);
}

std::vector<float> LoadReferenceSignal(const std::string& name, double* sample_rate) {
  const std::string text = ReadFileOrFail(ReferenceDir() + "/manifest.json");
  if (text.empty()) return {};
  const nlohmann::json manifest = nlohmann::json::parse(text);
  const auto& sig = manifest.at("signals").at(name);
  if (sample_rate != nullptr) *sample_rate = sig.at("sample_rate").get<double>();
  return LoadReferenceVector(sig.at("file").get<std::string>());
}

InversionOptions GriffinLimOptionsFromParams(const nlohmann::json& p) {
  InversionOptions o;
  o.momentum = p.at("momentum").get<double>();
  o.method = o.momentum == 0.0 ? InversionMethod::kGriffinLim : InversionMethod::kFastGriffinLim;
  o.iterations = p.at("n_iter").get<int>();
  o.init = PhaseInit::kZero;
  o.length = p.at("length").get<int64_t>();
  return o;
}

StftOptions StftOptionsFromParams(const nlohmann::json& p) {
  StftOptions o;
  o.n_fft = p.at("n_fft").get<int>();
  o.hop_length = p.at("hop_length").get<int>();
  o.win_length = p.at("win_length").is_null() ? 0 : p.at("win_length").get<int>();
  o.window = ParseWindowType(p.at("window").get<std::string>()).value();
  o.center = p.at("center").get<bool>();
  o.pad_mode = ParsePadMode(p.at("pad_mode").get<std::string>()).value();
  return o;
}

MelOptions MelOptionsFromParams(const nlohmann::json& p) {
  MelOptions o;
  o.sample_rate = p.at("sr").get<double>();
  o.n_fft = p.at("n_fft").get<int>();
  o.n_mels = p.at("n_mels").get<int>();
  o.fmin = p.at("fmin").get<double>();
  if (!p.at("fmax").is_null()) o.fmax = p.at("fmax").get<double>();
  o.scale = p.at("htk").get<bool>() ? MelScale::kHtk : MelScale::kSlaney;
  o.norm = p.at("norm").is_null() ? MelNorm::kNone : ParseMelNorm(p.at("norm").get<std::string>()).value();
  return o;
}

std::string ReferenceOutputOf(const std::string& case_name) {
  for (const auto& c : LoadReferenceCases()) {
    if (c.name == case_name) return c.output;
  }
  ADD_FAILURE() << "no reference case named " << case_name;
  return {};
}

}  // namespace specinv::testing
