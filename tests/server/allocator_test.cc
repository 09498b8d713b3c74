// Copyright specinv authors.

#include "server/allocator.h"

#include <vector>

#include <gtest/gtest.h>

namespace specinv::server {
namespace {

TEST(RetainFreedMemoryTest, InvalidOptions) {
  for (int64_t bytes : {int64_t{-1}, int64_t{2048} << 20, int64_t{1} << 40}) {
    const absl::Status s = RetainFreedMemory(bytes);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bytes;
    EXPECT_NE(s.message().find("--malloc-retain-mb"), absl::string_view::npos) << s;
  }
}

TEST(RetainFreedMemoryTest, ZeroKeepsTheDefaults) { EXPECT_TRUE(RetainFreedMemory(0).ok()); }

TEST(RetainFreedMemoryTest, AppliedOrRefusedWithoutHarm) {
  // glibc accepts; a replacement allocator (a sanitizer's) refuses with
  // FailedPrecondition and allocation goes on as before.
  const absl::Status s = RetainFreedMemory(kDefaultMallocRetainBytes);
  EXPECT_TRUE(s.ok() || absl::IsFailedPrecondition(s)) << s;
  std::vector<float> block(size_t{8} << 20, 1.0f);  // 32 MiB: at the mmap threshold
  EXPECT_EQ(block.back(), 1.0f);
}

}  // namespace
}  // namespace specinv::server
