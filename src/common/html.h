// HTML escaping for server-rendered pages.
#pragma once

#include <string>
#include <string_view>

namespace reach::html {

// Escapes &, <, >, " and ' so `s` is safe in element content and in quoted attributes.
inline std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace reach::html
