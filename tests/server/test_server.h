// Copyright specinv authors.
//
// In-process specinv server for end-to-end tests: a SpecinvServer on a free
// loopback port plus a client stub, and small request/response helpers.

#ifndef SPECINV_TESTS_SERVER_TEST_SERVER_H_
#define SPECINV_TESTS_SERVER_TEST_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "server/server.h"
#include "specinv/base/types.h"
#include "specinv/v1/spectrogram_service.grpc.pb.h"

namespace specinv::testing {

// Loopback, port 0, 2 workers, deep queue, no metrics endpoint.
server::ServerOptions TestOptions();

class TestServer {
 public:
  explicit TestServer(server::ServerOptions options = TestOptions());
  ~TestServer();

  server::SpecinvServer& server() { return *server_; }
  std::string address() const;
  v1::Spectrogram::Stub& stub() { return *stub_; }
  // A channel of its own (no subchannel sharing with other channels).
  std::shared_ptr<grpc::Channel> NewChannel() const;
  // Runs until the server is shut down (explicitly or by the destructor).
  void Shutdown(absl::Duration grace);

 private:
  std::unique_ptr<server::SpecinvServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Spectrogram::Stub> stub_;
};

// Mono float32 PCM.
v1::Audio PcmAudio(const std::vector<float>& samples, int sample_rate_hertz);
// float32_data of a tensor, as floats.
std::vector<float> Floats(const v1::Tensor& tensor);
// A (bins, frames) matrix as the C-order (bins, frames) floats of the wire.
std::vector<float> RowMajor(const RealMatrix& m);
// A float32 tensor (bins, frames) from a matrix.
v1::Tensor MatrixTensor(const RealMatrix& m);
// Decodes the audio of a response (WAV float32 or raw float32 PCM) to floats.
std::vector<float> DecodeFloatAudio(const v1::Audio& audio);

// The BadRequest field path of an error, "" if none.
std::string BadRequestField(const grpc::Status& status);
// The RetryInfo delay in ms of an error, -1 if none.
int64_t RetryInfoMs(const grpc::Status& status);

// Builds a context with an optional deadline from now.
std::unique_ptr<grpc::ClientContext> Context(std::optional<absl::Duration> deadline = std::nullopt);

// Calls `rpc` (a Spectrogram::Stub method, e.g. &v1::Spectrogram::Stub::InvertMel)
// on `server` with a fresh context without deadline.
template <typename Request, typename Response>
grpc::Status Call(TestServer& server,
                  grpc::Status (v1::Spectrogram::Stub::*rpc)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response) {
  auto ctx = Context();
  return (server.stub().*rpc)(ctx.get(), request, response);
}

}  // namespace specinv::testing

#endif  // SPECINV_TESTS_SERVER_TEST_SERVER_H_
