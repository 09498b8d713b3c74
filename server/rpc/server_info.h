// Copyright specinv authors.
//
// GetServerInfo's answer: version, presets, methods, every limit, the pool's
// state. Cheap and non-DSP: it is answered on the gRPC thread, so it works
// under load. Thread-safe.

#ifndef SPECINV_SERVER_RPC_SERVER_INFO_H_
#define SPECINV_SERVER_RPC_SERVER_INFO_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/limits.h"
#include "server/worker_pool.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::server {

struct ServerFacts {
  const ServiceLimits* limits = nullptr;
  const WorkerPool* pool = nullptr;
  std::vector<std::string> implemented_rpcs;
  absl::Time start_time;
  bool tls_enabled = false;
  bool auth_required = false;
};

void FillServerInfo(const ServerFacts& facts, v1::GetServerInfoResponse* response);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_SERVER_INFO_H_
