// Copyright specinv authors.

#include "specinv/inversion/magnitude_refine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>

#include "absl/strings/str_format.h"
#include "inversion/inversion_kernels.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"
#include "specinv/inversion/admm_phase.h"
#include "specinv/inversion/pghi.h"
#include "specinv/inversion/refine.h"

namespace specinv {
namespace {

double ToDb(double ratio) {
  if (std::isinf(ratio)) return std::numeric_limits<double>::infinity();
  return 20.0 * std::log10(std::max(ratio, 1e-12));
}

absl::Status Validate(const Stft& stft, const SignalLayout& layout, const RealMatrix& magnitude,
                      const MagnitudeRefineOptions& o) {
  if (magnitude.rows() != stft.num_bins() || magnitude.cols() != layout.frames) {
    return InvalidField("magnitude", absl::StrFormat("must be (%d, %d) (bins, frames), got (%d, %d)",
                                                     stft.num_bins(), layout.frames, magnitude.rows(),
                                                     magnitude.cols()));
  }
  if (auto s = CheckRange("budget", o.budget, 1, 100000000); !s.ok()) return s;
  if (auto s = CheckRealRange("admm_share", o.admm_share, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRealRange("pghi_tolerance_db", o.pghi_tolerance_db, -200.0, 0.0); !s.ok()) return s;
  if (auto s = CheckRange("history", o.history, 1, 50); !s.ok()) return s;
  if (auto s = CheckRealRange("tolerance", o.tolerance, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRealRange("time_budget_seconds", o.time_budget_seconds, 0.0, 1e9); !s.ok()) return s;
  return CheckRange("max_threads", o.max_threads, 1, 1024);
}

// Spectral convergence (ratio) of `signal` on `magnitude`: one analysis pass.
absl::StatusOr<double> Convergence(const Stft& stft, const SignalLayout& layout, const RealMatrix& magnitude,
                                   const std::vector<float>& signal, int max_threads) {
  auto processor = FrameProcessor::Create(stft, layout, max_threads);
  if (!processor.ok()) return processor.status();
  std::vector<double> chunk_error(static_cast<size_t>(processor->num_chunks()), 0.0);
  const int bins = processor->num_bins();
  processor->SetSignalSource(signal.data());
  processor->Run(nullptr, 0.0f, [&](const FrameTask& task) {
    chunk_error[static_cast<size_t>(task.chunk)] += kernels::MagnitudeError(
        reinterpret_cast<const float*>(task.spectrum), magnitude.col(task.frame).data(), bins);
    return false;
  });
  double err = 0.0, ref = 0.0;
  for (double e : chunk_error) err += e;
  for (Eigen::Index i = 0; i < magnitude.size(); ++i) {
    ref += static_cast<double>(magnitude.data()[i]) * static_cast<double>(magnitude.data()[i]);
  }
  if (ref <= 0.0) return err > 0.0 ? std::numeric_limits<double>::infinity() : 0.0;
  return std::sqrt(err / ref);
}

}  // namespace

absl::StatusOr<MagnitudeRefineResult> RefineFromMagnitude(const Stft& stft, const SignalLayout& layout,
                                                          const RealMatrix& magnitude,
                                                          const MagnitudeRefineOptions& options) {
  const auto start_time = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  };
  if (auto s = Validate(stft, layout, magnitude, options); !s.ok()) return s;
  MagnitudeRefineResult result;
  result.stop_reason = "iterations";
  // The start's synthesis is the first pair; an L-BFGS stage needs at least
  // two evaluations (the start's and one trial), else ADMM takes them all.
  const int rest = options.budget - 1;
  int admm = static_cast<int>(std::lround(options.admm_share * rest));
  int evaluations = rest - admm;
  if (evaluations < 2) {
    admm = rest;
    evaluations = 0;
  }

  std::optional<AdmmPhaseEngine> engine;
  {
    PghiOptions po;
    po.tolerance_db = options.pghi_tolerance_db;
    po.seed = options.seed;
    auto phase = PghiPhase(stft, magnitude, po);
    if (!phase.ok()) return phase.status();
    auto created = AdmmPhaseEngine::Create(stft, layout, options.max_threads);
    if (!created.ok()) return created.status();
    engine.emplace(*std::move(created));
    engine->Start(&magnitude, *phase);
  }
  result.pairs = 1;
  bool stopped = false;
  for (int it = 0; it < admm; ++it) {
    if (options.check) {
      if (absl::Status s = options.check(); !s.ok()) return s;
    }
    const double sc = engine->Iterate(/*measure=*/static_cast<bool>(options.progress));
    ++result.pairs;
    ++result.admm_iterations;
    if (options.progress) options.progress(result.pairs, ToDb(sc), "admm");
    if (options.time_budget_seconds > 0.0 && elapsed() >= options.time_budget_seconds) {
      result.stop_reason = "time_budget";
      stopped = true;
      break;
    }
  }
  result.audio.resize(static_cast<size_t>(layout.length));
  engine->Signal(result.audio.data());
  engine.reset();  // free the ADMM state before the L-BFGS vectors
  if (stopped || evaluations == 0) {
    auto sc = Convergence(stft, layout, magnitude, result.audio, options.max_threads);
    if (!sc.ok()) return sc.status();
    result.spectral_convergence_db = ToDb(*sc);
    return result;
  }

  RefineTarget target;
  target.values = &magnitude;
  RefineOptions ro;
  ro.iterations = evaluations;  // every iteration evaluates at least once: the evaluations bind first
  ro.max_evaluations = evaluations;
  ro.history = options.history;
  ro.tolerance = options.tolerance;
  ro.max_threads = options.max_threads;
  ro.check = options.check;
  if (options.time_budget_seconds > 0.0) {
    ro.time_budget_seconds = std::max(1e-9, options.time_budget_seconds - elapsed());
  }
  const int before = result.pairs;
  if (options.progress) {
    ro.progress = [&options, before](int iteration, double sc_db) {
      options.progress(before + iteration, sc_db, "refine");
    };
  }
  auto refined = RefineSignal(stft, layout, target, ro, &result.audio);
  if (!refined.ok()) return refined.status();
  result.pairs += refined->evaluations;
  result.refine_evaluations = refined->evaluations;
  result.spectral_convergence_db = refined->final_sc_db;
  result.stop_reason = refined->stop_reason == "evaluations" ? "iterations" : refined->stop_reason;
  return result;
}

}  // namespace specinv
