// Copyright specinv authors.
//
// InvertMelBatch: many InvertMel items in one call. Every item is prepared
// (and so validated and costed) before anything runs; the batch's output
// audio and response size are admitted as totals, its memory per item (a
// runner holds one item at a time). min(items, workers) runners pull items
// in order; results land at their own index, so the response keeps request
// order whatever runs first. The first failing item fails the call.

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/strings/str_format.h"
#include "server/rpc/invert_mel.h"
#include "server/rpc/rpc.h"
#include "server/status_mapping.h"

namespace specinv::server {

absl::StatusOr<Prepared> PrepareInvertMelBatch(const RpcEnv& env, const v1::InvertMelBatchRequest& request,
                                               v1::InvertMelBatchResponse* response) {
  const int n = request.requests_size();
  if (n < 1 || n > env.limits->max_batch_size) {
    return InvalidField("requests", absl::StrFormat("must have [1, %d] items (server limit --max-batch-size), got %d",
                                                    env.limits->max_batch_size, n));
  }
  for (int i = 0; i < n; ++i) response->add_responses();

  struct BatchState {
    std::vector<Prepared> items;
    std::atomic<int> next{0};
    std::atomic<bool> failed{false};
    absl::Time start = absl::Now();
    std::mutex mu;  // guards the response's elapsed time
  };
  auto state = std::make_shared<BatchState>();
  state->items.reserve(static_cast<size_t>(n));
  Prepared batch;
  Admission& a = batch.admission;
  a.cost_field = "requests";
  a.output_field = "requests";
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<Prepared> item = PrepareInvertMelItem(env, request.requests(i), response->mutable_responses(i),
                                                         absl::StrFormat("requests[%d]", i));
    if (!item.ok()) return item.status();
    const Admission& ia = item->admission;
    a.output_seconds += ia.output_seconds;
    a.response_bytes = SaturatingAdd(a.response_bytes, ia.response_bytes);
    if (ia.cost.peak_bytes >= a.cost.peak_bytes) {
      a.cost.peak_bytes = ia.cost.peak_bytes;
      a.cost_field = ia.cost_field;
      a.cost_detail = ia.cost_detail;
    }
    a.cost.work_flops += ia.cost.work_flops;
    a.cost.output_samples = SaturatingAdd(a.cost.output_samples, ia.cost.output_samples);
    state->items.push_back(*std::move(item));
  }
  batch.runners = std::min(n, std::max(env.workers, 1));
  batch.run = [state, response, n](Job& job) -> absl::Status {
    double audio_seconds = 0.0;
    for (;;) {
      if (state->failed.load()) return absl::OkStatus();  // another runner reports the error
      const int i = state->next.fetch_add(1);
      if (i >= n) break;
      absl::Status s = job.Check();
      job.audio_seconds = 0.0;
      if (s.ok()) s = state->items[static_cast<size_t>(i)].run(job);
      audio_seconds += job.audio_seconds;
      job.audio_seconds = audio_seconds;  // the runner's total, for metrics
      if (!s.ok()) {
        state->failed = true;
        return s;
      }
    }
    std::lock_guard<std::mutex> lock(state->mu);
    response->set_elapsed_milliseconds(absl::ToDoubleMilliseconds(absl::Now() - state->start));
    return absl::OkStatus();
  };
  return batch;
}

}  // namespace specinv::server
