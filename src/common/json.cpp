#include "common/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace reach::json {

Result<bj::value> parse(std::string_view body) {
  boost::system::error_code ec;
  bj::parse_options opts;
  opts.max_depth = 32;
  bj::value v = bj::parse(body, ec, {}, opts);
  if (ec) return bad_request(fmt::format("The request body is not valid JSON: {}", ec.message()));
  return v;
}

Result<bj::object> parse_object(std::string_view body) {
  auto v = parse(body);
  if (!v) return v.error();
  if (!v->is_object()) return bad_request("The request body must be a JSON object.");
  return std::move(v->as_object());
}

std::string serialize(const bj::value& v) {
  return bj::serialize(v);
}

static Error wrong_type(std::string_view key, std::string_view want) {
  return bad_request(fmt::format("Property '{}' must be {}.", key, want));
}

Result<std::optional<std::string>> opt_string(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return wrong_type(key, "a string");
  return std::optional<std::string>{std::string(it->value().as_string())};
}

Result<std::optional<bool>> opt_bool(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>{};
  if (!it->value().is_bool()) return wrong_type(key, "a boolean");
  return std::optional<bool>{it->value().as_bool()};
}

Result<std::optional<std::int64_t>> opt_int(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::int64_t>{};
  if (it->value().is_int64()) return std::optional<std::int64_t>{it->value().as_int64()};
  if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX)
    return std::optional<std::int64_t>{static_cast<std::int64_t>(it->value().as_uint64())};
  return wrong_type(key, "an integer");
}

Result<std::optional<bj::array>> opt_array(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bj::array>{};
  if (!it->value().is_array()) return wrong_type(key, "an array");
  return std::optional<bj::array>{it->value().as_array()};
}

Result<std::string> req_string(const bj::object& o, std::string_view key) {
  auto s = opt_string(o, key);
  if (!s) return s.error();
  if (!*s || (*s)->empty()) return bad_request(fmt::format("Property '{}' is required.", key));
  return std::move(**s);
}

Status only_keys(const bj::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    std::string_view k = kv.key();
    if (k.starts_with("@odata.")) continue;
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) return bad_request(fmt::format("Property '{}' is unknown or cannot be set.", k));
  }
  return {};
}

Result<std::vector<std::string>> string_array(const bj::value& v, std::string_view key) {
  if (!v.is_array()) return wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (const auto& e : v.as_array()) {
    if (!e.is_string()) return wrong_type(key, "an array of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

}  // namespace reach::json
