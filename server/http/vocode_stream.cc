// Copyright specinv authors.

#include "server/http/vocode_stream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

constexpr char kMethod[] = "StreamVocode";  // the method label of its metrics (as gRPC StreamVocode)

}  // namespace

absl::StatusOr<std::unique_ptr<VocodeStream>> VocodeStream::Start(const StreamVocodeEnvironment& env,
                                                                  const v1::StreamVocodeConfig& config, RealMatrix mel,
                                                                  int chunk_frames, absl::Time deadline,
                                                                  const std::atomic<bool>* cancelled) {
  if (chunk_frames < 1 || chunk_frames > kMaxChunkFrames) {
    return InvalidField("chunk_frames", absl::StrFormat("must be in [1, %d], got %d", kMaxChunkFrames, chunk_frames));
  }
  if (absl::Status s = env.registry->TryReserve(); !s.ok()) return s;
  std::unique_ptr<VocodeStream> stream(new VocodeStream(env, std::move(mel), chunk_frames, deadline, cancelled));
  stream->reserved_ = true;
  env.registry->Add(stream.get());
  if (env.metrics != nullptr) env.metrics->StreamVocodeOpened();

  // The config message and the first chunk run on a worker like every
  // other message; their answers decide whether the HTTP answer starts at
  // all, so a bad config or a mel the config does not fit (bin count,
  // domain) is a JSON error, not a cut-off stream.
  v1::StreamVocodeRequest first;
  *first.mutable_config() = config;
  first.mutable_config()->set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);  // the chunks cut below
  stream->Push(std::move(first));
  {
    std::unique_lock<std::mutex> lock(stream->mu_);
    stream->cv_.wait(lock, [&] { return !stream->scheduled_ || !stream->status_.ok(); });
    if (!stream->status_.ok()) return stream->status_;
  }
  // Nothing runs now: the session may be read here.
  if (absl::Status s = stream->session_.CheckStreamLength(stream->mel_.cols(), "body"); !s.ok()) return s;
  absl::StatusOr<std::vector<std::string>> warnings = stream->session_.DomainWarnings(stream->mel_);
  if (!warnings.ok()) return WithField(warnings.status(), "body");
  stream->warnings_ = *std::move(warnings);
  stream->sample_rate_ = static_cast<int>(std::lround(stream->session_.sample_rate()));
  stream->encoding_ = config.encoding() == v1::AUDIO_ENCODING_PCM_INT16_LE ? v1::AUDIO_ENCODING_PCM_INT16_LE
                                                                         : v1::AUDIO_ENCODING_PCM_FLOAT32_LE;
  std::unique_lock<std::mutex> lock(stream->mu_);
  stream->FeedLocked(lock);
  stream->cv_.wait(lock, [&] { return stream->chunks_done_ > 0 || stream->ended_ || !stream->status_.ok(); });
  if (!stream->status_.ok()) {
    const std::optional<std::string> field = FieldOf(stream->status_);
    return field && absl::StartsWith(*field, "mel_chunk") ? WithField(stream->status_, "body") : stream->status_;
  }
  lock.unlock();
  return stream;
}

VocodeStream::VocodeStream(const StreamVocodeEnvironment& env, RealMatrix mel, int chunk_frames, absl::Time deadline,
                           const std::atomic<bool>* cancelled)
    : env_(env),
      mel_(std::move(mel)),
      chunk_frames_(chunk_frames),
      deadline_(deadline),
      cancelled_(cancelled),
      session_(env.limits, env.extractors) {
  session_.SetCheck([this]() -> absl::Status {
    if (absl::Now() >= deadline_) return absl::DeadlineExceededError("the call's deadline passed; the stream was stopped");
    if (stopped_.load(std::memory_order_relaxed) || (cancelled_ != nullptr && cancelled_->load())) {
      return absl::CancelledError("the call was cancelled; the stream was stopped");
    }
    return absl::OkStatus();
  });
}

VocodeStream::~VocodeStream() {
  Cancel();
  {
    // The scheduler may still hold the stream: its next Step sees the
    // cancellation and lets go.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !scheduled_; });
  }
  session_.Release();
  if (reserved_) env_.registry->Remove(this);
  if (reserved_ && env_.metrics != nullptr) env_.metrics->StreamVocodeClosed();
}

void VocodeStream::Cancel() {
  stopped_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  inputs_.clear();
  if (status_.ok() && !ended_) status_ = absl::CancelledError("the call was cancelled; the stream was stopped");
  cv_.notify_all();
}

absl::Status VocodeStream::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

double VocodeStream::audio_seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  return audio_seconds_;
}

double VocodeStream::max_queue_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_queue_ms_;
}

void VocodeStream::Push(v1::StreamVocodeRequest message) {
  bool schedule = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    inputs_.push_back(std::move(message));
    if (!scheduled_) {
      scheduled_ = true;
      ready_since_ = absl::Now();
      schedule = true;
    }
  }
  if (schedule) env_.scheduler->Schedule(this);
}

void VocodeStream::FeedLocked(std::unique_lock<std::mutex>& lock) {
  while (status_.ok() && !end_queued_ && chunks_ahead_ < kChunksAhead) {
    v1::StreamVocodeRequest message;
    const int64_t n = std::min<int64_t>(chunk_frames_, mel_.cols() - next_frame_);
    if (n > 0) {
      v1::Tensor* chunk = message.mutable_mel_chunk();
      chunk->add_shape(mel_.rows());
      chunk->add_shape(n);
      chunk->set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
      // Row-major [n_mels, n] from the column-major matrix.
      std::string* data = chunk->mutable_float32_data();
      data->resize(static_cast<size_t>(mel_.rows() * n) * sizeof(float));
      auto* out = reinterpret_cast<float*>(data->data());
      for (Eigen::Index m = 0; m < mel_.rows(); ++m) {
        for (int64_t t = 0; t < n; ++t) out[m * n + t] = mel_(m, next_frame_ + t);
      }
      next_frame_ += n;
      ++chunks_ahead_;
    }
    if (next_frame_ >= mel_.cols()) {
      message.set_end_of_utterance(true);
      end_queued_ = true;
    }
    lock.unlock();
    Push(std::move(message));
    lock.lock();
  }
}

bool VocodeStream::Next(std::string* pcm) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (!status_.ok()) return false;
    if (!outputs_.empty()) {
      while (!outputs_.empty()) {
        pcm->append(outputs_.front());
        outputs_.pop_front();
      }
      return true;
    }
    if (ended_) return false;
    // Chunks still inside the vocoder's look-ahead give no audio yet: feed
    // more until some comes out.
    FeedLocked(lock);
    // Polls the server's cancellation too (it has no way to wake us).
    while (!cv_.wait_for(lock, std::chrono::milliseconds(50), [this] {
      return !outputs_.empty() || ended_ || !status_.ok() || (!end_queued_ && chunks_ahead_ < kChunksAhead);
    })) {
      if (cancelled_ != nullptr && cancelled_->load()) {
        stopped_ = true;
        status_ = absl::CancelledError("the server is shutting down; the stream was stopped");
        inputs_.clear();
        return false;
      }
    }
  }
}

bool VocodeStream::Step() {
  std::unique_lock<std::mutex> lock(mu_);
  const double wait_ms = absl::ToDoubleMilliseconds(absl::Now() - ready_since_);
  if (env_.metrics != nullptr) env_.metrics->JobStarted(kMethod, wait_ms / 1e3);
  max_queue_ms_ = std::max(max_queue_ms_, wait_ms);
  if (status_.ok() && !inputs_.empty()) {
    v1::StreamVocodeRequest message = std::move(inputs_.front());
    inputs_.pop_front();
    const bool chunk = message.has_mel_chunk();
    lock.unlock();
    std::vector<v1::StreamVocodeResponse> out;
    const absl::Time started = absl::Now();
    absl::Status s = started >= deadline_
                         ? absl::DeadlineExceededError("the call's deadline passed; the stream was stopped")
                         : session_.Handle(message, started, &out);
    if (env_.metrics != nullptr) env_.metrics->JobFinished(kMethod, absl::ToDoubleSeconds(absl::Now() - started));
    lock.lock();
    audio_seconds_ = session_.audio_seconds();
    if (chunk) {
      --chunks_ahead_;
      ++chunks_done_;
    }
    for (v1::StreamVocodeResponse& r : out) {
      if (r.has_audio()) outputs_.push_back(std::move(*r.mutable_audio()->mutable_pcm_data()));
      if (r.has_summary()) ended_ = true;
    }
    if (!s.ok() && status_.ok()) status_ = s;
    if (!status_.ok()) {
      inputs_.clear();
      outputs_.clear();
    }
    cv_.notify_all();
  }
  if (status_.ok() && !inputs_.empty()) {
    ready_since_ = absl::Now();
    return true;  // stays queued
  }
  scheduled_ = false;
  cv_.notify_all();
  return false;  // the scheduler lets go; the destructor may run from here on
}

}  // namespace specinv::server
