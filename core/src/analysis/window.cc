// Copyright specinv authors.

#include "specinv/analysis/window.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {

absl::StatusOr<WindowType> ParseWindowType(std::string_view name) {
  if (name == "hann" || name == "hanning") return WindowType::kHann;
  if (name == "hamming") return WindowType::kHamming;
  if (name == "blackman") return WindowType::kBlackman;
  if (name == "rectangular" || name == "boxcar" || name == "ones") return WindowType::kRectangular;
  if (name == "sqrt_hann") return WindowType::kSqrtHann;
  return InvalidField(
      "window", absl::StrFormat("must be one of hann, hamming, blackman, rectangular, sqrt_hann; got \"%s\"", name));
}

std::string_view WindowTypeName(WindowType type) {
  switch (type) {
    case WindowType::kHann: return "hann";
    case WindowType::kHamming: return "hamming";
    case WindowType::kBlackman: return "blackman";
    case WindowType::kRectangular: return "rectangular";
    case WindowType::kSqrtHann: return "sqrt_hann";
  }
  return "unknown";
}

absl::StatusOr<std::vector<double>> MakeWindowDouble(WindowType type, int win_length, int n_fft) {
  if (auto s = CheckRange("n_fft", n_fft, 1, kMaxWindowLength); !s.ok()) return s;
  if (auto s = CheckRange("win_length", win_length, 1, n_fft); !s.ok()) return s;
  std::vector<double> window(static_cast<size_t>(n_fft), 0.0);
  const int offset = (n_fft - win_length) / 2;  // librosa pad_center
  // Periodic window: the symmetric window of win_length + 1 points without
  // its last; cos(2 pi n / N) rounded as NumPy computes it.
  const double two_pi = 2.0 * std::numbers::pi;
  for (int n = 0; n < win_length; ++n) {
    const double c1 = std::cos(two_pi * n / win_length);
    double w = 1.0;
    switch (type) {
      case WindowType::kHann: w = 0.5 - 0.5 * c1; break;
      case WindowType::kSqrtHann: w = std::sqrt(std::max(0.0, 0.5 - 0.5 * c1)); break;
      case WindowType::kHamming: w = 0.54 - 0.46 * c1; break;
      case WindowType::kBlackman: w = 0.42 - 0.5 * c1 + 0.08 * std::cos(2.0 * two_pi * n / win_length); break;
      case WindowType::kRectangular: w = 1.0; break;
    }
    window[static_cast<size_t>(offset + n)] = w;
  }
  return window;
}

absl::StatusOr<std::vector<float>> MakeWindow(WindowType type, int win_length, int n_fft) {
  auto window = MakeWindowDouble(type, win_length, n_fft);
  if (!window.ok()) return window.status();
  return std::vector<float>(window->begin(), window->end());
}

}  // namespace specinv
