// Copyright specinv authors.
//
// Spectrogram and phase images: audio, a complex STFT or a real spectrogram
// tensor in, an 8-bit RGB Image out (EncodePng in png_image.h turns it into
// PNG bytes).
//
// Geometry: time runs left to right, one column per frame; frequency runs
// bottom to top, low frequencies at the bottom: image row 0 (the top) is the
// highest visible bin. With width / height 0 the image has one column per
// frame / one row per visible bin; otherwise the (rows, frames) value grid is
// resampled to width x height with pixel centres aligned (source coordinate
// (x + 0.5) * frames / width - 0.5), nearest neighbour or bilinear with edge
// clamping. Angles (phase views) are interpolated on the circle, so a
// bilinear phase image has no seam where -pi meets pi.
//
// Views and the values they map to the colour range [value_min, value_max]:
//
// | view                    | value                                                | unit | default map |
// |-------------------------|------------------------------------------------------|------|-------------|
// | magnitude               | 20 log10(max(|X|, 1e-5))                             | dB   | viridis     |
// | mel                     | (20 / power) log10(max(W |X|^power, 1e-5^power))     | dB   | viridis     |
// | phase                   | angle(X), PhaseAngle (phase_tools.h)                 | rad  | hue         |
// | phase_deinterleaved     | as phase, rows 0, 2, 4, ... then 1, 3, 5, ...        | rad  | hue         |
// | phase_fft2              | 20 log10(max(|fftshift(Fft2(w e^{i phase}))|, 1e-5)) | dB   | viridis     |
// | instantaneous_frequency | InstantaneousFrequencyDeviation (phase_tools.h)      | Hz   | red_blue    |
// | group_delay             | GroupDelay (phase_tools.h)                           | s    | red_blue    |
//
// Colour ranges [value_min, value_max]: dB views [max - top_db, max]; phase
// views [-pi, pi]; instantaneous_frequency [-sr / (2 hop), sr / (2 hop)] (its
// whole unambiguous range); group_delay [-n_fft / (2 sr), n_fft / (2 sr)]
// (half a frame either side of the window centre).
//
// dB views: a value at the 1e-5 (-100 dB) floor, i.e. digital silence, and a
// view with no dynamic range at all (every value equal) are drawn in the
// map's lowest colour. max is taken over the visible bins only. Magnitudes
// are plain |X| (FeatureConfig::magnitude_epsilon is not added, so silence
// stays silent); the mel view applies the config's filterbank and power.
//
// weight_by_magnitude (phase, phase_deinterleaved, instantaneous_frequency,
// group_delay): each pixel's colour is multiplied by w in [0, 1], the
// magnitude's position in its dB range as in the magnitude view, so silence
// is black. phase_fft2 transforms w e^{i phase} instead of e^{i phase}
// (unit phasors, so 2 pi wraps do not add edges). The rows of phase_fft2 are
// cycles per bin, its columns cycles per frame, zero in the middle.
//
// Frequency range: linear views show bins k with fmin <= k sr / n_fft <= fmax;
// the mel view shows bands whose centre frequency lies in [fmin, fmax];
// phase_fft2 transforms the visible bins only.
//
// Figure (the default, `figure`): the heatmap is framed as figure.h says,
// unchanged, at (plot_x, plot_y) of an image kFigureFrameWidth columns wider
// and kFigureFrameHeight rows taller (figure_layout.h): a title naming the
// view and the analysis; a time axis in seconds (phase_fft2: cycles per
// frame); a frequency axis in Hz, linear for magnitude,
// instantaneous_frequency and group_delay and mel-spaced for mel, in bins for
// phase, in rows for phase_deinterleaved (even bins below, odd above) and in
// cycles per bin for phase_fft2; and a colour bar labelled with the value
// range (dB, radians as multiples of pi/2, Hz or s). Axis edges are the
// outer edges of the first and last rows and columns: column c of F frames
// covers frames c - 0.5 .. c + 0.5, frame f centred at f * hop plus the
// framing's offset (0 when centred, n_fft / 2 without centring,
// n_fft / 2 - (n_fft - hop) / 2 for the HiFi-GAN framing) samples.
// `width`, `height` and `color_bar` size the heatmap alone: the figure always
// has its own colour bar, so color_bar only applies to bare images.
//
// Bare colour bar (figure = false, color_bar): kColorBarGap white columns
// and kColorBarWidth columns of the map (lowest colour at the bottom) are
// appended on the right, so the image is width + 20 pixels wide.
//
// All functions are pure and thread-safe.

#ifndef SPECINV_RENDER_H_
#define SPECINV_RENDER_H_

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/render/colormap.h"
#include "specinv/render/figure.h"
#include "specinv/render/figure_layout.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/render/png_image.h"
#include "specinv/base/types.h"

namespace specinv {

enum class RenderView {
  kMagnitude,
  kMel,
  kPhase,
  kPhaseDeinterleaved,
  kPhaseFft2,
  kInstantaneousFrequency,
  kGroupDelay,
};
// "magnitude", "mel", "phase", "phase_deinterleaved", "phase_fft2",
// "instantaneous_frequency", "group_delay".
absl::StatusOr<RenderView> ParseRenderView(std::string_view name);
std::string_view RenderViewName(RenderView view);
// viridis for magnitude, mel and phase_fft2; hue for phase views; red_blue
// for instantaneous_frequency and group_delay.
Colormap DefaultColormap(RenderView view);

enum class Interpolation {
  kNearest,
  kBilinear,
};
absl::StatusOr<Interpolation> ParseInterpolation(std::string_view name);  // "nearest", "bilinear"
std::string_view InterpolationName(Interpolation interpolation);

inline constexpr int kDefaultMaxRenderDimension = 8192;
inline constexpr int kColorBarGap = 4;
inline constexpr int kColorBarWidth = 16;
inline constexpr double kMaxTopDb = 1000.0;

struct RenderOptions {
  RenderView view = RenderView::kMagnitude;
  std::optional<Colormap> colormap;        // unset: DefaultColormap(view)
  int width = 0;                           // heatmap pixels, [0, max_dimension - frame]; 0 = one column per frame
  int height = 0;                          // heatmap pixels, [0, max_dimension - frame]; 0 = one row per visible bin
  Interpolation interpolation = Interpolation::kNearest;
  std::optional<double> fmin_hertz;        // [0, sr/2), unset = 0
  std::optional<double> fmax_hertz;        // (fmin, sr/2], unset = sr/2
  double top_db = 80.0;                    // dB range of dB views, (0, 1000]
  bool weight_by_magnitude = false;        // phase views: darken quiet bins
  bool color_bar = false;                  // bare image: append a colour bar on the right
  bool figure = true;                      // frame with title, axes and a labelled colour bar; false = bare heatmap
  // Limit on the final image's width and height, [1, 65535]; at least 21 with
  // the bare colour bar, kFigureFrameWidth + 1 for a figure. "frame" above is
  // what the image adds to the heatmap: kFigureFrameWidth columns and
  // kFigureFrameHeight rows for a figure, the 20 colour-bar columns when bare.
  int max_dimension = kDefaultMaxRenderDimension;
  // Polled during the STFT analysis of audio (every few milliseconds), before
  // the view is computed and every 64 image rows while painting; a non-OK
  // status (Cancelled, DeadlineExceeded) is returned. Empty: never polled.
  std::function<absl::Status()> check;
};

// Checks the options that do not depend on the data (enums, top_db, sizes,
// max_dimension); every error names the field and its allowed range.
absl::Status ValidateRenderOptions(const RenderOptions& options);

struct Rendering {
  Image image;             // figure, or bare: (width [+ 20 with the colour bar]) x height, RGB
  int plot_x = 0;          // top-left pixel of the spectrogram itself in `image` (0, 0 when bare)
  int plot_y = 0;
  int plot_width = 0;      // columns of the spectrogram itself
  int plot_height = 0;
  double value_min = 0.0;  // value drawn in the lowest colour
  double value_max = 0.0;  // value drawn in the highest colour
  std::string value_unit;  // "dB", "rad", "Hz" or "s"
  Colormap colormap = Colormap::kViridis;  // the map actually used
  std::optional<FigureSpec> figure;        // the frame's title, axes and labels (figure only)
};

// What a real spectrogram tensor holds.
enum class RenderTensorKind {
  kStftMagnitude,  // |X|, (n_fft/2+1, frames): magnitude and mel views
  kPhase,          // angle(X) in radians, (n_fft/2+1, frames): phase views without weighting
  kMel,            // W |X|^power before compression, (n_mels, frames): mel view
  kLogMel,         // mel compressed with config.scale, (n_mels, frames): mel view (decompressed first)
};
std::string_view RenderTensorKindName(RenderTensorKind kind);

// Analyses `audio` with `config` (FeatureExtractor) and renders it. Errors:
// InvalidArgument for bad options or config, empty / non-finite / too short
// audio, an empty frequency range, or an image that would exceed
// max_dimension (the message says which of width / height and why); Internal
// if the figure's text cannot be drawn.
absl::StatusOr<Rendering> RenderSpectrogram(std::span<const float> audio, const FeatureConfig& config,
                                            const RenderOptions& options);

// Renders a complex STFT of shape (n_fft/2+1, frames) made with `config`.
absl::StatusOr<Rendering> RenderSpectrogram(const ComplexMatrix& stft, const FeatureConfig& config,
                                            const RenderOptions& options);

// Renders a real tensor of kind `kind` (see RenderTensorKind for its shape
// and the views it supports; other views are InvalidArgument naming the
// view and the kind).
absl::StatusOr<Rendering> RenderSpectrogram(const RealMatrix& tensor, RenderTensorKind kind,
                                            const FeatureConfig& config, const RenderOptions& options);

}  // namespace specinv

#endif  // SPECINV_RENDER_H_
