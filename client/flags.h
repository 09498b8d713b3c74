// Copyright specinv authors.
//
// Command-line flags shared by several subcommands and their conversion to
// request messages. Every flag group is a plain struct filled by CLI11 and
// turned into a proto by a To*/Fill* function that validates the names of
// enumerations and returns InvalidArgument naming the flag otherwise.
//
// Spectrogram config flags mirror specinv.v1.SpectrogramConfig in kebab-case:
//   --preset --sample-rate --n-fft --hop-length --win-length --window
//   --center/--no-center --pad-mode --framing --magnitude-epsilon --power
//   --n-mels --fmin --fmax --mel-scale --mel-norm --drop-last-frame
//   --scale --ref/--ref-max --amin --top-db/--no-top-db --clamp
// Only flags given on the command line are set in the message, so a preset's
// values are overridden exactly where asked.
//
// Enumeration values are written as in the API without the prefix, lower
// case, with '-' or '_' ("sqrt-hann", "pghi_fgla", "frames-bins").

#ifndef SPECINV_CLIENT_FLAGS_H_
#define SPECINV_CLIENT_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <google/protobuf/generated_enum_reflection.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::client {

// --- Enumerations ---------------------------------------------------------

// Flag spellings of a proto enum's values ("hann", "sqrt-hann", ...): the
// value names without the common prefix (the part before "UNSPECIFIED"),
// lower case, '_' written '-'; the UNSPECIFIED value is left out.
std::vector<std::string> EnumFlagNames(const google::protobuf::EnumDescriptor* descriptor);

// Parses `value` (case-insensitive, '-' same as '_') as a value of the enum.
// InvalidArgument "<flag> must be one of a, b, c, got \"x\"" otherwise.
absl::StatusOr<int> ParseEnumFlag(const google::protobuf::EnumDescriptor* descriptor,
                                  std::string_view flag, std::string_view value);

template <typename E>
absl::StatusOr<E> ParseEnum(std::string_view flag, std::string_view value) {
  absl::StatusOr<int> number =
      ParseEnumFlag(google::protobuf::GetEnumDescriptor<E>(), flag, value);
  if (!number.ok()) return number.status();
  return static_cast<E>(*number);
}

// Flag spelling of one enum value ("pghi-fgla" for INVERSION_METHOD_PGHI_FGLA).
std::string EnumFlagName(const google::protobuf::EnumDescriptor* descriptor, int number);
template <typename E>
std::string EnumName(E value) {
  return EnumFlagName(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

// --- SpectrogramConfig -----------------------------------------------------

struct ConfigFlags {
  std::string preset;
  std::optional<double> sample_rate;
  std::optional<int> n_fft;
  std::optional<int> hop_length;
  std::optional<int> win_length;
  std::string window;
  bool center = true;
  CLI::Option* center_option = nullptr;
  std::string pad_mode;
  std::string framing;
  std::optional<double> magnitude_epsilon;
  std::optional<double> power;
  std::optional<int> n_mels;
  std::optional<double> fmin;
  std::optional<double> fmax;
  std::string mel_scale;
  std::string mel_norm;
  bool drop_last_frame = false;
  CLI::Option* drop_last_frame_option = nullptr;
  std::string scale;
  std::optional<double> ref;
  bool ref_max = false;
  std::optional<double> amin;
  std::optional<double> top_db;
  bool no_top_db = false;
  std::optional<double> clamp;
};

// Adds the config flags to `app` (group "Spectrogram config").
void AddConfigFlags(CLI::App* app, ConfigFlags* flags);
absl::StatusOr<v1::SpectrogramConfig> ToSpectrogramConfig(const ConfigFlags& flags);

// One-line description of an effective config, e.g.
// "preset hifigan, 22050 Hz, n_fft 1024, hop 256, win 1024, hann, 80 mels 0-8000 Hz, scale ln".
std::string DescribeConfig(const v1::SpectrogramConfig& config);

// --- InversionOptions ------------------------------------------------------

struct InversionFlags {
  std::string method;  // empty: INVERSION_METHOD_UNSPECIFIED, the server's pick
  std::optional<int> iterations;
  std::optional<double> momentum;
  std::string phase_init;
  uint64_t seed = 0;
  std::optional<double> tolerance;
  std::optional<double> time_budget_s;
  std::optional<int> refine_iterations;
  bool refine_log_domain = false;
  std::optional<int> progress_interval;
};

void AddInversionFlags(CLI::App* app, InversionFlags* flags);
absl::StatusOr<v1::InversionOptions> ToInversionOptions(const InversionFlags& flags);

// --- Audio output ----------------------------------------------------------

struct OutputFlags {
  std::string output;    // -o path ("-" = stdout)
  // wav16, wav-float, flac, wav-mulaw, wav-alaw, opus, vorbis, mp3, raw-f32,
  // raw-s16, npy; "" = from extension
  std::string encoding;
  std::optional<int64_t> length_samples;
  std::optional<int32_t> output_rate;  // --output-rate: resample the result to this many Hz
};

// Adds -o/--output (required) plus --encoding, --length-samples and
// --output-rate.
void AddOutputFlags(CLI::App* app, OutputFlags* flags);

// How returned audio is written locally.
enum class AudioFileKind { kAsReturned, kNpy };
struct AudioOutputPlan {
  v1::AudioOutputOptions options;  // what to ask the server for
  AudioFileKind file_kind = AudioFileKind::kAsReturned;
};
// --encoding, else the -o extension: .wav -> WAV 16-bit, .flac -> FLAC,
// .opus -> Ogg/Opus, .ogg/.oga -> Ogg/Vorbis, .mp3 -> MP3, .ul/.ulaw ->
// mu-law WAV, .al/.alaw -> A-law WAV, .raw/.pcm/.f32 -> raw float32, .s16 ->
// raw int16, .npy -> float32 samples written as a 1-D .npy; anything else ->
// WAV 16-bit.
absl::StatusOr<AudioOutputPlan> PlanAudioOutput(const OutputFlags& flags);

// --- Mel input -------------------------------------------------------------

struct MelInputFlags {
  std::string layout = "bins-frames";  // of .npy inputs
  std::string domain;                  // scaled (default) or linear
  std::string mel_mean;                // .npy, n_mels values
  std::string mel_std;                 // .npy, n_mels values
};
void AddMelInputFlags(CLI::App* app, MelInputFlags* flags);

// --- Progress --------------------------------------------------------------

// --progress auto|always|never (auto: a bar when stderr is a terminal).
void AddProgressFlag(CLI::App* app, std::string* setting);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_FLAGS_H_
