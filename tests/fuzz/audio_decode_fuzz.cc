// Copyright specinv authors.
//
// libFuzzer target: the audio decoder (libsndfile from memory, channel
// handling, resampling) and the raw PCM path must return a status for any
// input, never crash.

#include <cstddef>
#include <cstdint>
#include <span>

#include "specinv/io/audio_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  specinv::DecodeOptions options;
  options.max_duration_seconds = 30.0;
  (void)specinv::DecodeAudio(bytes, options);
  if (size > 0) {
    options.channel_mode = specinv::DecodeOptions::ChannelMode::kPick;
    options.channel = data[0] % 3;
    options.target_sample_rate = 16000.0;
    (void)specinv::DecodeRawPcm(bytes, (data[0] & 1) ? specinv::PcmFormat::kF32Le : specinv::PcmFormat::kS16Le,
                                22050.0, 1 + data[0] % 2, options);
  }
  return 0;
}
