// Copyright specinv authors.
//
// Audio decoding, encoding and resampling, all in memory.
//
// Decoding (DecodeAudio) accepts WAV (incl. WAVE_FORMAT_EXTENSIBLE and RF64),
// FLAC, OGG (Vorbis, Opus) and, when the installed libsndfile was built with
// MPEG support (see Mp3DecodingSupported), MP3. Other containers libsndfile
// knows (AIFF, AU, ...) are rejected on purpose. Raw headerless PCM is decoded
// by DecodeRawPcm (s16le or f32le, interleaved).
//
// Output of both decoders: mono float32 samples at `sample_rate` hertz, in
// libsndfile's normalised float scale (integer PCM is divided by 2^(bits-1),
// so 16-bit PCM maps to [-1, 1 - 2^-15]; float files are passed through
// unchanged, so they may exceed [-1, 1] but are guaranteed finite).
// Multichannel input is reduced to mono by DecodeOptions::channel_mode:
// the per-frame mean of all channels, or one picked channel. When
// DecodeOptions::target_sample_rate is set and differs from the source rate
// the mono signal is resampled with libsoxr (SOXR_HQ).
//
// Limits shared by all entry points: sample rates must be in (0, 384000] Hz
// and channel counts in [1, 64].
//
// Every function is thread-safe (decoders serialise only the libsndfile
// open call, whose error reporting is process-wide); errors are
// absl::Status values whose message names the offending field or the cause.

#ifndef SPECINV_AUDIO_IO_H_
#define SPECINV_AUDIO_IO_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace specinv {

inline constexpr double kMaxSampleRateHz = 384000.0;
inline constexpr int kMaxChannels = 64;

// Encodings produced by EncodeAudio, all written by libsndfile (no codec is
// implemented here). Lossy ones use libsndfile's default quality settings.
enum class AudioEncoding {
  kWavPcm16,    // RIFF WAVE, 16-bit signed PCM.
  kWavFloat32,  // RIFF WAVE, 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT).
  kFlac,        // FLAC, 16 bits per sample.
  kWavMulaw,    // RIFF WAVE, G.711 mu-law (8 bits per sample, ~14-bit dynamic range).
  kWavAlaw,     // RIFF WAVE, G.711 A-law (8 bits per sample, ~13-bit dynamic range).
  kOggOpus,     // Ogg/Opus (RFC 7845). Rates 8/12/16/24/48 kHz only: see EncodedSampleRate.
  kOggVorbis,   // Ogg/Vorbis, any rate.
  kMp3,         // MPEG-1/2 layer III (LAME via libsndfile). Rates 8, 11.025, 12, 16,
                // 22.05, 24, 32, 44.1, 48 kHz only: see EncodedSampleRate.
};

// Sample formats accepted by DecodeRawPcm (interleaved, little-endian).
enum class PcmFormat {
  kS16Le,  // signed 16-bit integers; value v maps to v / 32768.
  kF32Le,  // IEEE 754 binary32; passed through (must be finite).
};

// Mono audio.
struct Audio {
  std::vector<float> samples;
  double sample_rate = 0;  // hertz
};

struct DecodeOptions {
  enum class ChannelMode {
    kMixdown,  // mean of all channels, frame by frame
    kPick,     // only channel `channel`
  };
  ChannelMode channel_mode = ChannelMode::kMixdown;
  // Zero-based channel index used by kPick; must be in [0, channels - 1] of
  // the decoded stream (ignored by kMixdown).
  int channel = 0;
  // If set and different from the source rate, resample to this rate (hertz,
  // in (0, 384000]).
  std::optional<double> target_sample_rate;
  // Reject input longer than this many seconds (of source audio); 0 means
  // unlimited. Must be finite and >= 0. Checked before the bulk of the
  // decoding when the container declares its length.
  double max_duration_seconds = 0;
  // Reject input whose output (mono, after resampling) would exceed this
  // many samples; 0 means unlimited, must be >= 0. Checked from the header
  // when the container declares its length, and again after every decoded
  // chunk, so decoding stops within 4096 frames of the bound whatever the
  // header says (InvalidArgument, field "audio").
  int64_t max_output_samples = 0;
  // Polled every 64 chunks of 4096 decoded frames and before every 2^18
  // input samples of resampling (a few milliseconds); a non-OK status
  // (Cancelled, DeadlineExceeded) stops the work and is returned. Empty:
  // never polled (and resampling runs in one libsoxr call).
  std::function<absl::Status()> check;
};

// What a container header says, read without decoding any audio.
struct AudioProbe {
  // Frames (samples per channel) the header declares; -1 when it does not
  // declare a length (streamed WAV with an unset data size, some OGG/MP3
  // streams): bound the decode by the byte count or max_output_samples.
  int64_t frames = -1;
  // True when `frames` is exact (declared and not an MP3 estimate).
  bool exact_length = false;
  int channels = 0;
  double sample_rate = 0;  // hertz
  // libsndfile's name of the major format, e.g. "WAV (Microsoft)".
  std::string container;
  std::string encoding;    // its name of the sample encoding, e.g. "Signed 16 bit PCM"
};

// Opens the container (libsndfile virtual IO, sf_open + SF_INFO) and returns
// its header fields; no audio is decoded, so the cost is independent of the
// length (a few header reads). Same format, truncation, sample-rate and
// channel-count errors as DecodeAudio.
absl::StatusOr<AudioProbe> ProbeAudio(std::span<const uint8_t> bytes);
inline absl::StatusOr<AudioProbe> ProbeAudio(std::string_view bytes) {
  return ProbeAudio(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// Mono samples DecodeAudio(bytes, options) will return for a probed header:
// frames, or round(frames * target / source) when options resample; -1 when
// the header has no length. (MP3 lengths are estimates: allow some slack.)
int64_t DecodedSamples(const AudioProbe& probe, const DecodeOptions& options);

// Decodes a complete WAV / FLAC / OGG / MP3 file held in memory.
// Errors (all InvalidArgument unless stated):
//  - empty input ("audio is empty (0 bytes)") or a stream with 0 frames;
//  - unrecognised bytes, or a container outside the supported list;
//  - MP3 input when libsndfile lacks MPEG support: Unimplemented;
//  - malformed or truncated files (e.g. a WAV data chunk shorter than its
//    declared size, FLAC/OGG streams that end before their declared length);
//  - a header sample rate outside (0, 384000] or channel count outside [1, 64];
//  - a NaN or infinite sample ("samples[123] is NaN; ..."; the index counts
//    interleaved samples of the source);
//  - invalid options, or a duration above max_duration_seconds.
absl::StatusOr<Audio> DecodeAudio(std::span<const uint8_t> bytes, const DecodeOptions& options = {});

// Decodes raw interleaved little-endian PCM of `channels` channels at
// `sample_rate` hertz. bytes.size() must be a non-zero multiple of the frame
// size (channels * bytes per sample). Same output and errors as DecodeAudio.
absl::StatusOr<Audio> DecodeRawPcm(std::span<const uint8_t> bytes, PcmFormat format, double sample_rate,
                                   int channels, const DecodeOptions& options = {});

// Resamples mono `samples` from `from_hz` to `to_hz` with libsoxr at SOXR_HQ
// quality (linear phase, flushed). Output length is round(n * to_hz / from_hz).
// Returns a copy when the rates are equal. Both rates must be in (0, 384000];
// samples must be finite.
// The largest ratio between two rates that Resample accepts (either
// direction): libsoxr's filter, and so its time and memory, grows with it
// (1 Hz -> 22050 Hz would take minutes). 8 kHz <-> 384 kHz is 48.
inline constexpr double kMaxResampleRatio = 256.0;
// InvalidArgument naming both rates when max(from/to, to/from) exceeds
// kMaxResampleRatio. Rates must be > 0.
absl::Status ValidateResampleRatio(double from_hz, double to_hz);

absl::StatusOr<std::vector<float>> Resample(std::span<const float> samples, double from_hz, double to_hz);
// As above, fed to libsoxr in blocks of 2^18 input samples with `check`
// polled before each; its first non-OK status is returned. The result is
// the same as the one-call form (libsoxr's output does not depend on how the
// input is split) up to float rounding.
absl::StatusOr<std::vector<float>> Resample(std::span<const float> samples, double from_hz, double to_hz,
                                            const std::function<absl::Status()>& check);

// The sample rate a file of `encoding` carries for audio at `sample_rate`:
// `sample_rate` itself when the codec supports it. Opus and MP3 only code a
// fixed set of rates; for any other rate the audio is resampled (libsoxr,
// SOXR_HQ, as Resample) to the smallest supported rate above it, or to
// 48 kHz when it is above 48 kHz (Opus codes at most 20 kHz of bandwidth and
// MP3 at most 48 kHz sampling anyway). This is what opusenc and ffmpeg do
// rather than refusing; the rate actually encoded is reported (EncodedAudio,
// and the server's Audio.sample_rate_hertz), so nothing is hidden.
// E.g. Opus: 22050 -> 24000, 44100 -> 48000, 96000 -> 48000, 16000 -> 16000;
// MP3: 44100 -> 44100, 96000 -> 48000, 20000 -> 22050.
double EncodedSampleRate(double sample_rate, AudioEncoding encoding);

struct EncodeOptions {
  AudioEncoding encoding = AudioEncoding::kWavPcm16;
  // If > 0, the samples are first resampled (Resample: libsoxr SOXR_HQ) from
  // the source rate to this rate; it must then be a whole number of hertz in
  // (0, 384000], within kMaxResampleRatio of the source rate (field
  // "sample_rate_hertz"). 0: keep the source rate. Opus/MP3 may then resample
  // once more (EncodedSampleRate), a single resampling in total: the two
  // steps are merged.
  double sample_rate = 0;
  // Polled during resampling (see Resample); empty: never.
  std::function<absl::Status()> check;
};

// What EncodeAudio produces from `samples` samples at `sample_rate`.
struct EncodedShape {
  double sample_rate = 0;  // hertz of the encoded stream
  int64_t samples = 0;     // samples handed to the encoder (round(n * rate / source rate))
};

// Validates `options` for `samples` samples at `sample_rate` (the same
// checks EncodeAudio makes before doing any work, except the sample values)
// and returns the shape of the encoded stream; use it to size or admit a job
// before encoding. Errors name the field: "sample_rate_hertz" (the source
// rate, or the requested one), "encoding", "samples".
absl::StatusOr<EncodedShape> PlanEncode(int64_t samples, double sample_rate, const EncodeOptions& options);

struct EncodedAudio {
  std::string bytes;       // the complete file
  double sample_rate = 0;  // hertz it declares
  int64_t samples = 0;     // samples encoded (decoders may add codec priming/padding for lossy codecs)
};

// Encodes mono samples as a complete file in memory. sample_rate must be a
// whole number of hertz in (0, 384000]; samples must be non-empty and finite.
// PCM encodings (kWavPcm16, kFlac) store clamp(round(x * 32768), -32768, 32767),
// i.e. values outside [-1, 1) are clipped by the codec; kWavFloat32 stores
// the samples bit-exactly (no clipping). mu-law / A-law, Opus, Vorbis and MP3
// are handed libsndfile's float samples (it clips to [-1, 1]).
// Round trips through DecodeAudio (tests/core/audio_encoding_test.cc, chirps
// at -6/-1 dBFS, libsndfile 1.2.0): mu-law 38.5 dB and A-law 39.0 dB SNR;
// Opus 27.6 dB (48 kHz) / 39.9 dB (16 kHz), Vorbis 28.5 dB (44.1 kHz), MP3
// 18.6 dB (44.1 kHz) / 22.7 dB (16 kHz); every length exact and no delay
// (libsndfile trims Opus pre-skip, Vorbis/Opus end granules and, via the
// LAME gapless tag, MP3 encoder delay and padding; other MP3 decoders may
// return up to two 1152-sample frames more).
absl::StatusOr<EncodedAudio> EncodeAudio(std::span<const float> samples, double sample_rate,
                                         const EncodeOptions& options);
// The file only, at the source rate (or EncodedSampleRate for Opus / MP3).
absl::StatusOr<std::string> EncodeAudio(std::span<const float> samples, double sample_rate,
                                        AudioEncoding encoding);

// True if the linked libsndfile can write `encoding` (Opus, Vorbis and MP3
// depend on how it was built; checked once with SFC_GET_FORMAT_* queries).
bool EncodingSupported(AudioEncoding encoding);

// "wav16" -> kWavPcm16, "wav_float" -> kWavFloat32, "flac" -> kFlac,
// "wav_mulaw" -> kWavMulaw, "wav_alaw" -> kWavAlaw, "opus" -> kOggOpus,
// "vorbis" -> kOggVorbis, "mp3" -> kMp3;
// anything else is InvalidArgument listing the accepted names.
absl::StatusOr<AudioEncoding> ParseAudioEncoding(std::string_view name);
// Inverse of ParseAudioEncoding.
std::string_view AudioEncodingName(AudioEncoding encoding);
// "s16le" -> kS16Le, "f32le" -> kF32Le.
absl::StatusOr<PcmFormat> ParsePcmFormat(std::string_view name);

// True if the linked libsndfile lists the MPEG major format (checked once at
// run time with SFC_GET_FORMAT_MAJOR).
bool Mp3DecodingSupported();

// Reads a whole file. NotFound / PermissionDenied / ... from errno.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);
// Creates or truncates `path` and writes `bytes` to it.
absl::Status WriteFileBytes(const std::string& path, std::string_view bytes);

// Views a byte string (e.g. from ReadFileBytes or a protobuf bytes field) as
// the byte span taken by the decoders. No copy; valid while `bytes` lives.
inline std::span<const uint8_t> AsBytes(std::string_view bytes) {
  return {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace specinv

#endif  // SPECINV_AUDIO_IO_H_
