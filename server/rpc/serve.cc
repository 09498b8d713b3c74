// Copyright specinv authors.

#include "server/rpc/serve.h"

namespace specinv::server::internal {

absl::Status SubmitRunners(const CallLifecycle& life, std::shared_ptr<CallRecord> call,
                           grpc::CallbackServerContext* ctx, Prepared prepared,
                           std::function<void(const absl::Status&)> finish,
                           std::function<void(const v1::InversionProgress&)> on_progress) {
  struct Runners {
    std::function<absl::Status(Job&)> run;
    std::function<void(const absl::Status&)> finish;
    std::atomic<int> left{0};
    std::mutex mu;
    absl::Status first_error;
    void Done(const absl::Status& s, int count) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok() && !s.ok()) first_error = s;
      }
      if (left.fetch_sub(count) == count) {
        std::function<void(const absl::Status&)> f = std::move(finish);
        f(first_error);
      }
    }
  };
  auto runners = std::make_shared<Runners>();
  runners->run = std::move(prepared.run);
  runners->finish = std::move(finish);
  const int n = std::max(prepared.runners, 1);
  runners->left = n;
  int submitted = 0;
  absl::Status rejection;
  for (int r = 0; r < n; ++r) {
    rejection = life.Submit(
        call, ctx, [runners](Job& job) { return runners->run(job); },
        [runners](const absl::Status& s) { runners->Done(s, 1); }, on_progress);
    if (!rejection.ok()) break;
    ++submitted;
  }
  if (submitted == 0) return rejection;  // nothing queued: the caller ends the call
  if (submitted < n) runners->Done(absl::OkStatus(), n - submitted);
  return absl::OkStatus();
}

}  // namespace specinv::server::internal
