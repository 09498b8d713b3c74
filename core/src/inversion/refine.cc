// Copyright specinv authors.

#include "specinv/inversion/refine.h"

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "absl/strings/str_format.h"
#include "inversion/inversion_kernels.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

using Vec = Eigen::Map<Eigen::VectorXf>;
using ConstVec = Eigen::Map<const Eigen::VectorXf>;

double ToDb(double ratio) { return 20.0 * std::log10(std::max(ratio, 1e-12)); }

// f(x) and its gradient, frame by frame through a FrameProcessor.
class Objective {
 public:
  Objective(FrameProcessor processor, const RefineTarget& target, bool log_domain)
      : proc_(std::move(processor)), target_(target), log_domain_(log_domain) {
    const int bins = proc_.num_bins();
    const int outs = target.filterbank != nullptr ? target.filterbank->n_mels() : bins;
    eps_ = static_cast<float>(std::max(target.magnitude_epsilon, 1e-12));
    power_ = static_cast<float>(target.power);
    const RealMatrix& t = *target.values;
    double energy = 0.0;
    float tmax = 0.0f;
    for (Eigen::Index i = 0; i < t.size(); ++i) {
      energy += static_cast<double>(t.data()[i]) * static_cast<double>(t.data()[i]);
      tmax = std::max(tmax, t.data()[i]);
    }
    energy_ = energy;
    delta_ = std::max(1e-4f * tmax, std::numeric_limits<float>::min());
    padded_grad_.assign(static_cast<size_t>(proc_.layout().padded_length()), 0.0f);
    const size_t slots = static_cast<size_t>(proc_.num_slots());
    mag_.assign(slots, std::vector<float>(static_cast<size_t>(bins)));
    pow_.assign(slots, std::vector<float>(static_cast<size_t>(bins)));
    dpow_.assign(slots, std::vector<float>(static_cast<size_t>(bins)));
    out_.assign(slots, std::vector<float>(static_cast<size_t>(outs)));
    dout_.assign(slots, std::vector<float>(static_cast<size_t>(outs)));
    chunk_f_.assign(static_cast<size_t>(proc_.num_chunks()), 0.0);
    chunk_err_.assign(static_cast<size_t>(proc_.num_chunks()), 0.0);
  }

  int64_t length() const { return proc_.layout().length; }
  // Spectral convergence (ratio) of the last evaluated point, linear domain.
  double last_sc() const { return last_sc_; }

  // Returns f(x); writes the gradient into g (length() floats).
  double Evaluate(const float* x, float* g) {
    // Run overwrites the ola span; the tail past it gets no frame.
    const size_t ola = static_cast<size_t>(proc_.layout().ola_length());
    std::fill(padded_grad_.begin() + static_cast<std::ptrdiff_t>(ola), padded_grad_.end(), 0.0f);
    std::fill(chunk_f_.begin(), chunk_f_.end(), 0.0);
    std::fill(chunk_err_.begin(), chunk_err_.end(), 0.0);
    proc_.SetSignalSource(x);
    Objective* self = this;
    proc_.Run(padded_grad_.data(), 0.5f, [self](const FrameTask& task) { return self->Frame(task); });
    proc_.FoldPaddedGradient(padded_grad_.data(), g);
    double f = 0.0, err = 0.0;
    for (double v : chunk_f_) f += v;
    for (double v : chunk_err_) err += v;
    last_sc_ = energy_ > 0.0 ? std::sqrt(err / energy_) : (err > 0.0 ? 1.0 : 0.0);
    return f;
  }

 private:
  bool Frame(const FrameTask& task) {
    const int bins = proc_.num_bins();
    const size_t slot = static_cast<size_t>(task.slot);
    float* mag = mag_[slot].data();
    float* pw = pow_[slot].data();
    float* dp = dpow_[slot].data();
    float* x = reinterpret_cast<float*>(task.spectrum);
    const float p = power_;
    kernels::Magnitude(x, eps_, mag, bins);
    if (p == 1.0f) {
      std::copy(mag, mag + bins, pw);
    } else if (p == 2.0f) {
      kernels::ArrayMap(pw, bins) = kernels::ConstArrayMap(mag, bins).square();
    } else {
      kernels::ArrayMap(pw, bins) = kernels::ConstArrayMap(mag, bins).pow(p);
    }
    const MelFilterbank* fb = target_.filterbank;
    const float* est = pw;
    float* dest = dp;
    int outs = bins;
    if (fb != nullptr) {
      outs = fb->n_mels();
      float* mel = out_[slot].data();
      for (int m = 0; m < outs; ++m) {
        const float* w = fb->row_values(m);
        const float* v = pw + fb->row_begin(m);
        float acc = 0.0f;
        for (int i = 0, n = fb->row_size(m); i < n; ++i) acc += w[i] * v[i];
        mel[m] = acc;
      }
      est = mel;
      dest = dout_[slot].data();
    }
    const float* t = target_.values->col(task.frame).data();
    double f = 0.0, err = 0.0;
    for (int m = 0; m < outs; ++m) {
      const float e = est[m] - t[m];
      err += static_cast<double>(e) * static_cast<double>(e);
      if (log_domain_) {
        const float r = std::log(est[m] + delta_) - std::log(t[m] + delta_);
        f += static_cast<double>(r) * static_cast<double>(r);
        dest[m] = 2.0f * r / (est[m] + delta_);
      } else {
        f += static_cast<double>(e) * static_cast<double>(e);
        dest[m] = 2.0f * e;
      }
    }
    if (fb != nullptr) {
      std::fill(dp, dp + bins, 0.0f);
      for (int m = 0; m < outs; ++m) {
        const float* w = fb->row_values(m);
        float* v = dp + fb->row_begin(m);
        const float r = dest[m];
        for (int i = 0, n = fb->row_size(m); i < n; ++i) v[i] += w[i] * r;
      }
    }
    // d/dX of P(Y(X)): dP * p Y^(p-1) * X / Y, as a per-bin real factor (into dp).
    if (p == 1.0f) {
      kernels::ArrayMap(dp, bins) /= kernels::ConstArrayMap(mag, bins);
    } else {
      kernels::ArrayMap(dp, bins) *= p * kernels::ConstArrayMap(pw, bins) / kernels::ConstArrayMap(mag, bins).square();
    }
    kernels::ScaleComplex(x, dp, bins);
    // c2r counts bins 1..n/2-1 twice; DC (and Nyquist for even n) once.
    x[0] *= 2.0f;
    if (proc_.layout().n_fft % 2 == 0) x[2 * (bins - 1)] *= 2.0f;
    chunk_f_[static_cast<size_t>(task.chunk)] += f;
    chunk_err_[static_cast<size_t>(task.chunk)] += err;
    return true;
  }

  FrameProcessor proc_;
  RefineTarget target_;
  bool log_domain_;
  float eps_ = 0.0f;
  float power_ = 1.0f;
  float delta_ = 0.0f;
  double energy_ = 0.0;
  double last_sc_ = 0.0;
  std::vector<float> padded_grad_;
  std::vector<std::vector<float>> mag_, pow_, dpow_, out_, dout_;
  std::vector<double> chunk_f_, chunk_err_;
};

}  // namespace

absl::StatusOr<RefineResult> RefineSignal(const Stft& stft, const SignalLayout& layout,
                                          const RefineTarget& target, const RefineOptions& options,
                                          std::vector<float>* signal) {
  const auto start_time = std::chrono::steady_clock::now();
  if (target.values == nullptr) return absl::InvalidArgumentError("refine target values are missing");
  const int bins = stft.num_bins();
  const int rows = target.filterbank != nullptr ? target.filterbank->n_mels() : bins;
  if (target.filterbank != nullptr && target.filterbank->num_bins() != bins) {
    return InvalidField("filterbank", absl::StrFormat("has %d bins but n_fft=%d needs %d",
                                                      target.filterbank->num_bins(), stft.n_fft(), bins));
  }
  if (target.values->rows() != rows || target.values->cols() != layout.frames) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "refine target must be (%d, %d), got (%d, %d)", rows, layout.frames, target.values->rows(),
        target.values->cols()));
  }
  if (static_cast<int64_t>(signal->size()) != layout.length) {
    return InvalidField("signal", absl::StrFormat("must have %d samples, got %d", layout.length, signal->size()));
  }
  if (auto s = CheckRange("refine iterations", options.iterations, 0, 1000000); !s.ok()) return s;
  if (auto s = CheckRange("refine history", options.history, 1, 50); !s.ok()) return s;
  if (auto s = CheckRange("refine max_evaluations", options.max_evaluations, 0, 100000000); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("power", target.power, 0.0, 4.0); !s.ok()) return s;
  auto processor = FrameProcessor::Create(stft, layout, options.max_threads);
  if (!processor.ok()) return processor.status();
  Objective objective(*std::move(processor), target, options.log_domain);

  const Eigen::Index n = static_cast<Eigen::Index>(layout.length);
  const size_t un = static_cast<size_t>(n);
  const int m = options.history;
  // The trial point and its gradient live in the history slot the next pair
  // will use (the oldest pair, already consumed by this iteration's direction).
  std::vector<float> g(un), d(un);
  std::vector<std::vector<float>> s_hist(static_cast<size_t>(m), std::vector<float>(un));
  std::vector<std::vector<float>> y_hist(static_cast<size_t>(m), std::vector<float>(un));
  std::vector<double> rho(static_cast<size_t>(m), 0.0), alpha(static_cast<size_t>(m), 0.0);
  int stored = 0, newest = -1;

  float* x = signal->data();
  double f = objective.Evaluate(x, g.data());
  RefineResult result;
  result.evaluations = 1;
  result.initial_sc_db = ToDb(objective.last_sc());
  result.initial_objective = f;
  result.final_objective = f;
  result.final_sc_db = result.initial_sc_db;
  result.stop_reason = "iterations";
  double sc = objective.last_sc();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  };

  for (int it = 0; it < options.iterations; ++it) {
    if (options.check) {
      if (absl::Status s = options.check(); !s.ok()) return s;
    }
    // Direction d = -H g (two-loop recursion).
    Vec dv(d.data(), n);
    dv = -ConstVec(g.data(), n);
    for (int j = 0; j < stored; ++j) {
      const int idx = (newest - j + m) % m;
      const size_t ui = static_cast<size_t>(idx);
      alpha[ui] = rho[ui] * static_cast<double>(ConstVec(s_hist[ui].data(), n).dot(dv));
      dv -= static_cast<float>(alpha[ui]) * ConstVec(y_hist[ui].data(), n);
    }
    double step = 1.0;
    if (stored > 0) {
      const size_t ui = static_cast<size_t>(newest);
      const double yy = static_cast<double>(ConstVec(y_hist[ui].data(), n).squaredNorm());
      dv *= static_cast<float>(1.0 / (rho[ui] * yy));
    } else {
      // First step: move the signal by about 1e-3 of its norm (or 1e-3 per sample if silent).
      const double gnorm = static_cast<double>(ConstVec(g.data(), n).norm());
      const double xnorm = static_cast<double>(ConstVec(x, n).norm());
      if (gnorm <= 0.0) {
        result.stop_reason = "converged";
        break;
      }
      step = 1e-3 * std::max(xnorm, std::sqrt(static_cast<double>(n))) / gnorm;
    }
    for (int j = stored - 1; j >= 0; --j) {
      const int idx = (newest - j + m) % m;
      const size_t ui = static_cast<size_t>(idx);
      const double beta = rho[ui] * static_cast<double>(ConstVec(y_hist[ui].data(), n).dot(dv));
      dv += static_cast<float>(alpha[ui] - beta) * ConstVec(s_hist[ui].data(), n);
    }
    double gd = static_cast<double>(ConstVec(g.data(), n).dot(dv));
    if (!(gd < 0.0)) {  // not a descent direction: restart from steepest descent
      dv = -ConstVec(g.data(), n);
      gd = -static_cast<double>(ConstVec(g.data(), n).squaredNorm());
      stored = 0;
      const double gnorm = std::sqrt(-gd);
      if (gnorm <= 0.0) {
        result.stop_reason = "converged";
        break;
      }
      step = 1e-3 * std::max(static_cast<double>(ConstVec(x, n).norm()), std::sqrt(static_cast<double>(n))) / gnorm;
    }
    // Backtracking line search (Armijo, c1 = 1e-4).
    const int slot = (newest + 1) % m;
    const size_t us = static_cast<size_t>(slot);
    float* xt = s_hist[us].data();
    float* gt = y_hist[us].data();
    if (stored == m) stored = m - 1;  // that slot's pair is being overwritten
    bool accepted = false;
    double ft = 0.0;
    bool out_of_evaluations = false;
    for (int ls = 0; ls < 30; ++ls) {
      if (options.max_evaluations > 0 && result.evaluations >= options.max_evaluations) {
        out_of_evaluations = true;
        break;
      }
      Vec(xt, n) = ConstVec(x, n) + static_cast<float>(step) * ConstVec(d.data(), n);
      ft = objective.Evaluate(xt, gt);
      ++result.evaluations;
      if (std::isfinite(ft) && ft <= f + 1e-4 * step * gd) {
        accepted = true;
        break;
      }
      const double denom = 2.0 * (ft - f - gd * step);
      double next = std::isfinite(ft) && denom > 0.0 ? -gd * step * step / denom : 0.5 * step;
      step = std::clamp(next, 0.1 * step, 0.5 * step);
    }
    if (!accepted) {
      result.stop_reason = out_of_evaluations ? "evaluations" : "converged";
      break;
    }
    // History update in place: s = xt - x, x = xt; y = gt - g, g = gt.
    Vec sv(xt, n);
    Vec yv(gt, n);
    Vec xv(x, n);
    Vec gv(g.data(), n);
    xv.swap(sv);  // x <- xt, s-slot <- old x
    sv = xv - sv;
    gv.swap(yv);
    yv = gv - yv;
    const double sy = static_cast<double>(sv.dot(yv));
    if (sy > 1e-20) {
      rho[us] = 1.0 / sy;
      newest = slot;
      stored = std::min(stored + 1, m);
    }
    const double previous_sc = sc;
    f = ft;
    result.final_objective = f;
    sc = objective.last_sc();
    result.iterations_run = it + 1;
    result.final_sc_db = ToDb(sc);
    if (options.progress) options.progress(it + 1, result.final_sc_db);
    if (options.tolerance > 0.0 && previous_sc > 0.0 && (previous_sc - sc) / previous_sc < options.tolerance) {
      result.stop_reason = "tolerance";
      break;
    }
    if (options.time_budget_seconds > 0.0 && elapsed() >= options.time_budget_seconds) {
      result.stop_reason = "time_budget";
      break;
    }
  }
  result.final_sc_db = ToDb(sc);
  return result;
}

}  // namespace specinv
