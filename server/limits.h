// Copyright specinv authors.
//
// Service limits: each configurable by a server flag, enforced by the service
// layer and reported by GetServerInfo. Exceeding one is INVALID_ARGUMENT (a
// request field out of the allowed range) or RESOURCE_EXHAUSTED (message
// size), with a message naming the limit and its flag.

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
};

}  // namespace specinv::server

#endif  // SPECINV_SERVER_LIMITS_H_
