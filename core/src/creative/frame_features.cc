// Copyright specinv authors.

#include "specinv/creative/frame_features.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {

absl::Status ValidateFrameFeatureOptions(const FrameFeatureOptions& options) {
  if (auto s = CheckRangeOpenLow("features.amin", options.amin, 0.0, 1.0); !s.ok()) return s;
  if (options.top_db.has_value()) {
    if (auto s = CheckRealRange("features.top_db", *options.top_db, 0.0, 1e6); !s.ok()) return s;
  }
  return absl::OkStatus();
}

float LowBandWeight(int band) {
  return static_cast<float>(1.0 / (1.0 + std::log1p(static_cast<double>(std::max(band, 0)))));
}

absl::StatusOr<RealMatrix> MelToFrameFeatures(const RealMatrix& mel, double power,
                                              const FrameFeatureOptions& options,
                                              const std::function<absl::Status()>& check) {
  if (auto s = ValidateFrameFeatureOptions(options); !s.ok()) return s;
  if (!std::isfinite(power) || power <= 0.0 || power > 8.0) {
    return InvalidField("power", absl::StrFormat("must be in (0, 8], got %g", power));
  }
  if (mel.size() == 0) {
    return InvalidField(
        "mel", absl::StrFormat("is empty (%d x %d); need at least 1 band and 1 frame", mel.rows(), mel.cols()));
  }
  if (auto s = CheckNonNegativeFinite("mel", mel); !s.ok()) return s;
  const Eigen::Index bands = mel.rows();
  const Eigen::Index frames = mel.cols();
  const double to_power = 2.0 / power;  // M^(2/p) is a power quantity
  RealMatrix out(bands, frames);
  double max_db = -std::numeric_limits<double>::infinity();
  constexpr Eigen::Index kFramesPerCheck = 4096;
  for (Eigen::Index t = 0; t < frames; ++t) {
    if (check && t % kFramesPerCheck == 0) {
      if (absl::Status s = check(); !s.ok()) return s;
    }
    const float* column = mel.data() + t * bands;
    double scale = 1.0;
    if (options.volume_normalize) {
      double sum = 0.0;
      for (Eigen::Index m = 0; m < bands; ++m) sum += static_cast<double>(column[m]);
      scale = sum > 0.0 ? 1.0 / sum : 0.0;
    }
    float* dst = out.data() + t * bands;
    for (Eigen::Index m = 0; m < bands; ++m) {
      const double v = static_cast<double>(column[m]) * scale;
      const double p = to_power == 1.0 ? v : std::pow(v, to_power);
      const double db = 10.0 * std::log10(std::max(p, options.amin));
      dst[m] = static_cast<float>(db);
      max_db = std::max(max_db, static_cast<double>(dst[m]));
    }
  }
  const double floor = options.top_db.has_value() ? -*options.top_db : -std::numeric_limits<double>::infinity();
  for (Eigen::Index t = 0; t < frames; ++t) {
    float* dst = out.data() + t * bands;
    for (Eigen::Index m = 0; m < bands; ++m) {
      double v = std::max(static_cast<double>(dst[m]) - max_db, floor);
      if (options.frequency_weighting) v *= static_cast<double>(LowBandWeight(static_cast<int>(m)));
      // +0.0 turns a -0.0 into +0.0 so equal inputs give identical bytes.
      dst[m] = static_cast<float>(v) + 0.0f;
    }
  }
  return out;
}

absl::StatusOr<RealMatrix> ComputeFrameFeatures(const FeatureExtractor& extractor,
                                                std::span<const float> audio,
                                                const FrameFeatureOptions& options) {
  if (auto s = ValidateFrameFeatureOptions(options); !s.ok()) return s;
  auto mel = extractor.Mel(audio);
  if (!mel.ok()) return mel.status();
  return MelToFrameFeatures(*mel, extractor.config().power, options);
}

absl::StatusOr<std::vector<float>> FrameRms(const FeatureExtractor& extractor,
                                            std::span<const float> audio) {
  if (audio.empty()) return InvalidField("audio", "is empty; need at least 1 sample");
  if (auto s = CheckFinite("audio", audio); !s.ok()) return s;
  const int64_t frames = extractor.NumFrames(static_cast<int64_t>(audio.size()));
  const FeatureConfig& config = extractor.config();
  const int n_fft = config.stft.n_fft;
  const int hop = config.stft.hop_length;
  if (frames < 1) {
    return InvalidField("audio",
                        absl::StrFormat("has %d samples, too short for one frame with n_fft=%d", audio.size(), n_fft));
  }
  std::vector<float> padded;
  if (config.framing == Framing::kHifiGanReflect) {
    PadSignal(audio, (n_fft - hop) / 2, PadMode::kReflect, &padded);
  } else {
    extractor.stft().Pad(audio, &padded);
  }
  // Prefix sums of squares in double: O(samples) for any overlap.
  std::vector<double> prefix(padded.size() + 1, 0.0);
  for (size_t i = 0; i < padded.size(); ++i) {
    const double v = static_cast<double>(padded[i]);
    prefix[i + 1] = prefix[i] + v * v;
  }
  std::vector<float> rms(static_cast<size_t>(frames));
  for (int64_t t = 0; t < frames; ++t) {
    const auto begin = static_cast<size_t>(t * hop);
    const size_t end = std::min(begin + static_cast<size_t>(n_fft), padded.size());
    const double energy = std::max(prefix[end] - prefix[begin], 0.0);
    rms[static_cast<size_t>(t)] = static_cast<float>(std::sqrt(energy / static_cast<double>(n_fft)));
  }
  return rms;
}

std::vector<float> SpectralCentroid(const ComplexMatrix& spec, double sample_rate, int n_fft) {
  std::vector<float> out(static_cast<size_t>(spec.cols()));
  const double bin_hz = sample_rate / static_cast<double>(n_fft);
  for (Eigen::Index t = 0; t < spec.cols(); ++t) {
    double weighted = 0.0;
    double total = 0.0;
    for (Eigen::Index k = 0; k < spec.rows(); ++k) {
      const double a = static_cast<double>(std::abs(spec(k, t)));
      weighted += a * static_cast<double>(k) * bin_hz;
      total += a;
    }
    out[static_cast<size_t>(t)] = total > 0.0 ? static_cast<float>(weighted / total) : 0.0f;
  }
  return out;
}

std::vector<float> SpectralFlatness(const ComplexMatrix& spec) {
  constexpr double kAmin = 1e-10;
  std::vector<float> out(static_cast<size_t>(spec.cols()));
  const auto bins = static_cast<double>(spec.rows());
  for (Eigen::Index t = 0; t < spec.cols(); ++t) {
    double log_sum = 0.0;
    double sum = 0.0;
    for (Eigen::Index k = 0; k < spec.rows(); ++k) {
      const double p = std::max(static_cast<double>(std::norm(spec(k, t))), kAmin);
      log_sum += std::log(p);
      sum += p;
    }
    const double flatness = bins > 0.0 ? std::exp(log_sum / bins) / (sum / bins) : 1.0;
    out[static_cast<size_t>(t)] = static_cast<float>(flatness);
  }
  return out;
}

}  // namespace specinv
