// Copyright specinv authors.
//
// InProcessService: specinv-server's request handling without gRPC. The same
// bounded WorkerPool (workers, queue depth, RESOURCE_EXHAUSTED with a retry
// hint when full) runs the same per-request work as the RPCs
// (SpectrogramService::*Direct: request conversion and validation, the core
// call, the response message); callers block until their job is done.
// Nothing is serialised and nothing crosses a socket, so comparing its
// throughput with the server's at the same workers and concurrency measures
// what gRPC, serialisation, logging and metrics add (`specinv bench
// --in-process`).
//
// Thread-safe: call from any number of threads.

#ifndef SPECINV_SERVER_IN_PROCESS_H_
#define SPECINV_SERVER_IN_PROCESS_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/auth.h"
#include "server/limits.h"
#include "server/metrics.h"
#include "server/service.h"
#include "server/worker_pool.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::server {

class InProcessService {
 public:
  struct Options {
    int workers = 0;       // 0 = hardware threads (as specinv-server --workers)
    int queue_depth = -1;  // -1 = 2 x workers (as specinv-server --queue-depth)
    ServiceLimits limits;
  };

  // InvalidArgument for workers outside [0, 1024] or queue_depth outside
  // [-1, 100000] (the server's ranges).
  static absl::StatusOr<std::unique_ptr<InProcessService>> Create(const Options& options);
  ~InProcessService();

  int workers() const { return pool_->workers(); }
  int queue_depth() const { return pool_->queue_capacity(); }

  // Each runs the request on a worker and returns its status; a full queue
  // is ResourceExhausted at once with the pool's retry hint attached
  // (RetryDelayOf in status_mapping.h).
  absl::Status Analyze(const v1::AnalyzeRequest& request, v1::AnalyzeResponse* response);
  absl::Status InvertMel(const v1::InvertMelRequest& request, v1::InvertMelResponse* response);
  absl::Status InvertSpectrogram(const v1::InvertSpectrogramRequest& request,
                                 v1::InvertSpectrogramResponse* response);

 private:
  InProcessService() = default;
  // Runs `work` on a worker and waits for it.
  template <typename Work>
  absl::Status RunOnWorker(Work work);

  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Metrics> metrics_;
  TokenAuthenticator auth_;
  std::unique_ptr<SpectrogramService> service_;
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_IN_PROCESS_H_
