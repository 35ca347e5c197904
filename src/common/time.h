// Wall-clock helpers. Times are milliseconds since the Unix epoch (UTC) everywhere inside Reach;
// they become ISO-8601 strings only at API boundaries.
#pragma once

#include "common/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace reach {

std::int64_t now_ms();
// "2026-11-21T13:22:08.123Z" (Graph's DateTimeOffset form, always UTC).
std::string iso8601(std::int64_t ms);
// The same, appended to `out` (for writers of long JSON texts).
void append_iso8601(std::string& out, std::int64_t ms);
// HTTP's Date: "Mon, 07 Dec 2026 11:20:05 GMT" (RFC 9110's IMF-fixdate), to the second.
std::string http_date(std::int64_t ms);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]".
Result<std::int64_t> parse_iso8601(std::string_view s);

}  // namespace reach
