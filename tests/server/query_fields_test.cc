// Copyright specinv authors.

#include "server/http/query_fields.h"

#include <gtest/gtest.h>

#include "server/status_mapping.h"
#include "specinv/v1/spectrogram_service.pb.h"

namespace specinv::server {
namespace {

using Params = std::multimap<std::string, std::string>;

const QueryFieldOptions kOptions{{{"preset", "config.preset"}, {"method", "options.method"}}, {"skip_me"}};

TEST(QueryFieldsTest, SetsNestedScalarsEnumsAndAliases) {
  v1::InvertMelRequest r;
  ASSERT_TRUE(SetFieldsFromQuery(Params{{"preset", "hifigan"},
                                        {"config.hop_length", "200"},
                                        {"method", "pghi-fgla"},
                                        {"options.seed", "7"},
                                        {"output.encoding", "AUDIO_ENCODING_FLAC"},
                                        {"skip_me", "whatever"}},
                                 kOptions, &r)
                  .ok());
  EXPECT_EQ(r.config().preset(), "hifigan");
  EXPECT_EQ(r.config().hop_length(), 200);
  EXPECT_EQ(r.options().method(), v1::INVERSION_METHOD_PGHI_FGLA);
  EXPECT_EQ(r.options().seed(), 7u);
  EXPECT_EQ(r.output().encoding(), v1::AUDIO_ENCODING_FLAC);
}

TEST(QueryFieldsTest, InvalidValuesNameTheParameter) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"config.hop_length", "many"},
           {"method", "bogus"},
           {"no_such", "1"},
           {"config.no_such", "1"},
           {"config.preset.deeper", "1"},
           {"mel.shape", "3"},       // repeated
           {"mel.npy_data", "xx"},   // bytes travel in the body
           {"config", "1"}}) {       // a message
    v1::InvertMelRequest r;
    const absl::Status s = SetFieldsFromQuery(Params{{key, value}}, kOptions, &r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(FieldOf(s).value_or(""), key) << s;
  }
}

TEST(QueryFieldsTest, RepeatedKeyIsRefused) {
  v1::InvertMelRequest r;
  const absl::Status s = SetFieldsFromQuery(Params{{"preset", "a"}, {"preset", "b"}}, kOptions, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("more than once"), absl::string_view::npos) << s;
}

TEST(QueryFieldsTest, LongKeysAndValuesAreCutInTheMessage) {
  v1::InvertMelRequest r;
  const std::string key(5000, 'k');
  const absl::Status s = SetFieldsFromQuery(Params{{key, "1"}}, kOptions, &r);
  EXPECT_LT(s.message().size(), 600u) << s.message().size();
}

}  // namespace
}  // namespace specinv::server
