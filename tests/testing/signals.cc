// Copyright specinv authors.

#include "testing/signals.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace specinv::testing {

std::vector<float> Sine(double frequency_hz, double sample_rate, int64_t num_samples, double amplitude,
                        double phase) {
  std::vector<float> y(static_cast<size_t>(num_samples));
  for (int64_t i = 0; i < num_samples; ++i) {
    y[static_cast<size_t>(i)] = static_cast<float>(
        amplitude * std::sin(2.0 * std::numbers::pi * frequency_hz * static_cast<double>(i) / sample_rate + phase));
  }
  return y;
}

std::vector<float> Chirp(double f0_hz, double f1_hz, double sample_rate, int64_t num_samples,
                         double amplitude) {
  std::vector<float> y(static_cast<size_t>(num_samples));
  const double duration = static_cast<double>(num_samples) / sample_rate;
  const double k = (f1_hz - f0_hz) / duration;
  for (int64_t i = 0; i < num_samples; ++i) {
    const double t = static_cast<double>(i) / sample_rate;
    y[static_cast<size_t>(i)] =
        static_cast<float>(amplitude * std::sin(2.0 * std::numbers::pi * (f0_hz * t + 0.5 * k * t * t)));
  }
  return y;
}

std::vector<float> WhiteNoise(int64_t num_samples, uint32_t seed, double amplitude) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-amplitude, amplitude);
  std::vector<float> y(static_cast<size_t>(num_samples));
  for (auto& v : y) v = static_cast<float>(dist(rng));
  return y;
}

std::vector<float> ToneSequence(const std::vector<double>& frequencies_hz, double seconds_each,
                                double sample_rate, double amplitude) {
  const auto n = static_cast<int64_t>(seconds_each * sample_rate);
  const int64_t fade = std::min<int64_t>(n / 4, static_cast<int64_t>(0.005 * sample_rate));
  std::vector<float> out;
  for (double f : frequencies_hz) {
    std::vector<float> tone = Sine(f, sample_rate, n, amplitude);
    for (int64_t i = 0; i < fade; ++i) {
      const auto g = static_cast<float>(0.5 - 0.5 * std::cos(std::numbers::pi * static_cast<double>(i) / static_cast<double>(fade)));
      tone[static_cast<size_t>(i)] *= g;
      tone[static_cast<size_t>(n - 1 - i)] *= g;
    }
    out.insert(out.end(), tone.begin(), tone.end());
  }
  return out;
}

}  // namespace specinv::testing
