// Copyright specinv authors.
//
// Analysis/synthesis windows, following librosa's get_window(..., fftbins=True)
// (periodic: the symmetric window of win_length+1 points without its last
// point) and pad_center (a window shorter than n_fft is zero-padded on both
// sides, (n_fft - win_length) / 2 zeros on the left).

#ifndef SPECINV_WINDOW_H_
#define SPECINV_WINDOW_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace specinv {

enum class WindowType {
  kHann,         // 0.5 - 0.5 cos(2 pi n / N)
  kHamming,      // 0.54 - 0.46 cos(2 pi n / N)
  kBlackman,     // 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
  kRectangular,  // all ones ("boxcar", "ones")
  kSqrtHann,     // sqrt of the periodic Hann window (a COLA pair with itself at 50% overlap)
};

// Accepts "hann", "hamming", "blackman", "rectangular" (also "boxcar", "ones"),
// "sqrt_hann". InvalidArgument for anything else, listing the allowed names.
absl::StatusOr<WindowType> ParseWindowType(std::string_view name);
std::string_view WindowTypeName(WindowType type);

// The periodic window of `win_length` points, zero-padded and centred to
// `n_fft` points. Requires 1 <= win_length <= n_fft.
inline constexpr int kMaxWindowLength = 1 << 20;

// Requires 1 <= n_fft <= kMaxWindowLength.
absl::StatusOr<std::vector<float>> MakeWindow(WindowType type, int win_length, int n_fft);
// The same window in double precision (float64, as librosa/scipy hold it).
absl::StatusOr<std::vector<double>> MakeWindowDouble(WindowType type, int win_length, int n_fft);

}  // namespace specinv

#endif  // SPECINV_WINDOW_H_
