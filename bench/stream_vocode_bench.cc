// Copyright specinv authors.
//
// Streaming vocoder speed at the HiFi-GAN front end (22050 Hz, n_fft 1024,
// hop 256, 80 mels, ln log-mel), on a 10 s voiced test signal, i.e. the
// server-side DSP of StreamVocode per message (log-mel decompression plus
// StreamVocoder::PushFrames):
//
//   BM_StreamVocodeChunk/C/I/L   one chunk of C frames, online_iterations I,
//                                lookahead_frames L; the stream runs on and
//                                wraps around the utterance. Time per chunk
//                                is the processing latency (target <= 5 ms
//                                for C = 8, i.e. 93 ms of audio); `rtf` is
//                                audio seconds per CPU second (target >= 100).
//   BM_StreamVocodeUtterance/I/L the whole 10 s utterance in 8-frame chunks,
//                                Create to Finish.
//   BM_StreamVocodeConcurrent/I  16 streams at once (threads) on this
//                                machine's cores; `rtf` is each stream's
//                                audio seconds per wall second (>= 1: every
//                                stream faster than real time).

#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <numbers>
#include <random>
#include <vector>

#include "specinv/feature_config.h"
#include "specinv/features.h"
#include "specinv/stream_vocoder.h"

namespace specinv {
namespace {

constexpr int kSeconds = 10;

struct VocodeFixture {
  VocodeFixture() {
    fx = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(GetPreset("hifigan").value()).value());
    const double rate = fx->config().sample_rate;
    std::mt19937 rng(5);
    std::normal_distribution<float> noise(0.0f, 0.003f);
    std::vector<float> y(static_cast<size_t>(rate * kSeconds));
    double phase = 0.0;
    for (size_t i = 0; i < y.size(); ++i) {
      const double t = static_cast<double>(i) / rate;
      const double f0 = 140.0 + 30.0 * std::sin(2.0 * std::numbers::pi * 0.7 * t);
      phase += 2.0 * std::numbers::pi * f0 / rate;
      double v = 0.0;
      for (int h = 1; h <= 20; ++h) v += std::sin(h * phase) / h;
      const double env = 0.5 + 0.5 * std::sin(2.0 * std::numbers::pi * 3.0 * t);
      y[i] = static_cast<float>(0.2 * env * v) + noise(rng);
    }
    log_mel = fx->LogMel(y).value();
  }
  std::unique_ptr<FeatureExtractor> fx;
  RealMatrix log_mel;  // what a TTS model sends
};

const VocodeFixture& Data() {
  static const VocodeFixture* f = new VocodeFixture();
  return *f;
}

StreamVocoderOptions Options(int64_t iterations, int64_t lookahead) {
  StreamVocoderOptions o;
  o.online_iterations = static_cast<int>(iterations);
  o.lookahead_frames = static_cast<int>(lookahead);
  return o;
}

double ChunkAudioSeconds(const FeatureExtractor& fx, int64_t frames) {
  return static_cast<double>(frames * fx.stft().hop_length()) / fx.config().sample_rate;
}

void BM_StreamVocodeChunk(benchmark::State& state) {
  const VocodeFixture& d = Data();
  const int64_t chunk = state.range(0);
  StreamVocoder vocoder = StreamVocoder::Create(*d.fx, Options(state.range(1), state.range(2))).value();
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
}
BENCHMARK(BM_StreamVocodeChunk)
    ->ArgNames({"chunk", "iters", "lookahead"})
    ->Args({8, 0, 0})
    ->Args({8, 1, 2})
    ->Args({8, 2, 3})
    ->Args({1, 2, 3})
    ->Args({64, 2, 3})
    ->Unit(benchmark::kMillisecond);

void BM_StreamVocodeUtterance(benchmark::State& state) {
  const VocodeFixture& d = Data();
  const int64_t frames = d.log_mel.cols();
  std::vector<float> out;
  for (auto _ : state) {
    StreamVocoder vocoder = StreamVocoder::Create(*d.fx, Options(state.range(0), state.range(1))).value();
    out.clear();
    for (int64_t t = 0; t < frames; t += 8) {
      const RealMatrix mel = d.fx->Decompress(d.log_mel.middleCols(t, std::min<int64_t>(8, frames - t))).value();
      benchmark::DoNotOptimize(vocoder.PushFrames(mel, &out).ok());
    }
    benchmark::DoNotOptimize(vocoder.Finish(&out).ok());
  }
  state.counters["rtf"] =
      benchmark::Counter(ChunkAudioSeconds(*d.fx, frames) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StreamVocodeUtterance)
    ->ArgNames({"iters", "lookahead"})
    ->Args({0, 0})
    ->Args({2, 3})
    ->Unit(benchmark::kMillisecond);

void BM_StreamVocodeConcurrent(benchmark::State& state) {
  const VocodeFixture& d = Data();
  StreamVocoder vocoder = StreamVocoder::Create(*d.fx, Options(state.range(0), 3)).value();
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
}
BENCHMARK(BM_StreamVocodeConcurrent)->ArgName("iters")->Arg(0)->Arg(2)->Threads(16)->UseRealTime()->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace specinv
