// Copyright specinv authors.

#include "server/test_server.h"

#include <cstring>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/logging.h"
#include "specinv/io/audio_io.h"

namespace specinv::testing {

server::ServerOptions TestOptions() {
  server::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.workers = 2;
  o.queue_depth = 64;
  o.metrics_port = -1;
  return o;
}

TestServer::TestServer(server::ServerOptions options) {
  (void)server::ConfigureLogging("warn", "text");
  auto started = server::SpecinvServer::Start(options);
  EXPECT_TRUE(started.ok()) << started.status();
  if (!started.ok()) std::abort();
  server_ = *std::move(started);
  channel_ = NewChannel();
  stub_ = v1::Spectrogram::NewStub(channel_);
}

TestServer::~TestServer() { Shutdown(absl::ZeroDuration()); }

std::string TestServer::address() const { return "127.0.0.1:" + std::to_string(server_->port()); }

std::shared_ptr<grpc::Channel> TestServer::NewChannel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args);
}

void TestServer::Shutdown(absl::Duration grace) {
  if (server_) server_->Shutdown(grace);
}

v1::Audio PcmAudio(const std::vector<float>& samples, int sample_rate_hertz) {
  v1::Audio audio;
  std::string* data = audio.mutable_pcm_data();
  data->resize(samples.size() * sizeof(float));
  if (!samples.empty()) std::memcpy(data->data(), samples.data(), data->size());
  audio.set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
  audio.set_sample_rate_hertz(sample_rate_hertz);
  audio.set_channel_count(1);
  return audio;
}

std::vector<float> Floats(const v1::Tensor& tensor) {
  std::vector<float> out(tensor.float32_data().size() / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), tensor.float32_data().data(), out.size() * sizeof(float));
  return out;
}

std::vector<float> RowMajor(const RealMatrix& m) {
  std::vector<float> out;
  out.reserve(static_cast<size_t>(m.size()));
  for (Eigen::Index b = 0; b < m.rows(); ++b) {
    for (Eigen::Index f = 0; f < m.cols(); ++f) out.push_back(m(b, f));
  }
  return out;
}

v1::Tensor MatrixTensor(const RealMatrix& m) {
  v1::Tensor t;
  t.add_shape(m.rows());
  t.add_shape(m.cols());
  const std::vector<float> values = RowMajor(m);
  t.mutable_float32_data()->assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return t;
}

std::vector<float> DecodeFloatAudio(const v1::Audio& audio) {
  if (audio.content_case() == v1::Audio::kPcmData) {
    std::vector<float> out(audio.pcm_data().size() / sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), audio.pcm_data().data(), out.size() * sizeof(float));
    return out;
  }
  auto decoded = DecodeAudio(AsBytes(audio.encoded_data()));
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? decoded->samples : std::vector<float>{};
}

std::string BadRequestField(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad) && bad.field_violations_size() > 0) return bad.field_violations(0).field();
  }
  return "";
}

int64_t RetryInfoMs(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return -1;
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) return retry.retry_delay().seconds() * 1000 + retry.retry_delay().nanos() / 1000000;
  }
  return -1;
}

std::unique_ptr<grpc::ClientContext> Context(std::optional<absl::Duration> deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (deadline) ctx->set_deadline(absl::ToChronoTime(absl::Now() + *deadline));
  return ctx;
}

}  // namespace specinv::testing
