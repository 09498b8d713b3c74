// Copyright specinv authors.
//
// specinv-invert-bench: quality and speed of the inversion methods on any
// audio file.
//
//   specinv-invert-bench --input speech.wav --preset hifigan
//       --methods nnls,fgla,pghi_fgla,refine --iterations 32 [--json]
//
// The file is analysed with the configuration (a preset, optionally
// overridden by --sample-rate/--n-fft/--hop/--win/--n-mels/--fmin/--fmax/
// --power/--pad-mode/--center), then each method inverts either the mel
// (--domain mel, default; uncompressed, as InvertMel expects) or the linear
// magnitude (--domain linear). Per method it prints wall time (ms, the
// inversion call only, mel -> magnitude included), its CPU time (ms, all
// threads; the figure to compare on a loaded machine), SC_lin (dB, on the
// original linear magnitude), SC_mel (dB, on the original mel), the
// perceptual and spectral measures of the reconstruction against the input
// audio (evaluation/: STOI and ESTOI, LSD in dB on the configuration's power
// STFT, the multi-resolution STFT distance; "nan" where a measure does not
// apply, e.g. for nnls, which makes no audio, or STOI of a clip shorter than
// 30 frames at 10 kHz) and the peak
// RSS (MB, VmHWM reset just before the call) of a child process that ran
// only that method, read when the call returns. It includes the input audio,
// magnitude and mel the child inherited; the header line gives that baseline
// and the size of the complex spectrogram. Methods "nnls", "pinv", "lobes", "harmonic"
// time mel -> linear magnitude alone (SC_lin of that magnitude, SC_mel its
// relative residual).
//
// --repeat N runs each inversion method N times (same audio: the methods are
// deterministic) and reports the least ms and cpu_ms, for ratios that a
// loaded machine disturbs less.
//
// --score NAME=FILE (repeatable) scores a reconstruction made elsewhere
// (e.g. bench/librosa_baseline.py) exactly like the methods' own: a row NAME
// with SC_lin, SC_mel, STOI, ESTOI, LSD, MR-STFT of FILE (decoded and
// resampled like the input) and no time ("nan").
//
// --output-dir DIR writes each method's reconstruction to DIR/<method>.wav
// (32-bit float WAV at the configured rate; DIR is created if missing), and
// the linear magnitude of a mel -> magnitude method (nnls, pinv, lobes,
// harmonic) to DIR/<method>.npy (float32, (n_fft/2+1, frames)).
//
// Input: anything DecodeAudio reads (WAV, FLAC, OGG, ...), resampled to the
// configured rate, or a float32 1-D .npy (taken to be at --sample-rate, or
// the preset's rate).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "specinv/io/audio_io.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/evaluation/spectral_distance.h"
#include "specinv/evaluation/stoi.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/io/npy.h"
#include "specinv/streaming/stream_vocoder.h"

namespace specinv {
namespace {

struct Args {
  std::string input;
  std::string preset = "hifigan";
  std::string methods = "fgla,pghi_fgla,refine";
  std::string domain = "mel";
  int iterations = 32;
  int refine_iterations = 0;
  std::string output_dir;  // empty: write no audio
  std::vector<std::pair<std::string, std::string>> scores;  // --score NAME=FILE
  int threads = 1;
  int repeat = 1;  // runs per method; ms and cpu_ms are the least of them
  bool refine_log = false;
  std::string init = "zero";
  uint64_t seed = 0;
  std::optional<double> pghi_tolerance_db;
  std::optional<double> momentum;
  std::optional<int> refine_history;
  std::optional<int> nnls_iterations;  // mel inverse iterations per frame; unset: its default
  // nnls | pinv | lobes (librosa's mel_to_stft ends at its clamped pinv
  // start); empty: the method's default (DefaultMelInverse).
  std::string mel_inverse;
  bool json = false;
  bool fork_each = true;
  double seconds = 0.0;  // 0 = whole file; otherwise tile/cut the input to this duration
  std::optional<double> sample_rate;
  std::optional<int> n_fft, hop, win, n_mels;
  std::optional<double> fmin, fmax, power;
  std::optional<std::string> pad_mode;
  std::optional<bool> center;
};

void Usage() {
  std::cerr << "usage: specinv-invert-bench --input FILE [--preset NAME] [--methods m1,m2,...]\n"
               "  [--domain mel|linear] [--iterations N] [--refine-iterations N] [--refine-log]\n"
               "  [--threads N] [--repeat N] [--seconds S] [--json] [--no-fork] [--init zero|random] [--seed N]\n"
               "  [--output-dir DIR] [--score NAME=FILE ...]\n"
               "  [--pghi-tolerance-db DB] [--momentum M] [--refine-history N] [--mel-inverse nnls|pinv|lobes|harmonic]\n"
               "  [--nnls-iterations N]\n"
               "  [--sample-rate HZ] [--n-fft N] [--hop N] [--win N] [--n-mels N] [--fmin HZ] [--fmax HZ]\n"
               "  [--power P] [--pad-mode constant|reflect] [--center 0|1]\n"
               "methods: nnls, pinv, lobes, harmonic, gl, fgla, pghi, pghi_fgla, refine, joint, stream\n";
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << k << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--input") a->input = value();
    else if (k == "--preset") a->preset = value();
    else if (k == "--methods") a->methods = value();
    else if (k == "--domain") a->domain = value();
    else if (k == "--iterations") a->iterations = std::stoi(value());
    else if (k == "--refine-iterations") a->refine_iterations = std::stoi(value());
    else if (k == "--threads") a->threads = std::stoi(value());
    else if (k == "--seconds") a->seconds = std::stod(value());
    else if (k == "--refine-log") a->refine_log = true;
    else if (k == "--init") a->init = value();
    else if (k == "--seed") a->seed = std::stoull(value());
    else if (k == "--pghi-tolerance-db") a->pghi_tolerance_db = std::stod(value());
    else if (k == "--momentum") a->momentum = std::stod(value());
    else if (k == "--refine-history") a->refine_history = std::stoi(value());
    else if (k == "--nnls-iterations") a->nnls_iterations = std::stoi(value());
    else if (k == "--repeat") a->repeat = std::max(1, std::stoi(value()));
    else if (k == "--mel-inverse") a->mel_inverse = value();
    else if (k == "--json") a->json = true;
    else if (k == "--output-dir") a->output_dir = value();
    else if (k == "--score") {
      const std::string v = value();
      const size_t eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "--score needs NAME=FILE\n";
        return false;
      }
      a->scores.emplace_back(v.substr(0, eq), v.substr(eq + 1));
    }
    else if (k == "--no-fork") a->fork_each = false;
    else if (k == "--sample-rate") a->sample_rate = std::stod(value());
    else if (k == "--n-fft") a->n_fft = std::stoi(value());
    else if (k == "--hop") a->hop = std::stoi(value());
    else if (k == "--win") a->win = std::stoi(value());
    else if (k == "--n-mels") a->n_mels = std::stoi(value());
    else if (k == "--fmin") a->fmin = std::stod(value());
    else if (k == "--fmax") a->fmax = std::stod(value());
    else if (k == "--power") a->power = std::stod(value());
    else if (k == "--pad-mode") a->pad_mode = value();
    else if (k == "--center") a->center = value() != "0";
    else if (k == "--help" || k == "-h") return false;
    else {
      std::cerr << "unknown flag " << k << "\n";
      return false;
    }
  }
  return !a->input.empty();
}

double CpuMs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return (static_cast<double>(usage.ru_utime.tv_sec) + static_cast<double>(usage.ru_stime.tv_sec)) * 1e3 +
         (static_cast<double>(usage.ru_utime.tv_usec) + static_cast<double>(usage.ru_stime.tv_usec)) * 1e-3;
}

// Field `key` ("VmHWM", "VmRSS") of /proc/self/status in MB, or -1.
double ProcStatusMb(const char* key) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return -1.0;
  char line[256];
  double mb = -1.0;
  const size_t key_len = std::strlen(key);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
      mb = std::strtod(line + key_len + 1, nullptr) / 1024.0;  // kB
      break;
    }
  }
  std::fclose(f);
  return mb;
}

// Resets the peak RSS (Linux clear_refs "5") so it measures from now on.
void ResetPeakRss() {
  FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (f == nullptr) return;
  std::fputs("5", f);
  std::fclose(f);
}

double PeakRssMb() {
  const double hwm = ProcStatusMb("VmHWM");
  if (hwm >= 0.0) return hwm;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
}

double ScDb(const RealMatrix& target, const RealMatrix& estimate) {
  return SpectralConvergenceDb(target, estimate);
}

struct Row {
  std::string method;
  int iterations = 0;
  double ms = 0.0;
  double cpu_ms = 0.0;  // CPU time of the call (all threads): robust on a loaded machine
  double sc_lin_db = 0.0;
  double sc_mel_db = 0.0;
  double stoi = std::numeric_limits<double>::quiet_NaN();
  double estoi = std::numeric_limits<double>::quiet_NaN();
  double lsd_db = std::numeric_limits<double>::quiet_NaN();
  double mr_stft = std::numeric_limits<double>::quiet_NaN();
  double peak_rss_mb = 0.0;
};

// JSON has no NaN: a measure that does not apply is null.
std::string JsonNumber(double v, int precision) {
  return std::isfinite(v) ? absl::StrFormat("%.*f", precision, v) : std::string("null");
}

std::string Format(const Row& r, bool json) {
  if (json) {
    return absl::StrFormat(
        "{\"method\": \"%s\", \"iterations\": %d, \"ms\": %s, \"cpu_ms\": %s, \"sc_lin_db\": %.3f, "
        "\"sc_mel_db\": %.3f, \"stoi\": %s, \"estoi\": %s, \"lsd_db\": %s, \"mr_stft\": %s, "
        "\"peak_rss_mb\": %s}",
        r.method, r.iterations, JsonNumber(r.ms, 2), JsonNumber(r.cpu_ms, 2), r.sc_lin_db, r.sc_mel_db,
        JsonNumber(r.stoi, 4), JsonNumber(r.estoi, 4), JsonNumber(r.lsd_db, 3), JsonNumber(r.mr_stft, 4),
        JsonNumber(r.peak_rss_mb, 1));
  }
  return absl::StrFormat("%-10s %6d %10.1f %10.1f %10.2f %10.2f %7.4f %7.4f %8.2f %8.4f %10.1f", r.method,
                         r.iterations, r.ms, r.cpu_ms, r.sc_lin_db, r.sc_mel_db, r.stoi, r.estoi, r.lsd_db,
                         r.mr_stft, r.peak_rss_mb);
}

// Fills the quality measures of `out` (a reconstruction of `audio`) into `row`.
bool ScoreAudio(const FeatureExtractor& fx, const std::vector<float>& audio, const RealMatrix& magnitude,
                const RealMatrix& mel, const std::vector<float>& out, Row* row, std::string* error) {
  auto mag = fx.Magnitude(out);
  if (!mag.ok()) {
    *error = mag.status().ToString();
    return false;
  }
  if (mag->cols() != magnitude.cols()) {
    *error = absl::StrFormat("reconstruction has %d frames, the input %d", mag->cols(), magnitude.cols());
    return false;
  }
  row->sc_lin_db = ScDb(magnitude, *mag);
  row->sc_mel_db = ScDb(mel, fx.MagnitudeToMel(*mag));
  if (out.size() == audio.size()) {
    const double rate = fx.config().sample_rate;
    if (auto d = ComputeStoi(audio, out, rate); d.ok()) row->stoi = *d;
    if (auto d = ComputeStoi(audio, out, rate, StoiOptions{.extended = true}); d.ok()) row->estoi = *d;
    LogSpectralDistanceOptions lsd;
    lsd.stft = fx.config().stft;
    if (auto d = LogSpectralDistance(audio, out, lsd); d.ok()) row->lsd_db = *d;
    if (auto d = ComputeMultiResolutionStftDistance(audio, out); d.ok()) row->mr_stft = d->total;
  }
  return true;
}

// Decodes `path` like the input (resampled to the configuration's rate) and
// scores it; ms and cpu_ms are NaN (the time was taken elsewhere).
Row ScoreFile(const FeatureExtractor& fx, const std::string& name, const std::string& path,
              const std::vector<float>& audio, const RealMatrix& magnitude, const RealMatrix& mel,
              std::string* error) {
  Row row;
  row.method = name;
  row.ms = std::numeric_limits<double>::quiet_NaN();
  row.cpu_ms = std::numeric_limits<double>::quiet_NaN();
  row.peak_rss_mb = std::numeric_limits<double>::quiet_NaN();
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) {
    *error = bytes.status().ToString();
    return row;
  }
  DecodeOptions d;
  d.target_sample_rate = fx.config().sample_rate;
  auto decoded = DecodeAudio(AsBytes(*bytes), d);
  if (!decoded.ok()) {
    *error = decoded.status().ToString();
    return row;
  }
  std::vector<float> out = std::move(decoded->samples);
  out.resize(audio.size(), 0.0f);
  ScoreAudio(fx, audio, magnitude, mel, out, &row, error);
  return row;
}

// Writes a method's reconstruction to --output-dir (when set) as METHOD.wav.
bool WriteReconstruction(const Args& args, const FeatureExtractor& fx, const std::string& method,
                         const std::vector<float>& out, std::string* error) {
  if (args.output_dir.empty()) return true;
  auto wav = EncodeAudio(out, fx.config().sample_rate, AudioEncoding::kWavFloat32);
  if (!wav.ok()) {
    *error = wav.status().ToString();
    return false;
  }
  const std::string path = (std::filesystem::path(args.output_dir) / (method + ".wav")).string();
  if (auto s = WriteFileBytes(path, *wav); !s.ok()) {
    *error = s.ToString();
    return false;
  }
  return true;
}

// Method "stream": the streaming vocoder with its defaults for the preset
// (--mel-inverse and --nnls-iterations apply), fed kStreamChunkFrames frames
// at a time; the audio is cut or zero-padded to the input's length.
constexpr int kStreamChunkFrames = 8;
Row RunStream(const Args& args, const FeatureExtractor& fx, const std::vector<float>& audio,
              const RealMatrix& magnitude, const RealMatrix& mel, std::string* error) {
  Row row;
  row.method = "stream";
  StreamVocoderOptions so;
  if (!args.mel_inverse.empty()) {
    auto mel_inverse = ParseMelInverseMethod(args.mel_inverse);
    if (!mel_inverse.ok()) {
      *error = mel_inverse.status().ToString();
      return row;
    }
    so.mel_inverse = *mel_inverse;
  }
  so.nnls_iterations = args.nnls_iterations;
  std::vector<float> out;
  ResetPeakRss();
  row.ms = row.cpu_ms = std::numeric_limits<double>::infinity();
  for (int run = 0; run < args.repeat; ++run) {
    out.clear();
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = CpuMs();
    auto vocoder = StreamVocoder::Create(fx, so);
    absl::Status s = vocoder.status();
    for (Eigen::Index f = 0; s.ok() && f < mel.cols(); f += kStreamChunkFrames) {
      s = vocoder->PushFrames(mel.middleCols(f, std::min<Eigen::Index>(kStreamChunkFrames, mel.cols() - f)), &out);
    }
    if (s.ok()) s = vocoder->Finish(&out);
    if (!s.ok()) {
      *error = s.ToString();
      return row;
    }
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    row.ms = std::min(row.ms, std::chrono::duration<double, std::milli>(elapsed).count());
    row.cpu_ms = std::min(row.cpu_ms, CpuMs() - c0);
  }
  row.peak_rss_mb = PeakRssMb();
  out.resize(audio.size(), 0.0f);
  if (!ScoreAudio(fx, audio, magnitude, mel, out, &row, error)) return row;
  WriteReconstruction(args, fx, "stream", out, error);
  return row;
}

// Runs one method; returns its row (or an error message in `error`).
Row RunMethod(const Args& args, const FeatureExtractor& fx, const std::string& method,
              const std::vector<float>& audio, const RealMatrix& magnitude, const RealMatrix& mel,
              std::string* error) {
  Row row;
  row.method = method;
  const int64_t length = static_cast<int64_t>(audio.size());
  using Clock = std::chrono::steady_clock;
  if (method == "nnls" || method == "pinv" || method == "lobes" || method == "harmonic") {
    MelInverseOptions mo;
    mo.method = ParseMelInverseMethod(method).value();
    mo.power = fx.config().power;
    mo.iterations = args.nnls_iterations;
    mo.max_threads = args.threads;
    ResetPeakRss();
    const auto t0 = Clock::now();
    const double c0 = CpuMs();
    auto mag = fx.mel_inverter().Apply(mel, mo);
    row.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    row.cpu_ms = CpuMs() - c0;
    row.peak_rss_mb = PeakRssMb();
    if (!mag.ok()) {
      *error = mag.status().ToString();
      return row;
    }
    row.iterations = mo.iterations.value_or(DefaultMelInverseIterations(mo.method));
    row.sc_lin_db = ScDb(magnitude, *mag);
    if (!args.output_dir.empty()) {
      const std::string path = (std::filesystem::path(args.output_dir) / (method + ".npy")).string();
      if (auto s = WriteFileBytes(path, RealMatrixToNpy(*mag, MatrixLayout::kBinsFrames)); !s.ok()) {
        *error = s.ToString();
        return row;
      }
    }
    row.sc_mel_db = 20.0 * std::log10(std::max(MelResidualRel(fx.filterbank(), *mag, mel, mo.power), 1e-12));
    return row;
  }
  if (method == "stream") return RunStream(args, fx, audio, magnitude, mel, error);
  auto parsed = ParseInversionMethod(method);
  if (!parsed.ok()) {
    *error = parsed.status().ToString();
    return row;
  }
  InversionOptions o;
  o.method = *parsed;
  o.iterations = args.iterations;
  o.refine_iterations = args.refine_iterations;
  o.refine_log_domain = args.refine_log;
  o.max_threads = args.threads;
  o.length = length;
  o.seed = args.seed;
  if (args.pghi_tolerance_db) o.pghi_tolerance_db = *args.pghi_tolerance_db;
  if (args.momentum) o.momentum = *args.momentum;
  if (args.refine_history) o.refine_history = *args.refine_history;
  o.nnls_iterations = args.nnls_iterations;
  if (!args.mel_inverse.empty()) {
    auto mel_inverse = ParseMelInverseMethod(args.mel_inverse);
    if (!mel_inverse.ok()) {
      *error = mel_inverse.status().ToString();
      return row;
    }
    o.mel_inverse = *mel_inverse;
  }
  auto init = ParsePhaseInit(args.init);
  if (!init.ok()) {
    *error = init.status().ToString();
    return row;
  }
  o.init = *init;
  ResetPeakRss();
  absl::StatusOr<InversionResult> result = absl::UnknownError("not run");
  row.ms = row.cpu_ms = std::numeric_limits<double>::infinity();
  for (int run = 0; run < args.repeat; ++run) {  // deterministic: every run gives the same audio
    const auto t0 = Clock::now();
    const double c0 = CpuMs();
    result = args.domain == "linear" ? InvertMagnitude(fx, magnitude, o) : InvertMel(fx, mel, o);
    row.ms = std::min(row.ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    row.cpu_ms = std::min(row.cpu_ms, CpuMs() - c0);
  }
  row.peak_rss_mb = PeakRssMb();  // before the quality measurement allocates its own spectrograms
  if (!result.ok()) {
    *error = result.status().ToString();
    return row;
  }
  row.iterations = result->iterations_run;
  const std::vector<float>& out = result->audio;
  if (!ScoreAudio(fx, audio, magnitude, mel, out, &row, error)) return row;
  WriteReconstruction(args, fx, method, out, error);
  return row;
}

int Main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    Usage();
    return 2;
  }
  auto preset = GetPreset(args.preset);
  if (!preset.ok()) {
    std::cerr << preset.status() << "\n";
    return 2;
  }
  FeatureConfig config = *preset;
  if (args.sample_rate) config.sample_rate = *args.sample_rate;
  if (args.n_fft) config.stft.n_fft = *args.n_fft;
  if (args.hop) config.stft.hop_length = *args.hop;
  if (args.win) config.stft.win_length = *args.win;
  if (args.n_mels) config.n_mels = *args.n_mels;
  if (args.fmin) config.fmin = *args.fmin;
  if (args.fmax) config.fmax = *args.fmax;
  if (args.power) config.power = *args.power;
  if (args.center) {
    config.stft.center = *args.center;
    config.framing = Framing::kStft;
  }
  if (args.pad_mode) {
    auto pm = ParsePadMode(*args.pad_mode);
    if (!pm.ok()) {
      std::cerr << pm.status() << "\n";
      return 2;
    }
    config.stft.pad_mode = *pm;
    config.framing = Framing::kStft;
  }
  auto fx = FeatureExtractor::Create(config);
  if (!fx.ok()) {
    std::cerr << fx.status() << "\n";
    return 2;
  }
  auto bytes = ReadFileBytes(args.input);
  if (!bytes.ok()) {
    std::cerr << bytes.status() << "\n";
    return 1;
  }
  std::vector<float> audio;
  if (args.input.size() > 4 && args.input.substr(args.input.size() - 4) == ".npy") {
    auto arr = ParseNpy(AsBytes(*bytes));
    if (!arr.ok()) {
      std::cerr << arr.status() << "\n";
      return 1;
    }
    auto v = NpyToRealVector(*arr);
    if (!v.ok()) {
      std::cerr << v.status() << "\n";
      return 1;
    }
    audio = *std::move(v);
  } else {
    DecodeOptions d;
    d.target_sample_rate = config.sample_rate;
    auto decoded = DecodeAudio(AsBytes(*bytes), d);
    if (!decoded.ok()) {
      std::cerr << decoded.status() << "\n";
      return 1;
    }
    audio = std::move(decoded->samples);
  }
  if (args.seconds > 0.0 && !audio.empty()) {
    const size_t n = static_cast<size_t>(args.seconds * config.sample_rate);
    std::vector<float> tiled(n);
    for (size_t i = 0; i < n; ++i) tiled[i] = audio[i % audio.size()];
    audio = std::move(tiled);
  }
  if (!args.output_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.output_dir, ec);
    if (ec) {
      std::cerr << "--output-dir " << args.output_dir << ": " << ec.message() << "\n";
      return 1;
    }
  }
  auto magnitude = fx->Magnitude(audio);
  if (!magnitude.ok()) {
    std::cerr << magnitude.status() << "\n";
    return 1;
  }
  const RealMatrix mel = fx->MagnitudeToMel(*magnitude);
  const double complex_mb = static_cast<double>(magnitude->size()) * 8.0 / (1024.0 * 1024.0);
  if (!args.json) {
    std::cout << absl::StrFormat("# RSS before the calls %.1f MB (audio, magnitude, mel); complex spectrogram "
                                 "%.1f MB (%d frames)\n",
                                 ProcStatusMb("VmRSS"), complex_mb, magnitude->cols());
    std::cout << absl::StrFormat("# %s: %.2f s at %g Hz, preset %s, n_fft %d, hop %d, %d mels, power %g, %s input, "
                                 "%d thread(s)\n",
                                 args.input, static_cast<double>(audio.size()) / config.sample_rate,
                                 config.sample_rate, args.preset, config.stft.n_fft, config.stft.hop_length,
                                 config.n_mels, config.power, args.domain, args.threads);
    std::cout << absl::StrFormat("%-10s %6s %10s %10s %10s %10s %7s %7s %8s %8s %10s\n", "method", "iters", "ms",
                                 "cpu_ms", "SC_lin_dB", "SC_mel_dB", "STOI", "ESTOI", "LSD_dB", "MR-STFT",
                                 "peakRSS_MB");
  }
  int status = 0;
  for (absl::string_view m : absl::StrSplit(args.methods, ',')) {
    const std::string method(m);
    if (!args.fork_each) {
      std::string error;
      const Row row = RunMethod(args, *fx, method, audio, *magnitude, mel, &error);
      if (!error.empty()) {
        std::cerr << method << ": " << error << "\n";
        status = 1;
        continue;
      }
      std::cout << Format(row, args.json) << "\n" << std::flush;
      continue;
    }
    std::cout << std::flush;
    const pid_t pid = fork();
    if (pid == 0) {
      std::string error;
      const Row row = RunMethod(args, *fx, method, audio, *magnitude, mel, &error);
      if (!error.empty()) {
        std::cerr << method << ": " << error << "\n";
        std::_Exit(1);
      }
      std::cout << Format(row, args.json) << "\n" << std::flush;
      std::_Exit(0);
    }
    int child = 0;
    waitpid(pid, &child, 0);
    if (!WIFEXITED(child) || WEXITSTATUS(child) != 0) status = 1;
  }
  for (const auto& [name, path] : args.scores) {
    std::string error;
    const Row row = ScoreFile(*fx, name, path, audio, *magnitude, mel, &error);
    if (!error.empty()) {
      std::cerr << name << ": " << error << "\n";
      status = 1;
      continue;
    }
    std::cout << Format(row, args.json) << "\n" << std::flush;
  }
  return status;
}

}  // namespace
}  // namespace specinv

int main(int argc, char** argv) { return specinv::Main(argc, argv); }
