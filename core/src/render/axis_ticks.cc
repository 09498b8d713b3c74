// Copyright specinv authors.

#include "specinv/render/axis_ticks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace specinv {
namespace {

constexpr const char* kMinus = "\xe2\x88\x92";  // U+2212
constexpr const char* kPi = "\xcf\x80";         // U+03C0
constexpr double kHalfPi = std::numbers::pi / 2.0;
// Largest number of candidate decades (10^k) a mel or log axis considers.
constexpr int kMaxDecades = 16;

// The coordinate the axis is linear in.
double Warp(const Axis& axis, double value) {
  switch (axis.scale) {
    case AxisScale::kMel: return HzToMel(value, axis.mel_scale);
    case AxisScale::kLog: return value > 0.0 ? std::log10(value) : std::numeric_limits<double>::quiet_NaN();
    case AxisScale::kLinear:
    case AxisScale::kAngle: break;
  }
  return value;
}

bool Degenerate(const Axis& axis) {
  if (axis.length_pixels <= 0 || !std::isfinite(axis.start) || !std::isfinite(axis.end) || axis.end <= axis.start) {
    return true;
  }
  return axis.scale == AxisScale::kLog && axis.start <= 0.0;
}

bool InRange(const Axis& axis, double value, double tolerance) {
  return value >= axis.start - tolerance && value <= axis.end + tolerance;
}

double Clamp(const Axis& axis, double position) {
  return std::clamp(position, 0.0, static_cast<double>(axis.length_pixels));
}

// Decimals that tell multiples of `step` apart.
int DecimalsForStep(double step) { return std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9))); }

// Multiples i * step (i integer) inside the axis.
std::vector<int64_t> Multiples(const Axis& axis, double step) {
  const double tolerance = 1e-9 * step;
  // Values too far from 0 for their step to be counted in integers: no ticks.
  if (std::max(std::abs(axis.start), std::abs(axis.end)) / step > 1e15) return {};
  const auto first = static_cast<int64_t>(std::ceil((axis.start - tolerance) / step));
  const auto last = static_cast<int64_t>(std::floor((axis.end + tolerance) / step));
  std::vector<int64_t> out;
  for (int64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// Keeps only the element nearest the middle of the axis.
template <typename T, typename F>
void KeepMiddle(std::vector<T>& items, F position, double middle) {
  if (items.size() <= 1) return;
  auto best = std::min_element(items.begin(), items.end(), [&](const T& a, const T& b) {
    return std::abs(position(a) - middle) < std::abs(position(b) - middle);
  });
  T kept = *best;
  items.assign(1, kept);
}

// Steps 1, 2, 5 x 10^k (mantissa index 0, 1, 2).
double StepValue(int exponent, int mantissa) {
  static constexpr double kMantissas[] = {1.0, 2.0, 5.0};
  return kMantissas[mantissa] * std::pow(10.0, exponent);
}

std::vector<Tick> LinearTicks(const Axis& axis, double min_spacing) {
  const double span = axis.end - axis.start;
  const double pixels_per_unit = axis.length_pixels / span;
  const double min_step = std::max(min_spacing, 1.0) / pixels_per_unit;
  // Smallest 1-2-5 step >= min_step.
  int exponent = static_cast<int>(std::floor(std::log10(min_step)));
  int mantissa = 0;
  while (StepValue(exponent, mantissa) < min_step * (1.0 - 1e-12)) {
    if (++mantissa == 3) {
      mantissa = 0;
      ++exponent;
    }
  }
  double step = StepValue(exponent, mantissa);
  std::vector<int64_t> multiples = Multiples(axis, step);
  // Too wide a step for the range: the finest step with a multiple inside,
  // keeping only the multiple nearest the middle.
  for (int guard = 0; multiples.empty() && guard < 64; ++guard) {
    if (--mantissa < 0) {
      mantissa = 2;
      --exponent;
    }
    step = StepValue(exponent, mantissa);
    multiples = Multiples(axis, step);
    if (!multiples.empty()) {
      const double middle = (axis.start + axis.end) / 2.0;
      const auto value = [step](int64_t i) { return static_cast<double>(i) * step; };
      KeepMiddle(multiples, value, middle);
    }
  }
  const int decimals = DecimalsForStep(step);
  std::vector<Tick> ticks;
  for (int64_t i : multiples) {
    const double value = static_cast<double>(i) * step;
    ticks.push_back(Tick{value, Clamp(axis, AxisPosition(axis, value)), FormatTickValue(value, decimals)});
  }
  return ticks;
}

std::vector<Tick> AngleTicks(const Axis& axis, double min_spacing) {
  min_spacing = std::max(min_spacing, 1.0);
  const double pixels_per_unit = axis.length_pixels / (axis.end - axis.start);
  // Multiples of k_step * pi / 2, k_step = 1, 2, 4, ...
  int k_step = 1;
  while (k_step < (1 << 20) && k_step * kHalfPi * pixels_per_unit < min_spacing) k_step *= 2;
  std::vector<int64_t> multiples = Multiples(axis, k_step * kHalfPi);
  if (multiples.empty()) return LinearTicks(axis, min_spacing);  // a range narrower than pi/2
  std::vector<Tick> ticks;
  for (int64_t i : multiples) {
    const double value = static_cast<double>(i) * k_step * kHalfPi;
    ticks.push_back(
        Tick{value, Clamp(axis, AxisPosition(axis, value)), FormatHalfPiMultiple(static_cast<int>(i * k_step))});
  }
  return ticks;
}

// Decimals for a nice value m x 10^k.
int DecimalsForValue(double value) {
  if (value == 0.0) return 0;
  return DecimalsForStep(std::abs(value));
}

std::vector<Tick> WarpedTicks(const Axis& axis, double min_spacing) {
  min_spacing = std::max(min_spacing, 1.0);
  // Candidates by rank: (rank, value).
  std::vector<std::pair<int, double>> candidates;
  if (axis.scale == AxisScale::kMel && InRange(axis, 0.0, 0.0)) candidates.emplace_back(0, 0.0);
  const double top = axis.end;
  if (top > 0.0) {
    const int hi = static_cast<int>(std::floor(std::log10(top)));
    int lo = hi - kMaxDecades + 1;
    if (axis.start > 0.0) lo = std::max(lo, static_cast<int>(std::floor(std::log10(axis.start))));
    for (int k = hi; k >= lo; --k) {
      const double decade = std::pow(10.0, k);
      candidates.emplace_back(1, decade);
      candidates.emplace_back(2, 5.0 * decade);
      candidates.emplace_back(2, 2.0 * decade);
      candidates.emplace_back(3, 3.0 * decade);
    }
  }
  // By rank, then higher values first (stable keeps that order).
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const double tolerance = 1e-9 * std::max(std::abs(axis.start), std::abs(axis.end));
  std::vector<Tick> kept;
  for (const auto& [rank, value] : candidates) {
    if (!InRange(axis, value, tolerance)) continue;
    const double position = AxisPosition(axis, value);
    if (!std::isfinite(position)) continue;
    const bool clear = std::all_of(kept.begin(), kept.end(),
                                   [&](const Tick& t) { return std::abs(t.position - position) >= min_spacing; });
    if (clear) kept.push_back(Tick{value, Clamp(axis, position), FormatTickValue(value, DecimalsForValue(value))});
  }
  if (kept.empty()) return LinearTicks(axis, min_spacing);  // no nice value inside a narrow range
  std::sort(kept.begin(), kept.end(), [](const Tick& a, const Tick& b) { return a.value < b.value; });
  return kept;
}

}  // namespace

double AxisPosition(const Axis& axis, double value) {
  const double w0 = Warp(axis, axis.start);
  const double w1 = Warp(axis, axis.end);
  return (Warp(axis, value) - w0) / (w1 - w0) * axis.length_pixels;
}

std::vector<Tick> AxisTicks(const Axis& axis, double min_spacing_pixels) {
  if (Degenerate(axis)) return {};
  switch (axis.scale) {
    case AxisScale::kLinear: return LinearTicks(axis, min_spacing_pixels);
    case AxisScale::kAngle: return AngleTicks(axis, min_spacing_pixels);
    case AxisScale::kMel:
    case AxisScale::kLog: return WarpedTicks(axis, min_spacing_pixels);
  }
  return {};
}

std::string FormatTickValue(double value, int decimals) {
  std::string text = absl::StrFormat("%.*f", std::max(0, decimals), value);
  if (text[0] == '-') {
    // "-0", "-0.00": no sign for zero.
    if (text.find_first_not_of("-0.") == std::string::npos) return text.substr(1);
    return absl::StrCat(kMinus, text.substr(1));
  }
  return text;
}

std::string FormatHalfPiMultiple(int k) {
  if (k == 0) return "0";
  const std::string sign = k < 0 ? kMinus : "";
  const int n = std::abs(k);
  if (n % 2 == 0) {
    const int m = n / 2;
    return m == 1 ? absl::StrCat(sign, kPi) : absl::StrCat(sign, m, kPi);
  }
  return n == 1 ? absl::StrCat(sign, kPi, "/2") : absl::StrCat(sign, n, kPi, "/2");
}

}  // namespace specinv
