// Copyright specinv authors.

#include "server/field_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/status_mapping.h"
#include "specinv/base/field_error.h"

namespace specinv::server {
namespace {

absl::Status CoreError(std::string_view field, std::string_view message) {
  return specinv::WithField(absl::InvalidArgumentError(std::string(message)), field);
}

TEST(FieldPathsTest, FeatureConfigNamesMapToSpectrogramConfigPaths) {
  absl::Status hop = ToRequestField(CoreError("hop_length", "hop_length must be in [1, 1024], got 0"),
                                    CoreFields::kFeatureConfig, "config");
  EXPECT_EQ(FieldOf(hop), "config.hop_length");
  EXPECT_EQ(hop.message(), "config.hop_length must be in [1, 1024], got 0");
  absl::Status ref = ToRequestField(CoreError("ref", "ref must be > 0, got -1"), CoreFields::kFeatureConfig,
                                    "requests[1].config");
  EXPECT_EQ(FieldOf(ref), "requests[1].config.scale.ref_value");
  EXPECT_EQ(ref.message(), "requests[1].config.scale.ref_value must be > 0, got -1");
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("sample_rate", "sample_rate must be > 0"), CoreFields::kFeatureConfig,
                                   "config")),
            "config.sample_rate_hertz");
}

TEST(FieldPathsTest, InversionOptionsSitUnderOptionsAndTensorsStayTopLevel) {
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("iterations", "iterations must be in [0, 1000], got 5000"),
                                   CoreFields::kInversion, "")),
            "options.iterations");
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("nnls", "nnls must be <= 1000"), CoreFields::kInversion, "")),
            "options.nnls_iterations");
  absl::Status mel = ToRequestField(CoreError("mel[7]", "mel[7] is NaN"), CoreFields::kInversion, "requests[2]");
  EXPECT_EQ(FieldOf(mel), "requests[2].mel[7]");
  EXPECT_EQ(mel.message(), "requests[2].mel[7] is NaN");
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("length", "length exceeds the limit"), CoreFields::kInversion, "")),
            "output.length_samples");
}

TEST(FieldPathsTest, RenderAndReorderRenames) {
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("width", "width must be in [1, 8192]"), CoreFields::kRender, "")),
            "width_pixels");
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("custom_order[3]", "custom_order[3] is out of range"),
                                   CoreFields::kReorder, "")),
            "custom_order[3]");
  EXPECT_EQ(FieldOf(ToRequestField(CoreError("points", "points must be >= 2"), CoreFields::kReorder, "")), "audio");
}

TEST(FieldPathsTest, StatusWithoutFieldIsAttributedToThePrefix) {
  absl::Status s = ToRequestField(absl::InvalidArgumentError("fmax must exceed fmin"), CoreFields::kFeatureConfig,
                                  "config");
  EXPECT_EQ(FieldOf(s), "config");
  EXPECT_THAT(std::string(s.message()), testing::StartsWith("config: "));
  // Top-level requests without a prefix: unchanged.
  absl::Status top = ToRequestField(absl::InvalidArgumentError("boom"), CoreFields::kReorder, "");
  EXPECT_EQ(top.message(), "boom");
  EXPECT_FALSE(FieldOf(top).has_value());
  // Other codes and OK pass through.
  EXPECT_TRUE(ToRequestField(absl::OkStatus(), CoreFields::kRender, "").ok());
  absl::Status oom = ToRequestField(absl::ResourceExhaustedError("out of memory"), CoreFields::kRender, "x");
  EXPECT_EQ(oom.message(), "out of memory");
}

TEST(FieldPathsTest, EveryTableIsNonEmptyWhereRenamesExist) {
  EXPECT_FALSE(RenamesOf(CoreFields::kFeatureConfig).empty());
  EXPECT_FALSE(RenamesOf(CoreFields::kInversion).empty());
  EXPECT_FALSE(RenamesOf(CoreFields::kRender).empty());
}

}  // namespace
}  // namespace specinv::server
