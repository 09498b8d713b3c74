// Copyright specinv authors.
//
// Preset log-domain round trips, as a TTS pipeline uses them: analyse speech
// with a preset (its own compression: ln, log10, Whisper's normalised log10,
// dB), undo the compression with the same preset, invert with `refine`, and
// compare the mel of the result with the mel of the original.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/inversion.h"
#include "testing/reference.h"

namespace specinv {
namespace {

struct RoundTrip {
  double decompress_db;  // SC of the decompressed mel against the analysed one
  double sc_mel_db;      // SC of the inverted audio's mel against the analysed one
};

RoundTrip AnalyseAndInvert(const FeatureConfig& config) {
  const FeatureExtractor fx = FeatureExtractor::Create(config).value();
  double sr = 0.0;
  const std::vector<float> audio =
      testing::LoadReferenceSignal(config.sample_rate == 16000.0 ? "speech16k" : "speech22k", &sr);
  EXPECT_EQ(sr, config.sample_rate);
  const RealMatrix mel = fx.Mel(audio).value();
  const RealMatrix log_mel = fx.LogMel(audio).value();
  const RealMatrix linear = fx.Decompress(log_mel).value();
  InversionOptions o;
  o.method = InversionMethod::kRefine;
  o.length = static_cast<int64_t>(audio.size());
  const InversionResult result = InvertMel(fx, linear, o).value();
  EXPECT_EQ(result.audio.size(), audio.size());
  return {SpectralConvergenceDb(mel, linear), SpectralConvergenceDb(mel, fx.Mel(result.audio).value())};
}

TEST(PresetRoundTripTest, LogMelOfEveryPresetInvertsWithRefineBelowMinus25Db) {
  for (const std::string& name : PresetNames()) {
    SCOPED_TRACE(name);
    const FeatureConfig config = GetPreset(name).value();
    const RoundTrip r = AnalyseAndInvert(config);
    RecordProperty(name + "_sc_mel_db", r.sc_mel_db);
    // The compression is undone exactly (up to float rounding and the clamps,
    // which only touch values far below the signal).
    EXPECT_LE(r.decompress_db, -90.0);
    EXPECT_LE(r.sc_mel_db, -25.0);
  }
}

TEST(PresetRoundTripTest, DecibelMelWithFixedReferenceInvertsBelowMinus25Db) {
  FeatureConfig config = GetPreset("tacotron2").value();
  config.preset.clear();
  config.scale.kind = ScaleKind::kPowerDb;
  config.scale.ref = 1.0;
  config.scale.top_db = 80.0;
  const RoundTrip r = AnalyseAndInvert(config);
  RecordProperty("power_db_sc_mel_db", r.sc_mel_db);
  EXPECT_LE(r.decompress_db, -60.0) << "only the values 80 dB under the peak are lost";
  EXPECT_LE(r.sc_mel_db, -25.0);
}

}  // namespace
}  // namespace specinv
