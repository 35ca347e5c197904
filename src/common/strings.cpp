#include "common/strings.h"

namespace reach {

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation bytes.
    std::size_t len = c >= 0xf0 && c <= 0xf4   ? 4
                      : c >= 0xe0 && c <= 0xef ? 3
                      : c >= 0xc2 && c <= 0xdf ? 2
                                               : 0;
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (ok && len == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0)
      ok = false;  // U+0080..U+009F: the C1 controls (CSI among them)
    if (ok && len == 3) {
      auto c1 = static_cast<unsigned char>(text[i + 1]);
      auto c2 = static_cast<unsigned char>(text[i + 2]);
      ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
      // Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) can make a line
      // read differently from what it says.
      if (c == 0xe2 &&
          ((c1 == 0x80 && c2 >= 0xaa && c2 <= 0xae) || (c1 == 0x81 && c2 >= 0xa6 && c2 <= 0xa9)))
        ok = false;
    }
    if (ok && len == 4) {
      auto c1 = static_cast<unsigned char>(text[i + 1]);
      ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);  // overlong, > U+10FFFF
    }
    if (ok) out.append(text.substr(i, len));
    i += ok ? len : 1;
  }
  return out;
}

}  // namespace reach
