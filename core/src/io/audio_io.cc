// Copyright specinv authors.

#include "specinv/io/audio_io.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <functional>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

constexpr sf_count_t kChunkFrames = 4096;
// Decoded chunks between cancellation checks: 64 x 4096 frames, a few
// milliseconds even for compressed formats.
constexpr int64_t kChunksPerCheck = 64;
// Input samples per libsoxr call when resampling with a cancellation check.
constexpr size_t kResampleBlock = size_t{1} << 18;

// ---------------------------------------------------------------------------
// libsndfile virtual I/O over a memory buffer.

// Read-only view for decoding.
struct ReadBuffer {
  std::span<const uint8_t> data;
  sf_count_t pos = 0;
};

// Growable buffer for encoding; writes past the end extend it (zero-filled
// when a seek left a gap).
struct WriteBuffer {
  std::string data;
  sf_count_t pos = 0;
};

template <typename Buffer>
sf_count_t VioGetLength(void* user) {
  return static_cast<sf_count_t>(static_cast<Buffer*>(user)->data.size());
}

template <typename Buffer>
sf_count_t VioSeek(sf_count_t offset, int whence, void* user) {
  auto* buffer = static_cast<Buffer*>(user);
  sf_count_t base = 0;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = buffer->pos;
      break;
    case SEEK_END:
      base = static_cast<sf_count_t>(buffer->data.size());
      break;
    default:
      return -1;
  }
  const sf_count_t target = base + offset;
  if (target < 0) return -1;
  buffer->pos = target;
  return target;
}

template <typename Buffer>
sf_count_t VioTell(void* user) {
  return static_cast<Buffer*>(user)->pos;
}

sf_count_t ReadVioRead(void* ptr, sf_count_t count, void* user) {
  auto* buffer = static_cast<ReadBuffer*>(user);
  const auto size = static_cast<sf_count_t>(buffer->data.size());
  if (count <= 0 || buffer->pos >= size) return 0;
  const sf_count_t n = std::min(count, size - buffer->pos);
  std::memcpy(ptr, buffer->data.data() + buffer->pos, static_cast<size_t>(n));
  buffer->pos += n;
  return n;
}

sf_count_t ReadVioWrite(const void* /*ptr*/, sf_count_t /*count*/, void* /*user*/) { return 0; }

sf_count_t WriteVioRead(void* ptr, sf_count_t count, void* user) {
  auto* buffer = static_cast<WriteBuffer*>(user);
  const auto size = static_cast<sf_count_t>(buffer->data.size());
  if (count <= 0 || buffer->pos >= size) return 0;
  const sf_count_t n = std::min(count, size - buffer->pos);
  std::memcpy(ptr, buffer->data.data() + buffer->pos, static_cast<size_t>(n));
  buffer->pos += n;
  return n;
}

sf_count_t WriteVioWrite(const void* ptr, sf_count_t count, void* user) {
  auto* buffer = static_cast<WriteBuffer*>(user);
  if (count <= 0) return 0;
  const auto end = static_cast<size_t>(buffer->pos + count);
  if (end > buffer->data.size()) buffer->data.resize(end, '\0');
  std::memcpy(buffer->data.data() + buffer->pos, ptr, static_cast<size_t>(count));
  buffer->pos += count;
  return count;
}

SF_VIRTUAL_IO MakeReadVio() {
  SF_VIRTUAL_IO vio{};
  vio.get_filelen = &VioGetLength<ReadBuffer>;
  vio.seek = &VioSeek<ReadBuffer>;
  vio.read = &ReadVioRead;
  vio.write = &ReadVioWrite;
  vio.tell = &VioTell<ReadBuffer>;
  return vio;
}

SF_VIRTUAL_IO MakeWriteVio() {
  SF_VIRTUAL_IO vio{};
  vio.get_filelen = &VioGetLength<WriteBuffer>;
  vio.seek = &VioSeek<WriteBuffer>;
  vio.read = &WriteVioRead;
  vio.write = &WriteVioWrite;
  vio.tell = &VioTell<WriteBuffer>;
  return vio;
}

struct SndfileCloser {
  void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// ---------------------------------------------------------------------------
// Helpers.

std::string MajorFormatName(int major) {
  SF_FORMAT_INFO info{};
  info.format = major;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) == 0 && info.name != nullptr) {
    return info.name;
  }
  return absl::StrFormat("0x%06x", major);
}

bool IsAllowedMajorFormat(int major) {
  return major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX || major == SF_FORMAT_RF64 ||
         major == SF_FORMAT_FLAC || major == SF_FORMAT_OGG || major == SF_FORMAT_MPEG;
}

// ID3v2 tag or an MPEG audio frame sync word.
bool LooksLikeMp3(std::span<const uint8_t> bytes) {
  if (bytes.size() >= 3 && bytes[0] == 'I' && bytes[1] == 'D' && bytes[2] == '3') return true;
  return bytes.size() >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0;
}

uint32_t ReadLe32(std::span<const uint8_t> bytes, size_t at) {
  return static_cast<uint32_t>(bytes[at]) | (static_cast<uint32_t>(bytes[at + 1]) << 8) |
         (static_cast<uint32_t>(bytes[at + 2]) << 16) | (static_cast<uint32_t>(bytes[at + 3]) << 24);
}

// libsndfile silently shortens a RIFF/WAVE file whose data chunk is cut off;
// detect it here. Sizes 0 and 0xFFFFFFFF are used by streaming writers (and
// RF64) for "unknown" and are accepted.
absl::Status CheckWavNotTruncated(std::span<const uint8_t> bytes) {
  if (bytes.size() < 12 || std::memcmp(bytes.data(), "RIFF", 4) != 0 ||
      std::memcmp(bytes.data() + 8, "WAVE", 4) != 0) {
    return absl::OkStatus();
  }
  size_t pos = 12;
  while (pos + 8 <= bytes.size()) {
    const uint32_t chunk_size = ReadLe32(bytes, pos + 4);
    const size_t body = pos + 8;
    if (std::memcmp(bytes.data() + pos, "data", 4) == 0) {
      const size_t available = bytes.size() - body;
      if (chunk_size != 0 && chunk_size != 0xFFFFFFFFu && chunk_size > available) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "truncated WAV file: the data chunk declares %d bytes but only %d are present", chunk_size,
            available));
      }
      return absl::OkStatus();
    }
    const size_t padded = static_cast<size_t>(chunk_size) + (chunk_size & 1u);
    if (padded > bytes.size() - body) break;  // libsndfile reports this itself
    pos = body + padded;
  }
  return absl::OkStatus();
}

absl::Status CheckSampleRate(std::string_view field, double rate) {
  return CheckRangeOpenLow(field, rate, 0.0, kMaxSampleRateHz);
}

absl::Status ValidateOptions(const DecodeOptions& options) {
  if (options.channel_mode != DecodeOptions::ChannelMode::kMixdown &&
      options.channel_mode != DecodeOptions::ChannelMode::kPick) {
    return InvalidField("channel_mode",
                        absl::StrFormat("must be kMixdown or kPick, got %d", static_cast<int>(options.channel_mode)));
  }
  if (options.target_sample_rate.has_value()) {
    if (auto status = CheckSampleRate("target_sample_rate_hertz", *options.target_sample_rate); !status.ok()) {
      return status;
    }
  }
  if (!std::isfinite(options.max_duration_seconds) || options.max_duration_seconds < 0.0) {
    return InvalidField("max_duration_seconds", absl::StrFormat("must be finite and >= 0 (0 = unlimited), got %g",
                                                                options.max_duration_seconds));
  }
  if (options.max_output_samples < 0) {
    return InvalidField("max_output_samples",
                        absl::StrFormat("must be >= 0 (0 = unlimited), got %d", options.max_output_samples));
  }
  return absl::OkStatus();
}

// Output samples `mono_frames` source frames become after the optional
// resampling (round(n * to / from), as Resample).
int64_t OutputSamples(int64_t mono_frames, double sample_rate, const DecodeOptions& options) {
  if (!options.target_sample_rate.has_value() || *options.target_sample_rate == sample_rate) return mono_frames;
  return std::llround(static_cast<double>(mono_frames) * *options.target_sample_rate / sample_rate);
}

// InvalidArgument (field "audio") once the output would exceed max_output_samples.
absl::Status CheckOutputSamples(int64_t mono_frames, double sample_rate, const DecodeOptions& options) {
  if (options.max_output_samples <= 0) return absl::OkStatus();
  const int64_t samples = OutputSamples(mono_frames, sample_rate, options);
  if (samples > options.max_output_samples) {
    return InvalidField("audio", absl::StrFormat("decodes to more than max_output_samples %d samples (%d source "
                                                 "frames at %g Hz give %d)",
                                                 options.max_output_samples, mono_frames, sample_rate, samples));
  }
  return absl::OkStatus();
}

absl::Status Poll(const std::function<absl::Status()>& check) { return check ? check() : absl::OkStatus(); }

// Checks that do not depend on the samples themselves.
absl::Status ValidateStream(double sample_rate, int64_t channels, const DecodeOptions& options) {
  if (auto status = CheckSampleRate("sample_rate_hertz", sample_rate); !status.ok()) return status;
  if (auto status = CheckRange("channels", channels, 1, kMaxChannels); !status.ok()) return status;
  if (options.channel_mode == DecodeOptions::ChannelMode::kPick) {
    if (auto status = CheckRange("channel", options.channel, 0, channels - 1); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(int64_t frames, double sample_rate, const DecodeOptions& options) {
  if (options.max_duration_seconds <= 0.0) return absl::OkStatus();
  const double seconds = static_cast<double>(frames) / sample_rate;
  if (seconds > options.max_duration_seconds) {
    return InvalidField("audio", absl::StrFormat("duration %.3f s (%d frames at %g Hz) exceeds max_duration_seconds %g",
                                                 seconds, frames, sample_rate, options.max_duration_seconds));
  }
  return absl::OkStatus();
}

absl::Status NonFiniteSampleError(int64_t index, float value, int channels) {
  const char* what = std::isnan(value) ? "NaN" : (value > 0.0f ? "+Inf" : "-Inf");
  if (channels == 1) {
    return WithField(absl::InvalidArgumentError(
                         absl::StrFormat("samples[%d] is %s; all samples must be finite", index, what)),
                     absl::StrCat("samples[", index, "]"));
  }
  return WithField(absl::InvalidArgumentError(
                       absl::StrFormat("samples[%d] (frame %d, channel %d) is %s; all samples must be finite", index,
                                       index / channels, index % channels, what)),
                   absl::StrCat("samples[", index, "]"));
}

// Reduces interleaved frames to mono and appends them to `out`, checking
// finiteness. `first_index` is the interleaved index of interleaved[0].
absl::Status AppendMono(std::span<const float> interleaved, int channels, int64_t first_index,
                        const DecodeOptions& options, std::vector<float>& out) {
  for (size_t i = 0; i < interleaved.size(); ++i) {
    if (!std::isfinite(interleaved[i])) {
      return NonFiniteSampleError(first_index + static_cast<int64_t>(i), interleaved[i], channels);
    }
  }
  const size_t frames = interleaved.size() / static_cast<size_t>(channels);
  const auto ch = static_cast<size_t>(channels);
  if (channels == 1) {
    out.insert(out.end(), interleaved.begin(), interleaved.end());
  } else if (options.channel_mode == DecodeOptions::ChannelMode::kPick) {
    const auto pick = static_cast<size_t>(options.channel);
    for (size_t f = 0; f < frames; ++f) out.push_back(interleaved[f * ch + pick]);
  } else {
    const float scale = 1.0f / static_cast<float>(channels);
    for (size_t f = 0; f < frames; ++f) {
      float sum = 0.0f;
      for (size_t c = 0; c < ch; ++c) sum += interleaved[f * ch + c];
      out.push_back(sum * scale);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Audio> Finish(std::vector<float> mono, double sample_rate, const DecodeOptions& options) {
  Audio audio;
  if (options.target_sample_rate.has_value() && *options.target_sample_rate != sample_rate) {
    auto resampled = Resample(mono, sample_rate, *options.target_sample_rate, options.check);
    if (!resampled.ok()) return resampled.status();
    audio.samples = *std::move(resampled);
    audio.sample_rate = *options.target_sample_rate;
  } else {
    audio.samples = std::move(mono);
    audio.sample_rate = sample_rate;
  }
  return audio;
}

// Opens `bytes` (read through `buffer` and `vio`, which must outlive `file`)
// and checks the container is one we accept.
absl::Status OpenForReading(std::span<const uint8_t> bytes, ReadBuffer* buffer, SF_VIRTUAL_IO* vio, SF_INFO* info,
                            SndfilePtr* file) {
  int open_error = SF_ERR_NO_ERROR;
  std::string detail;
  {
    // libsndfile reports open failures through process-wide state
    // (sf_error(nullptr) / sf_strerror(nullptr)), so opens are serialised.
    static std::mutex open_mutex;
    std::lock_guard<std::mutex> lock(open_mutex);
    file->reset(sf_open_virtual(vio, SFM_READ, info, buffer));
    if (*file == nullptr) {
      open_error = sf_error(nullptr);
      detail = sf_strerror(nullptr);
    }
  }
  if (*file == nullptr) {
    if (open_error == SF_ERR_UNRECOGNISED_FORMAT) {
      if (!Mp3DecodingSupported() && LooksLikeMp3(bytes)) {
        return absl::UnimplementedError(
            absl::StrCat("the input looks like MP3, but MP3 decoding is not supported by the installed ",
                         sf_version_string(), " (built without MPEG support)"));
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "unsupported audio format: the input is not a recognised WAV, FLAC, OGG or MP3 file (libsndfile: ",
          detail, ")"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("malformed or truncated audio file (libsndfile: ", detail, ")"));
  }

  const int major = info->format & SF_FORMAT_TYPEMASK;
  if (!IsAllowedMajorFormat(major)) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported audio container '", MajorFormatName(major),
                                                   "'; supported: WAV, FLAC, OGG (Vorbis, Opus), MP3"));
  }
  return absl::OkStatus();
}

absl::Status EmptyInputError() { return InvalidField("audio", "is empty (0 bytes)"); }

}  // namespace

bool Mp3DecodingSupported() {
  static const bool supported = [] {
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof(count));
    for (int i = 0; i < count; ++i) {
      SF_FORMAT_INFO info{};
      info.format = i;
      if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &info, sizeof(info)) == 0 &&
          (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG) {
        return true;
      }
    }
    return false;
  }();
  return supported;
}

absl::StatusOr<Audio> DecodeAudio(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (auto status = ValidateOptions(options); !status.ok()) return status;
  if (bytes.empty()) return EmptyInputError();
  if (auto status = CheckWavNotTruncated(bytes); !status.ok()) return status;

  ReadBuffer buffer{bytes, 0};
  SF_VIRTUAL_IO vio = MakeReadVio();
  SF_INFO info{};
  SndfilePtr file;
  if (auto status = OpenForReading(bytes, &buffer, &vio, &info, &file); !status.ok()) return status;
  const int major = info.format & SF_FORMAT_TYPEMASK;
  const double sample_rate = info.samplerate;
  if (auto status = ValidateStream(sample_rate, info.channels, options); !status.ok()) return status;
  // Containers that declare their length are checked before decoding.
  const bool length_known = info.frames > 0 && info.frames != SF_COUNT_MAX;
  if (length_known) {
    if (auto status = CheckDuration(info.frames, sample_rate, options); !status.ok()) return status;
    if (auto status = CheckOutputSamples(info.frames, sample_rate, options); !status.ok()) return status;
  }

  const int channels = info.channels;
  std::vector<float> chunk(static_cast<size_t>(kChunkFrames) * static_cast<size_t>(channels));
  std::vector<float> mono;
  if (length_known) mono.reserve(static_cast<size_t>(info.frames));
  int64_t frames_read = 0;
  int64_t chunks = 0;
  while (true) {
    if (chunks++ % kChunksPerCheck == 0) {
      if (auto status = Poll(options.check); !status.ok()) return status;
    }
    const sf_count_t n = sf_readf_float(file.get(), chunk.data(), kChunkFrames);
    if (n <= 0) break;
    const auto count = static_cast<size_t>(n) * static_cast<size_t>(channels);
    if (auto status = AppendMono(std::span<const float>(chunk.data(), count), channels,
                                 frames_read * channels, options, mono);
        !status.ok()) {
      return status;
    }
    frames_read += n;
    if (auto status = CheckDuration(frames_read, sample_rate, options); !status.ok()) return status;
    if (auto status = CheckOutputSamples(frames_read, sample_rate, options); !status.ok()) return status;
  }
  if (const int error = sf_error(file.get()); error != SF_ERR_NO_ERROR) {
    const std::string declared = length_known ? absl::StrCat(" of ", info.frames, " declared") : "";
    return absl::InvalidArgumentError(absl::StrCat("truncated or corrupt ", MajorFormatName(major),
                                                   " file: decoding failed after ", frames_read, declared,
                                                   " frames (libsndfile: ", sf_strerror(file.get()), ")"));
  }
  // MP3 lengths are estimates (encoder delay, padding, missing Xing header),
  // so only exact-length containers are held to their declared length.
  if (length_known && major != SF_FORMAT_MPEG && frames_read < info.frames) {
    return absl::InvalidArgumentError(
        absl::StrFormat("truncated or corrupt %s file: the header declares %d frames but only %d could be decoded",
                        MajorFormatName(major), info.frames, frames_read));
  }
  if (frames_read == 0) {
    return InvalidField("audio", absl::StrFormat("contains no samples (0 frames; %s container, %d bytes)",
                                                 MajorFormatName(major), bytes.size()));
  }
  return Finish(std::move(mono), sample_rate, options);
}

absl::StatusOr<AudioProbe> ProbeAudio(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return EmptyInputError();
  if (auto status = CheckWavNotTruncated(bytes); !status.ok()) return status;
  ReadBuffer buffer{bytes, 0};
  SF_VIRTUAL_IO vio = MakeReadVio();
  SF_INFO info{};
  SndfilePtr file;
  if (auto status = OpenForReading(bytes, &buffer, &vio, &info, &file); !status.ok()) return status;
  if (auto status = CheckSampleRate("sample_rate_hertz", info.samplerate); !status.ok()) return status;
  if (auto status = CheckRange("channels", info.channels, 1, kMaxChannels); !status.ok()) return status;
  AudioProbe probe;
  probe.frames = info.frames > 0 && info.frames != SF_COUNT_MAX ? static_cast<int64_t>(info.frames) : -1;
  probe.channels = info.channels;
  probe.sample_rate = info.samplerate;
  probe.container = MajorFormatName(info.format & SF_FORMAT_TYPEMASK);
  SF_FORMAT_INFO subtype{};
  subtype.format = info.format & SF_FORMAT_SUBMASK;
  probe.encoding = sf_command(nullptr, SFC_GET_FORMAT_INFO, &subtype, sizeof(subtype)) == 0 && subtype.name != nullptr
                       ? subtype.name
                       : absl::StrFormat("0x%04x", info.format & SF_FORMAT_SUBMASK);
  probe.exact_length = probe.frames >= 0 && (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG;
  return probe;
}

int64_t DecodedSamples(const AudioProbe& probe, const DecodeOptions& options) {
  if (probe.frames < 0) return -1;
  return OutputSamples(probe.frames, probe.sample_rate, options);
}

absl::StatusOr<Audio> DecodeRawPcm(std::span<const uint8_t> bytes, PcmFormat format, double sample_rate,
                                   int channels, const DecodeOptions& options) {
  if (auto status = ValidateOptions(options); !status.ok()) return status;
  if (format != PcmFormat::kS16Le && format != PcmFormat::kF32Le) {
    return InvalidField("pcm_format", absl::StrFormat("must be s16le or f32le, got %d", static_cast<int>(format)));
  }
  if (auto status = ValidateStream(sample_rate, channels, options); !status.ok()) return status;
  if (bytes.empty()) return EmptyInputError();
  const size_t sample_bytes = format == PcmFormat::kS16Le ? 2 : 4;
  const size_t frame_bytes = sample_bytes * static_cast<size_t>(channels);
  if (bytes.size() % frame_bytes != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "raw PCM byte count %d is not a multiple of the frame size %d (%d channels x %d bytes per sample)",
        bytes.size(), frame_bytes, channels, sample_bytes));
  }
  const auto frames = static_cast<int64_t>(bytes.size() / frame_bytes);
  if (auto status = CheckDuration(frames, sample_rate, options); !status.ok()) return status;
  if (auto status = CheckOutputSamples(frames, sample_rate, options); !status.ok()) return status;
  if (auto status = Poll(options.check); !status.ok()) return status;

  const size_t total = bytes.size() / sample_bytes;
  std::vector<float> interleaved(total);
  if (format == PcmFormat::kS16Le) {
    for (size_t i = 0; i < total; ++i) {
      const auto bits = static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8));
      interleaved[i] = static_cast<float>(static_cast<int16_t>(bits)) * (1.0f / 32768.0f);
    }
  } else {
    for (size_t i = 0; i < total; ++i) {
      interleaved[i] = std::bit_cast<float>(ReadLe32(bytes, 4 * i));
    }
  }
  std::vector<float> mono;
  mono.reserve(static_cast<size_t>(frames));
  if (auto status = AppendMono(interleaved, channels, 0, options, mono); !status.ok()) return status;
  return Finish(std::move(mono), sample_rate, options);
}

absl::StatusOr<std::vector<float>> Resample(std::span<const float> samples, double from_hz, double to_hz) {
  return Resample(samples, from_hz, to_hz, std::function<absl::Status()>());
}

absl::Status ValidateResampleRatio(double from_hz, double to_hz) {
  const double ratio = std::max(from_hz / to_hz, to_hz / from_hz);
  if (!(ratio <= kMaxResampleRatio)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "resampling from %g Hz to %g Hz is a ratio of %g; at most %g is supported (the resampler's cost grows "
        "with the ratio)",
        from_hz, to_hz, ratio, kMaxResampleRatio));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> Resample(std::span<const float> samples, double from_hz, double to_hz,
                                            const std::function<absl::Status()>& check) {
  if (auto status = CheckSampleRate("from_hz", from_hz); !status.ok()) return status;
  if (auto status = CheckSampleRate("to_hz", to_hz); !status.ok()) return status;
  if (auto status = ValidateResampleRatio(from_hz, to_hz); !status.ok()) return status;
  if (auto status = CheckFinite("samples", samples); !status.ok()) return status;
  if (from_hz == to_hz || samples.empty()) return std::vector<float>(samples.begin(), samples.end());

  const auto out_len =
      static_cast<size_t>(std::llround(static_cast<double>(samples.size()) * to_hz / from_hz));
  std::vector<float> out(out_len);
  if (out_len == 0) return out;
  const soxr_io_spec_t io_spec = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t consumed = 0;
  size_t produced = 0;
  soxr_error_t error = nullptr;
  if (!check) {
    error = soxr_oneshot(from_hz, to_hz, 1, samples.data(), samples.size(), &consumed, out.data(), out.size(),
                         &produced, &io_spec, &quality, nullptr);
  } else {
    // The same resampler fed in blocks (soxr's output does not depend on how
    // the input is split), with a check before each block.
    std::unique_ptr<soxr, void (*)(soxr_t)> resampler(
        soxr_create(from_hz, to_hz, 1, &error, &io_spec, &quality, nullptr), soxr_delete);
    while (error == nullptr && consumed < samples.size()) {
      if (absl::Status status = check(); !status.ok()) return status;
      const size_t block = std::min(kResampleBlock, samples.size() - consumed);
      const bool last = consumed + block == samples.size();
      size_t in_done = 0;
      size_t out_done = 0;
      // A length with all bits inverted marks the last input (as soxr_oneshot does).
      error = soxr_process(resampler.get(), samples.data() + consumed, last ? ~block : block, &in_done,
                           out.data() + produced, out.size() - produced, &out_done);
      consumed += in_done;
      produced += out_done;
      if (error == nullptr && in_done == 0 && out_done == 0) break;  // output full
    }
    // Drain what the flush still holds (a null input means end of input).
    while (error == nullptr && produced < out.size()) {
      size_t out_done = 0;
      error = soxr_process(resampler.get(), nullptr, 0, nullptr, out.data() + produced, out.size() - produced,
                           &out_done);
      if (out_done == 0) break;
      produced += out_done;
    }
  }
  if (error != nullptr) {
    return absl::InternalError(absl::StrCat("libsoxr resampling from ", from_hz, " Hz to ", to_hz,
                                            " Hz failed: ", error));
  }
  // soxr delivers round(n * ratio) samples once flushed; guard anyway.
  out.resize(produced);
  out.resize(out_len, 0.0f);
  return out;
}

namespace {

constexpr double kOpusRates[] = {8000, 12000, 16000, 24000, 48000};
constexpr double kMp3Rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};

// Smallest of `rates` (ascending) at or above `rate`, else the largest.
double NearestSupportedRate(double rate, std::span<const double> rates) {
  for (double r : rates) {
    if (r >= rate) return r;
  }
  return rates.back();
}

bool IsKnownEncoding(AudioEncoding encoding) {
  switch (encoding) {
    case AudioEncoding::kWavPcm16:
    case AudioEncoding::kWavFloat32:
    case AudioEncoding::kFlac:
    case AudioEncoding::kWavMulaw:
    case AudioEncoding::kWavAlaw:
    case AudioEncoding::kOggOpus:
    case AudioEncoding::kOggVorbis:
    case AudioEncoding::kMp3:
      return true;
  }
  return false;
}

int SndfileFormat(AudioEncoding encoding) {
  switch (encoding) {
    case AudioEncoding::kWavPcm16:
      return SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    case AudioEncoding::kWavFloat32:
      return SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    case AudioEncoding::kFlac:
      return SF_FORMAT_FLAC | SF_FORMAT_PCM_16;
    case AudioEncoding::kWavMulaw:
      return SF_FORMAT_WAV | SF_FORMAT_ULAW;
    case AudioEncoding::kWavAlaw:
      return SF_FORMAT_WAV | SF_FORMAT_ALAW;
    case AudioEncoding::kOggOpus:
      return SF_FORMAT_OGG | SF_FORMAT_OPUS;
    case AudioEncoding::kOggVorbis:
      return SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    case AudioEncoding::kMp3:
      return SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  }
  return 0;
}

// Whether libsndfile lists `major` among its major formats and `subtype`
// among its subtypes (what it was built with).
bool SndfileLists(int major, int subtype) {
  auto listed = [](int count_command, int info_command, int format) {
    int count = 0;
    sf_command(nullptr, count_command, &count, sizeof(count));
    for (int i = 0; i < count; ++i) {
      SF_FORMAT_INFO info{};
      info.format = i;
      if (sf_command(nullptr, info_command, &info, sizeof(info)) == 0 && info.format == format) return true;
    }
    return false;
  };
  return listed(SFC_GET_FORMAT_MAJOR_COUNT, SFC_GET_FORMAT_MAJOR, major) &&
         listed(SFC_GET_FORMAT_SUBTYPE_COUNT, SFC_GET_FORMAT_SUBTYPE, subtype);
}

}  // namespace

double EncodedSampleRate(double sample_rate, AudioEncoding encoding) {
  switch (encoding) {
    case AudioEncoding::kOggOpus:
      return NearestSupportedRate(sample_rate, kOpusRates);
    case AudioEncoding::kMp3:
      return NearestSupportedRate(sample_rate, kMp3Rates);
    default:
      return sample_rate;
  }
}

bool EncodingSupported(AudioEncoding encoding) {
  if (!IsKnownEncoding(encoding)) return false;
  static const auto* const supported = [] {
    auto* table = new std::vector<bool>();
    for (int e = 0; e <= static_cast<int>(AudioEncoding::kMp3); ++e) {
      const int format = SndfileFormat(static_cast<AudioEncoding>(e));
      SF_INFO info{};
      info.format = format;
      info.channels = 1;
      info.samplerate = 48000;
      table->push_back(sf_format_check(&info) != 0 &&
                       SndfileLists(format & SF_FORMAT_TYPEMASK, format & SF_FORMAT_SUBMASK));
    }
    return table;
  }();
  return (*supported)[static_cast<size_t>(encoding)];
}

absl::StatusOr<EncodedShape> PlanEncode(int64_t samples, double sample_rate, const EncodeOptions& options) {
  if (auto status = CheckSampleRate("sample_rate_hertz", sample_rate); !status.ok()) return status;
  if (sample_rate != std::floor(sample_rate)) {
    return InvalidField("sample_rate_hertz",
                        absl::StrFormat("must be a whole number of hertz for encoding, got %g", sample_rate));
  }
  if (!IsKnownEncoding(options.encoding)) {
    return InvalidField("encoding", absl::StrFormat("has unknown value %d", static_cast<int>(options.encoding)));
  }
  if (!EncodingSupported(options.encoding)) {
    return absl::UnimplementedError(absl::StrCat("encoding ", std::string(AudioEncodingName(options.encoding)),
                                                 " cannot be written: the linked libsndfile was built without it"));
  }
  if (samples < 1) return InvalidField("samples", "is empty; nothing to encode");
  double requested = sample_rate;
  if (options.sample_rate != 0) {
    if (auto status = CheckSampleRate("sample_rate_hertz", options.sample_rate); !status.ok()) return status;
    if (options.sample_rate != std::floor(options.sample_rate)) {
      return InvalidField("sample_rate_hertz",
                          absl::StrFormat("must be a whole number of hertz, got %g", options.sample_rate));
    }
    requested = options.sample_rate;
  }
  const double target = EncodedSampleRate(requested, options.encoding);
  if (auto status = ValidateResampleRatio(sample_rate, target); !status.ok()) {
    return InvalidField("sample_rate_hertz", std::string(status.message()));
  }
  EncodedShape shape;
  shape.sample_rate = target;
  shape.samples = target == sample_rate
                      ? samples
                      : static_cast<int64_t>(std::llround(static_cast<double>(samples) * target / sample_rate));
  if (shape.samples < 1) {
    return InvalidField("samples", absl::StrFormat("%d samples at %g Hz resample to none at %g Hz", samples,
                                                   sample_rate, target));
  }
  return shape;
}

absl::StatusOr<std::string> EncodeAudio(std::span<const float> samples, double sample_rate,
                                        AudioEncoding encoding) {
  EncodeOptions options;
  options.encoding = encoding;
  absl::StatusOr<EncodedAudio> encoded = EncodeAudio(samples, sample_rate, options);
  if (!encoded.ok()) return encoded.status();
  return std::move(encoded->bytes);
}

absl::StatusOr<EncodedAudio> EncodeAudio(std::span<const float> input, double source_rate,
                                         const EncodeOptions& options) {
  absl::StatusOr<EncodedShape> shape = PlanEncode(static_cast<int64_t>(input.size()), source_rate, options);
  if (!shape.ok()) return shape.status();
  if (auto status = CheckFinite("samples", input); !status.ok()) return status;
  const AudioEncoding encoding = options.encoding;
  std::vector<float> resampled;
  std::span<const float> samples = input;
  if (shape->sample_rate != source_rate) {
    absl::StatusOr<std::vector<float>> r = Resample(input, source_rate, shape->sample_rate, options.check);
    if (!r.ok()) return r.status();
    resampled = *std::move(r);
    samples = resampled;
  }

  SF_INFO info{};
  info.samplerate = static_cast<int>(shape->sample_rate);
  info.channels = 1;
  info.format = SndfileFormat(encoding);

  WriteBuffer buffer;
  SF_VIRTUAL_IO vio = MakeWriteVio();
  SndfilePtr file(sf_open_virtual(&vio, SFM_WRITE, &info, &buffer));
  if (file == nullptr) {
    // Not expected for the formats and rates PlanEncode allows; the global
    // error text may be another thread's, so only the error-free facts are
    // reported.
    return absl::InternalError(absl::StrCat("libsndfile cannot open a ", std::string(AudioEncodingName(encoding)),
                                            " encoder at ", info.samplerate, " Hz"));
  }
  // No PEAK chunk: libsndfile stamps it with the wall-clock time, which would
  // make the bytes of identical requests differ. (Ogg streams still carry a
  // random stream serial number chosen by libsndfile, so Opus and Vorbis
  // bytes differ between calls; the decoded samples do not.)
  sf_command(file.get(), SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  const auto frames = static_cast<sf_count_t>(samples.size());
  sf_count_t written = 0;
  if (encoding == AudioEncoding::kWavFloat32) {
    written = sf_writef_float(file.get(), samples.data(), frames);
  } else if (encoding == AudioEncoding::kWavPcm16 || encoding == AudioEncoding::kFlac ||
             encoding == AudioEncoding::kWavMulaw || encoding == AudioEncoding::kWavAlaw) {
    // 16-bit PCM: scale by 2^15 (the inverse of libsndfile's read scaling)
    // and clip, so that decode(encode(x)) is within 2^-15 of x on [-1, 1].
    // mu-law / A-law are companded from these 16-bit values by libsndfile.
    std::vector<int16_t> pcm(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      const float scaled = std::nearbyint(samples[i] * 32768.0f);
      pcm[i] = static_cast<int16_t>(std::clamp(scaled, -32768.0f, 32767.0f));
    }
    written = sf_writef_short(file.get(), pcm.data(), frames);
  } else {
    // Lossy float codecs: clip to [-1, 1] as the PCM paths do, in blocks.
    std::vector<float> block(static_cast<size_t>(kChunkFrames));
    for (sf_count_t at = 0; at < frames;) {
      const sf_count_t n = std::min<sf_count_t>(kChunkFrames, frames - at);
      for (sf_count_t i = 0; i < n; ++i) {
        block[static_cast<size_t>(i)] = std::clamp(samples[static_cast<size_t>(at + i)], -1.0f, 1.0f);
      }
      const sf_count_t w = sf_writef_float(file.get(), block.data(), n);
      written += std::max<sf_count_t>(w, 0);
      if (w != n) break;
      at += n;
    }
  }
  if (written != frames) {
    return absl::InternalError(absl::StrCat("libsndfile wrote ", written, " of ", frames,
                                            " frames: ", sf_strerror(file.get())));
  }
  if (const int error = sf_close(file.release()); error != 0) {
    return absl::InternalError(absl::StrCat("libsndfile failed to finish the ", std::string(AudioEncodingName(encoding)),
                                            " stream: ", sf_error_number(error)));
  }
  EncodedAudio out;
  out.bytes = std::move(buffer.data);
  out.sample_rate = shape->sample_rate;
  out.samples = shape->samples;
  return out;
}

absl::StatusOr<AudioEncoding> ParseAudioEncoding(std::string_view name) {
  for (int e = 0; e <= static_cast<int>(AudioEncoding::kMp3); ++e) {
    if (name == AudioEncodingName(static_cast<AudioEncoding>(e))) return static_cast<AudioEncoding>(e);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "audio encoding must be one of wav16, wav_float, flac, wav_mulaw, wav_alaw, opus, vorbis, mp3; got '",
      std::string(name), "'"));
}

std::string_view AudioEncodingName(AudioEncoding encoding) {
  switch (encoding) {
    case AudioEncoding::kWavPcm16:
      return "wav16";
    case AudioEncoding::kWavFloat32:
      return "wav_float";
    case AudioEncoding::kFlac:
      return "flac";
    case AudioEncoding::kWavMulaw:
      return "wav_mulaw";
    case AudioEncoding::kWavAlaw:
      return "wav_alaw";
    case AudioEncoding::kOggOpus:
      return "opus";
    case AudioEncoding::kOggVorbis:
      return "vorbis";
    case AudioEncoding::kMp3:
      return "mp3";
  }
  return "unknown";
}

absl::StatusOr<PcmFormat> ParsePcmFormat(std::string_view name) {
  if (name == "s16le") return PcmFormat::kS16Le;
  if (name == "f32le") return PcmFormat::kF32Le;
  return absl::InvalidArgumentError(absl::StrCat("pcm format must be one of s16le, f32le; got '", std::string(name), "'"));
}

absl::StatusOr<std::string> ReadFileBytes(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open '", path, "' for reading"));
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(file, &std::fclose);
  std::string data;
  char block[1 << 16];
  while (true) {
    const size_t n = std::fread(block, 1, sizeof(block), file);
    data.append(block, n);
    if (n < sizeof(block)) break;
  }
  if (std::ferror(file) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read '", path, "'"));
  return data;
}

absl::Status WriteFileBytes(const std::string& path, std::string_view bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open '", path, "' for writing"));
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), file);
  const int write_errno = errno;
  const bool close_failed = std::fclose(file) != 0;
  if (written != bytes.size()) return absl::ErrnoToStatus(write_errno, absl::StrCat("cannot write '", path, "'"));
  if (close_failed) return absl::ErrnoToStatus(errno, absl::StrCat("cannot finish writing '", path, "'"));
  return absl::OkStatus();
}

}  // namespace specinv
