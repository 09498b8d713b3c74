// Copyright specinv authors.
//
// The built-in demo input: a short synthetic voice-like phrase made in code
// (no files, no downloads), so the service can be exercised end to end on any
// machine. A glottal pulse train with vibrato and a gliding pitch contour is
// shaped by three formant resonators moving through the vowels /a/ -> /i/ ->
// /u/, followed by a plucked three-note chord. Deterministic: the same
// arguments give identical samples. Peak amplitude 0.5.

#ifndef SPECINV_DEMO_SIGNAL_H_
#define SPECINV_DEMO_SIGNAL_H_

#include <vector>

#include "absl/status/statusor.h"

namespace specinv {

// sample_rate in [8000, 384000] Hz; seconds in (0, 60].
absl::StatusOr<std::vector<float>> GenerateDemoSignal(double sample_rate = 22050.0, double seconds = 3.0);

}  // namespace specinv

#endif  // SPECINV_DEMO_SIGNAL_H_
