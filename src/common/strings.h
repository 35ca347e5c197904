// Small string helpers.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace reach {

// ASCII lower case (emails and keywords; not for display text).
inline std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Text from elsewhere (a notification's title, a name) made safe to show on a terminal or in a
// single line: C0 and C1 control characters and DEL are dropped (an escape sequence could
// otherwise move the cursor, rewrite earlier lines or retitle the window), as are bidirectional
// overrides and isolates, and every byte of a malformed UTF-8 sequence. Printable UTF-8 passes
// unchanged.
std::string printable(std::string_view text);

}  // namespace reach
