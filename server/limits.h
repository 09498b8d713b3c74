// Copyright specinv authors.
//
// Service limits: each configurable by a server flag, enforced once by
// admission (admission.h) or by the conversion of the field they bound, and
// reported by GetServerInfo. Exceeding one is INVALID_ARGUMENT naming the
// request field, the limit and its flag (never retried: the same request is
// refused again). Too many open streams is RESOURCE_EXHAUSTED with a retry
// hint (it depends on load).

#ifndef SPECINV_SERVER_LIMITS_H_
#define SPECINV_SERVER_LIMITS_H_

#include <cstdint>

namespace specinv::server {

struct ServiceLimits {
  int64_t max_message_bytes = 64LL << 20;  // requests and responses (--max-message-mb)
  double max_audio_seconds = 600.0;        // audio accepted or produced (--max-audio-seconds)
  int max_iterations = 1000;               // iterations / refine_iterations (--max-iterations)
  int max_n_fft = 16384;                   // n_fft (--max-n-fft), at most 65536
  int max_batch_size = 64;                 // InvertMelBatch items (--max-batch-size)
  int max_image_side_pixels = 8192;        // Render width/height
  // Estimated peak working memory of one job (--max-job-memory-mb). The
  // default fits two workers' jobs and the server's own memory in the 3 GiB
  // container limit of deploy/k8s.
  int64_t max_job_memory_bytes = int64_t{1024} << 20;
  int max_streams = 256;                   // open StreamVocode calls (--max-streams)
  double stream_idle_timeout_seconds = 30.0;  // a stream that sends nothing this long ends (--stream-idle-timeout-s)
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_LIMITS_H_
