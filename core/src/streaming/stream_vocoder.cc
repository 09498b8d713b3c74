// Copyright specinv authors.

#include "specinv/streaming/stream_vocoder.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstring>
#include <limits>
#include <numbers>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/strings/str_format.h"
#include "inversion/inversion_kernels.h"
#include "specinv/base/fft.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/inversion/griffin_lim.h"
#include "specinv/inversion/mel_projection.h"
#include "specinv/inversion/pghi.h"

namespace specinv {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr int kMaxOnlineIterations = 32;
constexpr int kMaxLookaheadFrames = 16;
// Frames handed to MelToMagnitude at once (bounds the temporary magnitude).
constexpr int64_t kMelBlockFrames = 64;
// Frames entering the online Griffin-Lim window between cancellation checks
// (each costs online_iterations * window FFT pairs).
constexpr int64_t kFramesPerCheck = 8;
constexpr float kTiny = std::numeric_limits<float>::min();

double Wrap(double phase) { return phase - kTwoPi * std::nearbyint(phase * (1.0 / kTwoPi)); }

constexpr double kBucketStep = 0.01;  // nepers per bucket of the priority queue (as pghi.cc)

// x[p] = x[p] / w[p] where w[p] > kTiny (left as is elsewhere).
void DivideByWindowSum(float* x, const float* w, size_t n) {
  size_t p = 0;
#if defined(__SSE2__)
  const __m128 tiny = _mm_set1_ps(kTiny);
  for (; p + 4 <= n; p += 4) {
    const __m128 vx = _mm_loadu_ps(x + p);
    const __m128 vw = _mm_loadu_ps(w + p);
    const __m128 use = _mm_cmpgt_ps(vw, tiny);
    const __m128 q = _mm_div_ps(vx, _mm_or_ps(_mm_and_ps(use, vw), _mm_andnot_ps(use, _mm_set1_ps(1.0f))));
    _mm_storeu_ps(x + p, _mm_or_ps(_mm_and_ps(use, q), _mm_andnot_ps(use, vx)));
  }
#endif
  for (; p < n; ++p) {
    if (w[p] > kTiny) x[p] /= w[p];
  }
}

using kernels::ArrayMap;
using kernels::ConstArrayMap;

template <typename T, typename A>
size_t Bytes(const std::vector<T, A>& v) {
  return v.capacity() * sizeof(T);
}

// Per-frame RTPGHI integration, shared by the stream and RtpghiPhase. Holds
// the last three frames' magnitudes, log-magnitudes and time-direction
// derivatives (frame t in slot t % 3) and the previous frame's phase. The
// max-heap is a bucket queue over the log-magnitude quantised to 0.01 neper
// (last in, first out within a bucket): O(1) per step, so a frame costs
// O(bins + buckets).
class RtpghiIntegrator {
 public:
  RtpghiIntegrator(const Stft& stft, const RtpghiOptions& options) : options_(options) {
    const StftOptions& so = stft.options();
    bins_ = stft.num_bins();
    const int n_fft = stft.n_fft();
    const int win = so.effective_win_length();
    const double gamma = options.gamma.value_or(PghiGamma(so.window, win));
    const double a = so.hop_length;
    const double m = n_fft;
    tscale_ = a * m / (2.0 * gamma);
    fscale_ = -gamma / (2.0 * a * m);
    even_ = n_fft % 2 == 0;
    floor_nepers_ = options.tolerance_db / 20.0 * std::numbers::ln10;
    gradient_floor_ = static_cast<float>(std::pow(10.0, options.gradient_floor_db / 20.0));
    const double centre = static_cast<double>((n_fft - win) / 2) + 0.5 * win;
    const size_t b = static_cast<size_t>(bins_);
    advance_.resize(b);
    shift_.resize(b);
    for (int k = 0; k < bins_; ++k) {
      advance_[static_cast<size_t>(k)] = kTwoPi * a * static_cast<double>(k) / m;
      shift_[static_cast<size_t>(k)] = kTwoPi * static_cast<double>(k) * centre / m;
    }
    for (int s = 0; s < 3; ++s) {
      mag_[s].assign(b, 0.0f);
      logs_[s].assign(b, 0.0f);
      dt_[s].assign(b, 0.0);
    }
    df_.assign(b, 0.0);
    previous_.assign(b, 0.0);
    current_.assign(b, 0.0);
    done_.assign(b, 0);
    buckets_ = static_cast<int>(std::ceil(-floor_nepers_ / kBucketStep)) + 1;
    head_.assign(static_cast<size_t>(buckets_), -1);
    next_.assign(2 * b, -1);
  }

  // Adds the next frame's magnitude (bins values). Returns the index of the
  // frame whose phase became known (written to `phase`), or -1.
  int64_t Push(const float* magnitude, float* phase) {
    const int64_t t = pushed_++;
    const size_t s = Slot(t);
    std::copy(magnitude, magnitude + bins_, mag_[s].begin());
    float* lg = logs_[s].data();
    const float lo = std::max(kTiny, *std::max_element(magnitude, magnitude + bins_) * gradient_floor_);
    for (int k = 0; k < bins_; ++k) lg[k] = std::log(std::max(magnitude[k], lo));
    double* dt = dt_[s].data();
    for (int k = 0; k < bins_; ++k) {
      double diff = 0.0;
      if (k == 0) {
        diff = 0.0;  // s[-1] = s[1] by Hermitian symmetry
      } else if (k == bins_ - 1) {
        diff = even_ ? 0.0 : static_cast<double>(lg[k]) - static_cast<double>(lg[k - 1]);
      } else {
        diff = static_cast<double>(lg[k + 1]) - static_cast<double>(lg[k - 1]);
      }
      dt[k] = tscale_ * diff + advance_[static_cast<size_t>(k)];
    }
    if (options_.variant == RtpghiVariant::kCausal) {
      Integrate(t, phase);
      return t;
    }
    if (t == 0) return -1;
    Integrate(t - 1, phase);
    return t - 1;
  }

  // kLookahead: integrates the held-back last frame; returns its index or -1.
  int64_t Flush(float* phase) {
    if (integrated_ >= pushed_) return -1;
    const int64_t u = pushed_ - 1;
    Integrate(u, phase);
    return u;
  }

  // Magnitude of one of the last three frames pushed.
  const float* magnitude(int64_t frame) const { return mag_[Slot(frame)].data(); }

  size_t bytes() const {
    size_t n = Bytes(advance_) + Bytes(shift_) + Bytes(df_) + Bytes(previous_) + Bytes(current_) + Bytes(done_) +
               Bytes(head_) + Bytes(next_);
    for (int s = 0; s < 3; ++s) n += Bytes(mag_[s]) + Bytes(logs_[s]) + Bytes(dt_[s]);
    return n;
  }

 private:
  static size_t Slot(int64_t t) { return static_cast<size_t>(t % 3); }

  void QueuePush(int id, float key) {
    const double q = (static_cast<double>(key) - floor_) / kBucketStep;
    const int b = q <= 0.0 ? 0 : std::min(static_cast<int>(q), buckets_ - 1);
    next_[static_cast<size_t>(id)] = head_[static_cast<size_t>(b)];
    head_[static_cast<size_t>(b)] = id;
    top_ = std::max(top_, b);
  }

  // The id with the largest key, or -1 when the queue is empty.
  int QueuePop() {
    while (top_ >= 0 && head_[static_cast<size_t>(top_)] < 0) --top_;
    if (top_ < 0) return -1;
    const int id = head_[static_cast<size_t>(top_)];
    head_[static_cast<size_t>(top_)] = next_[static_cast<size_t>(id)];
    return id;
  }

  void Settle(int k, double value, float key) {
    current_[static_cast<size_t>(k)] = Wrap(value);
    done_[static_cast<size_t>(k)] = 1;
    --remaining_;
    QueuePush(bins_ + k, key);
  }

  void Integrate(int64_t u, float* phase) {
    const int bins = bins_;
    const float* su = logs_[Slot(u)].data();
    const float* sp = u > 0 ? logs_[Slot(u - 1)].data() : nullptr;
    const bool have_next = u + 1 < pushed_;
    double* df = df_.data();
    if (options_.variant == RtpghiVariant::kLookahead) {
      const float* sn = have_next ? logs_[Slot(u + 1)].data() : nullptr;
      for (int k = 0; k < bins; ++k) {
        if (sn != nullptr && sp != nullptr) {
          df[k] = fscale_ * (static_cast<double>(sn[k]) - static_cast<double>(sp[k]));
        } else if (sn != nullptr) {
          df[k] = 2.0 * fscale_ * (static_cast<double>(sn[k]) - static_cast<double>(su[k]));
        } else if (sp != nullptr) {
          df[k] = 2.0 * fscale_ * (static_cast<double>(su[k]) - static_cast<double>(sp[k]));
        } else {
          df[k] = 0.0;
        }
      }
    } else {
      const float* spp = u > 1 ? logs_[Slot(u - 2)].data() : nullptr;
      for (int k = 0; k < bins; ++k) {
        if (spp != nullptr) {
          df[k] = fscale_ * (3.0 * static_cast<double>(su[k]) - 4.0 * static_cast<double>(sp[k]) +
                             static_cast<double>(spp[k]));
        } else if (sp != nullptr) {
          df[k] = 2.0 * fscale_ * (static_cast<double>(su[k]) - static_cast<double>(sp[k]));
        } else {
          df[k] = 0.0;
        }
      }
    }
    float smax = *std::max_element(su, su + bins);
    if (sp != nullptr) smax = std::max(smax, *std::max_element(sp, sp + bins));
    floor_ = static_cast<double>(smax) + floor_nepers_;

    remaining_ = 0;
    for (int k = 0; k < bins; ++k) {
      if (static_cast<double>(su[k]) < floor_) {
        current_[static_cast<size_t>(k)] = static_cast<double>(RandomPhase(options_.seed, k, u));
        done_[static_cast<size_t>(k)] = 1;
      } else {
        done_[static_cast<size_t>(k)] = 0;
        ++remaining_;
      }
    }
    std::fill(head_.begin(), head_.end(), -1);
    top_ = -1;
    if (sp != nullptr) {
      for (int k = 0; k < bins; ++k) {
        if (done_[static_cast<size_t>(k)] == 0) QueuePush(k, sp[k]);
      }
    }
    const double* dt_cur = dt_[Slot(u)].data();
    const double* dt_prev = sp != nullptr ? dt_[Slot(u - 1)].data() : nullptr;
    while (remaining_ > 0) {
      const int id = QueuePop();
      if (id < 0) {
        // No previous frame: start the largest remaining region at phase 0.
        int best = -1;
        for (int k = 0; k < bins; ++k) {
          if (done_[static_cast<size_t>(k)] == 0 && (best < 0 || su[k] > su[best])) best = k;
        }
        Settle(best, 0.0, su[best]);
        continue;
      }
      if (id < bins) {  // a bin of the previous frame: step in time
        const int k = id;
        if (done_[static_cast<size_t>(k)] == 0) {
          Settle(k, previous_[static_cast<size_t>(k)] + 0.5 * (dt_prev[k] + dt_cur[k]), su[k]);
        }
        continue;
      }
      const int k = id - bins;  // a bin of this frame: step in frequency
      const double ph = current_[static_cast<size_t>(k)];
      if (k + 1 < bins && done_[static_cast<size_t>(k) + 1] == 0) {
        Settle(k + 1, ph + 0.5 * (df[k] + df[k + 1]), su[k + 1]);
      }
      if (k > 0 && done_[static_cast<size_t>(k) - 1] == 0) {
        Settle(k - 1, ph - 0.5 * (df[k] + df[k - 1]), su[k - 1]);
      }
    }
    std::swap(previous_, current_);
    for (int k = 0; k < bins; ++k) {
      phase[k] = static_cast<float>(Wrap(previous_[static_cast<size_t>(k)] - shift_[static_cast<size_t>(k)]));
    }
    integrated_ = u + 1;
  }

  RtpghiOptions options_;
  int bins_ = 0;
  bool even_ = true;
  double tscale_ = 0.0, fscale_ = 0.0, floor_nepers_ = 0.0;
  float gradient_floor_ = 0.0f;  // of the frame maximum, linear
  std::vector<double> advance_, shift_;  // 2 pi a k / M; 2 pi k c / M
  std::vector<float> mag_[3], logs_[3];
  std::vector<double> dt_[3];
  std::vector<double> df_;
  std::vector<double> previous_, current_;  // time-invariant phase, wrapped
  std::vector<uint8_t> done_;
  int buckets_ = 1;
  std::vector<int32_t> head_, next_;  // bucket queue
  int top_ = -1;
  double floor_ = 0.0;  // log-magnitude floor of the frame being integrated
  int remaining_ = 0;
  int64_t pushed_ = 0;
  int64_t integrated_ = 0;
};

absl::Status ValidateRtpghiOptions(const RtpghiOptions& o) {
  if (auto s = CheckRealRange("tolerance_db", o.tolerance_db, -200.0, 0.0); !s.ok()) return s;
  if (auto s = CheckRealRange("gradient_floor_db", o.gradient_floor_db, -200.0, 0.0); !s.ok()) return s;
  if (o.gamma.has_value()) {
    if (auto s = CheckRangeOpenLow("gamma", *o.gamma, 0.0, 1e12); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RtpghiVariant> ParseRtpghiVariant(std::string_view name) {
  if (name == "causal") return RtpghiVariant::kCausal;
  if (name == "lookahead") return RtpghiVariant::kLookahead;
  return absl::InvalidArgumentError(
      absl::StrFormat("rtpghi variant must be one of causal, lookahead; got \"%s\"", name));
}

std::string_view RtpghiVariantName(RtpghiVariant variant) {
  return variant == RtpghiVariant::kCausal ? "causal" : "lookahead";
}

absl::StatusOr<RealMatrix> RtpghiPhase(const Stft& stft, const RealMatrix& magnitude, const RtpghiOptions& options) {
  const int bins = stft.num_bins();
  if (magnitude.rows() != bins) {
    return InvalidField("magnitude", absl::StrFormat("must have n_fft/2+1 = %d rows (bins) for n_fft=%d, got %d", bins,
                                                     stft.n_fft(), magnitude.rows()));
  }
  if (magnitude.cols() < 1) return InvalidField("magnitude", "must have at least 1 frame, got 0");
  if (auto s = ValidateRtpghiOptions(options); !s.ok()) return s;
  if (auto s = CheckNonNegativeFinite("magnitude", magnitude); !s.ok()) return s;
  RtpghiIntegrator integrator(stft, options);
  RealMatrix phase(bins, magnitude.cols());
  std::vector<float> column(static_cast<size_t>(bins));
  const auto store = [&](int64_t frame) {
    if (frame >= 0) std::copy(column.begin(), column.end(), phase.col(frame).data());
  };
  for (Eigen::Index t = 0; t < magnitude.cols(); ++t) store(integrator.Push(magnitude.col(t).data(), column.data()));
  store(integrator.Flush(column.data()));
  return phase;
}

OnlineGriffinLimSettings DefaultOnlineGriffinLim(const StftOptions& stft) {
  OnlineGriffinLimSettings s;
  if (static_cast<int64_t>(stft.hop_length) * 4 <= static_cast<int64_t>(stft.effective_win_length())) {
    s.online_iterations = 2;
    s.lookahead_frames = 4;
    s.momentum = 0.0;
    s.mel_projection = true;
  } else {
    s.online_iterations = 8;
    s.lookahead_frames = 7;
    s.momentum = 0.95;
    s.mel_projection = false;
  }
  return s;
}

MelInverseMethod DefaultStreamMelInverse(const FeatureConfig& c) {
  const int64_t bins = c.stft.n_fft / 2 + 1;
  const double values_per_second = static_cast<double>(bins) * c.sample_rate / c.stft.hop_length;
  return bins >= 4 * static_cast<int64_t>(c.n_mels) && values_per_second <= kStreamHarmonicValuesPerSecond
             ? MelInverseMethod::kHarmonic
             : MelInverseMethod::kNnls;
}

absl::Status ValidateStreamVocoderOptions(const StreamVocoderOptions& o) {
  if (auto s = ValidateRtpghiOptions(o.rtpghi); !s.ok()) return s;
  if (o.online_iterations.has_value()) {
    if (auto s = CheckRange("online_iterations", *o.online_iterations, 0, kMaxOnlineIterations); !s.ok()) return s;
  }
  if (o.lookahead_frames.has_value()) {
    if (auto s = CheckRange("lookahead_frames", *o.lookahead_frames, 0, kMaxLookaheadFrames); !s.ok()) return s;
  }
  if (o.momentum.has_value() && (*o.momentum < 0.0 || *o.momentum >= 2.0 || !std::isfinite(*o.momentum))) {
    return InvalidField("momentum", absl::StrFormat("must be in [0, 2), got %g", *o.momentum));
  }
  if (o.nnls_iterations) {
    if (auto s = CheckRange("nnls_iterations", *o.nnls_iterations, 0, 100000); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// ---- the stream -------------------------------------------------------------

struct StreamVocoder::State {
  // A frame in the online Griffin-Lim window.
  struct WindowFrame {
    int64_t index = 0;
    std::vector<float> magnitude;                 // bins
    std::vector<float> mel;                       // n_mels (mel projection only)
    std::vector<std::complex<float>> previous;    // rebuilt spectrum of the last iteration (momentum)
    bool have_previous = false;
    std::vector<float> contribution;              // irfft(X) / n_fft * window, n_fft samples
  };

  State(const FeatureExtractor& fx, const StreamVocoderOptions& o)
      : options(o), mel_inverter(fx.mel_inverter()), rtpghi(fx.stft(), o.rtpghi) {
    const FeatureConfig& c = fx.config();
    sample_rate = static_cast<int>(std::lround(c.sample_rate));
    n_fft = c.stft.n_fft;
    hop = c.stft.hop_length;
    bins = n_fft / 2 + 1;
    if (c.framing == Framing::kHifiGanReflect) {
      pad = (n_fft - hop) / 2;
    } else {
      pad = c.stft.center ? n_fft / 2 : 0;
    }
    extra_frames = c.drop_last_frame ? 1 : 0;
    mel_options.method = *o.mel_inverse;
    mel_options.iterations = o.nnls_iterations;
    mel_options.power = c.power;
    mel_options.max_threads = 1;
    fft = RealFft::Get(n_fft);
    window = fx.stft().window();
    window_sq.resize(window.size());
    for (size_t i = 0; i < window.size(); ++i) window_sq[i] = window[i] * window[i];
    scale = 1.0f / static_cast<float>(n_fft);
    iterations = *o.online_iterations;
    capacity = iterations > 0 ? *o.lookahead_frames + 1 : 1;
    beta = static_cast<float>(*o.momentum / (1.0 + *o.momentum));
    use_momentum = iterations > 0 && *o.momentum != 0.0;
    const size_t n = static_cast<size_t>(n_fft);
    const size_t b = static_cast<size_t>(bins);
    const int n_mels = mel_inverter.filterbank().n_mels();
    if (iterations > 0 && *o.mel_projection) {
      MelProjectionOptions po;
      po.power = c.power;
      // Create fails only for options out of range; power is the extractor's, validated with it.
      absl::StatusOr<MelProjection> created = MelProjection::Create(mel_inverter.filterbank(), po);
      if (created.ok()) {
        projection.emplace(*std::move(created));
        projection_scratch.assign(static_cast<size_t>(projection->scratch_size()), 0.0f);
        pending_mel.assign(static_cast<size_t>(kPendingMelFrames) * static_cast<size_t>(n_mels), 0.0f);
      }
    }
    frames.resize(static_cast<size_t>(capacity));
    for (WindowFrame& f : frames) {
      f.contribution.assign(n, 0.0f);
      if (iterations > 0) f.magnitude.assign(b, 0.0f);
      if (projection) f.mel.assign(static_cast<size_t>(n_mels), 0.0f);
      if (use_momentum) f.previous.assign(b, {0.0f, 0.0f});
    }
    // Samples held: the window's span plus the overlap of the committed
    // frames and the padding at the start (emission trails by <= pad).
    const size_t span = static_cast<size_t>(n_fft) + static_cast<size_t>(hop) * static_cast<size_t>(capacity + 1);
    buffer_size = span + static_cast<size_t>(pad) + static_cast<size_t>(hop) * static_cast<size_t>(extra_frames + 1);
    ola.assign(buffer_size, 0.0f);
    wss.assign(buffer_size, 0.0f);
    if (iterations > 0) x.assign(static_cast<size_t>(n_fft) + static_cast<size_t>(hop) * static_cast<size_t>(capacity), 0.0f);
    time.assign(n, 0.0f);
    spec.assign(b, {0.0f, 0.0f});
    phase.assign(b, 0.0f);
    emit = pad;
  }

  // Default output length (samples) for `f` >= 1 frames (FeatureLayout's).
  int64_t Length(int64_t f) const {
    return std::max<int64_t>(1, n_fft + static_cast<int64_t>(hop) * (f - 1 + extra_frames) - 2 * pad);
  }

  // Makes the buffers cover padded positions [base, end).
  void EnsureSpan(int64_t end) {
    if (end - base <= static_cast<int64_t>(ola.size())) return;
    int64_t keep_from = emit;
    if (count > 0) keep_from = std::min(keep_from, frames[static_cast<size_t>(first)].index * hop);
    const int64_t shift = keep_from - base;
    if (shift > 0) {
      const size_t live = ola.size() - static_cast<size_t>(shift);
      std::memmove(ola.data(), ola.data() + shift, live * sizeof(float));
      std::memmove(wss.data(), wss.data() + shift, live * sizeof(float));
      std::fill(ola.begin() + static_cast<std::ptrdiff_t>(live), ola.end(), 0.0f);
      std::fill(wss.begin() + static_cast<std::ptrdiff_t>(live), wss.end(), 0.0f);
      base = keep_from;
    }
    if (end - base > static_cast<int64_t>(ola.size())) {  // not expected: the size covers the worst case
      ola.resize(static_cast<size_t>(end - base), 0.0f);
      wss.resize(static_cast<size_t>(end - base), 0.0f);
    }
  }

  // Appends the final samples at padded positions [emit, limit).
  void Emit(int64_t limit, std::vector<float>* out) {
    if (limit <= emit) return;
    EnsureSpan(limit);
    const size_t from = out->size();
    out->resize(from + static_cast<size_t>(limit - emit));
    float* dst = out->data() + from;
    for (int64_t p = emit; p < limit; ++p) {
      const float v = ola[static_cast<size_t>(p - base)];
      const float w = wss[static_cast<size_t>(p - base)];
      *dst++ = w > kTiny ? v / w : v;
    }
    emitted += limit - emit;
    emit = limit;
  }

  // contribution = irfft(spec) / n_fft * window (spec is overwritten).
  void Synthesise(std::vector<float>* contribution) {
    fft->Inverse(spec.data(), time.data());
    ArrayMap(contribution->data(), n_fft) = ConstArrayMap(time.data(), n_fft) * scale * ConstArrayMap(window.data(), n_fft);
  }

  // Frame `index` (magnitude, librosa phase) enters the window.
  void Enter(int64_t index, const float* magnitude, const float* ph, std::vector<float>* out) {
    WindowFrame& f = frames[static_cast<size_t>((first + count) % capacity)];
    ++count;
    f.index = index;
    f.have_previous = false;
    if (iterations > 0) std::copy(magnitude, magnitude + bins, f.magnitude.begin());
    if (projection) {
      const float* m = PendingMel(index);
      std::copy(m, m + f.mel.size(), f.mel.begin());
    }
    for (int k = 0; k < bins; ++k) {
      const float m = magnitude[k];
      spec[static_cast<size_t>(k)] = {m * std::cos(ph[k]), m * std::sin(ph[k])};
    }
    Synthesise(&f.contribution);
    const int64_t start = index * hop;
    EnsureSpan(start + n_fft);
    ArrayMap(wss.data() + (start - base), n_fft) += ConstArrayMap(window_sq.data(), n_fft);
    for (int it = 0; it < iterations; ++it) Iterate();
    if (count == capacity) Commit(out);
  }

  // One Jacobi fast Griffin-Lim iteration over the window frames.
  void Iterate() {
    const WindowFrame& oldest = frames[static_cast<size_t>(first)];
    const WindowFrame& newest = frames[static_cast<size_t>((first + count - 1) % capacity)];
    const int64_t s0 = oldest.index * hop;
    const int64_t s1 = newest.index * hop + n_fft;
    const size_t len = static_cast<size_t>(s1 - s0);
    std::copy(ola.begin() + (s0 - base), ola.begin() + (s1 - base), x.begin());
    for (int j = 0; j < count; ++j) {
      const WindowFrame& f = frames[static_cast<size_t>((first + j) % capacity)];
      ArrayMap(x.data() + (f.index * hop - s0), n_fft) += ConstArrayMap(f.contribution.data(), n_fft);
    }
    DivideByWindowSum(x.data(), wss.data() + (s0 - base), len);
    for (int j = 0; j < count; ++j) {
      WindowFrame& f = frames[static_cast<size_t>((first + j) % capacity)];
      ArrayMap(time.data(), n_fft) =
          ConstArrayMap(x.data() + (f.index * hop - s0), n_fft) * ConstArrayMap(window.data(), n_fft);
      fft->Forward(time.data(), spec.data());
      // The magnitude nearest the rebuilt one that reproduces the frame's mel.
      if (projection) projection->Project(spec.data(), f.mel.data(), f.magnitude.data(), projection_scratch.data());
      // Exact normalisation: the stream equals its scalar reference bit for bit.
      kernels::PhaseUpdate<kernels::Normalize::kExact>(reinterpret_cast<float*>(spec.data()),
              use_momentum ? reinterpret_cast<float*>(f.previous.data()) : nullptr, f.magnitude.data(), beta,
              f.have_previous, bins);
      f.have_previous = use_momentum;
      Synthesise(&f.contribution);
    }
  }

  // Overlap-adds the oldest window frame and emits what became final.
  void Commit(std::vector<float>* out) {
    WindowFrame& f = frames[static_cast<size_t>(first)];
    ArrayMap(ola.data() + (f.index * hop - base), n_fft) += ConstArrayMap(f.contribution.data(), n_fft);
    first = (first + 1) % capacity;
    --count;
    ++committed;
    Emit(std::min(committed * hop, pad + Length(pushed)), out);
  }

  size_t bytes() const {
    size_t n = rtpghi.bytes() + Bytes(window) + Bytes(window_sq) + Bytes(ola) + Bytes(wss) + Bytes(x) + Bytes(time) +
               Bytes(spec) + Bytes(phase) + frames.capacity() * sizeof(WindowFrame);
    n += Bytes(projection_scratch) + Bytes(pending_mel);
    if (projection) n += projection->bytes();
    for (const WindowFrame& f : frames) {
      n += Bytes(f.magnitude) + Bytes(f.mel) + Bytes(f.previous) + Bytes(f.contribution);
    }
    return n;
  }

  // The mel of frame `frame`, one of the last kPendingMelFrames pushed.
  float* PendingMel(int64_t frame) {
    const size_t n_mels = static_cast<size_t>(projection->n_mels());
    return pending_mel.data() + static_cast<size_t>(frame % kPendingMelFrames) * n_mels;
  }

  // Ends the stream after a failed cancellation check (`status` not OK): the
  // frames of the interrupted call are partly consumed, so the stream cannot
  // go on. Returns `status`.
  absl::Status Cancel(absl::Status status) {
    if (!status.ok()) {
      finished = true;
      cancelled = true;
    }
    return status;
  }

  StreamVocoderOptions options;
  bool cancelled = false;
  MelInverter mel_inverter;  // factorised once per extractor, shared
  MelInverseOptions mel_options;
  RtpghiIntegrator rtpghi;
  std::shared_ptr<const RealFft> fft;
  int sample_rate = 0;
  int n_fft = 0, hop = 0, bins = 0;
  int64_t pad = 0;
  int extra_frames = 0;
  float scale = 1.0f;
  std::vector<float> window, window_sq;
  int iterations = 0;
  int capacity = 1;  // window frames
  float beta = 0.0f;
  bool use_momentum = false;
  // Mel projection (options.mel_projection with online iterations): the
  // mels of the frames RTPGHI has not released yet (it holds at most one
  // back), and the projection's scratch.
  static constexpr int kPendingMelFrames = 4;
  std::optional<MelProjection> projection;
  std::vector<float> projection_scratch;
  std::vector<float> pending_mel;
  std::vector<WindowFrame> frames;  // ring: first, count
  int first = 0, count = 0;
  size_t buffer_size = 0;
  std::vector<float> ola, wss;  // padded positions [base, base + size)
  int64_t base = 0;
  std::vector<float> x;         // estimate over the window span
  AlignedVector<float> time;
  AlignedVector<std::complex<float>> spec;
  std::vector<float> phase;     // librosa phase of the frame just integrated
  int64_t pushed = 0, committed = 0, emitted = 0;
  int64_t emit = 0;             // next padded position to emit
  bool finished = false;
};

StreamVocoder::StreamVocoder(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamVocoder::StreamVocoder(StreamVocoder&&) noexcept = default;
StreamVocoder& StreamVocoder::operator=(StreamVocoder&&) noexcept = default;
StreamVocoder::~StreamVocoder() = default;

absl::StatusOr<StreamVocoder> StreamVocoder::Create(const FeatureExtractor& extractor,
                                                    const StreamVocoderOptions& options) {
  if (auto s = ValidateStreamVocoderOptions(options); !s.ok()) return s;
  StreamVocoderOptions resolved = options;
  const OnlineGriffinLimSettings defaults = DefaultOnlineGriffinLim(extractor.stft().options());
  if (!resolved.online_iterations.has_value()) resolved.online_iterations = defaults.online_iterations;
  if (!resolved.lookahead_frames.has_value()) resolved.lookahead_frames = defaults.lookahead_frames;
  if (!resolved.momentum.has_value()) resolved.momentum = defaults.momentum;
  if (!resolved.mel_projection.has_value()) resolved.mel_projection = defaults.mel_projection;
  if (!resolved.mel_inverse.has_value()) resolved.mel_inverse = DefaultStreamMelInverse(extractor.config());
  if (!resolved.nnls_iterations.has_value()) {
    const MelInverseMethod m = *resolved.mel_inverse;
    resolved.nnls_iterations = m == MelInverseMethod::kLobes || m == MelInverseMethod::kHarmonic
                                   ? kStreamMelInverseIterations
                                   : DefaultMelInverseIterations(m);
  }
  return StreamVocoder(std::make_unique<State>(extractor, resolved));
}

absl::Status StreamVocoder::PushFrames(Eigen::Ref<const RealMatrix> mel, std::vector<float>* out) {
  State& st = *state_;
  if (st.cancelled) return absl::FailedPreconditionError("the stream was cancelled; no frames can be pushed");
  if (st.finished) {
    return absl::FailedPreconditionError("the stream is finished; no frames can be pushed after Finish");
  }
  if (mel.rows() != st.mel_inverter.filterbank().n_mels()) {
    return InvalidField("mel", absl::StrFormat("must have n_mels = %d rows, got %d",
                                               st.mel_inverter.filterbank().n_mels(), mel.rows()));
  }
  if (mel.cols() < 1) return InvalidField("mel", "must have at least 1 frame, got 0");
  for (Eigen::Index t = 0; t < mel.cols(); ++t) {
    const float* col = mel.col(t).data();
    for (Eigen::Index m = 0; m < mel.rows(); ++m) {
      const float v = col[m];
      if (!std::isfinite(v) || v < 0.0f) {
        return InvalidField(
            "mel", absl::StrFormat("(bin %d, frame %d of the stream) is %g; all values must be finite and >= 0", m,
                                   st.pushed + t, static_cast<double>(v)));
      }
    }
  }
  RealMatrix block;
  const std::function<absl::Status()>& check = st.options.check;
  for (Eigen::Index b0 = 0; b0 < mel.cols(); b0 += kMelBlockFrames) {
    const Eigen::Index n = std::min<Eigen::Index>(kMelBlockFrames, mel.cols() - b0);
    block = mel.middleCols(b0, n);
    if (check) {
      if (absl::Status s = st.Cancel(check()); !s.ok()) return s;
    }
    absl::StatusOr<RealMatrix> magnitude = st.mel_inverter.Apply(block, st.mel_options);
    if (!magnitude.ok()) return magnitude.status();  // finite input that overflowed (named by the stage)
    for (Eigen::Index t = 0; t < n; ++t) {
      if (check && t > 0 && t % kFramesPerCheck == 0) {
        if (absl::Status s = st.Cancel(check()); !s.ok()) return s;
      }
      if (st.projection) {
        const float* m = block.col(t).data();
        std::copy(m, m + block.rows(), st.PendingMel(st.pushed));
      }
      ++st.pushed;
      const int64_t ready = st.rtpghi.Push(magnitude->col(t).data(), st.phase.data());
      if (ready >= 0) st.Enter(ready, st.rtpghi.magnitude(ready), st.phase.data(), out);
    }
  }
  return absl::OkStatus();
}

absl::Status StreamVocoder::Finish(std::vector<float>* out) {
  State& st = *state_;
  if (st.cancelled) return absl::FailedPreconditionError("the stream was cancelled; it cannot be finished");
  if (st.finished) return absl::FailedPreconditionError("the stream is already finished");
  st.finished = true;
  if (st.pushed == 0) return absl::OkStatus();
  const int64_t last = st.rtpghi.Flush(st.phase.data());
  if (last >= 0) st.Enter(last, st.rtpghi.magnitude(last), st.phase.data(), out);
  while (st.count > 0) {
    if (st.options.check) {
      if (absl::Status s = st.Cancel(st.options.check()); !s.ok()) return s;
    }
    for (int it = 0; it < st.iterations; ++it) st.Iterate();
    st.Commit(out);
  }
  st.Emit(st.pad + st.Length(st.pushed), out);
  return absl::OkStatus();
}

int64_t StreamVocoder::frames_pushed() const { return state_->pushed; }
int64_t StreamVocoder::samples_emitted() const { return state_->emitted; }
bool StreamVocoder::finished() const { return state_->finished; }
int StreamVocoder::delay_frames() const {
  const State& st = *state_;
  return (st.options.rtpghi.variant == RtpghiVariant::kLookahead ? 1 : 0) + (st.capacity - 1);
}
int StreamVocoder::sample_rate_hertz() const { return state_->sample_rate; }
size_t StreamVocoder::state_bytes() const { return state_->bytes(); }
const StreamVocoderOptions& StreamVocoder::options() const { return state_->options; }

}  // namespace specinv
