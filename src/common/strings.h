// Small string helpers.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace reach {

// ASCII lower case (emails and keywords; not for display text).
inline std::string to_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace reach
