// Copyright specinv authors.
//
// StreamVocode: the bidirectional streaming vocoder RPC.
//
// Protocol (see proto/specinv/v1/vocode.proto): the first client message
// carries a StreamVocodeConfig; later ones carry mel chunks (>= 1 frame,
// n_mels bins, in the configured layout, domain and normalisation). Every
// chunk is decompressed and de-normalised frame by frame and pushed into a
// core StreamVocoder (stream_vocoder.h); the samples that became final are
// sent at once as an AudioChunk (split so no message exceeds half the
// server's message limit). A message with end_of_utterance, or the client's
// half-close, closes the utterance: the tail is flushed and a
// StreamVocodeSummary sent. The call then ends OK when the client
// half-closes; anything it sends after end_of_utterance is an error.
//
// Errors (INVALID_ARGUMENT naming the request field): a first message
// without config ("config is required in the first message ..."), a second
// config, a mel chunk whose bin count is not config.n_mels, non-finite
// values (with the frame's index in the stream), a chunk after
// end_of_utterance, a stream longer than --max-audio-seconds. A full worker
// queue is RESOURCE_EXHAUSTED with a retry hint; the call's deadline is
// DEADLINE_EXCEEDED; a client cancellation stops the stream and frees its
// state at once.
//
// Threading: gRPC threads only queue messages and start reads/writes; the
// DSP runs on the worker pool through a StreamVocodeScheduler, one message
// of a stream at a time (so a stream's chunks are processed in order). At
// most kMaxQueuedMessages messages (kMaxQueuedBytes) wait per stream; beyond that the reactor
// stops reading (back-pressure through gRPC flow control).

#ifndef SPECINV_SERVER_STREAM_VOCODE_H_
#define SPECINV_SERVER_STREAM_VOCODE_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/extractor_cache.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "specinv/analysis/feature_config.h"
#include "specinv/analysis/features.h"
#include "specinv/streaming/stream_vocoder.h"
#include "specinv/v1/vocode.pb.h"

namespace specinv::server {

// One stream's protocol state and DSP, without the transport: turns client
// messages into server messages. Not thread-safe (one stream, one caller at
// a time); distinct sessions are independent.
class StreamVocodeSession {
 public:
  // The pointers must outlive the session.
  StreamVocodeSession(const ServiceLimits* limits, ExtractorCache* extractors);
  ~StreamVocodeSession();
  StreamVocodeSession(const StreamVocodeSession&) = delete;
  StreamVocodeSession& operator=(const StreamVocodeSession&) = delete;

  // Handles one client message (received at `received`) and appends the
  // server messages it produces to `out`. After an error the session must
  // not be used again.
  absl::Status Handle(const v1::StreamVocodeRequest& message, absl::Time received,
                      std::vector<v1::StreamVocodeResponse>* out);
  // The client half-closed: closes the utterance if still open (tail and
  // summary to `out`). InvalidArgument when no config was ever sent.
  absl::Status HalfClose(std::vector<v1::StreamVocodeResponse>* out);

  // INVALID_ARGUMENT naming `field` when a stream of `total_frames` frames
  // would exceed --max-audio-seconds. Only after the config message.
  absl::Status CheckStreamLength(int64_t total_frames, absl::string_view field) const;

  // Input-domain diagnostics (CheckMelDomain) of a mel the stream is about
  // to receive, de-normalised as its chunks will be: the warnings, or
  // InvalidArgument (field "mel") for a negative linear mel. Only after the
  // config message.
  absl::StatusOr<std::vector<std::string>> DomainWarnings(RealMatrix mel) const;

  bool configured() const { return configured_; }
  bool closed() const { return closed_; }
  int64_t frames() const { return frames_; }
  int64_t samples() const { return samples_; }
  double audio_seconds() const;
  // The configured sample rate in Hz (0 before the config message).
  double sample_rate() const { return config_.sample_rate; }
  // Frees the DSP state (cancellation); the session is dead afterwards.
  void Release();
  // Frees the DSP state only (after the utterance is closed).
  void ReleaseVocoder();
  // Polled between blocks of frames of a chunk; a non-OK status stops the
  // chunk and is returned (cancellation, deadline).
  void SetCheck(std::function<absl::Status()> check) { check_ = std::move(check); }

 private:
  absl::Status Configure(const v1::StreamVocodeConfig& config);
  absl::Status AddChunk(const v1::Tensor& tensor, std::vector<float>* samples);
  void Denormalise(RealMatrix* mel) const;  // x * std + mean per bin, when configured
  void EmitAudio(const std::vector<float>& samples, absl::Time received, std::vector<v1::StreamVocodeResponse>* out);
  void EmitSummary(std::vector<v1::StreamVocodeResponse>* out);
  absl::Status Close(absl::Time received, std::vector<v1::StreamVocodeResponse>* out);

  const ServiceLimits* limits_;
  ExtractorCache* extractors_;
  FeatureConfig config_;
  std::shared_ptr<const FeatureExtractor> extractor_;
  std::optional<StreamVocoder> vocoder_;
  v1::MelDomain domain_ = v1::MEL_DOMAIN_UNSPECIFIED;
  v1::TensorLayout layout_ = v1::TENSOR_LAYOUT_UNSPECIFIED;
  v1::AudioEncoding encoding_ = v1::AUDIO_ENCODING_PCM_FLOAT32_LE;
  std::vector<float> mean_, std_;  // per-bin de-normalisation (empty: none)
  int64_t frames_ = 0;
  int64_t samples_ = 0;
  absl::Duration processing_ = absl::ZeroDuration();
  bool configured_ = false;
  bool closed_ = false;
  bool released_ = false;
  bool counted_ = false;  // in LiveStreamVocodeStates()
  std::vector<float> pending_;  // samples of the message being handled
  std::function<absl::Status()> check_;
};

// Streams whose DSP state (vocoder) is allocated right now, process-wide: a
// stream holds it from its config message until its utterance is closed, it
// fails or it is cancelled.
int64_t LiveStreamVocodeStates();

// Runs the DSP of every StreamVocode stream on a worker pool without
// holding a queue slot per stream: streams with queued messages wait in one
// FIFO, and at most `workers` pool jobs ("runners") drain it, one message per
// turn (round robin, so concurrent streams share the workers fairly). A
// runner hands its worker back after kRunnerSliceMs when other jobs may be
// waiting (it re-queues itself behind them). A runner the pool rejects
// (queue full of other requests) is retried every millisecond by a helper
// thread, so a stream that has started is never failed for load.
// Thread-safe. Destroy it only after the pool's workers have stopped.
class StreamVocodeScheduler {
 public:
  class Task {
   public:
    virtual ~Task() = default;
    // Handles one queued message. Returns true when more are queued (the
    // task is queued again); after returning false the scheduler no longer
    // touches it (it may have been deleted).
    virtual bool Step() = 0;
  };

  explicit StreamVocodeScheduler(WorkerPool* pool);
  ~StreamVocodeScheduler();
  StreamVocodeScheduler(const StreamVocodeScheduler&) = delete;
  StreamVocodeScheduler& operator=(const StreamVocodeScheduler&) = delete;

  // Queues `task` (not already queued or running).
  void Schedule(Task* task);

  static constexpr double kRunnerSliceMs = 10.0;

 private:
  void Launch();  // submits a runner whose slot is already counted
  void Run();
  void RetryLoop();

  WorkerPool* pool_;
  const int max_runners_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task*> ready_;
  int runners_ = 0;
  bool stalled_ = false;
  bool stop_ = false;
  std::thread retry_thread_;
};

// The open StreamVocode calls: admission (at most `max_streams` at once,
// --max-streams) and the idle timeout (--stream-idle-timeout-s): a sweeper
// thread asks every open stream a few times per timeout whether it has been
// idle (no message received, nothing queued or running) for longer; such a
// stream ends with DEADLINE_EXCEEDED and frees its state.
// Thread-safe. Streams must Remove themselves before they are destroyed.
class StreamRegistry {
 public:
  class Stream {
   public:
    virtual ~Stream() = default;
    // Called by the sweeper with the registry locked (must not call into
    // the registry): true when the stream has been idle for idle_timeout; it
    // then stays alive until ExpireHeld.
    virtual bool HoldIfIdle(absl::Time now, absl::Duration idle_timeout) = 0;
    // Called by the sweeper without the registry lock after HoldIfIdle
    // returned true: ends the stream (DEADLINE_EXCEEDED) and releases the
    // hold (the stream may delete itself).
    virtual void ExpireHeld(absl::Duration idle_timeout) = 0;
  };

  StreamRegistry(int max_streams, absl::Duration idle_timeout);
  ~StreamRegistry();
  StreamRegistry(const StreamRegistry&) = delete;
  StreamRegistry& operator=(const StreamRegistry&) = delete;

  // Takes one of the max_streams places. When all are taken:
  // RESOURCE_EXHAUSTED naming --max-streams, with a 1 s retry hint.
  absl::Status TryReserve();
  // A stream that holds a reservation registers itself; Remove frees the
  // reservation.
  void Add(Stream* stream);
  void Remove(Stream* stream);
  // Reserved places (open streams).
  int open() const;

 private:
  void Sweep();

  const int max_streams_;
  const absl::Duration idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<Stream*> streams_;
  int reserved_ = 0;
  bool stop_ = false;
  std::thread sweeper_;
};

// What a StreamVocode call needs from the service; the pointers must outlive
// the call.
struct StreamVocodeEnvironment {
  StreamVocodeScheduler* scheduler = nullptr;
  Metrics* metrics = nullptr;  // worker waits; the open-streams gauge (open at start, closed at the status)
  const ServiceLimits* limits = nullptr;
  ExtractorCache* extractors = nullptr;
  StreamRegistry* registry = nullptr;  // the call holds a reservation in it
  // Called once when the call ends: its status, the audio seconds produced
  // and the longest wait of one of its messages for a worker.
  std::function<void(const absl::Status& status, double audio_seconds, double max_queue_ms)> on_end;
};

// Messages, and bytes of messages, that may wait for a worker per stream
// before reading pauses (back-pressure through gRPC flow control).
inline constexpr int kMaxQueuedMessages = 16;
inline constexpr int64_t kMaxQueuedBytes = int64_t{4} << 20;

// The reactor of one StreamVocode call (deletes itself when the call is done).
grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* NewStreamVocodeReactor(
    grpc::CallbackServerContext* ctx, StreamVocodeEnvironment environment);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_STREAM_VOCODE_H_
