// Copyright specinv authors.

#include "specinv/evaluation/stoi.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/str_format.h"
#include "specinv/base/fft.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/io/audio_io.h"

namespace specinv {
namespace {

constexpr int kFrameLength = 256;  // samples at 10 kHz
constexpr int kHop = 128;
constexpr int kFftSize = 512;
constexpr int kNumBins = kFftSize / 2 + 1;
constexpr int kNumBands = 15;
constexpr double kLowestCentreHz = 150.0;
constexpr int kSegmentFrames = 30;          // N
constexpr double kBetaDb = -15.0;           // lower signal-to-distortion bound
constexpr double kDynamicRangeDb = 40.0;
constexpr double kEps = std::numeric_limits<double>::epsilon();
constexpr double kMaxSampleRate = 384000.0;

using BandMatrix = Eigen::Matrix<double, kNumBands, Eigen::Dynamic>;  // (bands, frames)
using Segment = Eigen::Matrix<double, kNumBands, kSegmentFrames>;    // (bands, N frames)

// numpy.hanning(kFrameLength + 2)[1:-1].
const std::array<double, kFrameLength>& StoiWindow() {
  static const std::array<double, kFrameLength> window = [] {
    std::array<double, kFrameLength> w{};
    for (int n = 0; n < kFrameLength; ++n) {
      w[static_cast<size_t>(n)] = 0.5 - 0.5 * std::cos(2.0 * M_PI * (n + 1) / (kFrameLength + 1));
    }
    return w;
  }();
  return window;
}

// Frames starting at 0, hop, ... while start < len - frame (pystoi's range()).
int64_t NumFrames(int64_t length) {
  if (length <= kFrameLength) return 0;
  return (length - kFrameLength - 1) / kHop + 1;
}

struct Band {
  int lo;  // first bin
  int hi;  // one past the last bin
};

// The bin whose frequency is nearest to `hz` (the first on a tie).
int NearestBin(double hz) {
  const double step = kStoiSampleRate / kFftSize;
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (int b = 0; b < kNumBins; ++b) {
    const double d = (b * step - hz) * (b * step - hz);
    if (d < best_d) {
      best_d = d;
      best = b;
    }
  }
  return best;
}

const std::array<Band, kNumBands>& ThirdOctaveBands() {
  static const std::array<Band, kNumBands> bands = [] {
    std::array<Band, kNumBands> out{};
    for (int k = 0; k < kNumBands; ++k) {
      const double low = kLowestCentreHz * std::pow(2.0, (2.0 * k - 1.0) / 6.0);
      const double high = kLowestCentreHz * std::pow(2.0, (2.0 * k + 1.0) / 6.0);
      out[static_cast<size_t>(k)] = Band{NearestBin(low), NearestBin(high)};
    }
    return out;
  }();
  return bands;
}

// Silent-frame removal: keeps the windowed frames whose clean energy is within
// kDynamicRangeDb of the loudest and overlap-adds them at kHop. Returns the
// number of frames kept.
int64_t RemoveSilentFrames(const std::vector<double>& x, const std::vector<double>& y, std::vector<double>* x_out,
                           std::vector<double>* y_out) {
  const auto& w = StoiWindow();
  const int64_t frames = NumFrames(static_cast<int64_t>(x.size()));
  std::vector<double> energy_db(static_cast<size_t>(frames));
  double max_db = -std::numeric_limits<double>::infinity();
  for (int64_t f = 0; f < frames; ++f) {
    const double* frame = x.data() + f * kHop;
    double sum = 0.0;
    for (int n = 0; n < kFrameLength; ++n) {
      const double v = w[static_cast<size_t>(n)] * frame[n];
      sum += v * v;
    }
    const double db = 20.0 * std::log10(std::sqrt(sum) + kEps);
    energy_db[static_cast<size_t>(f)] = db;
    max_db = std::max(max_db, db);
  }
  int64_t kept = 0;
  for (int64_t f = 0; f < frames; ++f) {
    if (max_db - kDynamicRangeDb - energy_db[static_cast<size_t>(f)] < 0.0) ++kept;
  }
  const int64_t out_len = kept == 0 ? 0 : (kept - 1) * kHop + kFrameLength;
  x_out->assign(static_cast<size_t>(out_len), 0.0);
  y_out->assign(static_cast<size_t>(out_len), 0.0);
  int64_t k = 0;
  for (int64_t f = 0; f < frames; ++f) {
    if (!(max_db - kDynamicRangeDb - energy_db[static_cast<size_t>(f)] < 0.0)) continue;
    const double* xf = x.data() + f * kHop;
    const double* yf = y.data() + f * kHop;
    double* xo = x_out->data() + k * kHop;
    double* yo = y_out->data() + k * kHop;
    for (int n = 0; n < kFrameLength; ++n) {
      xo[n] += w[static_cast<size_t>(n)] * xf[n];
      yo[n] += w[static_cast<size_t>(n)] * yf[n];
    }
    ++k;
  }
  return kept;
}

// One-third octave band envelopes (bands, frames) of the STFT of `signal`.
BandMatrix BandEnvelopes(const std::vector<double>& signal) {
  const auto& w = StoiWindow();
  const auto& bands = ThirdOctaveBands();
  const int64_t frames = NumFrames(static_cast<int64_t>(signal.size()));
  const auto fft = RealFftDouble::Get(kFftSize);
  AlignedVector<double> buffer(kFftSize, 0.0);
  AlignedVector<std::complex<double>> spectrum(kNumBins);
  std::array<double, kNumBins> power{};
  BandMatrix out(kNumBands, frames);
  for (int64_t f = 0; f < frames; ++f) {
    const double* frame = signal.data() + f * kHop;
    for (int n = 0; n < kFrameLength; ++n) buffer[static_cast<size_t>(n)] = w[static_cast<size_t>(n)] * frame[n];
    std::fill(buffer.begin() + kFrameLength, buffer.end(), 0.0);
    fft->Forward(buffer.data(), spectrum.data());
    for (int b = 0; b < kNumBins; ++b) power[static_cast<size_t>(b)] = std::norm(spectrum[static_cast<size_t>(b)]);
    for (int j = 0; j < kNumBands; ++j) {
      const Band& band = bands[static_cast<size_t>(j)];
      double sum = 0.0;
      for (int b = band.lo; b < band.hi; ++b) sum += power[static_cast<size_t>(b)];
      out(j, f) = std::sqrt(sum);
    }
  }
  return out;
}

// Classic STOI of one band segment pair (rows of length kSegmentFrames):
// the clipped correlation summed over bands.
double StoiSegmentSum(const Segment& x, const Segment& y) {
  const double clip = std::pow(10.0, -kBetaDb / 20.0);
  double total = 0.0;
  for (int j = 0; j < kNumBands; ++j) {
    const Eigen::Matrix<double, 1, kSegmentFrames> xr = x.row(j);
    const double alpha = xr.norm() / (y.row(j).norm() + kEps);
    Eigen::Matrix<double, 1, kSegmentFrames> yr = (alpha * y.row(j)).cwiseMin((1.0 + clip) * xr);
    Eigen::Matrix<double, 1, kSegmentFrames> xc = xr.array() - xr.mean();
    yr.array() -= yr.mean();
    xc /= xc.norm() + kEps;
    yr /= yr.norm() + kEps;
    total += xc.dot(yr);
  }
  return total;
}

// ESTOI normalisation: zero mean, unit norm along rows, then along columns.
Segment RowColumnNormalise(Segment m) {
  for (int j = 0; j < kNumBands; ++j) {
    m.row(j).array() -= m.row(j).mean();
    m.row(j) /= m.row(j).norm() + kEps;
  }
  for (int t = 0; t < kSegmentFrames; ++t) {
    m.col(t).array() -= m.col(t).mean();
    m.col(t) /= m.col(t).norm() + kEps;
  }
  return m;
}

// pystoi's resample_oct: scipy.signal.resample_poly(x, up, down) with the
// Octave-compatible Kaiser-windowed sinc (60 dB rejection, transition width a
// tenth of the cutoff), normalised to unit sum, in float64. Output sample n
// sits at input time n * down / up: y[n] = up * sum_m x[m] h[L + n*down - m*up].
std::vector<double> ResamplePolyOctave(std::span<const double> x, int64_t up, int64_t down) {
  const int64_t g = std::gcd(up, down);
  up /= g;
  down /= g;
  const double rejection_db = 60.0;
  const double cutoff = 1.0 / (2.0 * static_cast<double>(std::max(up, down)));
  const double roll_off = cutoff / 10.0;
  const int64_t half = static_cast<int64_t>(std::ceil((rejection_db - 8.0) / (28.714 * roll_off)));
  const double beta = 0.1102 * (rejection_db - 8.7);
  const int64_t taps = 2 * half + 1;
  std::vector<double> h(static_cast<size_t>(taps));
  double sum = 0.0;
  const double i0_beta = std::cyl_bessel_i(0.0, beta);
  for (int64_t i = 0; i < taps; ++i) {
    const double t = static_cast<double>(i - half);
    const double arg = 2.0 * cutoff * t;
    const double sinc = arg == 0.0 ? 1.0 : std::sin(M_PI * arg) / (M_PI * arg);
    const double r = 2.0 * static_cast<double>(i) / static_cast<double>(taps - 1) - 1.0;
    const double kaiser = std::cyl_bessel_i(0.0, beta * std::sqrt(std::max(0.0, 1.0 - r * r))) / i0_beta;
    h[static_cast<size_t>(i)] = kaiser * 2.0 * static_cast<double>(up) * cutoff * sinc;
    sum += h[static_cast<size_t>(i)];
  }
  for (double& v : h) v = v / sum * static_cast<double>(up);
  const int64_t n_in = static_cast<int64_t>(x.size());
  const int64_t n_out = (n_in * up + down - 1) / down;
  std::vector<double> y(static_cast<size_t>(n_out), 0.0);
  for (int64_t n = 0; n < n_out; ++n) {
    // Taps k = half + n*down - m*up in [0, taps): m in [ceil((n*down - half)/up), floor((n*down + half)/up)].
    const int64_t centre = n * down;
    const int64_t m_lo = centre - half <= 0 ? 0 : (centre - half + up - 1) / up;
    const int64_t m_hi = std::min(n_in - 1, (centre + half) / up);
    double acc = 0.0;
    for (int64_t m = m_lo; m <= m_hi; ++m) {
      acc += x[static_cast<size_t>(m)] * h[static_cast<size_t>(half + centre - m * up)];
    }
    y[static_cast<size_t>(n)] = acc;
  }
  return y;
}

absl::StatusOr<std::vector<double>> To10k(std::span<const double> samples, double sample_rate,
                                          StoiResampler resampler) {
  if (sample_rate == kStoiSampleRate) return std::vector<double>(samples.begin(), samples.end());
  if (resampler == StoiResampler::kPystoi) {
    return ResamplePolyOctave(samples, static_cast<int64_t>(kStoiSampleRate), static_cast<int64_t>(sample_rate));
  }
  std::vector<float> f(samples.begin(), samples.end());
  auto resampled = Resample(f, sample_rate, kStoiSampleRate);
  if (!resampled.ok()) return resampled.status();
  return std::vector<double>(resampled->begin(), resampled->end());
}

// Taps of pystoi's resampling filter between `sample_rate` and 10 kHz.
int64_t PystoiFilterTaps(int64_t sample_rate) {
  const int64_t g = std::gcd(sample_rate, static_cast<int64_t>(kStoiSampleRate));
  const double max_factor = static_cast<double>(std::max(sample_rate, static_cast<int64_t>(kStoiSampleRate)) / g);
  const double roll_off = 1.0 / (2.0 * max_factor) / 10.0;
  return 2 * static_cast<int64_t>(std::ceil((60.0 - 8.0) / (28.714 * roll_off))) + 1;
}

absl::Status CheckSignal(std::string_view field, std::span<const double> samples) {
  if (samples.empty()) return InvalidField(field, "is empty");
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!std::isfinite(samples[i])) {
      const std::string element = absl::StrFormat("%s[%d]", field, i);
      return InvalidField(element, absl::StrFormat("is %v; samples must be finite", samples[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> ComputeStoi(std::span<const double> clean, std::span<const double> degraded,
                                   double sample_rate, const StoiOptions& options) {
  if (auto s = CheckRangeOpenLow("sample_rate", sample_rate, 0.0, kMaxSampleRate); !s.ok()) return s;
  if (auto s = ValidateResampleRatio(sample_rate, kStoiSampleRate); !s.ok()) return WithField(s, "sample_rate");
  if (degraded.size() != clean.size()) {
    return InvalidField("degraded", absl::StrFormat("has %d samples; it must have as many as clean (%d)",
                                                    degraded.size(), clean.size()));
  }
  if (auto s = CheckSignal("clean", clean); !s.ok()) return s;
  if (auto s = CheckSignal("degraded", degraded); !s.ok()) return s;
  const bool pystoi_resampler = options.resampler == StoiResampler::kPystoi && sample_rate != kStoiSampleRate;
  if (pystoi_resampler) {
    if (sample_rate != std::floor(sample_rate)) {
      return InvalidField("sample_rate", absl::StrFormat("must be a whole number of hertz with the pystoi resampler, "
                                                         "got %v (resampler soxr takes any rate)", sample_rate));
    }
    const int64_t taps = PystoiFilterTaps(static_cast<int64_t>(sample_rate));
    if (taps > kStoiMaxPystoiFilterTaps) {
      return InvalidField("sample_rate", absl::StrFormat("%v Hz needs a %d-tap pystoi resampling filter (at most %d); "
                                                         "use resampler soxr",
                                                         sample_rate, taps, kStoiMaxPystoiFilterTaps));
    }
  }
  // Length at 10 kHz before resampling, so a short input fails fast
  // (resample_poly yields ceil(n * 10000 / fs) samples, libsoxr round()).
  const double scaled = static_cast<double>(clean.size()) * kStoiSampleRate / sample_rate;
  const int64_t length_10k = static_cast<int64_t>(pystoi_resampler ? std::ceil(scaled - 1e-9) : std::llround(scaled));
  if (length_10k < kStoiMinSamples10k) {
    return InvalidField("clean", absl::StrFormat("has %d samples (%d at 10 kHz); STOI needs at least %d samples at "
                                                 "10 kHz (%.4f s) for %d frames",
                                                 clean.size(), length_10k, kStoiMinSamples10k,
                                                 static_cast<double>(kStoiMinSamples10k) / kStoiSampleRate,
                                                 kSegmentFrames));
  }
  auto x = To10k(clean, sample_rate, options.resampler);
  if (!x.ok()) return WithField(x.status(), "clean");
  auto y = To10k(degraded, sample_rate, options.resampler);
  if (!y.ok()) return WithField(y.status(), "degraded");

  std::vector<double> x_kept;
  std::vector<double> y_kept;
  const int64_t total_frames = NumFrames(static_cast<int64_t>(x->size()));
  const int64_t kept = RemoveSilentFrames(*x, *y, &x_kept, &y_kept);
  const BandMatrix x_bands = BandEnvelopes(x_kept);
  const BandMatrix y_bands = BandEnvelopes(y_kept);
  const int64_t frames = x_bands.cols();
  if (frames < kSegmentFrames) {
    return InvalidField("clean", absl::StrFormat("has %d of %d frames within %g dB of its loudest, giving %d STFT "
                                                 "frames; STOI needs at least %d",
                                                 kept, total_frames, kDynamicRangeDb, frames, kSegmentFrames));
  }

  const int64_t segments = frames - kSegmentFrames + 1;
  double sum = 0.0;
  for (int64_t m = 0; m < segments; ++m) {
    const Segment xs = x_bands.middleCols<kSegmentFrames>(m);
    const Segment ys = y_bands.middleCols<kSegmentFrames>(m);
    if (options.extended) {
      sum += RowColumnNormalise(xs).cwiseProduct(RowColumnNormalise(ys)).sum() / kSegmentFrames;
    } else {
      sum += StoiSegmentSum(xs, ys);
    }
  }
  const double count = options.extended ? static_cast<double>(segments) : static_cast<double>(segments) * kNumBands;
  return sum / count;
}

absl::StatusOr<double> ComputeStoi(std::span<const float> clean, std::span<const float> degraded, double sample_rate,
                                   const StoiOptions& options) {
  const std::vector<double> x(clean.begin(), clean.end());
  const std::vector<double> y(degraded.begin(), degraded.end());
  return ComputeStoi(std::span<const double>(x), std::span<const double>(y), sample_rate, options);
}

}  // namespace specinv
