#include "common/throttle.h"

#include <gtest/gtest.h>

namespace reach {
namespace {

TEST(Throttle, FiveFreeFailuresThenDoublingDelays) {
  Throttle t;
  const std::int64_t now = 1'000'000;
  for (int i = 0; i < 4; ++i) {
    t.failure("k", now);
    EXPECT_EQ(t.wait_ms("k", now), 0) << i;
  }
  t.failure("k", now);
  EXPECT_EQ(t.wait_ms("k", now), 1000);
  t.failure("k", now);
  EXPECT_EQ(t.wait_ms("k", now), 2000);
  t.failure("k", now);
  EXPECT_EQ(t.wait_ms("k", now), 4000);
  EXPECT_EQ(t.wait_ms("k", now + 4000), 0);
  EXPECT_EQ(t.wait_ms("other", now), 0);
}

TEST(Throttle, DelayIsCappedAndSuccessResets) {
  Throttle t;
  const std::int64_t now = 5'000;
  for (int i = 0; i < 60; ++i) t.failure("k", now);
  EXPECT_EQ(t.wait_ms("k", now), 15 * 60 * 1000);
  t.success("k");
  EXPECT_EQ(t.wait_ms("k", now), 0);
}

}  // namespace
}  // namespace reach
