// Copyright specinv authors.

#include "specinv/render/render.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/analysis/features.h"
#include "specinv/analysis/mel_filterbank.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/creative/phase_tools.h"
#include "specinv/render/figure.h"

namespace specinv {
namespace {

constexpr double kPi = std::numbers::pi;
// Amplitude floor of the dB views: 1e-5, i.e. -100 dB (librosa amplitude_to_db's amin).
constexpr float kAmplitudeFloor = 1e-5f;
constexpr float kFloorDb = -100.0f;
constexpr int kColorBarColumns = kColorBarGap + kColorBarWidth;
constexpr Rgb8 kColorBarBackground{255, 255, 255};

constexpr const char* kViewNames =
    "magnitude, mel, phase, phase_deinterleaved, phase_fft2, instantaneous_frequency, group_delay";

bool IsPhaseView(RenderView view) {
  return view != RenderView::kMagnitude && view != RenderView::kMel;
}

// Columns and rows the image adds to the heatmap, and how messages name them.
int FrameColumns(const RenderOptions& options) {
  if (options.figure) return kFigureFrameWidth;
  return options.color_bar ? kColorBarColumns : 0;
}
int FrameRows(const RenderOptions& options) { return options.figure ? kFigureFrameHeight : 0; }
std::string FrameNote(const RenderOptions& options, int pixels) {
  if (options.figure) return absl::StrFormat(" minus the %d-pixel figure frame", pixels);
  return options.color_bar ? absl::StrFormat(" minus the %d-pixel colour bar", pixels) : std::string();
}

// Contiguous range of visible rows of the unflipped (bins or mels, frames)
// matrix; row `first` is the lowest visible frequency.
struct RowRange {
  Eigen::Index first = 0;
  Eigen::Index count = 0;
};

// The value grid before resampling: t in [0, 1] per (row, frame), row 0 =
// lowest frequency; optional brightness weights; value range and unit.
struct Field {
  RealMatrix t;
  RealMatrix weight;  // empty when unweighted
  bool cyclic = false;
  double value_min = 0.0;
  double value_max = 0.0;
  std::string unit;
};

// The data a view is drawn from; only what the view needs is set.
struct Parts {
  const RealMatrix* magnitude = nullptr;  // |X|, (bins, frames)
  const RealMatrix* phase = nullptr;      // angle(X), (bins, frames)
  const RealMatrix* mel = nullptr;        // W |X|^power, (n_mels, frames)
};

absl::Status CheckFrequencyOptions(const FeatureConfig& config, const RenderOptions& options, double* fmin,
                                   double* fmax) {
  const double nyquist = config.sample_rate / 2.0;
  *fmin = options.fmin_hertz.value_or(0.0);
  *fmax = options.fmax_hertz.value_or(nyquist);
  if (!std::isfinite(*fmin) || *fmin < 0.0 || *fmin >= nyquist) {
    return InvalidField("fmin_hertz", absl::StrFormat("must be in [0, %g) (sample_rate / 2), got %g", nyquist, *fmin));
  }
  if (!std::isfinite(*fmax) || *fmax <= *fmin || *fmax > nyquist) {
    return InvalidField("fmax_hertz", absl::StrFormat("must be in (fmin_hertz = %g, %g] (sample_rate / 2), got %g",
                                                      *fmin, nyquist, *fmax));
  }
  return absl::OkStatus();
}

// STFT bins k with fmin <= k sr / n_fft <= fmax.
absl::StatusOr<RowRange> VisibleBins(const FeatureConfig& config, const RenderOptions& options) {
  double fmin = 0.0, fmax = 0.0;
  if (auto s = CheckFrequencyOptions(config, options, &fmin, &fmax); !s.ok()) return s;
  const int n_fft = config.stft.n_fft;
  const double bin_hz = config.sample_rate / n_fft;
  const auto first = static_cast<Eigen::Index>(std::ceil(fmin / bin_hz - 1e-9));
  const auto last =
      std::min<Eigen::Index>(n_fft / 2, static_cast<Eigen::Index>(std::floor(fmax / bin_hz + 1e-9)));
  if (last < first) {
    return InvalidField(
        "fmin_hertz",
        absl::StrFormat(
            "and fmax_hertz select [%g, %g] Hz, which contains no STFT bin; bins are %g Hz apart (n_fft %d)", fmin,
            fmax, bin_hz, n_fft));
  }
  return RowRange{first, last - first + 1};
}

// Mel bands whose centre frequency lies in [fmin, fmax].
absl::StatusOr<RowRange> VisibleMelBands(const FeatureConfig& config, const RenderOptions& options) {
  double fmin = 0.0, fmax = 0.0;
  if (auto s = CheckFrequencyOptions(config, options, &fmin, &fmax); !s.ok()) return s;
  const MelOptions mel = config.mel_options();
  const double mel_lo = HzToMel(mel.fmin, mel.scale);
  const double mel_hi = HzToMel(mel.effective_fmax(), mel.scale);
  Eigen::Index first = -1, last = -2;
  for (int m = 0; m < mel.n_mels; ++m) {
    const double centre = MelToHz(mel_lo + (mel_hi - mel_lo) * (m + 1) / (mel.n_mels + 1), mel.scale);
    if (centre >= fmin - 1e-9 && centre <= fmax + 1e-9) {
      if (first < 0) first = m;
      last = m;
    }
  }
  if (first < 0) {
    return InvalidField(
        "fmin_hertz",
        absl::StrFormat(
            "and fmax_hertz select [%g, %g] Hz, which contains no mel band centre (the %d bands are centred "
            "between %g and %g Hz)",
            fmin, fmax, mel.n_mels, MelToHz(mel_lo + (mel_hi - mel_lo) / (mel.n_mels + 1), mel.scale),
            MelToHz(mel_lo + (mel_hi - mel_lo) * mel.n_mels / (mel.n_mels + 1), mel.scale)));
  }
  return RowRange{first, last - first + 1};
}

absl::StatusOr<RowRange> VisibleRows(const FeatureConfig& config, const RenderOptions& options) {
  return options.view == RenderView::kMel ? VisibleMelBands(config, options) : VisibleBins(config, options);
}

// Plot size in pixels for `rows` x `frames` values; errors when width or
// height 0 would exceed the limit.
absl::StatusOr<std::pair<int, int>> PlotSize(Eigen::Index rows, Eigen::Index frames,
                                             const RenderOptions& options) {
  const int max_width = options.max_dimension - FrameColumns(options);
  const int max_height = options.max_dimension - FrameRows(options);
  int width = options.width;
  int height = options.height;
  if (width == 0) {
    if (frames > max_width) {
      return InvalidField(
          "width",
          absl::StrFormat("is 0 (one column per frame) but there are %d frames, more than the %d columns allowed "
                          "(max_dimension %d%s); set width to at most %d to resample",
                          frames, max_width, options.max_dimension, FrameNote(options, FrameColumns(options)),
                          max_width));
    }
    width = static_cast<int>(frames);
  }
  if (height == 0) {
    if (rows > max_height) {
      const std::string limit =
          options.figure ? absl::StrFormat("the %d rows allowed (max_dimension %d%s)", max_height,
                                           options.max_dimension, FrameNote(options, FrameRows(options)))
                         : absl::StrFormat("max_dimension %d", options.max_dimension);
      return InvalidField(
          "height",
          absl::StrFormat("is 0 (one row per %s) but %d rows are visible, more than %s; set height to "
                          "at most %d to resample, or narrow the range fmin_hertz to fmax_hertz",
                          options.view == RenderView::kMel ? "mel band" : "bin", rows, limit, max_height));
    }
    height = static_cast<int>(rows);
  }
  return std::make_pair(width, height);
}

// dB values -> t in [0, 1] over [max - top_db, max]. Values at the floor,
// and everything when the view has no dynamic range, map to 0.
RealMatrix DbToUnit(const RealMatrix& db, double top_db, double* lo, double* hi) {
  const float max_db = db.maxCoeff();
  const float min_db = db.minCoeff();
  *hi = max_db;
  *lo = static_cast<double>(max_db) - top_db;
  RealMatrix t(db.rows(), db.cols());
  if (max_db == min_db) {
    t.setZero();
    return t;
  }
  const auto lo_f = static_cast<float>(*lo);
  const auto range = static_cast<float>(top_db);
  for (Eigen::Index i = 0; i < db.size(); ++i) {
    const float v = db.data()[i];
    t.data()[i] = v <= kFloorDb ? 0.0f : std::clamp((v - lo_f) / range, 0.0f, 1.0f);
  }
  return t;
}

RealMatrix AmplitudeDb(const RealMatrix& amplitude) {
  return amplitude.unaryExpr([](float a) { return 20.0f * std::log10(std::max(a, kAmplitudeFloor)); });
}

// (20 / power) log10(max(mel, 1e-5^power)): dB of the amplitude the mel represents.
RealMatrix MelDb(const RealMatrix& mel, double power) {
  const auto floor = static_cast<float>(std::pow(1e-5, power));
  const auto scale = static_cast<float>(20.0 / power);
  return mel.unaryExpr([floor, scale](float v) { return scale * std::log10(std::max(v, floor)); });
}

// Brightness weights of the visible bins (magnitude's position in its dB range).
RealMatrix MagnitudeWeight(const RealMatrix& magnitude, const RowRange& rows, double top_db) {
  double lo = 0.0, hi = 0.0;
  return DbToUnit(AmplitudeDb(magnitude.middleRows(rows.first, rows.count)), top_db, &lo, &hi);
}

RealMatrix SymmetricToUnit(const RealMatrix& values, double range) {
  const auto r = static_cast<float>(range);
  return values.unaryExpr([r](float v) { return std::clamp((v + r) / (2.0f * r), 0.0f, 1.0f); });
}

absl::StatusOr<Field> BuildField(const Parts& parts, const FeatureConfig& config, const RowRange& rows,
                                 const RenderOptions& options) {
  Field field;
  const bool weighted = options.weight_by_magnitude;
  switch (options.view) {
    case RenderView::kMagnitude: {
      field.t = DbToUnit(AmplitudeDb(parts.magnitude->middleRows(rows.first, rows.count)), options.top_db,
                         &field.value_min, &field.value_max);
      field.unit = "dB";
      break;
    }
    case RenderView::kMel: {
      field.t = DbToUnit(MelDb(parts.mel->middleRows(rows.first, rows.count), config.power), options.top_db,
                         &field.value_min, &field.value_max);
      field.unit = "dB";
      break;
    }
    case RenderView::kPhase:
    case RenderView::kPhaseDeinterleaved: {
      const float pi = static_cast<float>(kPi);
      field.t = parts.phase->middleRows(rows.first, rows.count).unaryExpr([pi](float a) {
        return std::clamp((a + pi) / (2.0f * pi), 0.0f, 1.0f);
      });
      if (weighted) field.weight = MagnitudeWeight(*parts.magnitude, rows, options.top_db);
      if (options.view == RenderView::kPhaseDeinterleaved) {
        field.t = DeinterleaveRows(field.t);
        if (weighted) field.weight = DeinterleaveRows(field.weight);
      }
      field.cyclic = true;
      field.value_min = -kPi;
      field.value_max = kPi;
      field.unit = "rad";
      break;
    }
    case RenderView::kPhaseFft2: {
      const RealMatrix phase = parts.phase->middleRows(rows.first, rows.count);
      RealMatrix w;
      if (weighted) w = MagnitudeWeight(*parts.magnitude, rows, options.top_db);
      ComplexMatrix phasors(phase.rows(), phase.cols());
      for (Eigen::Index i = 0; i < phase.size(); ++i) {
        phasors.data()[i] = std::polar(weighted ? w.data()[i] : 1.0f, phase.data()[i]);
      }
      const RealMatrix spectrum = FftShift(Fft2(phasors).cwiseAbs());
      field.t = DbToUnit(AmplitudeDb(spectrum), options.top_db, &field.value_min, &field.value_max);
      field.unit = "dB";
      break;
    }
    case RenderView::kInstantaneousFrequency: {
      auto dev = InstantaneousFrequencyDeviation(*parts.phase, config.stft.n_fft, config.stft.hop_length,
                                                 config.sample_rate);
      if (!dev.ok()) return dev.status();
      const double range = config.sample_rate / (2.0 * config.stft.hop_length);
      field.t = SymmetricToUnit(dev->middleRows(rows.first, rows.count), range);
      if (weighted) field.weight = MagnitudeWeight(*parts.magnitude, rows, options.top_db);
      field.value_min = -range;
      field.value_max = range;
      field.unit = "Hz";
      break;
    }
    case RenderView::kGroupDelay: {
      auto delay = GroupDelay(*parts.phase, config.stft.n_fft, config.sample_rate);
      if (!delay.ok()) return delay.status();
      const double range = config.stft.n_fft / (2.0 * config.sample_rate);
      field.t = SymmetricToUnit(delay->middleRows(rows.first, rows.count), range);
      if (weighted) field.weight = MagnitudeWeight(*parts.magnitude, rows, options.top_db);
      field.value_min = -range;
      field.value_max = range;
      field.unit = "s";
      break;
    }
  }
  return field;
}

// Source sample positions for `out` pixels over `in` values (pixel centres
// aligned, edges clamped).
struct Taps {
  std::vector<Eigen::Index> i0, i1;
  std::vector<float> frac;
};

Taps MakeTaps(Eigen::Index in, int out, Interpolation interpolation) {
  Taps taps;
  taps.i0.resize(static_cast<size_t>(out));
  taps.i1.resize(static_cast<size_t>(out));
  taps.frac.resize(static_cast<size_t>(out));
  const double scale = static_cast<double>(in) / out;
  for (int o = 0; o < out; ++o) {
    const auto idx = static_cast<size_t>(o);
    if (interpolation == Interpolation::kNearest) {
      const auto i = std::min<Eigen::Index>(in - 1, static_cast<Eigen::Index>((o + 0.5) * scale));
      taps.i0[idx] = taps.i1[idx] = i;
      taps.frac[idx] = 0.0f;
    } else {
      const double s = std::clamp((o + 0.5) * scale - 0.5, 0.0, static_cast<double>(in - 1));
      const auto i = static_cast<Eigen::Index>(s);
      taps.i0[idx] = i;
      taps.i1[idx] = std::min<Eigen::Index>(in - 1, i + 1);
      taps.frac[idx] = static_cast<float>(s - static_cast<double>(i));
    }
  }
  return taps;
}

float Sample(const RealMatrix& m, Eigen::Index r0, Eigen::Index r1, float fr, Eigen::Index c0, Eigen::Index c1,
             float fc) {
  const float top = m(r0, c0) + (m(r0, c1) - m(r0, c0)) * fc;
  const float bottom = m(r1, c0) + (m(r1, c1) - m(r1, c0)) * fc;
  return top + (bottom - top) * fr;
}

uint8_t Scale(uint8_t channel, float w) {
  return static_cast<uint8_t>(std::lround(static_cast<float>(channel) * std::clamp(w, 0.0f, 1.0f)));
}

// Polls `check` (when set) before every kPaintRowsPerCheck image rows.
constexpr int kPaintRowsPerCheck = 64;

absl::StatusOr<Image> Paint(const Field& field, int width, int height, Interpolation interpolation, Colormap map,
                            bool color_bar, const std::function<absl::Status()>& check) {
  const Eigen::Index rows = field.t.rows();
  const Eigen::Index cols = field.t.cols();
  const int total_width = width + (color_bar ? kColorBarColumns : 0);
  Image image = Image::Filled(total_width, height, kColorBarBackground);
  // Taps over display rows (top = last field row) and columns.
  const Taps row_taps = MakeTaps(rows, height, interpolation);
  const Taps col_taps = MakeTaps(cols, width, interpolation);
  const bool weighted = field.weight.size() > 0;
  // Angles are interpolated as unit vectors.
  RealMatrix cos_t, sin_t;
  if (field.cyclic && interpolation == Interpolation::kBilinear) {
    const auto two_pi = static_cast<float>(2.0 * kPi);
    cos_t = field.t.unaryExpr([two_pi](float t) { return std::cos(two_pi * t); });
    sin_t = field.t.unaryExpr([two_pi](float t) { return std::sin(two_pi * t); });
  }
  for (int y = 0; y < height; ++y) {
    if (check && y % kPaintRowsPerCheck == 0) {
      if (absl::Status s = check(); !s.ok()) return s;
    }
    const auto yi = static_cast<size_t>(y);
    const Eigen::Index r0 = rows - 1 - row_taps.i0[yi];
    const Eigen::Index r1 = rows - 1 - row_taps.i1[yi];
    const float fr = row_taps.frac[yi];
    for (int x = 0; x < width; ++x) {
      const auto xi = static_cast<size_t>(x);
      const Eigen::Index c0 = col_taps.i0[xi];
      const Eigen::Index c1 = col_taps.i1[xi];
      const float fc = col_taps.frac[xi];
      float t = 0.0f;
      if (cos_t.size() > 0) {
        const float c = Sample(cos_t, r0, r1, fr, c0, c1, fc);
        const float s = Sample(sin_t, r0, r1, fr, c0, c1, fc);
        t = std::atan2(s, c) / static_cast<float>(2.0 * kPi);
        if (t < 0.0f) t += 1.0f;
      } else {
        t = Sample(field.t, r0, r1, fr, c0, c1, fc);
      }
      Rgb8 colour = MapColor(map, t);
      if (weighted) {
        const float w = Sample(field.weight, r0, r1, fr, c0, c1, fc);
        colour = Rgb8{Scale(colour.r, w), Scale(colour.g, w), Scale(colour.b, w)};
      }
      image.set(x, y, colour);
    }
  }
  if (color_bar) {
    for (int y = 0; y < height; ++y) {
      const Rgb8 colour = MapColor(map, 1.0f - (static_cast<float>(y) + 0.5f) / static_cast<float>(height));
      for (int x = width + kColorBarGap; x < total_width; ++x) image.set(x, y, colour);
    }
  }
  return image;
}

// Samples from the start of the signal to the centre of frame 0.
double FrameZeroCentre(const FeatureConfig& config) {
  const int n_fft = config.stft.n_fft;
  if (config.framing == Framing::kHifiGanReflect) {
    return n_fft / 2.0 - static_cast<double>((n_fft - config.stft.hop_length) / 2);
  }
  return config.stft.center ? 0.0 : n_fft / 2.0;
}

// Axis over n fftshift-ed DFT bins: index i is (i - floor(n / 2)) / n cycles.
Axis CyclesAxis(Eigen::Index n) {
  const double half = static_cast<double>(n / 2);
  const auto count = static_cast<double>(n);
  return Axis{.start = (-0.5 - half) / count, .end = (count - 0.5 - half) / count};
}

std::string_view ViewTitle(RenderView view) {
  switch (view) {
    case RenderView::kMagnitude: return "Magnitude spectrogram";
    case RenderView::kMel: return "Mel spectrogram";
    case RenderView::kPhase: return "Phase";
    case RenderView::kPhaseDeinterleaved: return "Deinterleaved phase";
    case RenderView::kPhaseFft2: return "2-D FFT of the phase";
    case RenderView::kInstantaneousFrequency: return "Instantaneous frequency deviation";
    case RenderView::kGroupDelay: return "Group delay";
  }
  return "";
}

// Title, axes and colour bar of the figure of a (rows, frames) view.
FigureSpec DescribeFigure(const FeatureConfig& config, const RenderOptions& options, const RowRange& rows,
                          Eigen::Index frames, const Field& field, Colormap colormap) {
  FigureSpec spec;
  spec.colormap = colormap;
  const double sr = config.sample_rate;
  const int n_fft = config.stft.n_fft;
  const int hop = config.stft.hop_length;
  spec.title = absl::StrFormat(
      "%s%s (%s%g Hz, n_fft %d, hop %d)", ViewTitle(options.view),
      options.weight_by_magnitude ? ", weighted by magnitude" : "",
      options.view == RenderView::kMel ? absl::StrFormat("%d mel bands, ", config.n_mels) : std::string(), sr, n_fft,
      hop);

  if (options.view == RenderView::kPhaseFft2) {
    spec.x_axis = CyclesAxis(frames);
    spec.x_label = "Cycles per frame";
    spec.y_axis = CyclesAxis(rows.count);
    spec.y_label = "Cycles per bin";
  } else {
    const double offset = FrameZeroCentre(config);
    spec.x_axis = Axis{.start = (-0.5 * hop + offset) / sr,
                       .end = ((static_cast<double>(frames) - 0.5) * hop + offset) / sr};
    spec.x_label = "Time (s)";
    const auto first = static_cast<double>(rows.first);
    const auto count = static_cast<double>(rows.count);
    switch (options.view) {
      case RenderView::kMel: {
        const MelOptions mel = config.mel_options();
        const double mel_lo = HzToMel(mel.fmin, mel.scale);
        const double step = (HzToMel(mel.effective_fmax(), mel.scale) - mel_lo) / (mel.n_mels + 1);
        // Band m is centred at mel_lo + (m + 1) step.
        spec.y_axis = Axis{.scale = AxisScale::kMel,
                           .mel_scale = mel.scale,
                           .start = MelToHz(mel_lo + (first + 0.5) * step, mel.scale),
                           .end = MelToHz(mel_lo + (first + count + 0.5) * step, mel.scale)};
        spec.y_label = "Frequency (Hz, mel scale)";
        break;
      }
      case RenderView::kPhase:
        spec.y_axis = Axis{.start = first - 0.5, .end = first + count - 0.5};
        spec.y_label = "Frequency bin";
        break;
      case RenderView::kPhaseDeinterleaved:
        spec.y_axis = Axis{.start = -0.5, .end = count - 0.5};
        spec.y_label = rows.first % 2 == 0 ? "Row (even bins, then odd)" : "Row (odd bins, then even)";
        break;
      default: {
        const double bin_hz = sr / n_fft;
        spec.y_axis = Axis{.start = (first - 0.5) * bin_hz, .end = (first + count - 0.5) * bin_hz};
        spec.y_label = "Frequency (Hz)";
        break;
      }
    }
  }

  spec.color_axis = Axis{.scale = field.unit == "rad" ? AxisScale::kAngle : AxisScale::kLinear,
                         .start = field.value_min,
                         .end = field.value_max};
  switch (options.view) {
    case RenderView::kPhase:
    case RenderView::kPhaseDeinterleaved: spec.color_label = "Phase (rad)"; break;
    case RenderView::kInstantaneousFrequency: spec.color_label = "Deviation (Hz)"; break;
    case RenderView::kGroupDelay: spec.color_label = "Group delay (s)"; break;
    default: spec.color_label = "Level (dB)"; break;
  }
  return spec;
}

absl::StatusOr<Rendering> RenderParts(const Parts& parts, Eigen::Index frames, const FeatureConfig& config,
                                      const RenderOptions& options) {
  auto rows = VisibleRows(config, options);
  if (!rows.ok()) return rows.status();
  auto size = PlotSize(rows->count, frames, options);
  if (!size.ok()) return size.status();
  if (options.check) {
    if (absl::Status s = options.check(); !s.ok()) return s;
  }
  auto field = BuildField(parts, config, *rows, options);
  if (!field.ok()) return field.status();
  Rendering out;
  out.colormap = options.colormap.value_or(DefaultColormap(options.view));
  out.plot_width = size->first;
  out.plot_height = size->second;
  auto image = Paint(*field, size->first, size->second, options.interpolation, out.colormap,
                     options.color_bar && !options.figure, options.check);
  if (!image.ok()) return image.status();
  if (options.figure) {
    const FigureSpec spec = DescribeFigure(config, options, *rows, frames, *field, out.colormap);
    auto figure = ComposeFigure(*image, spec);
    if (!figure.ok()) return figure.status();
    image = *std::move(figure);
    const FigureLayout layout = ComputeFigureLayout(size->first, size->second);
    out.plot_x = layout.plot.x;
    out.plot_y = layout.plot.y;
    out.figure = spec;
  }
  out.image = *std::move(image);
  out.value_min = field->value_min;
  out.value_max = field->value_max;
  out.value_unit = field->unit;
  return out;
}

absl::Status ValidateAll(const FeatureConfig& config, const RenderOptions& options) {
  if (auto s = ValidateRenderOptions(options); !s.ok()) return s;
  return ValidateFeatureConfig(config);
}

RealMatrix Abs(const ComplexMatrix& stft) { return stft.cwiseAbs(); }

absl::StatusOr<Rendering> RenderComplex(const FeatureExtractor& extractor, const ComplexMatrix& stft,
                                        const RenderOptions& options) {
  const FeatureConfig& config = extractor.config();
  const Eigen::Index bins = config.stft.n_fft / 2 + 1;
  if (stft.rows() != bins || stft.cols() < 1) {
    return InvalidField("stft", absl::StrFormat("must have shape (n_fft/2+1 = %d, frames >= 1), got (%d, %d)", bins,
                                                stft.rows(), stft.cols()));
  }
  for (Eigen::Index i = 0; i < stft.size(); ++i) {
    const std::complex<float> v = stft.data()[i];
    if (!std::isfinite(v.real()) || !std::isfinite(v.imag())) {
      return InvalidField(absl::StrCat("stft[", i, "]"), "is not finite; all values must be finite");
    }
  }
  // Size errors before any heavy work.
  auto rows = VisibleRows(config, options);
  if (!rows.ok()) return rows.status();
  if (auto size = PlotSize(rows->count, stft.cols(), options); !size.ok()) return size.status();

  RealMatrix magnitude, phase, mel;
  Parts parts;
  if (!IsPhaseView(options.view) || options.weight_by_magnitude) {
    magnitude = Abs(stft);
    parts.magnitude = &magnitude;
  }
  if (IsPhaseView(options.view)) {
    phase = PhaseAngle(stft);
    parts.phase = &phase;
  }
  if (options.view == RenderView::kMel) {
    mel = extractor.MagnitudeToMel(magnitude);
    parts.mel = &mel;
  }
  return RenderParts(parts, stft.cols(), config, options);
}

}  // namespace

absl::StatusOr<RenderView> ParseRenderView(std::string_view name) {
  if (name == "magnitude") return RenderView::kMagnitude;
  if (name == "mel") return RenderView::kMel;
  if (name == "phase") return RenderView::kPhase;
  if (name == "phase_deinterleaved") return RenderView::kPhaseDeinterleaved;
  if (name == "phase_fft2") return RenderView::kPhaseFft2;
  if (name == "instantaneous_frequency") return RenderView::kInstantaneousFrequency;
  if (name == "group_delay") return RenderView::kGroupDelay;
  return InvalidField("view", absl::StrFormat("must be one of %s; got \"%s\"", kViewNames, name));
}

std::string_view RenderViewName(RenderView view) {
  switch (view) {
    case RenderView::kMagnitude: return "magnitude";
    case RenderView::kMel: return "mel";
    case RenderView::kPhase: return "phase";
    case RenderView::kPhaseDeinterleaved: return "phase_deinterleaved";
    case RenderView::kPhaseFft2: return "phase_fft2";
    case RenderView::kInstantaneousFrequency: return "instantaneous_frequency";
    case RenderView::kGroupDelay: return "group_delay";
  }
  return "unknown";
}

Colormap DefaultColormap(RenderView view) {
  switch (view) {
    case RenderView::kPhase:
    case RenderView::kPhaseDeinterleaved:
      return Colormap::kHue;
    case RenderView::kInstantaneousFrequency:
    case RenderView::kGroupDelay:
      return Colormap::kRedBlue;
    case RenderView::kMagnitude:
    case RenderView::kMel:
    case RenderView::kPhaseFft2:
      break;
  }
  return Colormap::kViridis;
}

absl::StatusOr<Interpolation> ParseInterpolation(std::string_view name) {
  if (name == "nearest") return Interpolation::kNearest;
  if (name == "bilinear") return Interpolation::kBilinear;
  return InvalidField("interpolation", absl::StrFormat("must be one of nearest, bilinear; got \"%s\"", name));
}

std::string_view InterpolationName(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::kNearest: return "nearest";
    case Interpolation::kBilinear: return "bilinear";
  }
  return "unknown";
}

std::string_view RenderTensorKindName(RenderTensorKind kind) {
  switch (kind) {
    case RenderTensorKind::kStftMagnitude: return "stft_magnitude";
    case RenderTensorKind::kPhase: return "phase";
    case RenderTensorKind::kMel: return "mel";
    case RenderTensorKind::kLogMel: return "log_mel";
  }
  return "unknown";
}

absl::Status ValidateRenderOptions(const RenderOptions& options) {
  if (RenderViewName(options.view) == "unknown") {
    return InvalidField(
        "view", absl::StrFormat("must be one of %s; got enum value %d", kViewNames, static_cast<int>(options.view)));
  }
  if (options.colormap.has_value()) {
    if (auto s = ValidateColormap(*options.colormap); !s.ok()) return s;
  }
  if (InterpolationName(options.interpolation) == "unknown") {
    return InvalidField("interpolation", absl::StrFormat("must be one of nearest, bilinear; got enum value %d",
                                                         static_cast<int>(options.interpolation)));
  }
  const int frame_columns = FrameColumns(options);
  const int frame_rows = FrameRows(options);
  if (auto s = CheckRange("max_dimension", options.max_dimension, std::max(frame_columns, frame_rows) + 1,
                          kMaxPngDimension);
      !s.ok()) {
    return s;
  }
  // The heatmap's sides: what max_dimension leaves after the frame.
  auto check_side = [&options](const char* field, int value, int frame) -> absl::Status {
    const int max_side = options.max_dimension - frame;
    if (value >= 0 && value <= max_side) return absl::OkStatus();
    return InvalidField(field, absl::StrFormat("must be in [0, %d]%s, got %d", max_side,
                                               frame > 0 ? absl::StrFormat(" (max_dimension %d%s)",
                                                                           options.max_dimension,
                                                                           FrameNote(options, frame))
                                                         : std::string(),
                                               value));
  };
  if (auto s = check_side("width", options.width, frame_columns); !s.ok()) return s;
  if (auto s = check_side("height", options.height, frame_rows); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("top_db", options.top_db, 0.0, kMaxTopDb); !s.ok()) return s;
  if (options.weight_by_magnitude && !IsPhaseView(options.view)) {
    return InvalidField("weight_by_magnitude",
                        absl::StrFormat("applies to the phase views (phase, phase_deinterleaved, phase_fft2, "
                                        "instantaneous_frequency, group_delay), not to view %s",
                                        RenderViewName(options.view)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Rendering> RenderSpectrogram(std::span<const float> audio, const FeatureConfig& config,
                                            const RenderOptions& options) {
  if (auto s = ValidateAll(config, options); !s.ok()) return s;
  auto extractor = FeatureExtractor::Create(config);
  if (!extractor.ok()) return extractor.status();
  // Size errors before the STFT (when the audio is long enough to have frames;
  // otherwise ComplexSpectrogram reports the short or empty audio).
  const int64_t frames = extractor->NumFrames(static_cast<int64_t>(audio.size()));
  if (frames >= 1) {
    auto rows = VisibleRows(config, options);
    if (!rows.ok()) return rows.status();
    if (auto size = PlotSize(rows->count, frames, options); !size.ok()) return size.status();
  }
  auto stft = extractor->ComplexSpectrogram(audio, options.check);
  if (!stft.ok()) return stft.status();
  return RenderComplex(*extractor, *stft, options);
}

absl::StatusOr<Rendering> RenderSpectrogram(const ComplexMatrix& stft, const FeatureConfig& config,
                                            const RenderOptions& options) {
  if (auto s = ValidateAll(config, options); !s.ok()) return s;
  auto extractor = FeatureExtractor::Create(config);
  if (!extractor.ok()) return extractor.status();
  return RenderComplex(*extractor, stft, options);
}

absl::StatusOr<Rendering> RenderSpectrogram(const RealMatrix& tensor, RenderTensorKind kind,
                                            const FeatureConfig& config, const RenderOptions& options) {
  if (auto s = ValidateAll(config, options); !s.ok()) return s;
  if (RenderTensorKindName(kind) == "unknown") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "spectrogram kind must be one of stft_magnitude, phase, mel, log_mel; got enum value %d",
        static_cast<int>(kind)));
  }
  const std::string_view kind_name = RenderTensorKindName(kind);
  const std::string_view view_name = RenderViewName(options.view);
  const bool is_mel_kind = kind == RenderTensorKind::kMel || kind == RenderTensorKind::kLogMel;
  // Which views each kind can feed.
  if (is_mel_kind && options.view != RenderView::kMel) {
    return InvalidField(
        "view",
        absl::StrFormat("%s needs an STFT; a %s spectrogram only supports view mel (send audio or a complex STFT)",
                        view_name, kind_name));
  }
  if (kind == RenderTensorKind::kStftMagnitude && IsPhaseView(options.view)) {
    return InvalidField(
        "view",
        absl::StrFormat("%s needs the phase, which a stft_magnitude spectrogram lacks (send audio, a complex STFT or "
                        "a phase spectrogram)",
                        view_name));
  }
  if (kind == RenderTensorKind::kPhase && !IsPhaseView(options.view)) {
    return InvalidField(
        "view",
        absl::StrFormat("%s needs magnitudes, which a phase spectrogram lacks (send audio, a complex STFT or an "
                        "stft_magnitude spectrogram)",
                        view_name));
  }
  if (kind == RenderTensorKind::kPhase && options.weight_by_magnitude) {
    return InvalidField("weight_by_magnitude",
                        "needs magnitudes, which a phase spectrogram lacks (send audio or a complex STFT)");
  }
  const Eigen::Index expected_rows = is_mel_kind ? config.n_mels : config.stft.n_fft / 2 + 1;
  if (tensor.rows() != expected_rows || tensor.cols() < 1) {
    return InvalidField("spectrogram", absl::StrFormat(
        "(%s) must have shape (%s = %d, frames >= 1), got (%d, %d)", kind_name,
        is_mel_kind ? "n_mels" : "n_fft/2+1", expected_rows, tensor.rows(), tensor.cols()));
  }
  const std::span<const float> values(tensor.data(), static_cast<size_t>(tensor.size()));
  if (kind == RenderTensorKind::kPhase || kind == RenderTensorKind::kLogMel) {
    if (auto s = CheckFinite("spectrogram", values); !s.ok()) return s;
  } else {
    if (auto s = CheckNonNegativeFinite("spectrogram", values); !s.ok()) return s;
  }
  auto rows = VisibleRows(config, options);
  if (!rows.ok()) return rows.status();
  if (auto size = PlotSize(rows->count, tensor.cols(), options); !size.ok()) return size.status();

  Parts parts;
  RealMatrix derived;
  switch (kind) {
    case RenderTensorKind::kStftMagnitude:
      parts.magnitude = &tensor;
      if (options.view == RenderView::kMel) {
        auto extractor = FeatureExtractor::Create(config);
        if (!extractor.ok()) return extractor.status();
        derived = extractor->MagnitudeToMel(tensor);
        parts.mel = &derived;
      }
      break;
    case RenderTensorKind::kPhase:
      parts.phase = &tensor;
      break;
    case RenderTensorKind::kMel:
      parts.mel = &tensor;
      break;
    case RenderTensorKind::kLogMel: {
      auto extractor = FeatureExtractor::Create(config);
      if (!extractor.ok()) return extractor.status();
      auto mel = extractor->Decompress(tensor);
      if (!mel.ok()) return mel.status();
      derived = *std::move(mel);
      parts.mel = &derived;
      break;
    }
  }
  return RenderParts(parts, tensor.cols(), config, options);
}

}  // namespace specinv
