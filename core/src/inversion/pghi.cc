// Copyright specinv authors.

#include "specinv/inversion/pghi.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/inversion/griffin_lim.h"

namespace specinv {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kBucketStep = 0.01;  // nepers per bucket of the priority queue

// Wraps to [-pi, pi] (cheaper than std::remainder, which dominated the run time).
double Wrap(double phase) { return phase - kTwoPi * std::nearbyint(phase * (1.0 / kTwoPi)); }

}  // namespace

double PghiGamma(WindowType type, int win_length) {
  const double l2 = static_cast<double>(win_length) * static_cast<double>(win_length);
  switch (type) {
    case WindowType::kHann: return 0.25645 * l2;
    case WindowType::kHamming: return 0.29794 * l2;
    case WindowType::kBlackman: return 0.17954 * l2;
    default: break;
  }
  // Match the spread of the squared window: a Gaussian exp(-pi t^2/gamma)
  // squared has variance gamma / (4 pi).
  auto window = MakeWindow(type, win_length, win_length);
  if (!window.ok() || window->empty()) return 0.25 * l2;
  double sum = 0.0, mean = 0.0;
  for (size_t i = 0; i < window->size(); ++i) {
    const double w2 = static_cast<double>((*window)[i]) * static_cast<double>((*window)[i]);
    sum += w2;
    mean += w2 * static_cast<double>(i);
  }
  if (sum <= 0.0) return 0.25 * l2;
  mean /= sum;
  double var = 0.0;
  for (size_t i = 0; i < window->size(); ++i) {
    const double w2 = static_cast<double>((*window)[i]) * static_cast<double>((*window)[i]);
    const double d = static_cast<double>(i) - mean;
    var += w2 * d * d;
  }
  var /= sum;
  return std::max(4.0 * std::numbers::pi * var, 1.0);
}

absl::StatusOr<RealMatrix> PghiPhase(const Stft& stft, const RealMatrix& magnitude,
                                     const PghiOptions& options) {
  const int n_fft = stft.n_fft();
  const int bins = stft.num_bins();
  if (magnitude.rows() != bins) {
    return InvalidField("magnitude", absl::StrFormat("must have n_fft/2+1 = %d rows (bins) for n_fft=%d, got %d", bins,
                                                     n_fft, magnitude.rows()));
  }
  if (magnitude.cols() < 1) {
    return InvalidField("magnitude", "must have at least 1 frame, got 0");
  }
  if (auto s = CheckRealRange("pghi tolerance_db", options.tolerance_db, -200.0, 0.0); !s.ok()) return s;
  if (options.gamma.has_value()) {
    if (auto s = CheckRangeOpenLow("pghi gamma", *options.gamma, 0.0, 1e12); !s.ok()) return s;
  }
  if (auto s = CheckNonNegativeFinite("magnitude", magnitude); !s.ok()) return s;
  const int64_t frames = magnitude.cols();
  const int64_t total = static_cast<int64_t>(bins) * frames;
  if (total > std::numeric_limits<int32_t>::max()) {
    return InvalidField("magnitude", absl::StrFormat("has %d coefficients; PGHI supports at most %d", total,
                                                     std::numeric_limits<int32_t>::max()));
  }
  const StftOptions& so = stft.options();
  const int win = so.effective_win_length();
  const double gamma = options.gamma.value_or(PghiGamma(so.window, win));
  const double a = so.hop_length;
  const double m = n_fft;
  const double centre = static_cast<double>((n_fft - win) / 2) + 0.5 * win;

  // Log-magnitude.
  constexpr float kTiny = std::numeric_limits<float>::min();
  std::vector<float> s(static_cast<size_t>(total));
  float smax = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < total; ++i) {
    s[static_cast<size_t>(i)] = std::log(std::max(magnitude.data()[i], kTiny));
    smax = std::max(smax, s[static_cast<size_t>(i)]);
  }
  RealMatrix phase(bins, frames);
  const double floor = static_cast<double>(smax) + options.tolerance_db / 20.0 * std::numbers::ln10;
  const auto at = [&](int64_t k, int64_t t) -> double {
    return static_cast<double>(s[static_cast<size_t>(t * bins + k)]);
  };
  // Phase advance per frame (time direction) at (k, t).
  const double tscale = a * m / (2.0 * gamma);
  const bool even = n_fft % 2 == 0;
  const auto dt = [&](int64_t k, int64_t t) -> double {
    double diff = 0.0;
    if (k == 0) {
      diff = 0.0;  // s[-1] = s[1] by Hermitian symmetry
    } else if (k == bins - 1) {
      diff = even ? 0.0 : at(k, t) - at(k - 1, t);
    } else {
      diff = at(k + 1, t) - at(k - 1, t);
    }
    return tscale * diff + kTwoPi * a * static_cast<double>(k) / m;
  };
  // Phase advance per bin (frequency direction) at (k, t).
  const double fscale = -gamma / (2.0 * a * m);
  const auto df = [&](int64_t k, int64_t t) -> double {
    if (frames == 1) return 0.0;
    if (t == 0) return 2.0 * fscale * (at(k, 1) - at(k, 0));
    if (t == frames - 1) return 2.0 * fscale * (at(k, t) - at(k, t - 1));
    return fscale * (at(k, t + 1) - at(k, t - 1));
  };

  // Bucket queue keyed by quantised log-magnitude.
  const int buckets = static_cast<int>(std::ceil((static_cast<double>(smax) - floor) / kBucketStep)) + 1;
  const auto bucket_of = [&](int64_t i) -> int {
    const double q = (static_cast<double>(s[static_cast<size_t>(i)]) - floor) / kBucketStep;
    return std::clamp(static_cast<int>(q), 0, buckets - 1);
  };
  std::vector<int32_t> head(static_cast<size_t>(buckets), -1);
  std::vector<int32_t> next(static_cast<size_t>(total), -1);
  // Candidates sorted by bucket (descending) for picking seeds: counting sort.
  std::vector<int32_t> order;
  std::vector<uint8_t> done(static_cast<size_t>(total), 0);
  {
    std::vector<int64_t> count(static_cast<size_t>(buckets) + 1, 0);
    int64_t candidates = 0;
    for (int64_t i = 0; i < total; ++i) {
      if (static_cast<double>(s[static_cast<size_t>(i)]) >= floor) {
        ++count[static_cast<size_t>(buckets - 1 - bucket_of(i)) + 1];
        ++candidates;
      } else {
        done[static_cast<size_t>(i)] = 1;
        const int64_t t = i / bins;
        const int64_t k = i % bins;
        phase(k, t) = RandomPhase(options.seed, k, t);
      }
    }
    for (int b = 0; b < buckets; ++b) count[static_cast<size_t>(b) + 1] += count[static_cast<size_t>(b)];
    order.resize(static_cast<size_t>(candidates));
    for (int64_t i = 0; i < total; ++i) {
      if (done[static_cast<size_t>(i)] != 0) continue;
      order[static_cast<size_t>(count[static_cast<size_t>(buckets - 1 - bucket_of(i))]++)] =
          static_cast<int32_t>(i);
    }
  }
  // Occupancy bitmap over the buckets: finding the highest non-empty bucket
  // is a few word scans instead of a walk over empty buckets.
  std::vector<uint64_t> occupied(static_cast<size_t>((buckets + 63) / 64), 0);
  int64_t queued = 0;
  const auto push = [&](int64_t i) {
    const int b = bucket_of(i);
    next[static_cast<size_t>(i)] = head[static_cast<size_t>(b)];
    head[static_cast<size_t>(b)] = static_cast<int32_t>(i);
    occupied[static_cast<size_t>(b >> 6)] |= uint64_t{1} << (b & 63);
    ++queued;
  };
  const auto pop = [&]() -> int64_t {
    if (queued == 0) return -1;
    size_t w = occupied.size() - 1;
    while (occupied[w] == 0) --w;  // queued > 0, so some word is non-zero
    const int b = static_cast<int>(w * 64) + 63 - std::countl_zero(occupied[w]);
    const int32_t i = head[static_cast<size_t>(b)];
    head[static_cast<size_t>(b)] = next[static_cast<size_t>(i)];
    if (head[static_cast<size_t>(b)] < 0) occupied[w] &= ~(uint64_t{1} << (b & 63));
    --queued;
    return i;
  };
  // Time-invariant phase, integrated in double and wrapped.
  const auto settle = [&](int64_t i, double value) {
    done[static_cast<size_t>(i)] = 1;
    phase.data()[i] = static_cast<float>(Wrap(value));
    push(i);
  };
  for (int32_t seed : order) {
    if (done[static_cast<size_t>(seed)] != 0) continue;
    settle(seed, 0.0);
    for (int64_t i = pop(); i >= 0; i = pop()) {
      const int64_t t = i / bins;
      const int64_t k = i % bins;
      const double ph = static_cast<double>(phase.data()[i]);
      if (t + 1 < frames && done[static_cast<size_t>(i + bins)] == 0) {
        settle(i + bins, ph + 0.5 * (dt(k, t) + dt(k, t + 1)));
      }
      if (t > 0 && done[static_cast<size_t>(i - bins)] == 0) {
        settle(i - bins, ph - 0.5 * (dt(k, t) + dt(k, t - 1)));
      }
      if (k + 1 < bins && done[static_cast<size_t>(i + 1)] == 0) {
        settle(i + 1, ph + 0.5 * (df(k, t) + df(k + 1, t)));
      }
      if (k > 0 && done[static_cast<size_t>(i - 1)] == 0) {
        settle(i - 1, ph - 0.5 * (df(k, t) + df(k - 1, t)));
      }
    }
  }
  // Time-invariant (window-centre reference) to librosa's frame-start reference.
  for (int64_t t = 0; t < frames; ++t) {
    for (int k = 0; k < bins; ++k) {
      const double shift = kTwoPi * static_cast<double>(k) * centre / m;
      phase(k, t) = static_cast<float>(Wrap(static_cast<double>(phase(k, t)) - shift));
    }
  }
  return phase;
}

}  // namespace specinv
