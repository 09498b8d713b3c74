// Copyright specinv authors.
//
// Deterministic test signals generated in code.

#ifndef SPECINV_TESTS_TESTING_SIGNALS_H_
#define SPECINV_TESTS_TESTING_SIGNALS_H_

#include <cstdint>
#include <vector>

namespace specinv::testing {

// amplitude * sin(2 pi f t + phase), num_samples at sample_rate.
std::vector<float> Sine(double frequency_hz, double sample_rate, int64_t num_samples,
                        double amplitude = 0.5, double phase = 0.0);
// Linear chirp from f0 to f1 over the signal.
std::vector<float> Chirp(double f0_hz, double f1_hz, double sample_rate, int64_t num_samples,
                         double amplitude = 0.5);
// Uniform white noise in [-amplitude, amplitude] from a fixed seed.
std::vector<float> WhiteNoise(int64_t num_samples, uint32_t seed, double amplitude = 0.5);
// Concatenates tones of the given frequencies, each `seconds_each` long, with a
// short raised-cosine fade in/out to avoid clicks.
std::vector<float> ToneSequence(const std::vector<double>& frequencies_hz, double seconds_each,
                                double sample_rate, double amplitude = 0.5);

}  // namespace specinv::testing

#endif  // SPECINV_TESTS_TESTING_SIGNALS_H_
