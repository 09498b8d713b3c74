// Copyright specinv authors.
//
// Inversion engine speed on 10 s at 22050 Hz, n_fft 1024, hop 256 (862
// frames), 80 Slaney mels 0-8000 Hz, power 1:
//
//   BM_FglaFloor          one iteration's bare FFTW work: per frame one r2c
//                         and one c2r execute on pre-aligned buffers.
//   BM_FglaIteration/T    one fast Griffin-Lim iteration (analysis, momentum
//                         update, synthesis, overlap-add) on T threads.
//   BM_GlIteration        the same with momentum 0 (no previous spectrogram).
//   BM_Pghi               PGHI phase of the whole spectrogram.
//   BM_MelNnls / BM_MelPinv  mel -> linear magnitude.
//   BM_MelProjection      MelProjection::Project of every frame's spectrum
//                         (a GL rebuild's scale) onto its mel: the magnitude
//                         step of mel-consistent Griffin-Lim and of the
//                         streaming vocoder.
//   BM_RefineIteration    one L-BFGS iteration of the mel refinement.
//
// Ratio to read: BM_FglaIteration/1 over BM_FglaFloor (target <= 1.5).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <random>
#include <vector>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/base/fft.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/griffin_lim.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/inversion/mel_projection.h"
#include "specinv/inversion/pghi.h"
#include "specinv/inversion/refine.h"
#include "specinv/analysis/stft.h"

namespace specinv {
namespace {

constexpr double kRate = 22050.0;
constexpr int kSeconds = 10;

// Voiced-speech-like test signal: a gliding harmonic series with a syllable
// envelope, plus light noise.
std::vector<float> Signal() {
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 0.003f);
  std::vector<float> y(static_cast<size_t>(kRate * kSeconds));
  double phase = 0.0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double t = static_cast<double>(i) / kRate;
    const double f0 = 140.0 + 30.0 * std::sin(2.0 * std::numbers::pi * 0.7 * t);
    phase += 2.0 * std::numbers::pi * f0 / kRate;
    double v = 0.0;
    for (int h = 1; h <= 20; ++h) v += std::sin(h * phase) / h;
    const double env = 0.5 + 0.5 * std::sin(2.0 * std::numbers::pi * 3.0 * t);
    y[i] = static_cast<float>(0.2 * env * v) + noise(rng);
  }
  return y;
}

struct Fixture {
  Fixture() {
    FeatureConfig c = GetPreset("librosa").value();
    c.stft.n_fft = 1024;
    c.stft.hop_length = 256;
    c.n_mels = 80;
    c.fmax = 8000.0;
    c.power = 1.0;
    fx = std::make_unique<FeatureExtractor>(FeatureExtractor::Create(c).value());
    audio = Signal();
    magnitude = fx->Magnitude(audio).value();
    mel = fx->MagnitudeToMel(magnitude);
  }
  std::unique_ptr<FeatureExtractor> fx;
  std::vector<float> audio;
  RealMatrix magnitude;
  RealMatrix mel;
};

const Fixture& Data() {
  static const Fixture* f = new Fixture();
  return *f;
}

void BM_FglaFloor(benchmark::State& state) {
  const Fixture& d = Data();
  const int n = d.fx->stft().n_fft();
  const int64_t frames = d.magnitude.cols();
  auto fft = RealFft::Get(n);
  AlignedVector<float> in(static_cast<size_t>(n), 0.1f), out(static_cast<size_t>(n));
  AlignedVector<std::complex<float>> spec(static_cast<size_t>(n / 2 + 1));
  for (auto _ : state) {
    for (int64_t f = 0; f < frames; ++f) {
      fft->Forward(in.data(), spec.data());
      fft->Inverse(spec.data(), out.data());
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["frames"] = static_cast<double>(frames);
}
BENCHMARK(BM_FglaFloor)->Unit(benchmark::kMillisecond);

void IterationBench(benchmark::State& state, double momentum) {
  const Fixture& d = Data();
  const int threads = static_cast<int>(state.range(0));
  auto layout = StftLayout(d.fx->stft(), d.magnitude.cols(), static_cast<int64_t>(d.audio.size())).value();
  auto engine = GriffinLimEngine::Create(d.fx->stft(), layout, threads).value();
  engine.Start(&d.magnitude, InitialPhase{}, momentum);
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.Iterate(false));
  }
  state.counters["frames"] = static_cast<double>(d.magnitude.cols());
}

void BM_FglaIteration(benchmark::State& state) { IterationBench(state, 0.99); }
BENCHMARK(BM_FglaIteration)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GlIteration(benchmark::State& state) { IterationBench(state, 0.0); }
BENCHMARK(BM_GlIteration)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_Pghi(benchmark::State& state) {
  const Fixture& d = Data();
  for (auto _ : state) {
    auto phase = PghiPhase(d.fx->stft(), d.magnitude);
    benchmark::DoNotOptimize(phase->data());
  }
}
BENCHMARK(BM_Pghi)->Unit(benchmark::kMillisecond);

void MelBench(benchmark::State& state, MelInverseMethod method) {
  const Fixture& d = Data();
  MelInverseOptions o;
  o.method = method;
  o.max_threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto mag = MelToMagnitude(d.fx->filterbank(), d.mel, o);
    benchmark::DoNotOptimize(mag->data());
  }
}
void BM_MelNnls(benchmark::State& state) { MelBench(state, MelInverseMethod::kNnls); }
BENCHMARK(BM_MelNnls)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
void BM_MelPinv(benchmark::State& state) { MelBench(state, MelInverseMethod::kPseudoInverse); }
BENCHMARK(BM_MelPinv)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_MelProjection(benchmark::State& state) {
  const Fixture& d = Data();
  auto projection = MelProjection::Create(d.fx->filterbank(), MelProjectionOptions{}).value();
  // Spectra a little off their mel: the true magnitude scaled by 0.8..1.2 per bin.
  const int bins = static_cast<int>(d.magnitude.rows());
  const int64_t frames = d.magnitude.cols();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> scale(0.8f, 1.2f);
  ComplexMatrix spectrum(bins, frames);
  for (Eigen::Index i = 0; i < spectrum.size(); ++i) spectrum.data()[i] = {d.magnitude.data()[i] * scale(rng), 0.0f};
  std::vector<float> scratch(static_cast<size_t>(projection.scratch_size()));
  std::vector<float> out(static_cast<size_t>(bins));
  for (auto _ : state) {
    for (int64_t f = 0; f < frames; ++f) {
      projection.Project(spectrum.col(f).data(), d.mel.col(f).data(), out.data(), scratch.data());
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.counters["frames"] = static_cast<double>(frames);
  state.counters["us_per_frame"] = benchmark::Counter(static_cast<double>(frames) * static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_MelProjection)->Unit(benchmark::kMillisecond);

void BM_RefineIteration(benchmark::State& state) {
  const Fixture& d = Data();
  auto layout = StftLayout(d.fx->stft(), d.magnitude.cols(), static_cast<int64_t>(d.audio.size())).value();
  RefineTarget target;
  target.values = &d.mel;
  target.filterbank = &d.fx->filterbank();
  RefineOptions o;
  o.iterations = 4;
  std::vector<float> start(d.audio.size());
  for (size_t i = 0; i < start.size(); ++i) start[i] = 0.9f * d.audio[i];
  int64_t iterations = 0;
  for (auto _ : state) {
    std::vector<float> x = start;
    auto r = RefineSignal(d.fx->stft(), layout, target, o, &x);
    iterations += r->iterations_run;
  }
  // L-BFGS iterations per call (the time is per call).
  state.counters["lbfgs_iterations"] =
      static_cast<double>(iterations) / static_cast<double>(std::max<int64_t>(state.iterations(), 1));
}
BENCHMARK(BM_RefineIteration)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specinv
