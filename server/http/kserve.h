// Copyright specinv authors.
//
// The KServe v2 / Triton inference protocol's JSON messages for specinv's
// models (https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/):
// conversion only; the routes are in http_api.cc and run through the same
// call lifecycle as every other call.
//
// Models, two per preset (core PresetNames()):
//   <preset>-vocoder   input  "mel"     FP32 [n_mels, frames], in the preset's
//                                        domain (as a model emits it)
//                      output "audio"   FP32 [samples] at the preset's rate
//                      parameters: method ("fgla", "refine", ...),
//                      iterations, seed, length_samples
//   <preset>-frontend  input  "audio"   FP32 [samples], mono at the preset's
//                                        rate (parameter sample_rate to
//                                        declare another; it is resampled)
//                      output "log_mel" FP32 [n_mels, frames]
// Tensor "data" is row-major, flat or nested. A request's "outputs" may name
// only the model's output. Numbers are written with the shortest text that
// reads back as the same value, so samples survive JSON bit-exactly.
//
// Errors: InvalidArgument naming the field ("inputs[0].shape",
// "parameters.iterations"); NotFound for an unknown model. Thread-safe.

#ifndef SPECINV_SERVER_HTTP_KSERVE_H_
#define SPECINV_SERVER_HTTP_KSERVE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::server::kserve {

enum class ModelKind { kVocoder, kFrontend };

struct Model {
  std::string name;    // "hifigan-vocoder"
  std::string preset;  // "hifigan"
  ModelKind kind = ModelKind::kVocoder;
};

// Every model, in a stable order.
std::vector<Model> Models();
// NotFound listing the models for an unknown name.
absl::StatusOr<Model> FindModel(const std::string& name);

// GET /v2 and GET /v2/models/{name}.
std::string ServerMetadataJson();
absl::StatusOr<std::string> ModelMetadataJson(const Model& model);

// POST /v2/models/{name}/infer: the request body -> the RPC request.
// With the binary tensor data extension (server metadata lists
// "binary_tensor_data"), `header_length` (the Inference-Header-Content-Length
// header) is the JSON's length and the input's FP32 values follow it
// (inputs[0].parameters.binary_data_size bytes, little-endian). The JSON's
// parsing cost is bounded from its text before it is parsed: a body whose
// parse would take more than `max_parse_bytes` (< 0: no bound) is refused
// (InvalidArgument, field "body", suggesting the binary extension).
struct InferRequest {
  std::string id;  // echoed in the response
  bool binary_output = false;  // parameters.binary_data_output or outputs[0].parameters.binary_data
  v1::InvertMelRequest invert_mel;  // vocoder
  v1::AnalyzeRequest analyze;       // frontend
};
absl::StatusOr<InferRequest> ParseInferRequest(const Model& model, const std::string& body,
                                               std::optional<int64_t> header_length = std::nullopt,
                                               int64_t max_parse_bytes = -1);

// The RPC response -> the infer response body: JSON, or with
// request.binary_output the JSON (header_length bytes) followed by the
// output's FP32 values.
struct InferResponseBody {
  std::string body;
  std::optional<int64_t> header_length;  // for Inference-Header-Content-Length
};
absl::StatusOr<InferResponseBody> InferResponseJson(const Model& model, const InferRequest& request,
                                                    const v1::InvertMelResponse& response);
absl::StatusOr<InferResponseBody> InferResponseJson(const Model& model, const InferRequest& request,
                                                    const v1::AnalyzeResponse& response);

// The protocol's error body {"error": "<message>"}.
std::string ErrorJson(const absl::Status& status);

}  // namespace specinv::server::kserve

#endif  // SPECINV_SERVER_HTTP_KSERVE_H_
