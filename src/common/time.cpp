#include "common/time.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

namespace reach {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void append_iso8601(std::string& out, std::int64_t ms) {
  using namespace std::chrono;
  // Floor division: before 1970 the milliseconds are still 0–999 of the second before.
  const auto t = sys_time<milliseconds>(milliseconds(ms));
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<milliseconds> hms(t - day);
  const auto put = [&out](long long v, int width) {
    char digits[20];
    for (int i = width - 1; i >= 0; --i, v /= 10) digits[i] = static_cast<char>('0' + v % 10);
    out.append(digits, static_cast<std::size_t>(width));
  };
  int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) {  // outside what four digits say; not produced by Reach's own clock
    out += fmt::format("{:04}", y);
  } else {
    put(y, 4);
  }
  out += '-';
  put(static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  put(static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  put(hms.hours().count(), 2);
  out += ':';
  put(hms.minutes().count(), 2);
  out += ':';
  put(hms.seconds().count(), 2);
  out += '.';
  put(hms.subseconds().count(), 3);
  out += 'Z';
}

std::string http_date(std::int64_t ms) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto t = sys_time<milliseconds>(milliseconds(ms));
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const weekday wd(day);
  const hh_mm_ss<seconds> hms(floor<seconds>(t - day));
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd.c_encoding()],
                     static_cast<unsigned>(ymd.day()),
                     kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string iso8601(std::int64_t ms) {
  std::string out;
  out.reserve(24);
  append_iso8601(out, ms);
  return out;
}

Result<std::int64_t> parse_iso8601(std::string_view s) {
  auto bad = [&] { return bad_request(fmt::format("'{}' is not an ISO-8601 date and time", s)); };
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (s.size() < 19 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' ||
      !num(8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !num(11, 2, h) || s[13] != ':' ||
      !num(14, 2, mi) || s[16] != ':' || !num(17, 2, se))
    return bad();
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  std::size_t pos = 19;
  int frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 3; ++i) frac_ms *= 10;
  }
  int offset_min = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
    } else if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
      int oh, om;
      if (!num(pos + 1, 2, oh) || !num(pos + 4, 2, om)) return bad();
      offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    } else {
      return bad();
    }
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  std::int64_t secs = timegm(&tm);
  // timegm normalises what does not exist (30 February → 2 March): refuse it instead.
  std::tm back{};
  std::time_t t = static_cast<std::time_t>(secs);
  gmtime_r(&t, &back);
  if (back.tm_mday != d || back.tm_mon != mo - 1) return bad();
  return (secs - offset_min * 60) * 1000 + frac_ms;
}

}  // namespace reach
