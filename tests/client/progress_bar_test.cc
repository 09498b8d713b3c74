// Copyright specinv authors.

#include "client/progress_bar.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>

namespace specinv::client {
namespace {

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buffer[512];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) out.append(buffer, n);
  return out;
}

TEST(RenderProgressLineTest, FillsProportionally) {
  EXPECT_EQ(RenderProgressLine("invert", 0.5, 10, "it 16/32"), "invert [#####.....]  50%  it 16/32");
  EXPECT_EQ(RenderProgressLine("", 1.0, 4, ""), "[####] 100%");
  EXPECT_EQ(RenderProgressLine("x", 0.0, 3, ""), "x [...]   0%");
}

TEST(RenderProgressLineTest, ClampsOutOfRange) {
  EXPECT_EQ(RenderProgressLine("", 1.7, 4, ""), "[####] 100%");
  EXPECT_EQ(RenderProgressLine("", -0.3, 4, ""), "[....]   0%");
  EXPECT_EQ(RenderProgressLine("", std::nan(""), 4, ""), "[....]   0%");
  EXPECT_EQ(RenderProgressLine("", 0.5, 0, ""), "[.]  50%");
}

TEST(ChooseProgressModeTest, Settings) {
  EXPECT_EQ(ChooseProgressMode("auto", true), ProgressMode::kBar);
  EXPECT_EQ(ChooseProgressMode("auto", false), ProgressMode::kOff);
  EXPECT_EQ(ChooseProgressMode("always", true), ProgressMode::kBar);
  EXPECT_EQ(ChooseProgressMode("always", false), ProgressMode::kLines);
  EXPECT_EQ(ChooseProgressMode("never", true), ProgressMode::kOff);
}

TEST(ProgressBarTest, BarRedrawsInPlaceAndEndsTheLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, ProgressMode::kBar, "invert");
    bar.Update(0.25, "it 8/32");
    bar.Finish();
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  EXPECT_EQ(out.front(), '\r');
  EXPECT_EQ(out.back(), '\n');
  EXPECT_NE(out.find("it 8/32"), std::string::npos);
  EXPECT_NE(out.find(" 25%"), std::string::npos);
}

TEST(ProgressBarTest, OffWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, ProgressMode::kOff, "invert");
    bar.Update(0.5, "x");
  }
  EXPECT_EQ(ReadAll(f), "");
  std::fclose(f);
}

TEST(ProgressBarTest, LinesModeIsThrottledToPlainLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressBar bar(f, ProgressMode::kLines, "job");
    for (int i = 0; i < 100; ++i) bar.Update(i / 100.0, "");  // within the first second: silent
  }
  EXPECT_EQ(ReadAll(f), "");  // finished before the first line was due
  std::fclose(f);
}

}  // namespace
}  // namespace specinv::client
