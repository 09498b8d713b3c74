// Copyright specinv authors.

#include "specinv/inversion/frame_processor.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_format.h"
#include "inversion/inversion_kernels.h"
#include "specinv/base/field_error.h"
#include "specinv/base/parallel.h"

namespace specinv {
namespace {

// Minimum frames per chunk; chunks are also long enough that chunk c and
// chunk c+2 never touch the same output samples.
constexpr int64_t kMinChunkFrames = 16;

absl::StatusOr<SignalLayout> MakeLayout(int n_fft, int hop, int64_t pad, PadMode mode, int64_t frames,
                                        std::optional<int64_t> length, int64_t extra_frames) {
  if (frames < 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("spectrogram must have at least 1 frame, got %d", frames));
  }
  SignalLayout layout;
  layout.n_fft = n_fft;
  layout.hop = hop;
  layout.pad = pad;
  layout.pad_mode = mode;
  layout.frames = frames;
  // Lengths whose analysis yields exactly frames + extra_frames frames.
  const int64_t min_length = std::max<int64_t>(1, n_fft + hop * (frames - 1 + extra_frames) - 2 * pad);
  const int64_t max_length = n_fft + hop * (frames + extra_frames) - 1 - 2 * pad;
  if (!length.has_value()) {
    layout.length = min_length;
  } else {
    if (*length < min_length || *length > max_length) {
      return InvalidField("length",
                          absl::StrFormat("must be in [%d, %d] samples for %d frames (n_fft=%d, hop_length=%d), got %d",
                                          min_length, max_length, frames, n_fft, hop, *length));
    }
    layout.length = *length;
  }
  return layout;
}

int64_t Reflect(int64_t k, int64_t len) {
  if (len <= 1) return 0;
  const int64_t period = 2 * (len - 1);
  int64_t m = k % period;
  if (m < 0) m += period;
  if (m >= len) m = period - m;
  return m;
}

}  // namespace

absl::StatusOr<SignalLayout> StftLayout(const Stft& stft, int64_t frames, std::optional<int64_t> length) {
  const StftOptions& o = stft.options();
  return MakeLayout(o.n_fft, o.hop_length, o.center ? o.n_fft / 2 : 0, o.pad_mode, frames, length, 0);
}

absl::StatusOr<SignalLayout> FeatureLayout(const FeatureExtractor& extractor, int64_t frames,
                                           std::optional<int64_t> length) {
  const FeatureConfig& c = extractor.config();
  const int n_fft = c.stft.n_fft;
  const int hop = c.stft.hop_length;
  const int64_t extra = c.drop_last_frame ? 1 : 0;
  if (c.framing == Framing::kHifiGanReflect) {
    return MakeLayout(n_fft, hop, (n_fft - hop) / 2, PadMode::kReflect, frames, length, extra);
  }
  return MakeLayout(n_fft, hop, c.stft.center ? n_fft / 2 : 0, c.stft.pad_mode, frames, length, extra);
}

absl::StatusOr<FrameProcessor> FrameProcessor::Create(const Stft& stft, const SignalLayout& layout,
                                                      int max_threads) {
  if (layout.n_fft != stft.n_fft() || layout.hop != stft.hop_length()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "layout (n_fft=%d, hop=%d) does not match the STFT (n_fft=%d, hop_length=%d)", layout.n_fft,
        layout.hop, stft.n_fft(), stft.hop_length()));
  }
  if (layout.frames < 1 || layout.length < 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "layout needs frames >= 1 and length >= 1, got frames=%d length=%d", layout.frames, layout.length));
  }
  if (layout.ola_length() > layout.padded_length()) {
    return InvalidField("length", absl::StrFormat("%d is too short for %d frames (needs at least %d)", layout.length,
                                                  layout.frames, layout.ola_length() - 2 * layout.pad));
  }
  FrameProcessor p;
  p.layout_ = layout;
  p.fft_ = RealFft::Get(layout.n_fft);
  p.window_ = stft.window();
  p.synth_window_.assign(p.window_.size(), 0.0f);
  p.max_threads_ = std::max(1, max_threads);
  const std::vector<float> wss = stft.WindowSumSquare(layout.frames);
  constexpr float kTiny = std::numeric_limits<float>::min();
  p.inv_wss_ = wss;
  for (float& v : p.inv_wss_) v = v > kTiny ? 1.0f / v : 1.0f;
  // Frames whose 1/wss span equals that of the middle frame sample by sample.
  {
    const int64_t n = layout.n_fft;
    const int64_t hop = layout.hop;
    const int64_t interior_end = std::min(layout.pad + layout.length, layout.ola_length());
    const int64_t mid = layout.frames / 2;
    const int64_t ref = mid * hop;
    const auto matches = [&](int64_t t) {
      const int64_t start = t * hop;
      if (start < layout.pad || start + n > interior_end) return false;
      for (int64_t j = 0; j < n; ++j) {
        if (p.inv_wss_[static_cast<size_t>(start + j)] != p.inv_wss_[static_cast<size_t>(ref + j)]) return false;
      }
      return true;
    };
    if (matches(mid)) {
      p.periodic_first_ = mid;
      p.periodic_last_ = mid;
      while (p.periodic_first_ > 0 && matches(p.periodic_first_ - 1)) --p.periodic_first_;
      while (p.periodic_last_ + 1 < layout.frames && matches(p.periodic_last_ + 1)) ++p.periodic_last_;
      p.interior_window_.resize(static_cast<size_t>(n));
      for (int64_t j = 0; j < n; ++j) {
        p.interior_window_[static_cast<size_t>(j)] =
            p.inv_wss_[static_cast<size_t>(ref + j)] * p.window_[static_cast<size_t>(j)];
      }
    }
  }
  const int64_t overlap_frames = (layout.n_fft - layout.hop + layout.hop - 1) / layout.hop;
  p.chunk_frames_ = std::max<int64_t>(kMinChunkFrames, overlap_frames);
  p.chunks_ = (layout.frames + p.chunk_frames_ - 1) / p.chunk_frames_;
  const int64_t even_chunks = (p.chunks_ + 1) / 2;
  p.slots_ = static_cast<int>(std::max<int64_t>(
      1, std::min<int64_t>({static_cast<int64_t>(p.max_threads_), static_cast<int64_t>(HardwareThreads()),
                            even_chunks})));
  p.time_scratch_.resize(static_cast<size_t>(p.slots_));
  p.freq_scratch_.resize(static_cast<size_t>(p.slots_));
  for (int s = 0; s < p.slots_; ++s) {
    p.time_scratch_[static_cast<size_t>(s)].assign(static_cast<size_t>(layout.n_fft), 0.0f);
    p.freq_scratch_[static_cast<size_t>(s)].assign(static_cast<size_t>(p.num_bins()), {0.0f, 0.0f});
  }
  return p;
}

float FrameProcessor::PaddedSample(int64_t i) const {
  const int64_t len = layout_.length;
  int64_t k = i - layout_.pad;
  if (k < 0 || k >= len) {
    if (layout_.pad_mode == PadMode::kConstant) return 0.0f;
    k = Reflect(k, len);
  }
  if (source_signal_ != nullptr) return source_signal_[k];
  const int64_t o = layout_.pad + k;
  if (o >= layout_.ola_length()) return 0.0f;
  return source_ola_[o] * inv_wss_[static_cast<size_t>(o)];
}

void FrameProcessor::ProcessChunk(int64_t chunk, int slot, float* out, const FrameFn& fn) {
  const int n = layout_.n_fft;
  const int64_t hop = layout_.hop;
  const int bins = num_bins();
  const int64_t pad = layout_.pad;
  const int64_t interior_end = std::min(pad + layout_.length, layout_.ola_length());
  float* u = time_scratch_[static_cast<size_t>(slot)].data();
  std::complex<float>* spec = freq_scratch_[static_cast<size_t>(slot)].data();
  const float* w = window_.data();
  const float* sw = synth_window_.data();
  const float* inv = inv_wss_.data();
  const int64_t first = chunk * chunk_frames_;
  const int64_t last = std::min(layout_.frames, first + chunk_frames_);
  if (out != nullptr) ClearChunkOutput(chunk, out);
  FrameTask task;
  task.slot = slot;
  task.chunk = chunk;
  task.spectrum = spec;
  for (int64_t t = first; t < last; ++t) {
    const int64_t start = t * hop;
    if (source_ola_ != nullptr) {
      if (t >= periodic_first_ && t <= periodic_last_) {
        kernels::Multiply2(source_ola_ + start, interior_window_.data(), u, n);
      } else if (start >= pad && start + n <= interior_end) {
        const float* src = source_ola_ + start;
        const float* iv = inv + start;
        kernels::Multiply3(src, iv, w, u, n);
      } else {
        for (int j = 0; j < n; ++j) u[j] = PaddedSample(start + j) * w[j];
      }
      fft_->Forward(u, spec);
    } else if (source_signal_ != nullptr) {
      if (start >= pad && start + n <= pad + layout_.length) {
        const float* src = source_signal_ + (start - pad);
        kernels::Multiply2(src, w, u, n);
      } else {
        for (int j = 0; j < n; ++j) u[j] = PaddedSample(start + j) * w[j];
      }
      fft_->Forward(u, spec);
    } else {
      std::fill(spec, spec + bins, std::complex<float>(0.0f, 0.0f));
    }
    task.frame = t;
    const bool synthesise = fn(task);
    if (synthesise && out != nullptr) {
      fft_->Inverse(spec, u);
      float* o = out + start;
      kernels::MultiplyAdd(u, sw, o, n);
    }
  }
}

void FrameProcessor::ClearChunkOutput(int64_t chunk, float* out) const {
  const int64_t hop = layout_.hop;
  const auto span_begin = [&](int64_t c) { return c * chunk_frames_ * hop; };
  const auto span_end = [&](int64_t c) {
    const int64_t last = std::min(layout_.frames, (c + 1) * chunk_frames_) - 1;
    return last * hop + layout_.n_fft;
  };
  int64_t begin = span_begin(chunk);
  int64_t end = span_end(chunk);
  if (chunk % 2 == 1) {  // even neighbours already wrote their spans
    begin = std::max(begin, span_end(chunk - 1));
    if (chunk + 1 < chunks_) end = std::min(end, span_begin(chunk + 1));
  }
  if (end > begin) std::memset(out + begin, 0, static_cast<size_t>(end - begin) * sizeof(float));
}

void FrameProcessor::Run(float* out, float synthesis_scale, const FrameFn& fn) {
  if (out != nullptr && synthesis_scale != synth_scale_) {
    for (size_t j = 0; j < window_.size(); ++j) synth_window_[j] = window_[j] * synthesis_scale;
    synth_scale_ = synthesis_scale;
  }
  for (int64_t phase = 0; phase < 2; ++phase) {
    const int64_t phase_chunks = (chunks_ - phase + 1) / 2;
    if (phase_chunks <= 0) continue;
    if (slots_ == 1) {
      for (int64_t j = 0; j < phase_chunks; ++j) ProcessChunk(2 * j + phase, 0, out, fn);
      continue;
    }
    struct Context {
      FrameProcessor* self;
      float* out;
      const FrameFn* fn;
      int64_t phase;
      int64_t phase_chunks;
    } ctx{this, out, &fn, phase, phase_chunks};
    const Context* c = &ctx;
    ParallelFor(slots_, slots_, [c](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s) {
        for (int64_t j = s; j < c->phase_chunks; j += c->self->slots_) {
          c->self->ProcessChunk(2 * j + c->phase, static_cast<int>(s), c->out, *c->fn);
        }
      }
    });
  }
}

void FrameProcessor::OlaToSignal(const float* ola, float* out) const {
  const int64_t ola_len = layout_.ola_length();
  const float* inv = inv_wss_.data();
  for (int64_t k = 0; k < layout_.length; ++k) {
    const int64_t o = layout_.pad + k;
    out[k] = o < ola_len ? ola[o] * inv[o] : 0.0f;
  }
}

void FrameProcessor::FoldPaddedGradient(const float* padded_grad, float* out) const {
  const int64_t len = layout_.length;
  const int64_t pad = layout_.pad;
  std::memcpy(out, padded_grad + pad, static_cast<size_t>(len) * sizeof(float));
  if (layout_.pad_mode == PadMode::kConstant || pad == 0) return;
  for (int64_t i = 0; i < pad; ++i) {
    out[Reflect(i - pad, len)] += padded_grad[i];
    out[Reflect(len + i, len)] += padded_grad[pad + len + i];
  }
}

}  // namespace specinv
