// Copyright specinv authors.
//
// Mel input-domain diagnostics: every preset's own mel (speech, silence, a
// tone, noise) passes silently when declared correctly, and each preset's mel
// declared as every other domain is flagged with its true domain (or, declared
// linear while negative, rejected).

#include "specinv/inversion/mel_domain_check.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/base/field_error.h"
#include "specinv/io/demo_signal.h"
#include "testing/reference.h"
#include "testing/signals.h"

namespace specinv {
namespace {

// A source of mels: a preset (or librosa with power_to_db) and its domain.
struct Source {
  std::string name;
  FeatureConfig config;
  MelValueDomain domain;
};

FeatureConfig LibrosaDb() {
  FeatureConfig c = GetPreset("librosa").value();
  c.preset = "";
  c.scale.kind = ScaleKind::kPowerDb;  // ref = max, top_db 80: librosa.power_to_db(S, ref=np.max)
  return c;
}

std::vector<Source> Sources() {
  return {
      {"librosa", GetPreset("librosa").value(), MelValueDomain::kLinear},
      {"librosa_db", LibrosaDb(), MelValueDomain::kDb},
      {"hifigan", GetPreset("hifigan").value(), MelValueDomain::kLn},
      {"tacotron2", GetPreset("tacotron2").value(), MelValueDomain::kLn},
      {"espnet", GetPreset("espnet").value(), MelValueDomain::kLog10},
      {"whisper", GetPreset("whisper").value(), MelValueDomain::kWhisper},
      {"whisper-128", GetPreset("whisper-128").value(), MelValueDomain::kWhisper},
  };
}

// An utterance as a TTS corpus holds it: the demo phrase with a quarter
// second of digital silence before and after.
std::vector<float> Utterance(double sr) {
  std::vector<float> speech = GenerateDemoSignal(sr, 2.0).value();
  std::vector<float> out(static_cast<size_t>(sr / 4), 0.0f);
  out.insert(out.end(), speech.begin(), speech.end());
  out.resize(out.size() + static_cast<size_t>(sr / 4), 0.0f);
  return out;
}

std::vector<std::pair<std::string, std::vector<float>>> Signals(double sr) {
  const auto n = static_cast<int64_t>(sr);
  std::vector<std::pair<std::string, std::vector<float>>> out;
  out.emplace_back("utterance", Utterance(sr));
  out.emplace_back("demo", GenerateDemoSignal(sr, 2.0).value());
  double ref_sr = 0.0;
  out.emplace_back("speech", testing::LoadReferenceSignal(sr == 16000.0 ? "speech16k" : "speech22k", &ref_sr));
  out.emplace_back("silence", std::vector<float>(static_cast<size_t>(n), 0.0f));
  out.emplace_back("tone", testing::Sine(440.0, sr, n, 0.5));
  out.emplace_back("quiet_tone", testing::Sine(1000.0, sr, n, 1e-3));
  out.emplace_back("noise", testing::WhiteNoise(n, 7, 0.5));
  out.emplace_back("loud_noise", testing::WhiteNoise(n, 8, 1.0));
  out.emplace_back("quiet_noise", testing::WhiteNoise(n, 9, 1e-4));
  return out;
}

// What a warning says about each domain (the DescribeDomain prefix).
std::string Phrase(MelValueDomain d) {
  switch (d) {
    case MelValueDomain::kLinear: return "look linear";
    case MelValueDomain::kLn: return "look ln-compressed";
    case MelValueDomain::kLog10: return "look log10-compressed";
    case MelValueDomain::kWhisper: return "look Whisper-scaled";
    case MelValueDomain::kDb: return "look dB";
  }
  return "";
}

TEST(MelDomainCheckTest, CorrectDomainGivesNoWarning) {
  for (const Source& source : Sources()) {
    const FeatureExtractor fx = FeatureExtractor::Create(source.config).value();
    for (const auto& [signal, audio] : Signals(source.config.sample_rate)) {
      SCOPED_TRACE(source.name + " / " + signal);
      const RealMatrix log_mel = fx.LogMel(audio).value();
      absl::StatusOr<MelDomainDiagnostics> d = CheckMelDomain(log_mel, source.config, /*linear_input=*/false);
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_TRUE(d->warnings.empty()) << d->warnings.front();
      EXPECT_FALSE(d->likely_domain.has_value());
      // The same mel uncompressed, declared linear.
      absl::StatusOr<MelDomainDiagnostics> lin = CheckMelDomain(fx.Mel(audio).value(), source.config, true);
      ASSERT_TRUE(lin.ok()) << lin.status();
      EXPECT_TRUE(lin->warnings.empty()) << lin->warnings.front();
    }
  }
}

// Every source's utterance declared as every other domain (each preset's
// scale, librosa's dB, linear by scale none and by the linear flag).
void ExpectMisdeclarationsFlagged(const std::string& signal_name) {
  struct Declaration {
    std::string name;
    ScaleOptions scale;
    std::string preset;
    bool linear_input;
  };
  std::vector<Declaration> declarations;
  for (const Source& s : Sources()) declarations.push_back({s.name, s.config.scale, s.config.preset, false});
  declarations.push_back({"linear_input", ScaleOptions{}, "", true});

  int flagged = 0, rejected = 0;
  for (const Source& source : Sources()) {
    const FeatureExtractor fx = FeatureExtractor::Create(source.config).value();
    std::vector<float> audio;
    for (auto& [name, a] : Signals(source.config.sample_rate)) {
      if (name == signal_name) audio = a;
    }
    const RealMatrix log_mel = fx.LogMel(audio).value();
    for (const Declaration& decl : declarations) {
      SCOPED_TRACE(source.name + " mel declared as " + decl.name);
      FeatureConfig declared = source.config;
      declared.scale = decl.scale;
      declared.preset = decl.preset;
      absl::StatusOr<MelDomainDiagnostics> d = CheckMelDomain(log_mel, declared, decl.linear_input);
      if (DeclaredMelDomain(decl.scale, decl.linear_input) == source.domain) {
        ASSERT_TRUE(d.ok()) << d.status();
        EXPECT_TRUE(d->warnings.empty()) << d->warnings.front();
        continue;
      }
      if (DeclaredMelDomain(decl.scale, decl.linear_input) == MelValueDomain::kLinear && log_mel.minCoeff() < 0) {
        ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << d.status();
        EXPECT_EQ(FieldOf(d.status()), "mel");
        EXPECT_NE(d.status().message().find(Phrase(source.domain)), std::string::npos) << d.status();
        ++rejected;
        continue;
      }
      ASSERT_TRUE(d.ok()) << d.status();
      ASSERT_EQ(d->warnings.size(), 1u);
      EXPECT_EQ(d->likely_domain, source.domain) << d->warnings.front();
      EXPECT_NE(d->warnings.front().find(Phrase(source.domain)), std::string::npos) << d->warnings.front();
      ++flagged;
    }
  }
  EXPECT_GT(flagged, 0);
  EXPECT_GT(rejected, 0);
}

TEST(MelDomainCheckTest, FlagsEveryPresetMisdeclaredAsEveryOtherDomain) {
  ExpectMisdeclarationsFlagged("utterance");
}

TEST(MelDomainCheckTest, DetectsLnDeclaredAsLog10) {
  const FeatureConfig hifigan = GetPreset("hifigan").value();
  const RealMatrix mel = FeatureExtractor::Create(hifigan).value().LogMel(Utterance(22050.0)).value();
  FeatureConfig declared = hifigan;
  declared.scale = GetPreset("espnet").value().scale;
  declared.preset = "espnet";
  const MelDomainDiagnostics d = CheckMelDomain(mel, declared, false).value();
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.likely_domain, MelValueDomain::kLn);
  EXPECT_NE(d.warnings[0].find("hifigan/tacotron2"), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("preset espnet"), std::string::npos) << d.warnings[0];
}

TEST(MelDomainCheckTest, DetectsWhisperDeclaredAsLn) {
  const FeatureConfig whisper = GetPreset("whisper").value();
  const RealMatrix mel = FeatureExtractor::Create(whisper).value().LogMel(Utterance(16000.0)).value();
  FeatureConfig declared = whisper;
  declared.scale = GetPreset("hifigan").value().scale;
  const MelDomainDiagnostics d = CheckMelDomain(mel, declared, false).value();
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.likely_domain, MelValueDomain::kWhisper);
}

TEST(MelDomainCheckTest, NegativeLinearIsRejectedOnFieldMel) {
  RealMatrix mel = RealMatrix::Constant(4, 3, 1.0f);
  mel(2, 1) = -0.5f;
  const FeatureConfig librosa = GetPreset("librosa").value();
  absl::StatusOr<MelDomainDiagnostics> d = CheckMelDomain(mel, librosa, true);
  ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(d.status()), "mel");
  EXPECT_NE(d.status().message().find("bin 2, frame 1"), std::string::npos) << d.status();
  // Scale none means linear too.
  EXPECT_EQ(CheckMelDomain(mel, librosa, false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(MelDomainCheckTest, NonFiniteValuesAreSkipped) {
  RealMatrix mel = RealMatrix::Constant(4, 3, -3.0f);
  mel(0, 0) = std::numeric_limits<float>::quiet_NaN();
  mel(1, 0) = std::numeric_limits<float>::infinity();
  const MelDomainDiagnostics d = CheckMelDomain(mel, GetPreset("hifigan").value(), false).value();
  EXPECT_EQ(d.stats.count, 10);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MelDomainCheckTest, EmptyMelGivesNoWarning) {
  const MelDomainDiagnostics d = CheckMelDomain(RealMatrix(80, 0), GetPreset("espnet").value(), false).value();
  EXPECT_EQ(d.stats.count, 0);
  EXPECT_TRUE(d.warnings.empty());
}

TEST(MelDomainCheckTest, StatsAreComputed) {
  RealMatrix mel(2, 2);
  mel << -2.0f, 1.0f, -2.0f, 3.0f;
  const MelDomainDiagnostics d = CheckMelDomain(mel, GetPreset("hifigan").value(), false).value();
  EXPECT_EQ(d.stats.min, -2.0);
  EXPECT_EQ(d.stats.max, 3.0);
  EXPECT_DOUBLE_EQ(d.stats.mean, 0.0);
  EXPECT_DOUBLE_EQ(d.stats.negative_fraction, 0.5);
  EXPECT_DOUBLE_EQ(d.stats.floor_fraction, 0.5);
}

}  // namespace
}  // namespace specinv
