// Copyright specinv authors.

#include "specinv/inversion/mel_domain_check.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"

namespace specinv {

namespace {

// The clamps of the built-in presets (feature_config.cc).
constexpr double kTtsLnClamp = 1e-5;      // hifigan, tacotron2
constexpr double kEspnetLog10Floor = -10;  // log10(1e-10)
constexpr double kWhisperWidth = 2.0;      // max-8 in log10, then /4
constexpr double kLibrosaTopDb = 80.0;

bool Near(double a, double b) { return std::abs(a - b) <= 1e-3 * std::max(1.0, std::abs(b)); }

double DbFloor(const ScaleOptions& s, double ref) {
  const double k = s.kind == ScaleKind::kAmplitudeDb ? 20.0 : 10.0;
  return k * std::log10(s.amin) - k * std::log10(std::max(ref, s.amin));
}

MelValueStats ComputeStats(const RealMatrix& mel, int64_t* tiny) {
  MelValueStats st;
  double sum = 0.0;
  int64_t negative = 0;
  st.min = std::numeric_limits<double>::infinity();
  st.max = -std::numeric_limits<double>::infinity();
  for (Eigen::Index i = 0; i < mel.size(); ++i) {
    const double v = mel.data()[i];
    if (!std::isfinite(v)) continue;
    ++st.count;
    sum += v;
    st.min = std::min(st.min, v);
    st.max = std::max(st.max, v);
    if (v < 0.0) ++negative;
  }
  *tiny = 0;
  if (st.count == 0) {
    st.min = st.max = 0.0;
    return st;
  }
  st.mean = sum / static_cast<double>(st.count);
  st.negative_fraction = static_cast<double>(negative) / static_cast<double>(st.count);
  const double at_min = st.min + 1e-3 * std::max(1.0, std::abs(st.min));
  const double tiny_below = 1e-3 * st.max;
  int64_t floor = 0;
  for (Eigen::Index i = 0; i < mel.size(); ++i) {
    const double v = mel.data()[i];
    if (!std::isfinite(v)) continue;
    if (v <= at_min) ++floor;
    if (v < tiny_below) ++*tiny;
  }
  st.floor_fraction = static_cast<double>(floor) / static_cast<double>(st.count);
  return st;
}

struct Evidence {
  bool has_floor = false;  // a clamp-like minimum
  bool ln = false, log10 = false, whisper = false, db = false, linear = false;
  bool Has(MelValueDomain d) const {
    switch (d) {
      case MelValueDomain::kLinear: return linear;
      case MelValueDomain::kLn: return ln;
      case MelValueDomain::kLog10: return log10;
      case MelValueDomain::kWhisper: return whisper;
      case MelValueDomain::kDb: return db;
    }
    return false;
  }
};

Evidence Signatures(const MelValueStats& st, int64_t tiny) {
  Evidence e;
  const double floor_count = st.floor_fraction * static_cast<double>(st.count);
  e.has_floor = st.max > st.min && floor_count >= 2.0 && st.floor_fraction >= 0.005;
  const double width = st.max - st.min;
  e.ln = e.has_floor && Near(st.min, std::log(kTtsLnClamp));
  e.log10 = e.has_floor && Near(st.min, kEspnetLog10Floor);
  e.whisper = e.has_floor && Near(width, kWhisperWidth);
  e.db = std::abs(st.max) <= 1e-3 && width > 1.0 && width <= kLibrosaTopDb * (1 + 1e-3);
  e.linear = st.min >= 0.0 && st.max > st.min &&
             ((e.has_floor && st.min == 0.0) || static_cast<double>(tiny) >= 0.5 * static_cast<double>(st.count));
  return e;
}

// Domains the values could be in, most specific first.
std::vector<MelValueDomain> Candidates(const MelValueStats& st, const Evidence& e, MelValueDomain declared) {
  std::vector<MelValueDomain> out;
  for (MelValueDomain d : {MelValueDomain::kLn, MelValueDomain::kLog10, MelValueDomain::kWhisper,
                           MelValueDomain::kDb, MelValueDomain::kLinear}) {
    if (e.Has(d)) out.push_back(d);
  }
  const double width = st.max - st.min;
  if (st.min >= 0.0) out.push_back(MelValueDomain::kLinear);
  if (width <= kWhisperWidth * (1 + 1e-3) && st.min >= -1.5 - 1e-3) out.push_back(MelValueDomain::kWhisper);
  if (st.max <= 1e-3 && width <= kLibrosaTopDb * (1 + 1e-3)) out.push_back(MelValueDomain::kDb);
  if (st.min >= kEspnetLog10Floor - 1e-3) {
    // ln and log10 differ only by a factor here: offer the one not declared.
    out.push_back(declared == MelValueDomain::kLn ? MelValueDomain::kLog10 : MelValueDomain::kLn);
  }
  if (st.min >= std::log(kTtsLnClamp) - 1e-2) out.push_back(MelValueDomain::kLn);
  if (st.min >= -100.0 - 0.1 && width <= kLibrosaTopDb * (1 + 1e-3)) out.push_back(MelValueDomain::kDb);
  return out;
}

std::string DescribeDomain(MelValueDomain d) {
  switch (d) {
    case MelValueDomain::kLinear: return "linear (uncompressed W|X|^power: librosa preset / MEL_DOMAIN_LINEAR)";
    case MelValueDomain::kLn: return "ln-compressed (hifigan/tacotron2: ln(max(x, 1e-5)), floor -11.51)";
    case MelValueDomain::kLog10: return "log10-compressed (espnet: log10(max(x, 1e-10)), floor -10)";
    case MelValueDomain::kWhisper:
      return "Whisper-scaled (whisper/whisper-128: (max(log10 x, max-8) + 4) / 4, range <= 2)";
    case MelValueDomain::kDb: return "dB (librosa power_to_db, ref=max: max 0, floor -top_db = -80)";
  }
  return "unknown";
}

std::string DescribeDeclared(const FeatureConfig& config, MelValueDomain declared, bool linear_input) {
  const ScaleOptions& s = config.scale;
  std::string what;
  if (linear_input) {
    what = "linear (input declared linear)";
  } else {
    switch (s.kind) {
      case ScaleKind::kNone: what = "linear (scale none)"; break;
      case ScaleKind::kLn: what = absl::StrFormat("ln (clamp %g)", s.clamp); break;
      case ScaleKind::kLog10: what = absl::StrFormat("log10 (clamp %g)", s.clamp); break;
      case ScaleKind::kWhisper: what = absl::StrFormat("whisper (clamp %g)", s.clamp); break;
      case ScaleKind::kPowerDb:
      case ScaleKind::kAmplitudeDb:
        what = absl::StrFormat("%s (ref %s, amin %g, top_db %s)", ScaleKindName(s.kind),
                               s.ref ? absl::StrFormat("%g", *s.ref) : "max", s.amin,
                               s.top_db ? absl::StrFormat("%g", *s.top_db) : "none");
        break;
    }
  }
  (void)declared;
  if (!config.preset.empty()) absl::StrAppend(&what, ", preset ", config.preset);
  return what;
}

// Why the values cannot be in the declared domain, or "" when they can.
std::string Infeasibility(const MelValueStats& st, const ScaleOptions& s, MelValueDomain declared) {
  const double width = st.max - st.min;
  switch (declared) {
    case MelValueDomain::kLinear: return "";  // negatives are the hard error
    case MelValueDomain::kLn: {
      const double floor = std::log(s.clamp);
      if (st.min < floor - 1e-3 * std::max(1.0, std::abs(floor))) {
        return absl::StrFormat("the minimum %.4g is below ln(clamp) = %.4g, which ln compression cannot produce",
                               st.min, floor);
      }
      return "";
    }
    case MelValueDomain::kLog10: {
      const double floor = std::log10(s.clamp);
      if (st.min < floor - 1e-3 * std::max(1.0, std::abs(floor))) {
        return absl::StrFormat(
            "the minimum %.4g is below log10(clamp) = %.4g, which log10 compression cannot produce", st.min, floor);
      }
      return "";
    }
    case MelValueDomain::kWhisper: {
      if (width > kWhisperWidth * (1 + 1e-3)) {
        return absl::StrFormat("max - min = %.4g exceeds 2, the most Whisper's max-8 clamp leaves", width);
      }
      const double floor = (std::log10(s.clamp) + 4.0) / 4.0;
      if (st.min < floor - 1e-3 * std::max(1.0, std::abs(floor))) {
        return absl::StrFormat("the minimum %.4g is below (log10(clamp) + 4) / 4 = %.4g", st.min, floor);
      }
      return "";
    }
    case MelValueDomain::kDb: {
      if (s.top_db && width > *s.top_db * (1 + 1e-3) + 1e-3) {
        return absl::StrFormat("max - min = %.4g dB exceeds top_db = %g", width, *s.top_db);
      }
      if (s.ref) {
        const double floor = DbFloor(s, *s.ref);
        if (st.min < floor - 1e-3 * std::max(1.0, std::abs(floor))) {
          return absl::StrFormat("the minimum %.4g is below the dB floor %.4g set by amin and ref", st.min, floor);
        }
      }
      return "";
    }
  }
  return "";
}

// Whether the declared scale itself clamps at the observed minimum.
bool DeclaredFloorExplains(const MelValueStats& st, const ScaleOptions& s, MelValueDomain declared) {
  switch (declared) {
    case MelValueDomain::kLinear: return st.min == 0.0;
    case MelValueDomain::kLn: return Near(st.min, std::log(s.clamp));
    case MelValueDomain::kLog10: return Near(st.min, std::log10(s.clamp));
    case MelValueDomain::kWhisper:
      return Near(st.max - st.min, kWhisperWidth) || Near(st.min, (std::log10(s.clamp) + 4.0) / 4.0);
    case MelValueDomain::kDb:
      return (s.top_db && Near(st.max - st.min, *s.top_db)) || Near(st.min, DbFloor(s, s.ref.value_or(1.0)));
  }
  return false;
}

std::string Range(const MelValueStats& st) {
  return absl::StrFormat("mel values in [%.4g, %.4g] (mean %.4g, %.1f%% at the minimum, %.1f%% negative)", st.min,
                         st.max, st.mean, 100.0 * st.floor_fraction, 100.0 * st.negative_fraction);
}

}  // namespace

std::string_view MelValueDomainName(MelValueDomain domain) {
  switch (domain) {
    case MelValueDomain::kLinear: return "linear";
    case MelValueDomain::kLn: return "ln";
    case MelValueDomain::kLog10: return "log10";
    case MelValueDomain::kWhisper: return "whisper";
    case MelValueDomain::kDb: return "dB";
  }
  return "unknown";
}

MelValueDomain DeclaredMelDomain(const ScaleOptions& scale, bool linear_input) {
  if (linear_input) return MelValueDomain::kLinear;
  switch (scale.kind) {
    case ScaleKind::kNone: return MelValueDomain::kLinear;
    case ScaleKind::kLn: return MelValueDomain::kLn;
    case ScaleKind::kLog10: return MelValueDomain::kLog10;
    case ScaleKind::kWhisper: return MelValueDomain::kWhisper;
    case ScaleKind::kPowerDb:
    case ScaleKind::kAmplitudeDb: return MelValueDomain::kDb;
  }
  return MelValueDomain::kLinear;
}

absl::StatusOr<MelDomainDiagnostics> CheckMelDomain(const RealMatrix& mel, const FeatureConfig& config,
                                                    bool linear_input) {
  MelDomainDiagnostics out;
  int64_t tiny = 0;
  out.stats = ComputeStats(mel, &tiny);
  const MelValueStats& st = out.stats;
  if (st.count == 0) return out;
  const MelValueDomain declared = DeclaredMelDomain(config.scale, linear_input);
  const Evidence evidence = Signatures(st, tiny);
  std::optional<MelValueDomain> likely;
  for (MelValueDomain d : Candidates(st, evidence, declared)) {
    if (d != declared) {
      likely = d;
      break;
    }
  }
  const std::string looks = likely ? absl::StrCat("look ", DescribeDomain(*likely)) : "fit no known domain";

  if (declared == MelValueDomain::kLinear && st.min < 0.0) {
    for (Eigen::Index i = 0; i < mel.size(); ++i) {
      if (mel.data()[i] < 0.0f) {
        return InvalidField(
            "mel", absl::StrFormat("has a negative value %g at bin %d, frame %d; a linear mel (%s) must be >= 0: "
                                   "the %s",
                                   static_cast<double>(mel.data()[i]), i % mel.rows(), i / mel.rows(),
                                   DescribeDeclared(config, declared, linear_input), absl::StrCat(Range(st), " ", looks)));
      }
    }
  }

  std::string reason = Infeasibility(st, config.scale, declared);
  if (reason.empty()) {
    bool other = false;
    for (MelValueDomain d : {MelValueDomain::kLn, MelValueDomain::kLog10, MelValueDomain::kWhisper,
                             MelValueDomain::kDb, MelValueDomain::kLinear}) {
      if (d != declared && evidence.Has(d)) {
        other = true;
        if (!likely || !evidence.Has(*likely)) likely = d;
        break;
      }
    }
    if (other && !DeclaredFloorExplains(st, config.scale, declared)) {
      reason = likely == MelValueDomain::kLinear
                   ? std::string("the values are non-negative with digital-silence zeros or mostly near zero, as a "
                                 "linear mel is")
                   : absl::StrFormat("the minimum %.4g is held by %.1f%% of the values: a clamp the declared scale "
                                     "does not produce",
                                     st.min, 100.0 * st.floor_fraction);
    }
  }
  if (reason.empty()) return out;
  out.likely_domain = likely;
  out.warnings.push_back(absl::StrFormat(
      "%s %s; but the mel is declared %s: %s. Inverting it as declared gives noise-like audio: check "
      "config.scale/preset, input_domain and normalization",
      Range(st), likely ? absl::StrCat("look ", DescribeDomain(*likely)) : "fit no known domain",
      DescribeDeclared(config, declared, linear_input), reason));
  return out;
}

}  // namespace specinv
