// Copyright specinv authors.
//
// Amplitude compression of spectrograms: decibels (librosa.power_to_db and
// amplitude_to_db), clamped natural log and log10 (the TTS conventions), and
// Whisper's normalised log10, with their exact inverses where they exist.
// Pure functions; thread-safe. Inputs are any real matrices; outputs have the
// same shape.

#ifndef SPECINV_SCALING_H_
#define SPECINV_SCALING_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/base/types.h"

namespace specinv {

enum class ScaleKind {
  kNone,           // values as they are (power or magnitude)
  kPowerDb,        // 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), floor at max - top_db
  kAmplitudeDb,    // power_to_db(S^2, ref^2, amin^2, top_db)
  kLn,             // ln(max(S, clamp))               (HiFi-GAN, Tacotron 2: clamp 1e-5)
  kLog10,          // log10(max(S, clamp))            (ESPnet: clamp 1e-10)
  kWhisper,        // x = log10(max(S, clamp)); x = max(x, max(x) - 8); (x + 4) / 4
};
absl::StatusOr<ScaleKind> ParseScaleKind(std::string_view name);  // "none","power_db","amplitude_db","ln","log10","whisper"
std::string_view ScaleKindName(ScaleKind kind);

struct ScaleOptions {
  ScaleKind kind = ScaleKind::kNone;
  // dB: reference. Unset means the maximum of the input (librosa ref=np.max).
  std::optional<double> ref;
  double amin = 1e-10;                 // dB floor inside the log, > 0
  std::optional<double> top_db = 80.0; // dB dynamic range, >= 0; unset = no floor
  double clamp = 1e-5;                 // ln/log10/whisper lower clamp, > 0
};

absl::Status ValidateScaleOptions(const ScaleOptions& options);

// librosa.power_to_db(S, ref, amin, top_db). `ref` unset means max(S).
RealMatrix PowerToDb(const RealMatrix& power, std::optional<double> ref = 1.0, double amin = 1e-10,
                     std::optional<double> top_db = 80.0);
// librosa.amplitude_to_db: power_to_db(|S|^2, ref^2, amin^2, top_db).
RealMatrix AmplitudeToDb(const RealMatrix& amplitude, std::optional<double> ref = 1.0,
                         double amin = 1e-5, std::optional<double> top_db = 80.0);
// librosa.db_to_power: ref * 10^(dB/10). Exact inverse of PowerToDb above the floors.
RealMatrix DbToPower(const RealMatrix& db, double ref = 1.0);
// librosa.db_to_amplitude: sqrt(db_to_power(dB, ref^2)).
RealMatrix DbToAmplitude(const RealMatrix& db, double ref = 1.0);

// Applies options.kind to `values` (power or magnitude, as produced).
absl::StatusOr<RealMatrix> Compress(const RealMatrix& values, const ScaleOptions& options);
// Undoes Compress. Exact except where information was discarded (values at
// the clamp or below the top_db floor come back as the clamp/floor). For dB
// with ref unset (ref = max), the reference is unknown and taken as 1.0.
// Errors: InvalidArgument with field "mel[i]" for a non-finite input value,
// and for a finite one whose decompression overflows float (e.g. ln-scale
// values above 88.7: the message names the scale and says the input's
// scale/domain is likely wrong).
absl::StatusOr<RealMatrix> Decompress(const RealMatrix& compressed, const ScaleOptions& options);

}  // namespace specinv

#endif  // SPECINV_SCALING_H_
