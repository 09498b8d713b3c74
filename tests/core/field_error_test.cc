// Copyright specinv authors.

#include "specinv/base/field_error.h"

#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "specinv/analysis/feature_config.h"
#include "specinv/base/validate.h"
#include "specinv/creative/tsne.h"
#include "specinv/render/render.h"

namespace specinv {
namespace {

using ::testing::Optional;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(FieldErrorTest, InvalidFieldJoinsFieldAndMessageAndAttachesField) {
  const absl::Status s = InvalidField("n_fft", "must be in [16, 65536], got 8");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(s), "n_fft must be in [16, 65536], got 8");
  EXPECT_THAT(FieldOf(s), Optional(std::string("n_fft")));
  auto payload = s.GetPayload(kFieldPayloadUrl);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "n_fft");
  EXPECT_EQ(std::string(kFieldPayloadUrl), "type.googleapis.com/specinv.FieldPath");
}

TEST(FieldErrorTest, StatusWithoutFieldHasNone) {
  EXPECT_EQ(FieldOf(absl::InvalidArgumentError("n_fft must be in [16, 65536], got 8")), std::nullopt);
  EXPECT_EQ(FieldOf(absl::OkStatus()), std::nullopt);
}

TEST(FieldErrorTest, WithFieldPrefixNestsFieldAndMessage) {
  const absl::Status s = WithFieldPrefix(InvalidField("n_fft", "must be in [16, 65536], got 8"), "config");
  EXPECT_THAT(FieldOf(s), Optional(std::string("config.n_fft")));
  EXPECT_EQ(Message(s), "config.n_fft must be in [16, 65536], got 8");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST(FieldErrorTest, WithFieldPrefixIndexNeedsNoDot) {
  const absl::Status s = WithFieldPrefix(InvalidField("[3]", "must be in [0, 10), got 12"), "custom_order");
  EXPECT_THAT(FieldOf(s), Optional(std::string("custom_order[3]")));
  EXPECT_EQ(Message(s), "custom_order[3] must be in [0, 10), got 12");
  const absl::Status nested = WithFieldPrefix(s, "requests[2].reorder");
  EXPECT_THAT(FieldOf(nested), Optional(std::string("requests[2].reorder.custom_order[3]")));
}

TEST(FieldErrorTest, WithFieldPrefixKeepsMessageThatDoesNotStartWithField) {
  absl::Status s = WithField(absl::InvalidArgumentError("the mel is too loud"), "mel");
  s = WithFieldPrefix(s, "request");
  EXPECT_THAT(FieldOf(s), Optional(std::string("request.mel")));
  EXPECT_EQ(Message(s), "the mel is too loud");
}

TEST(FieldErrorTest, WithFieldPrefixLeavesOkAndFieldlessStatusesAlone) {
  EXPECT_TRUE(WithFieldPrefix(absl::OkStatus(), "config").ok());
  const absl::Status plain = absl::InternalError("boom");
  EXPECT_EQ(WithFieldPrefix(plain, "config"), plain);
  EXPECT_EQ(FieldOf(WithFieldPrefix(plain, "config")), std::nullopt);
}

TEST(FieldErrorTest, WithFieldKeepsOtherPayloads) {
  absl::Status s = absl::InvalidArgumentError("x");
  s.SetPayload("type.googleapis.com/other", absl::Cord("keep"));
  s = WithFieldPrefix(WithField(s, "x"), "p");
  EXPECT_TRUE(s.GetPayload("type.googleapis.com/other").has_value());
  EXPECT_THAT(FieldOf(s), Optional(std::string("p.x")));
}

TEST(FieldErrorTest, ValidateHelpersAttachTheirField) {
  EXPECT_THAT(FieldOf(CheckRange("n_mels", 0, 1, 512)), Optional(std::string("n_mels")));
  EXPECT_THAT(FieldOf(CheckRealRange("fmin", -1.0, 0.0, 10.0)), Optional(std::string("fmin")));
  EXPECT_THAT(FieldOf(CheckRangeOpenLow("power", 0.0, 0.0, 4.0)), Optional(std::string("power")));
  const std::vector<float> v = {0.0f, 1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THAT(FieldOf(CheckFinite("samples", v)), Optional(std::string("samples[2]")));
  const std::vector<float> neg = {0.0f, -1.0f};
  EXPECT_THAT(FieldOf(CheckNonNegativeFinite("mel", neg)), Optional(std::string("mel[1]")));
  EXPECT_EQ(FieldOf(CheckRange("n_mels", 5, 1, 512)), std::nullopt);
}

TEST(FieldErrorTest, InvalidOptionsNameTheirField) {
  FeatureConfig config;
  config.stft.n_fft = 8;
  absl::Status s = ValidateFeatureConfig(config);
  EXPECT_THAT(FieldOf(s), Optional(std::string("n_fft")));
  EXPECT_THAT(Message(s), ::testing::StartsWith("n_fft "));

  TsneOptions tsne;
  tsne.perplexity = -1.0;
  s = ValidateTsneOptions(tsne);
  EXPECT_THAT(FieldOf(s), Optional(std::string("tsne.perplexity")));

  RenderOptions render;
  render.width = -1;
  s = ValidateRenderOptions(render);
  EXPECT_THAT(FieldOf(s), Optional(std::string("width")));
}

}  // namespace
}  // namespace specinv
