// Copyright specinv authors.
//
// `specinv vocode MEL.npy -o OUT.wav --preset hifigan --chunk-frames 8`:
// StreamVocode. A sender thread writes the config and then the mel in chunks
// (optionally paced like a producing TTS model); the main thread collects the
// audio chunks. Prints the first-chunk latency (first mel chunk sent -> first
// audio chunk received) and the real-time factor (audio seconds per wall
// second, from the first chunk sent to the summary received).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/commands/commands.h"
#include "client/files.h"
#include "client/payloads.h"
#include "client/status_format.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/npy.h"

namespace specinv::client {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status AppendChunk(const v1::AudioChunk& chunk, std::vector<float>* audio) {
  const std::string& pcm = chunk.pcm_data();
  std::vector<float> samples;
  if (chunk.encoding() == v1::AUDIO_ENCODING_PCM_INT16_LE) {
    v1::Audio as_audio;
    as_audio.set_pcm_data(pcm);
    as_audio.set_encoding(v1::AUDIO_ENCODING_PCM_INT16_LE);
    absl::StatusOr<std::vector<float>> decoded = SamplesFromAudio(as_audio);
    if (!decoded.ok()) return decoded.status();
    samples = *std::move(decoded);
  } else {
    if (pcm.size() % 4 != 0) return absl::DataLossError("audio chunk is not whole float32 samples");
    samples.resize(pcm.size() / 4);
    std::memcpy(samples.data(), pcm.data(), pcm.size());
  }
  if (chunk.first_sample() < 0) return absl::DataLossError("audio chunk with a negative offset");
  const auto first = static_cast<size_t>(chunk.first_sample());
  if (audio->size() < first + samples.size()) audio->resize(first + samples.size(), 0.0f);
  std::copy(samples.begin(), samples.end(), audio->begin() + static_cast<std::ptrdiff_t>(first));
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeOutput(std::vector<float> samples, double sample_rate,
                                         const OutputFlags& output) {
  absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(output);
  if (!plan.ok()) return plan.status();
  if (output.length_samples) samples.resize(static_cast<size_t>(*output.length_samples), 0.0f);
  if (plan->options.sample_rate_hertz() > 0 && plan->options.sample_rate_hertz() != sample_rate) {
    absl::StatusOr<std::vector<float>> resampled =
        Resample(samples, sample_rate, plan->options.sample_rate_hertz());
    if (!resampled.ok()) return resampled.status();
    samples = *std::move(resampled);
    sample_rate = plan->options.sample_rate_hertz();
  }
  if (plan->file_kind == AudioFileKind::kNpy) return RealVectorToNpy(samples);
  switch (plan->options.encoding()) {
    case v1::AUDIO_ENCODING_WAV_FLOAT32:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kWavFloat32);
    case v1::AUDIO_ENCODING_FLAC:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kFlac);
    case v1::AUDIO_ENCODING_WAV_MULAW:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kWavMulaw);
    case v1::AUDIO_ENCODING_WAV_ALAW:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kWavAlaw);
    case v1::AUDIO_ENCODING_OGG_OPUS:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kOggOpus);
    case v1::AUDIO_ENCODING_OGG_VORBIS:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kOggVorbis);
    case v1::AUDIO_ENCODING_MP3:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kMp3);
    case v1::AUDIO_ENCODING_PCM_FLOAT32_LE: {
      std::string bytes(samples.size() * 4, '\0');
      std::memcpy(bytes.data(), samples.data(), bytes.size());
      return bytes;
    }
    case v1::AUDIO_ENCODING_PCM_INT16_LE: {
      std::string bytes;
      bytes.reserve(samples.size() * 2);
      for (float x : samples) {
        const float scaled = std::clamp(std::round(x * 32768.0f), -32768.0f, 32767.0f);
        const auto v = static_cast<uint16_t>(static_cast<int16_t>(scaled));
        bytes.push_back(static_cast<char>(v & 0xff));
        bytes.push_back(static_cast<char>(v >> 8));
      }
      return bytes;
    }
    default:
      return EncodeAudio(samples, sample_rate, AudioEncoding::kWavPcm16);
  }
}

absl::Status RunVocode(CommandContext& ctx, const VocodeArgs& args) {
  absl::StatusOr<v1::StreamVocodeRequest> config_message = BuildVocodeConfigMessage(args);
  if (!config_message.ok()) return config_message.status();
  if (absl::StatusOr<AudioOutputPlan> plan = PlanAudioOutput(args.output); !plan.ok()) {
    return plan.status();
  }
  absl::StatusOr<v1::TensorLayout> layout = ParseLayoutFlag(args.mel.layout);
  if (!layout.ok()) return layout.status();
  absl::StatusOr<RealMatrix> mel = MatrixFromNpyFile(args.input, *layout);
  if (!mel.ok()) return mel.status();
  if (mel->cols() < 1) return absl::InvalidArgumentError(absl::StrCat(args.input, ": no frames"));
  const std::vector<std::pair<int64_t, int64_t>> chunks = ChunkFrames(mel->cols(), args.chunk_frames);

  absl::StatusOr<std::unique_ptr<v1::Spectrogram::Stub>> stub = ctx.NewStub();
  if (!stub.ok()) return stub.status();
  grpc::ClientContext call;
  (*ctx.Connect())->Prepare(&call);
  std::unique_ptr<grpc::ClientReaderWriter<v1::StreamVocodeRequest, v1::StreamVocodeResponse>>
      stream = (*stub)->StreamVocode(&call);

  std::atomic<int64_t> first_sent_ns{-1};
  const Clock::time_point origin = Clock::now();
  std::thread sender([&] {
    if (!stream->Write(*config_message)) return;
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i > 0 && args.chunk_interval_ms > 0.0) {
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(args.chunk_interval_ms));
      }
      v1::StreamVocodeRequest message;
      *message.mutable_mel_chunk() = TensorFromColumns(*mel, chunks[i].first, chunks[i].second);
      message.set_end_of_utterance(i + 1 == chunks.size());
      if (i == 0) {
        first_sent_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - origin).count();
      }
      if (!stream->Write(message)) return;
    }
    stream->WritesDone();
  });

  std::vector<float> audio;
  v1::StreamVocodeResponse response;
  v1::StreamVocodeSummary summary;
  bool have_summary = false;
  double first_chunk_ms = -1.0;
  int sample_rate = 0;
  int64_t chunks_received = 0;
  double max_processing_ms = 0.0;
  absl::Status local_error;
  while (stream->Read(&response)) {
    if (response.has_audio()) {
      if (first_chunk_ms < 0.0) {
        const double now_ns = static_cast<double>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - origin).count());
        first_chunk_ms = (now_ns - static_cast<double>(first_sent_ns.load())) / 1e6;
      }
      ++chunks_received;
      sample_rate = response.audio().sample_rate_hertz();
      max_processing_ms = std::max(max_processing_ms, response.audio().processing_milliseconds());
      if (absl::Status s = AppendChunk(response.audio(), &audio); !s.ok()) {
        local_error = s;
        call.TryCancel();
        break;
      }
    } else if (response.has_summary()) {
      summary = response.summary();
      have_summary = true;
    }
  }
  const double wall_s =
      std::chrono::duration<double>(Clock::now() - origin).count() -
      static_cast<double>(std::max<int64_t>(first_sent_ns.load(), 0)) / 1e9;
  sender.join();
  const grpc::Status finished = stream->Finish();
  if (!local_error.ok()) return local_error;
  if (!finished.ok()) return FromGrpcStatus(finished);
  if (!have_summary) return absl::DataLossError("the stream ended without a summary");
  if (audio.empty() || sample_rate <= 0) return absl::DataLossError("the stream returned no audio");

  absl::StatusOr<std::string> bytes = EncodeOutput(std::move(audio), sample_rate, args.output);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status w = WriteFileBytes(args.output.output, *bytes); !w.ok()) return w;
  const double audio_s = static_cast<double>(summary.total_samples()) / sample_rate;
  ctx.Print("vocode: %lld frames in %zu chunks -> %lld audio chunks, %.3f s at %d Hz -> %s\n",
            static_cast<long long>(summary.total_frames()), chunks.size(),
            static_cast<long long>(chunks_received), audio_s, sample_rate,
            args.output.output.c_str());
  ctx.Print("first-chunk latency %.2f ms; real-time factor %.1fx (wall %.1f ms); server %.1fx, "
            "%.2f ms processing, max %.2f ms per chunk\n",
            first_chunk_ms, wall_s > 0.0 ? audio_s / wall_s : 0.0, wall_s * 1000.0,
            summary.real_time_factor(), summary.processing_milliseconds(), max_processing_ms);
  return absl::OkStatus();
}

}  // namespace

void AddVocodeFlags(CLI::App* app, VocodeArgs* args) {
  app->add_option("input", args->input, "mel .npy")->required();
  AddOutputFlags(app, &args->output);
  const std::string g = "Streaming";
  app->add_option("--chunk-frames", args->chunk_frames, "mel frames per message")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20))
      ->group(g);
  app->add_option("--chunk-interval-ms", args->chunk_interval_ms,
                  "pause between chunks, like a model producing frames")
      ->group(g);
  app->add_option("--algorithm", args->algorithm, "rtpghi-causal, rtpghi-lookahead")->group(g);
  app->add_option("--online-iterations", args->online_iterations,
                  "online Griffin-Lim iterations per frame, [0, 32]; 0 = RTPGHI only (fastest, "
                  "lowest latency, lower quality). Default: the server's, from the window overlap: "
                  "2 at >= 75 % (hifigan, tacotron2, espnet), 8 with momentum 0.95 below (whisper)")
      ->group(g);
  app->add_option("--lookahead-frames", args->lookahead_frames,
                  "look-ahead of the online iterations, [0, 16]; each frame adds one hop of latency. "
                  "Default: the server's, 4 at >= 75 % overlap, 7 below")
      ->group(g);
  app->add_option("--mel-projection", args->mel_projection,
                  "true/false: online iterations re-estimate each frame's magnitude from its mel (2.5-6 dB "
                  "lower SC_mel on speech, about 20 % more time at 75 % overlap). Default: the server's, on at "
                  ">= 75 % overlap, off below (3-4 times the time there)")
      ->group(g);
  app->add_option("--pcm", args->pcm, "wire format of audio chunks: f32, s16")
      ->capture_default_str()
      ->check(CLI::IsMember({"f32", "s16"}))
      ->group(g);
  AddMelInputFlags(app, &args->mel);
  AddConfigFlags(app, &args->config);
}

absl::StatusOr<v1::StreamVocodeRequest> BuildVocodeConfigMessage(const VocodeArgs& args) {
  v1::StreamVocodeRequest message;
  v1::StreamVocodeConfig* c = message.mutable_config();
  absl::StatusOr<v1::SpectrogramConfig> config = ToSpectrogramConfig(args.config);
  if (!config.ok()) return config.status();
  *c->mutable_config() = *std::move(config);
  absl::StatusOr<v1::MelDomain> domain = DomainFromFlags(args.mel);
  if (!domain.ok()) return domain.status();
  c->set_input_domain(*domain);
  absl::StatusOr<v1::MelNormalization> normalization = NormalizationFromFlags(args.mel);
  if (!normalization.ok()) return normalization.status();
  if (normalization->mean_size() > 0 || normalization->std_size() > 0) {
    *c->mutable_normalization() = *std::move(normalization);
  }
  // Chunks are always sent (bins, frames), whatever the file's layout.
  c->set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
  if (!args.algorithm.empty()) {
    absl::StatusOr<v1::VocodeAlgorithm> algorithm =
        ParseEnum<v1::VocodeAlgorithm>("--algorithm", args.algorithm);
    if (!algorithm.ok()) return algorithm.status();
    c->set_algorithm(*algorithm);
  }
  if (args.online_iterations) c->set_online_iterations(*args.online_iterations);
  if (args.lookahead_frames) c->set_lookahead_frames(*args.lookahead_frames);
  if (args.mel_projection) c->set_mel_projection(*args.mel_projection);
  c->set_encoding(args.pcm == "s16" ? v1::AUDIO_ENCODING_PCM_INT16_LE
                                    : v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  return message;
}

std::vector<std::pair<int64_t, int64_t>> ChunkFrames(int64_t frames, int chunk_frames) {
  std::vector<std::pair<int64_t, int64_t>> chunks;
  if (chunk_frames < 1) chunk_frames = 1;
  for (int64_t first = 0; first < frames; first += chunk_frames) {
    chunks.emplace_back(first, std::min<int64_t>(chunk_frames, frames - first));
  }
  return chunks;
}

void RegisterVocode(CLI::App* app, CommandContext* context) {
  auto args = std::make_shared<VocodeArgs>();
  CLI::App* sub = app->add_subcommand(
      "vocode", "stream a mel .npy in chunks through StreamVocode (latency, real-time factor)");
  AddVocodeFlags(sub, args.get());
  sub->callback([context, args] {
    context->set_stdout_is_data(args->output.output == "-");
    context->action = [context, args] { return RunVocode(*context, *args); };
  });
}

}  // namespace specinv::client
