// Copyright specinv authors.

#include "server/http/kserve.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <algorithm>
#include <map>
#include <optional>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/call.h"
#include "server/http/query_fields.h"
#include "server/status_mapping.h"
#include "specinv/analysis/feature_config.h"

namespace specinv::server::kserve {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kVocoderSuffix[] = "-vocoder";
constexpr char kFrontendSuffix[] = "-frontend";
constexpr char kBinaryDataOutput[] = "binary_data_output";
// A parsed JSON number costs this much at most (google.protobuf.Value in a
// ListValue, its pointer and allocator overhead), a parsed byte of JSON text
// about this many bytes besides.
constexpr int64_t kParsedNumberBytes = 96;
constexpr int64_t kParsedTextFactor = 4;

const char* InputName(ModelKind kind) { return kind == ModelKind::kVocoder ? "mel" : "audio"; }
const char* OutputName(ModelKind kind) { return kind == ModelKind::kVocoder ? "audio" : "log_mel"; }

absl::StatusOr<std::string> ToJson(const Struct& body) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(body, &json).ok()) {
    return absl::InternalError("the answer could not be written as JSON");
  }
  return json;
}

Value Number(double v) {
  Value out;
  out.set_number_value(v);
  return out;
}

Value Text(const std::string& s) {
  Value out;
  out.set_string_value(s);
  return out;
}

ListValue Shape(const std::vector<int64_t>& dims) {
  ListValue out;
  for (int64_t d : dims) *out.add_values() = Number(static_cast<double>(d));
  return out;
}

Struct TensorMetadata(const char* name, const std::vector<int64_t>& shape) {
  Struct t;
  (*t.mutable_fields())["name"] = Text(name);
  (*t.mutable_fields())["datatype"] = Text("FP32");
  *(*t.mutable_fields())["shape"].mutable_list_value() = Shape(shape);
  return t;
}

// Row-major values of a (possibly nested) JSON array.
absl::Status Flatten(const Value& v, const std::string& path, std::vector<float>* out) {
  if (v.kind_case() == Value::kListValue) {
    for (const Value& item : v.list_value().values()) {
      if (absl::Status s = Flatten(item, path, out); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (v.kind_case() != Value::kNumberValue) {
    return InvalidField(path, absl::StrFormat("must hold numbers only; element %d is not a number", out->size()));
  }
  const double x = v.number_value();
  if (!(std::abs(x) <= static_cast<double>(std::numeric_limits<float>::max()))) {
    return InvalidField(path, absl::StrFormat("element %d (%g) is outside the FP32 range", out->size(), x));
  }
  out->push_back(static_cast<float>(x));
  return absl::OkStatus();
}

std::string FloatBytes(const std::vector<float>& values) {
  std::string bytes(values.size() * sizeof(float), '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());  // little-endian hosts (as the wire format)
  return bytes;
}

// The infer request's single input, checked against the model's.
absl::Status ReadInput(const Model& model, const Struct& body, absl::string_view binary, std::vector<int64_t>* shape,
                       std::vector<float>* data) {
  auto inputs = body.fields().find("inputs");
  if (inputs == body.fields().end() || inputs->second.list_value().values_size() != 1) {
    return InvalidField("inputs", absl::StrCat("must hold exactly one tensor, \"", InputName(model.kind), "\""));
  }
  const Value& input = inputs->second.list_value().values(0);
  if (input.kind_case() != Value::kStructValue) return InvalidField("inputs[0]", "must be an object");
  const auto& f = input.struct_value().fields();
  auto get = [&f](const char* key) -> const Value* {
    auto it = f.find(key);
    return it == f.end() ? nullptr : &it->second;
  };
  const Value* name = get("name");
  if (name == nullptr || name->string_value() != InputName(model.kind)) {
    return InvalidField("inputs[0].name", absl::StrCat("must be \"", InputName(model.kind), "\" for model ",
                                                      model.name, ", got \"",
                                                      name == nullptr ? "" : BoundedEcho(name->string_value()),
                                                      "\""));
  }
  const Value* datatype = get("datatype");
  if (datatype == nullptr || datatype->string_value() != "FP32") {
    return InvalidField("inputs[0].datatype", "must be \"FP32\"");
  }
  const Value* dims = get("shape");
  if (dims == nullptr || dims->kind_case() != Value::kListValue) {
    return InvalidField("inputs[0].shape", "must be a list of dimensions");
  }
  int64_t count = 1;
  for (const Value& d : dims->list_value().values()) {
    const double x = d.number_value();
    if (d.kind_case() != Value::kNumberValue || x < 1 || x > 1e9 || x != std::floor(x)) {
      return InvalidField("inputs[0].shape", "must hold whole dimensions in [1, 1e9]");
    }
    shape->push_back(static_cast<int64_t>(x));
    count = count > (int64_t{1} << 40) / shape->back() ? int64_t{1} << 40 : count * shape->back();
  }
  const size_t rank = shape->size();
  if (model.kind == ModelKind::kVocoder ? rank != 2 : (rank != 1 && !(rank == 2 && (*shape)[0] == 1))) {
    return InvalidField("inputs[0].shape", model.kind == ModelKind::kVocoder ? "must be [n_mels, frames]"
                                                                             : "must be [samples] or [1, samples]");
  }
  const Value* values = get("data");
  const Value* params = get("parameters");
  const Value* binary_size = nullptr;
  if (params != nullptr && params->kind_case() == Value::kStructValue) {
    auto it = params->struct_value().fields().find("binary_data_size");
    if (it != params->struct_value().fields().end()) binary_size = &it->second;
  }
  if (binary_size != nullptr) {
    // Binary tensor data extension: the values follow the JSON.
    const double bytes = binary_size->number_value();
    if (binary_size->kind_case() != Value::kNumberValue || bytes != static_cast<double>(count) * sizeof(float)) {
      return InvalidField("inputs[0].parameters.binary_data_size",
                          absl::StrFormat("must be %d (the FP32 bytes of shape [%s])", count * sizeof(float),
                                          absl::StrJoin(*shape, ", ")));
    }
    if (static_cast<double>(binary.size()) != bytes) {
      return InvalidField("body", absl::StrFormat("carries %d bytes after the JSON header but "
                                                  "inputs[0].parameters.binary_data_size is %d",
                                                  binary.size(), count * sizeof(float)));
    }
    data->resize(static_cast<size_t>(count));
    std::memcpy(data->data(), binary.data(), binary.size());  // little-endian, as the extension specifies
    for (size_t i = 0; i < data->size(); ++i) {
      if (!std::isfinite((*data)[i])) {
        return InvalidField("inputs[0].data", absl::StrFormat("element %d is not finite", i));
      }
    }
    return absl::OkStatus();
  }
  if (values == nullptr) {
    return InvalidField("inputs[0].data", "is missing (send \"data\" or parameters.binary_data_size)");
  }
  if (!binary.empty()) {
    return InvalidField("body", absl::StrFormat("carries %d bytes after the JSON header but no input declares "
                                                "parameters.binary_data_size",
                                                binary.size()));
  }
  data->reserve(static_cast<size_t>(std::min<int64_t>(count, int64_t{1} << 26)));
  if (absl::Status s = Flatten(*values, "inputs[0].data", data); !s.ok()) return s;
  if (static_cast<int64_t>(data->size()) != count) {
    return InvalidField("inputs[0].data", absl::StrFormat("holds %d values but inputs[0].shape [%s] needs %d",
                                                          data->size(), absl::StrJoin(*shape, ", "), count));
  }
  return absl::OkStatus();
}

// Parameters as query-style key -> text, for SetFieldsFromQuery.
absl::Status ReadParameters(const Struct& body, std::multimap<std::string, std::string>* out) {
  auto params = body.fields().find("parameters");
  if (params == body.fields().end()) return absl::OkStatus();
  if (params->second.kind_case() != Value::kStructValue) return InvalidField("parameters", "must be an object");
  for (const auto& [key, v] : params->second.struct_value().fields()) {
    if (key == kBinaryDataOutput) continue;  // the protocol's, read by ParseInferRequest
    switch (v.kind_case()) {
      case Value::kStringValue: out->emplace(key, v.string_value()); break;
      case Value::kNumberValue: out->emplace(key, absl::StrFormat("%.17g", v.number_value())); break;
      case Value::kBoolValue: out->emplace(key, v.bool_value() ? "true" : "false"); break;
      default:
        return InvalidField(absl::StrCat("parameters.", BoundedEcho(key)), "must be a string, number or boolean");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<Model> Models() {
  std::vector<Model> out;
  for (const std::string& preset : PresetNames()) {
    out.push_back(Model{preset + kVocoderSuffix, preset, ModelKind::kVocoder});
    out.push_back(Model{preset + kFrontendSuffix, preset, ModelKind::kFrontend});
  }
  return out;
}

absl::StatusOr<Model> FindModel(const std::string& name) {
  std::vector<std::string> names;
  for (const Model& m : Models()) {
    if (m.name == name) return m;
    names.push_back(m.name);
  }
  return absl::NotFoundError(
      absl::StrCat("no model \"", BoundedEcho(name), "\"; the models are ", absl::StrJoin(names, ", ")));
}

std::string ServerMetadataJson() {
  Struct body;
  (*body.mutable_fields())["name"] = Text("specinv");
  (*body.mutable_fields())["version"] = Text(SPECINV_VERSION);
  *(*body.mutable_fields())["extensions"].mutable_list_value()->add_values() = Text("binary_tensor_data");
  return ToJson(body).value_or("{}");
}

absl::StatusOr<std::string> ModelMetadataJson(const Model& model) {
  absl::StatusOr<FeatureConfig> config = GetPreset(model.preset);
  if (!config.ok()) return config.status();
  Struct body;
  auto& f = *body.mutable_fields();
  f["name"] = Text(model.name);
  *f["versions"].mutable_list_value()->add_values() = Text("1");
  f["platform"] = Text("specinv");
  const std::vector<int64_t> mel_shape = {config->n_mels, -1};
  const Struct mel = TensorMetadata("mel", mel_shape);
  const Struct audio = TensorMetadata("audio", {-1});
  const Struct log_mel = TensorMetadata("log_mel", mel_shape);
  *f["inputs"].mutable_list_value()->add_values()->mutable_struct_value() =
      model.kind == ModelKind::kVocoder ? mel : audio;
  *f["outputs"].mutable_list_value()->add_values()->mutable_struct_value() =
      model.kind == ModelKind::kVocoder ? audio : log_mel;
  auto& params = *f["parameters"].mutable_struct_value()->mutable_fields();
  params["sample_rate"] = Number(config->sample_rate);
  return ToJson(body);
}

absl::StatusOr<InferRequest> ParseInferRequest(const Model& model, const std::string& body,
                                               std::optional<int64_t> header_length, int64_t max_parse_bytes) {
  if (header_length && (*header_length < 0 || *header_length > static_cast<int64_t>(body.size()))) {
    return InvalidField("Inference-Header-Content-Length",
                        absl::StrFormat("must be in [0, %d] (the body's length), got %d", body.size(), *header_length));
  }
  const absl::string_view text = absl::string_view(body).substr(0, header_length.value_or(body.size()));
  const absl::string_view binary = absl::string_view(body).substr(text.size());
  // What parsing the JSON will hold, bounded from its text before parsing:
  // every number sits after '[' or ','.
  const int64_t numbers = 1 + std::count(text.begin(), text.end(), ',') + std::count(text.begin(), text.end(), '[');
  const int64_t parse_bytes = numbers * kParsedNumberBytes + static_cast<int64_t>(text.size()) * kParsedTextFactor;
  if (max_parse_bytes >= 0 && parse_bytes > max_parse_bytes) {
    return InvalidField("body", absl::StrFormat("is %d bytes of JSON with up to %d numbers; parsing it would take "
                                                "about %.0f MiB, above the server's --max-job-memory-mb=%.0f. Send "
                                                "the tensor as binary data (parameters.binary_data_size, the "
                                                "binary tensor data extension) or a shorter one",
                                                text.size(), numbers, static_cast<double>(parse_bytes) / (1 << 20),
                                                static_cast<double>(max_parse_bytes) / (1 << 20)));
  }
  Struct json;
  google::protobuf::util::JsonParseOptions options;
  if (!google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(text.data(), text.size()), &json,
                                                   options)
           .ok()) {
    return InvalidField("body", "is not a JSON object (a KServe v2 inference request)");
  }
  InferRequest out;
  if (auto id = json.fields().find("id"); id != json.fields().end()) out.id = id->second.string_value();
  if (auto params = json.fields().find("parameters"); params != json.fields().end()) {
    auto it = params->second.struct_value().fields().find(kBinaryDataOutput);
    if (it != params->second.struct_value().fields().end()) out.binary_output = it->second.bool_value();
  }
  if (auto outputs = json.fields().find("outputs"); outputs != json.fields().end()) {
    for (const Value& o : outputs->second.list_value().values()) {
      const auto& fields = o.struct_value().fields();
      auto name = fields.find("name");
      if (name == fields.end() || name->second.string_value() != OutputName(model.kind)) {
        return InvalidField("outputs", absl::StrCat("may only name \"", OutputName(model.kind), "\""));
      }
      if (auto p = fields.find("parameters"); p != fields.end()) {
        auto binary_data = p->second.struct_value().fields().find("binary_data");
        if (binary_data != p->second.struct_value().fields().end()) out.binary_output = binary_data->second.bool_value();
      }
    }
  }
  std::vector<int64_t> shape;
  std::vector<float> data;
  if (absl::Status s = ReadInput(model, json, binary, &shape, &data); !s.ok()) return s;
  std::multimap<std::string, std::string> params;
  if (absl::Status s = ReadParameters(json, &params); !s.ok()) return s;

  if (model.kind == ModelKind::kVocoder) {
    v1::InvertMelRequest& r = out.invert_mel;
    r.mutable_config()->set_preset(model.preset);
    v1::Tensor& mel = *r.mutable_mel();
    for (int64_t d : shape) mel.add_shape(d);
    mel.set_float32_data(FloatBytes(data));
    mel.set_layout(v1::TENSOR_LAYOUT_BINS_FRAMES);
    r.mutable_output()->set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    const QueryFieldOptions fields{{{"method", "options.method"},
                                    {"iterations", "options.iterations"},
                                    {"seed", "options.seed"},
                                    {"length_samples", "output.length_samples"}},
                                   {}};
    if (absl::Status s = SetFieldsFromQuery(params, fields, &r); !s.ok()) return s;
  } else {
    absl::StatusOr<FeatureConfig> config = GetPreset(model.preset);
    if (!config.ok()) return config.status();
    v1::AnalyzeRequest& r = out.analyze;
    r.mutable_config()->set_preset(model.preset);
    r.set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
    r.set_tensor_format(v1::TENSOR_FORMAT_FLOAT32);
    v1::Audio& audio = *r.mutable_audio();
    audio.set_pcm_data(FloatBytes(data));
    audio.set_encoding(v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
    audio.set_channel_count(1);
    audio.set_sample_rate_hertz(static_cast<int32_t>(std::lround(config->sample_rate)));
    const QueryFieldOptions fields{{{"sample_rate", "audio.sample_rate_hertz"}}, {}};
    if (absl::Status s = SetFieldsFromQuery(params, fields, &r); !s.ok()) return s;
  }
  return out;
}

namespace {

absl::StatusOr<InferResponseBody> InferResponse(const Model& model, const std::string& id,
                                                const std::vector<int64_t>& shape, const std::string& float_bytes,
                                                bool binary) {
  Struct body;
  auto& f = *body.mutable_fields();
  f["model_name"] = Text(model.name);
  f["model_version"] = Text("1");
  if (!id.empty()) f["id"] = Text(id);
  Struct output = TensorMetadata(OutputName(model.kind), shape);
  if (binary) {
    (*(*output.mutable_fields())["parameters"].mutable_struct_value()->mutable_fields())["binary_data_size"] =
        Number(static_cast<double>(float_bytes.size()));
  } else {
    ListValue& data = *(*output.mutable_fields())["data"].mutable_list_value();
    const size_t n = float_bytes.size() / sizeof(float);
    for (size_t i = 0; i < n; ++i) {
      float x;
      std::memcpy(&x, float_bytes.data() + i * sizeof(float), sizeof(float));
      data.add_values()->set_number_value(static_cast<double>(x));
    }
  }
  *f["outputs"].mutable_list_value()->add_values()->mutable_struct_value() = std::move(output);
  absl::StatusOr<std::string> json = ToJson(body);
  if (!json.ok()) return json.status();
  InferResponseBody out;
  if (binary) out.header_length = static_cast<int64_t>(json->size());
  out.body = *std::move(json);
  if (binary) out.body.append(float_bytes);  // little-endian hosts, as the extension specifies
  return out;
}

}  // namespace

absl::StatusOr<InferResponseBody> InferResponseJson(const Model& model, const InferRequest& request,
                                                    const v1::InvertMelResponse& response) {
  const std::string& pcm = response.audio().pcm_data();
  return InferResponse(model, request.id, {static_cast<int64_t>(pcm.size() / sizeof(float))}, pcm,
                       request.binary_output);
}

absl::StatusOr<InferResponseBody> InferResponseJson(const Model& model, const InferRequest& request,
                                                    const v1::AnalyzeResponse& response) {
  const v1::Tensor& t = response.spectrogram();
  return InferResponse(model, request.id, std::vector<int64_t>(t.shape().begin(), t.shape().end()),
                       t.float32_data(), request.binary_output);
}

std::string ErrorJson(const absl::Status& status) {
  Struct body;
  (*body.mutable_fields())["error"] = Text(std::string(status.message()));
  return ToJson(body).value_or("{\"error\":\"\"}");
}

}  // namespace specinv::server::kserve
