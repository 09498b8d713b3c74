// Copyright specinv authors.
//
// specinv-librosa-gl: runs the librosa-precision Griffin-Lim
// (InversionOptions::librosa_precision, zero initial phase) on a magnitude
// stored as a float32 .npy (bins, frames) and writes the signal as a float32
// .npy, to compare with bench/librosa_griffinlim_reference.py on any input.
//
//   specinv-librosa-gl --magnitude S.npy --n-fft 1024 --hop 256 --iterations 16
//       --momentum 0.99 --pad-mode reflect --length 66150 --out y.npy [--sweep]
//
// --analyse y.npy (a float32 signal) instead of --magnitude takes the
// magnitude from specinv's own analysis (FeatureExtractor::Magnitude at power
// 1, the server's Analyze) and writes it and the complex STFT to
// OUT_magnitude.npy and OUT_stft.npy; --abs numpy (default) selects
// MagnitudeFormula::kNumpyAbs, --abs sqrt kSqrtOfSquares.
//
// --sweep also writes OUT_<i>.npy for i = 1 .. iterations - 1 (the output
// after i iterations: each a fresh run from zero phase), so the iteration at
// which two implementations part can be found.

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/stft.h"
#include "specinv/inversion/inversion.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/npy.h"

namespace {

struct Args {
  std::string magnitude, analyse, abs = "numpy", out, pad_mode = "constant";
  int n_fft = 1024, hop = 256, iterations = 16;
  double momentum = 0.99;
  int64_t length = 0;
  bool sweep = false;
};

bool Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--sweep") {
      a->sweep = true;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (k == "--magnitude") a->magnitude = v;
    else if (k == "--out") a->out = v;
    else if (k == "--analyse") a->analyse = v;
    else if (k == "--abs") a->abs = v;
    else if (k == "--pad-mode") a->pad_mode = v;
    else if (k == "--n-fft") a->n_fft = std::stoi(v);
    else if (k == "--hop") a->hop = std::stoi(v);
    else if (k == "--iterations") a->iterations = std::stoi(v);
    else if (k == "--momentum") a->momentum = std::stod(v);
    else if (k == "--length") a->length = std::stoll(v);
    else return false;
  }
  return (a->magnitude.empty() != a->analyse.empty()) && !a->out.empty() && (a->abs == "numpy" || a->abs == "sqrt");
}

absl::StatusOr<specinv::NpyArray> ReadNpy(const std::string& path) {
  auto bytes = specinv::ReadFileBytes(path);
  if (!bytes.ok()) return bytes.status();
  specinv::NpyParseOptions po;
  po.allow_fortran_order = true;
  return specinv::ParseNpy(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), po);
}

int Fail(const absl::Status& s) {
  std::cerr << s << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace specinv;
  Args a;
  if (!Parse(argc, argv, &a)) {
    std::cerr << "usage: specinv-librosa-gl --magnitude S.npy --length N --out y.npy [--n-fft 1024] [--hop 256]\n"
                 "  [--iterations 16] [--momentum 0.99] [--pad-mode constant|reflect] [--sweep]\n"
                 "       specinv-librosa-gl --analyse y.npy [--abs numpy|sqrt] --out y.npy ...\n";
    return 2;
  }
  StftOptions so;
  so.n_fft = a.n_fft;
  so.hop_length = a.hop;
  so.center = true;
  auto pad = ParsePadMode(a.pad_mode);
  if (!pad.ok()) return Fail(pad.status());
  so.pad_mode = *pad;
  auto stft = Stft::Create(so);
  if (!stft.ok()) return Fail(stft.status());

  absl::StatusOr<RealMatrix> magnitude;
  if (!a.magnitude.empty()) {
    auto npy = ReadNpy(a.magnitude);
    if (!npy.ok()) return Fail(npy.status());
    magnitude = NpyToRealMatrix(*npy, MatrixLayout::kBinsFrames);
  } else {
    auto npy = ReadNpy(a.analyse);
    if (!npy.ok()) return Fail(npy.status());
    auto signal = NpyToRealVector(*npy);
    if (!signal.ok()) return Fail(signal.status());
    if (a.length == 0) a.length = static_cast<int64_t>(signal->size());
    // The library's analysis: FeatureExtractor (double-precision STFT) at
    // power 1 without epsilon, |X| by the chosen formula.
    FeatureConfig fc;
    fc.stft = so;
    fc.power = 1.0;
    fc.n_mels = 1;
    fc.magnitude_formula = a.abs == "numpy" ? MagnitudeFormula::kNumpyAbs : MagnitudeFormula::kSqrtOfSquares;
    auto fx = FeatureExtractor::Create(fc);
    if (!fx.ok()) return Fail(fx.status());
    auto spec = fx->ComplexSpectrogram(*signal);
    if (!spec.ok()) return Fail(spec.status());
    const std::string stem = a.out.substr(0, a.out.size() - 4);
    if (auto s = WriteFileBytes(stem + "_stft.npy", ComplexMatrixToNpy(*spec, MatrixLayout::kBinsFrames)); !s.ok()) {
      return Fail(s);
    }
    auto m = fx->Magnitude(*signal);
    if (!m.ok()) return Fail(m.status());
    if (auto s = WriteFileBytes(stem + "_magnitude.npy", RealMatrixToNpy(*m, MatrixLayout::kBinsFrames)); !s.ok()) {
      return Fail(s);
    }
    magnitude = *std::move(m);
  }
  if (!magnitude.ok()) return Fail(magnitude.status());
  if (a.length <= 0) return Fail(absl::InvalidArgumentError("--length is required with --magnitude"));

  const int first = a.sweep ? 1 : a.iterations;
  for (int n = first; n <= a.iterations; ++n) {
    InversionOptions o;
    o.method = a.momentum == 0.0 ? InversionMethod::kGriffinLim : InversionMethod::kFastGriffinLim;
    o.momentum = a.momentum;
    o.iterations = n;
    o.init = PhaseInit::kZero;
    o.length = a.length;
    o.librosa_precision = true;
    auto r = InvertMagnitude(*stft, *magnitude, o);
    if (!r.ok()) return Fail(r.status());
    const std::string path = n == a.iterations ? a.out : a.out.substr(0, a.out.size() - 4) + "_" + std::to_string(n) + ".npy";
    if (auto s = WriteFileBytes(path, RealVectorToNpy(r->audio)); !s.ok()) return Fail(s);
  }
  return 0;
}
