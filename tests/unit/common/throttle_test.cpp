#include "common/throttle.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

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

TEST(Throttle, FailuresAreForgottenADayAfterTheLast) {
  Throttle t;
  const std::int64_t day = 24LL * 3600 * 1000;
  for (int i = 0; i < 8; ++i) t.failure("k", 0);
  EXPECT_GT(t.wait_ms("k", 0), 0);
  t.failure("k", day);  // a day later: counted as the first failure again
  EXPECT_EQ(t.wait_ms("k", day), 0);
}

TEST(Throttle, ManyNewKeysEvictTheOldestNotTheWholeTable) {
  Throttle t(Throttle::Options{5, 15 * 60 * 1000, 24LL * 3600 * 1000, 100});
  for (int i = 0; i < 10; ++i) t.failure("guesser", 1000 + i);  // throttled now
  ASSERT_GT(t.wait_ms("guesser", 2000), 0);
  // A flood of other keys, each failed once and earlier than the guesser's last failure…
  for (int i = 0; i < 99; ++i) t.failure("k" + std::to_string(i), 500);
  EXPECT_GT(t.wait_ms("guesser", 2000), 0);
  // …then more, later: the oldest go first; the table never grows past its limit.
  for (int i = 0; i < 500; ++i) t.failure("late" + std::to_string(i), 3000 + i);
  EXPECT_LE(t.size(), 100u);
  EXPECT_EQ(t.wait_ms("guesser", 2000), 0) << "the guesser's entry was the oldest by then";
  t.failure("guesser", 4000);
  t.failure("late499", 4001);
  EXPECT_LE(t.size(), 100u);
}

TEST(Throttle, FirstRefusalIsNotedOncePerWait) {
  Throttle t;
  for (int i = 0; i < 5; ++i) t.failure("k", 0);
  EXPECT_TRUE(t.first_refusal("k", 10));
  EXPECT_FALSE(t.first_refusal("k", 20));
  EXPECT_FALSE(t.first_refusal("k", 999));
  EXPECT_FALSE(t.first_refusal("k", 1000)) << "the wait is over: nothing is refused";
  t.failure("k", 1000);  // a new, longer wait
  EXPECT_TRUE(t.first_refusal("k", 1001));
  EXPECT_FALSE(t.first_refusal("other", 0));
}

// SPEC §4.2's target, as arithmetic: one client (every address of one IPv6 /64 is one key)
// guessing the codes of open sessions as fast as the throttle lets it. A code lives 24 h.
TEST(Throttle, GuessingOneOpenCodeTakesFarLongerThanItsLife) {
  Throttle t;
  const std::int64_t day = 24LL * 3600 * 1000;
  std::int64_t now = 0, guesses = 0;
  while (now < day) {
    std::int64_t wait = t.wait_ms("net", now);
    if (wait > 0) {
      now += wait;
      continue;
    }
    ++guesses;  // a wrong guess (as nearly all are)
    t.failure("net", now);
  }
  // 5 free, 10 doubling waits (1 s … 512 s, 17 minutes in all), then one per 15 minutes.
  std::printf("[throttle] guesses in 24 h from one client: %lld\n",
              static_cast<long long>(guesses));
  EXPECT_LE(guesses, 5 + 10 + 96 + 1);
  // 10^8 codes: finding one given open code takes 5·10^7 guesses on average. At this rate that
  // is more than 10^5 days; the chance to hit it within its 24 h life is under 2·10^-6.
  const double codes = 1e8;
  double days_expected = (codes / 2) / static_cast<double>(guesses);
  EXPECT_GT(days_expected, 1e5);
  EXPECT_LT(static_cast<double>(guesses) / codes, 2e-6);
}

TEST(ClientKey, Ipv6ByItsSlash64AndIpv4AsItIs) {
  EXPECT_EQ(client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:2:ffff::9"));
  EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
  EXPECT_EQ(client_key("[fd00::5]"), "fd00::/64");
  EXPECT_EQ(client_key("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(client_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(client_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(client_key("not an address"), "not an address");
  EXPECT_EQ(client_keys("2001:db8:1:2::1"),
            (std::vector<std::string>{"2001:db8:1:2::/64", "2001:db8:1::/48"}));
  EXPECT_EQ(client_keys("192.0.2.7"), (std::vector<std::string>{"192.0.2.7"}));
}

}  // namespace
}  // namespace reach

namespace reach {
namespace {

// An account being guessed at is slowed by its own wait, never by more than the cap: its owner
// always gets an answer within a few seconds.
TEST(AccountSlowing, FollowsTheAccountsWaitUpToTheCap) {
  EXPECT_EQ(account_slowing_ms(0), 0);
  EXPECT_EQ(account_slowing_ms(-5), 0);
  EXPECT_EQ(account_slowing_ms(1000), 1000);
  EXPECT_EQ(account_slowing_ms(15 * 60 * 1000), kMaxAccountSlowingMs);
  EXPECT_EQ(account_slowing_ms(5000, 2000), 2000);
}

}  // namespace
}  // namespace reach
