// Copyright specinv authors.
//
// The client's RPC paths against an in-process fake specinv.v1.Spectrogram
// server: the retry policy (RESOURCE_EXHAUSTED then success), bearer tokens,
// and the StreamVocode client (chunking, reassembly by sample offset, output
// file), driven through the same command-line interface as `specinv`.

#include <unistd.h>

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "client/commands/commands.h"
#include "client/files.h"
#include "client/status_format.h"
#include "specinv/io/audio_io.h"
#include "specinv/io/npy.h"

namespace specinv::client {
namespace {

constexpr int kSamplesPerFrame = 4;
constexpr int kFakeRate = 8000;

class FakeSpectrogram final : public v1::Spectrogram::Service {
 public:
  std::atomic<int> info_calls{0};
  int fail_first = 0;                 // GetServerInfo answers RESOURCE_EXHAUSTED this often first
  std::string required_token;         // "" = no auth
  std::mutex mu;
  std::vector<int64_t> chunk_frames;  // frames per received mel chunk
  std::vector<float> mel_values;      // every received value, chunk by chunk, C order
  v1::StreamVocodeConfig vocode_config;

  grpc::Status GetServerInfo(grpc::ServerContext* context, const v1::GetServerInfoRequest*,
                             v1::GetServerInfoResponse* response) override {
    const int call = info_calls.fetch_add(1);
    if (!required_token.empty()) {
      auto it = context->client_metadata().find("authorization");
      if (it == context->client_metadata().end() ||
          std::string(it->second.data(), it->second.size()) != "Bearer " + required_token) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "missing or wrong bearer token");
      }
    }
    if (call < fail_first) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full");
    }
    response->set_version("fake");
    response->set_worker_count(3);
    return grpc::Status::OK;
  }

  // Each mel frame f becomes kSamplesPerFrame samples of value f.
  grpc::Status StreamVocode(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::StreamVocodeResponse, v1::StreamVocodeRequest>* stream) override {
    v1::StreamVocodeRequest request;
    if (!stream->Read(&request) || !request.has_config()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first message must be the config");
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      vocode_config = request.config();
    }
    int64_t frames = 0;
    while (stream->Read(&request)) {
      const v1::Tensor& chunk = request.mel_chunk();
      if (chunk.shape_size() != 2) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "shape");
      const int64_t n = chunk.shape(1);
      {
        std::lock_guard<std::mutex> lock(mu);
        chunk_frames.push_back(n);
        std::vector<float> values(chunk.float32_data().size() / 4);
        std::memcpy(values.data(), chunk.float32_data().data(), values.size() * 4);
        mel_values.insert(mel_values.end(), values.begin(), values.end());
      }
      v1::StreamVocodeResponse response;
      v1::AudioChunk* audio = response.mutable_audio();
      std::vector<float> samples;
      for (int64_t f = frames; f < frames + n; ++f) {
        samples.insert(samples.end(), kSamplesPerFrame, static_cast<float>(f));
      }
      audio->set_pcm_data(std::string(reinterpret_cast<const char*>(samples.data()), samples.size() * 4));
      audio->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
      audio->set_sample_rate_hertz(kFakeRate);
      audio->set_first_sample(frames * kSamplesPerFrame);
      audio->set_num_samples(static_cast<int64_t>(samples.size()));
      frames += n;
      audio->set_frames_received(frames);
      stream->Write(response);
      if (request.end_of_utterance()) break;
    }
    v1::StreamVocodeResponse summary;
    summary.mutable_summary()->set_total_frames(frames);
    summary.mutable_summary()->set_total_samples(frames * kSamplesPerFrame);
    summary.mutable_summary()->set_real_time_factor(123.0);
    stream->Write(summary);
    return grpc::Status::OK;
  }
};

class FakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("specinv_fake_server_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    server_->Shutdown();
    std::filesystem::remove_all(dir_);
  }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs `specinv <args> --server 127.0.0.1:<port>` in-process.
  absl::Status Run(const std::string& args) {
    CLI::App app;
    app.fallthrough();
    app.require_subcommand(1);
    CommandContext context;
    AddConnectionFlags(&app, &context.connection);
    RegisterCommands(&app, &context);
    app.parse("-q --server 127.0.0.1:" + std::to_string(port_) + " --deadline-ms 10000 " + args,
              false);
    if (!context.action) return absl::InternalError("no action");
    return context.action();
  }

  FakeSpectrogram service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::filesystem::path dir_;
};

TEST_F(FakeServerTest, ResourceExhaustedIsRetried) {
  service_.fail_first = 2;
  EXPECT_TRUE(Run("info --json").ok());
  EXPECT_EQ(service_.info_calls.load(), 3);
}

TEST_F(FakeServerTest, OneAttemptReportsTheError) {
  service_.fail_first = 2;
  const absl::Status status = Run("--max-attempts 1 info");
  EXPECT_EQ(FormatError(status), "error: RESOURCE_EXHAUSTED: queue full");
  EXPECT_EQ(service_.info_calls.load(), 1);
}

TEST_F(FakeServerTest, RetriesStopAtMaxAttempts) {
  service_.fail_first = 100;
  const absl::Status status = Run("--max-attempts 3 --initial-backoff-ms 1 info");
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(service_.info_calls.load(), 3);
}

TEST_F(FakeServerTest, BearerTokenIsSent) {
  service_.required_token = "s3cret";
  ASSERT_TRUE(WriteFileBytes(Path("token"), "s3cret\n").ok());
  EXPECT_TRUE(Run("--token-file " + Path("token") + " info").ok());
  const absl::Status without = Run("info");
  EXPECT_EQ(FormatError(without), "error: UNAUTHENTICATED: missing or wrong bearer token");
  ASSERT_TRUE(WriteFileBytes(Path("wrong"), "guess").ok());
  EXPECT_EQ(Run("--token-file " + Path("wrong") + " info").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(FakeServerTest, VocodeStreamsChunksAndReassemblesAudio) {
  RealMatrix mel(5, 10);
  for (int b = 0; b < 5; ++b) {
    for (int t = 0; t < 10; ++t) mel(b, t) = static_cast<float>(b * 100 + t);
  }
  // Stored (frames, bins) to exercise --layout.
  ASSERT_TRUE(WriteFileBytes(Path("mel.npy"), RealMatrixToNpy(mel, MatrixLayout::kFramesBins)).ok());
  const absl::Status status =
      Run("vocode " + Path("mel.npy") + " -o " + Path("out.npy") +
          " --layout frames-bins --chunk-frames 3 --preset hifigan --algorithm rtpghi-causal");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(service_.chunk_frames, std::vector<int64_t>({3, 3, 3, 1}));
  EXPECT_EQ(service_.vocode_config.config().preset(), "hifigan");
  EXPECT_EQ(service_.vocode_config.layout(), v1::TENSOR_LAYOUT_BINS_FRAMES);
  // The first chunk carries frames 0..2 of every bin, (bins, frames) C order.
  ASSERT_GE(service_.mel_values.size(), 15u);
  EXPECT_EQ(std::vector<float>(service_.mel_values.begin(), service_.mel_values.begin() + 6),
            std::vector<float>({0, 1, 2, 100, 101, 102}));
  EXPECT_EQ(service_.mel_values.size(), 50u);

  absl::StatusOr<std::string> bytes = ReadFileBytes(Path("out.npy"));
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<NpyArray> audio = ParseNpy(AsBytes(*bytes));
  ASSERT_TRUE(audio.ok()) << audio.status();
  ASSERT_EQ(audio->real.size(), 10u * kSamplesPerFrame);
  for (size_t i = 0; i < audio->real.size(); ++i) {
    ASSERT_EQ(audio->real[i], static_cast<float>(i / kSamplesPerFrame)) << i;
  }
}

TEST_F(FakeServerTest, VocodeWritesWav) {
  RealMatrix mel(5, 4);
  mel.setConstant(0.25f);
  ASSERT_TRUE(WriteFileBytes(Path("mel.npy"), RealMatrixToNpy(mel, MatrixLayout::kBinsFrames)).ok());
  ASSERT_TRUE(Run("vocode " + Path("mel.npy") + " -o " + Path("out.wav") + " --encoding wav-float")
                  .ok());
  absl::StatusOr<std::string> bytes = ReadFileBytes(Path("out.wav"));
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<Audio> decoded = DecodeAudio(AsBytes(*bytes));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sample_rate, kFakeRate);
  ASSERT_EQ(decoded->samples.size(), 4u * kSamplesPerFrame);
  EXPECT_EQ(decoded->samples.back(), 3.0f);
}

}  // namespace
}  // namespace specinv::client
