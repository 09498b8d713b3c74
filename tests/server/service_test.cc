// Copyright specinv authors.
//
// End-to-end tests of every RPC against an in-process server: results are
// identical to calling the core library directly.

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "grpc/health/v1/health.grpc.pb.h"
#include "absl/strings/str_cat.h"
#include "specinv/base/fft_plan_cache.h"
#include "server/service.h"
#include "server/test_server.h"
#include "specinv/io/audio_io.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/inversion/inversion.h"
#include "specinv/io/npy.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

FeatureExtractor Extractor(const std::string& preset) {
  auto config = GetPreset(preset);
  EXPECT_TRUE(config.ok());
  auto extractor = FeatureExtractor::Create(*config);
  EXPECT_TRUE(extractor.ok());
  return *std::move(extractor);
}

class ServiceTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(ServiceTest, GetServerInfoReportsPresetsMethodsLimitsAndPool) {
  v1::GetServerInfoResponse info;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::GetServerInfo, {}, &info).ok());
  EXPECT_EQ(info.version(), SPECINV_VERSION);
  std::vector<std::string> names;
  for (const auto& p : info.presets()) names.push_back(p.name());
  EXPECT_THAT(names, ElementsAreArray(PresetNames()));
  for (const auto& p : info.presets()) {
    auto preset = GetPreset(p.name());
    ASSERT_TRUE(preset.ok());
    EXPECT_EQ(p.config().n_fft(), preset->stft.n_fft) << p.name();
    EXPECT_EQ(p.config().hop_length(), preset->stft.hop_length) << p.name();
    EXPECT_EQ(p.config().n_mels(), preset->n_mels) << p.name();
    EXPECT_DOUBLE_EQ(p.config().sample_rate_hertz(), preset->sample_rate) << p.name();
    EXPECT_FALSE(p.description().empty()) << p.name();
  }
  EXPECT_EQ(info.methods_size(), 6);
  EXPECT_EQ(info.methods(5), v1::INVERSION_METHOD_JOINT);
  const server::ServerOptions options = TestOptions();
  EXPECT_EQ(info.limits().max_message_bytes(), options.limits.max_message_bytes);
  EXPECT_EQ(info.limits().max_iterations(), options.limits.max_iterations);
  EXPECT_EQ(info.limits().max_n_fft(), options.limits.max_n_fft);
  EXPECT_DOUBLE_EQ(info.limits().max_audio_duration_seconds(), options.limits.max_audio_seconds);
  EXPECT_EQ(info.worker_count(), 2);
  EXPECT_EQ(info.queue_capacity(), 64);
  EXPECT_THAT(std::vector<std::string>(info.implemented_rpcs().begin(), info.implemented_rpcs().end()),
              ::testing::Contains("specinv.v1.Spectrogram/InvertMel"));
  EXPECT_FALSE(info.auth_required());
  EXPECT_FALSE(info.tls_enabled());
}

TEST_F(ServiceTest, HealthServingForServerAndService) {
  auto health = grpc::health::v1::Health::NewStub(server_.NewChannel());
  for (const std::string service : {"", "specinv.v1.Spectrogram"}) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    auto ctx = Context();
    ASSERT_TRUE(health->Check(ctx.get(), request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(ServiceTest, RequestIdIsEchoedOrGenerated) {
  // The id travels in trailing metadata, OK or not; no initial metadata of
  // the server's own (an error before any response is then Trailers-Only and
  // stays retryable by a client retry policy).
  v1::GetServerInfoResponse info;
  auto ctx = Context();
  ctx->AddMetadata("x-request-id", "abc-123");
  ASSERT_TRUE(server_.stub().GetServerInfo(ctx.get(), {}, &info).ok());
  auto it = ctx->GetServerTrailingMetadata().find("x-request-id");
  ASSERT_NE(it, ctx->GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "abc-123");
  EXPECT_EQ(ctx->GetServerInitialMetadata().count("x-request-id"), 0u);

  auto ctx2 = Context();
  v1::AnalyzeRequest request;  // invalid, still gets an id
  v1::AnalyzeResponse response;
  EXPECT_FALSE(server_.stub().Analyze(ctx2.get(), request, &response).ok());
  auto it2 = ctx2->GetServerTrailingMetadata().find("x-request-id");
  ASSERT_NE(it2, ctx2->GetServerTrailingMetadata().end());
  EXPECT_EQ(it2->second.size(), 16u);
  EXPECT_TRUE(ctx2->GetServerInitialMetadata().empty());
}

TEST_F(ServiceTest, AnalyzeMatchesCoreForEveryKind) {
  const std::vector<float> audio = Chirp(100.0, 6000.0, 22050.0, 22050);
  const FeatureExtractor fx = Extractor("hifigan");
  for (v1::SpectrogramKind kind : {v1::SPECTROGRAM_KIND_STFT_MAGNITUDE, v1::SPECTROGRAM_KIND_PHASE,
                                   v1::SPECTROGRAM_KIND_MEL, v1::SPECTROGRAM_KIND_LOG_MEL}) {
    v1::AnalyzeRequest request;
    *request.mutable_audio() = PcmAudio(audio, 22050);
    request.mutable_config()->set_preset("hifigan");
    request.set_kind(kind);
    v1::AnalyzeResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    RealMatrix expected;
    switch (kind) {
      case v1::SPECTROGRAM_KIND_STFT_MAGNITUDE: expected = *fx.Magnitude(audio); break;
      case v1::SPECTROGRAM_KIND_PHASE: expected = fx.ComplexSpectrogram(audio)->array().arg().matrix(); break;
      case v1::SPECTROGRAM_KIND_MEL: expected = *fx.Mel(audio); break;
      default: expected = *fx.LogMel(audio); break;
    }
    ASSERT_EQ(response.spectrogram().shape_size(), 2);
    EXPECT_EQ(response.spectrogram().shape(0), expected.rows());
    EXPECT_EQ(response.spectrogram().shape(1), expected.cols());
    EXPECT_EQ(Floats(response.spectrogram()), RowMajor(expected)) << v1::SpectrogramKind_Name(kind);
    EXPECT_EQ(response.kind(), kind);
    EXPECT_EQ(response.num_samples(), 22050);
    EXPECT_DOUBLE_EQ(response.audio_duration_seconds(), 1.0);
    EXPECT_EQ(response.effective_config().preset(), "hifigan");
  }
}

TEST_F(ServiceTest, AnalyzeComplexFramesBinsAndNpy) {
  const std::vector<float> audio = Sine(440.0, 22050.0, 8000);
  const FeatureExtractor fx = Extractor("librosa");
  const ComplexMatrix expected = *fx.ComplexSpectrogram(audio);

  v1::AnalyzeRequest request;
  *request.mutable_audio() = PcmAudio(audio, 22050);
  request.set_kind(v1::SPECTROGRAM_KIND_COMPLEX_STFT);
  request.set_layout(v1::TENSOR_LAYOUT_FRAMES_BINS);
  v1::AnalyzeResponse response;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response).ok());
  // (frames, bins, 2) in C order is the column-major complex matrix's memory.
  ASSERT_EQ(response.spectrogram().shape_size(), 3);
  EXPECT_EQ(response.spectrogram().shape(0), expected.cols());
  EXPECT_EQ(response.spectrogram().shape(1), expected.rows());
  EXPECT_EQ(response.spectrogram().shape(2), 2);
  ASSERT_EQ(response.spectrogram().float32_data().size(), static_cast<size_t>(expected.size()) * 8);
  EXPECT_EQ(std::memcmp(response.spectrogram().float32_data().data(), expected.data(), expected.size() * 8), 0);

  request.set_tensor_format(v1::TENSOR_FORMAT_NPY);
  request.set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
  auto ctx2 = Context();
  ASSERT_TRUE(server_.stub().Analyze(ctx2.get(), request, &response).ok());
  auto array = ParseNpy(AsBytes(response.spectrogram().npy_data()));
  ASSERT_TRUE(array.ok()) << array.status();
  auto back = NpyToComplexMatrix(*array, MatrixLayout::kBinsFrames);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == expected);
}

TEST_F(ServiceTest, AnalyzeDecodesWavAndResamplesToTheConfigRate) {
  // 1 s at 44100 Hz as a 16-bit WAV; the librosa preset analyses at 22050 Hz.
  const std::vector<float> audio = Sine(1000.0, 44100.0, 44100);
  auto wav = EncodeAudio(audio, 44100.0, AudioEncoding::kWavPcm16);
  ASSERT_TRUE(wav.ok());
  v1::AnalyzeRequest request;
  request.mutable_audio()->set_encoded_data(*wav);
  request.set_kind(v1::SPECTROGRAM_KIND_MEL);
  v1::AnalyzeResponse response;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response).ok());
  EXPECT_EQ(response.num_samples(), 22050);

  DecodeOptions options;
  options.target_sample_rate = 22050.0;
  auto decoded = DecodeAudio(AsBytes(*wav), options);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(Floats(response.spectrogram()), RowMajor(*Extractor("librosa").Mel(decoded->samples)));
}

TEST_F(ServiceTest, ExplicitFieldsOverrideThePreset) {
  v1::AnalyzeRequest request;
  *request.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 4096), 22050);
  request.mutable_config()->set_preset("tacotron2");
  request.mutable_config()->set_n_mels(40);
  request.mutable_config()->set_n_fft(512);
  request.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
  v1::AnalyzeResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::SpectrogramConfig& c = response.effective_config();
  EXPECT_EQ(c.n_mels(), 40);
  EXPECT_EQ(c.n_fft(), 512);
  EXPECT_EQ(c.win_length(), 512);  // the preset's full-length window follows n_fft
  EXPECT_EQ(c.hop_length(), 256);  // kept from the preset
  EXPECT_DOUBLE_EQ(c.fmax_hertz(), 8000.0);
  EXPECT_EQ(c.scale().kind(), v1::SCALE_KIND_LN);
  EXPECT_EQ(response.spectrogram().shape(0), 40);

  FeatureConfig expected_config = *GetPreset("tacotron2");
  expected_config.n_mels = 40;
  expected_config.stft.n_fft = 512;
  expected_config.stft.win_length = 0;
  auto fx = FeatureExtractor::Create(expected_config);
  ASSERT_TRUE(fx.ok());
  std::vector<float> audio = Sine(440.0, 22050.0, 4096);
  EXPECT_EQ(Floats(response.spectrogram()), RowMajor(*fx->LogMel(audio)));
}

// Mel of a test chirp in the hifigan preset's log domain, and the matching
// linear mel for calling core directly.
struct MelCase {
  FeatureExtractor fx;
  RealMatrix log_mel;
  RealMatrix linear_mel;
};

MelCase MakeMelCase(int64_t num_samples = 22050) {
  FeatureExtractor fx = Extractor("hifigan");
  const std::vector<float> audio = Chirp(200.0, 4000.0, 22050.0, num_samples);
  RealMatrix log_mel = *fx.LogMel(audio);
  RealMatrix linear = *fx.Decompress(log_mel);
  return MelCase{std::move(fx), std::move(log_mel), std::move(linear)};
}

TEST_F(ServiceTest, InvertMelMatchesCoreBitExactly) {
  const MelCase mc = MakeMelCase();
  for (v1::InversionMethod method :
       {v1::INVERSION_METHOD_FGLA, v1::INVERSION_METHOD_PGHI_FGLA, v1::INVERSION_METHOD_JOINT}) {
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset("hifigan");
    request.mutable_options()->set_method(method);
    request.mutable_options()->set_iterations(8);
    request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();

    InversionOptions options;
    options.method = method == v1::INVERSION_METHOD_FGLA        ? InversionMethod::kFastGriffinLim
                     : method == v1::INVERSION_METHOD_PGHI_FGLA ? InversionMethod::kPghiFgla
                                                                : InversionMethod::kJoint;
    options.iterations = 8;
    auto expected = InvertMel(mc.fx, mc.linear_mel, options);
    ASSERT_TRUE(expected.ok()) << expected.status();
    EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio) << v1::InversionMethod_Name(method);
    EXPECT_EQ(response.iterations_run(), expected->iterations_run);
    EXPECT_DOUBLE_EQ(response.spectral_convergence_mel_db(), expected->spectral_convergence_db);
    EXPECT_EQ(response.stop_reason(), expected->stop_reason);
    EXPECT_EQ(response.audio().sample_rate_hertz(), 22050);
    EXPECT_EQ(response.audio().encoding(), v1::AUDIO_ENCODING_WAV_FLOAT32);
    EXPECT_GT(response.elapsed_milliseconds(), 0.0);
  }
}

TEST_F(ServiceTest, InvertMelWarnsAboutAMisdeclaredMelDomain) {
  // A hifigan (ln) log-mel sent as espnet (log10): inverted, with a warning
  // naming the domain it looks like; declared correctly, no warning.
  const MelCase mc = MakeMelCase(11025);
  for (const char* preset : {"espnet", "hifigan"}) {
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset(preset);
    request.mutable_options()->set_iterations(2);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(response.audio().duration_seconds(), 0.0);
    if (std::string(preset) == "espnet") {
      ASSERT_EQ(response.warnings_size(), 1);
      EXPECT_THAT(response.warnings(0), HasSubstr("ln-compressed"));
      EXPECT_THAT(response.warnings(0), HasSubstr("preset espnet"));
    } else {
      EXPECT_EQ(response.warnings_size(), 0) << response.warnings(0);
    }
  }
}

TEST_F(ServiceTest, InvertMelAcceptsFramesBinsNpyLinearAndNormalisedInput) {
  const MelCase mc = MakeMelCase(11025);
  InversionOptions options;  // fgla, named in the requests
  options.iterations = 4;
  const std::vector<float> expected = InvertMel(mc.fx, mc.linear_mel, options)->audio;

  // Linear domain, (frames, n_mels) .npy, raw PCM output, explicit length.
  v1::InvertMelRequest request;
  request.mutable_mel()->set_npy_data(RealMatrixToNpy(mc.linear_mel, MatrixLayout::kFramesBins));
  request.mutable_mel()->set_layout(v1::TENSOR_LAYOUT_FRAMES_BINS);
  request.set_input_domain(v1::MEL_DOMAIN_LINEAR);
  request.mutable_config()->set_preset("hifigan");
  request.mutable_options()->set_method(v1::INVERSION_METHOD_FGLA);
  request.mutable_options()->set_iterations(4);
  request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  v1::InvertMelResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DecodeFloatAudio(response.audio()), expected);

  // Per-bin normalised log-mel: (x - mean) / std is undone before decompression.
  RealMatrix normalised = mc.log_mel;
  v1::InvertMelRequest norm_request;
  for (int m = 0; m < normalised.rows(); ++m) {
    const float mean = -5.0f + 0.01f * static_cast<float>(m);
    const float std = 2.0f;
    norm_request.mutable_normalization()->add_mean(mean);
    norm_request.mutable_normalization()->add_std(std);
    normalised.row(m) = ((normalised.row(m).array() - mean) / std).matrix();
  }
  *norm_request.mutable_mel() = MatrixTensor(normalised);
  norm_request.mutable_config()->set_preset("hifigan");
  norm_request.mutable_options()->set_method(v1::INVERSION_METHOD_FGLA);
  norm_request.mutable_options()->set_iterations(4);
  norm_request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);
  auto ctx2 = Context();
  ASSERT_TRUE(server_.stub().InvertMel(ctx2.get(), norm_request, &response).ok());
  const std::vector<float> got = DecodeFloatAudio(response.audio());
  ASSERT_EQ(got.size(), expected.size());
  // float round-off of the normalisation only.
  double err = 0.0, ref = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = static_cast<double>(got[i]) - static_cast<double>(expected[i]);
    err += d * d;
    ref += static_cast<double>(expected[i]) * static_cast<double>(expected[i]);
  }
  EXPECT_LT(std::sqrt(err / ref), 1e-3);
}

TEST_F(ServiceTest, InvertMelOutputEncodings) {
  const MelCase mc = MakeMelCase(11025);
  for (v1::AudioEncoding encoding : {v1::AUDIO_ENCODING_UNSPECIFIED, v1::AUDIO_ENCODING_WAV_PCM16,
                                     v1::AUDIO_ENCODING_FLAC, v1::AUDIO_ENCODING_PCM_INT16_LE}) {
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset("hifigan");
    request.mutable_options()->set_iterations(2);
    request.mutable_output()->set_encoding(encoding);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const int64_t samples = 43 * 256;  // the length 43 hifigan frames imply
    if (encoding == v1::AUDIO_ENCODING_PCM_INT16_LE) {
      EXPECT_EQ(response.audio().pcm_data().size(), 2u * samples);
    } else {
      auto decoded = DecodeAudio(AsBytes(response.audio().encoded_data()));
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(static_cast<int64_t>(decoded->samples.size()), samples);
      EXPECT_EQ(decoded->sample_rate, 22050.0);
    }
    EXPECT_EQ(response.audio().encoding(),
              encoding == v1::AUDIO_ENCODING_UNSPECIFIED ? v1::AUDIO_ENCODING_WAV_PCM16 : encoding);
    EXPECT_NEAR(response.audio().duration_seconds(), samples / 22050.0, 1e-12);
  }
}

// The newer encodings: decoded back at the rate the response declares
// (Opus codes 22050 Hz audio at 24000 Hz), lengths as the codec keeps them.
TEST_F(ServiceTest, InvertMelLossyAndCompandedEncodings) {
  const MelCase mc = MakeMelCase(11025);
  struct Case {
    v1::AudioEncoding encoding;
    AudioEncoding core;
    double rate;
    int64_t max_extra;
  };
  const int64_t samples = 43 * 256;
  for (const Case& c : {Case{v1::AUDIO_ENCODING_WAV_MULAW, AudioEncoding::kWavMulaw, 22050, 0},
                        Case{v1::AUDIO_ENCODING_WAV_ALAW, AudioEncoding::kWavAlaw, 22050, 0},
                        Case{v1::AUDIO_ENCODING_OGG_OPUS, AudioEncoding::kOggOpus, 24000, 0},
                        Case{v1::AUDIO_ENCODING_OGG_VORBIS, AudioEncoding::kOggVorbis, 22050, 0},
                        Case{v1::AUDIO_ENCODING_MP3, AudioEncoding::kMp3, 22050, 2 * 1152 + 576}}) {
    if (!EncodingSupported(c.core)) continue;
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset("hifigan");
    request.mutable_options()->set_iterations(2);
    request.mutable_output()->set_encoding(c.encoding);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    ASSERT_TRUE(status.ok()) << v1::AudioEncoding_Name(c.encoding) << ": " << status.error_message();
    EXPECT_EQ(response.audio().encoding(), c.encoding);
    EXPECT_EQ(response.audio().sample_rate_hertz(), c.rate) << v1::AudioEncoding_Name(c.encoding);
    const int64_t expected = static_cast<int64_t>(std::llround(samples * c.rate / 22050.0));
    auto decoded = DecodeAudio(AsBytes(response.audio().encoded_data()));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->sample_rate, c.rate);
    EXPECT_GE(static_cast<int64_t>(decoded->samples.size()), expected) << v1::AudioEncoding_Name(c.encoding);
    EXPECT_LE(static_cast<int64_t>(decoded->samples.size()), expected + c.max_extra)
        << v1::AudioEncoding_Name(c.encoding);
  }
}

// output.sample_rate_hertz: the audio comes back at that rate, its length
// scaled by the ratio, its duration unchanged.
TEST_F(ServiceTest, InvertMelOutputSampleRateResamples) {
  const MelCase mc = MakeMelCase(11025);
  const int64_t samples = 43 * 256;
  for (int32_t rate : {44100, 16000, 8000}) {
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset("hifigan");
    request.mutable_options()->set_iterations(2);
    request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    request.mutable_output()->set_sample_rate_hertz(rate);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.audio().sample_rate_hertz(), rate);
    const auto expected = static_cast<size_t>(std::llround(samples * (rate / 22050.0)));
    EXPECT_EQ(response.audio().pcm_data().size(), 4 * expected);
    EXPECT_NEAR(response.audio().duration_seconds(), samples / 22050.0, 1e-4);
  }
}

TEST_F(ServiceTest, InvertMelOutputLength) {
  const MelCase mc = MakeMelCase(11025);
  ASSERT_EQ(mc.log_mel.cols(), 43);
  auto invert = [&](std::optional<int64_t> length) {
    v1::InvertMelRequest request;
    *request.mutable_mel() = MatrixTensor(mc.log_mel);
    request.mutable_config()->set_preset("hifigan");
    request.mutable_options()->set_iterations(2);
    request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    if (length) request.mutable_output()->set_length_samples(*length);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return DecodeFloatAudio(response.audio());
  };
  const std::vector<float> natural = invert(std::nullopt);
  ASSERT_EQ(natural.size(), 43u * 256u);
  // A length the frames can produce is the engine's own (core decides).
  InversionOptions options;
  options.method = InversionMethod::kJoint;  // the server's pick for a mel that names no method
  options.iterations = 2;
  options.length = 11100;
  EXPECT_EQ(invert(11100), InvertMel(mc.fx, mc.linear_mel, options)->audio);
  // Shorter: truncated; longer: zero-padded.
  const std::vector<float> shorter = invert(10000);
  EXPECT_EQ(shorter, std::vector<float>(natural.begin(), natural.begin() + 10000));
  const std::vector<float> longer = invert(30000);
  ASSERT_EQ(longer.size(), 30000u);
  EXPECT_EQ(std::vector<float>(longer.begin(), longer.begin() + static_cast<long>(natural.size())), natural);
  EXPECT_EQ(std::vector<float>(longer.begin() + static_cast<long>(natural.size()), longer.end()),
            std::vector<float>(30000 - natural.size(), 0.0f));
}

TEST_F(ServiceTest, InvertSpectrogramMatchesCore) {
  const std::vector<float> audio = Chirp(300.0, 3000.0, 22050.0, 11025);
  const FeatureExtractor fx = Extractor("tacotron2");
  const ComplexMatrix spec = *fx.ComplexSpectrogram(audio);
  const RealMatrix magnitude = spec.cwiseAbs();
  const RealMatrix phase = spec.array().arg().matrix();

  v1::InvertSpectrogramRequest request;
  *request.mutable_magnitude() = MatrixTensor(magnitude);
  request.mutable_config()->set_preset("tacotron2");
  request.mutable_options()->set_iterations(6);
  request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  v1::InvertSpectrogramResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  InversionOptions options;
  options.method = InversionMethod::kPghiFgla;  // the server's pick for a magnitude that names no method
  options.iterations = 6;
  auto expected = InvertMagnitude(fx.stft(), magnitude, options);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio);
  EXPECT_DOUBLE_EQ(response.spectral_convergence_db(), expected->spectral_convergence_db);

  // Magnitude + true phase with 0 iterations is the inverse STFT.
  *request.mutable_phase() = MatrixTensor(phase);
  request.mutable_options()->set_iterations(0);
  request.mutable_output()->set_length_samples(11025);
  auto ctx2 = Context();
  status = server_.stub().InvertSpectrogram(ctx2.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::vector<float> got = DecodeFloatAudio(response.audio());
  ASSERT_EQ(got.size(), audio.size());
  double max_err = 0.0;
  for (size_t i = 0; i < got.size(); ++i) max_err = std::max(max_err, static_cast<double>(std::abs(got[i] - audio[i])));
  EXPECT_LT(max_err, 1e-4);
}

// refine on a linear magnitude (PGHI, ADMM, L-BFGS within iterations +
// refine_iterations STFT/iSTFT pairs) is served as core runs it.
TEST_F(ServiceTest, InvertSpectrogramRefineMatchesCore) {
  const std::vector<float> audio = Chirp(300.0, 3000.0, 22050.0, 11025);
  const FeatureExtractor fx = Extractor("tacotron2");
  const RealMatrix magnitude = fx.ComplexSpectrogram(audio)->cwiseAbs();
  v1::InvertSpectrogramRequest request;
  *request.mutable_magnitude() = MatrixTensor(magnitude);
  request.mutable_config()->set_preset("tacotron2");
  request.mutable_options()->set_method(v1::INVERSION_METHOD_REFINE);
  request.mutable_options()->set_iterations(20);
  request.mutable_options()->set_refine_iterations(10);
  request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  v1::InvertSpectrogramResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  InversionOptions options;
  options.method = InversionMethod::kRefine;
  options.iterations = 20;
  options.refine_iterations = 10;
  auto expected = InvertMagnitude(fx.stft(), magnitude, options);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(DecodeFloatAudio(response.audio()), expected->audio);
  EXPECT_EQ(response.iterations_run(), expected->iterations_run);
  EXPECT_LE(expected->iterations_run, 30) << "within its pairs";
  // Better than fast Griffin-Lim at the same number of pairs.
  options.method = InversionMethod::kFastGriffinLim;
  options.iterations = 30;
  const auto fgla = InvertMagnitude(fx.stft(), magnitude, options);
  ASSERT_TRUE(fgla.ok());
  EXPECT_LT(response.spectral_convergence_db(), fgla->spectral_convergence_db);
}

// HiFi-GAN's framing (outer reflect padding, no centring) and Whisper's
// (last frame dropped): magnitude + true phase with 0 iterations gives back
// the signal itself, sample-aligned, and equals core on that framing.
TEST_F(ServiceTest, InvertSpectrogramFollowsThePresetFraming) {
  for (const char* preset : {"hifigan", "whisper"}) {
    SCOPED_TRACE(preset);
    const FeatureExtractor fx = Extractor(preset);
    const std::vector<float> audio = Chirp(300.0, 3000.0, fx.config().sample_rate, 12000);
    const ComplexMatrix spec = *fx.ComplexSpectrogram(audio);
    v1::InvertSpectrogramRequest request;
    *request.mutable_magnitude() = MatrixTensor(spec.cwiseAbs());
    *request.mutable_phase() = MatrixTensor(spec.array().arg().matrix());
    request.mutable_config()->set_preset(preset);
    request.mutable_options()->set_iterations(0);
    request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    request.mutable_output()->set_length_samples(static_cast<int64_t>(audio.size()));
    v1::InvertSpectrogramResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    const std::vector<float> got = DecodeFloatAudio(response.audio());
    ASSERT_EQ(got.size(), audio.size());
    // Away from the last frame (Whisper drops it), the samples come back.
    double max_err = 0.0;
    for (size_t i = 0; i + static_cast<size_t>(fx.config().stft.n_fft) < got.size(); ++i) {
      max_err = std::max(max_err, static_cast<double>(std::abs(got[i] - audio[i])));
    }
    EXPECT_LT(max_err, 1e-4);
  }
}

TEST_F(ServiceTest, InvertMelStreamSendsProgressThenTheUnaryResult) {
  const MelCase mc = MakeMelCase(11025);
  v1::InvertMelRequest request;
  *request.mutable_mel() = MatrixTensor(mc.log_mel);
  request.mutable_config()->set_preset("hifigan");
  request.mutable_options()->set_method(v1::INVERSION_METHOD_FGLA);
  request.mutable_options()->set_iterations(12);
  request.mutable_options()->set_progress_interval_iterations(3);
  request.mutable_output()->set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);

  v1::InvertMelResponse unary;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &unary).ok());

  auto stream_ctx = Context();
  auto reader = server_.stub().InvertMelStream(stream_ctx.get(), request);
  v1::InvertMelStreamResponse message;
  std::vector<int> iterations;
  int results = 0;
  v1::InvertMelResponse result;
  while (reader->Read(&message)) {
    if (message.has_progress()) {
      EXPECT_EQ(results, 0) << "progress after the result";
      iterations.push_back(message.progress().iteration());
      EXPECT_EQ(message.progress().iteration() % 3, 0);
      EXPECT_TRUE(std::isfinite(message.progress().spectral_convergence_db()));
      EXPECT_FALSE(message.progress().stage().empty());
    } else {
      ASSERT_TRUE(message.has_result());
      result = message.result();
      ++results;
    }
  }
  grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(results, 1);
  ASSERT_FALSE(iterations.empty());
  EXPECT_TRUE(std::is_sorted(iterations.begin(), iterations.end()));
  // Samples, not bytes: libsndfile's float WAV PEAK chunk carries a timestamp.
  EXPECT_EQ(DecodeFloatAudio(result.audio()), DecodeFloatAudio(unary.audio()));
  EXPECT_EQ(result.iterations_run(), unary.iterations_run());
}

TEST_F(ServiceTest, InvertSpectrogramStreamEndsWithResult) {
  const FeatureExtractor fx = Extractor("tacotron2");
  const RealMatrix magnitude = *fx.Magnitude(Sine(500.0, 22050.0, 8000));
  v1::InvertSpectrogramRequest request;
  *request.mutable_magnitude() = MatrixTensor(magnitude);
  request.mutable_config()->set_preset("tacotron2");
  request.mutable_options()->set_iterations(5);
  auto ctx = Context();
  auto reader = server_.stub().InvertSpectrogramStream(ctx.get(), request);
  v1::InvertSpectrogramStreamResponse message;
  bool got_result = false;
  int progress = 0;
  while (reader->Read(&message)) {
    if (message.has_result()) got_result = true;
    if (message.has_progress()) ++progress;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(got_result);
  EXPECT_GE(progress, 1);
}

TEST_F(ServiceTest, InvertMelBatchKeepsRequestOrderAndMatchesSingleCalls) {
  v1::InvertMelBatchRequest batch;
  std::vector<std::vector<float>> singles;
  for (int i = 0; i < 5; ++i) {
    const FeatureExtractor fx = Extractor("hifigan");
    const RealMatrix log_mel = *fx.LogMel(Sine(200.0 + 150.0 * i, 22050.0, 6000 + 1000 * i));
    v1::InvertMelRequest* item = batch.add_requests();
    *item->mutable_mel() = MatrixTensor(log_mel);
    item->mutable_config()->set_preset("hifigan");
    item->mutable_options()->set_iterations(3);
    item->mutable_output()->set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);
    v1::InvertMelResponse single;
    ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::InvertMel, *item, &single).ok());
    singles.push_back(DecodeFloatAudio(single.audio()));
  }
  v1::InvertMelBatchResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMelBatch, batch, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.responses_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(DecodeFloatAudio(response.responses(i).audio()), singles[static_cast<size_t>(i)]) << i;
  }

  // One bad item fails the batch, naming it.
  batch.mutable_requests(3)->mutable_config()->set_n_mels(64);
  auto ctx2 = Context();
  status = server_.stub().InvertMelBatch(ctx2.get(), batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "requests[3].mel");
  EXPECT_THAT(status.error_message(), HasSubstr("requests[3].mel has 80 mel bins but config.n_mels is 64"));
}

TEST_F(ServiceTest, MetricsCountRpcsByStatus) {
  v1::GetServerInfoResponse info;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::GetServerInfo, {}, &info).ok());
  }
  v1::AnalyzeResponse response;
  ASSERT_FALSE(Call(server_, &v1::Spectrogram::Stub::Analyze, {}, &response).ok());
  server::Metrics& metrics = server_.server().metrics();
  EXPECT_EQ(metrics.RpcCount("GetServerInfo", "OK"), 3);
  EXPECT_EQ(metrics.RpcCount("Analyze", "INVALID_ARGUMENT"), 1);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("specinv_rpc_requests_total{code=\"OK\",method=\"GetServerInfo\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("specinv_rpc_duration_seconds_count{method=\"GetServerInfo\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("specinv_workers 2\n"));
  EXPECT_THAT(text, HasSubstr("specinv_queue_capacity 64\n"));
}

TEST_F(ServiceTest, MetricsShowBothCachesAndTheirBounds) {
  v1::AnalyzeRequest request;
  *request.mutable_audio() = PcmAudio(std::vector<float>(22050, 0.25f), 22050);
  request.mutable_config()->set_preset("hifigan");
  request.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
  v1::AnalyzeResponse response;
  for (int i = 0; i < 2; ++i) {
    const grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const std::string text = server_.server().metrics().RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_cache_bytes gauge\n"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("specinv_cache_limit_bytes{cache=\"extractors\"} ",
                                           server::kDefaultExtractorCacheBytes, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("specinv_cache_limit_bytes{cache=\"fft_plans\"} ",
                                           kDefaultFftPlanCacheLimitBytes, "\n")));
  // The second Analyze of the same configuration reused the extractor.
  const server::ExtractorCacheStats stats = server_.server().service().extractor_cache_stats();
  EXPECT_GE(stats.entries, 1);
  EXPECT_GE(stats.hits, 1);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("specinv_cache_entries{cache=\"extractors\"} ", stats.entries, "\n")));
  EXPECT_THAT(text, HasSubstr("specinv_cache_hits_total{cache=\"fft_plans\"} "));
}

// Every job that ran is one observation of its method's queue and compute
// summaries; a call refused before its job (bad request) is in neither.
TEST_F(ServiceTest, MetricsSummariseQueueAndComputeTimeByMethod) {
  v1::AnalyzeRequest request;
  *request.mutable_audio() = PcmAudio(std::vector<float>(22050, 0.25f), 22050);
  request.mutable_config()->set_preset("hifigan");
  request.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
  v1::AnalyzeResponse response;
  for (int i = 0; i < 3; ++i) {
    const grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_FALSE(Call(server_, &v1::Spectrogram::Stub::Analyze, {}, &response).ok());
  const std::string text = server_.server().metrics().RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_queue_duration_seconds summary\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE specinv_compute_duration_seconds summary\n"));
  EXPECT_THAT(text, HasSubstr("\nspecinv_queue_duration_seconds_count{method=\"Analyze\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\nspecinv_compute_duration_seconds_count{method=\"Analyze\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("\nspecinv_compute_duration_seconds{method=\"Analyze\",quantile=\"0.99\"} "));
}

}  // namespace
}  // namespace specinv::testing
