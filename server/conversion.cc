// Copyright specinv authors.

#include "server/conversion.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/field_paths.h"
#include "server/status_mapping.h"
#include "specinv/base/field_error.h"
#include "specinv/base/job_cost.h"
#include "specinv/base/validate.h"
#include "specinv/io/npy.h"

namespace specinv::server {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian float32; big-endian hosts need byte swapping");

namespace {

std::string Join(absl::string_view path, absl::string_view field) {
  return path.empty() ? std::string(field) : absl::StrCat(path, ".", field);
}

template <typename Enum>
absl::Status UnknownEnum(absl::string_view path, Enum value) {
  return InvalidField(path, absl::StrFormat("has unknown value %d", static_cast<int>(value)));
}

// ---- enums ----------------------------------------------------------------

absl::Status ApplyWindow(v1::Window w, absl::string_view path, WindowType* out) {
  switch (w) {
    case v1::WINDOW_UNSPECIFIED: return absl::OkStatus();
    case v1::WINDOW_HANN: *out = WindowType::kHann; return absl::OkStatus();
    case v1::WINDOW_HAMMING: *out = WindowType::kHamming; return absl::OkStatus();
    case v1::WINDOW_BLACKMAN: *out = WindowType::kBlackman; return absl::OkStatus();
    case v1::WINDOW_RECTANGULAR: *out = WindowType::kRectangular; return absl::OkStatus();
    case v1::WINDOW_SQRT_HANN: *out = WindowType::kSqrtHann; return absl::OkStatus();
    default: return UnknownEnum(path, w);
  }
}

v1::Window ToProto(WindowType w) {
  switch (w) {
    case WindowType::kHann: return v1::WINDOW_HANN;
    case WindowType::kHamming: return v1::WINDOW_HAMMING;
    case WindowType::kBlackman: return v1::WINDOW_BLACKMAN;
    case WindowType::kRectangular: return v1::WINDOW_RECTANGULAR;
    case WindowType::kSqrtHann: return v1::WINDOW_SQRT_HANN;
  }
  return v1::WINDOW_UNSPECIFIED;
}

absl::Status ApplyScaleKind(v1::ScaleKind k, absl::string_view path, ScaleKind* out) {
  switch (k) {
    case v1::SCALE_KIND_UNSPECIFIED: return absl::OkStatus();
    case v1::SCALE_KIND_NONE: *out = ScaleKind::kNone; return absl::OkStatus();
    case v1::SCALE_KIND_POWER_DB: *out = ScaleKind::kPowerDb; return absl::OkStatus();
    case v1::SCALE_KIND_AMPLITUDE_DB: *out = ScaleKind::kAmplitudeDb; return absl::OkStatus();
    case v1::SCALE_KIND_LN: *out = ScaleKind::kLn; return absl::OkStatus();
    case v1::SCALE_KIND_LOG10: *out = ScaleKind::kLog10; return absl::OkStatus();
    case v1::SCALE_KIND_WHISPER: *out = ScaleKind::kWhisper; return absl::OkStatus();
    default: return UnknownEnum(path, k);
  }
}

v1::ScaleKind ToProto(ScaleKind k) {
  switch (k) {
    case ScaleKind::kNone: return v1::SCALE_KIND_NONE;
    case ScaleKind::kPowerDb: return v1::SCALE_KIND_POWER_DB;
    case ScaleKind::kAmplitudeDb: return v1::SCALE_KIND_AMPLITUDE_DB;
    case ScaleKind::kLn: return v1::SCALE_KIND_LN;
    case ScaleKind::kLog10: return v1::SCALE_KIND_LOG10;
    case ScaleKind::kWhisper: return v1::SCALE_KIND_WHISPER;
  }
  return v1::SCALE_KIND_UNSPECIFIED;
}

bool IsPcm(v1::AudioEncoding e) {
  return e == v1::AUDIO_ENCODING_PCM_FLOAT32_LE || e == v1::AUDIO_ENCODING_PCM_INT16_LE;
}

// First non-finite element of a (bins, frames) matrix, as an error.
absl::Status CheckMatrixFinite(const RealMatrix& m, absl::string_view path) {
  const float* data = m.data();
  const int64_t n = m.size();
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) {
      const int64_t bin = i % m.rows();
      const int64_t frame = i / m.rows();
      return InvalidField(path, absl::StrFormat("has %s at bin %d, frame %d; all values must be finite",
                                                std::isnan(data[i]) ? "NaN" : "Inf", bin, frame));
    }
  }
  return absl::OkStatus();
}

}  // namespace

// ---- SpectrogramConfig ------------------------------------------------------

absl::StatusOr<FeatureConfig> ToFeatureConfig(const v1::SpectrogramConfig& proto,
                                              const ServiceLimits& limits, absl::string_view path,
                                              bool needs_mel) {
  const std::string preset = proto.preset().empty() ? "librosa" : proto.preset();
  absl::StatusOr<FeatureConfig> base = GetPreset(preset);
  if (!base.ok()) return InvalidField(Join(path, "preset"), base.status().message());
  FeatureConfig c = *std::move(base);

  if (proto.has_sample_rate_hertz()) c.sample_rate = proto.sample_rate_hertz();
  if (proto.has_n_fft()) {
    // A preset whose window spans the whole FFT keeps doing so at the new size.
    if (!proto.has_win_length() && c.stft.win_length == c.stft.n_fft) c.stft.win_length = 0;
    c.stft.n_fft = proto.n_fft();
  }
  if (proto.has_hop_length()) c.stft.hop_length = proto.hop_length();
  if (proto.has_win_length()) c.stft.win_length = proto.win_length();
  if (auto s = ApplyWindow(proto.window(), Join(path, "window"), &c.stft.window); !s.ok()) return s;
  if (proto.has_center()) c.stft.center = proto.center();
  switch (proto.pad_mode()) {
    case v1::PAD_MODE_UNSPECIFIED: break;
    case v1::PAD_MODE_CONSTANT: c.stft.pad_mode = PadMode::kConstant; break;
    case v1::PAD_MODE_REFLECT: c.stft.pad_mode = PadMode::kReflect; break;
    default: return UnknownEnum(Join(path, "pad_mode"), proto.pad_mode());
  }
  switch (proto.framing()) {
    case v1::FRAMING_UNSPECIFIED: break;
    case v1::FRAMING_STFT: c.framing = Framing::kStft; break;
    case v1::FRAMING_HIFIGAN_REFLECT: c.framing = Framing::kHifiGanReflect; break;
    default: return UnknownEnum(Join(path, "framing"), proto.framing());
  }
  if (proto.has_magnitude_epsilon()) c.magnitude_epsilon = proto.magnitude_epsilon();
  if (proto.has_power()) c.power = proto.power();
  if (proto.has_n_mels()) c.n_mels = proto.n_mels();
  if (proto.has_fmin_hertz()) c.fmin = proto.fmin_hertz();
  if (proto.has_fmax_hertz()) c.fmax = proto.fmax_hertz();
  switch (proto.mel_scale()) {
    case v1::MEL_SCALE_UNSPECIFIED: break;
    case v1::MEL_SCALE_SLANEY: c.mel_scale = MelScale::kSlaney; break;
    case v1::MEL_SCALE_HTK: c.mel_scale = MelScale::kHtk; break;
    default: return UnknownEnum(Join(path, "mel_scale"), proto.mel_scale());
  }
  switch (proto.mel_norm()) {
    case v1::MEL_NORM_UNSPECIFIED: break;
    case v1::MEL_NORM_SLANEY: c.mel_norm = MelNorm::kSlaney; break;
    case v1::MEL_NORM_NONE: c.mel_norm = MelNorm::kNone; break;
    default: return UnknownEnum(Join(path, "mel_norm"), proto.mel_norm());
  }
  if (proto.has_drop_last_frame()) c.drop_last_frame = proto.drop_last_frame();

  const v1::ScaleConfig& scale = proto.scale();
  const std::string scale_path = Join(path, "scale");
  if (auto s = ApplyScaleKind(scale.kind(), Join(scale_path, "kind"), &c.scale.kind); !s.ok()) return s;
  switch (scale.reference_case()) {
    case v1::ScaleConfig::kRefValue: c.scale.ref = scale.ref_value(); break;
    case v1::ScaleConfig::kRefMax:
      if (scale.ref_max()) c.scale.ref.reset();
      break;
    case v1::ScaleConfig::REFERENCE_NOT_SET: break;
  }
  if (scale.has_amin()) c.scale.amin = scale.amin();
  switch (scale.dynamic_range_case()) {
    case v1::ScaleConfig::kTopDb: c.scale.top_db = scale.top_db(); break;
    case v1::ScaleConfig::kNoTopDb:
      if (scale.no_top_db()) c.scale.top_db.reset();
      break;
    case v1::ScaleConfig::DYNAMIC_RANGE_NOT_SET: break;
  }
  if (scale.has_clamp()) c.scale.clamp = scale.clamp();

  if (c.stft.n_fft > limits.max_n_fft && c.stft.n_fft <= kMaxFftSize) {
    return InvalidField(Join(path, "n_fft"),
                        absl::StrFormat("must be in [%d, %d] (server limit --max-n-fft), got %d",
                                        kMinFftSize, limits.max_n_fft, c.stft.n_fft));
  }
  if (!needs_mel) {
    if (auto s = CheckRangeOpenLow("sample_rate_hertz", c.sample_rate, 0.0, kMaxSampleRate); !s.ok()) {
      return ToRequestField(s, CoreFields::kFeatureConfig, path);
    }
    if (auto s = ValidateStftOptions(c.stft); !s.ok()) return ToRequestField(s, CoreFields::kFeatureConfig, path);
    if (!ValidateMelOptions(c.mel_options()).ok()) {
      c.n_mels = std::clamp(c.n_mels, 1, c.stft.n_fft / 2 + 1);
      c.fmin = 0.0;
      c.fmax.reset();
    }
  }
  if (auto s = ValidateFeatureConfig(c); !s.ok()) return ToRequestField(s, CoreFields::kFeatureConfig, path);
  return c;
}

void FromFeatureConfig(const FeatureConfig& c, v1::SpectrogramConfig* proto) {
  proto->Clear();
  proto->set_preset(c.preset);
  proto->set_sample_rate_hertz(c.sample_rate);
  proto->set_n_fft(c.stft.n_fft);
  proto->set_hop_length(c.stft.hop_length);
  proto->set_win_length(c.stft.effective_win_length());
  proto->set_window(ToProto(c.stft.window));
  proto->set_center(c.stft.center);
  proto->set_pad_mode(c.stft.pad_mode == PadMode::kReflect ? v1::PAD_MODE_REFLECT : v1::PAD_MODE_CONSTANT);
  proto->set_framing(c.framing == Framing::kHifiGanReflect ? v1::FRAMING_HIFIGAN_REFLECT : v1::FRAMING_STFT);
  proto->set_magnitude_epsilon(c.magnitude_epsilon);
  proto->set_power(c.power);
  proto->set_n_mels(c.n_mels);
  proto->set_fmin_hertz(c.fmin);
  proto->set_fmax_hertz(c.mel_options().effective_fmax());
  proto->set_mel_scale(c.mel_scale == MelScale::kHtk ? v1::MEL_SCALE_HTK : v1::MEL_SCALE_SLANEY);
  proto->set_mel_norm(c.mel_norm == MelNorm::kSlaney ? v1::MEL_NORM_SLANEY : v1::MEL_NORM_NONE);
  proto->set_drop_last_frame(c.drop_last_frame);
  v1::ScaleConfig* scale = proto->mutable_scale();
  scale->set_kind(ToProto(c.scale.kind));
  if (c.scale.ref.has_value()) {
    scale->set_ref_value(*c.scale.ref);
  } else {
    scale->set_ref_max(true);
  }
  scale->set_amin(c.scale.amin);
  if (c.scale.top_db.has_value()) {
    scale->set_top_db(*c.scale.top_db);
  } else {
    scale->set_no_top_db(true);
  }
  scale->set_clamp(c.scale.clamp);
}

// ---- Audio ------------------------------------------------------------------

absl::StatusOr<AudioInput> ToAudioInput(const v1::Audio& audio, double target_sample_rate,
                                        const ServiceLimits& limits, absl::string_view path) {
  AudioInput input;
  input.message = &audio;
  input.path = std::string(path);
  input.shape.target_rate = target_sample_rate;
  switch (audio.content_case()) {
    case v1::Audio::kEncodedData: {
      if (IsPcm(audio.encoding())) {
        return InvalidField(Join(path, "encoding"),
                            absl::StrFormat("is %s, a raw PCM encoding; raw PCM goes in pcm_data",
                                            v1::AudioEncoding_Name(audio.encoding())));
      }
      if (!v1::AudioEncoding_IsValid(audio.encoding())) return UnknownEnum(Join(path, "encoding"), audio.encoding());
      input.field = Join(path, "encoded_data");
      absl::StatusOr<AudioProbe> probe = ProbeAudio(AsBytes(audio.encoded_data()));
      if (!probe.ok()) return WithField(probe.status(), input.field);
      input.shape.source_rate = probe->sample_rate;
      input.shape.channels = probe->channels;
      input.shape.frames = probe->frames;
      if (probe->frames < 0) {
        // No declared length (e.g. a streamed container): bound it by what
        // the decoder will accept, --max-audio-seconds at the source rate.
        input.shape.frames = static_cast<int64_t>(std::ceil(limits.max_audio_seconds * probe->sample_rate));
      }
      break;
    }
    case v1::Audio::kPcmData: {
      if (!IsPcm(audio.encoding())) {
        return InvalidField(
            Join(path, "encoding"),
            absl::StrFormat("must be AUDIO_ENCODING_PCM_FLOAT32_LE or AUDIO_ENCODING_PCM_INT16_LE with "
                            "pcm_data, got %s",
                            v1::AudioEncoding_IsValid(audio.encoding())
                                ? v1::AudioEncoding_Name(audio.encoding())
                                : std::to_string(static_cast<int>(audio.encoding()))));
      }
      if (audio.sample_rate_hertz() <= 0 || audio.sample_rate_hertz() > kMaxSampleRateHz) {
        return InvalidField(Join(path, "sample_rate_hertz"),
                            absl::StrFormat("must be in (0, %g] with pcm_data, got %d", kMaxSampleRateHz,
                                            audio.sample_rate_hertz()));
      }
      if (audio.channel_count() < 1 || audio.channel_count() > kMaxChannels) {
        return InvalidField(Join(path, "channel_count"),
                            absl::StrFormat("must be in [1, %d] with pcm_data, got %d", kMaxChannels,
                                            audio.channel_count()));
      }
      input.field = Join(path, "pcm_data");
      const int64_t bytes_per_sample = audio.encoding() == v1::AUDIO_ENCODING_PCM_FLOAT32_LE ? 4 : 2;
      input.shape.source_rate = audio.sample_rate_hertz();
      input.shape.channels = audio.channel_count();
      input.shape.frames = static_cast<int64_t>(audio.pcm_data().size()) / (bytes_per_sample * audio.channel_count());
      break;
    }
    case v1::Audio::CONTENT_NOT_SET:
      return InvalidField(path, "is required: set encoded_data or pcm_data");
  }
  if (input.shape.source_rate > 0.0 && target_sample_rate > 0.0) {
    const bool pcm = audio.content_case() == v1::Audio::kPcmData;
    if (absl::Status s = ValidateResampleRatio(input.shape.source_rate, target_sample_rate); !s.ok()) {
      return WithField(s, pcm ? Join(path, "sample_rate_hertz") : input.field);
    }
  }
  if (input.shape.frames > 0 && input.shape.source_rate > 0.0 && DecodedSamples(input.shape) < 1) {
    return InvalidField(input.field,
                        absl::StrFormat("has %d samples at %g Hz, which resample to no sample at all at the "
                                        "configured %g Hz (config.sample_rate_hertz)",
                                        input.shape.frames, input.shape.source_rate, target_sample_rate));
  }
  return input;
}

double AudioInput::source_seconds() const {
  return shape.source_rate > 0.0 ? static_cast<double>(std::max<int64_t>(shape.frames, 0)) / shape.source_rate : 0.0;
}

int64_t AudioInput::samples() const { return DecodedSamples(shape); }

absl::StatusOr<specinv::Audio> DecodeAudioInput(const AudioInput& input, const ServiceLimits& limits,
                                                std::function<absl::Status()> check) {
  const v1::Audio& audio = *input.message;
  DecodeOptions options;
  options.target_sample_rate = input.shape.target_rate;
  options.max_duration_seconds = limits.max_audio_seconds;
  options.check = std::move(check);
  absl::StatusOr<specinv::Audio> decoded;
  if (audio.content_case() == v1::Audio::kEncodedData) {
    decoded = DecodeAudio(AsBytes(audio.encoded_data()), options);
  } else {
    const PcmFormat format =
        audio.encoding() == v1::AUDIO_ENCODING_PCM_FLOAT32_LE ? PcmFormat::kF32Le : PcmFormat::kS16Le;
    decoded = DecodeRawPcm(AsBytes(audio.pcm_data()), format, audio.sample_rate_hertz(), audio.channel_count(),
                           options);
  }
  if (!decoded.ok()) {
    absl::Status s = decoded.status();
    if (absl::StrContains(s.message(), "max_duration_seconds")) {
      s = absl::InvalidArgumentError(absl::StrCat(
          s.message(), " (server limit --max-audio-seconds=", limits.max_audio_seconds, ")"));
    }
    if (s.code() == absl::StatusCode::kCancelled || s.code() == absl::StatusCode::kDeadlineExceeded) return s;
    return WithField(s, input.field);
  }
  return decoded;
}

namespace {

// The core encoder of a file encoding; nullopt for raw PCM (and unknown).
std::optional<AudioEncoding> CoreEncoding(v1::AudioEncoding encoding) {
  switch (encoding) {
    case v1::AUDIO_ENCODING_UNSPECIFIED:
    case v1::AUDIO_ENCODING_WAV_PCM16: return AudioEncoding::kWavPcm16;
    case v1::AUDIO_ENCODING_WAV_FLOAT32: return AudioEncoding::kWavFloat32;
    case v1::AUDIO_ENCODING_FLAC: return AudioEncoding::kFlac;
    case v1::AUDIO_ENCODING_OGG_VORBIS: return AudioEncoding::kOggVorbis;
    case v1::AUDIO_ENCODING_MP3: return AudioEncoding::kMp3;
    case v1::AUDIO_ENCODING_OGG_OPUS: return AudioEncoding::kOggOpus;
    case v1::AUDIO_ENCODING_WAV_MULAW: return AudioEncoding::kWavMulaw;
    case v1::AUDIO_ENCODING_WAV_ALAW: return AudioEncoding::kWavAlaw;
    default: return std::nullopt;
  }
}

bool IsRawPcm(v1::AudioEncoding encoding) {
  return encoding == v1::AUDIO_ENCODING_PCM_FLOAT32_LE || encoding == v1::AUDIO_ENCODING_PCM_INT16_LE;
}

// Core options for `output`; raw PCM has no codec rate rules, so it is
// planned as float WAV (the same resampling).
EncodeOptions CoreEncodeOptions(const v1::AudioOutputOptions& output) {
  EncodeOptions options;
  options.encoding = CoreEncoding(output.encoding()).value_or(AudioEncoding::kWavFloat32);
  options.sample_rate = output.sample_rate_hertz();
  return options;
}

}  // namespace

absl::Status ValidateAudioOutput(const v1::AudioOutputOptions& output, double sample_rate, absl::string_view path) {
  if (!v1::AudioEncoding_IsValid(output.encoding())) return UnknownEnum(Join(path, "encoding"), output.encoding());
  if (const std::optional<AudioEncoding> core = CoreEncoding(output.encoding());
      core.has_value() && !EncodingSupported(*core)) {
    return InvalidField(Join(path, "encoding"),
                        absl::StrFormat("%s cannot be produced by this server (its libsndfile was built without "
                                        "it); use WAV_PCM16, WAV_FLOAT32, FLAC, OGG_OPUS or the PCM encodings",
                                        v1::AudioEncoding_Name(output.encoding())));
  }
  // The upper bound (--max-audio-seconds) is admission's (admission.h).
  if (output.has_length_samples() && output.length_samples() < 1) {
    return InvalidField(Join(path, "length_samples"),
                        absl::StrFormat("must be >= 1, got %d", output.length_samples()));
  }
  if (std::floor(sample_rate) != sample_rate) {
    return InvalidField("config.sample_rate_hertz",
                        absl::StrFormat("must be a whole number of hertz to produce audio, got %g", sample_rate));
  }
  if (output.sample_rate_hertz() != 0) {
    // Core owns the rate rules (bounds, resampling ratio); the length is
    // checked at admission, so plan a length any allowed ratio keeps
    // non-empty (2^20 > kMaxResampleRatio).
    absl::StatusOr<EncodedShape> shape = PlanEncode(int64_t{1} << 20, sample_rate, CoreEncodeOptions(output));
    if (!shape.ok()) return WithFieldPrefix(shape.status(), std::string_view(path.data(), path.size()));
  }
  return absl::OkStatus();
}

EncodedShape OutputAudioShape(const v1::AudioOutputOptions& output, double sample_rate, int64_t samples) {
  EncodeOptions options = CoreEncodeOptions(output);
  if (IsRawPcm(output.encoding()) && options.sample_rate == 0) options.sample_rate = sample_rate;
  absl::StatusOr<EncodedShape> shape = PlanEncode(std::max<int64_t>(samples, 1), sample_rate, options);
  if (!shape.ok()) return EncodedShape{sample_rate, samples};
  return *shape;
}

int64_t EncodedAudioBytes(int64_t samples, v1::AudioEncoding encoding) {
  int64_t bytes_per_sample = 2;
  switch (encoding) {
    case v1::AUDIO_ENCODING_WAV_FLOAT32:
    case v1::AUDIO_ENCODING_PCM_FLOAT32_LE: bytes_per_sample = 4; break;
    case v1::AUDIO_ENCODING_WAV_MULAW:
    case v1::AUDIO_ENCODING_WAV_ALAW: bytes_per_sample = 1; break;
    // Lossy codecs: bounded by 16-bit PCM (their default bitrates are far
    // below 16 bits per sample; Ogg/MP3 framing fits the slack).
    default: break;
  }
  return SaturatingAdd(SaturatingMul(samples, bytes_per_sample), 4096);
}

int64_t EncodeWorkingBytes(int64_t samples, v1::AudioEncoding encoding, bool resampled) {
  const int64_t copy = resampled ? SaturatingMul(samples, 4) : 0;
  return SaturatingAdd(copy, EncodedAudioBytes(samples, encoding));
}

absl::Status EncodeAudioMessage(std::span<const float> samples, double sample_rate, v1::AudioEncoding encoding,
                                v1::Audio* audio) {
  v1::AudioOutputOptions output;
  output.set_encoding(encoding);
  return EncodeAudioMessage(samples, sample_rate, output, audio);
}

absl::Status EncodeAudioMessage(std::span<const float> samples, double sample_rate,
                                const v1::AudioOutputOptions& output, v1::Audio* audio,
                                const std::function<absl::Status()>& check) {
  audio->Clear();
  const v1::AudioEncoding encoding = output.encoding();
  double rate = sample_rate;
  int64_t count = static_cast<int64_t>(samples.size());
  if (const std::optional<AudioEncoding> core = CoreEncoding(encoding); core.has_value()) {
    EncodeOptions options = CoreEncodeOptions(output);
    options.check = check;
    absl::StatusOr<EncodedAudio> encoded = specinv::EncodeAudio(samples, sample_rate, options);
    if (!encoded.ok()) return encoded.status();
    rate = encoded->sample_rate;
    count = encoded->samples;
    audio->set_encoded_data(std::move(encoded->bytes));
    audio->set_encoding(encoding == v1::AUDIO_ENCODING_UNSPECIFIED ? v1::AUDIO_ENCODING_WAV_PCM16 : encoding);
  } else if (IsRawPcm(encoding)) {
    std::vector<float> resampled;
    if (output.sample_rate_hertz() != 0 && output.sample_rate_hertz() != sample_rate) {
      absl::StatusOr<std::vector<float>> r = Resample(samples, sample_rate, output.sample_rate_hertz(), check);
      if (!r.ok()) return r.status();
      resampled = *std::move(r);
      samples = resampled;
      rate = output.sample_rate_hertz();
      count = static_cast<int64_t>(samples.size());
    }
    std::string* out = audio->mutable_pcm_data();
    if (encoding == v1::AUDIO_ENCODING_PCM_FLOAT32_LE) {
      out->resize(samples.size() * sizeof(float));
      if (!samples.empty()) std::memcpy(out->data(), samples.data(), out->size());
    } else {
      out->resize(samples.size() * sizeof(int16_t));
      for (size_t i = 0; i < samples.size(); ++i) {
        const float scaled = std::nearbyint(samples[i] * 32768.0f);
        const auto v = static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
        std::memcpy(out->data() + i * sizeof(int16_t), &v, sizeof(v));
      }
    }
    audio->set_encoding(encoding);
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("output encoding %d cannot be produced", static_cast<int>(encoding)));
  }
  audio->set_sample_rate_hertz(static_cast<int32_t>(rate));
  audio->set_channel_count(1);
  audio->set_duration_seconds(static_cast<double>(count) / rate);
  return absl::OkStatus();
}

// ---- Tensors ----------------------------------------------------------------

namespace {

absl::Status CheckComplexMatrixFinite(const ComplexMatrix& m, absl::string_view path) {
  for (int64_t i = 0; i < m.size(); ++i) {
    const std::complex<float> v = m.data()[i];
    if (!std::isfinite(v.real()) || !std::isfinite(v.imag())) {
      return InvalidField(path, absl::StrFormat("has a non-finite value at bin %d, frame %d; all values must be "
                                                "finite",
                                                i % m.rows(), i / m.rows()));
    }
  }
  return absl::OkStatus();
}

// What differs between a real and a complex spectrogram tensor: the float32
// shape (a complex one has a trailing 2; sizeof(Scalar) bytes per element),
// the .npy dtype and the finiteness message.
template <typename Matrix>
struct TensorKind;

template <>
struct TensorKind<RealMatrix> {
  static constexpr const char* kShapeSuffix = "";
  static absl::Status CheckShape(const v1::Tensor& tensor, bool frames_bins, absl::string_view path) {
    if (tensor.shape_size() == 2) return absl::OkStatus();
    return InvalidField(Join(path, "shape"), absl::StrFormat("must have 2 dimensions (%s), got %d",
                                                             frames_bins ? "frames, bins" : "bins, frames",
                                                             tensor.shape_size()));
  }
  static constexpr bool kComplex = false;
  static constexpr const char* kWrongNpy = "holds a complex array; a real (float32/float64) one is needed";
  static absl::StatusOr<RealMatrix> FromNpy(const NpyArray& array, MatrixLayout layout) {
    return NpyToRealMatrix(array, layout);
  }
  static absl::Status CheckFinite(const RealMatrix& m, absl::string_view path) { return CheckMatrixFinite(m, path); }
};

template <>
struct TensorKind<ComplexMatrix> {
  static constexpr const char* kShapeSuffix = ", 2";
  static absl::Status CheckShape(const v1::Tensor& tensor, bool frames_bins, absl::string_view path) {
    if (tensor.shape_size() == 3 && tensor.shape(2) == 2) return absl::OkStatus();
    return InvalidField(Join(path, "shape"),
                        absl::StrFormat("must be (%s, 2) for a complex spectrogram, got [%s]",
                                        frames_bins ? "frames, bins" : "bins, frames",
                                        absl::StrJoin(tensor.shape(), ", ")));
  }
  static constexpr bool kComplex = true;
  static constexpr const char* kWrongNpy = "holds a real array; a complex64 one is needed";
  static absl::StatusOr<ComplexMatrix> FromNpy(const NpyArray& array, MatrixLayout layout) {
    return NpyToComplexMatrix(array, layout);
  }
  static absl::Status CheckFinite(const ComplexMatrix& m, absl::string_view path) {
    return CheckComplexMatrixFinite(m, path);
  }
};

template <typename Matrix>
absl::StatusOr<Matrix> TensorToMatrix(const v1::Tensor& tensor, absl::string_view path) {
  using Kind = TensorKind<Matrix>;
  using Scalar = typename Matrix::Scalar;
  constexpr int64_t kBytes = static_cast<int64_t>(sizeof(Scalar));  // 4 per float32 value
  const bool frames_bins = tensor.layout() == v1::TENSOR_LAYOUT_FRAMES_BINS;
  if (!v1::TensorLayout_IsValid(tensor.layout())) return UnknownEnum(Join(path, "layout"), tensor.layout());
  Matrix m;
  switch (tensor.content_case()) {
    case v1::Tensor::kFloat32Data: {
      if (auto s = Kind::CheckShape(tensor, frames_bins, path); !s.ok()) return s;
      const int64_t d0 = tensor.shape(0);
      const int64_t d1 = tensor.shape(1);
      constexpr int64_t kMaxDim = int64_t{1} << 31;
      if (d0 < 1 || d1 < 1 || d0 > kMaxDim || d1 > kMaxDim) {
        return InvalidField(Join(path, "shape"), absl::StrFormat("dimensions must be in [1, 2^31], got [%d, %d%s]",
                                                                 d0, d1, Kind::kShapeSuffix));
      }
      const auto bytes = static_cast<int64_t>(tensor.float32_data().size());
      if (d0 * d1 > std::numeric_limits<int64_t>::max() / kBytes || bytes != d0 * d1 * kBytes) {
        return InvalidField(Join(path, "float32_data"),
                            absl::StrFormat("has %d bytes; shape [%d, %d%s] needs %d (4 bytes per value)", bytes, d0,
                                            d1, Kind::kShapeSuffix, d0 * d1 * kBytes));
      }
      const char* src = tensor.float32_data().data();
      if (frames_bins) {
        // C-order (frames, bins) is the column-major (bins, frames) layout.
        m.resize(d1, d0);
        std::memcpy(static_cast<void*>(m.data()), src, static_cast<size_t>(bytes));
      } else {
        // C-order (bins, frames): copy row by row into the column-major matrix.
        m.resize(d0, d1);
        std::vector<Scalar> row(static_cast<size_t>(d1));
        for (int64_t b = 0; b < d0; ++b) {
          std::memcpy(static_cast<void*>(row.data()), src + b * d1 * kBytes, static_cast<size_t>(d1 * kBytes));
          for (int64_t f = 0; f < d1; ++f) m(b, f) = row[static_cast<size_t>(f)];
        }
      }
      break;
    }
    case v1::Tensor::kNpyData: {
      absl::StatusOr<NpyArray> array = ParseNpy(AsBytes(tensor.npy_data()));
      if (!array.ok()) return WithField(array.status(), Join(path, "npy_data"));
      if (tensor.shape_size() != 0 &&
          !std::equal(tensor.shape().begin(), tensor.shape().end(), array->shape.begin(), array->shape.end())) {
        return InvalidField(Join(path, "shape"),
                            absl::StrFormat("is [%s] but the .npy array has shape [%s]",
                                            absl::StrJoin(tensor.shape(), ", "), absl::StrJoin(array->shape, ", ")));
      }
      if (array->is_complex() != Kind::kComplex) return InvalidField(Join(path, "npy_data"), Kind::kWrongNpy);
      absl::StatusOr<Matrix> converted =
          Kind::FromNpy(*array, frames_bins ? MatrixLayout::kFramesBins : MatrixLayout::kBinsFrames);
      if (!converted.ok()) return WithField(converted.status(), Join(path, "npy_data"));
      m = *std::move(converted);
      if (m.rows() < 1 || m.cols() < 1) {
        return InvalidField(Join(path, "npy_data"), absl::StrFormat("array is empty (%d x %d)", m.rows(), m.cols()));
      }
      break;
    }
    case v1::Tensor::CONTENT_NOT_SET:
      return InvalidField(path, "is required: set float32_data (with shape) or npy_data");
  }
  if (auto s = Kind::CheckFinite(m, path); !s.ok()) return s;
  return m;
}

}  // namespace

absl::StatusOr<RealMatrix> TensorToRealMatrix(const v1::Tensor& tensor, absl::string_view path) {
  return TensorToMatrix<RealMatrix>(tensor, path);
}

absl::StatusOr<ComplexMatrix> TensorToComplexMatrix(const v1::Tensor& tensor, absl::string_view path) {
  return TensorToMatrix<ComplexMatrix>(tensor, path);
}

void RealMatrixToTensor(const RealMatrix& matrix, v1::TensorFormat format, v1::TensorLayout layout,
                        v1::Tensor* tensor) {
  tensor->Clear();
  const bool frames_bins = layout == v1::TENSOR_LAYOUT_FRAMES_BINS;
  tensor->set_layout(frames_bins ? v1::TENSOR_LAYOUT_FRAMES_BINS : v1::TENSOR_LAYOUT_BINS_FRAMES);
  if (frames_bins) {
    tensor->add_shape(matrix.cols());
    tensor->add_shape(matrix.rows());
  } else {
    tensor->add_shape(matrix.rows());
    tensor->add_shape(matrix.cols());
  }
  if (format == v1::TENSOR_FORMAT_NPY) {
    tensor->set_npy_data(
        RealMatrixToNpy(matrix, frames_bins ? MatrixLayout::kFramesBins : MatrixLayout::kBinsFrames));
    return;
  }
  std::string* out = tensor->mutable_float32_data();
  out->resize(static_cast<size_t>(matrix.size()) * sizeof(float));
  if (frames_bins) {
    std::memcpy(out->data(), matrix.data(), out->size());
  } else {
    const int64_t frames = matrix.cols();
    std::vector<float> row(static_cast<size_t>(frames));
    for (int64_t b = 0; b < matrix.rows(); ++b) {
      for (int64_t f = 0; f < frames; ++f) row[static_cast<size_t>(f)] = matrix(b, f);
      std::memcpy(out->data() + b * frames * 4, row.data(), static_cast<size_t>(frames) * 4);
    }
  }
}

void ComplexMatrixToTensor(const ComplexMatrix& matrix, v1::TensorFormat format, v1::TensorLayout layout,
                           v1::Tensor* tensor) {
  tensor->Clear();
  const bool frames_bins = layout == v1::TENSOR_LAYOUT_FRAMES_BINS;
  tensor->set_layout(frames_bins ? v1::TENSOR_LAYOUT_FRAMES_BINS : v1::TENSOR_LAYOUT_BINS_FRAMES);
  if (frames_bins) {
    tensor->add_shape(matrix.cols());
    tensor->add_shape(matrix.rows());
  } else {
    tensor->add_shape(matrix.rows());
    tensor->add_shape(matrix.cols());
  }
  if (format == v1::TENSOR_FORMAT_NPY) {
    tensor->set_npy_data(
        ComplexMatrixToNpy(matrix, frames_bins ? MatrixLayout::kFramesBins : MatrixLayout::kBinsFrames));
    return;
  }
  tensor->add_shape(2);
  std::string* out = tensor->mutable_float32_data();
  out->resize(static_cast<size_t>(matrix.size()) * 2 * sizeof(float));
  if (frames_bins) {
    std::memcpy(out->data(), matrix.data(), out->size());
  } else {
    const int64_t frames = matrix.cols();
    std::vector<std::complex<float>> row(static_cast<size_t>(frames));
    for (int64_t b = 0; b < matrix.rows(); ++b) {
      for (int64_t f = 0; f < frames; ++f) row[static_cast<size_t>(f)] = matrix(b, f);
      std::memcpy(out->data() + b * frames * 8, row.data(), static_cast<size_t>(frames) * 8);
    }
  }
}

// ---- Inversion options ------------------------------------------------------

v1::InversionMethod ToProtoMethod(InversionMethod method) {
  switch (method) {
    case InversionMethod::kGriffinLim: return v1::INVERSION_METHOD_GL;
    case InversionMethod::kFastGriffinLim: return v1::INVERSION_METHOD_FGLA;
    case InversionMethod::kPghi: return v1::INVERSION_METHOD_PGHI;
    case InversionMethod::kPghiFgla: return v1::INVERSION_METHOD_PGHI_FGLA;
    case InversionMethod::kRefine: return v1::INVERSION_METHOD_REFINE;
    case InversionMethod::kJoint: return v1::INVERSION_METHOD_JOINT;
  }
  return v1::INVERSION_METHOD_UNSPECIFIED;
}

absl::StatusOr<InversionOptions> ToInversionOptions(const v1::InversionOptions& proto, bool mel_input,
                                                    int num_bins, int64_t num_frames,
                                                    const ServiceLimits& limits, absl::string_view path) {
  InversionOptions o;
  o.max_iterations = limits.max_iterations;
  switch (proto.method()) {
    case v1::INVERSION_METHOD_UNSPECIFIED:
    case v1::INVERSION_METHOD_FGLA: o.method = InversionMethod::kFastGriffinLim; break;
    case v1::INVERSION_METHOD_GL: o.method = InversionMethod::kGriffinLim; break;
    case v1::INVERSION_METHOD_PGHI: o.method = InversionMethod::kPghi; break;
    case v1::INVERSION_METHOD_PGHI_FGLA: o.method = InversionMethod::kPghiFgla; break;
    case v1::INVERSION_METHOD_REFINE: o.method = InversionMethod::kRefine; break;
    case v1::INVERSION_METHOD_JOINT:
      if (!mel_input) {
        return InvalidField(Join(path, "method"),
                            "must not be INVERSION_METHOD_JOINT for a linear magnitude (joint needs mel "
                            "input: use InvertMel)");
      }
      o.method = InversionMethod::kJoint;
      break;
    default: return UnknownEnum(Join(path, "method"), proto.method());
  }
  if (proto.has_iterations()) {
    if (proto.iterations() < 0 || proto.iterations() > limits.max_iterations) {
      return InvalidField(Join(path, "iterations"),
                          absl::StrFormat("must be in [0, %d] (server limit --max-iterations), got %d",
                                          limits.max_iterations, proto.iterations()));
    }
    o.iterations = proto.iterations();
  }
  if (proto.has_momentum()) {
    if (!std::isfinite(proto.momentum()) || proto.momentum() < 0.0 || proto.momentum() >= 2.0) {
      return InvalidField(Join(path, "momentum"),
                          absl::StrFormat("must be in [0, 2), got %g", proto.momentum()));
    }
    o.momentum = proto.momentum();
  }
  switch (proto.phase_init()) {
    case v1::PHASE_INIT_UNSPECIFIED:
    case v1::PHASE_INIT_ZERO: o.init = PhaseInit::kZero; break;
    case v1::PHASE_INIT_RANDOM: o.init = PhaseInit::kRandom; break;
    case v1::PHASE_INIT_GIVEN: {
      if (!proto.has_initial_phase()) {
        return InvalidField(Join(path, "initial_phase"), "is required with PHASE_INIT_GIVEN");
      }
      absl::StatusOr<RealMatrix> phase = TensorToRealMatrix(proto.initial_phase(), Join(path, "initial_phase"));
      if (!phase.ok()) return phase.status();
      if (phase->rows() != num_bins || phase->cols() != num_frames) {
        return InvalidField(Join(path, "initial_phase"),
                            absl::StrFormat("must be (bins=%d, frames=%d) like the spectrogram, got (%d, %d)",
                                            num_bins, num_frames, phase->rows(), phase->cols()));
      }
      o.init = PhaseInit::kGiven;
      o.initial_phase = *std::move(phase);
      break;
    }
    default: return UnknownEnum(Join(path, "phase_init"), proto.phase_init());
  }
  o.seed = proto.seed();
  if (proto.has_tolerance()) {
    if (!std::isfinite(proto.tolerance()) || proto.tolerance() < 0.0 || proto.tolerance() > 1.0) {
      return InvalidField(Join(path, "tolerance"), absl::StrFormat("must be in [0, 1], got %g", proto.tolerance()));
    }
    o.tolerance = proto.tolerance();
  }
  if (proto.has_time_budget_seconds()) {
    if (!std::isfinite(proto.time_budget_seconds()) || proto.time_budget_seconds() < 0.0) {
      return InvalidField(Join(path, "time_budget_seconds"),
                          absl::StrFormat("must be finite and >= 0, got %g", proto.time_budget_seconds()));
    }
    o.time_budget_seconds = proto.time_budget_seconds();
  }
  if (proto.has_refine_iterations()) {
    if (proto.refine_iterations() < 0 || proto.refine_iterations() > limits.max_iterations) {
      return InvalidField(Join(path, "refine_iterations"),
                          absl::StrFormat("must be in [0, %d] (server limit --max-iterations), got %d",
                                          limits.max_iterations, proto.refine_iterations()));
    }
    o.refine_iterations = proto.refine_iterations();
  }
  o.refine_log_domain = proto.refine_log_domain();
  switch (proto.mel_inverse()) {
    case v1::MEL_INVERSE_UNSPECIFIED: o.mel_inverse.reset(); break;  // the method's default
    case v1::MEL_INVERSE_NNLS: o.mel_inverse = MelInverseMethod::kNnls; break;
    case v1::MEL_INVERSE_PSEUDO_INVERSE: o.mel_inverse = MelInverseMethod::kPseudoInverse; break;
    case v1::MEL_INVERSE_LOBES: o.mel_inverse = MelInverseMethod::kLobes; break;
    case v1::MEL_INVERSE_HARMONIC: o.mel_inverse = MelInverseMethod::kHarmonic; break;
    default: return UnknownEnum(Join(path, "mel_inverse"), proto.mel_inverse());
  }
  if (proto.has_nnls_iterations()) o.nnls_iterations = proto.nnls_iterations();  // core checks the range
  if (proto.has_progress_interval_iterations() &&
      (proto.progress_interval_iterations() < 1 || proto.progress_interval_iterations() > 1000)) {
    return InvalidField(Join(path, "progress_interval_iterations"),
                        absl::StrFormat("must be in [1, 1000], got %d", proto.progress_interval_iterations()));
  }
  return o;
}

}  // namespace specinv::server
