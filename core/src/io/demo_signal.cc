// Copyright specinv authors.

#include "specinv/io/demo_signal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "specinv/base/validate.h"

namespace specinv {
namespace {

// Two-pole resonator (formant filter) with centre f and bandwidth bw, in Hz.
struct Resonator {
  double a1 = 0, a2 = 0, gain = 0, y1 = 0, y2 = 0;
  void Tune(double f, double bw, double sr) {
    const double r = std::exp(-std::numbers::pi * bw / sr);
    a1 = 2.0 * r * std::cos(2.0 * std::numbers::pi * f / sr);
    a2 = -r * r;
    gain = 1.0 - r;
  }
  double Step(double x) {
    const double y = gain * x + a1 * y1 + a2 * y2;
    y2 = y1;
    y1 = y;
    return y;
  }
};

double Lerp(double a, double b, double t) { return a + (b - a) * t; }

}  // namespace

absl::StatusOr<std::vector<float>> GenerateDemoSignal(double sample_rate, double seconds) {
  if (auto s = CheckRealRange("sample_rate_hertz", sample_rate, 8000.0, 384000.0); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("seconds", seconds, 0.0, 60.0); !s.ok()) return s;
  const auto n = static_cast<size_t>(seconds * sample_rate);
  std::vector<double> y(n, 0.0);
  const size_t voice_end = n * 2 / 3;
  // Vowel formants (F1, F2, F3) in Hz.
  constexpr std::array<std::array<double, 3>, 3> kVowels = {{{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}}};
  std::array<Resonator, 3> formants;
  double phase = 0.0;
  for (size_t i = 0; i < voice_end; ++i) {
    const double t = static_cast<double>(i) / sample_rate;
    const double u = static_cast<double>(i) / static_cast<double>(voice_end);  // 0..1 through the phrase
    const double f0 = 120.0 + 40.0 * std::sin(std::numbers::pi * u) + 3.0 * std::sin(2.0 * std::numbers::pi * 5.5 * t);
    const double seg = std::min(1.999, u * 2.0);
    const auto v = static_cast<size_t>(seg);
    const double w = seg - static_cast<double>(v);
    for (size_t k = 0; k < 3; ++k) {
      formants[k].Tune(Lerp(kVowels[v][k], kVowels[v + 1][k], w), 60.0 + 40.0 * static_cast<double>(k), sample_rate);
    }
    phase += f0 / sample_rate;
    double pulse = 0.0;
    if (phase >= 1.0) {
      phase -= 1.0;
      pulse = 1.0;
    }
    const double excitation = pulse + 0.02 * std::sin(2.0 * std::numbers::pi * 3000.0 * t) * std::sin(7.0 * t);
    double out = 0.0;
    for (size_t k = 0; k < 3; ++k) out += formants[k].Step(excitation) / static_cast<double>(k + 1);
    const double envelope = std::min({1.0, u * 20.0, (1.0 - u) * 20.0});
    y[i] = out * envelope;
  }
  // Plucked chord: A3, C#4, E4 with exponential decay and a few harmonics.
  constexpr std::array<double, 3> kChord = {220.0, 277.18, 329.63};
  for (size_t i = voice_end; i < n; ++i) {
    const double t = static_cast<double>(i - voice_end) / sample_rate;
    double out = 0.0;
    for (double f : kChord) {
      for (int h = 1; h <= 4; ++h) {
        out += std::exp(-3.0 * t * h) * std::sin(2.0 * std::numbers::pi * f * h * t) / (h * h);
      }
    }
    y[i] = out * std::min(1.0, t * 400.0);
  }
  double peak = 0.0;
  for (double v : y) peak = std::max(peak, std::abs(v));
  std::vector<float> samples(n);
  for (size_t i = 0; i < n; ++i) samples[i] = peak > 0.0 ? static_cast<float>(0.5 * y[i] / peak) : 0.0f;
  return samples;
}

}  // namespace specinv
