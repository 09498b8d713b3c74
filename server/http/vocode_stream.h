// Copyright specinv authors.
//
// VocodeStream: the DSP of one POST /v1/vocode call. The body's mel is cut
// into chunks of `chunk_frames` frames and vocoded exactly as a StreamVocode
// call would vocode them (the same StreamVocodeSession: config validation,
// de-normalisation, decompression, the streaming vocoder, limits), on the
// worker pool through the StreamVocodeScheduler, so HTTP streams share the
// workers fairly with gRPC streams and a started stream is never failed for
// load. It holds one --max-streams place for its life.
//
// The caller (an HTTP handler thread) drives it:
//
//   auto stream = VocodeStream::Start(env, config, mel, chunk_frames, ...);
//                 // config and length errors come back here, before any
//                 // byte of the answer is sent
//   while (stream->Next(&pcm)) write(pcm);   // raw PCM as it becomes final
//   stream->status();                        // OK, or why it stopped
//
// Back-pressure: at most kChunksAhead chunks are queued for the workers
// ahead of what the caller has taken, so a slow reader holds at most that
// much DSP output. Cancellation: the deadline and the `cancelled` flag are
// checked between blocks of frames (StreamVocodeSession::SetCheck); Cancel()
// stops the stream at the next check. Next() and Cancel() may be called
// from different threads; everything else from the caller's thread.

#ifndef SPECINV_SERVER_HTTP_VOCODE_STREAM_H_
#define SPECINV_SERVER_HTTP_VOCODE_STREAM_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/stream_vocode.h"
#include "specinv/base/types.h"
#include "specinv/v1/vocode.pb.h"

namespace specinv::server {

class VocodeStream final : public StreamVocodeScheduler::Task, public StreamRegistry::Stream {
 public:
  static constexpr int kChunksAhead = 2;
  static constexpr int kMaxChunkFrames = 4096;

  // Reserves a stream place (RESOURCE_EXHAUSTED with a retry hint when
  // --max-streams are open), configures the session on a worker, checks
  // the whole stream's length against --max-audio-seconds and vocodes the
  // first chunk (its errors name the field "body"). `mel` is
  // [n_mels, frames] in config's domain; `mel_field` names it in errors.
  // `cancelled` (may be null) must outlive the stream.
  static absl::StatusOr<std::unique_ptr<VocodeStream>> Start(const StreamVocodeEnvironment& env,
                                                             const v1::StreamVocodeConfig& config, RealMatrix mel,
                                                             int chunk_frames, absl::Time deadline,
                                                             const std::atomic<bool>* cancelled);
  ~VocodeStream() override;
  VocodeStream(const VocodeStream&) = delete;
  VocodeStream& operator=(const VocodeStream&) = delete;

  // Blocks until more audio is final; appends its PCM bytes (the configured
  // encoding) to `pcm` and returns true, or returns false when the stream
  // is over (status() says how).
  bool Next(std::string* pcm);
  void Cancel();
  absl::Status status() const;

  // Input-domain diagnostics of the whole mel (mel_domain_check.h).
  const std::vector<std::string>& warnings() const { return warnings_; }
  int sample_rate() const { return sample_rate_; }
  v1::AudioEncoding encoding() const { return encoding_; }
  double audio_seconds() const;
  double max_queue_ms() const;

  // StreamVocodeScheduler::Task: handles one queued message on a worker.
  bool Step() override;
  // StreamRegistry::Stream: never idle (the body is complete; a reader that
  // stops is bounded by the HTTP server's write timeout).
  bool HoldIfIdle(absl::Time, absl::Duration) override { return false; }
  void ExpireHeld(absl::Duration) override {}

 private:
  VocodeStream(const StreamVocodeEnvironment& env, RealMatrix mel, int chunk_frames, absl::Time deadline,
               const std::atomic<bool>* cancelled);
  // Queues a message for the workers (schedules the stream when idle).
  void Push(v1::StreamVocodeRequest message);
  // Queues chunks until kChunksAhead are ahead of the reader, then the end.
  void FeedLocked(std::unique_lock<std::mutex>& lock);

  const StreamVocodeEnvironment env_;
  const RealMatrix mel_;  // [n_mels, frames], the body
  const int chunk_frames_;
  const absl::Time deadline_;
  const std::atomic<bool>* const cancelled_;
  std::atomic<bool> stopped_{false};
  StreamVocodeSession session_;  // used by the running Step only
  int sample_rate_ = 0;
  v1::AudioEncoding encoding_ = v1::AUDIO_ENCODING_PCM_FLOAT32_LE;
  bool reserved_ = false;
  std::vector<std::string> warnings_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::StreamVocodeRequest> inputs_;
  std::deque<std::string> outputs_;  // PCM of emitted audio chunks
  int64_t next_frame_ = 0;           // first frame not yet queued
  int chunks_ahead_ = 0;             // queued or being handled
  int64_t chunks_done_ = 0;          // handled
  bool end_queued_ = false;
  bool ended_ = false;    // the summary came out: the stream is complete
  bool scheduled_ = false;  // in the scheduler or running
  absl::Time ready_since_;
  absl::Status status_;
  double audio_seconds_ = 0.0;
  double max_queue_ms_ = 0.0;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_HTTP_VOCODE_STREAM_H_
