// Copyright specinv authors.

#include "server/http/kserve.h"

#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "server/status_mapping.h"

namespace specinv::server::kserve {
namespace {

std::vector<float> Floats(const std::string& bytes) {
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

TEST(KserveTest, EveryPresetHasAVocoderAndAFrontend) {
  ASSERT_TRUE(FindModel("hifigan-vocoder").ok());
  EXPECT_EQ(FindModel("hifigan-vocoder")->kind, ModelKind::kVocoder);
  EXPECT_EQ(FindModel("whisper-frontend")->preset, "whisper");
  const absl::Status missing = FindModel("nope").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("hifigan-vocoder"), absl::string_view::npos);
}

TEST(KserveTest, VocoderRequestTakesNestedDataRowMajor) {
  const Model model = *FindModel("hifigan-vocoder");
  absl::StatusOr<InferRequest> r = ParseInferRequest(
      model, R"({"id": "x", "inputs": [{"name": "mel", "datatype": "FP32", "shape": [2, 3],
                 "data": [[1, 2, 3], [4, 5, 6.5]]}], "parameters": {"method": "refine", "iterations": 12}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "x");
  const v1::Tensor& mel = r->invert_mel.mel();
  EXPECT_EQ(std::vector<int64_t>(mel.shape().begin(), mel.shape().end()), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Floats(mel.float32_data()), (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
  EXPECT_EQ(r->invert_mel.config().preset(), "hifigan");
  EXPECT_EQ(r->invert_mel.options().method(), v1::INVERSION_METHOD_REFINE);
  EXPECT_EQ(r->invert_mel.options().iterations(), 12);
  EXPECT_EQ(r->invert_mel.output().encoding(), v1::AUDIO_ENCODING_PCM_FLOAT32_LE);
}

TEST(KserveTest, InvalidRequestsNameTheField) {
  const Model model = *FindModel("hifigan-vocoder");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not json", "body"},
      {R"({"inputs": []})", "inputs"},
      {R"({"inputs": [{"name": "audio", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]}]})", "inputs[0].name"},
      {R"({"inputs": [{"name": "mel", "datatype": "INT8", "shape": [1, 1], "data": [1]}]})", "inputs[0].datatype"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]}]})", "inputs[0].shape"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3]}]})", "inputs[0].data"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 1], "data": ["a"]}]})", "inputs[0].data"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 1], "data": [1e300]}]})", "inputs[0].data"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 1], "data": [1]}],
           "parameters": {"method": "nope"}})", "method"},
      {R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 1], "data": [1]}],
           "outputs": [{"name": "log_mel"}]})", "outputs"}};
  for (const auto& [body, field] : cases) {
    absl::StatusOr<InferRequest> r = ParseInferRequest(model, body);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(FieldOf(r.status()).value_or(""), field) << body << " -> " << r.status();
  }
}

TEST(KserveTest, ResponseNumbersReadBackBitExactly) {
  const Model model = *FindModel("hifigan-vocoder");
  const std::vector<float> samples = {0.1f, -1.0f / 3.0f, 1e-38f, 3.4028235e38f, 0.0f};
  v1::InvertMelResponse response;
  response.mutable_audio()->set_pcm_data(
      std::string(reinterpret_cast<const char*>(samples.data()), samples.size() * sizeof(float)));
  InferRequest request;
  request.id = "id-1";
  absl::StatusOr<InferResponseBody> answer = InferResponseJson(model, request, response);
  ASSERT_TRUE(answer.ok());
  EXPECT_FALSE(answer->header_length.has_value());
  const std::string* json = &answer->body;
  // Parse the JSON numbers back through the vocoder's input path.
  const size_t data = json->find("\"data\":");
  const std::string values = json->substr(data + 7, json->find(']', data) - data - 6);
  absl::StatusOr<InferRequest> back = ParseInferRequest(
      model, absl::StrCat(R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 5], "data": )", values,
                          "}]}"));
  ASSERT_TRUE(back.ok()) << back.status() << " " << *json;
  EXPECT_EQ(Floats(back->invert_mel.mel().float32_data()), samples);
  EXPECT_NE(json->find("\"id\":\"id-1\""), std::string::npos) << *json;
}

std::string Bytes(const std::vector<float>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

TEST(KserveTest, BinaryTensorDataFollowsTheJsonHeader) {
  const Model model = *FindModel("hifigan-vocoder");
  const std::vector<float> values = {1.5f, -2.0f, 0.25f, 7.0f, -0.125f, 3.0f};
  const std::string header =
      R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [2, 3], "parameters": {"binary_data_size": 24}}],
          "outputs": [{"name": "audio", "parameters": {"binary_data": true}}]})";
  absl::StatusOr<InferRequest> r =
      ParseInferRequest(model, header + Bytes(values), static_cast<int64_t>(header.size()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Floats(r->invert_mel.mel().float32_data()), values);
  EXPECT_TRUE(r->binary_output);

  // The answer: JSON with binary_data_size, then the samples.
  v1::InvertMelResponse response;
  response.mutable_audio()->set_pcm_data(Bytes(values));
  absl::StatusOr<InferResponseBody> answer = InferResponseJson(model, *r, response);
  ASSERT_TRUE(answer.ok());
  ASSERT_TRUE(answer->header_length.has_value());
  const std::string json = answer->body.substr(0, static_cast<size_t>(*answer->header_length));
  EXPECT_NE(json.find("\"binary_data_size\":24"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"data\""), std::string::npos) << json;
  EXPECT_EQ(Floats(answer->body.substr(json.size())), values);
}

TEST(KserveTest, InvalidBinaryRequestsNameTheField) {
  const Model model = *FindModel("hifigan-vocoder");
  const std::string header =
      R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 2], "parameters": {"binary_data_size": 8}}]})";
  const std::string two = Bytes({1.0f, 2.0f});
  struct Case {
    std::string body;
    int64_t header_length;
    std::string field;
  };
  const std::vector<Case> cases = {
      {header + two, static_cast<int64_t>(header.size() + 100), "Inference-Header-Content-Length"},
      {header + two.substr(0, 4), static_cast<int64_t>(header.size()), "body"},
      {absl::StrCat(R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 2], )",
                    R"("parameters": {"binary_data_size": 4}}]})"),
       -1, "inputs[0].parameters.binary_data_size"},
      {header + Bytes({1.0f, std::numeric_limits<float>::quiet_NaN()}), static_cast<int64_t>(header.size()),
       "inputs[0].data"}};
  for (const Case& c : cases) {
    std::string body = c.body;
    int64_t length = c.header_length;
    if (length < 0) {  // the header alone, then 4 bytes
      length = static_cast<int64_t>(body.size());
      body += Bytes({1.0f});
    }
    absl::StatusOr<InferRequest> r = ParseInferRequest(model, body, length);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(FieldOf(r.status()).value_or(""), c.field) << r.status();
  }
}

TEST(KserveTest, JsonWhoseParseExceedsTheBudgetIsRefusedBeforeParsing) {
  const Model model = *FindModel("hifigan-vocoder");
  std::string data = "[0";
  for (int i = 1; i < 20000; ++i) data += ",0";
  const std::string body =
      absl::StrCat(R"({"inputs": [{"name": "mel", "datatype": "FP32", "shape": [1, 20000], "data": )", data, "]}]}");
  // 20000 numbers: a 1 MiB bound refuses, a 64 MiB bound parses.
  absl::StatusOr<InferRequest> refused = ParseInferRequest(model, body, std::nullopt, 1 << 20);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldOf(refused.status()).value_or(""), "body");
  EXPECT_NE(refused.status().message().find("binary_data_size"), absl::string_view::npos) << refused.status();
  absl::StatusOr<InferRequest> parsed = ParseInferRequest(model, body, std::nullopt, 64 << 20);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
}

}  // namespace
}  // namespace specinv::server::kserve
