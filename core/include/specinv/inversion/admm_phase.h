// Copyright specinv authors.
//
// ADMM phase retrieval (Masuyama, Yatabe & Oikawa, "Griffin-Lim like phase
// recovery via alternating direction method of multipliers", IEEE SPL 26(1),
// 2019). With C1 the spectrograms of magnitude S and C2 the consistent ones
// (STFTs of a signal), each iteration is
//
//   x = P_C1(z - u),   z = P_C2(x + u),   u = u + x - z
//
// where P_C1 keeps the phase and sets the magnitude to S, and P_C2 is
// STFT(iSTFT(.)). Griffin-Lim is the same alternation without the dual
// variable u; carrying u lets the iterate leave the stationary points where
// Griffin-Lim stalls, so it reaches a basin L-BFGS (refine.h) then descends
// much further (magnitude_inversion.h). The spectral convergence of the
// consistent estimate z itself falls more slowly than Griffin-Lim's.
//
// Implementation: one fused pass per iteration over the frames (analysis of
// the previous synthesis gives z; u = W_previous - z; x; the next W = x + u
// is stored and synthesised). Since u = W - P_C2(W) lies in the kernel of the
// iSTFT, the synthesis of W is also the iSTFT of x. State: W (one complex
// spectrogram) and two overlap-add buffers. Results are bit-identical for
// every max_threads (frame_processor.h).
//
// Thread safety: an engine must not be used from two threads at once.

#ifndef SPECINV_ADMM_PHASE_H_
#define SPECINV_ADMM_PHASE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "specinv/analysis/stft.h"
#include "specinv/base/types.h"
#include "specinv/inversion/frame_processor.h"

namespace specinv {

class AdmmPhaseEngine {
 public:
  static absl::StatusOr<AdmmPhaseEngine> Create(const Stft& stft, const SignalLayout& layout, int max_threads);

  // Starts from W = S * exp(i phase) with u = 0 (one synthesis). `magnitude`
  // ((bins, frames), finite, >= 0) is held by pointer and must outlive the
  // iterations; `phase` (radians, same shape) is only read here.
  void Start(const RealMatrix* magnitude, const RealMatrix& phase);

  // One iteration (one analysis and one synthesis). When `measure` is true
  // returns the spectral convergence (ratio) ||S - |z|||_F / ||S||_F of the
  // consistent estimate z this iteration analysed; otherwise -1.
  double Iterate(bool measure);

  // The current estimate (the synthesis of the last W): layout().length samples.
  void Signal(float* out) const;

  const SignalLayout& layout() const { return processor_.layout(); }

  AdmmPhaseEngine(AdmmPhaseEngine&&) noexcept = default;
  AdmmPhaseEngine& operator=(AdmmPhaseEngine&&) noexcept = default;

 private:
  explicit AdmmPhaseEngine(FrameProcessor processor)
      : processor_(std::move(processor)), ola_(processor_.layout()) {}

  FrameProcessor processor_;
  const RealMatrix* magnitude_ = nullptr;
  double reference_energy_ = 0.0;
  ComplexMatrix w_;  // x + u of the last iteration
  OlaPair ola_;
  std::vector<double> chunk_error_;
};

}  // namespace specinv

#endif  // SPECINV_ADMM_PHASE_H_
