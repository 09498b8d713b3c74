// Copyright specinv authors.
//
// Input-domain diagnostics for mel spectrograms: does a mel that is about to
// be inverted plausibly lie in the domain the caller declared (the config's
// scale, or linear)? A mel in the wrong domain (ln vs log10 vs dB, Whisper
// scaling, linear) decompresses without error into a wildly wrong spectrum
// and the inversion returns noise; this check catches the common cases from
// cheap statistics of the values and says which domain they look like.
//
// Input: `mel` (n_mels, frames) as the caller will decompress it, i.e. after
// any de-normalisation; `config` is the effective FeatureConfig (only
// config.scale and config.preset are read); `linear_input` says the caller
// declared the mel linear (W |X|^power, no compression), which a config whose
// scale is kNone also means. Non-finite values are skipped (finiteness is
// checked by decompression and inversion, which name the element).
//
// What each scale can produce (c = clamp, M = max of the output):
//   linear / kNone   values >= 0; digital silence is exactly 0.
//   kLn (c)          values >= ln(c); hifigan/tacotron2: c = 1e-5, floor -11.513.
//   kLog10 (c)       values >= log10(c); espnet: c = 1e-10, floor -10.
//   kWhisper (c)     x = log10(max(S, c)); x >= max(x) - 8; (x + 4) / 4:
//                    max - min <= 2, min >= (log10(c) + 4) / 4 (-1.5 for 1e-10);
//                    when the max-8 clamp bites, many values sit at exactly M - 2.
//   kPowerDb (amin, ref, top_db)  10 log10(max(S, amin) / ref): max - min <=
//                    top_db; min >= 10 log10(amin / ref) when ref is set.
//                    ref unset (librosa ref=np.max): M = 0 exactly, floor
//                    M - top_db (-80). (Decompression takes ref unset as 1.0,
//                    so a ref=1.0 dB mel is also correct there.)
//   kAmplitudeDb     as kPowerDb with 20 log10 and amin.
//
// Statistics (one pass plus a count): min, max, mean, the fraction of
// negative values and the fraction at the minimum (within 1e-3 relative):
// a "floor" is a minimum held by >= 2 values and >= 0.5% of them, and
// strictly below the maximum. Rules:
//   1. Infeasible for the declared domain (a bound above is violated): a
//      warning. Exception: declared linear with a negative value is the one
//      hard error (InvalidArgument, field "mel"): there is no magnitude to
//      invert. The linear bound is checked for kNone configs too.
//   2. Feasible, but the floor is exactly another domain's clamp and not one
//      the declared scale produces: a warning. The known clamps are ln(1e-5)
//      (hifigan/tacotron2), -10 (espnet log10(1e-10)), M - 2 with max - min
//      = 2 (Whisper), M - 80 with M = 0 (dB, ref=max) and 0 (linear silence).
//      A non-negative mel whose values are mostly (>= 50%) below 1e-3 of its
//      max is also taken as linear (a log domain spreads its values evenly).
//   Otherwise nothing. A correctly declared mel of speech, silence, a tone or
//   noise satisfies its domain's bounds by construction and hits only its own
//   clamps, so it gets no warning. Known blind spots (deliberately not
//   guessed at): a ln mel declared log10 (or the reverse) that never reaches
//   a clamp differs only by a factor 2.303 and is not flagged; a constant mel
//   (silence) is consistent with every log domain.
// Each warning names the observed range, the likely domain (and the presets
// that use it) and the declared one, e.g. "mel values in [-11.51, 2.13] look
// ln-compressed (hifigan/tacotron2: ln(max(x, 1e-5))); the request declares
// log10 (clamp 1e-10, preset espnet): ...".
//
// Cost: two passes over the values, no allocation beyond the result.
// Pure function; thread-safe.

#ifndef SPECINV_MEL_DOMAIN_CHECK_H_
#define SPECINV_MEL_DOMAIN_CHECK_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/base/types.h"

namespace specinv {

// The value domains the check tells apart.
enum class MelValueDomain {
  kLinear,   // W |X|^power (librosa preset, MEL_DOMAIN_LINEAR)
  kLn,       // ln (hifigan, tacotron2)
  kLog10,    // log10 (espnet)
  kWhisper,  // Whisper's normalised log10
  kDb,       // power_db / amplitude_db (librosa power_to_db)
};
// "linear", "ln", "log10", "whisper", "dB".
std::string_view MelValueDomainName(MelValueDomain domain);
// The domain a declaration means: linear when `linear_input` or the scale is kNone.
MelValueDomain DeclaredMelDomain(const ScaleOptions& scale, bool linear_input);

struct MelValueStats {
  int64_t count = 0;            // finite values
  double min = 0.0, max = 0.0, mean = 0.0;
  double negative_fraction = 0.0;
  double floor_fraction = 0.0;  // fraction at the minimum (within 1e-3 relative)
};

struct MelDomainDiagnostics {
  MelValueStats stats;
  // Empty when the values fit the declared domain.
  std::vector<std::string> warnings;
  // The domain the values look like when a warning was raised (never the
  // declared one); unset when nothing was flagged or no domain fits.
  std::optional<MelValueDomain> likely_domain;
};

// Errors: InvalidArgument on field "mel" when a linear mel has a negative
// value (the message names the first one and the likely domain).
absl::StatusOr<MelDomainDiagnostics> CheckMelDomain(const RealMatrix& mel, const FeatureConfig& config,
                                                    bool linear_input);

}  // namespace specinv

#endif  // SPECINV_MEL_DOMAIN_CHECK_H_
