// Copyright specinv authors.

#include "server/in_process.h"

#include <future>
#include <utility>

#include "absl/strings/str_format.h"
#include "specinv/base/parallel.h"

namespace specinv::server {

absl::StatusOr<std::unique_ptr<InProcessService>> InProcessService::Create(const Options& options) {
  if (options.workers < 0 || options.workers > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat("--workers must be in [0, 1024], got %d", options.workers));
  }
  if (options.queue_depth < -1 || options.queue_depth > 100000) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--queue-depth must be in [-1, 100000] (-1 = 2 x workers), got %d", options.queue_depth));
  }
  int workers = options.workers;
  if (workers == 0) workers = HardwareThreads();
  const int queue_depth = options.queue_depth < 0 ? 2 * workers : options.queue_depth;

  std::unique_ptr<InProcessService> self(new InProcessService());
  self->pool_ = std::make_unique<WorkerPool>(workers, queue_depth);
  self->metrics_ = std::make_unique<Metrics>();
  self->service_ = std::make_unique<SpectrogramService>(self->pool_.get(), self->metrics_.get(), &self->auth_,
                                                        options.limits, ServiceInfo{});
  return self;
}

InProcessService::~InProcessService() {
  // Workers first: queued jobs still reference the service.
  if (pool_) pool_->Stop();
  service_.reset();
}

template <typename Work>
absl::Status InProcessService::RunOnWorker(Work work) {
  std::promise<absl::Status> done;
  std::future<absl::Status> result = done.get_future();
  absl::Status submitted = pool_->TrySubmit([&work, &done](absl::Duration) { done.set_value(work()); });
  if (!submitted.ok()) return submitted;
  return result.get();
}

absl::Status InProcessService::Analyze(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response) {
  return RunOnWorker([&] { return service_->AnalyzeDirect(request, response); });
}

absl::Status InProcessService::InvertMel(const v1::InvertMelRequest& request, v1::InvertMelResponse* response) {
  return RunOnWorker([&] { return service_->InvertMelDirect(request, response); });
}

absl::Status InProcessService::InvertSpectrogram(const v1::InvertSpectrogramRequest& request,
                                                 v1::InvertSpectrogramResponse* response) {
  return RunOnWorker([&] { return service_->InvertSpectrogramDirect(request, response); });
}

}  // namespace specinv::server
