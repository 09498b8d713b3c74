// Copyright specinv authors.

#include "specinv/analysis/scaling.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "specinv/base/field_error.h"
#include "specinv/base/validate.h"

namespace specinv {

absl::StatusOr<ScaleKind> ParseScaleKind(std::string_view name) {
  if (name == "none" || name.empty()) return ScaleKind::kNone;
  if (name == "power_db" || name == "db") return ScaleKind::kPowerDb;
  if (name == "amplitude_db") return ScaleKind::kAmplitudeDb;
  if (name == "ln") return ScaleKind::kLn;
  if (name == "log10") return ScaleKind::kLog10;
  if (name == "whisper") return ScaleKind::kWhisper;
  return InvalidField(
      "scale", absl::StrFormat("must be one of none, power_db, amplitude_db, ln, log10, whisper; got \"%s\"", name));
}

std::string_view ScaleKindName(ScaleKind kind) {
  switch (kind) {
    case ScaleKind::kNone: return "none";
    case ScaleKind::kPowerDb: return "power_db";
    case ScaleKind::kAmplitudeDb: return "amplitude_db";
    case ScaleKind::kLn: return "ln";
    case ScaleKind::kLog10: return "log10";
    case ScaleKind::kWhisper: return "whisper";
  }
  return "unknown";
}

absl::Status ValidateScaleOptions(const ScaleOptions& options) {
  if (!std::isfinite(options.amin) || options.amin <= 0.0) {
    return InvalidField("amin", absl::StrFormat("must be > 0, got %g", options.amin));
  }
  if (options.top_db.has_value() && (!std::isfinite(*options.top_db) || *options.top_db < 0.0)) {
    return InvalidField("top_db", absl::StrFormat("must be >= 0, got %g", *options.top_db));
  }
  if (options.ref.has_value() && (!std::isfinite(*options.ref) || *options.ref <= 0.0)) {
    return InvalidField("ref", absl::StrFormat("must be > 0, got %g", *options.ref));
  }
  if (!std::isfinite(options.clamp) || options.clamp <= 0.0) {
    return InvalidField("clamp", absl::StrFormat("must be > 0, got %g", options.clamp));
  }
  return absl::OkStatus();
}

RealMatrix PowerToDb(const RealMatrix& power, std::optional<double> ref, double amin,
                     std::optional<double> top_db) {
  double ref_value = 1.0;
  if (ref.has_value()) {
    ref_value = std::abs(*ref);
  } else {
    ref_value = power.size() > 0 ? static_cast<double>(power.cwiseAbs().maxCoeff()) : 1.0;
  }
  const double offset = 10.0 * std::log10(std::max(amin, ref_value));
  RealMatrix db(power.rows(), power.cols());
  for (Eigen::Index i = 0; i < power.size(); ++i) {
    const double v = static_cast<double>(power.data()[i]);
    db.data()[i] = static_cast<float>(10.0 * std::log10(std::max(amin, v)) - offset);
  }
  if (top_db.has_value() && db.size() > 0) {
    const float floor = db.maxCoeff() - static_cast<float>(*top_db);
    db = db.cwiseMax(floor);
  }
  return db;
}

RealMatrix AmplitudeToDb(const RealMatrix& amplitude, std::optional<double> ref, double amin,
                         std::optional<double> top_db) {
  const RealMatrix power = amplitude.cwiseAbs2();
  std::optional<double> ref_power;
  if (ref.has_value()) ref_power = (*ref) * (*ref);
  return PowerToDb(power, ref_power, amin * amin, top_db);
}

RealMatrix DbToPower(const RealMatrix& db, double ref) {
  RealMatrix out(db.rows(), db.cols());
  for (Eigen::Index i = 0; i < db.size(); ++i) {
    out.data()[i] = static_cast<float>(ref * std::pow(10.0, 0.1 * static_cast<double>(db.data()[i])));
  }
  return out;
}

RealMatrix DbToAmplitude(const RealMatrix& db, double ref) {
  return DbToPower(db, ref * ref).cwiseSqrt();
}

absl::StatusOr<RealMatrix> Compress(const RealMatrix& values, const ScaleOptions& options) {
  if (auto s = ValidateScaleOptions(options); !s.ok()) return s;
  const float clamp = static_cast<float>(options.clamp);
  switch (options.kind) {
    case ScaleKind::kNone: return values;
    case ScaleKind::kPowerDb: return PowerToDb(values, options.ref, options.amin, options.top_db);
    case ScaleKind::kAmplitudeDb:
      return AmplitudeToDb(values, options.ref, options.amin, options.top_db);
    case ScaleKind::kLn: return RealMatrix(values.cwiseMax(clamp).array().log().matrix());
    case ScaleKind::kLog10: return RealMatrix(values.cwiseMax(clamp).array().log10().matrix());
    case ScaleKind::kWhisper: {
      RealMatrix x = values.cwiseMax(clamp).array().log10().matrix();
      if (x.size() > 0) x = x.cwiseMax(x.maxCoeff() - 8.0f);
      return RealMatrix(((x.array() + 4.0f) / 4.0f).matrix());
    }
  }
  return absl::InternalError("unknown scale kind");
}

namespace {
// The decompression itself, without checks (options already validated).
RealMatrix DecompressValues(const RealMatrix& compressed, const ScaleOptions& options);
}  // namespace

absl::StatusOr<RealMatrix> Decompress(const RealMatrix& compressed, const ScaleOptions& options) {
  if (auto s = ValidateScaleOptions(options); !s.ok()) return s;
  for (Eigen::Index i = 0; i < compressed.size(); ++i) {
    if (!std::isfinite(compressed.data()[i])) {
      return WithField(absl::InvalidArgumentError(
                           absl::StrFormat("mel[%d] (bin %d, frame %d) is not finite; all values must be finite", i,
                                           i % compressed.rows(), i / compressed.rows())),
                       absl::StrCat("mel[", i, "]"));
    }
  }
  RealMatrix linear = DecompressValues(compressed, options);
  // Finite input can overflow here (e.g. ln-scale values above 88.7).
  for (Eigen::Index i = 0; i < linear.size(); ++i) {
    if (!std::isfinite(linear.data()[i])) {
      return InvalidField(absl::StrCat("mel[", i, "]"),
                          absl::StrFormat("is %g: decompressing it (scale %s) produced a non-finite value "
                                          "(finite input overflowed: check the log-mel's scale/domain and "
                                          "config.scale)",
                                          static_cast<double>(compressed.data()[i]), ScaleKindName(options.kind)));
    }
  }
  return linear;
}

namespace {
RealMatrix DecompressValues(const RealMatrix& compressed, const ScaleOptions& options) {
  const double ref = options.ref.value_or(1.0);
  switch (options.kind) {
    case ScaleKind::kNone: return compressed;
    case ScaleKind::kPowerDb: return DbToPower(compressed, ref);
    case ScaleKind::kAmplitudeDb: return DbToAmplitude(compressed, ref);
    case ScaleKind::kLn: return RealMatrix(compressed.array().exp().matrix());
    case ScaleKind::kLog10:
      return RealMatrix((compressed.array() * static_cast<float>(std::log(10.0))).exp().matrix());
    case ScaleKind::kWhisper:
      return RealMatrix(
          ((compressed.array() * 4.0f - 4.0f) * static_cast<float>(std::log(10.0))).exp().matrix());
  }
  return compressed;  // not reached: options were validated
}
}  // namespace

}  // namespace specinv
