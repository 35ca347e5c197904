#include "common/time.h"

#include <gtest/gtest.h>

namespace reach {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601(1795267328123), "2026-11-21T13:22:08.123Z");
}

TEST(Time, ParsesWhatItFormatsAndOffsets) {
  auto now = now_ms();
  EXPECT_EQ(parse_iso8601(iso8601(now)).value(), now);
  EXPECT_EQ(parse_iso8601("2016-12-31T23:58:36-08:00").value(),
            parse_iso8601("2017-01-01T07:58:36Z").value());
  EXPECT_EQ(parse_iso8601("2017-01-01T00:02:49.3205976-08:00").value() % 1000, 320);
}

TEST(Time, RejectsMalformed) {
  for (const char* s : {"", "2017", "2017-13-01T00:00:00Z", "2017-01-01T00:00:00X",
                        "2017-01-01 00:00", "2017-01-01T00:00:00.Z"})
    EXPECT_FALSE(parse_iso8601(s)) << s;
}

}  // namespace
// Found by the channel fuzzer: a date before 1970 came back as "…:01.-923Z".
TEST(Time, DatesBefore1970RoundTrip) {
  for (std::int64_t ms : {std::int64_t{-1}, std::int64_t{-923}, std::int64_t{-30171016799923},
                          std::int64_t{0}, std::int64_t{1796292000123}}) {
    auto text = iso8601(ms);
    auto back = parse_iso8601(text);
    ASSERT_TRUE(back) << text;
    EXPECT_EQ(*back, ms) << text;
  }
  EXPECT_EQ(iso8601(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Time, DaysThatDoNotExistAreRefused) {
  EXPECT_FALSE(parse_iso8601("2026-02-30T10:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-04-31T10:00:00Z"));
  EXPECT_TRUE(parse_iso8601("2024-02-29T10:00:00Z"));
  EXPECT_FALSE(parse_iso8601("2026-02-29T10:00:00Z"));
}

}  // namespace reach
