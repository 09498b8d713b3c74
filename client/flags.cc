// Copyright specinv authors.

#include "client/flags.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "client/files.h"

namespace specinv::client {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

// "WINDOW_" for an enum whose zero value is "WINDOW_UNSPECIFIED".
std::string EnumPrefix(const EnumDescriptor* descriptor) {
  const EnumValueDescriptor* zero = descriptor->FindValueByNumber(0);
  if (zero == nullptr) return "";
  const std::string& name = zero->name();
  const std::string unspecified = "UNSPECIFIED";
  if (name.size() < unspecified.size() ||
      name.compare(name.size() - unspecified.size(), unspecified.size(), unspecified) != 0) {
    return "";
  }
  return name.substr(0, name.size() - unspecified.size());
}

// Applies a parsed enum flag when it was given.
template <typename E, typename Setter>
absl::Status SetEnum(std::string_view flag, const std::string& value, Setter set) {
  if (value.empty()) return absl::OkStatus();
  absl::StatusOr<E> parsed = ParseEnum<E>(flag, value);
  if (!parsed.ok()) return parsed.status();
  set(*parsed);
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> EnumFlagNames(const EnumDescriptor* descriptor) {
  const std::string prefix = EnumPrefix(descriptor);
  std::vector<std::string> names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;
    names.push_back(absl::StrReplaceAll(absl::AsciiStrToLower(value->name().substr(prefix.size())),
                                        {{"_", "-"}}));
  }
  return names;
}

std::string EnumFlagName(const EnumDescriptor* descriptor, int number) {
  const EnumValueDescriptor* value = descriptor->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  return absl::StrReplaceAll(
      absl::AsciiStrToLower(value->name().substr(EnumPrefix(descriptor).size())), {{"_", "-"}});
}

absl::StatusOr<int> ParseEnumFlag(const EnumDescriptor* descriptor, std::string_view flag,
                                  std::string_view value) {
  std::string wanted = absl::AsciiStrToUpper(absl::StrReplaceAll(std::string(value), {{"-", "_"}}));
  const EnumValueDescriptor* found = nullptr;
  if (!wanted.empty() && wanted != "UNSPECIFIED") {
    found = descriptor->FindValueByName(EnumPrefix(descriptor) + wanted);
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(flag), " must be one of ",
                                                   absl::StrJoin(EnumFlagNames(descriptor), ", "),
                                                   ", got \"", std::string(value), "\""));
  }
  return found->number();
}

// --- SpectrogramConfig -----------------------------------------------------

void AddConfigFlags(CLI::App* app, ConfigFlags* f) {
  const std::string g = "Spectrogram config (explicit flags override the preset)";
  app->add_option("--preset", f->preset,
                  "librosa, hifigan, tacotron2, espnet, whisper, whisper-128 (see `specinv info`)")
      ->group(g);
  app->add_option("--sample-rate", f->sample_rate, "sample rate in Hz (input is resampled)")
      ->group(g);
  app->add_option("--n-fft", f->n_fft, "FFT size in samples")->group(g);
  app->add_option("--hop-length", f->hop_length, "samples between frames")->group(g);
  app->add_option("--win-length", f->win_length, "window length in samples (0 = n_fft)")->group(g);
  app->add_option("--window", f->window, "hann, hamming, blackman, rectangular, sqrt-hann")
      ->group(g);
  f->center_option =
      app->add_flag("--center,!--no-center", f->center, "pad n_fft/2 on both sides")->group(g);
  app->add_option("--pad-mode", f->pad_mode, "constant, reflect")->group(g);
  app->add_option("--framing", f->framing, "stft, hifigan-reflect")->group(g);
  app->add_option("--magnitude-epsilon", f->magnitude_epsilon, "added under the root of |X|")
      ->group(g);
  app->add_option("--power", f->power, "exponent of |X| before the mel filterbank (1 or 2)")
      ->group(g);
  app->add_option("--n-mels", f->n_mels, "number of mel bands")->group(g);
  app->add_option("--fmin", f->fmin, "lowest mel edge, Hz")->group(g);
  app->add_option("--fmax", f->fmax, "highest mel edge, Hz")->group(g);
  app->add_option("--mel-scale", f->mel_scale, "slaney, htk")->group(g);
  app->add_option("--mel-norm", f->mel_norm, "slaney, none")->group(g);
  f->drop_last_frame_option =
      app->add_flag("--drop-last-frame,!--keep-last-frame", f->drop_last_frame,
                    "drop the last STFT frame (Whisper)")
          ->group(g);
  app->add_option("--scale", f->scale, "none, power-db, amplitude-db, ln, log10, whisper")
      ->group(g);
  CLI::Option* ref = app->add_option("--ref", f->ref, "dB reference value")->group(g);
  CLI::Option* ref_max =
      app->add_flag("--ref-max", f->ref_max, "dB reference = maximum of the input")->group(g);
  ref->excludes(ref_max);
  app->add_option("--amin", f->amin, "dB floor inside the logarithm")->group(g);
  CLI::Option* top_db = app->add_option("--top-db", f->top_db, "dB dynamic range")->group(g);
  CLI::Option* no_top_db = app->add_flag("--no-top-db", f->no_top_db, "no dB floor")->group(g);
  top_db->excludes(no_top_db);
  app->add_option("--clamp", f->clamp, "lower clamp of ln / log10 / whisper")->group(g);
}

absl::StatusOr<v1::SpectrogramConfig> ToSpectrogramConfig(const ConfigFlags& f) {
  v1::SpectrogramConfig c;
  c.set_preset(f.preset);
  if (f.sample_rate) c.set_sample_rate_hertz(*f.sample_rate);
  if (f.n_fft) c.set_n_fft(*f.n_fft);
  if (f.hop_length) c.set_hop_length(*f.hop_length);
  if (f.win_length) c.set_win_length(*f.win_length);
  if (absl::Status s = SetEnum<v1::Window>("--window", f.window,
                                           [&](v1::Window v) { c.set_window(v); });
      !s.ok()) {
    return s;
  }
  if (f.center_option != nullptr && f.center_option->count() > 0) c.set_center(f.center);
  if (absl::Status s = SetEnum<v1::PadMode>("--pad-mode", f.pad_mode,
                                            [&](v1::PadMode v) { c.set_pad_mode(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetEnum<v1::Framing>("--framing", f.framing,
                                            [&](v1::Framing v) { c.set_framing(v); });
      !s.ok()) {
    return s;
  }
  if (f.magnitude_epsilon) c.set_magnitude_epsilon(*f.magnitude_epsilon);
  if (f.power) c.set_power(*f.power);
  if (f.n_mels) c.set_n_mels(*f.n_mels);
  if (f.fmin) c.set_fmin_hertz(*f.fmin);
  if (f.fmax) c.set_fmax_hertz(*f.fmax);
  if (absl::Status s = SetEnum<v1::MelScale>("--mel-scale", f.mel_scale,
                                             [&](v1::MelScale v) { c.set_mel_scale(v); });
      !s.ok()) {
    return s;
  }
  if (absl::Status s = SetEnum<v1::MelNorm>("--mel-norm", f.mel_norm,
                                            [&](v1::MelNorm v) { c.set_mel_norm(v); });
      !s.ok()) {
    return s;
  }
  if (f.drop_last_frame_option != nullptr && f.drop_last_frame_option->count() > 0) {
    c.set_drop_last_frame(f.drop_last_frame);
  }
  v1::ScaleConfig* scale = c.mutable_scale();
  if (absl::Status s = SetEnum<v1::ScaleKind>("--scale", f.scale,
                                              [&](v1::ScaleKind v) { scale->set_kind(v); });
      !s.ok()) {
    return s;
  }
  if (f.ref) scale->set_ref_value(*f.ref);
  if (f.ref_max) scale->set_ref_max(true);
  if (f.amin) scale->set_amin(*f.amin);
  if (f.top_db) scale->set_top_db(*f.top_db);
  if (f.no_top_db) scale->set_no_top_db(true);
  if (f.clamp) scale->set_clamp(*f.clamp);
  if (scale->ByteSizeLong() == 0) c.clear_scale();
  return c;
}

std::string DescribeConfig(const v1::SpectrogramConfig& c) {
  std::string out;
  if (!c.preset().empty()) absl::StrAppend(&out, "preset ", c.preset(), ", ");
  absl::StrAppendFormat(&out, "%g Hz, n_fft %d, hop %d, win %d", c.sample_rate_hertz(), c.n_fft(),
                        c.hop_length(), c.win_length() == 0 ? c.n_fft() : c.win_length());
  if (c.window() != v1::WINDOW_UNSPECIFIED) absl::StrAppend(&out, ", ", EnumName(c.window()));
  absl::StrAppendFormat(&out, ", %d mels %g-%g Hz", c.n_mels(), c.fmin_hertz(), c.fmax_hertz());
  if (c.has_power()) absl::StrAppendFormat(&out, ", power %g", c.power());
  if (c.scale().kind() != v1::SCALE_KIND_UNSPECIFIED) {
    absl::StrAppend(&out, ", scale ", EnumName(c.scale().kind()));
  }
  return out;
}

// --- InversionOptions ------------------------------------------------------

void AddInversionFlags(CLI::App* app, InversionFlags* f) {
  const std::string g = "Inversion";
  app->add_option("--method", f->method,
                  "gl, fgla, pghi, pghi-fgla, refine, joint; unset: the server picks the best method within its "
                  "default time budget (joint for a mel at the default iterations)")
      ->group(g);
  app->add_option("--iterations", f->iterations, "iterations (server default 32)")->group(g);
  app->add_option("--momentum", f->momentum, "fast Griffin-Lim momentum, [0, 2)")->group(g);
  app->add_option("--phase-init", f->phase_init, "zero, random")->group(g);
  app->add_option("--seed", f->seed, "seed of the random initial phase")->group(g);
  app->add_option("--tolerance", f->tolerance, "stop when the relative SC gain is below this")
      ->group(g);
  app->add_option("--time-budget-s", f->time_budget_s, "stop after this many seconds")->group(g);
  app->add_option("--refine-iterations", f->refine_iterations, "L-BFGS iterations (refine)")
      ->group(g);
  app->add_flag("--refine-log-domain", f->refine_log_domain,
                "refine: minimise the log-mel error")
      ->group(g);
  app->add_option("--progress-interval", f->progress_interval,
                  "iterations between progress events (streaming)")
      ->group(g);
}

absl::StatusOr<v1::InversionOptions> ToInversionOptions(const InversionFlags& f) {
  v1::InversionOptions o;
  if (absl::Status s = SetEnum<v1::InversionMethod>(
          "--method", f.method, [&](v1::InversionMethod v) { o.set_method(v); });
      !s.ok()) {
    return s;
  }
  if (f.iterations) o.set_iterations(*f.iterations);
  if (f.momentum) o.set_momentum(*f.momentum);
  if (absl::Status s = SetEnum<v1::PhaseInit>("--phase-init", f.phase_init,
                                              [&](v1::PhaseInit v) { o.set_phase_init(v); });
      !s.ok()) {
    return s;
  }
  if (o.phase_init() == v1::PHASE_INIT_GIVEN) {
    return absl::InvalidArgumentError(
        "--phase-init given needs a phase tensor; use invert-spectrogram --phase FILE");
  }
  o.set_seed(f.seed);
  if (f.tolerance) o.set_tolerance(*f.tolerance);
  if (f.time_budget_s) o.set_time_budget_seconds(*f.time_budget_s);
  if (f.refine_iterations) o.set_refine_iterations(*f.refine_iterations);
  o.set_refine_log_domain(f.refine_log_domain);
  if (f.progress_interval) o.set_progress_interval_iterations(*f.progress_interval);
  return o;
}

// --- Audio output ----------------------------------------------------------

void AddOutputFlags(CLI::App* app, OutputFlags* f) {
  app->add_option("-o,--output", f->output, "output file (\"-\" = stdout)")->required();
  app->add_option("--encoding", f->encoding,
                  "wav16, wav-float, flac, wav-mulaw, wav-alaw, opus, vorbis, mp3, raw-f32, raw-s16, npy "
                  "(default: from the -o extension)");
  app->add_option("--length-samples", f->length_samples, "exact output length in samples");
  app->add_option("--output-rate", f->output_rate,
                  "resample the returned audio to this rate in Hz (default: the config's; Opus and MP3 round up "
                  "to a rate they support)");
}

absl::StatusOr<AudioOutputPlan> PlanAudioOutput(const OutputFlags& f) {
  std::string encoding = absl::AsciiStrToLower(absl::StrReplaceAll(f.encoding, {{"_", "-"}}));
  if (encoding.empty()) {
    const std::string ext = FileExtension(f.output);
    if (ext == "flac") {
      encoding = "flac";
    } else if (ext == "opus") {
      encoding = "opus";
    } else if (ext == "ogg" || ext == "oga") {
      encoding = "vorbis";
    } else if (ext == "mp3") {
      encoding = "mp3";
    } else if (ext == "ul" || ext == "ulaw") {
      encoding = "wav-mulaw";
    } else if (ext == "al" || ext == "alaw") {
      encoding = "wav-alaw";
    } else if (ext == "raw" || ext == "pcm" || ext == "f32") {
      encoding = "raw-f32";
    } else if (ext == "s16") {
      encoding = "raw-s16";
    } else if (ext == "npy") {
      encoding = "npy";
    } else {
      encoding = "wav16";
    }
  }
  AudioOutputPlan plan;
  if (encoding == "wav16" || encoding == "wav") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_WAV_PCM16);
  } else if (encoding == "wav-float" || encoding == "wav-f32") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);
  } else if (encoding == "flac") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_FLAC);
  } else if (encoding == "wav-mulaw" || encoding == "mulaw" || encoding == "ulaw") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_WAV_MULAW);
  } else if (encoding == "wav-alaw" || encoding == "alaw") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_WAV_ALAW);
  } else if (encoding == "opus" || encoding == "ogg-opus") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_OGG_OPUS);
  } else if (encoding == "vorbis" || encoding == "ogg-vorbis" || encoding == "ogg") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_OGG_VORBIS);
  } else if (encoding == "mp3") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_MP3);
  } else if (encoding == "raw-f32") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  } else if (encoding == "raw-s16") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_PCM_INT16_LE);
  } else if (encoding == "npy") {
    plan.options.set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    plan.file_kind = AudioFileKind::kNpy;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--encoding must be one of wav16, wav-float, flac, wav-mulaw, wav-alaw, opus, vorbis, mp3, raw-f32, "
        "raw-s16, npy, got \"",
        f.encoding, "\""));
  }
  if (f.length_samples) plan.options.set_length_samples(*f.length_samples);
  if (f.output_rate) {
    // The bounds are the server's (core's) to check; only the sign here.
    if (*f.output_rate <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("--output-rate must be > 0 Hz, got ", *f.output_rate));
    }
    plan.options.set_sample_rate_hertz(*f.output_rate);
  }
  return plan;
}

// --- Mel input -------------------------------------------------------------

void AddMelInputFlags(CLI::App* app, MelInputFlags* f) {
  const std::string g = "Mel input";
  app->add_option("--layout", f->layout, "axis order of .npy inputs: bins-frames, frames-bins")
      ->capture_default_str()
      ->group(g);
  app->add_option("--domain", f->domain,
                  "scaled (compressed with the config's scale, default), linear")
      ->group(g);
  app->add_option("--mel-mean", f->mel_mean, ".npy of per-bin means to add back (TTS models)")
      ->group(g);
  app->add_option("--mel-std", f->mel_std, ".npy of per-bin standard deviations")->group(g);
}

void AddProgressFlag(CLI::App* app, std::string* setting) {
  app->add_option("--progress", *setting,
                  "auto (bar on a terminal), always, never; a bar streams progress from the server")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
}

}  // namespace specinv::client
