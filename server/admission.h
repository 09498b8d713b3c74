// Copyright specinv authors.
//
// Admission: the one place where a job's predicted cost meets the server's
// limits. Every RPC prepares its request on the gRPC thread (conversion of
// the small fields, shapes of the large ones, a container header probe:
// nothing large is allocated), fills an Admission from core's cost
// estimators (specinv/*/..._cost.h) and calls Admit before the job is
// queued. A refusal is INVALID_ARGUMENT naming the request field that drives
// the cost, the estimate, the limit and its flag. It is deterministic (the
// same request is refused again), so it carries no retry hint.
// Pure functions; thread-safe.

#ifndef SPECINV_SERVER_ADMISSION_H_
#define SPECINV_SERVER_ADMISSION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/limits.h"
#include "specinv/base/job_cost.h"

namespace specinv::server {

struct Admission {
  // Peak working memory and work of one worker job.
  JobCost cost;
  // The request field whose size drives the cost (e.g. "audio",
  // "config.hop_length", "mel", "custom_order") and the shapes behind the
  // estimate ("441000 samples -> 441001 frames x 8193 bins"), for messages.
  std::string cost_field;
  std::string cost_detail;
  // Predicted bytes of the response message (payload: audio, tensors, PNG).
  int64_t response_bytes = 0;
  // Audio the call produces in seconds (all items of a batch) and the field
  // that sets it (e.g. "output.length_samples", "custom_order").
  double output_seconds = 0.0;
  std::string output_field;
  // Audio the call decodes, in seconds at the source rate (0: none).
  double input_seconds = 0.0;
  std::string input_field;
};

// OK when every figure fits `limits`; otherwise the first refusal in the
// order: decoded input, output audio, response size, memory.
absl::Status Admit(const Admission& admission, const ServiceLimits& limits);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_ADMISSION_H_
