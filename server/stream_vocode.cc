// Copyright specinv authors.

#include "server/stream_vocode.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <mutex>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "server/conversion.h"
#include "server/field_paths.h"
#include "server/status_mapping.h"
#include "specinv/inversion/mel_domain_check.h"
#include "specinv/v1/audio.pb.h"

namespace specinv::server {
namespace {

constexpr char kConfigPath[] = "config";
constexpr char kChunkPath[] = "mel_chunk";
constexpr char kStreamVocodeMethod[] = "StreamVocode";  // the method label of its metrics
// Cancellations this close to the deadline are reported as deadline exceeded.
constexpr absl::Duration kDeadlineSkew = absl::Milliseconds(250);

absl::Status UnknownValue(absl::string_view path, int value) {
  return InvalidField(path, absl::StrFormat("has unknown value %d", value));
}

absl::string_view LayoutName(v1::TensorLayout layout) {
  return layout == v1::TENSOR_LAYOUT_FRAMES_BINS ? "TENSOR_LAYOUT_FRAMES_BINS" : "TENSOR_LAYOUT_BINS_FRAMES";
}

std::atomic<int64_t> live_states{0};

absl::Time DeadlineOf(const grpc::CallbackServerContext& ctx) {
  const auto deadline = ctx.deadline();
  if (deadline >= std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 100)) {
    return absl::InfiniteFuture();
  }
  return absl::FromChrono(deadline);
}

}  // namespace

// ---- StreamVocodeSession ----------------------------------------------------

int64_t LiveStreamVocodeStates() { return live_states.load(); }

StreamVocodeSession::StreamVocodeSession(const ServiceLimits* limits, ExtractorCache* extractors)
    : limits_(limits), extractors_(extractors) {}

StreamVocodeSession::~StreamVocodeSession() { ReleaseVocoder(); }

void StreamVocodeSession::ReleaseVocoder() {
  vocoder_.reset();
  extractor_.reset();
  std::vector<float>().swap(pending_);
  if (counted_) live_states.fetch_sub(1);
  counted_ = false;
}

double StreamVocodeSession::audio_seconds() const {
  return config_.sample_rate > 0.0 ? static_cast<double>(samples_) / config_.sample_rate : 0.0;
}

void StreamVocodeSession::Release() {
  ReleaseVocoder();
  released_ = true;
}

absl::Status StreamVocodeSession::Configure(const v1::StreamVocodeConfig& c) {
  const std::string spectrogram_path = absl::StrCat(kConfigPath, ".config");
  absl::StatusOr<FeatureConfig> config = ToFeatureConfig(c.config(), *limits_, spectrogram_path);
  if (!config.ok()) return config.status();
  if (!v1::MelDomain_IsValid(c.input_domain())) return UnknownValue("config.input_domain", c.input_domain());
  if (!v1::TensorLayout_IsValid(c.layout())) return UnknownValue("config.layout", c.layout());
  StreamVocoderOptions options;
  switch (c.algorithm()) {
    case v1::VOCODE_ALGORITHM_UNSPECIFIED:
    case v1::VOCODE_ALGORITHM_RTPGHI_LOOKAHEAD: options.rtpghi.variant = RtpghiVariant::kLookahead; break;
    case v1::VOCODE_ALGORITHM_RTPGHI_CAUSAL: options.rtpghi.variant = RtpghiVariant::kCausal; break;
    default: return UnknownValue("config.algorithm", c.algorithm());
  }
  // Ranges are StreamVocoder::Create's (core names the field).
  if (c.has_online_iterations()) options.online_iterations = c.online_iterations();
  if (c.has_lookahead_frames()) options.lookahead_frames = c.lookahead_frames();
  if (c.has_mel_projection()) options.mel_projection = c.mel_projection();
  switch (c.encoding()) {
    case v1::AUDIO_ENCODING_UNSPECIFIED:
    case v1::AUDIO_ENCODING_PCM_FLOAT32_LE: encoding_ = v1::AUDIO_ENCODING_PCM_FLOAT32_LE; break;
    case v1::AUDIO_ENCODING_PCM_INT16_LE: encoding_ = v1::AUDIO_ENCODING_PCM_INT16_LE; break;
    default:
      return InvalidField("config.encoding",
                          absl::StrFormat("must be AUDIO_ENCODING_PCM_FLOAT32_LE or AUDIO_ENCODING_PCM_INT16_LE "
                                          "(raw PCM chunks), got %d",
                                          static_cast<int>(c.encoding())));
  }
  const int n_mels = config->n_mels;
  const v1::MelNormalization& norm = c.normalization();
  if (norm.mean_size() != 0 && norm.mean_size() != n_mels) {
    return InvalidField("config.normalization.mean",
                        absl::StrFormat("must have 0 or n_mels=%d values, got %d", n_mels, norm.mean_size()));
  }
  if (norm.std_size() != 0 && norm.std_size() != n_mels) {
    return InvalidField("config.normalization.std",
                        absl::StrFormat("must have 0 or n_mels=%d values, got %d", n_mels, norm.std_size()));
  }
  for (int m = 0; m < norm.std_size(); ++m) {
    if (!std::isfinite(norm.std(m)) || norm.std(m) <= 0.0f) {
      return InvalidField(absl::StrFormat("config.normalization.std[%d]", m),
                          absl::StrFormat("must be finite and > 0, got %g", static_cast<double>(norm.std(m))));
    }
  }
  for (int m = 0; m < norm.mean_size(); ++m) {
    if (!std::isfinite(norm.mean(m))) {
      return InvalidField(absl::StrFormat("config.normalization.mean[%d]", m), "must be finite");
    }
  }
  absl::StatusOr<std::shared_ptr<const FeatureExtractor>> extractor = extractors_->Get(*config);
  if (!extractor.ok()) return ToRequestField(extractor.status(), CoreFields::kFeatureConfig, spectrogram_path);
  absl::StatusOr<StreamVocoder> vocoder = StreamVocoder::Create(**extractor, options);
  if (!vocoder.ok()) return ToRequestField(vocoder.status(), CoreFields::kStreamVocode, "");
  config_ = *std::move(config);
  extractor_ = *std::move(extractor);
  vocoder_.emplace(*std::move(vocoder));
  live_states.fetch_add(1);
  counted_ = true;
  configured_ = true;
  domain_ = c.input_domain();
  layout_ = c.layout();
  mean_.assign(norm.mean().begin(), norm.mean().end());
  std_.assign(norm.std().begin(), norm.std().end());
  return absl::OkStatus();
}

absl::Status StreamVocodeSession::CheckStreamLength(int64_t total_frames, absl::string_view field) const {
  const double seconds = static_cast<double>(total_frames) * config_.stft.hop_length / config_.sample_rate;
  if (seconds > limits_->max_audio_seconds) {
    return InvalidField(field, absl::StrFormat("brings the stream to %d frames = %.1f s of audio at hop %d and "
                                               "%g Hz, above the server limit --max-audio-seconds=%g",
                                               total_frames, seconds, config_.stft.hop_length, config_.sample_rate,
                                               limits_->max_audio_seconds));
  }
  return absl::OkStatus();
}

void StreamVocodeSession::Denormalise(RealMatrix* mel) const {
  if (mean_.empty() && std_.empty()) return;
  for (int m = 0; m < config_.n_mels; ++m) {
    const float scale = std_.empty() ? 1.0f : std_[static_cast<size_t>(m)];
    const float offset = mean_.empty() ? 0.0f : mean_[static_cast<size_t>(m)];
    mel->row(m) = (mel->row(m).array() * scale + offset).matrix();
  }
}

absl::StatusOr<std::vector<std::string>> StreamVocodeSession::DomainWarnings(RealMatrix mel) const {
  Denormalise(&mel);
  absl::StatusOr<MelDomainDiagnostics> diagnostics = CheckMelDomain(mel, config_, domain_ == v1::MEL_DOMAIN_LINEAR);
  if (!diagnostics.ok()) return diagnostics.status();
  return std::move(diagnostics->warnings);
}

absl::Status StreamVocodeSession::AddChunk(const v1::Tensor& tensor, std::vector<float>* samples) {
  // The chunk's own layout, when set, must agree with the configured one.
  const v1::TensorLayout layout =
      layout_ == v1::TENSOR_LAYOUT_FRAMES_BINS ? v1::TENSOR_LAYOUT_FRAMES_BINS : v1::TENSOR_LAYOUT_BINS_FRAMES;
  if (!v1::TensorLayout_IsValid(tensor.layout())) return UnknownValue("mel_chunk.layout", tensor.layout());
  absl::StatusOr<RealMatrix> mel;
  if (tensor.layout() == layout ||
      (tensor.layout() == v1::TENSOR_LAYOUT_UNSPECIFIED && layout == v1::TENSOR_LAYOUT_BINS_FRAMES)) {
    mel = TensorToRealMatrix(tensor, kChunkPath);
  } else if (tensor.layout() == v1::TENSOR_LAYOUT_UNSPECIFIED) {
    v1::Tensor with_layout = tensor;
    with_layout.set_layout(layout);
    mel = TensorToRealMatrix(with_layout, kChunkPath);
  } else {
    return InvalidField("mel_chunk.layout", absl::StrFormat("is %s but config.layout is %s", LayoutName(tensor.layout()),
                                                            LayoutName(layout)));
  }
  if (!mel.ok()) {
    const absl::Status& s = mel.status();
    // Non-finite values: say where the chunk sits in the stream.
    if (absl::StrContains(s.message(), "all values must be finite")) {
      const absl::string_view message = absl::StripPrefix(s.message(), absl::StrCat(kChunkPath, " "));
      return InvalidField(kChunkPath,
                          absl::StrFormat("%s (the chunk starts at frame %d of the stream)", message, frames_));
    }
    return s;
  }
  if (mel->rows() != config_.n_mels) {
    const int64_t d0 = tensor.shape_size() > 0 ? tensor.shape(0) : mel->rows();
    const int64_t d1 = tensor.shape_size() > 1 ? tensor.shape(1) : mel->cols();
    return InvalidField(kChunkPath, absl::StrFormat("has %d mel bins but config.n_mels is %d (tensor shape [%d, %d], "
                                                    "layout %s)",
                                                    mel->rows(), config_.n_mels, d0, d1, LayoutName(layout)));
  }
  if (absl::Status s = CheckStreamLength(frames_ + mel->cols(), kChunkPath); !s.ok()) return s;
  Denormalise(&*mel);
  if (domain_ == v1::MEL_DOMAIN_LINEAR) {
    for (Eigen::Index i = 0; i < mel->size(); ++i) {
      const float v = mel->data()[i];
      if (v < 0.0f) {
        return InvalidField(kChunkPath,
                            absl::StrFormat("has a negative value %g at bin %d, frame %d of the stream; a linear "
                                            "(MEL_DOMAIN_LINEAR) mel must be >= 0",
                                            static_cast<double>(v), i % mel->rows(), frames_ + i / mel->rows()));
      }
    }
  } else {
    absl::StatusOr<RealMatrix> linear = extractor_->Decompress(*mel);
    if (!linear.ok()) return WithField(linear.status(), kChunkPath);
    mel = *std::move(linear);
  }
  // In blocks of frames, so a cancelled or expired stream stops within one
  // block however long the chunk and however small the hop.
  constexpr Eigen::Index kFramesPerCheck = 16;
  for (Eigen::Index first = 0; first < mel->cols(); first += kFramesPerCheck) {
    if (check_) {
      if (absl::Status s = check_(); !s.ok()) return s;
    }
    const Eigen::Index n = std::min<Eigen::Index>(kFramesPerCheck, mel->cols() - first);
    if (absl::Status s = vocoder_->PushFrames(mel->middleCols(first, n), samples); !s.ok()) {
      // Decompressed values beyond float range come back here as inf.
      return InvalidField(kChunkPath, absl::StrFormat("after decompression and de-normalisation: %s", s.message()));
    }
    frames_ += n;
  }
  return absl::OkStatus();
}

void StreamVocodeSession::EmitAudio(const std::vector<float>& samples, absl::Time received,
                                    std::vector<v1::StreamVocodeResponse>* out) {
  if (samples.empty()) return;
  // Keep every message well under the server's message limit.
  const size_t max_samples = static_cast<size_t>(std::max<int64_t>(1024, limits_->max_message_bytes / 8));
  const double processing_ms = absl::ToDoubleMilliseconds(absl::Now() - received);
  for (size_t first = 0; first < samples.size(); first += max_samples) {
    const size_t n = std::min(max_samples, samples.size() - first);
    v1::Audio audio;
    // Only fails for encodings Configure rejects.
    (void)EncodeAudioMessage(std::span<const float>(samples.data() + first, n), config_.sample_rate, encoding_,
                             &audio);
    v1::AudioChunk* chunk = out->emplace_back().mutable_audio();
    chunk->set_pcm_data(std::move(*audio.mutable_pcm_data()));
    chunk->set_encoding(encoding_);
    chunk->set_sample_rate_hertz(static_cast<int>(std::lround(config_.sample_rate)));
    chunk->set_first_sample(samples_);
    chunk->set_num_samples(static_cast<int64_t>(n));
    chunk->set_frames_received(frames_);
    chunk->set_processing_milliseconds(processing_ms);
    samples_ += static_cast<int64_t>(n);
  }
}

void StreamVocodeSession::EmitSummary(std::vector<v1::StreamVocodeResponse>* out) {
  v1::StreamVocodeSummary* summary = out->emplace_back().mutable_summary();
  summary->set_total_samples(samples_);
  summary->set_total_frames(frames_);
  const double seconds = absl::ToDoubleSeconds(processing_);
  summary->set_processing_milliseconds(seconds * 1e3);
  summary->set_real_time_factor(seconds > 0.0 ? audio_seconds() / seconds : 0.0);
  FromFeatureConfig(config_, summary->mutable_effective_config());
}

absl::Status StreamVocodeSession::Close(absl::Time received, std::vector<v1::StreamVocodeResponse>* out) {
  pending_.clear();
  if (absl::Status s = vocoder_->Finish(&pending_); !s.ok()) return s;
  closed_ = true;
  EmitAudio(pending_, received, out);
  EmitSummary(out);
  ReleaseVocoder();
  return absl::OkStatus();
}

absl::Status StreamVocodeSession::Handle(const v1::StreamVocodeRequest& message, absl::Time received,
                                         std::vector<v1::StreamVocodeResponse>* out) {
  if (released_) return absl::CancelledError("the stream was cancelled");
  const absl::Time start = absl::Now();
  if (closed_) {
    return InvalidField(message.has_mel_chunk() ? kChunkPath : "message",
                        "arrived after end_of_utterance closed the utterance; send the next utterance on a new call");
  }
  absl::Status status;
  switch (message.message_case()) {
    case v1::StreamVocodeRequest::kConfig:
      if (configured()) {
        return InvalidField(kConfigPath, "may only be sent in the first message; this call is already configured");
      }
      status = Configure(message.config());
      break;
    case v1::StreamVocodeRequest::kMelChunk:
      if (!configured()) {
        return InvalidField(kConfigPath, "is required in the first message (a StreamVocodeConfig); the first message "
                                         "carried mel_chunk");
      }
      pending_.clear();
      status = AddChunk(message.mel_chunk(), &pending_);
      if (status.ok()) EmitAudio(pending_, received, out);
      break;
    case v1::StreamVocodeRequest::MESSAGE_NOT_SET:
      if (!configured()) {
        return InvalidField(kConfigPath, "is required in the first message (a StreamVocodeConfig); the first message "
                                         "was empty");
      }
      if (!message.end_of_utterance()) {
        return InvalidField("message", "is empty: set mel_chunk, or end_of_utterance to close the utterance");
      }
      break;
  }
  if (status.ok() && message.end_of_utterance()) status = Close(received, out);
  processing_ += absl::Now() - start;
  return status;
}

absl::Status StreamVocodeSession::HalfClose(std::vector<v1::StreamVocodeResponse>* out) {
  if (released_) return absl::CancelledError("the stream was cancelled");
  if (!configured()) {
    return InvalidField(kConfigPath, "is required in the first message (a StreamVocodeConfig); the client closed the "
                                     "stream without sending one");
  }
  if (closed_) return absl::OkStatus();
  const absl::Time start = absl::Now();
  absl::Status s = Close(start, out);
  processing_ += absl::Now() - start;
  return s;
}

// ---- StreamVocodeScheduler --------------------------------------------------

StreamVocodeScheduler::StreamVocodeScheduler(WorkerPool* pool)
    : pool_(pool), max_runners_(std::max(1, pool->workers())), retry_thread_([this] { RetryLoop(); }) {}

StreamVocodeScheduler::~StreamVocodeScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  retry_thread_.join();
  // Streams the stopped pool could not run: their calls are over (the
  // server has shut down), so one step each releases them.
  while (!ready_.empty()) {
    Task* task = ready_.front();
    ready_.pop_front();
    while (task->Step()) {
    }
  }
}

void StreamVocodeScheduler::Schedule(Task* task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready_.push_back(task);
    if (runners_ >= max_runners_) return;
    ++runners_;
  }
  Launch();
}

void StreamVocodeScheduler::Launch() {
  if (pool_->TrySubmit([this](absl::Duration) { Run(); }).ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  --runners_;
  if (runners_ == 0 && !ready_.empty()) {
    stalled_ = true;
    cv_.notify_all();
  }
}

void StreamVocodeScheduler::Run() {
  const absl::Time start = absl::Now();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (ready_.empty()) {
      --runners_;
      return;
    }
    if (absl::Now() - start >= absl::Milliseconds(kRunnerSliceMs) && pool_->queued() > 0) {
      // Let the waiting jobs run; a new runner takes over this slot.
      lock.unlock();
      if (pool_->TrySubmit([this](absl::Duration) { Run(); }).ok()) return;
      lock.lock();
      continue;
    }
    Task* task = ready_.front();
    ready_.pop_front();
    lock.unlock();
    const bool more = task->Step();
    lock.lock();
    if (more) ready_.push_back(task);
  }
}

void StreamVocodeScheduler::RetryLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait(lock, [this] { return stop_ || stalled_; });
    if (stop_) break;
    cv_.wait_for(lock, std::chrono::milliseconds(1), [this] { return stop_; });
    if (stop_) break;
    stalled_ = false;
    if (runners_ == 0 && !ready_.empty()) {
      ++runners_;
      lock.unlock();
      Launch();
      lock.lock();
    }
  }
}

// ---- open streams -----------------------------------------------------------

StreamRegistry::StreamRegistry(int max_streams, absl::Duration idle_timeout)
    : max_streams_(max_streams), idle_timeout_(idle_timeout), sweeper_([this] { Sweep(); }) {}

StreamRegistry::~StreamRegistry() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  sweeper_.join();
}

absl::Status StreamRegistry::TryReserve() {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_ >= max_streams_) {
    return WithRetryDelay(absl::ResourceExhaustedError(absl::StrFormat(
                              "server busy: %d StreamVocode calls are open, the server's limit (--max-streams); "
                              "retry later",
                              max_streams_)),
                          absl::Seconds(1));
  }
  ++reserved_;
  return absl::OkStatus();
}

void StreamRegistry::Add(Stream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.insert(stream);
}

void StreamRegistry::Remove(Stream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  if (streams_.erase(stream) > 0) --reserved_;
}

int StreamRegistry::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_;
}

void StreamRegistry::Sweep() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = std::chrono::milliseconds(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(idle_timeout_) / 4, 10, 1000));
  while (!stop_) {
    cv_.wait_for(lock, period, [this] { return stop_; });
    if (stop_) break;
    const absl::Time now = absl::Now();
    // Under mu_: a stream removes itself (OnDone) before it is deleted; a
    // held stream is not deleted until ExpireHeld.
    std::vector<Stream*> idle;
    for (Stream* stream : streams_) {
      if (stream->HoldIfIdle(now, idle_timeout_)) idle.push_back(stream);
    }
    lock.unlock();
    for (Stream* stream : idle) stream->ExpireHeld(idle_timeout_);
    lock.lock();
  }
}

// ---- the reactor ------------------------------------------------------------

namespace {

class StreamVocodeReactor final
    : public grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>,
      public StreamVocodeScheduler::Task,
      public StreamRegistry::Stream {
 public:
  StreamVocodeReactor(grpc::CallbackServerContext* ctx, StreamVocodeEnvironment env)
      : ctx_(ctx), env_(std::move(env)), deadline_(DeadlineOf(*ctx)), session_(env_.limits, env_.extractors) {
    if (env_.metrics != nullptr) env_.metrics->StreamVocodeOpened();
    session_.SetCheck([this]() -> absl::Status {
      if (absl::Now() >= deadline_) return absl::DeadlineExceededError("the call's deadline passed; the stream was stopped");
      // Not ctx_: the job may outlive the call (OnDone frees the context).
      if (call_over_.load(std::memory_order_relaxed)) {
        return absl::CancelledError("the call was cancelled; the stream was stopped");
      }
      return absl::OkStatus();
    });
    std::lock_guard<std::mutex> lock(mu_);
    last_activity_ = absl::Now();
    if (env_.registry != nullptr) env_.registry->Add(this);
    StartReadLocked();
  }

  bool HoldIfIdle(absl::Time now, absl::Duration idle_timeout) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (finish_requested_ || job_active_ || done_ || !inputs_.empty() || now - last_activity_ < idle_timeout) {
      return false;
    }
    job_active_ = true;  // the hold: no job runs and OnDone will not delete us
    return true;
  }

  void ExpireHeld(absl::Duration idle_timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    RequestFinishLocked(absl::DeadlineExceededError(
        absl::StrFormat("the stream sent no message for %g s (server limit --stream-idle-timeout-s); it was closed",
                        absl::ToDoubleSeconds(idle_timeout))));
    session_.Release();  // frees the DSP state at once
    Pump(lock);          // may unlock
    if (!lock.owns_lock()) lock.lock();
    job_active_ = false;
    const bool last = done_;
    lock.unlock();
    if (last) delete this;
  }

  // Reads and writes are started with mu_ held (their reactions never run
  // inline), so none can start after Finish; Finish is called without it.
  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    read_pending_ = false;
    if (!ok) {
      half_closed_ = true;
      // A read also fails when the call is cancelled: that is no half-close
      // (OnCancel handles it).
      if (!finish_requested_ && !ctx_->IsCancelled()) {
        inputs_.push_back(Input{{}, absl::Now(), /*half_close=*/true, 0});
      }
    } else if (!finish_requested_) {
      last_activity_ = absl::Now();
      const auto bytes = static_cast<int64_t>(incoming_.ByteSizeLong());
      queued_bytes_ += bytes;
      inputs_.push_back(Input{std::move(incoming_), last_activity_, false, bytes});
      incoming_.Clear();
      if (static_cast<int>(inputs_.size()) < kMaxQueuedMessages && queued_bytes_ < kMaxQueuedBytes) {
        StartReadLocked();
      } else {
        read_paused_ = true;
      }
    }
    const bool schedule = ScheduleLocked();
    lock.unlock();
    if (schedule) env_.scheduler->Schedule(this);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) AbortLocked(absl::CancelledError("the client stopped reading"));
    Pump(lock);
  }

  void OnCancel() override {
    call_over_.store(true, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(mu_);
    cancelled_ = true;
    AbortLocked(absl::Now() + kDeadlineSkew >= deadline_
                    ? absl::DeadlineExceededError("the call's deadline passed; the stream was stopped")
                    : absl::CancelledError("the call was cancelled; the stream was stopped"));
    if (!job_active_) session_.Release();  // else the job releases it
    Pump(lock);
  }

  void OnDone() override {
    call_over_.store(true, std::memory_order_relaxed);
    if (env_.registry != nullptr) env_.registry->Remove(this);  // before mu_: the sweeper holds the registry
    std::unique_lock<std::mutex> lock(mu_);
    done_ = true;
    const bool last = !job_active_;
    lock.unlock();
    if (last) delete this;
  }

 private:
  struct Input {
    v1::StreamVocodeRequest message;
    absl::Time received;
    bool half_close = false;
    int64_t bytes = 0;
  };

  // Marks the stream as queued for a worker; true when the caller must hand
  // it to the scheduler (unlocked).
  bool ScheduleLocked() {
    if (job_active_ || inputs_.empty() || finish_requested_) return false;
    job_active_ = true;
    ready_since_ = absl::Now();
    return true;
  }

  // On a worker: handles the oldest queued message.
  bool Step() override {
    std::unique_lock<std::mutex> lock(mu_);
    const double wait_ms = absl::ToDoubleMilliseconds(absl::Now() - ready_since_);
    env_.metrics->JobStarted(kStreamVocodeMethod, wait_ms / 1e3);
    max_queue_ms_ = std::max(max_queue_ms_, wait_ms);
    if (!finish_requested_ && !inputs_.empty()) {
      Input input = std::move(inputs_.front());
      inputs_.pop_front();
      queued_bytes_ -= input.bytes;
      if (read_paused_ && !half_closed_ && static_cast<int>(inputs_.size()) < kMaxQueuedMessages &&
          queued_bytes_ < kMaxQueuedBytes) {
        read_paused_ = false;
        StartReadLocked();
      }
      lock.unlock();
      std::vector<v1::StreamVocodeResponse> out;
      absl::Status s;
      const absl::Time started = absl::Now();
      if (absl::Now() >= deadline_) {
        s = absl::DeadlineExceededError("the call's deadline passed; the stream was stopped");
      } else if (input.half_close) {
        s = session_.HalfClose(&out);
      } else {
        s = session_.Handle(input.message, input.received, &out);
      }
      env_.metrics->JobFinished(kStreamVocodeMethod, absl::ToDoubleSeconds(absl::Now() - started));
      lock.lock();
      audio_seconds_ = session_.audio_seconds();
      for (v1::StreamVocodeResponse& r : out) outputs_.push_back(std::move(r));
      if (!s.ok()) {
        RequestFinishLocked(s);
      } else if (input.half_close) {
        RequestFinishLocked(absl::OkStatus());  // the utterance is closed and the client is done
      }
      if (finish_requested_) session_.Release();  // before the client can see the status
      Pump(lock);  // may unlock
      if (!lock.owns_lock()) lock.lock();
    }
    if (finish_requested_) session_.Release();  // frees the DSP state at once
    if (!finish_requested_ && !inputs_.empty()) {
      ready_since_ = absl::Now();
      return true;  // stays queued
    }
    job_active_ = false;
    const bool last = done_;
    lock.unlock();
    if (last) delete this;
    return false;
  }

  void StartReadLocked() {
    if (finished_ || read_pending_) return;
    read_pending_ = true;
    StartRead(&incoming_);
  }

  // The call cannot deliver anything more: drops what is queued and ends with
  // `status`, overriding a pending OK (the client did not receive it).
  void AbortLocked(const absl::Status& status) {
    inputs_.clear();
    queued_bytes_ = 0;
    outputs_.clear();
    if (finished_) return;
    finish_requested_ = true;
    status_ = status;
  }

  // The audio already queued is still sent (it is final), then the status.
  void RequestFinishLocked(const absl::Status& status) {
    if (finish_requested_) return;
    finish_requested_ = true;
    status_ = status;
  }

  // Starts the next write, or finishes the call once the writes are done
  // (then the lock is released: Finish may destroy the reactor at once when
  // no job holds it).
  void Pump(std::unique_lock<std::mutex>& lock) {
    if (finished_ || writing_) return;
    if (!outputs_.empty() && !cancelled_) {
      in_flight_ = std::move(outputs_.front());
      outputs_.pop_front();
      writing_ = true;
      StartWrite(&in_flight_);
      return;
    }
    if (!finish_requested_) return;
    finished_ = true;  // once: the stream is closed here
    const absl::Status status = status_;
    const double audio_seconds = audio_seconds_;
    const double queue_ms = max_queue_ms_;
    lock.unlock();
    if (env_.metrics != nullptr) env_.metrics->StreamVocodeClosed();
    if (env_.on_end) env_.on_end(status, audio_seconds, queue_ms);
    Finish(ToGrpcStatus(status));
  }

  grpc::CallbackServerContext* ctx_;  // valid until OnDone
  std::atomic<bool> call_over_{false};  // OnCancel or OnDone ran: the job's check stops
  const StreamVocodeEnvironment env_;
  const absl::Time deadline_;
  StreamVocodeSession session_;  // used by the job (or under mu_ when no job runs)

  std::mutex mu_;
  v1::StreamVocodeRequest incoming_;
  std::deque<Input> inputs_;
  int64_t queued_bytes_ = 0;
  absl::Time last_activity_;
  std::deque<v1::StreamVocodeResponse> outputs_;
  v1::StreamVocodeResponse in_flight_;
  bool read_pending_ = false;
  bool read_paused_ = false;
  bool half_closed_ = false;
  bool job_active_ = false;  // queued in the scheduler or running
  absl::Time ready_since_;
  bool writing_ = false;
  bool cancelled_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  bool done_ = false;
  absl::Status status_;
  double audio_seconds_ = 0.0;
  double max_queue_ms_ = 0.0;
};

}  // namespace

grpc::ServerBidiReactor<v1::StreamVocodeRequest, v1::StreamVocodeResponse>* NewStreamVocodeReactor(
    grpc::CallbackServerContext* ctx, StreamVocodeEnvironment environment) {
  return new StreamVocodeReactor(ctx, std::move(environment));
}

}  // namespace specinv::server
