#include "hub/connector.h"

#include <gtest/gtest.h>

namespace reach::hub {
namespace {

TEST(ConnectorRefresh, ALongLivedTokenIsRefreshedAMinuteBeforeItExpires) {
  const std::int64_t now = 1'000'000'000;
  EXPECT_EQ(refresh_time(now, 3600 * 1000), now + 3600 * 1000 - 60 * 1000);
  EXPECT_EQ(refresh_time(now, 240 * 1000), now + 180 * 1000);  // exactly a minute = a quarter
}

TEST(ConnectorRefresh, AShortLivedTokenIsRefreshedAQuarterOfItsLifeBefore) {
  const std::int64_t now = 1'000'000'000;
  EXPECT_EQ(refresh_time(now, 2000), now + 1500);
  EXPECT_EQ(refresh_time(now, 100 * 1000), now + 75 * 1000);
}

TEST(ConnectorRefresh, ATokenIsUsedUntilItsRefreshTimeThenRefreshed) {
  Partner p;
  p.access_token = "a1";
  p.access_refresh_at = 5000;
  EXPECT_FALSE(needs_refresh(p, std::nullopt, 4999));
  EXPECT_TRUE(needs_refresh(p, std::nullopt, 5000));
  EXPECT_TRUE(needs_refresh(p, std::nullopt, 9000));
}

TEST(ConnectorRefresh, ARefusedTokenIsRefreshedOnceNotAfterAnotherNodeReplacedIt) {
  Partner p;
  p.access_token = "a1";
  p.access_refresh_at = 5000;
  EXPECT_TRUE(needs_refresh(p, std::string("a1"), 1000));  // refused: refresh now
  p.access_token = "a2";                                   // another node already did
  EXPECT_FALSE(needs_refresh(p, std::string("a1"), 1000));
}

TEST(ConnectorOnboarding, AnOnboardingLapsesAtItsExpiryAndNothingElseDoes) {
  Partner p;
  p.status = "onboarding";
  p.onboarding_expires_at = 5000;
  EXPECT_FALSE(onboarding_lapsed(p, 4999));
  EXPECT_TRUE(onboarding_lapsed(p, 5000));
  EXPECT_TRUE(onboarding_lapsed(p, 9000));
  for (const char* other : {"notOnboarded", "onboarded"}) {
    p.status = other;
    EXPECT_FALSE(onboarding_lapsed(p, 9000)) << other;
  }
}

}  // namespace
}  // namespace reach::hub
