// Copyright specinv authors.
//
// Axis ticks: where to put the labelled tick marks of a figure axis, and
// their text.
//
// An Axis maps values (seconds, Hz, bins, dB, radians, ...) to positions in
// pixels along it: position 0 is the start edge (the left edge of an x axis,
// the bottom edge of a y axis or colour bar), `length_pixels` the end edge,
// where the values `start` and `end` sit. The mapping is linear in the value
// (kLinear, kAngle), in HzToMel(value) (kMel, mel_filterbank.h) or in
// log10(value) (kLog).
//
// Tick choice, always within [start, end] and at least `min_spacing_pixels`
// apart (except when only one tick would fit, which is then the one nearest
// the middle):
//   kLinear  equally spaced multiples of the smallest step 1, 2 or 5 x 10^k
//            that keeps the spacing (matplotlib's MaxNLocator idea);
//   kMel,    "nice" values taken in order of niceness -- 0 (mel only), then
//   kLog     10^k, then 5 x 10^k and 2 x 10^k, then 3 x 10^k, higher values
//            first within a rank -- each kept when it is at least the spacing
//            away from every tick already kept (so the low end of a mel axis,
//            where values crowd, keeps only the rounder ones);
//   kAngle   multiples of pi/2 (or of pi, 2 pi, ... when pi/2 is too
//            dense), labelled with the pi sign: "−π", "−π/2", "0", "π/2", "π".
// Labels use the fewest decimals that tell the ticks apart (the step's) and
// U+2212 MINUS SIGN for negative values, as typeset plots do.
//
// Pure functions; thread-safe. Cost: O(ticks) for linear and angle axes,
// O(decades^2) for mel and log axes.

#ifndef SPECINV_RENDER_AXIS_TICKS_H_
#define SPECINV_RENDER_AXIS_TICKS_H_

#include <string>
#include <vector>

#include "specinv/analysis/mel_filterbank.h"

namespace specinv {

enum class AxisScale {
  kLinear,
  kMel,    // values in Hz, spaced like HzToMel(value, mel_scale)
  kLog,    // values > 0, spaced like log10(value)
  kAngle,  // radians, linear, ticks at multiples of pi/2
};

struct Axis {
  AxisScale scale = AxisScale::kLinear;
  MelScale mel_scale = MelScale::kSlaney;  // kMel only
  double start = 0.0;                      // value at position 0
  double end = 1.0;                        // value at position length_pixels; must exceed start
  int length_pixels = 0;
};

struct Tick {
  double value = 0.0;
  double position = 0.0;  // pixels from the start edge, in [0, length_pixels]
  std::string label;      // UTF-8
};

// Position in pixels from the start edge of `value` (any value; outside
// [start, end] it is outside [0, length_pixels]). NaN for values the scale
// cannot place (kLog: value <= 0).
double AxisPosition(const Axis& axis, double value);

// Ticks in increasing value order. Empty when the axis is degenerate (length
// <= 0, end <= start, non-finite ends, kLog with start <= 0).
std::vector<Tick> AxisTicks(const Axis& axis, double min_spacing_pixels);

// `value` with `decimals` digits after the point (0 -> "0", never "−0"),
// U+2212 for negatives.
std::string FormatTickValue(double value, int decimals);

// k pi / 2 in lowest terms: "0", "π/2", "π", "3π/2", "2π", "−π/2", ...
std::string FormatHalfPiMultiple(int k);

}  // namespace specinv

#endif  // SPECINV_RENDER_AXIS_TICKS_H_
