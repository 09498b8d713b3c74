// Copyright specinv authors.
//
// Griffin-Lim and fast Griffin-Lim (Perraudin, Balazs & Sondergaard 2013)
// with librosa 0.10.1's update order:
//
//   x      = istft(S * angles, length)
//   rebuilt = stft(x)
//   angles = rebuilt - m/(1+m) * rebuilt_previous   (no subtraction on the first iteration)
//   angles = angles / (|angles| + tiny)
//
// and a final x = istft(S * angles). With momentum 0 this is Griffin-Lim.
//
// GriffinLimEngine keeps only the previous rebuilt spectrogram (when the
// momentum is non-zero) and two overlap-add buffers: each iteration is one
// fused pass over the frames (analysis FFT, phase update, synthesis inverse
// FFT, overlap-add), with no allocation. Results are bit-identical for every
// max_threads (see frame_processor.h).
//
// Thread safety: an engine must not be used from two threads at once.

#ifndef SPECINV_GRIFFIN_LIM_H_
#define SPECINV_GRIFFIN_LIM_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"
#include "specinv/inversion/mel_projection.h"

namespace specinv {

// Initial phase for Start().
struct InitialPhase {
  enum class Kind {
    kZero,     // angles = 1 (librosa init=None)
    kRandom,   // uniform phase in [0, 2 pi) from `seed`: a counter-based generator,
               // so the phase of (bin, frame) is the same for any thread count
    kPhase,    // `phase` (radians, (bins, frames))
    kComplex,  // the phase of `complex` ((bins, frames)); zeros get phase 0
  };
  Kind kind = Kind::kZero;
  uint64_t seed = 0;
  const RealMatrix* phase = nullptr;
  const ComplexMatrix* complex = nullptr;
};

// Uniform phase in [0, 2 pi) of (bin, frame) for `seed` (the kRandom rule).
float RandomPhase(uint64_t seed, int64_t bin, int64_t frame);

class GriffinLimEngine {
 public:
  // The engine allocates its buffers here. `stft` is only read during Create.
  static absl::StatusOr<GriffinLimEngine> Create(const Stft& stft, const SignalLayout& layout,
                                                 int max_threads);

  // Resets the state: the estimate becomes istft(magnitude * phasor(init)).
  // `magnitude` ((bins, frames), finite, >= 0) is held by pointer and must
  // outlive the iterations. `momentum` >= 0 is used by every Iterate.
  void Start(const RealMatrix* magnitude, const InitialPhase& init, double momentum);

  // Measures the spectral convergence on a mel target instead of the
  // magnitude: ||mel - W |X|^power||_F / ||mel||_F. Pass nullptrs to reset.
  void SetMelTarget(const MelFilterbank* filterbank, const RealMatrix* mel, double power);

  // Mel-consistent Griffin-Lim: from the next Iterate on, the magnitude each
  // frame is given is the projection of its rebuilt frame onto the mel
  // constraint W |X|^p = mel (mel_projection.h) instead of the Start
  // magnitude (the phase update is unchanged). `mel` is (n_mels, frames);
  // both must outlive the iterations. Pass nullptrs to go back to the fixed
  // magnitude. Adds num_slots * (bins + projection scratch) floats.
  void SetMelProjection(const MelProjection* projection, const RealMatrix* mel);

  // One iteration. When `measure` is true returns the spectral convergence
  // (ratio, not dB) of the estimate before this update (the one the analysis
  // saw); otherwise returns -1.
  double Iterate(bool measure);

  // Spectral convergence (ratio) of the current estimate (one analysis pass).
  double Convergence();

  // The current estimate: layout().length samples.
  void Signal(float* out) const;
  std::vector<float> Signal() const;

  const SignalLayout& layout() const { return processor_.layout(); }
  int iterations() const { return iterations_; }

  GriffinLimEngine(GriffinLimEngine&&) noexcept = default;
  GriffinLimEngine& operator=(GriffinLimEngine&&) noexcept = default;

 private:
  explicit GriffinLimEngine(FrameProcessor processor)
      : processor_(std::move(processor)), ola_(processor_.layout()) {}
  double ReduceConvergence() const;
  // Adds the squared error of frame `frame` (analysis `spec`) to chunk `chunk`.
  void MeasureFrame(int slot, int64_t chunk, int64_t frame, const std::complex<float>* spec);

  FrameProcessor processor_;
  const RealMatrix* magnitude_ = nullptr;
  float beta_ = 0.0f;          // momentum / (1 + momentum)
  bool use_momentum_ = false;
  bool have_previous_ = false;
  ComplexMatrix previous_;     // rebuilt spectrogram of the previous iteration
  OlaPair ola_;
  int iterations_ = 0;
  std::vector<double> chunk_error_;
  double reference_energy_ = 0.0;
  // Mel measurement.
  const MelFilterbank* filterbank_ = nullptr;
  const RealMatrix* mel_ = nullptr;
  float power_ = 1.0f;
  double mel_energy_ = 0.0;
  std::vector<std::vector<float>> slot_bins_;
  // Mel projection.
  const MelProjection* projection_ = nullptr;
  const RealMatrix* projection_mel_ = nullptr;
  std::vector<std::vector<float>> slot_projection_;
};

}  // namespace specinv

#endif  // SPECINV_GRIFFIN_LIM_H_
