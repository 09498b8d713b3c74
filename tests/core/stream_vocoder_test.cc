// Copyright specinv authors.
//
// The streaming vocoder: chunking invariance, equality with the same
// algorithm run offline (RTPGHI + inverse STFT; the online Griffin-Lim window
// re-implemented here on whole buffers), isolation of interleaved streams,
// quality against the offline pghi_fgla, bounded state, lengths and errors.

#include "specinv/streaming/stream_vocoder.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

#include "specinv/io/demo_signal.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/base/fft.h"
#include "specinv/inversion/frame_processor.h"
#include "specinv/inversion/inversion.h"
#include "specinv/inversion/mel_inverse.h"
#include "specinv/inversion/mel_projection.h"
#include "specinv/inversion/pghi.h"
#include "testing/reference.h"

namespace specinv {
namespace {

using ::testing::HasSubstr;

FeatureExtractor Extractor(const std::string& preset) { return FeatureExtractor::Create(GetPreset(preset).value()).value(); }

// Reference speech at the preset's rate.
std::vector<float> Speech(const FeatureExtractor& fx) {
  double sr = 0.0;
  std::vector<float> audio =
      testing::LoadReferenceSignal(fx.config().sample_rate == 16000.0 ? "speech16k" : "speech22k", &sr);
  EXPECT_EQ(sr, fx.config().sample_rate);
  return audio;
}

RealMatrix SpeechMel(const FeatureExtractor& fx) { return fx.Mel(Speech(fx)).value(); }

// Streams `mel` in chunks of `chunk` frames (0: one chunk) and finishes.
std::vector<float> Stream(const FeatureExtractor& fx, const RealMatrix& mel, const StreamVocoderOptions& options,
                          int64_t chunk) {
  StreamVocoder vocoder = StreamVocoder::Create(fx, options).value();
  std::vector<float> out;
  const int64_t step = chunk > 0 ? chunk : mel.cols();
  for (int64_t t = 0; t < mel.cols(); t += step) {
    const absl::Status s = vocoder.PushFrames(mel.middleCols(t, std::min(step, mel.cols() - t)), &out);
    EXPECT_TRUE(s.ok()) << s;
  }
  const absl::Status s = vocoder.Finish(&out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

StreamVocoderOptions Online(int iterations, int lookahead) {
  StreamVocoderOptions o;
  o.online_iterations = iterations;
  o.lookahead_frames = lookahead;
  return o;
}

int64_t DefaultLength(const FeatureExtractor& fx, int64_t frames) {
  return FeatureLayout(fx, frames, std::nullopt).value().length;
}

// Pad of the extractor's framing (samples before the first output sample).
int64_t FramingPad(const FeatureExtractor& fx) { return FeatureLayout(fx, 1, std::nullopt).value().pad; }

double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0.0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    d = std::max(d, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
  }
  return d;
}

double ScMelDb(const FeatureExtractor& fx, const RealMatrix& mel, const std::vector<float>& audio) {
  return SpectralConvergenceDb(mel, fx.Mel(audio).value());
}

// The stream's magnitude (its default mel inverse), computed offline on the
// whole mel.
RealMatrix OfflineMagnitude(const FeatureExtractor& fx, const RealMatrix& mel) {
  const StreamVocoderOptions resolved = StreamVocoder::Create(fx).value().options();
  MelInverseOptions mo;
  mo.method = *resolved.mel_inverse;
  mo.iterations = resolved.nnls_iterations;
  mo.power = fx.config().power;
  return MelToMagnitude(fx.filterbank(), mel, mo).value();
}

ComplexMatrix Polar(const RealMatrix& magnitude, const RealMatrix& phase) {
  ComplexMatrix spec(magnitude.rows(), magnitude.cols());
  for (Eigen::Index i = 0; i < magnitude.size(); ++i) {
    const float m = magnitude.data()[i];
    const float ph = phase.data()[i];
    spec.data()[i] = {m * std::cos(ph), m * std::sin(ph)};
  }
  return spec;
}

// Inverse STFT of `spec` over the padded domain (no centring), cropped to
// the extractor's framing and default length.
std::vector<float> OfflineInverse(const FeatureExtractor& fx, const ComplexMatrix& spec) {
  StftOptions o = fx.stft().options();
  o.center = false;
  const Stft plain = Stft::Create(o).value();
  const std::vector<float> full = plain.Inverse(spec).value();
  const int64_t pad = FramingPad(fx);
  std::vector<float> out(static_cast<size_t>(DefaultLength(fx, spec.cols())), 0.0f);
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t p = static_cast<size_t>(pad) + k;
    if (p < full.size()) out[k] = full[p];
  }
  return out;
}

// The online Griffin-Lim window on whole buffers: frame e enters with its
// RTPGHI phase, the window [c, e] gets `iterations` Jacobi fast Griffin-Lim
// iterations against (committed + window frames) / (window sum of squares of
// frames 0..e) (a frame's momentum term starts at its second iteration), and
// frame c is committed once the window holds lookahead + 1 frames; at the end
// the remaining frames are iterated and committed one by one.
// With `mel` (the stream's linear mel), every iteration's target magnitude
// is the mel projection (mel_projection.h, tested on its own) of the
// rebuilt spectrum instead of `magnitude`.
std::vector<float> OfflineOnlineGriffinLim(const FeatureExtractor& fx, const RealMatrix& magnitude,
                                           const RealMatrix& phase, int iterations, int lookahead,
                                           double momentum = 0.0, const RealMatrix* mel = nullptr) {
  const int n = fx.stft().n_fft();
  const int hop = fx.stft().hop_length();
  const int bins = n / 2 + 1;
  const int64_t frames = magnitude.cols();
  const std::vector<float>& w = fx.stft().window();
  const auto fft = RealFft::Get(n);
  const float scale = 1.0f / static_cast<float>(n);
  constexpr float kTiny = std::numeric_limits<float>::min();
  const size_t total = static_cast<size_t>(n + hop * (frames - 1));
  std::vector<float> ola(total, 0.0f), wss(total, 0.0f);
  RealMatrix contribution(n, frames);
  const float beta = static_cast<float>(momentum / (1.0 + momentum));
  ComplexMatrix previous = ComplexMatrix::Zero(bins, frames);  // last rebuilt spectrum per frame
  std::vector<bool> have_previous(static_cast<size_t>(frames), false);
  AlignedVector<float> time(static_cast<size_t>(n));
  AlignedVector<std::complex<float>> spec(static_cast<size_t>(bins));
  std::optional<MelProjection> projection;
  std::vector<float> projected(static_cast<size_t>(bins)), scratch;
  if (mel != nullptr) {
    MelProjectionOptions po;
    po.power = fx.config().power;
    projection.emplace(MelProjection::Create(fx.filterbank(), po).value());
    scratch.resize(static_cast<size_t>(projection->scratch_size()));
  }
  const auto synthesise = [&](int64_t t) {
    fft->Inverse(spec.data(), time.data());
    for (int i = 0; i < n; ++i) contribution(i, t) = time[static_cast<size_t>(i)] * scale * w[static_cast<size_t>(i)];
  };
  const auto iterate = [&](int64_t c, int64_t e) {
    const int64_t s0 = c * hop;
    const int64_t s1 = e * hop + n;
    std::vector<float> x(ola.begin() + s0, ola.begin() + s1);
    for (int64_t j = c; j <= e; ++j) {
      for (int i = 0; i < n; ++i) x[static_cast<size_t>(j * hop - s0 + i)] += contribution(i, j);
    }
    for (int64_t p = s0; p < s1; ++p) {
      if (wss[static_cast<size_t>(p)] > kTiny) x[static_cast<size_t>(p - s0)] /= wss[static_cast<size_t>(p)];
    }
    for (int64_t j = c; j <= e; ++j) {
      for (int i = 0; i < n; ++i) {
        time[static_cast<size_t>(i)] = x[static_cast<size_t>(j * hop - s0 + i)] * w[static_cast<size_t>(i)];
      }
      fft->Forward(time.data(), spec.data());
      for (int k = 0; k < bins; ++k) projected[static_cast<size_t>(k)] = magnitude(k, j);
      if (projection) {
        const RealMatrix column = mel->col(j);
        projection->Project(spec.data(), column.data(), projected.data(), scratch.data());
      }
      for (int k = 0; k < bins; ++k) {
        const std::complex<float> rebuilt = spec[static_cast<size_t>(k)];
        std::complex<float> a = rebuilt;
        if (momentum != 0.0) {
          if (have_previous[static_cast<size_t>(j)]) {
            a = {rebuilt.real() - beta * previous(k, j).real(), rebuilt.imag() - beta * previous(k, j).imag()};
          }
          previous(k, j) = rebuilt;
        }
        const float g = 1.0f / (std::sqrt(a.real() * a.real() + a.imag() * a.imag()) + kTiny);
        const float m = projected[static_cast<size_t>(k)];
        spec[static_cast<size_t>(k)] = {(a.real() * g) * m, (a.imag() * g) * m};
      }
      have_previous[static_cast<size_t>(j)] = true;
      synthesise(j);
    }
  };
  const auto commit = [&](int64_t c) {
    for (int i = 0; i < n; ++i) ola[static_cast<size_t>(c * hop + i)] += contribution(i, c);
  };
  int64_t c = 0;
  for (int64_t e = 0; e < frames; ++e) {
    for (int k = 0; k < bins; ++k) {
      spec[static_cast<size_t>(k)] = {magnitude(k, e) * std::cos(phase(k, e)), magnitude(k, e) * std::sin(phase(k, e))};
    }
    synthesise(e);
    for (int i = 0; i < n; ++i) wss[static_cast<size_t>(e * hop + i)] += w[static_cast<size_t>(i)] * w[static_cast<size_t>(i)];
    for (int it = 0; it < iterations; ++it) iterate(c, e);
    if (e - c + 1 == lookahead + 1) commit(c++);
  }
  for (; c < frames; ++c) {
    for (int it = 0; it < iterations; ++it) iterate(c, frames - 1);
    commit(c);
  }
  const int64_t pad = FramingPad(fx);
  std::vector<float> out(static_cast<size_t>(DefaultLength(fx, frames)), 0.0f);
  for (size_t k = 0; k < out.size(); ++k) {
    const size_t p = static_cast<size_t>(pad) + k;
    if (p >= total) break;
    out[k] = wss[p] > kTiny ? ola[p] / wss[p] : ola[p];
  }
  return out;
}

struct ChunkCase {
  const char* name;
  StreamVocoderOptions options;
  const char* preset = "hifigan";
};

class StreamVocoderChunkingTest : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(StreamVocoderChunkingTest, ChunkingInvariance) {
  const FeatureExtractor fx = Extractor(GetParam().preset);
  const RealMatrix mel = SpeechMel(fx);
  const std::vector<float> whole = Stream(fx, mel, GetParam().options, 0);
  ASSERT_EQ(static_cast<int64_t>(whole.size()), DefaultLength(fx, mel.cols()));
  for (int64_t chunk : {1, 7, 64}) {
    SCOPED_TRACE(chunk);
    EXPECT_EQ(Stream(fx, mel, GetParam().options, chunk), whole) << "bit-identical for any chunking";
  }
  // Ragged chunks too.
  StreamVocoder vocoder = StreamVocoder::Create(fx, GetParam().options).value();
  std::vector<float> ragged;
  int64_t t = 0;
  for (int64_t size = 1; t < mel.cols(); size = size % 13 + 2) {
    const int64_t n = std::min(size, mel.cols() - t);
    ASSERT_TRUE(vocoder.PushFrames(mel.middleCols(t, n), &ragged).ok());
    t += n;
  }
  ASSERT_TRUE(vocoder.Finish(&ragged).ok());
  EXPECT_EQ(ragged, whole);
}

StreamVocoderOptions RtpghiOnly() { return Online(0, 0); }

StreamVocoderOptions Causal() {
  StreamVocoderOptions o = RtpghiOnly();
  o.rtpghi.variant = RtpghiVariant::kCausal;
  return o;
}

StreamVocoderOptions OnlineWithMomentum() {
  StreamVocoderOptions o = Online(3, 2);
  o.momentum = 0.99;
  o.mel_inverse = MelInverseMethod::kPseudoInverse;
  return o;
}

INSTANTIATE_TEST_SUITE_P(Variants, StreamVocoderChunkingTest,
                         ::testing::Values(ChunkCase{"Defaults", StreamVocoderOptions{}},
                                           ChunkCase{"WhisperDefaults", StreamVocoderOptions{}, "whisper"},
                                           ChunkCase{"RtpghiLookahead", RtpghiOnly()},
                                           ChunkCase{"RtpghiCausal", Causal()},
                                           ChunkCase{"OnlineGriffinLim", Online(1, 2)},
                                           ChunkCase{"OnlineMomentumPinv", OnlineWithMomentum()}),
                         [](const ::testing::TestParamInfo<ChunkCase>& param) { return std::string(param.param.name); });

TEST(StreamVocoderTest, MatchesOfflineRtpghiInverse) {
  for (const char* preset : {"hifigan", "tacotron2", "whisper"}) {
    SCOPED_TRACE(preset);
    const FeatureExtractor fx = Extractor(preset);
    const RealMatrix mel = SpeechMel(fx);
    for (RtpghiVariant variant : {RtpghiVariant::kLookahead, RtpghiVariant::kCausal}) {
      SCOPED_TRACE(RtpghiVariantName(variant));
      StreamVocoderOptions o = RtpghiOnly();
      o.rtpghi.variant = variant;
      const std::vector<float> streamed = Stream(fx, mel, o, 8);
      const RealMatrix magnitude = OfflineMagnitude(fx, mel);
      const RealMatrix phase = RtpghiPhase(fx.stft(), magnitude, o.rtpghi).value();
      const std::vector<float> offline = OfflineInverse(fx, Polar(magnitude, phase));
      const double diff = MaxAbsDiff(streamed, offline);
      RecordProperty(absl::StrFormat("%s_%s_max_abs_diff", preset, RtpghiVariantName(variant)), absl::StrFormat("%g", diff));
      EXPECT_LE(diff, 1e-5);
    }
  }
}

TEST(StreamVocoderTest, MatchesOfflineOnlineGriffinLim) {
  struct Case {
    const char* preset;
    StreamVocoderOptions options;
  };
  StreamVocoderOptions momentum = Online(3, 2);
  momentum.momentum = 0.5;
  StreamVocoderOptions no_projection;
  no_projection.mel_projection = false;
  StreamVocoderOptions whisper_projection;
  whisper_projection.mel_projection = true;
  for (const Case& c : {Case{"hifigan", Online(1, 0)}, Case{"hifigan", Online(3, 1)}, Case{"hifigan", {}},
                        Case{"hifigan", no_projection}, Case{"hifigan", momentum}, Case{"whisper", {}},
                        Case{"whisper", whisper_projection}}) {
    const FeatureExtractor fx = Extractor(c.preset);
    const RealMatrix mel = SpeechMel(fx);
    const StreamVocoderOptions o = StreamVocoder::Create(fx, c.options).value().options();  // defaults resolved
    const std::string name = absl::StrFormat("%s_it%d_la%d_m%g_proj%d", c.preset, *o.online_iterations,
                                             *o.lookahead_frames, *o.momentum, *o.mel_projection ? 1 : 0);
    SCOPED_TRACE(name);
    const std::vector<float> streamed = Stream(fx, mel, c.options, 5);
    const RealMatrix magnitude = OfflineMagnitude(fx, mel);
    const RealMatrix phase = RtpghiPhase(fx.stft(), magnitude, o.rtpghi).value();
    const std::vector<float> offline = OfflineOnlineGriffinLim(fx, magnitude, phase, *o.online_iterations,
                                                               *o.lookahead_frames, *o.momentum,
                                                               *o.mel_projection ? &mel : nullptr);
    const double diff = MaxAbsDiff(streamed, offline);
    RecordProperty(name + "_max_abs_diff", absl::StrFormat("%g", diff));
    EXPECT_LE(diff, 1e-5);
  }
}

TEST(StreamVocoderTest, DefaultMelInverseFollowsTheValuesPerSecond) {
  EXPECT_EQ(DefaultStreamMelInverse(Extractor("espnet").config()), MelInverseMethod::kHarmonic);  // 513 x 62.5 / s
  for (const char* preset : {"hifigan", "tacotron2", "librosa", "whisper", "whisper-128"}) {
    SCOPED_TRACE(preset);
    EXPECT_EQ(DefaultStreamMelInverse(Extractor(preset).config()), MelInverseMethod::kNnls);
  }
  // espnet's framing at a higher rate crosses the limit: 513 x 86.1 / s.
  FeatureConfig c = GetPreset("espnet").value();
  c.sample_rate = 22050.0;
  EXPECT_EQ(DefaultStreamMelInverse(c), MelInverseMethod::kNnls);
  // Few bins per band: the bands pin the magnitude.
  c = GetPreset("espnet").value();
  c.n_mels = 129;
  EXPECT_EQ(DefaultStreamMelInverse(c), MelInverseMethod::kNnls);

  const StreamVocoder harmonic = StreamVocoder::Create(Extractor("espnet")).value();
  EXPECT_EQ(harmonic.options().mel_inverse, MelInverseMethod::kHarmonic);
  EXPECT_EQ(harmonic.options().nnls_iterations, kStreamMelInverseIterations);
  const StreamVocoder nnls = StreamVocoder::Create(Extractor("hifigan")).value();
  EXPECT_EQ(nnls.options().mel_inverse, MelInverseMethod::kNnls);
  EXPECT_EQ(nnls.options().nnls_iterations, DefaultMelInverseIterations(MelInverseMethod::kNnls));
}

// On the reference speech (16 kHz), espnet's default harmonic model brings
// the streamed spectrogram closer to the recording's than the lobe grid at the
// same iterations, and the lobe grid closer than NNLS.
TEST(StreamVocoderTest, HarmonicLowersTheLinearErrorOnSpeech) {
  const FeatureExtractor fx = Extractor("espnet");
  const std::vector<float> speech = Speech(fx);
  const RealMatrix mel = fx.Mel(speech).value();
  const RealMatrix truth = fx.stft().Forward(speech).value().cwiseAbs();
  auto sc_lin_db = [&](const std::vector<float>& audio) {
    const RealMatrix m = fx.stft().Forward(audio).value().cwiseAbs();
    const Eigen::Index frames = std::min(m.cols(), truth.cols());
    return SpectralConvergenceDb(truth.leftCols(frames), m.leftCols(frames));
  };
  StreamVocoderOptions nnls;
  nnls.mel_inverse = MelInverseMethod::kNnls;
  StreamVocoderOptions lobes;
  lobes.mel_inverse = MelInverseMethod::kLobes;
  const double with_nnls = sc_lin_db(Stream(fx, mel, nnls, 8));
  const double with_lobes = sc_lin_db(Stream(fx, mel, lobes, 8));
  const double with_harmonic = sc_lin_db(Stream(fx, mel, StreamVocoderOptions(), 8));
  RecordProperty("sc_lin_db",
                 absl::StrFormat("nnls %.2f; lobes %.2f; harmonic %.2f", with_nnls, with_lobes, with_harmonic));
  // measured: nnls -16.31, lobes -16.93, harmonic -17.24
  EXPECT_LT(with_lobes, with_nnls - 0.3);
  EXPECT_LT(with_harmonic, with_lobes - 0.15);
}

TEST(StreamVocoderTest, DefaultOnlineGriffinLimFollowsTheWindowOverlap) {
  for (const char* preset : {"hifigan", "tacotron2", "espnet", "librosa"}) {
    SCOPED_TRACE(preset);
    const OnlineGriffinLimSettings d = DefaultOnlineGriffinLim(Extractor(preset).stft().options());
    EXPECT_EQ(d.online_iterations, 2);
    EXPECT_EQ(d.lookahead_frames, 4);
    EXPECT_EQ(d.momentum, 0.0);
    EXPECT_TRUE(d.mel_projection);
  }
  for (const char* preset : {"whisper", "whisper-128"}) {
    SCOPED_TRACE(preset);
    const OnlineGriffinLimSettings d = DefaultOnlineGriffinLim(Extractor(preset).stft().options());
    EXPECT_EQ(d.online_iterations, 8);
    EXPECT_EQ(d.lookahead_frames, 7);
    EXPECT_EQ(d.momentum, 0.95);
    EXPECT_FALSE(d.mel_projection);
  }
  // The boundary is 75 % overlap (win_length / hop = 4).
  StftOptions so;
  so.n_fft = 1024;
  so.win_length = 800;
  so.hop_length = 200;
  EXPECT_EQ(DefaultOnlineGriffinLim(so).online_iterations, 2);
  so.hop_length = 201;
  EXPECT_EQ(DefaultOnlineGriffinLim(so).online_iterations, 8);

  // Unset fields are resolved at Create, set ones are kept.
  const FeatureExtractor fx = Extractor("whisper");
  const StreamVocoderOptions resolved = StreamVocoder::Create(fx).value().options();
  EXPECT_EQ(resolved.online_iterations, 8);
  EXPECT_EQ(resolved.lookahead_frames, 7);
  EXPECT_EQ(resolved.momentum, 0.95);
  StreamVocoderOptions partial;
  partial.online_iterations = 0;
  const StreamVocoder rtpghi = StreamVocoder::Create(fx, partial).value();
  EXPECT_EQ(rtpghi.options().online_iterations, 0);
  EXPECT_EQ(rtpghi.options().lookahead_frames, 7);
  EXPECT_EQ(rtpghi.delay_frames(), 1) << "no window without online iterations";
  EXPECT_EQ(StreamVocoder::Create(fx).value().delay_frames(), 1 + 7);
  EXPECT_EQ(StreamVocoder::Create(Extractor("hifigan")).value().delay_frames(), 1 + 4);
}

TEST(StreamVocoderTest, InterleavedStreamsAreIsolated) {
  const FeatureExtractor hifigan = Extractor("hifigan");
  const FeatureExtractor espnet = Extractor("espnet");
  const RealMatrix mel_a = SpeechMel(hifigan);
  const RealMatrix mel_b = espnet.Mel(GenerateDemoSignal(16000.0, 2.0).value()).value();
  const StreamVocoderOptions opt_a = Online(2, 3);
  const StreamVocoderOptions opt_b = Causal();
  const std::vector<float> solo_a = Stream(hifigan, mel_a, opt_a, 0);
  const std::vector<float> solo_b = Stream(espnet, mel_b, opt_b, 0);

  StreamVocoder a = StreamVocoder::Create(hifigan, opt_a).value();
  StreamVocoder b = StreamVocoder::Create(espnet, opt_b).value();
  std::vector<float> out_a, out_b;
  int64_t ta = 0, tb = 0;
  for (int round = 0; ta < mel_a.cols() || tb < mel_b.cols(); ++round) {
    const int64_t na = std::min<int64_t>(round % 5 + 1, mel_a.cols() - ta);
    const int64_t nb = std::min<int64_t>(round % 3 + 2, mel_b.cols() - tb);
    if (na > 0) {
      ASSERT_TRUE(a.PushFrames(mel_a.middleCols(ta, na), &out_a).ok());
    }
    if (nb > 0) {
      ASSERT_TRUE(b.PushFrames(mel_b.middleCols(tb, nb), &out_b).ok());
    }
    ta += na;
    tb += nb;
  }
  ASSERT_TRUE(b.Finish(&out_b).ok());
  ASSERT_TRUE(a.Finish(&out_a).ok());
  EXPECT_EQ(out_a, solo_a);
  EXPECT_EQ(out_b, solo_b);
}

// SC_mel (dB) of the offline pghi_fgla at 32 iterations (InvertMel's
// defaults otherwise) on `mel`.
// The offline references start from the stream's own mel inverse (its method
// and iterations), so the comparisons measure what streaming costs the
// phase, not the choice of magnitude.
void UseTheStreamsMelInverse(const FeatureExtractor& fx, InversionOptions* io) {
  const StreamVocoderOptions resolved = StreamVocoder::Create(fx).value().options();
  io->mel_inverse = resolved.mel_inverse;
  io->nnls_iterations = resolved.nnls_iterations;
}

double OfflinePghiFglaScMelDb(const FeatureExtractor& fx, const RealMatrix& mel) {
  InversionOptions io;
  io.method = InversionMethod::kPghiFgla;
  UseTheStreamsMelInverse(fx, &io);
  io.iterations = 32;
  return ScMelDb(fx, mel, InvertMel(fx, mel, io).value().audio);
}

// The quality target, with default options, for every TTS preset:
// on the generated voice-like demo phrase and on the reference speech, as a
// TTS model sends them (log-mel, decompressed: Whisper's floor at max - 8
// included).
TEST(StreamVocoderTest, DefaultsWithinOnePointFiveDbOfOfflinePghiFgla) {
  for (const char* preset : {"hifigan", "tacotron2", "espnet", "whisper", "whisper-128"}) {
    const FeatureExtractor fx = Extractor(preset);
    const std::vector<float> demo = GenerateDemoSignal(fx.config().sample_rate, 3.0).value();
    for (const auto& [signal, audio] : {std::pair{"demo", demo}, std::pair{"speech", Speech(fx)}}) {
      SCOPED_TRACE(absl::StrCat(preset, " ", signal));
      const RealMatrix mel = fx.Decompress(fx.LogMel(audio).value()).value();
      const double offline = OfflinePghiFglaScMelDb(fx, mel);
      const double streamed = ScMelDb(fx, mel, Stream(fx, mel, {}, 8));
      const double rtpghi = ScMelDb(fx, mel, Stream(fx, mel, RtpghiOnly(), 8));
      RecordProperty(absl::StrCat(preset, "_", signal, "_sc_mel_db"),
                     absl::StrFormat("pghi_fgla32 %.2f; streamed defaults %.2f, rtpghi only %.2f", offline, streamed,
                                     rtpghi));
      EXPECT_LE(streamed, offline + 1.5) << "within 1.5 dB of pghi_fgla at 32 iterations";
      EXPECT_LT(streamed, rtpghi - 1.0) << "the online iterations improve on RTPGHI";
    }
  }
}

TEST(StreamVocoderTest, MelProjectionLowersTheMelError) {
  // Re-estimating each window frame's magnitude from its mel, instead of
  // keeping the mel inverse's, brings the streamed audio's mel closer to the
  // input's, at every overlap.
  for (const char* preset : {"hifigan", "espnet", "whisper"}) {
    const FeatureExtractor fx = Extractor(preset);
    SCOPED_TRACE(preset);
    const RealMatrix mel = fx.Decompress(fx.LogMel(Speech(fx)).value()).value();
    StreamVocoderOptions with, without;
    with.mel_projection = true;
    without.mel_projection = false;
    const double projected = ScMelDb(fx, mel, Stream(fx, mel, with, 8));
    const double kept = ScMelDb(fx, mel, Stream(fx, mel, without, 8));
    RecordProperty(absl::StrCat(preset, "_sc_mel_db"),
                   absl::StrFormat("with projection %.2f, without %.2f", projected, kept));
    EXPECT_LT(projected, kept - 0.25);
  }
}

TEST(StreamVocoderTest, RtpghiIsAboutAsGoodAsOfflinePghi) {
  for (const char* preset : {"hifigan", "tacotron2", "espnet", "whisper"}) {
    SCOPED_TRACE(preset);
    const FeatureExtractor fx = Extractor(preset);
    const RealMatrix mel = SpeechMel(fx);
    InversionOptions io;
    io.method = InversionMethod::kPghi;
    UseTheStreamsMelInverse(fx, &io);
    const double offline_pghi = ScMelDb(fx, mel, InvertMel(fx, mel, io).value().audio);
    const double rtpghi = ScMelDb(fx, mel, Stream(fx, mel, RtpghiOnly(), 8));
    RecordProperty(std::string(preset) + "_sc_mel_db",
                   absl::StrFormat("offline pghi %.2f; streamed rtpghi %.2f", offline_pghi, rtpghi));
    EXPECT_LE(rtpghi, offline_pghi + 1.0);
  }
}

TEST(StreamVocoderTest, StateIsBoundedAndOutputTrailsInputByTheDelay) {
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix mel = SpeechMel(fx);
  const StreamVocoderOptions o = Online(2, 3);
  StreamVocoder vocoder = StreamVocoder::Create(fx, o).value();
  EXPECT_EQ(vocoder.delay_frames(), 1 + 3);
  const size_t bytes = vocoder.state_bytes();
  EXPECT_LT(bytes, size_t{512} * 1024);
  const int hop = fx.stft().hop_length();
  const int64_t overlap_frames = (fx.stft().n_fft() + hop - 1) / hop - 1;
  const int64_t max_lag = (vocoder.delay_frames() + overlap_frames + 1) * hop;
  std::vector<float> out;
  // About 60 s of frames, cycling through the utterance.
  for (int64_t pushed = 0; pushed < 5200; pushed += 16) {
    const int64_t start = pushed % (mel.cols() - 16);
    ASSERT_TRUE(vocoder.PushFrames(mel.middleCols(start, 16), &out).ok());
    ASSERT_EQ(vocoder.state_bytes(), bytes) << "no per-stream growth";
    ASSERT_EQ(static_cast<int64_t>(out.size()), vocoder.samples_emitted());
    ASSERT_LE(vocoder.frames_pushed() * hop - vocoder.samples_emitted(), max_lag);
  }
  ASSERT_TRUE(vocoder.Finish(&out).ok());
  EXPECT_EQ(static_cast<int64_t>(out.size()), DefaultLength(fx, vocoder.frames_pushed()));
}

TEST(StreamVocoderTest, FinishEmitsTheDefaultLengthOfEveryPresetFraming) {
  for (const std::string& preset : PresetNames()) {
    SCOPED_TRACE(preset);
    const FeatureExtractor fx = Extractor(preset);
    for (int64_t frames : {1, 2, 3, 10, 41}) {
      SCOPED_TRACE(frames);
      const RealMatrix mel = RealMatrix::Constant(fx.config().n_mels, frames, 0.1f);
      for (const StreamVocoderOptions& o : {StreamVocoderOptions{}, Causal(), Online(1, 2)}) {
        const std::vector<float> audio = Stream(fx, mel, o, 3);
        ASSERT_EQ(static_cast<int64_t>(audio.size()), DefaultLength(fx, frames));
        EXPECT_EQ(fx.NumFrames(static_cast<int64_t>(audio.size())), frames);
        for (float v : audio) ASSERT_TRUE(std::isfinite(v));
      }
    }
  }
}

TEST(StreamVocoderTest, ZeroInput) {
  const FeatureExtractor fx = Extractor("hifigan");
  const std::vector<float> silent = Stream(fx, RealMatrix::Zero(80, 20), Online(2, 2), 4);
  ASSERT_EQ(static_cast<int64_t>(silent.size()), DefaultLength(fx, 20));
  for (float v : silent) ASSERT_EQ(v, 0.0f);
  // No frames at all: nothing to emit.
  StreamVocoder vocoder = StreamVocoder::Create(fx).value();
  std::vector<float> out;
  ASSERT_TRUE(vocoder.Finish(&out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(StreamVocoderTest, InvalidInput) {
  const FeatureExtractor fx = Extractor("hifigan");
  StreamVocoder vocoder = StreamVocoder::Create(fx).value();
  std::vector<float> out;
  EXPECT_EQ(vocoder.PushFrames(RealMatrix::Ones(79, 4), &out).message(), "mel must have n_mels = 80 rows, got 79");
  EXPECT_EQ(vocoder.PushFrames(RealMatrix::Ones(80, 0), &out).message(), "mel must have at least 1 frame, got 0");
  ASSERT_TRUE(vocoder.PushFrames(RealMatrix::Ones(80, 5), &out).ok());
  RealMatrix bad = RealMatrix::Ones(80, 4);
  bad(3, 2) = std::nanf("");
  const absl::Status nan = vocoder.PushFrames(bad, &out);
  EXPECT_EQ(nan.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(nan.message(), HasSubstr("mel (bin 3, frame 7 of the stream) is nan"));
  bad(3, 2) = -1.0f;
  EXPECT_THAT(vocoder.PushFrames(bad, &out).message(), HasSubstr("(bin 3, frame 7 of the stream) is -1"));
  EXPECT_EQ(vocoder.frames_pushed(), 5) << "a rejected chunk is not consumed";
  ASSERT_TRUE(vocoder.Finish(&out).ok());
  EXPECT_EQ(static_cast<int64_t>(out.size()), DefaultLength(fx, 5));
  EXPECT_EQ(vocoder.PushFrames(RealMatrix::Ones(80, 1), &out).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(vocoder.Finish(&out).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(StreamVocoderTest, InvalidOptions) {
  const FeatureExtractor fx = Extractor("hifigan");
  StreamVocoderOptions o;
  o.online_iterations = 33;
  EXPECT_EQ(StreamVocoder::Create(fx, o).status().message(), "online_iterations must be in [0, 32], got 33");
  o = {};
  o.lookahead_frames = -1;
  EXPECT_EQ(StreamVocoder::Create(fx, o).status().message(), "lookahead_frames must be in [0, 16], got -1");
  o = {};
  o.momentum = 2.0;
  EXPECT_EQ(StreamVocoder::Create(fx, o).status().message(), "momentum must be in [0, 2), got 2");
  o = {};
  o.nnls_iterations = -1;
  EXPECT_THAT(StreamVocoder::Create(fx, o).status().message(), HasSubstr("nnls_iterations must be in [0, 100000]"));
  o = {};
  o.rtpghi.tolerance_db = 1.0;
  EXPECT_THAT(StreamVocoder::Create(fx, o).status().message(), HasSubstr("tolerance_db must be in [-200, 0]"));
  o = {};
  o.rtpghi.gradient_floor_db = -300.0;
  EXPECT_THAT(StreamVocoder::Create(fx, o).status().message(), HasSubstr("gradient_floor_db must be in [-200, 0]"));
  o = {};
  o.rtpghi.gamma = 0.0;
  EXPECT_THAT(StreamVocoder::Create(fx, o).status().message(), HasSubstr("gamma"));
  EXPECT_EQ(ParseRtpghiVariant("causal").value(), RtpghiVariant::kCausal);
  EXPECT_EQ(ParseRtpghiVariant("lookahead").value(), RtpghiVariant::kLookahead);
  EXPECT_FALSE(ParseRtpghiVariant("offline").ok());
}

TEST(RtpghiPhaseTest, ReconstructsAnStftMagnitudeNearlyAsWellAsPghi) {
  double sr = 0.0;
  const std::vector<float> speech = testing::LoadReferenceSignal("speech22k", &sr);
  StftOptions so;
  so.n_fft = 1024;
  so.hop_length = 256;
  const Stft stft = Stft::Create(so).value();
  const RealMatrix magnitude = stft.Forward(speech).value().cwiseAbs();
  const auto sc = [&](const RealMatrix& phase) {
    const std::vector<float> y = stft.Inverse(Polar(magnitude, phase), static_cast<int64_t>(speech.size())).value();
    return SpectralConvergenceDb(magnitude, stft.Forward(y).value().cwiseAbs());
  };
  const double pghi = sc(PghiPhase(stft, magnitude).value());
  RtpghiOptions o;
  const double lookahead = sc(RtpghiPhase(stft, magnitude, o).value());
  o.variant = RtpghiVariant::kCausal;
  const double causal = sc(RtpghiPhase(stft, magnitude, o).value());
  const double zero = sc(RealMatrix::Zero(magnitude.rows(), magnitude.cols()));
  EXPECT_LE(lookahead, pghi + 3.0);
  EXPECT_LE(lookahead, -18.0);
  EXPECT_LT(lookahead, causal) << "the centred difference beats the backward one";
  EXPECT_LT(causal, zero - 6.0);
}

TEST(RtpghiPhaseTest, InvalidInput) {
  const Stft stft = Stft::Create({}).value();
  EXPECT_EQ(RtpghiPhase(stft, RealMatrix::Ones(10, 3)).status().message(),
            "magnitude must have n_fft/2+1 = 1025 rows (bins) for n_fft=2048, got 10");
  EXPECT_EQ(RtpghiPhase(stft, RealMatrix::Ones(1025, 0)).status().message(), "magnitude must have at least 1 frame, got 0");
  RealMatrix bad = RealMatrix::Ones(1025, 3);
  bad(0, 1) = -1.0f;
  EXPECT_EQ(RtpghiPhase(stft, bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace specinv
