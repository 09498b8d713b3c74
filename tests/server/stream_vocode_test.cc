// Copyright specinv authors.
//
// StreamVocode end to end against an in-process server: the streamed audio
// equals the core StreamVocoder's on the same frames, audio arrives while the
// utterance is still open, half-close and end_of_utterance flush the tail,
// normalised and linear inputs, the protocol errors, cancellation (state
// freed), and concurrent streams that do not interfere.

#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "server/stream_vocode.h"
#include "server/test_server.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/streaming/stream_vocoder.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;

using Request = v1::StreamVocodeRequest;
using Response = v1::StreamVocodeResponse;

FeatureExtractor Extractor(const std::string& preset) { return FeatureExtractor::Create(GetPreset(preset).value()).value(); }

// A voiced, gliding test signal at the extractor's rate.
std::vector<float> Voice(const FeatureExtractor& fx, double seconds = 1.5) {
  const auto n = static_cast<int64_t>(seconds * fx.config().sample_rate);
  std::vector<float> y = Chirp(180.0, 900.0, fx.config().sample_rate, n, 0.3);
  const std::vector<float> tone = Sine(440.0, fx.config().sample_rate, n, 0.1);
  for (size_t i = 0; i < y.size(); ++i) y[i] += tone[i];
  return y;
}

Request ConfigMessage(const std::string& preset, const std::function<void(v1::StreamVocodeConfig*)>& edit = nullptr) {
  Request m;
  v1::StreamVocodeConfig* c = m.mutable_config();
  c->mutable_config()->set_preset(preset);
  c->set_layout(v1::TENSOR_LAYOUT_FRAMES_BINS);
  if (edit) edit(c);
  return m;
}

// Frames [first, first + count) of a (bins, frames) matrix as a (frames, bins) tensor.
v1::Tensor FramesBins(const RealMatrix& m, int64_t first, int64_t count) {
  v1::Tensor t;
  t.add_shape(count);
  t.add_shape(m.rows());
  t.set_layout(v1::TENSOR_LAYOUT_FRAMES_BINS);
  t.mutable_float32_data()->assign(reinterpret_cast<const char*>(m.col(first).data()),
                                   static_cast<size_t>(count * m.rows()) * sizeof(float));
  return t;
}

std::vector<Request> ChunkMessages(const RealMatrix& m, int64_t chunk, bool end_of_utterance = true) {
  std::vector<Request> out;
  for (int64_t t = 0; t < m.cols(); t += chunk) {
    Request r;
    *r.mutable_mel_chunk() = FramesBins(m, t, std::min(chunk, m.cols() - t));
    out.push_back(std::move(r));
  }
  if (end_of_utterance) out.back().set_end_of_utterance(true);
  return out;
}

std::vector<float> DecodePcm(const v1::AudioChunk& chunk) {
  const std::string& pcm = chunk.pcm_data();
  std::vector<float> out;
  if (chunk.encoding() == v1::AUDIO_ENCODING_PCM_INT16_LE) {
    out.resize(pcm.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      int16_t v = 0;
      std::memcpy(&v, pcm.data() + 2 * i, 2);
      out[i] = static_cast<float>(v) / 32768.0f;
    }
  } else {
    out.resize(pcm.size() / 4);
    if (!out.empty()) std::memcpy(out.data(), pcm.data(), pcm.size());
  }
  return out;
}

struct CallResult {
  grpc::Status status;
  std::vector<float> audio;
  std::vector<v1::AudioChunk> chunks;
  std::optional<v1::StreamVocodeSummary> summary;
  int messages_after_summary = 0;
};

// Writes `messages` (then half-closes unless told not to) while reading
// everything the server sends.
CallResult Call(v1::Spectrogram::Stub& stub, const std::vector<Request>& messages, bool half_close = true) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  // A connection attempt that fails transiently (16 new channels at once on
  // a loaded machine) is retried within the deadline, not reported as the
  // call's status.
  ctx.set_wait_for_ready(true);
  auto stream = stub.StreamVocode(&ctx);
  std::thread writer([&] {
    for (const Request& m : messages) {
      if (!stream->Write(m)) return;
    }
    if (half_close) stream->WritesDone();
  });
  CallResult r;
  Response response;
  while (stream->Read(&response)) {
    if (r.summary) ++r.messages_after_summary;
    if (response.has_audio()) {
      EXPECT_EQ(response.audio().first_sample(), static_cast<int64_t>(r.audio.size())) << "contiguous chunks";
      const std::vector<float> samples = DecodePcm(response.audio());
      EXPECT_EQ(static_cast<int64_t>(samples.size()), response.audio().num_samples());
      r.audio.insert(r.audio.end(), samples.begin(), samples.end());
      r.chunks.push_back(response.audio());
    } else if (response.has_summary()) {
      r.summary = response.summary();
    }
  }
  writer.join();
  r.status = stream->Finish();
  return r;
}

// The core vocoder on the same (linear) frames.
std::vector<float> CoreStream(const FeatureExtractor& fx, const RealMatrix& linear_mel, const StreamVocoderOptions& o) {
  StreamVocoder vocoder = StreamVocoder::Create(fx, o).value();
  std::vector<float> out;
  EXPECT_TRUE(vocoder.PushFrames(linear_mel, &out).ok());
  EXPECT_TRUE(vocoder.Finish(&out).ok());
  return out;
}

StreamVocoderOptions Online(int iterations, int lookahead) {
  StreamVocoderOptions o;
  o.online_iterations = iterations;
  o.lookahead_frames = lookahead;
  return o;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return condition();
}

class StreamVocodeTest : public ::testing::Test {
 protected:
  TestServer server_;
};

TEST_F(StreamVocodeTest, StreamedAudioEqualsTheCoreVocoderOnTheSameFrames) {
  const FeatureExtractor fx = Extractor("hifigan");
  const std::vector<float> voice = Voice(fx);
  const RealMatrix log_mel = fx.LogMel(voice).value();
  const RealMatrix mel = fx.Decompress(log_mel).value();
  std::vector<Request> messages = {ConfigMessage("hifigan", [](v1::StreamVocodeConfig* c) {
    c->set_online_iterations(2);
    c->set_lookahead_frames(3);
  })};
  for (Request& m : ChunkMessages(log_mel, 8)) messages.push_back(std::move(m));
  const CallResult r = Call(server_.stub(), messages);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.audio, CoreStream(fx, mel, Online(2, 3)));
  ASSERT_TRUE(r.summary.has_value());
  EXPECT_EQ(r.messages_after_summary, 0) << "the summary is the last message";
  EXPECT_EQ(r.summary->total_frames(), log_mel.cols());
  EXPECT_EQ(r.summary->total_samples(), static_cast<int64_t>(r.audio.size()));
  EXPECT_GT(r.summary->real_time_factor(), 0.0);
  EXPECT_GT(r.summary->processing_milliseconds(), 0.0);
  EXPECT_EQ(r.summary->effective_config().n_mels(), 80);
  ASSERT_GT(r.chunks.size(), 5u) << "audio is sent chunk by chunk";
  EXPECT_LT(r.chunks.front().frames_received(), log_mel.cols()) << "the first audio came before the last frame";
  for (const v1::AudioChunk& c : r.chunks) {
    EXPECT_EQ(c.sample_rate_hertz(), 22050);
    EXPECT_EQ(c.encoding(), v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    EXPECT_GE(c.processing_milliseconds(), 0.0);
  }
}

TEST_F(StreamVocodeTest, AudioArrivesWhileTheUtteranceIsOpen) {
  const FeatureExtractor fx = Extractor("tacotron2");
  const RealMatrix log_mel = fx.LogMel(Voice(fx)).value();
  grpc::ClientContext ctx;
  auto stream = server_.stub().StreamVocode(&ctx);
  ASSERT_TRUE(stream->Write(ConfigMessage("tacotron2")));
  Request first;
  *first.mutable_mel_chunk() = FramesBins(log_mel, 0, 16);
  ASSERT_TRUE(stream->Write(first));
  Response response;
  ASSERT_TRUE(stream->Read(&response)) << "an audio chunk without any further message";
  ASSERT_TRUE(response.has_audio());
  EXPECT_EQ(response.audio().first_sample(), 0);
  EXPECT_EQ(response.audio().frames_received(), 16);
  // 16 frames with the default settings (RTPGHI with one frame of
  // look-ahead, then an online Griffin-Lim window of 4 more): 11 frames
  // committed.
  const int64_t hop = 256;
  EXPECT_EQ(response.audio().num_samples(), 11 * hop - fx.stft().n_fft() / 2);
  Request rest;
  *rest.mutable_mel_chunk() = FramesBins(log_mel, 16, log_mel.cols() - 16);
  rest.set_end_of_utterance(true);
  ASSERT_TRUE(stream->Write(rest));
  ASSERT_TRUE(stream->WritesDone());
  int64_t samples = response.audio().num_samples();
  bool summary = false;
  while (stream->Read(&response)) {
    if (response.has_audio()) samples += response.audio().num_samples();
    summary = summary || response.has_summary();
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_TRUE(summary);
  EXPECT_EQ(samples, hop * (log_mel.cols() - 1));
}

TEST_F(StreamVocodeTest, HalfCloseFlushesTheTailWithInt16AndCausalRtpghi) {
  const FeatureExtractor fx = Extractor("espnet");
  const RealMatrix log_mel = fx.LogMel(Voice(fx)).value();
  std::vector<Request> messages = {ConfigMessage("espnet", [](v1::StreamVocodeConfig* c) {
    c->set_algorithm(v1::VOCODE_ALGORITHM_RTPGHI_CAUSAL);
    c->set_encoding(v1::AUDIO_ENCODING_PCM_INT16_LE);
  })};
  for (Request& m : ChunkMessages(log_mel, 7, /*end_of_utterance=*/false)) messages.push_back(std::move(m));
  const CallResult r = Call(server_.stub(), messages);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_TRUE(r.summary.has_value());
  StreamVocoderOptions o;
  o.rtpghi.variant = RtpghiVariant::kCausal;
  const std::vector<float> core = CoreStream(fx, fx.Decompress(log_mel).value(), o);
  ASSERT_EQ(r.audio.size(), core.size());
  for (size_t i = 0; i < core.size(); ++i) {
    const float expected = std::clamp(std::round(core[i] * 32768.0f), -32768.0f, 32767.0f) / 32768.0f;
    ASSERT_NEAR(r.audio[i], expected, 1.0f / 32768.0f) << i;
  }
  for (const v1::AudioChunk& c : r.chunks) EXPECT_EQ(c.encoding(), v1::AUDIO_ENCODING_PCM_INT16_LE);
}

TEST_F(StreamVocodeTest, NormalisedAndLinearInputs) {
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix log_mel = fx.LogMel(Voice(fx, 0.8)).value();
  const RealMatrix mel = fx.Decompress(log_mel).value();
  const std::vector<float> reference = CoreStream(fx, mel, {});
  // A TTS model's normalised output: (x - mean) / std per bin.
  std::vector<float> mean(80), stdev(80);
  RealMatrix normalised = log_mel;
  for (int m = 0; m < 80; ++m) {
    mean[static_cast<size_t>(m)] = -5.0f + 0.05f * static_cast<float>(m);
    stdev[static_cast<size_t>(m)] = 2.0f + 0.01f * static_cast<float>(m);
    normalised.row(m) = ((log_mel.row(m).array() - mean[static_cast<size_t>(m)]) / stdev[static_cast<size_t>(m)]).matrix();
  }
  std::vector<Request> messages = {ConfigMessage("hifigan", [&](v1::StreamVocodeConfig* c) {
    c->mutable_normalization()->mutable_mean()->Assign(mean.begin(), mean.end());
    c->mutable_normalization()->mutable_std()->Assign(stdev.begin(), stdev.end());
  })};
  for (Request& m : ChunkMessages(normalised, 5)) messages.push_back(std::move(m));
  const CallResult norm = Call(server_.stub(), messages);
  ASSERT_TRUE(norm.status.ok()) << norm.status.error_message();
  ASSERT_EQ(norm.audio.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) ASSERT_NEAR(norm.audio[i], reference[i], 1e-4) << i;

  messages = {ConfigMessage("hifigan", [](v1::StreamVocodeConfig* c) {
    c->set_input_domain(v1::MEL_DOMAIN_LINEAR);
    c->set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
  })};
  for (int64_t t = 0; t < mel.cols(); t += 9) {  // (bins, frames) chunks without a layout of their own
    const int64_t n = std::min<int64_t>(9, mel.cols() - t);
    Request r;
    v1::Tensor* tensor = r.mutable_mel_chunk();
    tensor->add_shape(80);
    tensor->add_shape(n);
    std::vector<float> values;
    for (int m = 0; m < 80; ++m) {
      for (int64_t f = 0; f < n; ++f) values.push_back(mel(m, t + f));
    }
    tensor->set_float32_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    messages.push_back(std::move(r));
  }
  const CallResult linear = Call(server_.stub(), messages);
  ASSERT_TRUE(linear.status.ok()) << linear.status.error_message();
  EXPECT_EQ(linear.audio, reference);
}

TEST_F(StreamVocodeTest, UnsetOnlineSettingsAreTheCoreDefaultsOfTheFraming) {
  // Whisper (60 % overlap) gets more online iterations and look-ahead than
  // the 75 % presets; the server leaves the choice to the core.
  const FeatureExtractor fx = Extractor("whisper");
  const RealMatrix log_mel = fx.LogMel(Voice(fx, 0.8)).value();
  const RealMatrix mel = fx.Decompress(log_mel).value();
  std::vector<Request> messages = {ConfigMessage("whisper")};
  for (Request& m : ChunkMessages(log_mel, 8)) messages.push_back(std::move(m));
  const CallResult r = Call(server_.stub(), messages);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  const std::vector<float> defaults = CoreStream(fx, mel, {});
  EXPECT_EQ(r.audio, defaults);
  StreamVocoderOptions whisper = Online(8, 7);
  whisper.momentum = 0.95;
  EXPECT_EQ(CoreStream(fx, mel, whisper), defaults);
  EXPECT_NE(CoreStream(fx, mel, Online(2, 4)), defaults);
  // The first audio needs 1 + 7 frames of delay plus the window overlap.
  ASSERT_FALSE(r.chunks.empty());
  EXPECT_EQ(r.chunks.front().frames_received(), 16);
}

struct ErrorCase {
  std::string name;
  std::vector<Request> messages;
  std::string field;
  std::string message;
};

TEST_F(StreamVocodeTest, ProtocolAndInputErrors) {
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix log_mel = fx.LogMel(Voice(fx, 0.5)).value();
  const auto chunk = [&](int64_t first, int64_t count) {
    Request r;
    *r.mutable_mel_chunk() = FramesBins(log_mel, first, count);
    return r;
  };
  Request narrow;
  *narrow.mutable_mel_chunk() = FramesBins(RealMatrix(log_mel.topRows(79)), 0, 4);
  RealMatrix with_nan = log_mel;
  with_nan(3, 9) = std::nanf("");
  Request nan_chunk;
  *nan_chunk.mutable_mel_chunk() = FramesBins(with_nan, 8, 4);
  Request closing = chunk(0, 8);
  closing.set_end_of_utterance(true);
  Request empty;
  const std::vector<ErrorCase> cases = {
      {"missing config", {chunk(0, 8)}, "config", "config is required in the first message"},
      {"empty first message", {empty}, "config", "config is required in the first message"},
      {"half-close without config", {}, "config", "closed the stream without sending one"},
      {"second config", {ConfigMessage("hifigan"), ConfigMessage("hifigan")}, "config", "may only be sent in the first"},
      {"n_mels mismatch", {ConfigMessage("hifigan"), narrow}, "mel_chunk",
       "mel_chunk has 79 mel bins but config.n_mels is 80"},
      {"nan frame", {ConfigMessage("hifigan"), chunk(0, 8), nan_chunk}, "mel_chunk",
       "NaN at bin 3, frame 1; all values must be finite (the chunk starts at frame 8 of the stream)"},
      {"chunk after close", {ConfigMessage("hifigan"), closing, chunk(8, 4)}, "mel_chunk",
       "arrived after end_of_utterance closed the utterance"},
      {"empty message", {ConfigMessage("hifigan"), empty}, "message", "is empty"},
      {"online iterations", {ConfigMessage("hifigan", [](auto* c) { c->set_online_iterations(40); })},
       "config.online_iterations", "must be in [0, 32], got 40"},
      {"lookahead", {ConfigMessage("hifigan", [](auto* c) { c->set_lookahead_frames(17); })},
       "config.lookahead_frames", "must be in [0, 16], got 17"},
      {"n_fft", {ConfigMessage("hifigan", [](auto* c) { c->mutable_config()->set_n_fft(8); })}, "config.config.n_fft",
       "config.config.n_fft must be in"},
      {"encoding", {ConfigMessage("hifigan", [](auto* c) { c->set_encoding(v1::AUDIO_ENCODING_WAV_PCM16); })},
       "config.encoding", "must be AUDIO_ENCODING_PCM_FLOAT32_LE or AUDIO_ENCODING_PCM_INT16_LE"},
      {"normalization size", {ConfigMessage("hifigan", [](auto* c) { c->mutable_normalization()->add_std(1.0f); })},
       "config.normalization.std", "must have 0 or n_mels=80 values, got 1"},
      {"layout disagreement",
       {ConfigMessage("hifigan", [](auto* c) { c->set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES); }), chunk(0, 4)},
       "mel_chunk.layout", "is TENSOR_LAYOUT_FRAMES_BINS but config.layout is TENSOR_LAYOUT_BINS_FRAMES"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    const CallResult r = Call(server_.stub(), c.messages);
    EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << r.status.error_message();
    EXPECT_EQ(BadRequestField(r.status), c.field);
    EXPECT_THAT(r.status.error_message(), HasSubstr(c.message));
  }
  EXPECT_EQ(server::LiveStreamVocodeStates(), 0) << "failed streams hold no state";
}

TEST_F(StreamVocodeTest, StreamsLongerThanTheAudioLimitAreRejected) {
  server::ServerOptions options = TestOptions();
  options.limits.max_audio_seconds = 1.0;
  TestServer limited(options);
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix log_mel = fx.LogMel(Voice(fx, 1.5)).value();
  std::vector<Request> messages = {ConfigMessage("hifigan")};
  for (Request& m : ChunkMessages(log_mel, 16)) messages.push_back(std::move(m));
  const CallResult r = Call(limited.stub(), messages);
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(BadRequestField(r.status), "mel_chunk");
  EXPECT_THAT(r.status.error_message(), HasSubstr("above the server limit --max-audio-seconds=1"));
  EXPECT_FALSE(r.audio.empty()) << "audio before the limit was streamed";
}

TEST_F(StreamVocodeTest, CancellationMidStreamFreesTheState) {
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix log_mel = fx.LogMel(Voice(fx)).value();
  grpc::ClientContext ctx;
  auto stream = server_.stub().StreamVocode(&ctx);
  ASSERT_TRUE(stream->Write(ConfigMessage("hifigan", [](auto* c) { c->set_online_iterations(2); })));
  Request first;
  *first.mutable_mel_chunk() = FramesBins(log_mel, 0, 32);
  ASSERT_TRUE(stream->Write(first));
  Response response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(server::LiveStreamVocodeStates(), 1);
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([] { return server::LiveStreamVocodeStates() == 0; }));
  ASSERT_TRUE(WaitUntil([&] { return server_.server().metrics().RpcCount("StreamVocode", "CANCELLED") == 1; }));
  // The server keeps serving streams.
  std::vector<Request> messages = {ConfigMessage("hifigan")};
  for (Request& m : ChunkMessages(log_mel, 8)) messages.push_back(std::move(m));
  EXPECT_TRUE(Call(server_.stub(), messages).status.ok());
}

// The value of the open-streams gauge in the server's Prometheus text.
int64_t OpenStreamsGauge(const server::Metrics& metrics) {
  const std::string text = metrics.RenderPrometheus();
  const std::string key = "\nspecinv_stream_vocode_streams ";
  const size_t at = text.find(key);
  EXPECT_NE(at, std::string::npos) << text;
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + key.size()));
}

TEST_F(StreamVocodeTest, OpenStreamsGaugeCountsLiveCalls) {
  const server::Metrics& metrics = server_.server().metrics();
  EXPECT_EQ(OpenStreamsGauge(metrics), 0);
  const FeatureExtractor fx = Extractor("hifigan");
  const RealMatrix log_mel = fx.LogMel(Voice(fx, 0.5)).value();
  Request chunk;
  *chunk.mutable_mel_chunk() = FramesBins(log_mel, 0, 24);

  // Two open streams: one streaming audio, one that only sent its config.
  grpc::ClientContext ctx_a, ctx_b;
  auto a = server_.stub().StreamVocode(&ctx_a);
  auto b = server_.stub().StreamVocode(&ctx_b);
  ASSERT_TRUE(a->Write(ConfigMessage("hifigan")));
  ASSERT_TRUE(a->Write(chunk));
  Response response;
  ASSERT_TRUE(a->Read(&response));
  ASSERT_TRUE(b->Write(ConfigMessage("hifigan")));
  ASSERT_TRUE(WaitUntil([&] { return OpenStreamsGauge(metrics) == 2; })) << OpenStreamsGauge(metrics);

  // A cancelled stream closes.
  ctx_a.TryCancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitUntil([&] { return OpenStreamsGauge(metrics) == 1; })) << OpenStreamsGauge(metrics);

  // A failed stream closes (a second config is a protocol error), and so
  // does a completed one.
  ASSERT_TRUE(b->Write(ConfigMessage("hifigan")));
  b->WritesDone();
  while (b->Read(&response)) {
  }
  EXPECT_EQ(b->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(WaitUntil([&] { return OpenStreamsGauge(metrics) == 0; })) << OpenStreamsGauge(metrics);
  std::vector<Request> messages = {ConfigMessage("hifigan")};
  for (Request& m : ChunkMessages(log_mel, 8)) messages.push_back(std::move(m));
  ASSERT_TRUE(Call(server_.stub(), messages).status.ok());
  ASSERT_TRUE(WaitUntil([&] { return OpenStreamsGauge(metrics) == 0; })) << OpenStreamsGauge(metrics);
  EXPECT_EQ(metrics.open_stream_vocode_streams(), 0);
}

TEST_F(StreamVocodeTest, ConcurrentStreamsEqualTheirSoloRunsAndAreNotRejectedForLoad) {
  // No job queue at all: 16 streams still share the 2 workers.
  server::ServerOptions options = TestOptions();
  options.queue_depth = 0;
  TestServer tight(options);
  const FeatureExtractor hifigan = Extractor("hifigan");
  const FeatureExtractor espnet = Extractor("espnet");
  struct Stream {
    const FeatureExtractor* fx;
    std::string preset;
    RealMatrix log_mel;
    int iterations;
    int lookahead;
    int64_t chunk;
    std::vector<float> expected;
    CallResult result;
  };
  std::vector<Stream> streams;
  for (int i = 0; i < 16; ++i) {
    const FeatureExtractor* fx = i % 2 == 0 ? &hifigan : &espnet;
    Stream s{fx, i % 2 == 0 ? "hifigan" : "espnet", RealMatrix(), i % 3, i % 4, 1 + i % 9, {}, {}};
    std::vector<float> voice = Voice(*fx, 0.6 + 0.05 * i);
    s.log_mel = fx->LogMel(voice).value();
    s.expected = CoreStream(*fx, fx->Decompress(s.log_mel).value(), Online(s.iterations, s.lookahead));
    streams.push_back(std::move(s));
  }
  std::vector<std::thread> threads;
  for (Stream& s : streams) {
    threads.emplace_back([&s, &tight] {
      auto stub = v1::Spectrogram::NewStub(tight.NewChannel());
      std::vector<Request> messages = {ConfigMessage(s.preset, [&s](v1::StreamVocodeConfig* c) {
        c->set_online_iterations(s.iterations);
        c->set_lookahead_frames(s.lookahead);
      })};
      for (Request& m : ChunkMessages(s.log_mel, s.chunk)) messages.push_back(std::move(m));
      s.result = Call(*stub, messages);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < streams.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(streams[i].result.status.ok()) << streams[i].result.status.error_message();
    EXPECT_EQ(streams[i].result.audio, streams[i].expected);
  }
  EXPECT_EQ(server::LiveStreamVocodeStates(), 0);
}

TEST_F(StreamVocodeTest, ServerInfoListsStreamVocode) {
  v1::GetServerInfoResponse info;
  ASSERT_TRUE(Call(server_, &v1::Spectrogram::Stub::GetServerInfo, {}, &info).ok());
  EXPECT_THAT(std::vector<std::string>(info.implemented_rpcs().begin(), info.implemented_rpcs().end()),
              ::testing::Contains("specinv.v1.Spectrogram/StreamVocode"));
}

}  // namespace
}  // namespace specinv::testing
