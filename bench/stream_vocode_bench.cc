// Copyright specinv authors.
//
// Streaming vocoder speed and quality per preset (0 hifigan, 1 tacotron2,
// 2 espnet, 3 whisper, 4 whisper-128, 5 librosa; the label names it) on 10 s of the
// voice-like demo phrase (demo_signal.h), i.e. the server-side DSP of
// StreamVocode per message: log-mel decompression plus
// StreamVocoder::PushFrames. `iters`/`lookahead` -1 are the defaults
// (DefaultOnlineGriffinLim: 2/4 at 75 % overlap, 8/7 with momentum 0.95 for
// Whisper's 60 %).
//
//   BM_StreamVocodeChunk/P/C/I/L   one chunk of C frames; the stream runs on
//                                  and wraps around the utterance. Time per
//                                  chunk is the processing latency (target
//                                  <= 5 ms for C = 8 at 22050 Hz / hop 256,
//                                  i.e. 93 ms of audio); `rtf` is audio
//                                  seconds per CPU second (target >= 100);
//                                  `lag_ms` how far the audio emitted trails
//                                  the frames pushed after a chunk (the
//                                  algorithmic latency at that chunk size).
//   BM_StreamVocodeUtterance/P/I/L/J the whole utterance in 8-frame chunks,
//                                  Create to Finish; J the mel projection
//                                  (-1 default, 0 off, 1 on). Counters
//                                  `sc_mel_db` (streamed), `offline_db`
//                                  (InvertMel pghi_fgla, 32 iterations),
//                                  `gap_db` (streamed - offline; target
//                                  <= 1.5), `stoi` and `offline_stoi`
//                                  (against the utterance), computed once
//                                  outside the timing.
//   BM_StreamVocodeConcurrent/P/I  16 streams at once (threads) on this
//                                  machine's cores; `rtf` is each stream's
//                                  audio seconds per wall second (>= 1: every
//                                  stream faster than real time).
//
// SPECINV_BENCH_MEL_INVERSE=nnls|pinv|lobes|harmonic (and
// SPECINV_BENCH_MEL_INVERSE_ITERATIONS=N) replace every stream's mel inverse,
// to measure an alternative to the presets' defaults.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "specinv/io/demo_signal.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/evaluation/stoi.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/streaming/stream_vocoder.h"

namespace specinv {
namespace {

constexpr double kSeconds = 10.0;
constexpr std::array<const char*, 6> kPresets = {"hifigan", "tacotron2", "espnet", "whisper", "whisper-128", "librosa"};

struct VocodeFixture {
  explicit VocodeFixture(const char* preset) {
    fx = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(GetPreset(preset).value()).value());
    audio = GenerateDemoSignal(fx->config().sample_rate, kSeconds).value();
    log_mel = fx->LogMel(audio).value();
    mel = fx->Decompress(log_mel).value();
  }
  std::unique_ptr<FeatureExtractor> fx;
  std::vector<float> audio;  // the utterance
  RealMatrix log_mel;  // what a TTS model sends
  RealMatrix mel;      // what the vocoder receives
};

const VocodeFixture& Data(int64_t preset) {
  static std::mutex mu;
  static std::map<int64_t, std::unique_ptr<VocodeFixture>>* fixtures =
      new std::map<int64_t, std::unique_ptr<VocodeFixture>>();
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<VocodeFixture>& f = (*fixtures)[preset];
  if (!f) f = std::make_unique<VocodeFixture>(kPresets[static_cast<size_t>(preset)]);
  return *f;
}

// -1: the default (DefaultOnlineGriffinLim); projection 0 off, 1 on.
StreamVocoderOptions Options(int64_t iterations, int64_t lookahead, int64_t projection = -1) {
  StreamVocoderOptions o;
  if (iterations >= 0) o.online_iterations = static_cast<int>(iterations);
  if (lookahead >= 0) o.lookahead_frames = static_cast<int>(lookahead);
  if (projection >= 0) o.mel_projection = projection != 0;
  // Alternatives to measure against the preset's defaults.
  if (const char* m = std::getenv("SPECINV_BENCH_MEL_INVERSE")) o.mel_inverse = ParseMelInverseMethod(m).value();
  if (const char* n = std::getenv("SPECINV_BENCH_MEL_INVERSE_ITERATIONS")) o.nnls_iterations = std::atoi(n);
  return o;
}

double ChunkAudioSeconds(const FeatureExtractor& fx, int64_t frames) {
  return static_cast<double>(frames * fx.stft().hop_length()) / fx.config().sample_rate;
}

// Audio pushed as frames but not yet emitted, in milliseconds.
double LagMs(const FeatureExtractor& fx, const StreamVocoder& vocoder) {
  const int64_t samples = vocoder.frames_pushed() * fx.stft().hop_length() - vocoder.samples_emitted();
  return 1e3 * static_cast<double>(samples) / fx.config().sample_rate;
}

void SetLabel(benchmark::State& state, const StreamVocoder& vocoder) {
  const StreamVocoderOptions& o = vocoder.options();
  state.SetLabel(std::string(kPresets[static_cast<size_t>(state.range(0))]) + " it" +
                 std::to_string(*o.online_iterations) + " la" + std::to_string(*o.lookahead_frames) + " m" +
                 std::to_string(*o.momentum).substr(0, 3) +
                 (*o.mel_projection && *o.online_iterations > 0 ? " proj" : "") + " " +
                 std::string(MelInverseMethodName(*o.mel_inverse)) + std::to_string(*o.nnls_iterations));
}

void BM_StreamVocodeChunk(benchmark::State& state) {
  const VocodeFixture& d = Data(state.range(0));
  const int64_t chunk = state.range(1);
  StreamVocoder vocoder = StreamVocoder::Create(*d.fx, Options(state.range(2), state.range(3))).value();
  std::vector<float> out;
  out.reserve(static_cast<size_t>(chunk * d.fx->stft().hop_length() * 2));
  int64_t t = 0;
  const int64_t frames = d.log_mel.cols();
  for (auto _ : state) {
    if (t + chunk > frames) t = 0;
    out.clear();
    RealMatrix mel = d.fx->Decompress(d.log_mel.middleCols(t, chunk)).value();
    benchmark::DoNotOptimize(vocoder.PushFrames(mel, &out).ok());
    benchmark::DoNotOptimize(out.data());
    t += chunk;
  }
  state.counters["rtf"] = benchmark::Counter(ChunkAudioSeconds(*d.fx, chunk) * static_cast<double>(state.iterations()),
                                             benchmark::Counter::kIsRate);
  state.counters["state_kb"] = static_cast<double>(vocoder.state_bytes()) / 1024.0;
  state.counters["lag_ms"] = LagMs(*d.fx, vocoder);
  SetLabel(state, vocoder);
}
BENCHMARK(BM_StreamVocodeChunk)
    ->ArgNames({"preset", "chunk", "iters", "lookahead"})
    ->Args({0, 8, 0, 0})
    ->Args({0, 8, -1, -1})
    ->Args({0, 1, -1, -1})
    ->Args({0, 64, -1, -1})
    ->Args({1, 8, -1, -1})
    ->Args({2, 8, -1, -1})
    ->Args({3, 8, 0, 0})
    ->Args({3, 8, -1, -1})
    ->Args({4, 8, -1, -1})
    ->Args({5, 8, -1, -1})
    ->Unit(benchmark::kMillisecond);

// The offline pghi_fgla at 32 iterations on the fixture.
std::vector<float> OfflineAudio(const VocodeFixture& d) {
  InversionOptions io;
  io.method = InversionMethod::kPghiFgla;
  io.iterations = 32;
  return InvertMel(*d.fx, d.mel, io).value().audio;
}

// STOI of a reconstruction against the utterance (the shorter length of the two).
double StoiOf(const VocodeFixture& d, const std::vector<float>& y) {
  const size_t n = std::min(y.size(), d.audio.size());
  return ComputeStoi(std::span<const float>(d.audio.data(), n), std::span<const float>(y.data(), n),
                     d.fx->config().sample_rate)
      .value();
}

std::vector<float> StreamUtterance(const VocodeFixture& d, const StreamVocoderOptions& options) {
  StreamVocoder vocoder = StreamVocoder::Create(*d.fx, options).value();
  std::vector<float> out;
  const int64_t frames = d.log_mel.cols();
  for (int64_t t = 0; t < frames; t += 8) {
    const RealMatrix mel = d.fx->Decompress(d.log_mel.middleCols(t, std::min<int64_t>(8, frames - t))).value();
    benchmark::DoNotOptimize(vocoder.PushFrames(mel, &out).ok());
  }
  benchmark::DoNotOptimize(vocoder.Finish(&out).ok());
  return out;
}

void BM_StreamVocodeUtterance(benchmark::State& state) {
  const VocodeFixture& d = Data(state.range(0));
  const StreamVocoderOptions options = Options(state.range(1), state.range(2), state.range(3));
  const std::vector<float> streamed_audio = StreamUtterance(d, options);
  const std::vector<float> offline_audio = OfflineAudio(d);
  const double streamed = SpectralConvergenceDb(d.mel, d.fx->Mel(streamed_audio).value());
  const double offline = SpectralConvergenceDb(d.mel, d.fx->Mel(offline_audio).value());
  for (auto _ : state) benchmark::DoNotOptimize(StreamUtterance(d, options).data());
  state.counters["rtf"] =
      benchmark::Counter(ChunkAudioSeconds(*d.fx, d.log_mel.cols()) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["sc_mel_db"] = streamed;
  state.counters["offline_db"] = offline;
  state.counters["gap_db"] = streamed - offline;
  state.counters["stoi"] = StoiOf(d, streamed_audio);
  state.counters["offline_stoi"] = StoiOf(d, offline_audio);
  SetLabel(state, StreamVocoder::Create(*d.fx, options).value());
}
BENCHMARK(BM_StreamVocodeUtterance)
    ->ArgNames({"preset", "iters", "lookahead", "proj"})
    ->Args({0, 0, 0, -1})
    ->Args({0, -1, -1, 0})
    ->Args({0, -1, -1, -1})
    ->Args({1, -1, -1, 0})
    ->Args({1, -1, -1, -1})
    ->Args({2, -1, -1, 0})
    ->Args({2, -1, -1, -1})
    ->Args({3, 0, 0, -1})
    ->Args({3, -1, -1, -1})
    ->Args({3, -1, -1, 1})
    ->Args({4, -1, -1, -1})
    ->Unit(benchmark::kMillisecond);

void BM_StreamVocodeConcurrent(benchmark::State& state) {
  const VocodeFixture& d = Data(state.range(0));
  StreamVocoder vocoder = StreamVocoder::Create(*d.fx, Options(state.range(1), -1)).value();
  std::vector<float> out;
  int64_t t = 0;
  const int64_t frames = d.log_mel.cols();
  for (auto _ : state) {
    if (t + 8 > frames) t = 0;
    out.clear();
    const RealMatrix mel = d.fx->Decompress(d.log_mel.middleCols(t, 8)).value();
    benchmark::DoNotOptimize(vocoder.PushFrames(mel, &out).ok());
    t += 8;
  }
  // Per stream (thread): audio seconds per wall second.
  state.counters["rtf"] = benchmark::Counter(ChunkAudioSeconds(*d.fx, 8) * static_cast<double>(state.iterations()),
                                             benchmark::Counter::kAvgThreadsRate);
  SetLabel(state, vocoder);
}
BENCHMARK(BM_StreamVocodeConcurrent)
    ->ArgNames({"preset", "iters"})
    ->Args({0, 0})
    ->Args({0, -1})
    ->Args({3, -1})
    ->Args({4, -1})
    ->Threads(16)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specinv
