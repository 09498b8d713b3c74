// Copyright specinv authors.
//
// Frame reordering at the scale sound designers use it: 5,000 frames of a
// 44.1 kHz signal with hop 400 and window 2000, 128 mel features per frame
// (about 45 s of audio made of 0.5 s grains of tones, chords, chirps, noise
// bands and tremolo tones in a pseudo-random sequence).
//
//   BM_Pca_5000x128           PcaProjection (target: < 50 ms)
//   BM_TsneBarnesHut_5000x128 1-D Barnes-Hut t-SNE, perplexity 30, 1000
//                             iterations, theta 0.5, one thread (target: < 3 s);
//                             counters: KL divergence and trustworthiness(k=5)
//   BM_TsneExact_500x128      exact t-SNE on the first 500 frames
//   BM_ExactKnn_5000x128_k91  the neighbour search inside Barnes-Hut t-SNE
//   BM_NearestNeighborWalk_5000x128
//   BM_NearestNeighborWalk_50000x128  the walk on 50,000 frames (about 7.5 min
//                             of the same grains), one iteration
// The t-SNE, k-NN and walk benchmarks run once per neighbour search
// (/0 brute force, /1 k-d tree), back to back in one process. Two more
// sweeps compare them by dimension, k = 91 on 5,000 points:
//   BM_KnnMel/search/n_mels   mel features of the grains with 16..256 bands
//   BM_KnnNoise/search/dims   i.i.d. Gaussian points (no structure for a
//                             tree to exploit: its worst case)
// and two the walk, on the same 5,000 points: BM_WalkMel, BM_WalkNoise.
//   BM_ReorderPca_5000frames  Reorder end to end (STFT, features, PCA, iSTFT)
//
// Set SPECINV_REORDER_BENCH_DUMP=/path/features.npy to write the (frames,
// 128) feature matrix, e.g. to time scikit-learn's Barnes-Hut t-SNE on the
// same data (python3-sklearn, one thread):
//   TSNE(n_components=1, perplexity=30, early_exaggeration=12,
//        learning_rate="auto", n_iter=1000, init="random", angle=0.5,
//        method="barnes_hut", n_jobs=1).fit_transform(np.load(path))

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numbers>
#include <random>
#include <vector>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/creative/frame_features.h"
#include "specinv/io/npy.h"
#include "specinv/creative/reorder.h"
#include "specinv/creative/tsne.h"

namespace specinv {
namespace {

constexpr double kSampleRate = 44100.0;
constexpr int kFrames = 5000;

FeatureConfig GrainConfig(int n_mels = 128) {
  FeatureConfig c;
  c.sample_rate = kSampleRate;
  c.stft.n_fft = 2000;
  c.stft.hop_length = 400;
  c.n_mels = n_mels;
  return c;
}

NeighborSearch SearchArg(int64_t arg) {
  return arg == 0 ? NeighborSearch::kBruteForce : NeighborSearch::kKdTree;
}

const char* SearchLabel(int64_t arg) { return arg == 0 ? "brute_force" : "kd_tree"; }

// 0.5 s grains of five kinds with pseudo-random parameters (fixed LCG).
std::vector<float> GrainSignal(int frames) {
  const auto total = static_cast<size_t>(400) * static_cast<size_t>(frames - 1);  // centred: 1 + len / hop frames
  const auto grain = static_cast<size_t>(kSampleRate / 2);
  std::vector<float> y(total);
  uint64_t state = 12345;
  auto next = [&state]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  const double two_pi = 2.0 * std::numbers::pi;
  for (size_t start = 0; start < total; start += grain) {
    const int kind = static_cast<int>(next() * 5.0);
    const double f = 110.0 * std::pow(2.0, next() * 5.0);
    const double level = 0.1 + 0.4 * next();
    const size_t end = std::min(total, start + grain);
    double phase = 0.0;
    for (size_t i = start; i < end; ++i) {
      const double t = static_cast<double>(i - start) / kSampleRate;
      double v = 0.0;
      switch (kind) {
        case 0:  // harmonic tone
          v = std::sin(two_pi * f * t) + 0.5 * std::sin(two_pi * 2.0 * f * t) + 0.25 * std::sin(two_pi * 3.0 * f * t);
          break;
        case 1:  // chord
          v = std::sin(two_pi * f * t) + std::sin(two_pi * f * 1.26 * t) + std::sin(two_pi * f * 1.5 * t);
          break;
        case 2:  // chirp up an octave
          phase += two_pi * f * (1.0 + 2.0 * t) / kSampleRate;
          v = std::sin(phase);
          break;
        case 3:  // noise
          v = 2.0 * next() - 1.0;
          break;
        default:  // tremolo tone
          v = std::sin(two_pi * f * t) * (0.5 + 0.5 * std::sin(two_pi * 6.0 * t));
          break;
      }
      y[i] = static_cast<float>(level * v / 2.0);
    }
  }
  return y;
}

struct Data {
  std::vector<float> audio;
  RealMatrix features;  // (128, 5000)
};

const Data& GetData() {
  static const Data* data = [] {
    auto* d = new Data;
    d->audio = GrainSignal(kFrames);
    const auto fx = FeatureExtractor::Create(GrainConfig()).value();
    d->features = ComputeFrameFeatures(fx, d->audio, FrameFeatureOptions{}).value();
    if (const char* path = std::getenv("SPECINV_REORDER_BENCH_DUMP"); path != nullptr) {
      std::ofstream out(path, std::ios::binary);
      const std::string npy = RealMatrixToNpy(d->features, MatrixLayout::kFramesBins);
      out.write(npy.data(), static_cast<std::streamsize>(npy.size()));
    }
    return d;
  }();
  return *data;
}

void BM_Pca_5000x128(benchmark::State& state) {
  const Data& d = GetData();
  for (auto _ : state) {
    auto values = PcaProjection(d.features);
    benchmark::DoNotOptimize(values);
  }
  state.counters["frames"] = static_cast<double>(d.features.cols());
}
BENCHMARK(BM_Pca_5000x128)->Unit(benchmark::kMillisecond);

void BM_TsneBarnesHut_5000x128(benchmark::State& state) {
  const Data& d = GetData();
  TsneOptions o;
  o.algorithm = TsneAlgorithm::kBarnesHut;
  o.max_threads = 1;
  o.neighbor_search = SearchArg(state.range(0));
  state.SetLabel(SearchLabel(state.range(0)));
  TsneResult last;
  for (auto _ : state) {
    auto r = Tsne1d(d.features, o);
    last = *std::move(r);
    benchmark::DoNotOptimize(last);
  }
  state.counters["frames"] = static_cast<double>(d.features.cols());
  state.counters["kl_divergence"] = last.kl_divergence;
  state.counters["trustworthiness_k5"] = Trustworthiness(d.features, last.embedding, 5).value();
}
BENCHMARK(BM_TsneBarnesHut_5000x128)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_TsneExact_500x128(benchmark::State& state) {
  const Data& d = GetData();
  const RealMatrix subset = d.features.leftCols(500);
  TsneOptions o;
  o.algorithm = TsneAlgorithm::kExact;
  for (auto _ : state) {
    auto r = Tsne1d(subset, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_TsneExact_500x128)->Unit(benchmark::kMillisecond);

// Counters: the list entries whose squared distance is larger than the
// other search's at the same rank (a neighbour the search missed: brute
// force ranks its candidates by float products, which can lose near-equal
// distances), and those whose index differs.
void BM_ExactKnn_5000x128_k91(benchmark::State& state) {
  const Data& d = GetData();
  state.SetLabel(SearchLabel(state.range(0)));
  NeighborLists last;
  for (auto _ : state) {
    last = ExactNearestNeighbors(d.features, 91, 1, {}, SearchArg(state.range(0))).value();
    benchmark::DoNotOptimize(last);
  }
  const NeighborLists other = ExactNearestNeighbors(d.features, 91, 1, {}, SearchArg(1 - state.range(0))).value();
  double distances = 0.0;
  double indices = 0.0;
  for (size_t e = 0; e < last.indices.size(); ++e) {
    distances += last.squared_distances[e] > other.squared_distances[e] ? 1.0 : 0.0;
    indices += last.indices[e] != other.indices[e] ? 1.0 : 0.0;
  }
  state.counters["farther_than_other"] = distances;
  state.counters["indices_differing"] = indices;
}
BENCHMARK(BM_ExactKnn_5000x128_k91)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_NearestNeighborWalk_5000x128(benchmark::State& state) {
  const Data& d = GetData();
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto walk = NearestNeighborWalk(d.features, 0, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(walk);
  }
}
BENCHMARK(BM_NearestNeighborWalk_5000x128)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Features of the 5,000 grain frames with `n_mels` bands, computed once.
const RealMatrix& MelFeatures(int n_mels) {
  static std::map<int, RealMatrix>* features = new std::map<int, RealMatrix>;
  if (!features->contains(n_mels)) {
    const auto fx = FeatureExtractor::Create(GrainConfig(n_mels)).value();
    (*features)[n_mels] = ComputeFrameFeatures(fx, GetData().audio, FrameFeatureOptions{}).value();
  }
  return features->at(n_mels);
}

RealMatrix Noise(Eigen::Index dims) {
  RealMatrix x(dims, kFrames);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = g(rng);
  return x;
}

void BM_KnnMel(benchmark::State& state) {
  const RealMatrix& f = MelFeatures(static_cast<int>(state.range(1)));
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto nn = ExactNearestNeighbors(f, 91, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(nn);
  }
}
BENCHMARK(BM_KnnMel)->ArgsProduct({{0, 1}, {16, 32, 64, 128, 256}})->Unit(benchmark::kMillisecond);

void BM_KnnNoise(benchmark::State& state) {
  const RealMatrix x = Noise(state.range(1));
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto nn = ExactNearestNeighbors(x, 91, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(nn);
  }
}
BENCHMARK(BM_KnnNoise)->ArgsProduct({{0, 1}, {2, 4, 8, 16, 32, 128}})->Unit(benchmark::kMillisecond);

void BM_WalkMel(benchmark::State& state) {
  const RealMatrix& f = MelFeatures(static_cast<int>(state.range(1)));
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto walk = NearestNeighborWalk(f, 0, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(walk);
  }
}
BENCHMARK(BM_WalkMel)->ArgsProduct({{0, 1}, {16, 64, 256}})->Unit(benchmark::kMillisecond);

void BM_WalkNoise(benchmark::State& state) {
  const RealMatrix x = Noise(state.range(1));
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto walk = NearestNeighborWalk(x, 0, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(walk);
  }
}
BENCHMARK(BM_WalkNoise)->ArgsProduct({{0, 1}, {4, 16, 32, 128}})->Unit(benchmark::kMillisecond);

// Features of 50,000 frames, computed once.
const RealMatrix& LongFeatures() {
  static const RealMatrix* features = [] {
    const std::vector<float> audio = GrainSignal(50000);
    const auto fx = FeatureExtractor::Create(GrainConfig()).value();
    return new RealMatrix(ComputeFrameFeatures(fx, audio, FrameFeatureOptions{}).value());
  }();
  return *features;
}

void BM_NearestNeighborWalk_50000x128(benchmark::State& state) {
  const RealMatrix& f = LongFeatures();
  state.SetLabel(SearchLabel(state.range(0)));
  for (auto _ : state) {
    auto walk = NearestNeighborWalk(f, 0, 1, {}, SearchArg(state.range(0)));
    benchmark::DoNotOptimize(walk);
  }
  state.counters["frames"] = static_cast<double>(f.cols());
}
BENCHMARK(BM_NearestNeighborWalk_50000x128)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_ReorderPca_5000frames(benchmark::State& state) {
  const Data& d = GetData();
  const auto fx = FeatureExtractor::Create(GrainConfig()).value();
  ReorderOptions o;
  o.strategy = ReorderStrategy::kPca;
  for (auto _ : state) {
    auto r = Reorder(fx, d.audio, o);
    benchmark::DoNotOptimize(r);
  }
  state.counters["frames"] = static_cast<double>(fx.NumFrames(static_cast<int64_t>(d.audio.size())));
}
BENCHMARK(BM_ReorderPca_5000frames)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace specinv
