// Copyright specinv authors.

#include "specinv/analysis/feature_config.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {

MelOptions FeatureConfig::mel_options() const {
  MelOptions mel;
  mel.sample_rate = sample_rate;
  mel.n_fft = stft.n_fft;
  mel.n_mels = n_mels;
  mel.fmin = fmin;
  mel.fmax = fmax;
  mel.scale = mel_scale;
  mel.norm = mel_norm;
  return mel;
}

absl::Status ValidateFeatureConfig(const FeatureConfig& config) {
  if (auto s = CheckRangeOpenLow("sample_rate_hertz", config.sample_rate, 0.0, kMaxSampleRate); !s.ok()) {
    return s;
  }
  if (auto s = ValidateStftOptions(config.stft); !s.ok()) return s;
  if (config.power != 1.0 && config.power != 2.0) {
    return InvalidField("power", absl::StrFormat("must be 1 (magnitude) or 2 (power), got %g", config.power));
  }
  if (!std::isfinite(config.magnitude_epsilon) || config.magnitude_epsilon < 0.0) {
    return InvalidField("magnitude_epsilon", absl::StrFormat("must be >= 0, got %g", config.magnitude_epsilon));
  }
  if (auto s = ValidateMelOptions(config.mel_options()); !s.ok()) return s;
  return ValidateScaleOptions(config.scale);
}

namespace {

FeatureConfig TtsBase(std::string name, double sr) {
  FeatureConfig c;
  c.preset = std::move(name);
  c.sample_rate = sr;
  c.stft.n_fft = 1024;
  c.stft.hop_length = 256;
  c.stft.win_length = 1024;
  c.stft.center = true;
  c.stft.pad_mode = PadMode::kReflect;
  c.power = 1.0;
  c.magnitude_formula = MagnitudeFormula::kSqrtOfSquares;
  c.n_mels = 80;
  return c;
}

FeatureConfig Whisper(std::string name, int n_mels) {
  FeatureConfig c;
  c.preset = std::move(name);
  c.sample_rate = 16000.0;
  c.stft.n_fft = 400;
  c.stft.hop_length = 160;
  c.stft.win_length = 400;
  c.stft.center = true;
  c.stft.pad_mode = PadMode::kReflect;
  c.power = 2.0;
  c.n_mels = n_mels;
  c.drop_last_frame = true;
  c.scale.kind = ScaleKind::kWhisper;
  c.scale.clamp = 1e-10;
  return c;
}

}  // namespace

std::vector<std::string> PresetNames() {
  return {"librosa", "hifigan", "tacotron2", "espnet", "whisper", "whisper-128"};
}

absl::StatusOr<FeatureConfig> GetPreset(std::string_view name) {
  if (name == "librosa") {
    FeatureConfig c;  // the struct defaults are librosa.feature.melspectrogram's
    c.preset = "librosa";
    return c;
  }
  if (name == "hifigan") {
    FeatureConfig c = TtsBase("hifigan", 22050.0);
    c.framing = Framing::kHifiGanReflect;
    c.stft.center = false;
    c.magnitude_epsilon = 1e-9;
    c.fmax = 8000.0;
    c.scale.kind = ScaleKind::kLn;
    c.scale.clamp = 1e-5;
    return c;
  }
  if (name == "tacotron2") {
    FeatureConfig c = TtsBase("tacotron2", 22050.0);
    c.fmax = 8000.0;
    c.scale.kind = ScaleKind::kLn;
    c.scale.clamp = 1e-5;
    return c;
  }
  if (name == "espnet") {
    FeatureConfig c = TtsBase("espnet", 16000.0);
    c.fmin = 80.0;
    c.fmax = 7600.0;
    c.scale.kind = ScaleKind::kLog10;
    c.scale.clamp = 1e-10;
    return c;
  }
  if (name == "whisper") return Whisper("whisper", 80);
  if (name == "whisper-128") return Whisper("whisper-128", 128);
  // The name is the caller's: echo a bounded part of it.
  constexpr size_t kMaxEcho = 64;
  const std::string shown = name.size() <= kMaxEcho
                                ? std::string(name)
                                : absl::StrFormat("%s... (%d characters)", name.substr(0, kMaxEcho), name.size());
  return absl::NotFoundError(absl::StrFormat("preset \"%s\" is unknown; known presets: %s", shown,
                                             absl::StrJoin(PresetNames(), ", ")));
}

}  // namespace specinv
