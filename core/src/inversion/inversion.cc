// Copyright specinv authors.

#include "specinv/inversion/inversion.h"

#include <chrono>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/griffin_lim.h"
#include "specinv/inversion/griffin_lim_librosa.h"
#include "specinv/inversion/magnitude_refine.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/inversion/mel_projection.h"
#include "specinv/inversion/pghi.h"
#include "specinv/inversion/refine.h"

namespace specinv {
namespace {

using Clock = std::chrono::steady_clock;

double ToDb(double ratio) {
  if (std::isinf(ratio)) return std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(std::max(ratio, 1e-12));
}

bool UsesPghi(InversionMethod m) {
  return m == InversionMethod::kPghi || m == InversionMethod::kPghiFgla || m == InversionMethod::kRefine ||
         m == InversionMethod::kJoint;
}

bool Refines(InversionMethod m) { return m == InversionMethod::kRefine || m == InversionMethod::kJoint; }

// Mel-domain measurement for InvertMel (nullptrs for magnitude input).
struct MelTarget {
  const MelFilterbank* filterbank = nullptr;
  const RealMatrix* mel = nullptr;
  double power = 1.0;
  double magnitude_epsilon = 0.0;
};

// kRefine / kJoint on a magnitude: magnitude_refine.h with a budget of
// iterations + refine_iterations STFT/iSTFT pairs.
absl::StatusOr<InversionResult> RefineMagnitude(const Stft& stft, const SignalLayout& layout,
                                                const RealMatrix& magnitude, const InversionOptions& options,
                                                Clock::time_point start) {
  MagnitudeRefineOptions mo;
  mo.budget = std::max(1, options.iterations + options.refine_iterations);
  mo.seed = options.seed;
  mo.history = std::max(options.refine_history, kMagnitudeRefineHistory);
  mo.tolerance = options.tolerance;
  if (options.time_budget_seconds > 0.0) {
    mo.time_budget_seconds =
        std::max(1e-9, options.time_budget_seconds - std::chrono::duration<double>(Clock::now() - start).count());
  }
  mo.max_threads = options.max_threads;
  mo.check = options.check;
  if (options.progress) {
    mo.progress = [&options, &mo](int pairs, double sc_db, std::string_view stage) {
      InversionProgress p;
      p.iteration = pairs;
      p.total_iterations = mo.budget;
      p.spectral_convergence_db = sc_db;
      p.stage = stage;
      options.progress(p);
    };
  }
  auto refined = RefineFromMagnitude(stft, layout, magnitude, mo);
  if (!refined.ok()) return refined.status();
  InversionResult result;
  result.audio = std::move(refined->audio);
  result.iterations_run = refined->pairs;
  result.spectral_convergence_db = refined->spectral_convergence_db;
  result.stop_reason = refined->stop_reason;
  return result;
}

// `releasable`, when set, is `magnitude` itself, owned by the caller and free
// to drop once the Griffin-Lim stage is done (the mel refinement does not need it).
absl::StatusOr<InversionResult> Run(const Stft& stft, const SignalLayout& layout, const RealMatrix& magnitude,
                                    const MelTarget& mel, const InversionOptions& options,
                                    Clock::time_point start, RealMatrix* releasable = nullptr) {
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  InversionResult result;
  result.stop_reason = "iterations";
  if (mel.mel == nullptr && Refines(options.method)) return RefineMagnitude(stft, layout, magnitude, options, start);

  InitialPhase init;
  std::optional<RealMatrix> pghi_phase;
  if (UsesPghi(options.method)) {
    PghiOptions po;
    po.tolerance_db = options.pghi_tolerance_db;
    po.seed = options.seed;
    auto phase = PghiPhase(stft, magnitude, po);
    if (!phase.ok()) return phase.status();
    pghi_phase = *std::move(phase);
    init.kind = InitialPhase::Kind::kPhase;
    init.phase = &*pghi_phase;
  } else {
    switch (options.init) {
      case PhaseInit::kZero: init.kind = InitialPhase::Kind::kZero; break;
      case PhaseInit::kRandom:
        init.kind = InitialPhase::Kind::kRandom;
        init.seed = options.seed;
        break;
      case PhaseInit::kGiven:
        if (options.initial_complex.has_value()) {
          init.kind = InitialPhase::Kind::kComplex;
          init.complex = &*options.initial_complex;
        } else {
          init.kind = InitialPhase::Kind::kPhase;
          init.phase = &*options.initial_phase;
        }
        break;
    }
  }

  if (options.librosa_precision) {
    if (mel.mel != nullptr) {
      return InvalidField("librosa_precision", "applies to magnitude input (InvertMagnitude), not mel");
    }
    LibrosaGriffinLimOptions lo;
    lo.iterations = options.iterations;
    lo.momentum = options.method == InversionMethod::kGriffinLim ? 0.0 : options.momentum;
    lo.check = options.check;
    if (options.progress) {
      lo.progress = [&options](int iteration, double sc) {
        InversionProgress p;
        p.iteration = iteration;
        p.total_iterations = options.iterations;
        p.spectral_convergence_db = ToDb(sc);
        p.stage = "fgla";
        options.progress(p);
      };
    }
    double sc = 0.0;
    auto audio = LibrosaPrecisionGriffinLim(stft, layout, magnitude, init, lo, &sc);
    if (!audio.ok()) return audio.status();
    result.audio = *std::move(audio);
    result.iterations_run = options.iterations;
    result.spectral_convergence_db = ToDb(sc);
    return result;
  }

  auto engine = GriffinLimEngine::Create(stft, layout, options.max_threads);
  if (!engine.ok()) return engine.status();
  const double momentum = options.method == InversionMethod::kGriffinLim ? 0.0 : options.momentum;
  engine->Start(&magnitude, init, momentum);
  pghi_phase.reset();  // the first synthesis consumed it
  if (mel.mel != nullptr) engine->SetMelTarget(mel.filterbank, mel.mel, mel.power);
  std::optional<MelProjection> projection;
  if (options.method == InversionMethod::kJoint && mel.mel != nullptr) {
    MelProjectionOptions po;
    po.power = mel.power;
    auto created = MelProjection::Create(*mel.filterbank, po);
    if (!created.ok()) return created.status();
    projection = *std::move(created);
    engine->SetMelProjection(&*projection, mel.mel);
  }

  const bool refine = Refines(options.method);
  const int gl_iterations = options.method == InversionMethod::kPghi ? 0 : options.iterations;
  const int refine_iterations =
      refine ? (options.refine_iterations > 0 ? options.refine_iterations : kDefaultRefineIterations) : 0;
  const int total = gl_iterations + refine_iterations;
  const bool measure = static_cast<bool>(options.progress) || options.tolerance > 0.0;
  double previous_sc = -1.0;
  bool stopped = false;
  for (int it = 0; it < gl_iterations; ++it) {
    if (options.check) {
      if (absl::Status s = options.check(); !s.ok()) return s;
    }
    const double sc = engine->Iterate(measure);
    result.iterations_run = it + 1;
    if (options.progress) {
      InversionProgress p;
      p.iteration = it + 1;
      p.total_iterations = total;
      p.spectral_convergence_db = ToDb(sc);
      p.stage = "fgla";
      options.progress(p);
    }
    if (options.tolerance > 0.0 && previous_sc > 0.0 && (previous_sc - sc) / previous_sc < options.tolerance) {
      result.stop_reason = "tolerance";
      stopped = true;
      break;
    }
    previous_sc = sc;
    if (options.time_budget_seconds > 0.0 && elapsed() >= options.time_budget_seconds) {
      result.stop_reason = "time_budget";
      stopped = true;
      break;
    }
  }

  result.audio.resize(static_cast<size_t>(layout.length));
  engine->Signal(result.audio.data());
  if (!refine || stopped) {
    result.spectral_convergence_db = ToDb(engine->Convergence());
    return result;
  }
  // Free the Griffin-Lim buffers before the L-BFGS ones.
  { GriffinLimEngine release = *std::move(engine); }

  RefineTarget target;
  if (mel.mel != nullptr && releasable != nullptr) *releasable = RealMatrix();
  if (mel.mel != nullptr) {
    target.values = mel.mel;
    target.filterbank = mel.filterbank;
    target.power = mel.power;
    target.magnitude_epsilon = mel.magnitude_epsilon;
  } else {
    target.values = &magnitude;
  }
  RefineOptions ro;
  ro.iterations = refine_iterations;
  ro.history = options.refine_history;
  ro.log_domain = options.refine_log_domain;
  ro.tolerance = options.tolerance;
  ro.max_threads = options.max_threads;
  ro.check = options.check;
  if (options.time_budget_seconds > 0.0) {
    ro.time_budget_seconds = std::max(1e-9, options.time_budget_seconds - elapsed());
  }
  const int done = result.iterations_run;
  if (options.progress) {
    ro.progress = [&options, done, total](int iteration, double sc_db) {
      InversionProgress p;
      p.iteration = done + iteration;
      p.total_iterations = total;
      p.spectral_convergence_db = sc_db;
      p.stage = "refine";
      options.progress(p);
    };
  }
  auto refined = RefineSignal(stft, layout, target, ro, &result.audio);
  if (!refined.ok()) return refined.status();
  result.iterations_run += refined->iterations_run;
  result.spectral_convergence_db = refined->final_sc_db;
  result.stop_reason = refined->stop_reason;
  return result;
}

absl::Status CheckMatrixShape(std::string_view field, Eigen::Index rows, Eigen::Index cols, int64_t bins,
                              int64_t frames) {
  if (rows != bins || cols != frames) {
    return InvalidField(field,
                        absl::StrFormat("must be (%d, %d) (bins, frames), got (%d, %d)", bins, frames, rows, cols));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<InversionMethod> ParseInversionMethod(std::string_view name) {
  if (name == "gl") return InversionMethod::kGriffinLim;
  if (name == "fgla") return InversionMethod::kFastGriffinLim;
  if (name == "pghi") return InversionMethod::kPghi;
  if (name == "pghi_fgla") return InversionMethod::kPghiFgla;
  if (name == "refine") return InversionMethod::kRefine;
  if (name == "joint") return InversionMethod::kJoint;
  return InvalidField("method",
                      absl::StrFormat("must be one of gl, fgla, pghi, pghi_fgla, refine, joint; got \"%s\"", name));
}

std::string_view InversionMethodName(InversionMethod method) {
  switch (method) {
    case InversionMethod::kGriffinLim: return "gl";
    case InversionMethod::kFastGriffinLim: return "fgla";
    case InversionMethod::kPghi: return "pghi";
    case InversionMethod::kPghiFgla: return "pghi_fgla";
    case InversionMethod::kRefine: return "refine";
    case InversionMethod::kJoint: return "joint";
  }
  return "fgla";
}

MelInverseMethod DefaultMelInverse(InversionMethod method, int64_t bins, int64_t n_mels) {
  const bool librosa_method = method == InversionMethod::kGriffinLim || method == InversionMethod::kFastGriffinLim;
  if (librosa_method || bins < 4 * n_mels) return MelInverseMethod::kNnls;
  return MelInverseMethod::kHarmonic;
}

absl::StatusOr<PhaseInit> ParsePhaseInit(std::string_view name) {
  if (name == "zero") return PhaseInit::kZero;
  if (name == "random") return PhaseInit::kRandom;
  if (name == "given") return PhaseInit::kGiven;
  return InvalidField("init", absl::StrFormat("must be one of zero, random, given; got \"%s\"", name));
}

double SpectralConvergenceDb(const RealMatrix& target, const RealMatrix& estimate) {
  double err = 0.0, ref = 0.0;
  const Eigen::Index n = std::min(target.size(), estimate.size());
  for (Eigen::Index i = 0; i < n; ++i) {
    const double t = static_cast<double>(target.data()[i]);
    const double e = t - static_cast<double>(estimate.data()[i]);
    err += e * e;
    ref += t * t;
  }
  if (target.rows() != estimate.rows() || target.cols() != estimate.cols()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (ref <= 0.0) return err > 0.0 ? std::numeric_limits<double>::infinity() : -240.0;
  return 10.0 * std::log10(std::max(err / ref, 1e-24));
}

absl::Status ValidateInversionOptions(const InversionOptions& o, int64_t bins, int64_t frames) {
  if (auto s = CheckRange("max_iterations", o.max_iterations, 1, 1000000); !s.ok()) return s;
  if (auto s = CheckRange("iterations", o.iterations, 0, o.max_iterations); !s.ok()) return s;
  if (auto s = CheckRange("refine_iterations", o.refine_iterations, 0, o.max_iterations); !s.ok()) return s;
  if (o.momentum < 0.0 || o.momentum >= 2.0 || !std::isfinite(o.momentum)) {
    return InvalidField("momentum", absl::StrFormat("must be in [0, 2), got %g", o.momentum));
  }
  if (auto s = CheckRealRange("tolerance", o.tolerance, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRealRange("time_budget_seconds", o.time_budget_seconds, 0.0, 1e9); !s.ok()) return s;
  if (auto s = CheckRange("max_threads", o.max_threads, 1, 1024); !s.ok()) return s;
  if (o.nnls_iterations) {
    if (auto s = CheckRange("nnls_iterations", *o.nnls_iterations, 0, 100000); !s.ok()) return s;
  }
  if (auto s = CheckRealRange("pghi_tolerance_db", o.pghi_tolerance_db, -200.0, 0.0); !s.ok()) return s;
  if (auto s = CheckRange("refine_history", o.refine_history, 1, 50); !s.ok()) return s;
  if (o.length.has_value() && *o.length < 1) {
    return InvalidField("length", absl::StrFormat("must be >= 1 samples, got %d", *o.length));
  }
  if (o.librosa_precision && o.method != InversionMethod::kGriffinLim &&
      o.method != InversionMethod::kFastGriffinLim) {
    return InvalidField("librosa_precision",
                        absl::StrFormat("applies to the methods gl and fgla, got %s", InversionMethodName(o.method)));
  }
  if (o.init == PhaseInit::kGiven && !UsesPghi(o.method)) {
    if (o.initial_complex.has_value()) {
      if (auto s = CheckMatrixShape("initial_complex", o.initial_complex->rows(), o.initial_complex->cols(), bins,
                                    frames);
          !s.ok()) {
        return s;
      }
      const float* d = reinterpret_cast<const float*>(o.initial_complex->data());
      if (auto s = CheckFinite("initial_complex", std::span<const float>(d, static_cast<size_t>(2 * o.initial_complex->size())));
          !s.ok()) {
        return s;
      }
    } else if (o.initial_phase.has_value()) {
      if (auto s = CheckMatrixShape("initial_phase", o.initial_phase->rows(), o.initial_phase->cols(), bins, frames);
          !s.ok()) {
        return s;
      }
      if (auto s = CheckFinite("initial_phase", *o.initial_phase); !s.ok()) return s;
    } else {
      return InvalidField("init", "is \"given\" but neither initial_phase nor initial_complex is set");
    }
  }
  return absl::OkStatus();
}

namespace {

// Finite input can still overflow (e.g. magnitudes near FLT_MAX): name the
// stage and the input instead of reporting a NaN sample.
absl::StatusOr<InversionResult> CheckOutputFinite(absl::StatusOr<InversionResult> result, std::string_view input,
                                                  const InversionOptions& options) {
  if (!result.ok()) return result;
  for (float v : result->audio) {
    if (!std::isfinite(v)) {
      return InvalidField(input, absl::StrFormat("inversion produced non-finite audio at the %s stage (finite input "
                                                 "overflowed: check the %s's scale/domain)",
                                                 InversionMethodName(options.method), input));
    }
  }
  return result;
}

absl::Status ValidateMagnitudeInput(const Stft& stft, const RealMatrix& magnitude, const InversionOptions& options) {
  const int bins = stft.num_bins();
  if (magnitude.rows() != bins) {
    return InvalidField("magnitude", absl::StrFormat("must have n_fft/2+1 = %d rows (bins) for n_fft=%d, got %d", bins,
                                                     stft.n_fft(), magnitude.rows()));
  }
  if (magnitude.cols() < 1) return InvalidField("magnitude", "must have at least 1 frame, got 0");
  if (auto s = ValidateInversionOptions(options, bins, magnitude.cols()); !s.ok()) return s;
  return CheckNonNegativeFinite("magnitude", magnitude);
}

}  // namespace

absl::StatusOr<InversionResult> InvertMagnitude(const Stft& stft, const RealMatrix& magnitude,
                                                const InversionOptions& options) {
  const auto start = Clock::now();
  if (auto s = ValidateMagnitudeInput(stft, magnitude, options); !s.ok()) return s;
  auto layout = StftLayout(stft, magnitude.cols(), options.length);
  if (!layout.ok()) return layout.status();
  return CheckOutputFinite(Run(stft, *layout, magnitude, MelTarget{}, options, start), "magnitude", options);
}

absl::StatusOr<InversionResult> InvertMagnitude(const FeatureExtractor& extractor, const RealMatrix& magnitude,
                                                const InversionOptions& options) {
  const auto start = Clock::now();
  const Stft& stft = extractor.stft();
  if (auto s = ValidateMagnitudeInput(stft, magnitude, options); !s.ok()) return s;
  auto layout = FeatureLayout(extractor, magnitude.cols(), options.length);
  if (!layout.ok()) return layout.status();
  return CheckOutputFinite(Run(stft, *layout, magnitude, MelTarget{}, options, start), "magnitude", options);
}

absl::StatusOr<InversionResult> InvertMel(const FeatureExtractor& extractor, const RealMatrix& mel,
                                          const InversionOptions& options) {
  const auto start = Clock::now();
  const MelFilterbank& fb = extractor.filterbank();
  if (mel.rows() != fb.n_mels()) {
    return InvalidField("mel", absl::StrFormat("must have n_mels = %d rows, got %d", fb.n_mels(), mel.rows()));
  }
  if (mel.cols() < 1) return InvalidField("mel", "must have at least 1 frame, got 0");
  const Stft& stft = extractor.stft();
  if (auto s = ValidateInversionOptions(options, stft.num_bins(), mel.cols()); !s.ok()) return s;
  if (auto s = CheckNonNegativeFinite("mel", mel); !s.ok()) return s;
  auto layout = FeatureLayout(extractor, mel.cols(), options.length);
  if (!layout.ok()) return layout.status();
  MelInverseOptions mo;
  mo.method = options.mel_inverse.value_or(DefaultMelInverse(options.method, fb.num_bins(), fb.n_mels()));
  mo.iterations = options.nnls_iterations;
  mo.power = extractor.config().power;
  mo.max_threads = options.max_threads;
  mo.check = options.check;
  auto magnitude = extractor.mel_inverter().Apply(mel, mo);
  if (!magnitude.ok()) return magnitude.status();
  MelTarget target;
  target.filterbank = &fb;
  target.mel = &mel;
  target.power = extractor.config().power;
  target.magnitude_epsilon = extractor.config().magnitude_epsilon;
  return CheckOutputFinite(Run(stft, *layout, *magnitude, target, options, start, &*magnitude), "mel", options);
}

}  // namespace specinv
