// Small helpers over Boost.JSON for reading untrusted request bodies: every accessor returns a
// Result whose error names the offending property, so handlers can answer 400 with a message
// that says what was wrong. Thread-safe (no shared state).
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace reach::json {

namespace bj = boost::json;

// Parses a request body that must be a JSON object. Limits nesting depth.
Result<bj::object> parse_object(std::string_view body);
Result<bj::value> parse(std::string_view body);

std::string serialize(const bj::value& v);

// Optional typed members: absent -> nullopt; present with the wrong type -> 400 error.
Result<std::optional<std::string>> opt_string(const bj::object& o, std::string_view key);
Result<std::optional<bool>> opt_bool(const bj::object& o, std::string_view key);
Result<std::optional<std::int64_t>> opt_int(const bj::object& o, std::string_view key);
Result<std::optional<bj::array>> opt_array(const bj::object& o, std::string_view key);
Result<std::string> req_string(const bj::object& o, std::string_view key);

// Fails with 400 naming the first key of `o` not in `allowed` (and not an "@odata." annotation).
Status only_keys(const bj::object& o, std::initializer_list<std::string_view> allowed);

// Array of strings, or 400.
Result<std::vector<std::string>> string_array(const bj::value& v, std::string_view key);

}  // namespace reach::json
