// Copyright specinv authors.

#include "specinv/inversion/admm_phase.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>

#include "inversion/inversion_kernels.h"

namespace specinv {

absl::StatusOr<AdmmPhaseEngine> AdmmPhaseEngine::Create(const Stft& stft, const SignalLayout& layout,
                                                        int max_threads) {
  auto processor = FrameProcessor::Create(stft, layout, max_threads);
  if (!processor.ok()) return processor.status();
  AdmmPhaseEngine engine(*std::move(processor));
  engine.chunk_error_.assign(static_cast<size_t>(engine.processor_.num_chunks()), 0.0);
  engine.w_.resize(engine.processor_.num_bins(), layout.frames);
  return engine;
}

void AdmmPhaseEngine::Start(const RealMatrix* magnitude, const RealMatrix& phase) {
  magnitude_ = magnitude;
  double energy = 0.0;
  for (Eigen::Index i = 0; i < magnitude->size(); ++i) {
    energy += static_cast<double>(magnitude->data()[i]) * static_cast<double>(magnitude->data()[i]);
  }
  reference_energy_ = energy;
  ola_.Restart();
  processor_.SetNoSource();
  const int bins = processor_.num_bins();
  AdmmPhaseEngine* self = this;
  const RealMatrix* ph = &phase;
  processor_.Run(ola_.current(), 1.0f / static_cast<float>(layout().n_fft), [self, ph, bins](const FrameTask& task) {
    const float* s = self->magnitude_->col(task.frame).data();
    const float* p = ph->col(task.frame).data();
    std::complex<float>* w = self->w_.col(task.frame).data();
    for (int k = 0; k < bins; ++k) {
      w[k] = {s[k] * std::cos(p[k]), s[k] * std::sin(p[k])};
      task.spectrum[k] = w[k];
    }
    return true;
  });
}

double AdmmPhaseEngine::Iterate(bool measure) {
  std::fill(chunk_error_.begin(), chunk_error_.end(), 0.0);
  processor_.SetOlaSource(ola_.current());
  const int bins = processor_.num_bins();
  AdmmPhaseEngine* self = this;
  processor_.Run(ola_.next(), 1.0f / static_cast<float>(layout().n_fft), [self, bins, measure](const FrameTask& task) {
    std::complex<float>* z = task.spectrum;
    const float* s = self->magnitude_->col(task.frame).data();
    if (measure) {
      self->chunk_error_[static_cast<size_t>(task.chunk)] +=
          kernels::MagnitudeError(reinterpret_cast<const float*>(z), s, bins);
    }
    std::complex<float>* w = self->w_.col(task.frame).data();
    constexpr float kEps = std::numeric_limits<float>::min();
    for (int k = 0; k < bins; ++k) {
      const std::complex<float> u = w[k] - z[k];  // u + x - z of the previous iteration
      const std::complex<float> a = z[k] - u;
      const float g = s[k] / (std::sqrt(std::norm(a)) + kEps);  // x = P_C1(a)
      w[k] = a * g + u;
      z[k] = w[k];
    }
    return true;
  });
  ola_.Swap();
  if (!measure) return -1.0;
  double err = 0.0;
  for (double e : chunk_error_) err += e;
  if (reference_energy_ <= 0.0) return err > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
  return std::sqrt(err / reference_energy_);
}

void AdmmPhaseEngine::Signal(float* out) const { processor_.OlaToSignal(ola_.current(), out); }

}  // namespace specinv
