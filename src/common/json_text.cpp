#include "common/json_text.h"

#include "common/time.h"

#include <array>
#include <charconv>
#include <cstring>

namespace reach::json {
namespace {

// Whether any of the eight bytes at `p` is a control character, '"' or '\\' (the classic
// "has a byte less than n" and "has a zero byte" word tricks; exact for "any").
bool any_escaped(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101, kHigh = 0x8080808080808080;
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  auto zero_byte = [&](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return (((w - kOnes * 0x20) & ~w & kHigh) | zero_byte(w ^ (kOnes * '"')) |
          zero_byte(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void Text::before_value() {
  if (comma_) out_ += ',';
  comma_ = true;
}

Text& Text::open(char c) {
  before_value();
  out_ += c;
  comma_ = false;
  return *this;
}

Text& Text::close(char c) {
  out_ += c;
  comma_ = true;
  return *this;
}

Text& Text::key(std::string_view name) {
  before_value();
  quoted(name);
  out_ += ':';
  comma_ = false;
  return *this;
}

Text& Text::key_text(std::string_view quoted_name_colon) {
  before_value();
  out_ += quoted_name_colon;
  comma_ = false;
  return *this;
}

std::string Text::quoted_key(std::string_view name) {
  Text t;
  t.quoted(name);
  t.out_ += ':';
  return t.take();
}

Text& Text::string(std::string_view s) {
  before_value();
  quoted(s);
  return *this;
}

void Text::quoted(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr auto kEscaped = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();
  out_ += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none of them needs escaping (the usual case).
    while (i + 8 <= s.size() && !any_escaped(s.data() + i)) i += 8;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (!kEscaped[c]) continue;
    out_.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 0xf];
    }
  }
  out_.append(s.data() + run, s.size() - run);
  out_ += '"';
}

Text& Text::null() {
  before_value();
  out_ += "null";
  return *this;
}

Text& Text::boolean(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

Text& Text::number(std::int64_t n) {
  before_value();
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  out_.append(buf, end);
  return *this;
}

Text& Text::date_time(std::int64_t ms) {
  before_value();
  out_ += '"';
  append_iso8601(out_, ms);
  out_ += '"';
  return *this;
}

Text& Text::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

}  // namespace reach::json
