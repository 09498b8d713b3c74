// Copyright specinv authors.
//
// Metrics: the Prometheus text of the gauges kept by Metrics itself.

#include "server/metrics.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace specinv::server {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, OpenStreamVocodeStreamsGauge) {
  Metrics metrics;
  EXPECT_THAT(metrics.RenderPrometheus(),
              HasSubstr("# HELP specinv_stream_vocode_streams StreamVocode streams open (call started, status not "
                        "yet sent).\n# TYPE specinv_stream_vocode_streams gauge\nspecinv_stream_vocode_streams 0\n"));
  metrics.StreamVocodeOpened();
  metrics.StreamVocodeOpened();
  EXPECT_EQ(metrics.open_stream_vocode_streams(), 2);
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 2\n"));
  metrics.StreamVocodeClosed();
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 1\n"));
  metrics.StreamVocodeClosed();
  EXPECT_EQ(metrics.open_stream_vocode_streams(), 0);
  EXPECT_THAT(metrics.RenderPrometheus(), HasSubstr("\nspecinv_stream_vocode_streams 0\n"));
}

}  // namespace
}  // namespace specinv::server
