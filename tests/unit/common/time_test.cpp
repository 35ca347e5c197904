#include "common/time.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

namespace reach {
namespace {

TEST(Time, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601(1795267328123), "2026-11-21T13:22:08.123Z");
}

TEST(Time, HttpDateIsImfFixdate) {
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(951782400000), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http_date(1796641636216), "Mon, 07 Dec 2026 11:07:16 GMT");
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

namespace reach {
namespace {

TEST(Time, Iso8601AgreesWithGmtimeOverFourCenturies) {
  std::mt19937_64 rng(7);
  // 1900-01-01 to 2300-01-01, plus the edges of leap days and years.
  const std::int64_t lo = -2208988800000, hi = 10413792000000;
  std::vector<std::int64_t> samples = {951782400000 - 1, 951782400000, 951868800000, 4107542400000,
                                       4107542399999};
  for (int i = 0; i < 20000; ++i)
    samples.push_back(lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo)));
  for (auto ms : samples) {
    std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char want[32];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms - secs * 1000));
    EXPECT_EQ(iso8601(ms), want) << ms;
  }
}

}  // namespace
}  // namespace reach
