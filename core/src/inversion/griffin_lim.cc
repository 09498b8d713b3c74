// Copyright specinv authors.

#include "specinv/inversion/griffin_lim.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

#include "inversion/inversion_kernels.h"

namespace specinv {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

double SumSquares(const RealMatrix& m) {
  double acc = 0.0;
  const float* d = m.data();
  for (Eigen::Index i = 0; i < m.size(); ++i) acc += static_cast<double>(d[i]) * static_cast<double>(d[i]);
  return acc;
}

}  // namespace

float RandomPhase(uint64_t seed, int64_t bin, int64_t frame) {
  const uint64_t counter = (static_cast<uint64_t>(frame) << 24) ^ static_cast<uint64_t>(bin);
  const uint64_t bits = SplitMix64(SplitMix64(seed) ^ counter);
  const double unit = static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  return static_cast<float>(2.0 * std::numbers::pi * unit);
}

absl::StatusOr<GriffinLimEngine> GriffinLimEngine::Create(const Stft& stft, const SignalLayout& layout,
                                                          int max_threads) {
  auto processor = FrameProcessor::Create(stft, layout, max_threads);
  if (!processor.ok()) return processor.status();
  GriffinLimEngine engine(*std::move(processor));
  engine.chunk_error_.assign(static_cast<size_t>(engine.processor_.num_chunks()), 0.0);
  return engine;
}

void GriffinLimEngine::Start(const RealMatrix* magnitude, const InitialPhase& init, double momentum) {
  magnitude_ = magnitude;
  use_momentum_ = momentum != 0.0;
  beta_ = static_cast<float>(momentum / (1.0 + momentum));
  have_previous_ = false;
  iterations_ = 0;
  const int bins = processor_.num_bins();
  const int64_t frames = layout().frames;
  if (use_momentum_ && (previous_.rows() != bins || previous_.cols() != frames)) {
    previous_.resize(bins, frames);
  }
  reference_energy_ = SumSquares(*magnitude);
  ola_.Restart();
  processor_.SetNoSource();
  const float scale = 1.0f / static_cast<float>(layout().n_fft);
  const RealMatrix* mag = magnitude_;
  const InitialPhase* in = &init;
  processor_.Run(ola_.current(), scale, [mag, in, bins](const FrameTask& task) {
    const float* s = mag->col(task.frame).data();
    std::complex<float>* x = task.spectrum;
    switch (in->kind) {
      case InitialPhase::Kind::kZero:
        for (int k = 0; k < bins; ++k) x[k] = {s[k], 0.0f};
        break;
      case InitialPhase::Kind::kRandom:
        for (int k = 0; k < bins; ++k) {
          const float ph = RandomPhase(in->seed, k, task.frame);
          x[k] = {s[k] * std::cos(ph), s[k] * std::sin(ph)};
        }
        break;
      case InitialPhase::Kind::kPhase: {
        const float* ph = in->phase->col(task.frame).data();
        for (int k = 0; k < bins; ++k) x[k] = {s[k] * std::cos(ph[k]), s[k] * std::sin(ph[k])};
        break;
      }
      case InitialPhase::Kind::kComplex: {
        const std::complex<float>* c = in->complex->col(task.frame).data();
        for (int k = 0; k < bins; ++k) {
          const float re = c[k].real();
          const float im = c[k].imag();
          const float m = std::sqrt(re * re + im * im);
          x[k] = m > 0.0f ? std::complex<float>(s[k] * re / m, s[k] * im / m) : std::complex<float>(s[k], 0.0f);
        }
        break;
      }
    }
    return true;
  });
}

void GriffinLimEngine::SetMelTarget(const MelFilterbank* filterbank, const RealMatrix* mel, double power) {
  filterbank_ = filterbank;
  mel_ = mel;
  power_ = static_cast<float>(power);
  if (filterbank_ == nullptr || mel_ == nullptr) {
    filterbank_ = nullptr;
    mel_ = nullptr;
    return;
  }
  mel_energy_ = SumSquares(*mel_);
  slot_bins_.assign(static_cast<size_t>(processor_.num_slots()),
                    std::vector<float>(static_cast<size_t>(processor_.num_bins()), 0.0f));
}

void GriffinLimEngine::SetMelProjection(const MelProjection* projection, const RealMatrix* mel) {
  if (projection == nullptr || mel == nullptr) {
    projection_ = nullptr;
    projection_mel_ = nullptr;
    return;
  }
  projection_ = projection;
  projection_mel_ = mel;
  slot_projection_.assign(static_cast<size_t>(processor_.num_slots()),
                          std::vector<float>(static_cast<size_t>(processor_.num_bins() + projection->scratch_size())));
}

void GriffinLimEngine::MeasureFrame(int slot, int64_t chunk, int64_t frame, const std::complex<float>* spec) {
  const int bins = processor_.num_bins();
  double err = 0.0;
  if (mel_ != nullptr) {
    float* mag = slot_bins_[static_cast<size_t>(slot)].data();
    for (int k = 0; k < bins; ++k) {
      const float re = spec[k].real();
      const float im = spec[k].imag();
      const float p2 = re * re + im * im;
      mag[k] = power_ == 2.0f ? p2 : (power_ == 1.0f ? std::sqrt(p2) : std::pow(p2, 0.5f * power_));
    }
    const float* target = mel_->col(frame).data();
    for (int m = 0; m < filterbank_->n_mels(); ++m) {
      const float* w = filterbank_->row_values(m);
      const float* x = mag + filterbank_->row_begin(m);
      float acc = 0.0f;
      for (int i = 0, n = filterbank_->row_size(m); i < n; ++i) acc += w[i] * x[i];
      const double e = static_cast<double>(acc) - static_cast<double>(target[m]);
      err += e * e;
    }
  } else {
    err = kernels::MagnitudeError(reinterpret_cast<const float*>(spec), magnitude_->col(frame).data(), bins);
  }
  chunk_error_[static_cast<size_t>(chunk)] += err;
}

double GriffinLimEngine::ReduceConvergence() const {
  double err = 0.0;
  for (double e : chunk_error_) err += e;
  const double ref = mel_ != nullptr ? mel_energy_ : reference_energy_;
  if (ref <= 0.0) return err > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
  return std::sqrt(err / ref);
}

double GriffinLimEngine::Iterate(bool measure) {
  std::fill(chunk_error_.begin(), chunk_error_.end(), 0.0);
  processor_.SetOlaSource(ola_.current());
  const float scale = 1.0f / static_cast<float>(layout().n_fft);
  const int bins = processor_.num_bins();
  // Per-iteration flags live in a struct the closure points to, so the
  // std::function holds one pointer and does not allocate.
  struct Step {
    GriffinLimEngine* self;
    bool measure, subtract, store;
    float beta;
    int bins;
  } step{this, measure, use_momentum_ && have_previous_, use_momentum_, beta_, bins};
  const Step* st = &step;
  processor_.Run(ola_.next(), scale, [st](const FrameTask& task) {
    GriffinLimEngine* self = st->self;
    if (st->measure) self->MeasureFrame(task.slot, task.chunk, task.frame, task.spectrum);
    const float* s = self->magnitude_->col(task.frame).data();
    if (self->projection_ != nullptr) {
      float* projected = self->slot_projection_[static_cast<size_t>(task.slot)].data();
      self->projection_->Project(task.spectrum, self->projection_mel_->col(task.frame).data(), projected,
                                 projected + st->bins);
      s = projected;
    }
    float* x = reinterpret_cast<float*>(task.spectrum);
    float* prev = st->store ? reinterpret_cast<float*>(self->previous_.col(task.frame).data()) : nullptr;
    kernels::PhaseUpdate(x, prev, s, st->beta, st->subtract, st->bins);
    // The next frame's magnitude and previous spectrum are streamed from
    // memory; request them now so they arrive while this frame's FFTs run.
    if (task.frame + 1 < self->magnitude_->cols()) {
      kernels::Prefetch(self->magnitude_->col(task.frame + 1).data(), st->bins * sizeof(float));
      if (st->store) {
        kernels::Prefetch(self->previous_.col(task.frame + 1).data(), st->bins * sizeof(std::complex<float>));
      }
    }
    return true;
  });
  const bool store = use_momentum_;
  have_previous_ = store;
  ola_.Swap();
  ++iterations_;
  return measure ? ReduceConvergence() : -1.0;
}

double GriffinLimEngine::Convergence() {
  std::fill(chunk_error_.begin(), chunk_error_.end(), 0.0);
  processor_.SetOlaSource(ola_.current());
  GriffinLimEngine* self = this;
  processor_.Run(nullptr, 0.0f, [self](const FrameTask& task) {
    self->MeasureFrame(task.slot, task.chunk, task.frame, task.spectrum);
    return false;
  });
  return ReduceConvergence();
}

void GriffinLimEngine::Signal(float* out) const { processor_.OlaToSignal(ola_.current(), out); }

std::vector<float> GriffinLimEngine::Signal() const {
  std::vector<float> out(static_cast<size_t>(layout().length));
  Signal(out.data());
  return out;
}

}  // namespace specinv
