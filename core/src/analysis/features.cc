// Copyright specinv authors.

#include "specinv/analysis/features.h"

#include "specinv/analysis/analysis_cost.h"

#include <cmath>
#include <mutex>
#include <optional>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/numpy_abs.h"
#include "specinv/base/validate.h"

namespace specinv {

absl::StatusOr<FeatureExtractor> FeatureExtractor::Create(const FeatureConfig& config) {
  if (auto s = ValidateFeatureConfig(config); !s.ok()) return s;
  StftOptions stft_options = config.stft;
  if (config.framing == Framing::kHifiGanReflect) stft_options.center = false;
  // Features are computed like librosa: in double, rounded to float.
  stft_options.double_precision = true;
  auto stft = Stft::Create(stft_options);
  if (!stft.ok()) return stft.status();
  auto fb = MelFilterbank::Create(config.mel_options());
  if (!fb.ok()) return fb.status();
  return FeatureExtractor(config, *std::move(stft), *std::move(fb));
}

struct FeatureExtractor::LazyInverter {
  std::once_flag once;
  std::optional<MelInverter> inverter;
};

FeatureExtractor::FeatureExtractor(FeatureConfig config, Stft stft, MelFilterbank filterbank)
    : config_(std::move(config)), stft_(std::move(stft)), filterbank_(std::move(filterbank)),
      inverter_(std::make_shared<LazyInverter>()) {}

const MelInverter& FeatureExtractor::mel_inverter() const {
  std::call_once(inverter_->once, [this] { inverter_->inverter.emplace(filterbank_); });
  return *inverter_->inverter;
}

int64_t FeatureExtractor::NumFrames(int64_t num_samples) const { return FeatureFrames(config_, num_samples); }

absl::StatusOr<ComplexMatrix> FeatureExtractor::ComplexSpectrogram(std::span<const float> audio) const {
  return ComplexSpectrogram(audio, std::function<absl::Status()>());
}

absl::StatusOr<ComplexMatrix> FeatureExtractor::ComplexSpectrogram(std::span<const float> audio,
                                                                   const std::function<absl::Status()>& check) const {
  if (audio.empty()) return InvalidField("audio", "is empty; need at least 1 sample");
  if (auto s = CheckFinite("audio", audio); !s.ok()) return s;
  const int64_t frames = NumFrames(static_cast<int64_t>(audio.size()));
  if (frames < 1) {
    return InvalidField(
        "audio", absl::StrFormat("has %d samples, too short for one frame with n_fft=%d (preset \"%s\")", audio.size(),
                                 config_.stft.n_fft, config_.preset));
  }
  ComplexMatrix spec;
  if (config_.framing == Framing::kHifiGanReflect) {
    if (auto s = stft_.ForwardExtended(audio, (config_.stft.n_fft - config_.stft.hop_length) / 2, PadMode::kReflect,
                                       &spec, 1, check);
        !s.ok()) {
      return s;
    }
  } else {
    if (auto s = stft_.Forward(audio, &spec, 1, check); !s.ok()) return s;
  }
  if (config_.drop_last_frame) {
    ComplexMatrix trimmed = spec.leftCols(frames);
    return trimmed;
  }
  return spec;
}

absl::StatusOr<RealMatrix> FeatureExtractor::Magnitude(std::span<const float> audio) const {
  return Magnitude(audio, std::function<absl::Status()>());
}

absl::StatusOr<RealMatrix> FeatureExtractor::Magnitude(std::span<const float> audio,
                                                       const std::function<absl::Status()>& check) const {
  auto spec = ComplexSpectrogram(audio, check);
  if (!spec.ok()) return spec.status();
  const float eps = static_cast<float>(config_.magnitude_epsilon);
  RealMatrix mag(spec->rows(), spec->cols());
  if (config_.magnitude_formula == MagnitudeFormula::kNumpyAbs && eps == 0.0f) {
    // librosa's np.abs(stft): zero-phase Griffin-Lim turns one-step
    // differences in S into output differences of up to ~1e-2 of the peak.
    for (Eigen::Index i = 0; i < mag.size(); ++i) mag.data()[i] = NumpyComplexAbs(spec->data()[i]);
    return mag;
  }
  for (Eigen::Index i = 0; i < mag.size(); ++i) {
    const std::complex<float> c = spec->data()[i];
    mag.data()[i] = std::sqrt(c.real() * c.real() + c.imag() * c.imag() + eps);
  }
  return mag;
}

absl::StatusOr<RealMatrix> FeatureExtractor::Mel(std::span<const float> audio) const {
  return Mel(audio, std::function<absl::Status()>());
}

absl::StatusOr<RealMatrix> FeatureExtractor::Mel(std::span<const float> audio,
                                                 const std::function<absl::Status()>& check) const {
  if (config_.power == 2.0 && config_.magnitude_epsilon == 0.0) {
    auto spec = ComplexSpectrogram(audio, check);
    if (!spec.ok()) return spec.status();
    const RealMatrix power = spec->cwiseAbs2();
    RealMatrix mel;
    filterbank_.Apply(power, &mel);
    return mel;
  }
  auto mag = Magnitude(audio, check);
  if (!mag.ok()) return mag.status();
  return MagnitudeToMel(*mag);
}

absl::StatusOr<RealMatrix> FeatureExtractor::LogMel(std::span<const float> audio) const {
  return LogMel(audio, std::function<absl::Status()>());
}

absl::StatusOr<RealMatrix> FeatureExtractor::LogMel(std::span<const float> audio,
                                                    const std::function<absl::Status()>& check) const {
  auto mel = Mel(audio, check);
  if (!mel.ok()) return mel.status();
  return Compress(*mel, config_.scale);
}

RealMatrix FeatureExtractor::MagnitudeToMel(const RealMatrix& magnitude) const {
  RealMatrix mel;
  if (config_.power == 1.0) {
    filterbank_.Apply(magnitude, &mel);
  } else {
    const RealMatrix powered = magnitude.array().pow(static_cast<float>(config_.power)).matrix();
    filterbank_.Apply(powered, &mel);
  }
  return mel;
}

absl::StatusOr<RealMatrix> FeatureExtractor::Decompress(const RealMatrix& log_mel) const {
  return specinv::Decompress(log_mel, config_.scale);
}

}  // namespace specinv
