// Copyright specinv authors.

#include "client/flags.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace specinv::client {
namespace {

// Parses a command line (without program name) into flags added by `add`.
template <typename Flags, typename Add>
void Parse(const std::string& command_line, Flags* flags, Add add) {
  CLI::App app;
  add(&app, flags);
  app.parse(command_line, false);
}

v1::SpectrogramConfig ConfigFrom(const std::string& command_line) {
  // The flags struct holds Option pointers, so conversion must happen while
  // the app is alive.
  CLI::App app;
  ConfigFlags flags;
  AddConfigFlags(&app, &flags);
  app.parse(command_line, false);
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(flags);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : v1::SpectrogramConfig();
}

TEST(ConfigFlagsTest, OnlyGivenFieldsAreSet) {
  const v1::SpectrogramConfig c = ConfigFrom("--preset hifigan --n-mels 100");
  EXPECT_EQ(c.preset(), "hifigan");
  EXPECT_TRUE(c.has_n_mels());
  EXPECT_EQ(c.n_mels(), 100);
  EXPECT_FALSE(c.has_n_fft());
  EXPECT_FALSE(c.has_hop_length());
  EXPECT_FALSE(c.has_center());
  EXPECT_FALSE(c.has_sample_rate_hertz());
  EXPECT_FALSE(c.has_fmax_hertz());
  EXPECT_FALSE(c.has_drop_last_frame());
  EXPECT_EQ(c.window(), v1::WINDOW_UNSPECIFIED);
  EXPECT_FALSE(c.has_scale());
}

TEST(ConfigFlagsTest, EveryFieldMapsToItsProtoField) {
  const v1::SpectrogramConfig c = ConfigFrom(
      "--sample-rate 16000 --n-fft 512 --hop-length 128 --win-length 400 --window sqrt-hann "
      "--no-center --pad-mode reflect --framing hifigan_reflect --magnitude-epsilon 1e-9 "
      "--power 1 --n-mels 64 --fmin 20 --fmax 7600 --mel-scale htk --mel-norm none "
      "--drop-last-frame --scale power-db --ref-max --amin 1e-8 --no-top-db --clamp 1e-6");
  EXPECT_EQ(c.preset(), "");
  EXPECT_DOUBLE_EQ(c.sample_rate_hertz(), 16000.0);
  EXPECT_EQ(c.n_fft(), 512);
  EXPECT_EQ(c.hop_length(), 128);
  EXPECT_EQ(c.win_length(), 400);
  EXPECT_EQ(c.window(), v1::WINDOW_SQRT_HANN);
  ASSERT_TRUE(c.has_center());
  EXPECT_FALSE(c.center());
  EXPECT_EQ(c.pad_mode(), v1::PAD_MODE_REFLECT);
  EXPECT_EQ(c.framing(), v1::FRAMING_HIFIGAN_REFLECT);
  EXPECT_DOUBLE_EQ(c.magnitude_epsilon(), 1e-9);
  EXPECT_DOUBLE_EQ(c.power(), 1.0);
  EXPECT_EQ(c.n_mels(), 64);
  EXPECT_DOUBLE_EQ(c.fmin_hertz(), 20.0);
  EXPECT_DOUBLE_EQ(c.fmax_hertz(), 7600.0);
  EXPECT_EQ(c.mel_scale(), v1::MEL_SCALE_HTK);
  EXPECT_EQ(c.mel_norm(), v1::MEL_NORM_NONE);
  ASSERT_TRUE(c.has_drop_last_frame());
  EXPECT_TRUE(c.drop_last_frame());
  EXPECT_EQ(c.scale().kind(), v1::SCALE_KIND_POWER_DB);
  EXPECT_TRUE(c.scale().ref_max());
  EXPECT_DOUBLE_EQ(c.scale().amin(), 1e-8);
  EXPECT_TRUE(c.scale().no_top_db());
  EXPECT_DOUBLE_EQ(c.scale().clamp(), 1e-6);
}

TEST(ConfigFlagsTest, CenterAndTopDbValues) {
  v1::SpectrogramConfig c = ConfigFrom("--center --ref 2.5 --top-db 60");
  ASSERT_TRUE(c.has_center());
  EXPECT_TRUE(c.center());
  EXPECT_EQ(c.scale().reference_case(), v1::ScaleConfig::kRefValue);
  EXPECT_DOUBLE_EQ(c.scale().ref_value(), 2.5);
  EXPECT_EQ(c.scale().dynamic_range_case(), v1::ScaleConfig::kTopDb);
  EXPECT_DOUBLE_EQ(c.scale().top_db(), 60.0);
}

TEST(ConfigFlagsTest, ExclusiveFlagsAreUsageErrors) {
  ConfigFlags flags;
  EXPECT_THROW(Parse("--ref 1 --ref-max", &flags, AddConfigFlags), CLI::ParseError);
  ConfigFlags other;
  EXPECT_THROW(Parse("--top-db 80 --no-top-db", &other, AddConfigFlags), CLI::ParseError);
  ConfigFlags third;
  EXPECT_THROW(Parse("--n-fft abc", &third, AddConfigFlags), CLI::ParseError);
}

TEST(ConfigFlagsTest, UnknownEnumNamesTheFlagAndTheChoices) {
  CLI::App app;
  ConfigFlags flags;
  AddConfigFlags(&app, &flags);
  app.parse("--window kaiser", false);
  absl::StatusOr<v1::SpectrogramConfig> c = ToSpectrogramConfig(flags);
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "--window must be one of hann, hamming, blackman, rectangular, sqrt-hann, got "
            "\"kaiser\"");
}

TEST(ParseEnumTest, AcceptsSnakeKebabAndCase) {
  EXPECT_EQ(*ParseEnum<v1::InversionMethod>("--method", "pghi_fgla"), v1::INVERSION_METHOD_PGHI_FGLA);
  EXPECT_EQ(*ParseEnum<v1::InversionMethod>("--method", "pghi-fgla"), v1::INVERSION_METHOD_PGHI_FGLA);
  EXPECT_EQ(*ParseEnum<v1::InversionMethod>("--method", "FGLA"), v1::INVERSION_METHOD_FGLA);
  EXPECT_EQ(ParseEnum<v1::InversionMethod>("--method", "unspecified").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnum<v1::InversionMethod>("--method", "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EnumName(v1::INVERSION_METHOD_PGHI_FGLA), "pghi-fgla");
  EXPECT_EQ(EnumName(v1::SPECTROGRAM_KIND_LOG_MEL), "log-mel");
}

TEST(InversionFlagsTest, ToOptions) {
  CLI::App app;
  InversionFlags flags;
  AddInversionFlags(&app, &flags);
  app.parse(
      "--method refine --iterations 64 --momentum 0.5 --phase-init random --seed 7 "
      "--tolerance 0.001 --time-budget-s 2.5 --refine-iterations 20 --refine-log-domain "
      "--progress-interval 4",
      false);
  absl::StatusOr<v1::InversionOptions> o = ToInversionOptions(flags);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->method(), v1::INVERSION_METHOD_REFINE);
  EXPECT_EQ(o->iterations(), 64);
  EXPECT_DOUBLE_EQ(o->momentum(), 0.5);
  EXPECT_EQ(o->phase_init(), v1::PHASE_INIT_RANDOM);
  EXPECT_EQ(o->seed(), 7u);
  EXPECT_DOUBLE_EQ(o->tolerance(), 0.001);
  EXPECT_DOUBLE_EQ(o->time_budget_seconds(), 2.5);
  EXPECT_EQ(o->refine_iterations(), 20);
  EXPECT_TRUE(o->refine_log_domain());
  EXPECT_EQ(o->progress_interval_iterations(), 4);
}

TEST(InversionFlagsTest, DefaultsLeaveServerDefaults) {
  absl::StatusOr<v1::InversionOptions> o = ToInversionOptions(InversionFlags());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->method(), v1::INVERSION_METHOD_UNSPECIFIED);
  EXPECT_FALSE(o->has_iterations());
  EXPECT_FALSE(o->has_momentum());
  EXPECT_FALSE(o->has_tolerance());
}

TEST(InversionFlagsTest, InvalidOptions) {
  InversionFlags flags;
  flags.method = "magic";
  absl::StatusOr<v1::InversionOptions> o = ToInversionOptions(flags);
  ASSERT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("--method must be one of gl, fgla, pghi, pghi-fgla, refine"),
            absl::string_view::npos);
  flags.method = "gl";
  flags.phase_init = "given";
  EXPECT_EQ(ToInversionOptions(flags).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanAudioOutputTest, EncodingFollowsExtension) {
  OutputFlags f;
  f.output = "out.wav";
  EXPECT_EQ(PlanAudioOutput(f)->options.encoding(), v1::AUDIO_ENCODING_WAV_PCM16);
  f.output = "out.FLAC";
  EXPECT_EQ(PlanAudioOutput(f)->options.encoding(), v1::AUDIO_ENCODING_FLAC);
  f.output = "out.raw";
  EXPECT_EQ(PlanAudioOutput(f)->options.encoding(), v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  f.output = "out.s16";
  EXPECT_EQ(PlanAudioOutput(f)->options.encoding(), v1::AUDIO_ENCODING_PCM_INT16_LE);
  f.output = "out.npy";
  absl::StatusOr<AudioOutputPlan> npy = PlanAudioOutput(f);
  EXPECT_EQ(npy->options.encoding(), v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  EXPECT_EQ(npy->file_kind, AudioFileKind::kNpy);
  EXPECT_FALSE(npy->options.has_length_samples());
}

TEST(PlanAudioOutputTest, ExplicitEncodingAndLength) {
  OutputFlags f;
  f.output = "out.wav";
  f.encoding = "wav_float";
  f.length_samples = 12345;
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(f);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->options.encoding(), v1::AUDIO_ENCODING_WAV_FLOAT32);
  EXPECT_EQ(plan->options.length_samples(), 12345);
  f.encoding = "aac";
  EXPECT_EQ(PlanAudioOutput(f).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanAudioOutputTest, CodecEncodingsByNameAndExtension) {
  OutputFlags f;
  f.output = "out.bin";
  const std::pair<const char*, v1::AudioEncoding> names[] = {
      {"opus", v1::AUDIO_ENCODING_OGG_OPUS},      {"ogg-opus", v1::AUDIO_ENCODING_OGG_OPUS},
      {"vorbis", v1::AUDIO_ENCODING_OGG_VORBIS},  {"mp3", v1::AUDIO_ENCODING_MP3},
      {"wav-mulaw", v1::AUDIO_ENCODING_WAV_MULAW}, {"wav_mulaw", v1::AUDIO_ENCODING_WAV_MULAW},
      {"wav-alaw", v1::AUDIO_ENCODING_WAV_ALAW}};
  for (const auto& [name, encoding] : names) {
    f.encoding = name;
    absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(f);
    ASSERT_TRUE(plan.ok()) << name << ": " << plan.status();
    EXPECT_EQ(plan->options.encoding(), encoding) << name;
  }
  f.encoding.clear();
  const std::pair<const char*, v1::AudioEncoding> extensions[] = {{"out.opus", v1::AUDIO_ENCODING_OGG_OPUS},
                                                                  {"out.ogg", v1::AUDIO_ENCODING_OGG_VORBIS},
                                                                  {"out.mp3", v1::AUDIO_ENCODING_MP3},
                                                                  {"out.ul", v1::AUDIO_ENCODING_WAV_MULAW},
                                                                  {"out.al", v1::AUDIO_ENCODING_WAV_ALAW}};
  for (const auto& [path, encoding] : extensions) {
    f.output = path;
    EXPECT_EQ(PlanAudioOutput(f)->options.encoding(), encoding) << path;
  }
}

TEST(PlanAudioOutputTest, OutputRate) {
  OutputFlags f;
  f.output = "out.wav";
  EXPECT_EQ(PlanAudioOutput(f)->options.sample_rate_hertz(), 0);
  f.output_rate = 48000;
  EXPECT_EQ(PlanAudioOutput(f)->options.sample_rate_hertz(), 48000);
  f.output_rate = -1;
  EXPECT_EQ(PlanAudioOutput(f).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv::client
