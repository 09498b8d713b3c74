// Copyright specinv authors.
//
// HttpApi: specinv over HTTP/1.1 for callers without gRPC (curl, any
// language), on specinv-server --http-port. Every route goes through the
// same CallLifecycle as the gRPC methods (call.h): bearer authentication
// (Authorization: Bearer <token>; /healthz and /readyz exempt), request id
// (X-Request-Id in and out), load shedding, the request's cost admitted
// against the same limits, the same bounded worker pool, metrics (method
// label = the RPC's name) and one log line per call (peer "http:...").
//
//   GET  /healthz                 200 while the process serves (liveness)
//   GET  /readyz                  200, or 503 while every worker is busy and
//                                 the queue is full, or shutting down
//   GET  /v1/info                 GetServerInfo as JSON
//   POST /v1/analyze              body: an audio file (WAV, FLAC, OGG, MP3)
//                                 -> the spectrogram as .npy (float32,
//                                 [bins, frames] unless layout=frames-bins)
//   POST /v1/invert-mel           body: .npy mel (n_mels, frames) -> audio
//   POST /v1/invert-spectrogram   body: .npy magnitude (n_fft/2+1, frames)
//                                 -> audio
//   POST /v1/vocode               body: .npy mel (n_mels, frames) -> raw PCM
//                                 (chunked transfer), each chunk_frames
//                                 frames' audio sent as soon as it is final
//                                 (the StreamVocode vocoder; see
//                                 vocode_stream.h)
//   POST /v1/render               body: an audio file, or a .npy
//                                 spectrogram (Content-Type
//                                 application/x-npy) -> image/png
//
// Query parameters set fields of the route's request message by path
// (query_fields.h): `config.hop_length=256`, `options.iterations=64`; the
// aliases preset, method, iterations, encoding, kind, view, colormap,
// sample_rate, seed and length_samples cover the common ones. Audio comes
// back as audio/wav (default), audio/flac, audio/ogg or audio/mpeg, or raw
// PCM (application/octet-stream) with X-Sample-Rate and X-Channels headers.
// Inversions also answer X-Spectral-Convergence-Mel-Db / -Db and
// X-Iterations.
//
// Deadline: the X-Request-Timeout header (seconds); the job stops when it
// passes (504). Errors: JSON (http_status.h). Bodies larger than the
// server's --max-message-mb get 413 before they are read.
//
// Shutdown: Drain() makes new calls 503 and /readyz 503; Stop(deadline)
// waits for calls in flight until the deadline, then cancels their jobs and
// returns when every handler has finished. Thread-safe.

#ifndef SPECINV_SERVER_HTTP_HTTP_API_H_
#define SPECINV_SERVER_HTTP_HTTP_API_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/call.h"
#include "server/rpc/rpc.h"
#include "server/stream_vocode.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace httplib {
class Server;
}

namespace specinv::server {

class HttpApi {
 public:
  struct Deps {
    const CallLifecycle* life = nullptr;
    const RpcEnv* env = nullptr;
    std::function<bool()> ready;                                  // readiness (pool not saturated)
    std::function<void(v1::GetServerInfoResponse*)> server_info;  // GetServerInfo's answer
    StreamVocodeEnvironment vocode;  // /v1/vocode's share of the streaming vocoder (on_end unused)
    int64_t max_body_bytes = 64 << 20;
  };

  // Listens on host:port (port 0: a free one). Unavailable when it cannot.
  static absl::StatusOr<std::unique_ptr<HttpApi>> Start(const Deps& deps, const std::string& host, int port);
  ~HttpApi();

  int port() const { return port_; }
  void Drain();
  void Stop(absl::Time deadline);

 private:
  HttpApi() = default;
  void Routes();

  Deps deps_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<bool> draining_{false};
  std::atomic<bool> cancelled_{false};
  std::atomic<int> in_flight_{0};
  bool stopped_ = false;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_HTTP_HTTP_API_H_
