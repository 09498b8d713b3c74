// Copyright specinv authors.
//
// Analysis throughput on 10 s of audio at 22050 Hz, n_fft 1024, hop 256 (862
// frames), against the physical floor: a bare loop of the same FFTW executes
// on pre-aligned buffers (BM_FftwFloorForward / BM_FftwFloorInverse).
// Compare BM_StftForward with BM_FftwFloorForward for the STFT overhead ratio.

#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <random>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/base/fft.h"
#include "specinv/analysis/stft.h"

namespace specinv {
namespace {

constexpr double kSampleRate = 22050.0;
constexpr int kSeconds = 10;
constexpr int kNfft = 1024;
constexpr int kHop = 256;

std::vector<float> TestSignal() {
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> y(static_cast<size_t>(kSampleRate * kSeconds));
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = 0.3f * static_cast<float>(std::sin(2.0 * std::numbers::pi * 220.0 * static_cast<double>(i) / kSampleRate)) + noise(rng);
  }
  return y;
}

Stft MakeStft() {
  StftOptions o;
  o.n_fft = kNfft;
  o.hop_length = kHop;
  o.center = true;
  o.pad_mode = PadMode::kReflect;
  return Stft::Create(o).value();
}

void BM_FftwFloorForward(benchmark::State& state) {
  const auto y = TestSignal();
  const Stft stft = MakeStft();
  const int64_t frames = stft.NumFrames(static_cast<int64_t>(y.size()));
  auto fft = RealFft::Get(kNfft);
  AlignedVector<float> in(kNfft, 0.5f);
  AlignedVector<std::complex<float>> out(kNfft / 2 + 1);
  for (auto _ : state) {
    for (int64_t f = 0; f < frames; ++f) fft->Forward(in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["frames"] = static_cast<double>(frames);
}
BENCHMARK(BM_FftwFloorForward)->Unit(benchmark::kMillisecond);

void BM_FftwFloorInverse(benchmark::State& state) {
  const auto y = TestSignal();
  const Stft stft = MakeStft();
  const int64_t frames = stft.NumFrames(static_cast<int64_t>(y.size()));
  auto fft = RealFft::Get(kNfft);
  AlignedVector<std::complex<float>> in(kNfft / 2 + 1, {0.5f, 0.25f});
  AlignedVector<float> out(kNfft);
  for (auto _ : state) {
    for (int64_t f = 0; f < frames; ++f) fft->Inverse(in.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FftwFloorInverse)->Unit(benchmark::kMillisecond);

void BM_StftForward(benchmark::State& state) {
  const auto y = TestSignal();
  const Stft stft = MakeStft();
  ComplexMatrix spec;
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(stft.Forward(y, &spec, threads).ok());
  }
}
BENCHMARK(BM_StftForward)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_StftInverse(benchmark::State& state) {
  const auto y = TestSignal();
  const Stft stft = MakeStft();
  const ComplexMatrix spec = stft.Forward(y).value();
  std::vector<float> out;
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    benchmark::DoNotOptimize(stft.Inverse(spec, static_cast<int64_t>(y.size()), &out, threads).ok());
  }
}
BENCHMARK(BM_StftInverse)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_MelSpectrogram(benchmark::State& state) {
  const auto y = TestSignal();
  FeatureConfig config = GetPreset("tacotron2").value();
  const FeatureExtractor fx = FeatureExtractor::Create(config).value();
  for (auto _ : state) {
    auto mel = fx.Mel(y);
    benchmark::DoNotOptimize(mel.ok());
  }
}
BENCHMARK(BM_MelSpectrogram)->Unit(benchmark::kMillisecond);

void BM_LogMelHifiGan(benchmark::State& state) {
  const auto y = TestSignal();
  const FeatureExtractor fx = FeatureExtractor::Create(GetPreset("hifigan").value()).value();
  for (auto _ : state) {
    auto mel = fx.LogMel(y);
    benchmark::DoNotOptimize(mel.ok());
  }
}
BENCHMARK(BM_LogMelHifiGan)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specinv
