// Copyright specinv authors.
//
// FrameProcessor: the allocation-free frame loop under the inversion engine.
//
// A SignalLayout says how a spectrogram's frames sit on an output signal of
// `length` samples: the signal is padded by `pad` samples on both sides
// (zeros or numpy "reflect"), frame t covers padded samples
// [t*hop, t*hop + n_fft), and exactly `frames` frames are used. librosa's
// centred STFT is pad = n_fft/2; HiFi-GAN's framing is pad = (n_fft-hop)/2,
// reflect, no centring; center=false is pad = 0.
//
// FrameProcessor::Run visits every frame once. For each frame it can
//   1. analyse: X = rfft(window * padded_source[t*hop ...]) where the source
//      is either a plain signal (length samples, padded virtually) or an
//      overlap-add buffer normalised by the window's sum of squares (the iSTFT
//      of the previous pass, read without materialising it);
//   2. hand X to a callback that may modify it in place;
//   3. synthesise: overlap-add synthesis_scale * window * irfft(X) (FFTW's
//      unnormalised c2r) into an output buffer at t*hop.
// Frames are processed in fixed chunks of consecutive frames, even chunks
// first then odd chunks, so threads never write the same output samples and
// the floating-point summation order, hence the result, is identical for
// every max_threads. No allocation happens inside Run except the small
// closure handed to ParallelFor once per half pass.
//
// Thread safety: a FrameProcessor owns per-thread scratch buffers, so one
// instance must not run concurrently with itself; distinct instances may.

#ifndef SPECINV_FRAME_PROCESSOR_H_
#define SPECINV_FRAME_PROCESSOR_H_

#include <complex>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/analysis/features.h"
#include "specinv/base/fft.h"
#include "specinv/analysis/stft.h"

namespace specinv {

struct SignalLayout {
  int n_fft = 0;
  int hop = 0;
  int64_t pad = 0;                       // samples padded on each side before framing
  PadMode pad_mode = PadMode::kConstant;
  int64_t frames = 0;                    // frames used (>= 1)
  int64_t length = 0;                    // output samples (>= 1)

  int64_t padded_length() const { return length + 2 * pad; }
  // Samples spanned by the overlap-added frames: n_fft + hop * (frames - 1).
  int64_t ola_length() const { return n_fft + static_cast<int64_t>(hop) * (frames - 1); }
};

// Layout of a plain Stft (pad n_fft/2 when centred, with its pad_mode). The
// default length is librosa's istft length without `length`. A given length
// must make the forward STFT yield exactly `frames` frames (librosa would
// fail otherwise); the error states the allowed range.
absl::StatusOr<SignalLayout> StftLayout(const Stft& stft, int64_t frames, std::optional<int64_t> length);
// Layout of a FeatureExtractor's framing (HiFi-GAN reflect padding; with
// drop_last_frame the length must yield one frame more than `frames`, as the
// analysis drops it, and the default length is the shortest such length).
absl::StatusOr<SignalLayout> FeatureLayout(const FeatureExtractor& extractor, int64_t frames,
                                           std::optional<int64_t> length);

// The two overlap-add buffers of an iterative engine (layout.ola_length()
// samples each, zeroed): a pass reads current() (the previous estimate) and
// writes next(); Swap() makes the written one current, Restart() the first
// one. Moving it keeps both pointers valid.
class OlaPair {
 public:
  explicit OlaPair(const SignalLayout& layout)
      : a_(static_cast<size_t>(layout.ola_length()), 0.0f), b_(a_.size(), 0.0f) {}
  float* current() const { return current_; }
  float* next() const { return next_; }
  void Swap() { std::swap(current_, next_); }
  void Restart() {
    current_ = a_.data();
    next_ = b_.data();
  }

 private:
  std::vector<float> a_, b_;
  float* current_ = a_.data();
  float* next_ = b_.data();
};

// What one Run call hands to the per-frame callback.
struct FrameTask {
  int slot = 0;                 // scratch slot in [0, num_slots()), one per concurrent worker
  int64_t chunk = 0;            // chunk index in [0, num_chunks()), for deterministic reductions
  int64_t frame = 0;            // frame index
  std::complex<float>* spectrum = nullptr;  // num_bins values; analysis result, may be modified
};

class FrameProcessor {
 public:
  // The callback returns true to synthesise the (modified) spectrum.
  using FrameFn = std::function<bool(const FrameTask&)>;

  static absl::StatusOr<FrameProcessor> Create(const Stft& stft, const SignalLayout& layout,
                                               int max_threads);

  const SignalLayout& layout() const { return layout_; }
  int num_bins() const { return layout_.n_fft / 2 + 1; }
  int num_slots() const { return slots_; }
  int64_t num_chunks() const { return chunks_; }
  // 1 / window sum of squares over the ola span (1 where it is below the
  // smallest normal float, as librosa leaves those samples undivided).
  const std::vector<float>& inverse_window_sum() const { return inv_wss_; }

  // Analysis source: a plain signal of layout.length samples.
  void SetSignalSource(const float* signal) { source_signal_ = signal; source_ola_ = nullptr; }
  // Analysis source: an overlap-add buffer of ola_length() samples, read as
  // the iSTFT output (ola * inverse_window_sum, cropped to the layout).
  void SetOlaSource(const float* ola) { source_ola_ = ola; source_signal_ = nullptr; }
  // No analysis: the callback receives a zeroed spectrum to fill in.
  void SetNoSource() { source_ola_ = nullptr; source_signal_ = nullptr; }

  // Synthesis output: overlap-add into `out` with window * scale, or nullptr
  // for analysis only. `out` holds at least ola_length() samples; the first
  // ola_length() are overwritten (each chunk clears the samples no earlier
  // chunk of this pass wrote, just before adding to them, so no separate
  // clearing pass is needed); frames whose callback returns false add nothing.
  void Run(float* out, float synthesis_scale, const FrameFn& fn);

  // Writes the iSTFT signal held in an overlap-add buffer: out[k] =
  // ola[pad+k] * inverse_window_sum[pad+k], zero past the ola span.
  void OlaToSignal(const float* ola, float* out) const;
  // Adjoint of the virtual padding: folds a gradient over the padded signal
  // (padded_length() samples) back onto the layout.length signal samples.
  void FoldPaddedGradient(const float* padded_grad, float* out) const;

  FrameProcessor(FrameProcessor&&) noexcept = default;
  FrameProcessor& operator=(FrameProcessor&&) noexcept = default;

 private:
  FrameProcessor() = default;
  // Source sample at padded index i (virtual padding and cropping).
  float PaddedSample(int64_t i) const;
  void ProcessChunk(int64_t chunk, int slot, float* out, const FrameFn& fn);
  // Clears the part of chunk `chunk`'s output span that no chunk processed
  // before it in this pass wrote (even chunks run first, then odd ones).
  void ClearChunkOutput(int64_t chunk, float* out) const;

  SignalLayout layout_;
  std::shared_ptr<const RealFft> fft_;
  std::vector<float> window_;
  std::vector<float> synth_window_;
  float synth_scale_ = 0.0f;
  std::vector<float> inv_wss_;
  // 1/wss * window for frames where 1/wss repeats with period hop (all but
  // the edge frames): one input stream fewer in the analysis.
  std::vector<float> interior_window_;
  int64_t periodic_first_ = 0, periodic_last_ = -1;  // frames using interior_window_
  int slots_ = 1;
  int max_threads_ = 1;
  int64_t chunk_frames_ = 1;
  int64_t chunks_ = 1;
  std::vector<AlignedVector<float>> time_scratch_;
  std::vector<AlignedVector<std::complex<float>>> freq_scratch_;
  const float* source_signal_ = nullptr;
  const float* source_ola_ = nullptr;
};

}  // namespace specinv

#endif  // SPECINV_FRAME_PROCESSOR_H_
