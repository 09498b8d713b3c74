// Copyright specinv authors.
//
// Every bad field gives INVALID_ARGUMENT whose message starts with the field
// path and whose google.rpc.BadRequest detail names it; limits name their
// flag.

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/test_server.h"
#include "specinv/io/audio_io.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Case {
  std::string name;
  std::function<void(v1::AnalyzeRequest*)> mutate;
  std::string field;
};

v1::AnalyzeRequest ValidAnalyze() {
  v1::AnalyzeRequest r;
  *r.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 4096), 22050);
  r.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
  r.mutable_config()->set_preset("hifigan");
  return r;
}

class ValidationTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(ValidationTest, ValidRequestsSucceed) {
  v1::AnalyzeResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, ValidAnalyze(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(ValidationTest, AnalyzeBadFieldsNameTheirPath) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<Case> cases = {
      {"n_fft too small", [](auto* r) { r->mutable_config()->set_n_fft(8); }, "config.n_fft"},
      {"n_fft above limit", [](auto* r) { r->mutable_config()->set_n_fft(32768); }, "config.n_fft"},
      {"hop zero", [](auto* r) { r->mutable_config()->set_hop_length(0); }, "config.hop_length"},
      {"win above n_fft", [](auto* r) { r->mutable_config()->set_win_length(4096); }, "config.win_length"},
      {"n_mels zero", [](auto* r) { r->mutable_config()->set_n_mels(0); }, "config.n_mels"},
      {"fmax above nyquist", [](auto* r) { r->mutable_config()->set_fmax_hertz(20000.0); }, "config.fmax_hertz"},
      {"fmin negative", [](auto* r) { r->mutable_config()->set_fmin_hertz(-1.0); }, "config.fmin_hertz"},
      {"sample rate", [](auto* r) { r->mutable_config()->set_sample_rate_hertz(-5.0); }, "config.sample_rate_hertz"},
      {"power", [](auto* r) { r->mutable_config()->set_power(3.0); }, "config.power"},
      {"epsilon", [](auto* r) { r->mutable_config()->set_magnitude_epsilon(-1.0); }, "config.magnitude_epsilon"},
      {"unknown preset", [](auto* r) { r->mutable_config()->set_preset("nope"); }, "config.preset"},
      {"unknown window", [](auto* r) { r->mutable_config()->set_window(static_cast<v1::Window>(42)); }, "config.window"},
      {"unknown pad mode", [](auto* r) { r->mutable_config()->set_pad_mode(static_cast<v1::PadMode>(9)); },
       "config.pad_mode"},
      {"amin", [](auto* r) { r->mutable_config()->mutable_scale()->set_amin(0.0); }, "config.scale.amin"},
      {"clamp", [](auto* r) { r->mutable_config()->mutable_scale()->set_clamp(-1.0); }, "config.scale.clamp"},
      {"top_db", [](auto* r) { r->mutable_config()->mutable_scale()->set_top_db(-3.0); }, "config.scale.top_db"},
      {"ref", [](auto* r) { r->mutable_config()->mutable_scale()->set_ref_value(-1.0); }, "config.scale.ref_value"},
      {"kind missing", [](auto* r) { r->set_kind(v1::SPECTROGRAM_KIND_UNSPECIFIED); }, "kind"},
      {"layout", [](auto* r) { r->set_layout(static_cast<v1::TensorLayout>(7)); }, "layout"},
      {"audio missing", [](auto* r) { r->clear_audio(); }, "audio"},
      {"encoded empty", [](auto* r) { r->mutable_audio()->Clear(); r->mutable_audio()->set_encoded_data(""); },
       "audio.encoded_data"},
      {"encoded garbage",
       [](auto* r) {
         r->mutable_audio()->Clear();
         r->mutable_audio()->set_encoded_data("definitely not audio");
       },
       "audio.encoded_data"},
      {"pcm encoding", [](auto* r) { r->mutable_audio()->set_encoding(v1::AUDIO_ENCODING_WAV_PCM16); },
       "audio.encoding"},
      {"raw encoding with a file", [](auto* r) { r->mutable_audio()->set_encoded_data("RIFF"); }, "audio.encoding"},
      {"pcm rate", [](auto* r) { r->mutable_audio()->set_sample_rate_hertz(0); }, "audio.sample_rate_hertz"},
      {"pcm channels", [](auto* r) { r->mutable_audio()->set_channel_count(0); }, "audio.channel_count"},
      {"pcm bytes", [](auto* r) { r->mutable_audio()->mutable_pcm_data()->push_back('x'); }, "audio.pcm_data"},
      {"pcm NaN",
       [nan](auto* r) {
         std::vector<float> s = Sine(440.0, 22050.0, 4096);
         s[100] = nan;
         *r->mutable_audio() = PcmAudio(s, 22050);
       },
       "audio.pcm_data"},
      {"audio too short", [](auto* r) { *r->mutable_audio() = PcmAudio(std::vector<float>(100, 0.1f), 22050); },
       "audio"},
  };
  for (const Case& c : cases) {
    v1::AnalyzeRequest request = ValidAnalyze();
    c.mutate(&request);
    v1::AnalyzeResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), StartsWith(c.field)) << c.name;
    EXPECT_EQ(BadRequestField(status), c.field) << c.name << ": " << status.error_message();
  }
}

TEST_F(ValidationTest, LimitErrorsNameTheLimit) {
  v1::AnalyzeRequest request = ValidAnalyze();
  request.mutable_config()->set_n_fft(32768);
  v1::AnalyzeResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
  EXPECT_THAT(status.error_message(), HasSubstr("--max-n-fft"));
  EXPECT_THAT(status.error_message(), HasSubstr("got 32768"));
}

struct MelCase {
  std::string name;
  std::function<void(v1::InvertMelRequest*)> mutate;
  std::string field;
};

v1::InvertMelRequest ValidInvertMel() {
  auto fx = FeatureExtractor::Create(*GetPreset("hifigan"));
  v1::InvertMelRequest r;
  *r.mutable_mel() = MatrixTensor(*fx->LogMel(Sine(440.0, 22050.0, 4096)));
  r.mutable_config()->set_preset("hifigan");
  r.mutable_options()->set_iterations(2);
  return r;
}

TEST_F(ValidationTest, InvertMelBadFieldsNameTheirPath) {
  const std::vector<MelCase> cases = {
      {"mel missing", [](auto* r) { r->clear_mel(); }, "mel"},
      {"mel n_mels mismatch", [](auto* r) { r->mutable_config()->set_n_mels(64); }, "mel"},
      {"mel 3-D", [](auto* r) { r->mutable_mel()->add_shape(1); }, "mel.shape"},
      {"mel zero dim", [](auto* r) { r->mutable_mel()->set_shape(1, 0); }, "mel.shape"},
      {"mel bytes", [](auto* r) { r->mutable_mel()->mutable_float32_data()->append("abcd"); }, "mel.float32_data"},
      {"mel npy garbage", [](auto* r) { r->mutable_mel()->set_npy_data("not npy"); }, "mel.npy_data"},
      {"mel NaN",
       [](auto* r) {
         float nan = std::numeric_limits<float>::quiet_NaN();
         std::memcpy(r->mutable_mel()->mutable_float32_data()->data() + 40, &nan, 4);
       },
       "mel"},
      {"linear negative", [](auto* r) { r->set_input_domain(v1::MEL_DOMAIN_LINEAR); }, "mel"},
      {"input domain", [](auto* r) { r->set_input_domain(static_cast<v1::MelDomain>(5)); }, "input_domain"},
      {"iterations above limit", [](auto* r) { r->mutable_options()->set_iterations(5000); }, "options.iterations"},
      {"iterations negative", [](auto* r) { r->mutable_options()->set_iterations(-1); }, "options.iterations"},
      {"momentum", [](auto* r) { r->mutable_options()->set_momentum(2.5); }, "options.momentum"},
      {"method", [](auto* r) { r->mutable_options()->set_method(static_cast<v1::InversionMethod>(42)); },
       "options.method"},
      {"given phase missing", [](auto* r) { r->mutable_options()->set_phase_init(v1::PHASE_INIT_GIVEN); },
       "options.initial_phase"},
      {"tolerance", [](auto* r) { r->mutable_options()->set_tolerance(2.0); }, "options.tolerance"},
      {"time budget", [](auto* r) { r->mutable_options()->set_time_budget_seconds(-1.0); },
       "options.time_budget_seconds"},
      {"refine iterations", [](auto* r) { r->mutable_options()->set_refine_iterations(100000); },
       "options.refine_iterations"},
      {"nnls iterations", [](auto* r) { r->mutable_options()->set_nnls_iterations(-3); }, "options.nnls_iterations"},
      {"progress interval", [](auto* r) { r->mutable_options()->set_progress_interval_iterations(0); },
       "options.progress_interval_iterations"},
      {"output encoding", [](auto* r) { r->mutable_output()->set_encoding(static_cast<v1::AudioEncoding>(99)); },
       "output.encoding"},
      {"output rate negative", [](auto* r) { r->mutable_output()->set_sample_rate_hertz(-8000); },
       "output.sample_rate_hertz"},
      {"output rate above bound", [](auto* r) { r->mutable_output()->set_sample_rate_hertz(400000); },
       "output.sample_rate_hertz"},
      {"output rate ratio", [](auto* r) { r->mutable_output()->set_sample_rate_hertz(20); },
       "output.sample_rate_hertz"},
      {"output length", [](auto* r) { r->mutable_output()->set_length_samples(0); }, "output.length_samples"},
      {"normalization std size", [](auto* r) { r->mutable_normalization()->add_std(1.0f); }, "normalization.std"},
      {"normalization mean size", [](auto* r) { r->mutable_normalization()->add_mean(1.0f); },
       "normalization.mean"},
      {"config", [](auto* r) { r->mutable_config()->set_hop_length(-1); }, "config.hop_length"},
  };
  for (const MelCase& c : cases) {
    v1::InvertMelRequest request = ValidInvertMel();
    c.mutate(&request);
    v1::InvertMelResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), StartsWith(c.field)) << c.name;
    EXPECT_EQ(BadRequestField(status), c.field) << c.name << ": " << status.error_message();
  }
}

TEST_F(ValidationTest, InvertSpectrogramBadFieldsNameTheirPath) {
  auto fx = FeatureExtractor::Create(*GetPreset("tacotron2"));
  const RealMatrix magnitude = *fx->Magnitude(Sine(440.0, 22050.0, 4096));
  auto valid = [&] {
    v1::InvertSpectrogramRequest r;
    *r.mutable_magnitude() = MatrixTensor(magnitude);
    r.mutable_config()->set_preset("tacotron2");
    r.mutable_options()->set_iterations(2);
    return r;
  };
  struct SpecCase {
    std::string name;
    std::function<void(v1::InvertSpectrogramRequest*)> mutate;
    std::string field;
  };
  RealMatrix negative = magnitude;
  negative(3, 2) = -1.0f;
  const std::vector<SpecCase> cases = {
      {"bins", [](auto* r) { r->mutable_config()->set_n_fft(2048); }, "magnitude"},
      // Core's element path: column-major index 3 + 2 * 513, with bin and frame in the message.
      {"negative", [&](auto* r) { *r->mutable_magnitude() = MatrixTensor(negative); }, "magnitude[1029]"},
      {"joint", [](auto* r) { r->mutable_options()->set_method(v1::INVERSION_METHOD_JOINT); }, "options.method"},
      {"phase shape", [&](auto* r) { *r->mutable_phase() = MatrixTensor(magnitude.leftCols(3)); }, "phase"},
  };
  for (const SpecCase& c : cases) {
    v1::InvertSpectrogramRequest request = valid();
    c.mutate(&request);
    v1::InvertSpectrogramResponse response;
    grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), StartsWith(c.field)) << c.name;
    EXPECT_EQ(BadRequestField(status), c.field) << c.name << ": " << status.error_message();
  }
  {
    v1::InvertSpectrogramRequest request = valid();
    *request.mutable_magnitude() = MatrixTensor(negative);
    v1::InvertSpectrogramResponse response;
    EXPECT_THAT(Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, request, &response).error_message(),
                HasSubstr("(bin 3, frame 2) is -1"));
  }
  // A valid request passes (the table above is not failing for another reason).
  v1::InvertSpectrogramResponse response;
  EXPECT_TRUE(Call(server_, &v1::Spectrogram::Stub::InvertSpectrogram, valid(), &response).ok());
}

TEST_F(ValidationTest, BatchSizeLimit) {
  v1::InvertMelBatchRequest batch;
  v1::InvertMelBatchResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMelBatch, batch, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "requests");
  EXPECT_THAT(status.error_message(), HasSubstr("--max-batch-size"));
}

// Limits configured small on a server of their own.
class LimitsTest : public ::testing::Test {
 protected:
  static server::ServerOptions Options() {
    server::ServerOptions o = TestOptions();
    o.limits.max_message_bytes = 1 << 20;
    o.limits.max_audio_seconds = 2.0;
    o.limits.max_iterations = 50;
    return o;
  }
  TestServer server_{Options()};
};

TEST_F(LimitsTest, OversizedRequestIsResourceExhausted) {
  v1::AnalyzeRequest request = ValidAnalyze();
  *request.mutable_audio() = PcmAudio(std::vector<float>(300000, 0.1f), 22050);  // 1.2 MB
  v1::AnalyzeResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
}

TEST_F(LimitsTest, OversizedResponseIsRefusedBeforeComputingNamingTheLimit) {
  v1::AnalyzeRequest request = ValidAnalyze();
  *request.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 33075), 22050);  // 1.5 s, 132 kB
  request.set_kind(v1::SPECTROGRAM_KIND_COMPLEX_STFT);
  request.mutable_config()->set_hop_length(64);  // ~517 frames x 513 bins x 8 bytes = 2.1 MB
  v1::AnalyzeResponse response;
  auto ctx = Context();
  grpc::Status status = server_.stub().Analyze(ctx.get(), request, &response);
  // Predicted from the shapes at admission: deterministic, so INVALID_ARGUMENT
  // without a retry hint.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--max-message-mb"));
  EXPECT_FALSE(ctx->GetServerTrailingMetadata().count("grpc-retry-pushback-ms"));
}

// output.sample_rate_hertz is admitted on the resampled length: 1.86 s of
// float32 PCM is 164 kB at 22050 Hz but 2.9 MB at 384 kHz, over 1 MB.
TEST_F(LimitsTest, UpsampledOutputCountsAgainstTheResponseLimit) {
  v1::InvertMelRequest mel = ValidInvertMel();
  *mel.mutable_mel() = MatrixTensor(RealMatrix::Constant(80, 160, -3.0f));  // 160 x 256 = 40960 samples
  mel.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  v1::InvertMelResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::InvertMel, mel, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();

  mel.mutable_output()->set_sample_rate_hertz(384000);
  auto ctx2 = Context();
  status = server_.stub().InvertMel(ctx2.get(), mel, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("--max-message-mb"));
  EXPECT_THAT(status.error_message(), HasSubstr("at 384000 Hz encoded"));
}

TEST_F(LimitsTest, AudioDurationAndIterationLimits) {
  v1::AnalyzeRequest request = ValidAnalyze();
  *request.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 66150), 22050);  // 3 s
  v1::AnalyzeResponse response;
  grpc::Status status = Call(server_, &v1::Spectrogram::Stub::Analyze, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "audio.pcm_data");
  EXPECT_THAT(status.error_message(), HasSubstr("--max-audio-seconds"));

  v1::InvertMelRequest mel = ValidInvertMel();
  // 300 frames at hop 256 = 3.5 s of audio.
  RealMatrix long_mel = RealMatrix::Constant(80, 300, -3.0f);
  *mel.mutable_mel() = MatrixTensor(long_mel);
  v1::InvertMelResponse mel_response;
  auto ctx2 = Context();
  status = server_.stub().InvertMel(ctx2.get(), mel, &mel_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(status), "mel");
  EXPECT_THAT(status.error_message(), HasSubstr("--max-audio-seconds"));

  mel = ValidInvertMel();
  mel.mutable_options()->set_iterations(51);
  auto ctx3 = Context();
  status = server_.stub().InvertMel(ctx3.get(), mel, &mel_response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("must be in [0, 50] (server limit --max-iterations), got 51"));

  v1::GetServerInfoResponse info;
  auto ctx4 = Context();
  ASSERT_TRUE(server_.stub().GetServerInfo(ctx4.get(), {}, &info).ok());
  EXPECT_EQ(info.limits().max_message_bytes(), 1 << 20);
  EXPECT_DOUBLE_EQ(info.limits().max_audio_duration_seconds(), 2.0);
  EXPECT_EQ(info.limits().max_iterations(), 50);
}

}  // namespace
}  // namespace specinv::testing
