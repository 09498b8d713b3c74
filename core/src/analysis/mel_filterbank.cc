// Copyright specinv authors.

#include "specinv/analysis/mel_filterbank.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

// Slaney's Auditory Toolbox scale (librosa htk=False).
constexpr double kFSp = 200.0 / 3.0;
constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = kMinLogHz / kFSp;  // 15
const double kLogStep = std::log(6.4) / 27.0;

}  // namespace

absl::StatusOr<MelScale> ParseMelScale(std::string_view name) {
  if (name == "slaney") return MelScale::kSlaney;
  if (name == "htk") return MelScale::kHtk;
  return InvalidField("mel_scale", absl::StrFormat("must be one of slaney, htk; got \"%s\"", name));
}

absl::StatusOr<MelNorm> ParseMelNorm(std::string_view name) {
  if (name == "slaney") return MelNorm::kSlaney;
  if (name == "none" || name.empty()) return MelNorm::kNone;
  return InvalidField("mel_norm", absl::StrFormat("must be one of slaney, none; got \"%s\"", name));
}

std::string_view MelScaleName(MelScale scale) { return scale == MelScale::kHtk ? "htk" : "slaney"; }
std::string_view MelNormName(MelNorm norm) { return norm == MelNorm::kSlaney ? "slaney" : "none"; }

double HzToMel(double hz, MelScale scale) {
  if (scale == MelScale::kHtk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  if (hz >= kMinLogHz) return kMinLogMel + std::log(hz / kMinLogHz) / kLogStep;
  return hz / kFSp;
}

double MelToHz(double mel, MelScale scale) {
  if (scale == MelScale::kHtk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  if (mel >= kMinLogMel) return kMinLogHz * std::exp(kLogStep * (mel - kMinLogMel));
  return kFSp * mel;
}

absl::Status ValidateMelOptions(const MelOptions& options) {
  if (auto s = CheckRangeOpenLow("sample_rate_hertz", options.sample_rate, 0.0, kMaxSampleRate); !s.ok()) {
    return s;
  }
  if (auto s = CheckRange("n_fft", options.n_fft, kMinFftSize, kMaxFftSize); !s.ok()) return s;
  const int bins = options.n_fft / 2 + 1;
  if (options.n_mels < 1 || options.n_mels > bins) {
    return InvalidField("n_mels", absl::StrFormat("must be in [1, n_fft/2+1=%d], got %d", bins, options.n_mels));
  }
  const double nyquist = options.sample_rate / 2.0;
  if (auto s = CheckRealRange("fmin_hertz", options.fmin, 0.0, nyquist); !s.ok()) return s;
  const double fmax = options.effective_fmax();
  if (!std::isfinite(fmax) || fmax <= options.fmin || fmax > nyquist) {
    return InvalidField("fmax_hertz", absl::StrFormat("must be in (fmin_hertz=%g, sample_rate/2=%g], got %g",
                                                      options.fmin, nyquist, fmax));
  }
  return absl::OkStatus();
}

absl::StatusOr<MelFilterbank> MelFilterbank::Create(const MelOptions& options) {
  if (auto s = ValidateMelOptions(options); !s.ok()) return s;
  MelFilterbank fb;
  fb.options_ = options;
  const int n_mels = options.n_mels;
  const int bins = options.n_fft / 2 + 1;
  // Edges: n_mels + 2 points equally spaced in mel (librosa mel_frequencies).
  const double mel_lo = HzToMel(options.fmin, options.scale);
  const double mel_hi = HzToMel(options.effective_fmax(), options.scale);
  std::vector<double> edges(static_cast<size_t>(n_mels + 2));
  for (int i = 0; i < n_mels + 2; ++i) {
    const double mel = mel_lo + (mel_hi - mel_lo) * i / (n_mels + 1);
    edges[static_cast<size_t>(i)] = MelToHz(mel, options.scale);
  }
  fb.weights_ = RealMatrix::Zero(n_mels, bins);
  for (int m = 0; m < n_mels; ++m) {
    const double f0 = edges[static_cast<size_t>(m)];
    const double f1 = edges[static_cast<size_t>(m + 1)];
    const double f2 = edges[static_cast<size_t>(m + 2)];
    const double enorm = options.norm == MelNorm::kSlaney ? 2.0 / (f2 - f0) : 1.0;
    for (int k = 0; k < bins; ++k) {
      const double f = k * options.sample_rate / options.n_fft;
      const double lower = (f - f0) / (f1 - f0);
      const double upper = (f2 - f) / (f2 - f1);
      const double w = std::max(0.0, std::min(lower, upper));
      fb.weights_(m, k) = static_cast<float>(w * enorm);
    }
  }
  // Sparse rows and empty-filter detection.
  for (int m = 0; m < n_mels; ++m) {
    int first = -1, last = -1;
    for (int k = 0; k < bins; ++k) {
      if (fb.weights_(m, k) != 0.0f) {
        if (first < 0) first = k;
        last = k;
      }
    }
    fb.row_offset_.push_back(static_cast<int>(fb.values_.size()));
    if (first < 0) {
      // librosa only flags an empty channel when its lower edge is above 0 Hz.
      if (edges[static_cast<size_t>(m)] != 0.0) fb.empty_filters_.push_back(m);
      fb.row_begin_.push_back(0);
      fb.row_size_.push_back(0);
      continue;
    }
    fb.row_begin_.push_back(first);
    fb.row_size_.push_back(last - first + 1);
    for (int k = first; k <= last; ++k) fb.values_.push_back(fb.weights_(m, k));
  }
  if (!fb.empty_filters_.empty()) {
    fb.warning_ = absl::StrFormat(
        "%d of %d mel filters are empty (channels %s): n_mels=%d is too many for n_fft=%d at "
        "sample_rate=%g; reduce n_mels or increase n_fft",
        fb.empty_filters_.size(), n_mels, absl::StrJoin(fb.empty_filters_, ","), n_mels, options.n_fft,
        options.sample_rate);
  }
  return fb;
}

void MelFilterbank::Apply(const RealMatrix& spec, RealMatrix* mel) const {
  const int64_t frames = spec.cols();
  if (mel->rows() != n_mels() || mel->cols() != frames) mel->resize(n_mels(), frames);
  for (int64_t f = 0; f < frames; ++f) {
    const float* s = spec.col(f).data();
    float* out = mel->col(f).data();
    for (int m = 0; m < n_mels(); ++m) {
      const float* w = row_values(m);
      const float* x = s + row_begin(m);
      float acc = 0.0f;
      for (int i = 0, n = row_size(m); i < n; ++i) acc += w[i] * x[i];
      out[m] = acc;
    }
  }
}

void MelFilterbank::ApplyTranspose(const RealMatrix& mel, RealMatrix* spec) const {
  const int64_t frames = mel.cols();
  if (spec->rows() != num_bins() || spec->cols() != frames) spec->resize(num_bins(), frames);
  spec->setZero();
  for (int64_t f = 0; f < frames; ++f) {
    const float* in = mel.col(f).data();
    float* out = spec->col(f).data();
    for (int m = 0; m < n_mels(); ++m) {
      const float* w = row_values(m);
      float* y = out + row_begin(m);
      const float v = in[m];
      for (int i = 0, n = row_size(m); i < n; ++i) y[i] += w[i] * v;
    }
  }
}

}  // namespace specinv
