// A JSON text written front to back into a string, for responses too large to build as
// Boost.JSON values first (a page of a hundred devices is a few thousand allocations that way;
// written here it is one growing string). Commas are placed by the writer: call key() before each
// member of an object, then one value. Strings are escaped as RFC 8259 requires (quotation mark,
// backslash, control characters); other bytes, UTF-8 included, are written as they are, as
// Boost.JSON's serializer does. Not thread-safe (one writer per response).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reach::json {

class Text {
 public:
  explicit Text(std::size_t reserve = 0) { out_.reserve(reserve); }

  Text& begin_object() { return open('{'); }
  Text& end_object() { return close('}'); }
  Text& begin_array() { return open('['); }
  Text& end_array() { return close(']'); }

  // The name of the next member of the object being written.
  Text& key(std::string_view name);

  // A name already written as JSON with its colon (`"id":`, from quoted_key()), for writers that
  // write the same names many times.
  Text& key_text(std::string_view quoted_name_colon);
  static std::string quoted_key(std::string_view name);

  Text& string(std::string_view s);
  Text& null();
  Text& boolean(bool b);
  Text& number(std::int64_t n);
  // "2026-11-21T13:22:08.123Z" (Graph's DateTimeOffset) of a time in ms since the epoch.
  Text& date_time(std::int64_t ms);
  // A value that is already JSON text (from json::serialize); written as it is.
  Text& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  Text& open(char c);
  Text& close(char c);
  void before_value();
  void quoted(std::string_view s);

  std::string out_;
  // Whether the next value, member or element follows another (and so needs a comma).
  bool comma_ = false;
};

}  // namespace reach::json
