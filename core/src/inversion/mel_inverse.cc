// Copyright specinv authors.

#include "specinv/inversion/mel_inverse.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "absl/strings/str_format.h"
#include "inversion/banded_rows.h"
#include "inversion/harmonic_comb.h"
#include "inversion/lobe_dictionary.h"
#include "specinv/analysis/window.h"
#include "specinv/base/check_poller.h"
#include "specinv/base/field_error.h"
#include "specinv/base/parallel.h"
#include "specinv/base/validate.h"

namespace specinv {
namespace {

// W as a BandedRows operator (bins -> mel bands), its rows the filters'.
BandedRows FilterbankRows(const MelFilterbank& fb) {
  std::vector<Entry> entries;
  for (int m = 0; m < fb.n_mels(); ++m) {
    for (int i = 0; i < fb.row_size(m); ++i) {
      entries.push_back({m, fb.row_begin(m) + i, static_cast<double>(fb.row_values(m)[i])});
    }
  }
  return BandedRows(fb.n_mels(), fb.num_bins(), entries);
}

// pinv(W) b = W^T (W W^T)^-1 b over the non-empty filters when W W^T is well
// conditioned; otherwise a truncated pseudo-inverse from the SVD of W
// (singular values below 1e-4 of the largest dropped), since the exact
// minimum-norm solution of an ill-conditioned W (e.g. Whisper's 80 filters
// on 201 bins) is huge and oscillating, and clamping it leaves garbage.
class PseudoInverse {
 public:
  // `check` (may be empty) is polled between rows of the Gram matrix and
  // around the SVD; a non-OK status stops the build and is kept in *status
  // (the object is then unusable).
  PseudoInverse(const MelFilterbank& fb, const std::function<absl::Status()>& check, absl::Status* status)
      : fb_(fb) {
    for (int m = 0; m < fb.n_mels(); ++m) {
      if (fb.row_size(m) > 0) active_.push_back(m);
    }
    const int n = static_cast<int>(active_.size());
    Eigen::MatrixXd g = Eigen::MatrixXd::Zero(n, n);
    for (int a = 0; a < n; ++a) {
      if (check && a % 16 == 0) {
        if (*status = check(); !status->ok()) return;
      }
      const int ma = active_[static_cast<size_t>(a)];
      for (int b = a; b < n; ++b) {
        const int mb = active_[static_cast<size_t>(b)];
        const int lo = std::max(fb.row_begin(ma), fb.row_begin(mb));
        const int hi = std::min(fb.row_begin(ma) + fb.row_size(ma), fb.row_begin(mb) + fb.row_size(mb));
        double acc = 0.0;
        for (int k = lo; k < hi; ++k) {
          acc += static_cast<double>(fb.row_values(ma)[k - fb.row_begin(ma)]) *
                 static_cast<double>(fb.row_values(mb)[k - fb.row_begin(mb)]);
        }
        g(a, b) = acc;
        g(b, a) = acc;
      }
    }
    llt_.compute(g);
    bool ok = llt_.info() == Eigen::Success;
    if (ok) {
      // The Cholesky diagonal squared spans the pivots of W W^T: accept a
      // condition number of W W^T up to about 1e8.
      const Eigen::VectorXd d = llt_.matrixL().toDenseMatrix().diagonal();
      ok = d.size() == 0 || d.minCoeff() > 1e-4 * d.maxCoeff();
    }
    if (!ok) {
      // The SVD itself is one uninterruptible step of O(n_mels^2 bins).
      if (check) {
        if (*status = check(); !status->ok()) return;
      }
      const Eigen::MatrixXd w = fb.weights().cast<double>();
      Eigen::BDCSVD<Eigen::MatrixXd> svd(w, Eigen::ComputeThinU | Eigen::ComputeThinV);
      const Eigen::VectorXd& sv = svd.singularValues();
      const double cutoff = sv.size() > 0 ? 1e-4 * sv(0) : 0.0;
      Eigen::VectorXd inv = Eigen::VectorXd::Zero(sv.size());
      for (Eigen::Index i = 0; i < sv.size(); ++i) inv(i) = sv(i) > cutoff ? 1.0 / sv(i) : 0.0;
      dense_ = svd.matrixV() * inv.asDiagonal() * svd.matrixU().transpose();
      use_dense_ = true;
      if (check) *status = check();
    }
  }

  // x = max(0, pinv(W) b); `scratch` holds n_mels + n_fft/2+1 doubles.
  void Apply(const float* b, float* x, std::vector<double>* scratch) const {
    const int bins = fb_.num_bins();
    if (use_dense_) {
      Eigen::Map<Eigen::VectorXd> bd(scratch->data(), fb_.n_mels());
      for (int m = 0; m < fb_.n_mels(); ++m) bd(m) = static_cast<double>(b[m]);
      Eigen::Map<Eigen::VectorXd> xd(scratch->data() + fb_.n_mels(), bins);
      xd.noalias() = dense_ * bd;  // vectorised matrix-vector product
      for (int k = 0; k < bins; ++k) x[k] = static_cast<float>(std::max(xd(k), 0.0));
      return;
    }
    const int n = static_cast<int>(active_.size());
    Eigen::Map<Eigen::VectorXd> y(scratch->data(), n);
    for (int a = 0; a < n; ++a) y(a) = static_cast<double>(b[active_[static_cast<size_t>(a)]]);
    llt_.solveInPlace(y);
    std::fill(x, x + bins, 0.0f);
    for (int a = 0; a < n; ++a) {
      const int m = active_[static_cast<size_t>(a)];
      const float* w = fb_.row_values(m);
      float* v = x + fb_.row_begin(m);
      const float r = static_cast<float>(y(a));
      for (int i = 0, len = fb_.row_size(m); i < len; ++i) v[i] += w[i] * r;
    }
    for (int k = 0; k < bins; ++k) x[k] = std::max(x[k], 0.0f);
  }

 private:
  const MelFilterbank& fb_;
  std::vector<int> active_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::MatrixXd dense_;
  bool use_dense_ = false;
};

// Stages of Apply that can turn finite input into non-finite values.
constexpr int kStageNone = 0;
constexpr int kStagePseudoInverse = 1;
constexpr int kStageNnls = 2;
constexpr int kStageLobes = 3;

bool AllFinite(const float* v, int n) {
  bool ok = true;
  for (int i = 0; i < n; ++i) ok &= std::isfinite(v[i]);
  return ok;
}

double SquaredNorm(const float* v, int n) {
  double acc = 0.0;
  for (int i = 0; i < n; ++i) acc += static_cast<double>(v[i]) * static_cast<double>(v[i]);
  return acc;
}

// ProjectedFista's work vectors: y, x_old, grad of A.cols(); ax, ax_old, ay
// of A.rows().
struct FistaScratch {
  FistaScratch(int cols, int rows)
      : y(static_cast<size_t>(cols)), x_old(static_cast<size_t>(cols)), grad(static_cast<size_t>(cols)),
        ax(static_cast<size_t>(rows)), ax_old(static_cast<size_t>(rows)), ay(static_cast<size_t>(rows)) {}
  std::vector<float> y, x_old, grad, ax, ax_old, ay;
};

double SquaredResidual(const float* ax, const float* b, int n) {
  double res = 0.0;
  for (int m = 0; m < n; ++m) {
    const double e = static_cast<double>(ax[m]) - static_cast<double>(b[m]);
    res += e * e;
  }
  return res;
}

// Accelerated projected gradient for min ||A x - b||^2, x >= 0 (FISTA with
// adaptive restart), with per-unknown steps from a diagonal majoriser of
// A^T A (BandedRows::Steps, so every step descends); x holds the start and
// receives the result. Stops when the squared residual is <= target or after
// `iterations`; ticks `poller` once per iteration and returns false when it
// stopped.
template <typename Op>
bool ProjectedFista(const Op& op, const std::vector<float>& step, const float* b, float* x, int iterations,
                    double target, FistaScratch* s, CheckPoller* poller, int* since, int check_every) {
  const int n = op.cols();
  const int m_rows = op.rows();
  op.Apply(x, s->ax.data());
  double res = SquaredResidual(s->ax.data(), b, m_rows);
  std::copy(x, x + n, s->y.begin());
  std::copy(x, x + n, s->x_old.begin());
  std::copy(s->ax.begin(), s->ax.end(), s->ax_old.begin());
  std::copy(s->ax.begin(), s->ax.end(), s->ay.begin());  // A y, kept by linearity
  double t = 1.0;
  for (int it = 0; it < iterations && res > target; ++it) {
    if (!poller->Tick(since, check_every)) return false;
    for (int m = 0; m < m_rows; ++m) s->ay[static_cast<size_t>(m)] -= b[m];  // residual at y
    op.ApplyTranspose(s->ay.data(), s->grad.data());
    for (int k = 0; k < n; ++k) {
      x[k] = std::max(0.0f, s->y[static_cast<size_t>(k)] - step[static_cast<size_t>(k)] * s->grad[static_cast<size_t>(k)]);
    }
    op.Apply(x, s->ax.data());
    const double new_res = SquaredResidual(s->ax.data(), b, m_rows);
    double beta = 0.0;
    if (new_res > res) {
      t = 1.0;  // adaptive restart
    } else {
      const double t_next = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
      beta = (t - 1.0) / t_next;
      t = t_next;
    }
    res = new_res;
    const float fbeta = static_cast<float>(beta);
    for (int k = 0; k < n; ++k) {
      const float xk = x[k];
      s->y[static_cast<size_t>(k)] = xk + fbeta * (xk - s->x_old[static_cast<size_t>(k)]);
      s->x_old[static_cast<size_t>(k)] = xk;
    }
    for (int m = 0; m < m_rows; ++m) {
      const float v = s->ax[static_cast<size_t>(m)];
      s->ay[static_cast<size_t>(m)] = v + fbeta * (v - s->ax_old[static_cast<size_t>(m)]);
      s->ax_old[static_cast<size_t>(m)] = v;
    }
  }
  return true;
}

}  // namespace

// Everything MelInverter::Apply needs, built once per filterbank.
struct MelInverter::State {
  State(const MelFilterbank& filterbank, const std::function<absl::Status()>& check)
      : fb(filterbank), pinv(fb, check, &build_status), w(FilterbankRows(fb)), step(w.Steps()) {
    if (!build_status.ok()) return;
    if (check) {
      if (build_status = check(); !build_status.ok()) return;
    }
    const int n_fft = fb.options().n_fft;
    unit_lobe = MainLobe(MakeWindow(WindowType::kHann, n_fft, n_fft).value());
  }
  // The lobe dictionary for `power`: for 1 and 2 built on first use and
  // kept, for other powers built per call.
  std::shared_ptr<const LobeDictionary> Lobes(double power) const {
    if (power == 1.0) {
      std::call_once(magnitude_once, [this] { lobes_magnitude = BuildLobeDictionary(fb, unit_lobe, 1.0); });
      return lobes_magnitude;
    }
    if (power == 2.0) {
      std::call_once(power_once, [this] { lobes_power = BuildLobeDictionary(fb, unit_lobe, 2.0); });
      return lobes_power;
    }
    return BuildLobeDictionary(fb, unit_lobe, power);
  }
  // The Hann main lobe every 1/kCombLobeOversampling bin (kHarmonic), built
  // on first use: O(n_fft) per sample, so not at every extractor's creation.
  const std::vector<double>& FineLobe() const {
    std::call_once(fine_once, [this] {
      const int n_fft = fb.options().n_fft;
      fine_lobe = MainLobe(MakeWindow(WindowType::kHann, n_fft, n_fft).value(), kCombLobeOversampling);
    });
    return fine_lobe;
  }
  const MelFilterbank fb;     // declared before pinv, which refers to it
  absl::Status build_status;  // set by pinv's construction (declared before it)
  const PseudoInverse pinv;
  const BandedRows w;            // the filterbank, for NNLS
  const std::vector<float> step;  // NNLS steps (diagonal majoriser of W^T W)
  std::vector<double> unit_lobe;  // the Hann window's main lobe, magnitude domain
  mutable std::vector<double> fine_lobe;  // FineLobe's
  mutable std::once_flag magnitude_once, power_once, fine_once;
  mutable std::shared_ptr<const LobeDictionary> lobes_magnitude, lobes_power;
};

MelInverter::MelInverter(const MelFilterbank& filterbank)
    : state_(std::make_shared<const State>(filterbank, std::function<absl::Status()>())) {}

MelInverter::MelInverter(std::shared_ptr<const State> state) : state_(std::move(state)) {}

absl::StatusOr<MelInverter> MelInverter::Create(const MelFilterbank& filterbank,
                                                const std::function<absl::Status()>& check) {
  auto state = std::make_shared<const State>(filterbank, check);
  if (!state->build_status.ok()) return state->build_status;
  return MelInverter(std::move(state));
}

const MelFilterbank& MelInverter::filterbank() const { return state_->fb; }

absl::StatusOr<MelInverseMethod> ParseMelInverseMethod(std::string_view name) {
  if (name == "nnls") return MelInverseMethod::kNnls;
  if (name == "pinv") return MelInverseMethod::kPseudoInverse;
  if (name == "lobes") return MelInverseMethod::kLobes;
  if (name == "harmonic") return MelInverseMethod::kHarmonic;
  return absl::InvalidArgumentError(
      absl::StrFormat("mel inverse method must be one of nnls, pinv, lobes, harmonic; got \"%s\"", name));
}

std::string_view MelInverseMethodName(MelInverseMethod method) {
  switch (method) {
    case MelInverseMethod::kNnls: return "nnls";
    case MelInverseMethod::kPseudoInverse: return "pinv";
    case MelInverseMethod::kLobes: return "lobes";
    case MelInverseMethod::kHarmonic: return "harmonic";
  }
  return "unknown";
}

int DefaultMelInverseIterations(MelInverseMethod method) {
  switch (method) {
    case MelInverseMethod::kNnls: return 50;
    case MelInverseMethod::kLobes:
    case MelInverseMethod::kHarmonic: return 100;
    case MelInverseMethod::kPseudoInverse: return 0;
  }
  return 0;
}

absl::StatusOr<RealMatrix> MelToMagnitude(const MelFilterbank& fb, const RealMatrix& mel,
                                          const MelInverseOptions& options) {
  return MelInverter(fb).Apply(mel, options);
}

absl::StatusOr<RealMatrix> MelInverter::Apply(const RealMatrix& mel, const MelInverseOptions& options) const {
  const MelFilterbank& fb = state_->fb;
  if (mel.rows() != fb.n_mels()) {
    return InvalidField("mel", absl::StrFormat("must have n_mels = %d rows, got %d", fb.n_mels(), mel.rows()));
  }
  if (mel.cols() < 1) return InvalidField("mel", "must have at least 1 frame, got 0");
  const int iterations = options.iterations.value_or(DefaultMelInverseIterations(options.method));
  if (auto s = CheckRange("nnls iterations", iterations, 0, 100000); !s.ok()) return s;
  if (auto s = CheckRealRange("nnls tolerance", options.tolerance, 0.0, 1.0); !s.ok()) return s;
  if (auto s = CheckRangeOpenLow("power", options.power, 0.0, 4.0); !s.ok()) return s;
  if (auto s = CheckNonNegativeFinite("mel", mel); !s.ok()) return s;
  const int bins = fb.num_bins();
  const int n_mels = fb.n_mels();
  const int64_t frames = mel.cols();
  const PseudoInverse& pinv = state_->pinv;
  RealMatrix out(bins, frames);
  const bool harmonic = options.method == MelInverseMethod::kHarmonic;
  const bool lobes = options.method == MelInverseMethod::kLobes || harmonic;
  const bool nnls = options.method == MelInverseMethod::kNnls && iterations > 0;
  const std::shared_ptr<const LobeDictionary> lobe_model = lobes ? state_->Lobes(options.power) : nullptr;
  std::vector<double> fine_lobe_power;  // kHarmonic: the comb's lobe in the power domain
  if (harmonic) {
    fine_lobe_power = state_->FineLobe();
    for (double& v : fine_lobe_power) v = std::pow(v, options.power);
  }
  const double bin_hz = fb.options().sample_rate / static_cast<double>(fb.options().n_fft);
  const double tol2 = options.tolerance * options.tolerance;
  const float inv_power = static_cast<float>(1.0 / options.power);
  // Cancellation: each chunk polls options.check after kCheckWork units of
  // work (a frame's pseudo-inverse or one FISTA iteration, each O(bins));
  // once a check fails every chunk stops.
  constexpr int kCheckWork = 1024;
  CheckPoller poller(options.check);
  // Frames whose result went non-finite, by stage (finite input overflowed).
  std::atomic<int> bad_stage{kStageNone};
  ParallelFor(frames, options.max_threads, [&](int64_t begin, int64_t end) {
    int since = 0;
    std::vector<double> scratch(static_cast<size_t>(n_mels + bins));
    FistaScratch bin_scratch(nnls ? bins : 0, nnls ? n_mels : 0);
    const int atoms = lobes ? lobe_model->mel_atoms.cols() : 0;
    FistaScratch atom_scratch(atoms, lobes ? n_mels : 0);
    std::vector<float> coefficients(static_cast<size_t>(atoms));
    // kHarmonic: the comb (harmonic_comb.h), its steps, coefficients and FISTA work vectors.
    std::optional<CombOperator> comb;
    std::vector<float> comb_step, comb_coefficients;
    std::optional<FistaScratch> comb_scratch;
    if (harmonic) {
      comb.emplace(fb, fine_lobe_power, lobe_model->mel_atoms);
      comb->UseGrid(true);
      comb_step.reserve(static_cast<size_t>(bins + atoms));
      comb_coefficients.resize(static_cast<size_t>(bins + atoms));
      comb_scratch.emplace(bins + atoms, n_mels);
    }
    for (int64_t f = begin; f < end; ++f) {
      if (!poller.Tick(&since, kCheckWork)) return;
      const float* b = mel.col(f).data();
      float* x = out.col(f).data();
      const double target = tol2 * SquaredNorm(b, n_mels);
      int stage = kStageNone;
      if (lobes) {
        std::fill(coefficients.begin(), coefficients.end(), 0.0f);
        if (!ProjectedFista(lobe_model->mel_atoms, lobe_model->step, b, coefficients.data(), iterations,
                            target, &atom_scratch, &poller, &since, kCheckWork)) {
          return;
        }
        lobe_model->bin_atoms.Apply(coefficients.data(), x);
        stage = kStageLobes;
        if (harmonic && comb->SetF0(CombF0(x, bins, bin_hz), bin_hz) > 0) {
          // Refit with the comb of the resolved partials next to the grid,
          // started from the grid fit's values at the partials (the grid's
          // coefficients at 0), for CombIterations(iterations) with no
          // residual target.
          comb->Steps(&comb_step);
          comb->WarmStart(x, comb_coefficients.data());
          if (!ProjectedFista(*comb, comb_step, b, comb_coefficients.data(), CombIterations(iterations),
                              /*target=*/0.0, &*comb_scratch, &poller, &since, kCheckWork)) {
            return;
          }
          comb->Synthesize(comb_coefficients.data(), lobe_model->bin_atoms, x);
        }
      } else {
        pinv.Apply(b, x, &scratch);
        if (!AllFinite(x, bins)) {
          int none = kStageNone;
          bad_stage.compare_exchange_strong(none, kStagePseudoInverse);
          return;
        }
        if (nnls) {
          if (!ProjectedFista(state_->w, state_->step, b, x, iterations, target, &bin_scratch,
                              &poller, &since, kCheckWork)) {
            return;
          }
          stage = kStageNnls;
        }
      }
      if (stage != kStageNone && !AllFinite(x, bins)) {
        int none = kStageNone;
        bad_stage.compare_exchange_strong(none, stage);
        return;
      }
      if (inv_power != 1.0f) {
        for (int k = 0; k < bins; ++k) x[k] = std::pow(x[k], inv_power);
      }
    }
  });
  if (poller.stopped()) return poller.status();
  switch (bad_stage.load()) {
    case kStagePseudoInverse:
      return InvalidField("mel", "inversion produced non-finite values at the pseudo-inverse stage (finite input "
                                 "overflowed: check the mel's scale/domain, e.g. log-mel sent as linear mel)");
    case kStageNnls:
      return InvalidField("mel", "inversion produced non-finite values at the NNLS stage (finite input overflowed: "
                                 "check the mel's scale/domain, e.g. log-mel sent as linear mel)");
    case kStageLobes:
      return InvalidField("mel", "inversion produced non-finite values at the lobe NNLS stage (finite input "
                                 "overflowed: check the mel's scale/domain, e.g. log-mel sent as linear mel)");
    default:
      break;
  }
  return out;
}

double MelResidualRel(const MelFilterbank& fb, const RealMatrix& magnitude, const RealMatrix& mel, double power) {
  RealMatrix p = magnitude;
  if (power != 1.0) p = magnitude.array().pow(static_cast<float>(power)).matrix();
  RealMatrix est;
  fb.Apply(p, &est);
  double err = 0.0, ref = 0.0;
  for (Eigen::Index i = 0; i < mel.size(); ++i) {
    const double e = static_cast<double>(est.data()[i]) - static_cast<double>(mel.data()[i]);
    err += e * e;
    ref += static_cast<double>(mel.data()[i]) * static_cast<double>(mel.data()[i]);
  }
  if (ref <= 0.0) return err > 0.0 ? 1.0 : 0.0;
  return std::sqrt(err / ref);
}

}  // namespace specinv
