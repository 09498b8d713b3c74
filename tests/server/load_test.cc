// Copyright specinv authors.
//
// Behaviour under load: a full queue is rejected at once with a retry hint;
// cancellation and deadlines stop running jobs and free their worker;
// concurrent clients get the same results as sequential ones; graceful
// shutdown finishes in-flight work.

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "server/test_server.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "testing/signals.h"

namespace specinv::testing {
namespace {

using ::testing::HasSubstr;

// Sanitizer builds run several times slower (and CI runs tests in
// parallel); time bounds scale with this. The bounds stay far below the
// seconds the long jobs would take to finish.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 10.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSlowdown = 10.0;
#else
constexpr double kSlowdown = 1.0;
#endif
#else
constexpr double kSlowdown = 1.0;
#endif

// A gate the test opens: jobs submitted straight to the worker pool block on
// it, which occupies workers and queue slots deterministically.
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void WaitForWaiters(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

server::ServerOptions OneWorker(int queue_depth) {
  server::ServerOptions o = TestOptions();
  o.workers = 1;
  o.queue_depth = queue_depth;
  return o;
}

v1::AnalyzeRequest SmallAnalyze() {
  v1::AnalyzeRequest r;
  *r.mutable_audio() = PcmAudio(Sine(440.0, 22050.0, 4096), 22050);
  r.set_kind(v1::SPECTROGRAM_KIND_MEL);
  return r;
}

// A long refine job: several seconds of L-BFGS, each iteration a few ms.
v1::InvertMelRequest LongRefine() {
  auto fx = FeatureExtractor::Create(*GetPreset("hifigan"));
  v1::InvertMelRequest r;
  *r.mutable_mel() = MatrixTensor(*fx->LogMel(Chirp(100.0, 5000.0, 22050.0, 2 * 22050)));
  r.mutable_config()->set_preset("hifigan");
  r.mutable_options()->set_method(v1::INVERSION_METHOD_REFINE);
  r.mutable_options()->set_iterations(1000);
  r.mutable_options()->set_refine_iterations(1000);
  return r;
}

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (condition()) return true;
    absl::SleepFor(absl::Microseconds(500));
  }
  return condition();
}

TEST(QueueTest, FullQueueIsRejectedAtOnceWithARetryHint) {
  TestServer server(OneWorker(1));
  Gate gate;
  server::WorkerPool& pool = server.server().pool();
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { gate.Wait(); }).ok());  // occupies the worker
  gate.WaitForWaiters(1);
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { gate.Wait(); }).ok());  // occupies the queue slot
  EXPECT_EQ(pool.busy(), 1);
  EXPECT_EQ(pool.queued(), 1);

  v1::AnalyzeResponse response;
  auto ctx = Context(absl::Seconds(30));
  grpc::Status status = server.stub().Analyze(ctx.get(), SmallAnalyze(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("--queue-depth=1"));
  EXPECT_GE(RetryInfoMs(status), 10);
  const auto& trailers = ctx->GetServerTrailingMetadata();
  auto pushback = trailers.find("grpc-retry-pushback-ms");
  ASSERT_NE(pushback, trailers.end());
  EXPECT_GE(std::stoi(std::string(pushback->second.data(), pushback->second.size())), 10);
  // The rejection is Trailers-Only: no initial metadata, the id in the trailers.
  EXPECT_TRUE(ctx->GetServerInitialMetadata().empty());
  EXPECT_EQ(trailers.count("x-request-id"), 1u);

  // Streaming and batch RPCs are rejected the same way.
  auto stream_ctx = Context(absl::Seconds(30));
  auto reader = server.stub().InvertMelStream(stream_ctx.get(), LongRefine());
  v1::InvertMelStreamResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::InvertMelBatchRequest batch;
  *batch.add_requests() = LongRefine();
  v1::InvertMelBatchResponse batch_response;
  auto batch_ctx = Context(absl::Seconds(30));
  EXPECT_EQ(server.stub().InvertMelBatch(batch_ctx.get(), batch, &batch_response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  // GetServerInfo needs no worker and still answers.
  v1::GetServerInfoResponse info;
  auto info_ctx = Context(absl::Seconds(30));
  ASSERT_TRUE(server.stub().GetServerInfo(info_ctx.get(), {}, &info).ok());
  EXPECT_EQ(info.busy_workers(), 1);
  EXPECT_EQ(info.queued_jobs(), 1);
  EXPECT_EQ(pool.rejected(), 3);

  gate.Open();
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 0 && pool.queued() == 0; }, absl::Seconds(10)));
  auto ctx2 = Context(absl::Seconds(30));
  EXPECT_TRUE(server.stub().Analyze(ctx2.get(), SmallAnalyze(), &response).ok());
  EXPECT_EQ(server.server().metrics().RpcCount("Analyze", "RESOURCE_EXHAUSTED"), 1);
}

// A channel whose retry policy retries RESOURCE_EXHAUSTED, 5 attempts in
// all; the server's grpc-retry-pushback-ms sets the wait between attempts.
constexpr int kRetryAttempts = 5;
std::shared_ptr<grpc::Channel> RetryingChannel(const TestServer& server) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetServiceConfigJSON(R"({"methodConfig":[{"name":[{"service":"specinv.v1.Spectrogram"}],
    "retryPolicy":{"maxAttempts":5,"initialBackoff":"0.01s","maxBackoff":"0.1s","backoffMultiplier":2,
    "retryableStatusCodes":["RESOURCE_EXHAUSTED"]}}]})");
  return grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args);
}

TEST(QueueTest, RetryPolicyRetriesAFullQueue) {
  // Every attempt reaches the server and is rejected: the rejection does not
  // commit the call (no initial metadata before the status), so the client's
  // retry policy makes all its attempts. A committed rejection would be
  // returned after the first attempt.
  TestServer server(OneWorker(0));
  Gate gate;
  server::WorkerPool& pool = server.server().pool();
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { gate.Wait(); }).ok());  // occupies the only worker
  gate.WaitForWaiters(1);
  auto stub = v1::Spectrogram::NewStub(RetryingChannel(server));

  v1::AnalyzeResponse response;
  auto ctx = Context(absl::Seconds(30));
  grpc::Status status = stub->Analyze(ctx.get(), SmallAnalyze(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(pool.rejected(), kRetryAttempts);
  ASSERT_TRUE(WaitUntil([&] { return server.server().metrics().RpcCount("Analyze", "RESOURCE_EXHAUSTED") ==
                                     kRetryAttempts; },
                        absl::Seconds(10)));
  // The last attempt's hints reach the caller.
  EXPECT_GE(RetryInfoMs(status), 10);
  EXPECT_EQ(ctx->GetServerTrailingMetadata().count("grpc-retry-pushback-ms"), 1u);
  EXPECT_EQ(ctx->GetServerTrailingMetadata().count("x-request-id"), 1u);

  // A server-streaming call rejected before its first message is retried too.
  auto stream_ctx = Context(absl::Seconds(30));
  auto reader = stub->InvertMelStream(stream_ctx.get(), LongRefine());
  v1::InvertMelStreamResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(pool.rejected(), 2 * kRetryAttempts);
  gate.Open();
}

TEST(QueueTest, RetriedCallSucceedsOnceTheWorkerFrees) {
  TestServer server(OneWorker(0));
  server::WorkerPool& pool = server.server().pool();
  // Holds the only worker until the call's first attempt has been rejected.
  std::atomic<bool> released{false};
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) {
                    released = WaitUntil([&] { return pool.rejected() >= 1; }, absl::Seconds(30));
                  }).ok());
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 1; }, absl::Seconds(10)));
  auto stub = v1::Spectrogram::NewStub(RetryingChannel(server));

  v1::AnalyzeResponse response;
  auto ctx = Context(absl::Seconds(30));
  grpc::Status status = stub->Analyze(ctx.get(), SmallAnalyze(), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_TRUE(released.load());
  EXPECT_GT(response.spectrogram().float32_data().size(), 0u);
  const int64_t rejected = pool.rejected();
  EXPECT_GE(rejected, 1);
  EXPECT_LT(rejected, kRetryAttempts);
  ASSERT_TRUE(WaitUntil([&] { return server.server().metrics().RpcCount("Analyze", "OK") == 1; },
                        absl::Seconds(10)));
  EXPECT_EQ(server.server().metrics().RpcCount("Analyze", "RESOURCE_EXHAUSTED"), rejected);
}

TEST(QueueTest, QueuedJobRunsWhenAWorkerFrees) {
  TestServer server(OneWorker(2));
  Gate gate;
  server::WorkerPool& pool = server.server().pool();
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { gate.Wait(); }).ok());
  gate.WaitForWaiters(1);
  std::promise<grpc::Status> done;
  v1::AnalyzeResponse response;
  auto ctx = Context(absl::Seconds(30));
  const v1::AnalyzeRequest request = SmallAnalyze();
  server.stub().async()->Analyze(ctx.get(), &request, &response, [&](grpc::Status s) { done.set_value(s); });
  ASSERT_TRUE(WaitUntil([&] { return pool.queued() == 1; }, absl::Seconds(10)));
  gate.Open();
  EXPECT_TRUE(done.get_future().get().ok());
  EXPECT_GT(response.spectrogram().float32_data().size(), 0u);
}

TEST(CancellationTest, CancelledRefineJobFreesItsWorker) {
  TestServer server(OneWorker(4));
  server::WorkerPool& pool = server.server().pool();
  auto ctx = Context(absl::Seconds(60));
  auto reader = server.stub().InvertMelStream(ctx.get(), LongRefine());
  // Wait until the job iterates (progress events arrive).
  v1::InvertMelStreamResponse message;
  int progress = 0;
  while (progress < 3 && reader->Read(&message)) {
    ASSERT_TRUE(message.has_progress());
    ++progress;
  }
  ASSERT_EQ(progress, 3);
  ASSERT_EQ(pool.busy(), 1);

  const absl::Time cancelled = absl::Now();
  ctx->TryCancel();
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 0; }, absl::Seconds(30)));
  const absl::Duration freed = absl::Now() - cancelled;
  EXPECT_LT(freed, absl::Milliseconds(100 * kSlowdown)) << "worker freed after " << freed;
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The next job runs on the freed worker.
  v1::AnalyzeResponse response;
  auto ctx2 = Context(absl::Seconds(30));
  EXPECT_TRUE(server.stub().Analyze(ctx2.get(), SmallAnalyze(), &response).ok());
  ASSERT_TRUE(WaitUntil([&] { return server.server().metrics().RpcCount("InvertMelStream", "CANCELLED") == 1; },
                        absl::Seconds(10)));
}

TEST(CancellationTest, DeadlineExceededStopsTheJob) {
  TestServer server(OneWorker(4));
  server::WorkerPool& pool = server.server().pool();
  v1::InvertMelResponse response;
  auto ctx = Context(absl::Milliseconds(300 * kSlowdown));
  const absl::Time start = absl::Now();
  grpc::Status status = server.stub().InvertMel(ctx.get(), LongRefine(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 0; }, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300 * kSlowdown) + absl::Milliseconds(200 * kSlowdown));
  ASSERT_TRUE(WaitUntil([&] { return server.server().metrics().RpcCount("InvertMel", "DEADLINE_EXCEEDED") == 1; },
                        absl::Seconds(10)));
}

// The harmonic mel inverse polls the deadline inside its fits: with
// 100 000 iterations per frame (the documented maximum) the call still ends
// at its deadline and frees the worker.
TEST(CancellationTest, DeadlineStopsTheHarmonicMelInverse) {
  TestServer server(OneWorker(4));
  server::WorkerPool& pool = server.server().pool();
  v1::InvertMelRequest request = LongRefine();
  request.mutable_options()->set_method(v1::INVERSION_METHOD_PGHI);
  request.mutable_options()->set_mel_inverse(v1::MEL_INVERSE_HARMONIC);
  request.mutable_options()->set_nnls_iterations(100000);
  v1::InvertMelResponse response;
  auto ctx = Context(absl::Milliseconds(300 * kSlowdown));
  const absl::Time start = absl::Now();
  EXPECT_EQ(server.stub().InvertMel(ctx.get(), request, &response).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 0; }, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(300 * kSlowdown) + absl::Milliseconds(200 * kSlowdown));
}

TEST(CancellationTest, JobWhoseDeadlinePassedInTheQueueDoesNotRun) {
  TestServer server(OneWorker(4));
  Gate gate;
  server::WorkerPool& pool = server.server().pool();
  ASSERT_TRUE(pool.TrySubmit([&](absl::Duration) { gate.Wait(); }).ok());
  gate.WaitForWaiters(1);
  v1::InvertMelResponse response;
  // Long enough for the call to reach the queue on a loaded machine; it then
  // expires there, behind the gated job.
  auto ctx = Context(absl::Milliseconds(500));
  EXPECT_EQ(server.stub().InvertMel(ctx.get(), LongRefine(), &response).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  gate.Open();
  // The queued job only checks its deadline and finishes: the worker frees fast.
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 0 && pool.queued() == 0; }, absl::Seconds(5)));
  ASSERT_TRUE(WaitUntil([&] { return server.server().metrics().RpcCount("InvertMel", "DEADLINE_EXCEEDED") == 1; },
                        absl::Seconds(10)));
}

TEST(ConcurrencyTest, SixteenClientsGetTheSequentialResults) {
  TestServer server;
  constexpr int kClients = 16;
  auto fx = FeatureExtractor::Create(*GetPreset("hifigan"));
  std::vector<v1::InvertMelRequest> invert(kClients);
  std::vector<v1::AnalyzeRequest> analyze(kClients);
  for (int i = 0; i < kClients; ++i) {
    const std::vector<float> audio = Chirp(100.0 + 20.0 * i, 3000.0 + 100.0 * i, 22050.0, 8192 + 512 * i);
    analyze[i].set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
    analyze[i].mutable_config()->set_preset("hifigan");
    *analyze[i].mutable_audio() = PcmAudio(audio, 22050);
    *invert[i].mutable_mel() = MatrixTensor(*fx->LogMel(audio));
    invert[i].mutable_config()->set_preset("hifigan");
    invert[i].mutable_options()->set_method(i % 2 == 0 ? v1::INVERSION_METHOD_FGLA : v1::INVERSION_METHOD_PGHI_FGLA);
    invert[i].mutable_options()->set_iterations(4);
    invert[i].mutable_output()->set_encoding(v1::AUDIO_ENCODING_WAV_FLOAT32);
  }
  std::vector<v1::Audio> seq_audio(kClients);
  std::vector<std::string> seq_mel(kClients);
  for (int i = 0; i < kClients; ++i) {
    v1::InvertMelResponse r;
    auto ctx = Context(absl::Seconds(60));
    ASSERT_TRUE(server.stub().InvertMel(ctx.get(), invert[i], &r).ok());
    seq_audio[i] = r.audio();
    v1::AnalyzeResponse a;
    auto ctx2 = Context(absl::Seconds(60));
    ASSERT_TRUE(server.stub().Analyze(ctx2.get(), analyze[i], &a).ok());
    seq_mel[i] = a.spectrogram().float32_data();
  }
  std::vector<v1::Audio> par_audio(kClients);
  std::vector<std::string> par_mel(kClients);
  std::vector<grpc::Status> statuses(2 * kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::Spectrogram::NewStub(server.NewChannel());
      v1::InvertMelResponse r;
      auto ctx = Context(absl::Seconds(120));
      statuses[2 * i] = stub->InvertMel(ctx.get(), invert[i], &r);
      par_audio[i] = r.audio();
      v1::AnalyzeResponse a;
      auto ctx2 = Context(absl::Seconds(120));
      statuses[2 * i + 1] = stub->Analyze(ctx2.get(), analyze[i], &a);
      par_mel[i] = a.spectrogram().float32_data();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    ASSERT_TRUE(statuses[2 * i].ok()) << statuses[2 * i].error_message();
    ASSERT_TRUE(statuses[2 * i + 1].ok()) << statuses[2 * i + 1].error_message();
    // Byte-identical files (float WAV without a time-stamped PEAK chunk).
    EXPECT_EQ(par_audio[i].encoded_data(), seq_audio[i].encoded_data()) << "client " << i;
    EXPECT_EQ(DecodeFloatAudio(par_audio[i]), DecodeFloatAudio(seq_audio[i])) << "client " << i;
    EXPECT_EQ(par_mel[i], seq_mel[i]) << "client " << i;
  }
}

TEST(ShutdownTest, GracefulShutdownFinishesInFlightWork) {
  TestServer server(OneWorker(4));
  server::WorkerPool& pool = server.server().pool();
  auto fx = FeatureExtractor::Create(*GetPreset("hifigan"));
  v1::InvertMelRequest request;
  *request.mutable_mel() = MatrixTensor(*fx->LogMel(Chirp(100.0, 5000.0, 22050.0, 3 * 22050)));
  request.mutable_config()->set_preset("hifigan");
  request.mutable_options()->set_iterations(300);
  v1::InvertMelResponse response;
  std::promise<grpc::Status> done;
  auto ctx = Context(absl::Seconds(120));
  server.stub().async()->InvertMel(ctx.get(), &request, &response, [&](grpc::Status s) { done.set_value(s); });
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 1; }, absl::Seconds(10)));

  std::thread shutdown([&] { server.Shutdown(absl::Seconds(60)); });
  grpc::Status status = done.get_future().get();
  shutdown.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.iterations_run(), 300);
  EXPECT_GT(response.audio().encoded_data().size(), 0u);

  // After shutdown nothing is served.
  v1::GetServerInfoResponse info;
  auto ctx2 = Context(absl::Seconds(5));
  EXPECT_EQ(server.stub().GetServerInfo(ctx2.get(), {}, &info).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(ShutdownTest, GracePeriodBoundsShutdownOfLongJobs) {
  TestServer server(OneWorker(4));
  server::WorkerPool& pool = server.server().pool();
  v1::InvertMelResponse response;
  std::promise<grpc::Status> done;
  auto ctx = Context(absl::Seconds(120));
  const v1::InvertMelRequest request = LongRefine();
  server.stub().async()->InvertMel(ctx.get(), &request, &response, [&](grpc::Status s) { done.set_value(s); });
  ASSERT_TRUE(WaitUntil([&] { return pool.busy() == 1; }, absl::Seconds(10)));
  const absl::Time start = absl::Now();
  server.Shutdown(absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Milliseconds(200) + absl::Milliseconds(500 * kSlowdown)) << took;
  EXPECT_FALSE(done.get_future().get().ok());
  EXPECT_EQ(pool.busy(), 0);
}

}  // namespace
}  // namespace specinv::testing
