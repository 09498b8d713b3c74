// Copyright specinv authors.
//
// InProcessService (the server's request handling without gRPC, used by
// `specinv bench --in-process`): the same results as the RPCs, the same
// bounded queue, and the service's validation.

#include "server/in_process.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/status_mapping.h"
#include "server/test_server.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;

server::InProcessService::Options PoolOptions(int workers, int queue_depth = -1) {
  server::InProcessService::Options o;
  o.workers = workers;
  o.queue_depth = queue_depth;
  return o;
}

v1::InvertMelRequest FglaRequest(v1::AudioEncoding encoding) {
  auto fx = FeatureExtractor::Create(*GetPreset("hifigan"));
  v1::InvertMelRequest r;
  *r.mutable_mel() = MatrixTensor(*fx->LogMel(Chirp(150.0, 4000.0, 22050.0, 22050)));
  r.mutable_config()->set_preset("hifigan");
  r.mutable_options()->set_method(v1::INVERSION_METHOD_FGLA);
  r.mutable_options()->set_iterations(8);
  r.mutable_output()->set_encoding(encoding);
  return r;
}

TEST(InProcessServiceTest, InvertMelMatchesTheRpc) {
  TestServer server;
  auto in_process = server::InProcessService::Create(PoolOptions(2));
  ASSERT_TRUE(in_process.ok()) << in_process.status();
  for (v1::AudioEncoding encoding : {v1::AUDIO_ENCODING_PCM_FLOAT32_LE, v1::AUDIO_ENCODING_WAV_FLOAT32}) {
    const v1::InvertMelRequest request = FglaRequest(encoding);
    v1::InvertMelResponse direct;
    ASSERT_TRUE((*in_process)->InvertMel(request, &direct).ok());
    v1::InvertMelResponse rpc;
    auto ctx = Context(absl::Seconds(60));
    ASSERT_TRUE(server.stub().InvertMel(ctx.get(), request, &rpc).ok());
    EXPECT_TRUE(direct.audio().SerializeAsString() == rpc.audio().SerializeAsString());
    EXPECT_GT(direct.audio().ByteSizeLong(), 1000u);
    EXPECT_EQ(direct.spectral_convergence_mel_db(), rpc.spectral_convergence_mel_db());
    EXPECT_EQ(direct.iterations_run(), 8);
    EXPECT_TRUE(direct.effective_config().SerializeAsString() == rpc.effective_config().SerializeAsString());
  }
}

TEST(InProcessServiceTest, AnalyzeMatchesTheRpc) {
  TestServer server;
  auto in_process = server::InProcessService::Create(PoolOptions(1));
  ASSERT_TRUE(in_process.ok()) << in_process.status();
  v1::AnalyzeRequest request;
  *request.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 8192), 22050);
  request.mutable_config()->set_preset("hifigan");
  request.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
  v1::AnalyzeResponse direct, rpc;
  ASSERT_TRUE((*in_process)->Analyze(request, &direct).ok());
  auto ctx = Context(absl::Seconds(60));
  ASSERT_TRUE(server.stub().Analyze(ctx.get(), request, &rpc).ok());
  // Everything but the timings.
  EXPECT_TRUE(direct.spectrogram().SerializeAsString() == rpc.spectrogram().SerializeAsString());
  EXPECT_TRUE(direct.effective_config().SerializeAsString() == rpc.effective_config().SerializeAsString());
  EXPECT_EQ(direct.num_samples(), rpc.num_samples());
  EXPECT_GT(direct.spectrogram().float32_data().size(), 0u);
}

TEST(InProcessServiceTest, InvalidRequestNamesTheField) {
  auto in_process = server::InProcessService::Create(PoolOptions(1));
  ASSERT_TRUE(in_process.ok());
  v1::InvertMelRequest request = FglaRequest(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  request.mutable_options()->set_iterations(100000);
  v1::InvertMelResponse response;
  const absl::Status s = (*in_process)->InvertMel(request, &response);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("options.iterations"));
}

TEST(InProcessServiceTest, FullQueueIsRejectedWithARetryHint) {
  // 1 worker, no queue: while one call runs, a second is rejected at once.
  auto in_process = server::InProcessService::Create(PoolOptions(1, 0));
  ASSERT_TRUE(in_process.ok());
  EXPECT_EQ((*in_process)->workers(), 1);
  EXPECT_EQ((*in_process)->queue_depth(), 0);
  v1::InvertMelRequest slow = FglaRequest(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  slow.mutable_options()->set_iterations(200);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    // Keeps the worker busy until the main thread has seen a rejection
    // (retrying its own rejections: the main thread's calls use the worker too).
    while (!stop.load()) {
      v1::InvertMelResponse r;
      const absl::Status s = (*in_process)->InvertMel(slow, &r);
      EXPECT_TRUE(s.ok() || s.code() == absl::StatusCode::kResourceExhausted) << s;
    }
  });
  absl::Status rejected;
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (absl::Now() < give_up) {
    v1::InvertMelResponse r;
    rejected = (*in_process)->InvertMel(FglaRequest(v1::AUDIO_ENCODING_PCM_FLOAT32_LE), &r);
    if (!rejected.ok()) break;
  }
  stop = true;
  other.join();
  EXPECT_EQ(rejected.code(), absl::StatusCode::kResourceExhausted) << rejected;
  EXPECT_THAT(rejected.message(), HasSubstr("--queue-depth=0"));
  EXPECT_TRUE(server::RetryDelayOf(rejected).has_value());
}

TEST(InProcessServiceTest, InvalidOptions) {
  EXPECT_EQ(server::InProcessService::Create(PoolOptions(-1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server::InProcessService::Create(PoolOptions(1, -2)).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto defaults = server::InProcessService::Create(PoolOptions(3));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->queue_depth(), 6);  // 2 x workers, as the server
}

}  // namespace
}  // namespace specinv::testing
