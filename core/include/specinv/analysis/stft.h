// Copyright specinv authors.
//
// Short-time Fourier transform and its inverse with librosa 0.10.1 semantics.
//
// Forward: the signal is optionally padded by n_fft/2 on both sides (`center`,
// numpy's "constant" (zeros) or "reflect" mode), cut into frames of n_fft
// samples every hop_length samples, multiplied by the window and transformed.
// Frames = 1 + (padded_length - n_fft) / hop_length (integer division), i.e.
// 1 + len / hop for centred even n_fft. The result is a (n_fft/2+1, frames)
// complex matrix, unnormalised (librosa's default), e.g. a full-scale sine of
// amplitude A under a Hann window peaks at A * n_fft / 4.
//
// Inverse: inverse FFT of every frame, multiplied by the window, overlap-added
// and divided by the window's sum of squares wherever that exceeds the
// smallest normal float (librosa's istft). The output has exactly `length`
// samples when given (zero-filled where no frame reaches), otherwise
// n_fft + hop*(frames-1) minus 2*(n_fft/2) when centred.
//
// Thread safety: a Stft is immutable after Create; all methods are const and
// may be called concurrently. FFT plans are shared process-wide (see fft.h).

#ifndef SPECINV_STFT_H_
#define SPECINV_STFT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/base/fft.h"
#include "specinv/base/types.h"
#include "specinv/analysis/window.h"

namespace specinv {

enum class PadMode {
  kConstant,  // zeros (librosa's default for stft)
  kReflect,   // numpy "reflect": mirror without repeating the edge sample
};
absl::StatusOr<PadMode> ParsePadMode(std::string_view name);  // "constant", "reflect"
std::string_view PadModeName(PadMode mode);

inline constexpr int kMinFftSize = 16;
inline constexpr int kMaxFftSize = 65536;

// Pads `signal` by `pad` samples on both sides into `padded` (zeros for
// kConstant, numpy's reflect, iterated when pad exceeds len-1, for kReflect).
void PadSignal(std::span<const float> signal, int64_t pad, PadMode mode, std::vector<float>* padded);

struct StftOptions {
  int n_fft = 2048;        // FFT size in samples, [16, 65536], odd sizes allowed
  int hop_length = 512;    // samples between frames, [1, win_length]
  int win_length = 0;      // window length in samples, [1, n_fft]; 0 means n_fft
  WindowType window = WindowType::kHann;
  bool center = true;      // pad n_fft/2 on both sides before framing
  PadMode pad_mode = PadMode::kConstant;
  // Forward transform precision. false: single precision (fftwf), the fast
  // path used inside inversion loops. true: window (float64 window values)
  // and transform in double and
  // round the spectrum to float, as librosa does (its STFT runs in float64);
  // about 1.5x slower, exact to float rounding even in bins 140 dB below the
  // peak. The inverse is always single precision.
  bool double_precision = false;

  int effective_win_length() const { return win_length == 0 ? n_fft : win_length; }
};

// Validates options: errors name the field and range.
absl::Status ValidateStftOptions(const StftOptions& options);

class Stft {
 public:
  static absl::StatusOr<Stft> Create(const StftOptions& options);

  const StftOptions& options() const { return options_; }
  int n_fft() const { return options_.n_fft; }
  int hop_length() const { return options_.hop_length; }
  int num_bins() const { return options_.n_fft / 2 + 1; }
  // The n_fft-point window (periodic, zero-padded and centred).
  const std::vector<float>& window() const { return window_; }

  // Frames the forward transform yields for `num_samples` input samples, or 0
  // if the input is too short (center=false and num_samples < n_fft).
  int64_t NumFrames(int64_t num_samples) const;
  // librosa's istft output length for `num_frames` frames without `length`.
  int64_t DefaultLength(int64_t num_frames) const;

  // Forward STFT into `out` (resized to num_bins x frames only when its shape
  // differs). InvalidArgument on empty or non-finite input, or when the input
  // is shorter than n_fft with center=false. Frames are spread over at most
  // `max_threads` threads.
  absl::Status Forward(std::span<const float> signal, ComplexMatrix* out,
                       int max_threads = 1) const;
  absl::StatusOr<ComplexMatrix> Forward(std::span<const float> signal) const;
  // As Forward, calling `check` before every block of FramesPerCheck() *
  // max_threads frames (about 2^20 transformed samples per thread); its first
  // non-OK status is returned and `out` is then partly written. An empty
  // check costs nothing.
  absl::Status Forward(std::span<const float> signal, ComplexMatrix* out, int max_threads,
                       const std::function<absl::Status()>& check) const;
  // Frames per cancellation check: max(1, 2^20 / n_fft).
  int64_t FramesPerCheck() const;

  // Forward STFT of a signal that is already padded (no centring applied).
  // Frames = 1 + (padded.size() - n_fft) / hop. No validation: caller ensures
  // padded.size() >= n_fft. Used by the inversion loops.
  void ForwardPadded(std::span<const float> padded, ComplexMatrix* out, int max_threads = 1) const;

  // Forward STFT of `signal` extended by `pad` samples on each side with
  // `mode`, exactly as PadSignal would extend it, without copying the signal
  // (frames inside it are read in place). Ignores options().center.
  // Frames = NumFramesExtended(signal.size(), pad). No validation: the caller
  // ensures finite samples and signal.size() + 2*pad >= n_fft.
  void ForwardExtended(std::span<const float> signal, int64_t pad, PadMode mode, ComplexMatrix* out,
                       int max_threads = 1) const;
  // As above with cancellation checks as in the checked Forward.
  absl::Status ForwardExtended(std::span<const float> signal, int64_t pad, PadMode mode, ComplexMatrix* out,
                               int max_threads, const std::function<absl::Status()>& check) const;
  // Frames for `num_samples` samples extended by `pad` on each side (0 when too short).
  int64_t NumFramesExtended(int64_t num_samples, int64_t pad) const;

  // Pads `signal` as Forward does (center + pad_mode), into `padded`.
  void Pad(std::span<const float> signal, std::vector<float>* padded) const;

  // Inverse STFT. `spec` must have num_bins rows and >= 1 column. When
  // `length` is set the output has exactly that many samples.
  absl::Status Inverse(const ComplexMatrix& spec, std::optional<int64_t> length,
                       std::vector<float>* out, int max_threads = 1) const;
  absl::StatusOr<std::vector<float>> Inverse(const ComplexMatrix& spec,
                                             std::optional<int64_t> length = std::nullopt) const;

  // Sum over frames of the squared, shifted window: the iSTFT normaliser,
  // length n_fft + hop*(num_frames-1), before removing the centre padding.
  std::vector<float> WindowSumSquare(int64_t num_frames) const;

 private:
  Stft(const StftOptions& options, std::vector<float> window, std::shared_ptr<const RealFft> fft);
  // Frames [first, last) of ForwardExtended into the (already sized) `out`.
  void ForwardFrames(std::span<const float> signal, int64_t pad, PadMode mode, int64_t first, int64_t last,
                     ComplexMatrix* out, int max_threads) const;

  StftOptions options_;
  std::vector<float> window_;
  std::shared_ptr<const RealFft> fft_;
  std::shared_ptr<const RealFftDouble> fft_double_;  // set when options.double_precision
  std::vector<double> window_double_;                 // the window in float64, likewise
};

}  // namespace specinv

#endif  // SPECINV_STFT_H_
