// Copyright specinv authors.

#include "specinv/creative/transform.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/creative/reorder.h"

namespace specinv {
namespace {

constexpr int64_t kMaxLength = int64_t{1} << 32;

uint64_t Mix64(uint64_t z) {  // SplitMix64 finaliser
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t PhaseHash(uint64_t seed, int64_t bin, int64_t frame) {
  const uint64_t key = (static_cast<uint64_t>(frame) << 32) ^ static_cast<uint64_t>(bin);
  return Mix64(Mix64(seed) ^ key);
}

// Sample index, in the original signal, of frame 0's centre.
int64_t FirstFrameCentre(const FeatureConfig& config) {
  const int n_fft = config.stft.n_fft;
  int64_t pad = 0;
  if (config.framing == Framing::kHifiGanReflect) {
    pad = (n_fft - config.stft.hop_length) / 2;
  } else if (config.stft.center) {
    pad = n_fft / 2;
  }
  return n_fft / 2 - pad;
}

RealMatrix MagnitudeOf(const ComplexMatrix& spec, double epsilon) {
  const auto eps = static_cast<float>(epsilon);
  RealMatrix mag(spec.rows(), spec.cols());
  for (Eigen::Index i = 0; i < mag.size(); ++i) {
    const std::complex<float> c = spec.data()[i];
    mag.data()[i] = std::sqrt(c.real() * c.real() + c.imag() * c.imag() + eps);
  }
  return mag;
}

}  // namespace

absl::StatusOr<PhaseOperation> ParsePhaseOperation(std::string_view name) {
  if (name == "keep") return PhaseOperation::kKeep;
  if (name == "zero") return PhaseOperation::kZero;
  if (name == "conjugate") return PhaseOperation::kConjugate;
  if (name == "random") return PhaseOperation::kRandom;
  if (name == "resynthesize") return PhaseOperation::kResynthesize;
  return InvalidField(
      "phase", absl::StrFormat(
                   "must be one of \"keep\", \"zero\", \"conjugate\", \"random\", \"resynthesize\", got \"%s\"", name));
}

std::string_view PhaseOperationName(PhaseOperation op) {
  switch (op) {
    case PhaseOperation::kKeep: return "keep";
    case PhaseOperation::kZero: return "zero";
    case PhaseOperation::kConjugate: return "conjugate";
    case PhaseOperation::kRandom: return "random";
    case PhaseOperation::kResynthesize: return "resynthesize";
  }
  return "unknown";
}

absl::Status ValidateTransformOptions(const TransformOptions& o, double sample_rate) {
  const int phase = static_cast<int>(o.phase);
  if (phase < static_cast<int>(PhaseOperation::kKeep) || phase > static_cast<int>(PhaseOperation::kResynthesize)) {
    return InvalidField(
        "phase",
        absl::StrFormat("must be one of keep, zero, conjugate, random, resynthesize; got enum value %d", phase));
  }
  const double nyquist = sample_rate / 2.0;
  for (size_t i = 0; i < o.band_mutes.size(); ++i) {
    const BandMute& b = o.band_mutes[i];
    // The field name is formatted only on error: millions of bands stay cheap.
    if (!std::isfinite(b.low_hertz) || b.low_hertz < 0.0 || b.low_hertz > nyquist) {
      return CheckRealRange(absl::StrFormat("band_mutes[%d].low_hertz", i), b.low_hertz, 0.0, nyquist);
    }
    if (!std::isfinite(b.high_hertz) || b.high_hertz <= b.low_hertz) {
      return InvalidField(absl::StrCat("band_mutes[", i, "].high_hertz"),
                          absl::StrFormat("must be finite and > low_hertz (%g), got %g", b.low_hertz, b.high_hertz));
    }
  }
  if (o.time_gate.has_value()) {
    if (auto s = CheckRangeOpenLow("time_gate.period_seconds", o.time_gate->period_seconds, 0.0, 1e6); !s.ok()) {
      return s;
    }
    if (auto s = CheckRangeOpenLow("time_gate.open_fraction", o.time_gate->open_fraction, 0.0, 1.0); !s.ok()) {
      return s;
    }
  }
  if (o.length.has_value()) {
    if (auto s = CheckRange("length", *o.length, 1, kMaxLength); !s.ok()) return s;
  }
  if (auto s = CheckRange("max_threads", o.max_threads, 1, 1024); !s.ok()) return s;
  return absl::OkStatus();
}

double TransformRandomPhase(uint64_t seed, int64_t bin, int64_t frame) {
  const uint64_t h = PhaseHash(seed, bin, frame);
  return static_cast<double>(h >> 11) * (2.0 * std::numbers::pi / 9007199254740992.0);
}

void ApplyPhaseOperation(PhaseOperation op, uint64_t seed, ComplexMatrix* spec) {
  const Eigen::Index bins = spec->rows();
  switch (op) {
    case PhaseOperation::kKeep:
      return;
    case PhaseOperation::kConjugate:
      *spec = spec->conjugate();
      return;
    case PhaseOperation::kZero:
    case PhaseOperation::kResynthesize:
      for (Eigen::Index i = 0; i < spec->size(); ++i) spec->data()[i] = std::abs(spec->data()[i]);
      return;
    case PhaseOperation::kRandom:
      for (Eigen::Index t = 0; t < spec->cols(); ++t) {
        for (Eigen::Index k = 0; k < bins; ++k) {
          const float a = std::abs((*spec)(k, t));
          // DC and (even n_fft) Nyquist: real bins, so a random sign.
          if (k == 0 || k == bins - 1) {
            const bool negative = (PhaseHash(seed, k, t) >> 63) != 0;
            (*spec)(k, t) = negative ? -a : a;
            continue;
          }
          const double phi = TransformRandomPhase(seed, k, t);
          (*spec)(k, t) = std::complex<float>(a * static_cast<float>(std::cos(phi)), a * static_cast<float>(std::sin(phi)));
        }
      }
      return;
  }
}

void ApplyCheckerboard(ComplexMatrix* spec) {
  for (Eigen::Index t = 0; t < spec->cols(); ++t) {
    for (Eigen::Index k = (t % 2 == 0) ? 0 : 1; k < spec->rows(); k += 2) (*spec)(k, t) = 0.0f;
  }
}

void ApplyBandMute(const BandMute& band, double sample_rate, int n_fft, ComplexMatrix* spec) {
  const double bin_hz = sample_rate / static_cast<double>(n_fft);
  for (Eigen::Index k = 0; k < spec->rows(); ++k) {
    const double f = static_cast<double>(k) * bin_hz;
    if (f >= band.low_hertz && f <= band.high_hertz) spec->row(k).setZero();
  }
}

void ApplyBandMutes(std::span<const BandMute> bands, double sample_rate, int n_fft, ComplexMatrix* spec) {
  if (bands.empty()) return;
  const Eigen::Index bins = spec->rows();
  const double bin_hz = sample_rate / static_cast<double>(n_fft);
  // +1 at a band's first bin, -1 after its last: a prefix sum > 0 marks a
  // muted bin. The same test as ApplyBandMute (k * bin_hz in [low, high]).
  std::vector<int64_t> edges(static_cast<size_t>(bins) + 1, 0);
  const auto freq = [bin_hz](Eigen::Index k) { return static_cast<double>(k) * bin_hz; };
  for (const BandMute& band : bands) {
    if (!(band.high_hertz >= band.low_hertz)) continue;  // also skips NaN edges
    const double lo_bin = std::ceil(band.low_hertz / bin_hz);
    auto first = static_cast<Eigen::Index>(std::clamp(lo_bin, 0.0, static_cast<double>(bins)));
    while (first > 0 && freq(first - 1) >= band.low_hertz) --first;
    while (first < bins && freq(first) < band.low_hertz) ++first;
    const double hi_bin = std::floor(band.high_hertz / bin_hz);
    auto last = static_cast<Eigen::Index>(std::clamp(hi_bin, -1.0, static_cast<double>(bins - 1)));
    while (last + 1 < bins && freq(last + 1) <= band.high_hertz) ++last;
    while (last >= 0 && freq(last) > band.high_hertz) --last;
    if (first > last) continue;
    ++edges[static_cast<size_t>(first)];
    --edges[static_cast<size_t>(last) + 1];
  }
  int64_t depth = 0;
  for (Eigen::Index k = 0; k < bins; ++k) {
    depth += edges[static_cast<size_t>(k)];
    if (depth > 0) spec->row(k).setZero();
  }
}

void ApplyTimeGate(const TimeGate& gate, double sample_rate, int64_t first_centre, int hop, ComplexMatrix* spec) {
  // In samples, so frames on an exact boundary are not at the mercy of 1/sr rounding.
  const double period = gate.period_seconds * sample_rate;
  const double open = gate.open_fraction * period;
  for (Eigen::Index t = 0; t < spec->cols(); ++t) {
    const double phase = std::fmod(static_cast<double>(first_centre + t * hop), period);
    if (phase >= open) spec->col(t).setZero();
  }
}

RealMatrix WarpMel(const RealMatrix& mel, const MelWarp& warp) {
  const Eigen::Index bands = mel.rows();
  const Eigen::Index frames = mel.cols();
  RealMatrix out = warp.flip_frequency ? RealMatrix(mel.colwise().reverse()) : mel;
  if (warp.shift_bins != 0) {
    RealMatrix shifted = RealMatrix::Zero(bands, frames);
    const Eigen::Index shift = warp.shift_bins;
    for (Eigen::Index m = 0; m < bands; ++m) {
      const Eigen::Index source = m - shift;
      if (source >= 0 && source < bands) shifted.row(m) = out.row(source);
    }
    out = std::move(shifted);
  }
  if (warp.reverse_time) out = out.rowwise().reverse().eval();
  return out;
}

absl::StatusOr<TransformResult> Transform(const FeatureExtractor& extractor, std::span<const float> audio,
                                          const TransformOptions& options) {
  const FeatureConfig& config = extractor.config();
  if (auto s = ValidateTransformOptions(options, config.sample_rate); !s.ok()) return s;
  if (options.mel_warp.has_value()) {
    const int n_mels = config.n_mels;
    if (options.mel_warp->shift_bins <= -n_mels || options.mel_warp->shift_bins >= n_mels) {
      return InvalidField("mel_warp.shift_bins",
                          absl::StrFormat("must be in [%d, %d] (n_mels = %d), got %d", -(n_mels - 1), n_mels - 1,
                                          n_mels, options.mel_warp->shift_bins));
    }
  }
  auto spec = extractor.ComplexSpectrogram(audio, options.check);
  if (!spec.ok()) return spec.status();
  const Eigen::Index frames = spec->cols();
  if (frames > std::numeric_limits<int>::max()) {
    return InvalidField("audio", absl::StrFormat("gives %d STFT frames; too many", frames));
  }
  const int64_t length = options.length.value_or(static_cast<int64_t>(audio.size()));

  TransformResult result;
  result.num_frames = static_cast<int>(frames);
  const auto poll = [&options]() { return options.check ? options.check() : absl::OkStatus(); };
  ApplyPhaseOperation(options.phase, options.seed, &*spec);
  if (options.checkerboard) ApplyCheckerboard(&*spec);
  if (auto s = poll(); !s.ok()) return s;
  ApplyBandMutes(options.band_mutes, config.sample_rate, config.stft.n_fft, &*spec);
  if (options.time_gate.has_value()) {
    ApplyTimeGate(*options.time_gate, config.sample_rate, FirstFrameCentre(config), config.stft.hop_length, &*spec);
  }
  if (auto s = poll(); !s.ok()) return s;

  const bool invert = options.mel_warp.has_value() || options.phase == PhaseOperation::kResynthesize;
  if (!invert) {
    auto out = SynthesizeFrames(extractor, *spec, length, options.max_threads);
    if (!out.ok()) return out.status();
    result.audio = *std::move(out);
    return result;
  }

  InversionOptions inversion = options.inversion;
  inversion.max_threads = options.max_threads;
  if (!inversion.check) inversion.check = options.check;
  const RealMatrix magnitude = MagnitudeOf(*spec, config.magnitude_epsilon);
  absl::StatusOr<InversionResult> run;
  if (options.mel_warp.has_value()) {
    const RealMatrix warped = WarpMel(extractor.MagnitudeToMel(magnitude), *options.mel_warp);
    inversion.length = length;
    run = InvertMel(extractor, warped, inversion);
  } else {
    inversion.length = length;
    run = InvertMagnitude(extractor, magnitude, inversion);
  }
  if (!run.ok()) return run.status();
  result.audio = std::move(run->audio);
  run->audio.clear();
  result.inversion = *std::move(run);
  return result;
}

}  // namespace specinv
