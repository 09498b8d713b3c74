// Copyright specinv authors.
//
// One InvertMel item, shared by InvertMel, InvertMelStream and the items of
// InvertMelBatch (fields under `prefix`, e.g. "requests[3]").

#ifndef SPECINV_SERVER_RPC_INVERT_MEL_H_
#define SPECINV_SERVER_RPC_INVERT_MEL_H_

#include <string>

#include "server/rpc/rpc.h"

namespace specinv::server {

absl::StatusOr<Prepared> PrepareInvertMelItem(const RpcEnv& env, const v1::InvertMelRequest& request,
                                              v1::InvertMelResponse* response, const std::string& prefix);

// Samples an inversion of `frames` frames produces at `hop` (the audio a
// request implies when it does not set output.length_samples). Encoded
// sizes: EncodedAudioBytes / OutputAudioShape (server/conversion.h).
int64_t ImpliedSamples(int64_t frames, int hop_length, int n_fft);
// Upper bound of the float values a tensor holds (4 bytes each), from its
// byte size alone; the conversion checks the shape exactly later.
int64_t TensorValuesBound(const v1::Tensor& tensor);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_RPC_INVERT_MEL_H_
