// Copyright specinv authors.

#include "specinv/inversion/griffin_lim_librosa.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "specinv/base/fft.h"
#include "specinv/base/numpy_abs.h"
#include "specinv/analysis/window.h"

namespace specinv {
namespace {

constexpr float kTiny = std::numeric_limits<float>::min();  // librosa: util.tiny(complex64)

// librosa.istft(angles, length=layout.length): double transforms, float32
// overlap-add and window-sum-square, then the centre padding removed.
class LibrosaIstft {
 public:
  LibrosaIstft(const SignalLayout& layout, const std::vector<double>& window, const RealFftDouble& fft)
      : layout_(layout), window_(window), fft_(fft), ola_(static_cast<size_t>(layout.ola_length())),
        wss_(ola_.size(), 0.0f), spec_(static_cast<size_t>(fft.num_bins())), frame_(static_cast<size_t>(fft.size())) {
    const int n = layout_.n_fft;
    for (int64_t t = 0; t < layout_.frames; ++t) {
      float* w = wss_.data() + t * layout_.hop;
      for (int j = 0; j < n; ++j) {
        const double sq = window_[static_cast<size_t>(j)] * window_[static_cast<size_t>(j)];
        w[j] = static_cast<float>(static_cast<double>(w[j]) + sq);
      }
    }
  }

  void Run(const ComplexMatrix& angles, std::vector<float>* out) {
    const int n = layout_.n_fft;
    const int bins = fft_.num_bins();
    const double scale = 1.0 / n;  // numpy.fft.irfft's normalisation
    std::fill(ola_.begin(), ola_.end(), 0.0f);
    for (int64_t t = 0; t < layout_.frames; ++t) {
      const std::complex<float>* a = angles.col(t).data();
      for (int k = 0; k < bins; ++k) spec_[static_cast<size_t>(k)] = std::complex<double>(a[k]);
      fft_.Inverse(spec_.data(), frame_.data());
      float* y = ola_.data() + t * layout_.hop;
      for (int j = 0; j < n; ++j) {
        const double v = window_[static_cast<size_t>(j)] * (frame_[static_cast<size_t>(j)] * scale);
        y[j] = static_cast<float>(static_cast<double>(y[j]) + v);
      }
    }
    out->assign(static_cast<size_t>(layout_.length), 0.0f);
    for (int64_t i = 0; i < layout_.length; ++i) {
      const int64_t j = layout_.pad + i;
      if (j >= static_cast<int64_t>(ola_.size())) break;
      const float w = wss_[static_cast<size_t>(j)];
      const float v = ola_[static_cast<size_t>(j)];
      (*out)[static_cast<size_t>(i)] = w > kTiny ? v / w : v;
    }
  }

 private:
  const SignalLayout& layout_;
  const std::vector<double>& window_;
  const RealFftDouble& fft_;
  std::vector<float> ola_, wss_;
  AlignedVector<std::complex<double>> spec_;
  AlignedVector<double> frame_;
};

// librosa.stft(y): float32 samples times the float64 window, double
// transform, rounded to complex64.
class LibrosaStft {
 public:
  LibrosaStft(const SignalLayout& layout, const std::vector<double>& window, const RealFftDouble& fft)
      : layout_(layout), window_(window), fft_(fft), spec_(static_cast<size_t>(fft.num_bins())),
        frame_(static_cast<size_t>(fft.size())) {}

  void Run(const std::vector<float>& signal, ComplexMatrix* out) {
    const int n = layout_.n_fft;
    const int bins = fft_.num_bins();
    PadSignal(signal, layout_.pad, layout_.pad_mode, &padded_);
    for (int64_t t = 0; t < layout_.frames; ++t) {
      const float* x = padded_.data() + t * layout_.hop;
      for (int j = 0; j < n; ++j) {
        frame_[static_cast<size_t>(j)] = static_cast<double>(x[j]) * window_[static_cast<size_t>(j)];
      }
      fft_.Forward(frame_.data(), spec_.data());
      std::complex<float>* dst = out->col(t).data();
      for (int k = 0; k < bins; ++k) dst[k] = std::complex<float>(spec_[static_cast<size_t>(k)]);
    }
  }

 private:
  const SignalLayout& layout_;
  const std::vector<double>& window_;
  const RealFftDouble& fft_;
  std::vector<float> padded_;
  AlignedVector<std::complex<double>> spec_;
  AlignedVector<double> frame_;
};

}  // namespace

absl::StatusOr<std::vector<float>> LibrosaPrecisionGriffinLim(const Stft& stft, const SignalLayout& layout,
                                                              const RealMatrix& magnitude, const InitialPhase& init,
                                                              const LibrosaGriffinLimOptions& options,
                                                              double* spectral_convergence) {
  const StftOptions& so = stft.options();
  auto window = MakeWindowDouble(so.window, so.effective_win_length(), so.n_fft);
  if (!window.ok()) return window.status();
  const std::shared_ptr<const RealFftDouble> fft = RealFftDouble::Get(so.n_fft);
  const int bins = stft.num_bins();
  const int64_t frames = layout.frames;

  // angles = exp(i * phase0) * S, as complex64.
  ComplexMatrix angles(bins, frames);
  for (int64_t t = 0; t < frames; ++t) {
    const float* s = magnitude.col(t).data();
    std::complex<float>* a = angles.col(t).data();
    for (int k = 0; k < bins; ++k) {
      float phase = 0.0f;
      switch (init.kind) {
        case InitialPhase::Kind::kZero: break;
        case InitialPhase::Kind::kRandom: phase = RandomPhase(init.seed, k, t); break;
        case InitialPhase::Kind::kPhase: phase = (*init.phase)(k, t); break;
        case InitialPhase::Kind::kComplex: phase = std::arg((*init.complex)(k, t)); break;
      }
      a[k] = init.kind == InitialPhase::Kind::kZero ? std::complex<float>(s[k], 0.0f)
                                                    : std::complex<float>(s[k] * std::cos(phase), s[k] * std::sin(phase));
    }
  }

  LibrosaIstft istft(layout, *window, *fft);
  LibrosaStft forward(layout, *window, *fft);
  const float beta = static_cast<float>(options.momentum / (1.0 + options.momentum));
  ComplexMatrix rebuilt(bins, frames), previous(bins, frames);
  bool have_previous = false;
  std::vector<float> signal;
  double reference = 0.0;
  if (options.progress) reference = static_cast<double>(magnitude.squaredNorm());
  for (int it = 0; it < options.iterations; ++it) {
    if (options.check) {
      if (absl::Status s = options.check(); !s.ok()) return s;
    }
    istft.Run(angles, &signal);
    forward.Run(signal, &rebuilt);
    double error = 0.0;
    for (int64_t t = 0; t < frames; ++t) {
      const std::complex<float>* r = rebuilt.col(t).data();
      const std::complex<float>* p = previous.col(t).data();
      const float* s = magnitude.col(t).data();
      std::complex<float>* a = angles.col(t).data();
      for (int k = 0; k < bins; ++k) {
        float ar = r[k].real();
        float ai = r[k].imag();
        if (options.progress) {
          const double e = static_cast<double>(NumpyComplexAbs(ar, ai)) - static_cast<double>(s[k]);
          error += e * e;
        }
        if (have_previous) {
          ar = ar - beta * p[k].real();
          ai = ai - beta * p[k].imag();
        }
        // NumPy: angles /= |angles| + tiny is a complex division by (d, 0):
        // both parts times 1/d; then angles *= S.
        const float scale = 1.0f / (NumpyComplexAbs(ar, ai) + kTiny);
        a[k] = {(ar * scale) * s[k], (ai * scale) * s[k]};
      }
    }
    std::swap(rebuilt, previous);
    have_previous = true;
    if (options.progress) options.progress(it + 1, reference > 0.0 ? std::sqrt(error / reference) : 0.0);
  }
  istft.Run(angles, &signal);
  if (spectral_convergence != nullptr) {
    forward.Run(signal, &rebuilt);
    double error = 0.0;
    for (int64_t t = 0; t < frames; ++t) {
      for (int k = 0; k < bins; ++k) {
        const double e = static_cast<double>(std::abs(rebuilt(k, t))) - static_cast<double>(magnitude(k, t));
        error += e * e;
      }
    }
    const double ref = static_cast<double>(magnitude.squaredNorm());
    *spectral_convergence = ref > 0.0 ? std::sqrt(error / ref) : (error > 0.0 ? std::numeric_limits<double>::infinity() : 0.0);
  }
  return signal;
}

}  // namespace specinv
