// Copyright specinv authors.

#include "specinv/analysis/stft.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/parallel.h"
#include "specinv/base/validate.h"

namespace specinv {

absl::StatusOr<PadMode> ParsePadMode(std::string_view name) {
  if (name == "constant") return PadMode::kConstant;
  if (name == "reflect") return PadMode::kReflect;
  return InvalidField("pad_mode", absl::StrFormat("must be one of constant, reflect; got \"%s\"", name));
}

std::string_view PadModeName(PadMode mode) {
  return mode == PadMode::kReflect ? "reflect" : "constant";
}

absl::Status ValidateStftOptions(const StftOptions& options) {
  if (auto s = CheckRange("n_fft", options.n_fft, kMinFftSize, kMaxFftSize); !s.ok()) return s;
  if (options.win_length != 0) {
    if (auto s = CheckRange("win_length", options.win_length, 1, options.n_fft); !s.ok()) {
      return InvalidField("win_length", absl::StrFormat("must be in [1, n_fft=%d] (0 means n_fft), got %d",
                                                        options.n_fft, options.win_length));
    }
  }
  const int win = options.effective_win_length();
  if (options.hop_length < 1 || options.hop_length > win) {
    return InvalidField("hop_length",
                        absl::StrFormat("must be in [1, win_length=%d], got %d", win, options.hop_length));
  }
  return absl::OkStatus();
}

absl::StatusOr<Stft> Stft::Create(const StftOptions& options) {
  if (auto s = ValidateStftOptions(options); !s.ok()) return s;
  auto window = MakeWindow(options.window, options.effective_win_length(), options.n_fft);
  if (!window.ok()) return window.status();
  Stft stft(options, *std::move(window), RealFft::Get(options.n_fft));
  if (options.double_precision) {
    stft.fft_double_ = RealFftDouble::Get(options.n_fft);
    auto window_double = MakeWindowDouble(options.window, options.effective_win_length(), options.n_fft);
    if (!window_double.ok()) return window_double.status();
    stft.window_double_ = *std::move(window_double);
  }
  return stft;
}

Stft::Stft(const StftOptions& options, std::vector<float> window, std::shared_ptr<const RealFft> fft)
    : options_(options), window_(std::move(window)), fft_(std::move(fft)) {}

int64_t Stft::NumFrames(int64_t num_samples) const {
  return NumFramesExtended(num_samples, options_.center ? options_.n_fft / 2 : 0);
}

int64_t Stft::DefaultLength(int64_t num_frames) const {
  if (num_frames <= 0) return 0;
  int64_t length = options_.n_fft + options_.hop_length * (num_frames - 1);
  if (options_.center) length -= 2 * (options_.n_fft / 2);
  return std::max<int64_t>(length, 0);
}

void Stft::Pad(std::span<const float> signal, std::vector<float>* padded) const {
  PadSignal(signal, options_.center ? options_.n_fft / 2 : 0, options_.pad_mode, padded);
}

namespace {

// Sample `i` (in signal coordinates, possibly outside [0, len)) of the signal
// extended as np.pad does: zeros for constant; for reflect the periodic mirror
// extension with period 2(len-1), which is what np.pad produces even when the
// padding exceeds len-1.
float ExtendedSample(std::span<const float> signal, int64_t i, PadMode mode) {
  const int64_t len = static_cast<int64_t>(signal.size());
  if (i >= 0 && i < len) return signal[static_cast<size_t>(i)];
  if (mode == PadMode::kConstant || len == 0) return 0.0f;
  const int64_t period = 2 * (len - 1);
  if (period == 0) return signal[0];
  int64_t m = i % period;
  if (m < 0) m += period;
  if (m >= len) m = period - m;
  return signal[static_cast<size_t>(m)];
}

// Fills `frame` (n values) with the extended signal from sample `start` and
// returns a pointer to it, or returns a pointer into `signal` itself when the
// frame lies wholly inside (no copy).
const float* FrameSamples(std::span<const float> signal, int64_t start, int n, PadMode mode, float* frame) {
  if (start >= 0 && start + n <= static_cast<int64_t>(signal.size())) return signal.data() + start;
  for (int i = 0; i < n; ++i) frame[i] = ExtendedSample(signal, start + i, mode);
  return frame;
}

}  // namespace

void PadSignal(std::span<const float> signal, int64_t pad, PadMode mode, std::vector<float>* padded) {
  const int64_t len = static_cast<int64_t>(signal.size());
  padded->resize(static_cast<size_t>(len + 2 * pad));
  for (int64_t i = 0; i < pad; ++i) {
    (*padded)[static_cast<size_t>(i)] = ExtendedSample(signal, i - pad, mode);
    (*padded)[static_cast<size_t>(pad + len + i)] = ExtendedSample(signal, len + i, mode);
  }
  std::copy(signal.begin(), signal.end(), padded->begin() + pad);
}

int64_t Stft::NumFramesExtended(int64_t num_samples, int64_t pad) const {
  const int64_t padded = num_samples + 2 * pad;
  if (num_samples <= 0 || padded < options_.n_fft) return 0;
  return 1 + (padded - options_.n_fft) / options_.hop_length;
}

void Stft::ForwardPadded(std::span<const float> padded, ComplexMatrix* out, int max_threads) const {
  ForwardExtended(padded, 0, PadMode::kConstant, out, max_threads);
}

void Stft::ForwardExtended(std::span<const float> signal, int64_t pad, PadMode mode, ComplexMatrix* out,
                           int max_threads) const {
  const int64_t frames = NumFramesExtended(static_cast<int64_t>(signal.size()), pad);
  if (out->rows() != num_bins() || out->cols() != frames) out->resize(num_bins(), frames);
  ForwardFrames(signal, pad, mode, 0, frames, out, max_threads);
}

int64_t Stft::FramesPerCheck() const {
  // About 2^20 transformed samples between checks: 512 frames at n_fft 2048,
  // 16 at 65536 (a few milliseconds either way).
  return std::max<int64_t>(1, (int64_t{1} << 20) / options_.n_fft);
}

absl::Status Stft::ForwardExtended(std::span<const float> signal, int64_t pad, PadMode mode, ComplexMatrix* out,
                                   int max_threads, const std::function<absl::Status()>& check) const {
  const int64_t frames = NumFramesExtended(static_cast<int64_t>(signal.size()), pad);
  if (out->rows() != num_bins() || out->cols() != frames) out->resize(num_bins(), frames);
  if (!check) {
    ForwardFrames(signal, pad, mode, 0, frames, out, max_threads);
    return absl::OkStatus();
  }
  const int64_t block = FramesPerCheck() * std::max(1, max_threads);
  for (int64_t first = 0; first < frames; first += block) {
    if (absl::Status s = check(); !s.ok()) return s;
    ForwardFrames(signal, pad, mode, first, std::min(frames, first + block), out, max_threads);
  }
  return absl::OkStatus();
}

void Stft::ForwardFrames(std::span<const float> signal, int64_t pad, PadMode mode, int64_t first, int64_t last,
                         ComplexMatrix* out, int max_threads) const {
  const int n_fft = options_.n_fft;
  const int hop = options_.hop_length;
  const int bins = num_bins();
  const int64_t frames = last - first;
  if (fft_double_ != nullptr) {
    ParallelFor(frames, max_threads, [&](int64_t begin_rel, int64_t end_rel) {
      const int64_t begin = first + begin_rel;
      const int64_t end = first + end_rel;
      std::vector<float> edge(static_cast<size_t>(n_fft));
      AlignedVector<double> in(static_cast<size_t>(n_fft));
      AlignedVector<std::complex<double>> spec(static_cast<size_t>(bins));
      const double* w = window_double_.data();
      for (int64_t f = begin; f < end; ++f) {
        const float* x = FrameSamples(signal, f * hop - pad, n_fft, mode, edge.data());
        for (int i = 0; i < n_fft; ++i) in[static_cast<size_t>(i)] = static_cast<double>(x[i]) * w[i];
        fft_double_->Forward(in.data(), spec.data());
        std::complex<float>* dst = out->col(f).data();
        for (int k = 0; k < bins; ++k) dst[k] = std::complex<float>(spec[static_cast<size_t>(k)]);
      }
    });
    return;
  }
  ParallelFor(frames, max_threads, [&](int64_t begin_rel, int64_t end_rel) {
    const int64_t begin = first + begin_rel;
    const int64_t end = first + end_rel;
    std::vector<float> edge(static_cast<size_t>(n_fft));
    AlignedVector<float> in(static_cast<size_t>(n_fft));
    AlignedVector<std::complex<float>> spec(static_cast<size_t>(bins));
    const int spec_alignment = fftwf_alignment_of(reinterpret_cast<float*>(spec.data()));
    const float* w = window_.data();
    for (int64_t f = begin; f < end; ++f) {
      const float* x = FrameSamples(signal, f * hop - pad, n_fft, mode, edge.data());
      float* frame = in.data();
      for (int i = 0; i < n_fft; ++i) frame[i] = x[i] * w[i];
      // Columns aligned like the plan's buffers are written in place; the
      // others (every second one for an odd bin count) through `spec`: a plan
      // for the offset would use slower, non-SIMD codelets with other rounding.
      std::complex<float>* dst = out->col(f).data();
      if (fftwf_alignment_of(reinterpret_cast<float*>(dst)) == spec_alignment) {
        fft_->Forward(frame, dst);
      } else {
        fft_->Forward(frame, spec.data());
        std::copy(spec.begin(), spec.end(), dst);
      }
    }
  });
}

absl::Status Stft::Forward(std::span<const float> signal, ComplexMatrix* out, int max_threads) const {
  return Forward(signal, out, max_threads, std::function<absl::Status()>());
}

absl::Status Stft::Forward(std::span<const float> signal, ComplexMatrix* out, int max_threads,
                           const std::function<absl::Status()>& check) const {
  if (signal.empty()) return InvalidField("audio", "is empty; need at least 1 sample");
  if (auto s = CheckFinite("audio", signal); !s.ok()) return s;
  if (!options_.center && static_cast<int64_t>(signal.size()) < options_.n_fft) {
    return InvalidField("audio", absl::StrFormat("has %d samples; with center=false it needs at least n_fft=%d",
                                                 signal.size(), options_.n_fft));
  }
  return ForwardExtended(signal, options_.center ? options_.n_fft / 2 : 0, options_.pad_mode, out, max_threads,
                         check);
}

absl::StatusOr<ComplexMatrix> Stft::Forward(std::span<const float> signal) const {
  ComplexMatrix out;
  if (auto s = Forward(signal, &out); !s.ok()) return s;
  return out;
}

std::vector<float> Stft::WindowSumSquare(int64_t num_frames) const {
  const int n_fft = options_.n_fft;
  const int hop = options_.hop_length;
  std::vector<float> wss(static_cast<size_t>(n_fft + hop * std::max<int64_t>(num_frames - 1, 0)), 0.0f);
  std::vector<float> sq(window_.size());
  for (size_t i = 0; i < sq.size(); ++i) sq[i] = window_[i] * window_[i];
  for (int64_t f = 0; f < num_frames; ++f) {
    float* dst = wss.data() + f * hop;
    for (int i = 0; i < n_fft; ++i) dst[i] += sq[static_cast<size_t>(i)];
  }
  return wss;
}

absl::Status Stft::Inverse(const ComplexMatrix& spec, std::optional<int64_t> length,
                           std::vector<float>* out, int max_threads) const {
  const int n_fft = options_.n_fft;
  const int hop = options_.hop_length;
  const int bins = num_bins();
  if (spec.rows() != bins) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spectrogram has %d rows (bins); n_fft=%d needs n_fft/2+1=%d", spec.rows(), n_fft, bins));
  }
  if (spec.cols() < 1) return absl::InvalidArgumentError("spectrogram has 0 frames; need at least 1");
  if (length.has_value() && *length < 0) {
    return InvalidField("length", absl::StrFormat("must be >= 0, got %d", *length));
  }
  const int64_t pad = options_.center ? n_fft / 2 : 0;
  int64_t frames = spec.cols();
  if (length.has_value()) {
    const int64_t padded_length = *length + 2 * pad;
    frames = std::min<int64_t>(frames, (padded_length + hop - 1) / hop);
    frames = std::max<int64_t>(frames, 1);
  }
  const int64_t out_len = length.has_value() ? *length : DefaultLength(frames);
  const int64_t ola_len = std::max<int64_t>(n_fft + hop * (frames - 1), pad + out_len);
  std::vector<float> ola(static_cast<size_t>(ola_len), 0.0f);

  // Overlap-add. Threads own disjoint ranges of output samples; each sums the
  // frames that reach its range in frame order (re-transforming the few frames
  // that straddle a range boundary), so every thread count gives identical bits.
  const int64_t hop_units = (ola_len + hop - 1) / hop;
  const int threads = static_cast<int>(std::min<int64_t>(std::max(1, max_threads), std::max<int64_t>(1, frames / 8)));
  const float scale = 1.0f / static_cast<float>(n_fft);
  ParallelFor(threads, threads, [&](int64_t tb, int64_t te) {
    AlignedVector<std::complex<float>> bufc(static_cast<size_t>(bins));
    AlignedVector<float> bufr(static_cast<size_t>(n_fft));
    for (int64_t t = tb; t < te; ++t) {
      const int64_t s0 = hop_units * t / threads * hop;
      const int64_t s1 = std::min(ola_len, hop_units * (t + 1) / threads * hop);
      if (s0 >= s1) continue;
      const int64_t f_first = std::max<int64_t>(0, (s0 - n_fft) / hop);
      const int64_t f_last = std::min(frames - 1, (s1 - 1) / hop);
      for (int64_t f = f_first; f <= f_last; ++f) {
        const int64_t start = f * hop;
        const int64_t lo = std::max<int64_t>(s0, start);
        const int64_t hi = std::min<int64_t>(s1, start + n_fft);
        if (lo >= hi) continue;
        std::copy(spec.col(f).data(), spec.col(f).data() + bins, bufc.begin());
        fft_->Inverse(bufc.data(), bufr.data());
        for (int64_t j = lo; j < hi; ++j) {
          const auto i = static_cast<size_t>(j - start);
          ola[static_cast<size_t>(j)] += bufr[i] * scale * window_[i];
        }
      }
    }
  });
  const std::vector<float> wss = WindowSumSquare(frames);
  constexpr float kTiny = std::numeric_limits<float>::min();
  out->assign(static_cast<size_t>(out_len), 0.0f);
  for (int64_t i = 0; i < out_len; ++i) {
    const int64_t j = pad + i;
    if (j >= static_cast<int64_t>(wss.size())) break;  // beyond the last frame: zeros
    const float w = wss[static_cast<size_t>(j)];
    const float v = ola[static_cast<size_t>(j)];
    (*out)[static_cast<size_t>(i)] = w > kTiny ? v / w : v;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<float>> Stft::Inverse(const ComplexMatrix& spec,
                                                 std::optional<int64_t> length) const {
  std::vector<float> out;
  if (auto s = Inverse(spec, length, &out); !s.ok()) return s;
  return out;
}

}  // namespace specinv
