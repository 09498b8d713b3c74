// Copyright specinv authors.
//
// The RPC bodies, one file each (server/rpc/<rpc>.cc), in the shape of TF
// Serving's prediction_service_impl: convert -> cost -> run -> respond.
//
// Each Prepare<Rpc> runs on the gRPC thread. It converts the request's small
// fields to core types (core validates them; conversion only maps), reads
// the shapes of the large ones (tensor shapes, a container header, PCM byte
// counts) without converting them, and returns a Prepared: the Admission
// (the job's predicted cost, admission.h) and the work to run on a worker.
// Nothing large is allocated before admission. `run` converts the large
// fields, calls core with the job's cancellation check, and fills the
// response; it is run at most once (per runner, see `runners`).
//
// The request and response must outlive the Prepared (gRPC keeps them until
// the call is finished). Thread-safe: distinct calls share only the env.

#ifndef SPECINV_SERVER_RPC_RPC_H_
#define SPECINV_SERVER_RPC_RPC_H_

#include <functional>

#include "absl/status/statusor.h"
#include "server/admission.h"
#include "server/extractor_cache.h"
#include "server/job.h"
#include "server/limits.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::server {

// What the RPC bodies share.
struct RpcEnv {
  const ServiceLimits* limits = nullptr;
  ExtractorCache* extractors = nullptr;
  int workers = 1;  // worker threads of the pool (batch runners)
};

struct Prepared {
  Admission admission;
  // The work. With runners > 1 it is run by that many concurrent jobs, which
  // share the work between them (InvertMelBatch's items); the call ends when
  // the last returns, with the first error.
  std::function<absl::Status(Job&)> run;
  int runners = 1;
};

absl::StatusOr<Prepared> PrepareAnalyze(const RpcEnv& env, const v1::AnalyzeRequest& request,
                                        v1::AnalyzeResponse* response);
absl::StatusOr<Prepared> PrepareInvertMel(const RpcEnv& env, const v1::InvertMelRequest& request,
                                          v1::InvertMelResponse* response);
absl::StatusOr<Prepared> PrepareInvertSpectrogram(const RpcEnv& env, const v1::InvertSpectrogramRequest& request,
                                                  v1::InvertSpectrogramResponse* response);
absl::StatusOr<Prepared> PrepareInvertMelBatch(const RpcEnv& env, const v1::InvertMelBatchRequest& request,
                                               v1::InvertMelBatchResponse* response);
absl::StatusOr<Prepared> PrepareReorder(const RpcEnv& env, const v1::ReorderRequest& request,
                                        v1::ReorderResponse* response);
absl::StatusOr<Prepared> PrepareTransform(const RpcEnv& env, const v1::TransformRequest& request,
                                          v1::TransformResponse* response);
absl::StatusOr<Prepared> PrepareRender(const RpcEnv& env, const v1::RenderRequest& request,
                                       v1::RenderResponse* response);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_RPC_H_
