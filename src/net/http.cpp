#include "net/http.h"

#include <algorithm>

#include <cctype>

namespace reach::net {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : items_) {
    if (iequals(k, name)) out.emplace_back(v);
  }
  return out;
}

void Headers::set(std::string_view name, std::string value) {
  std::erase_if(items_, [&](const auto& item) { return iequals(item.first, name); });
  items_.emplace_back(std::string(name), std::move(value));
}

void Headers::add(std::string_view name, std::string value) {
  items_.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
  for (std::string_view header : headers.get_all("Cookie")) {
    while (!header.empty()) {
      std::size_t semi = header.find(';');
      std::string_view pair = trim(header.substr(0, semi));
      header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = trim(pair.substr(eq + 1));
      // RFC 6265 allows the value to be wrapped in double quotes.
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::json_text(int status, std::string json_body) {
  return text(status, std::move(json_body), "application/json");
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

void use_forwarded_client(Request& request, const std::vector<std::string>& trusted_proxies) {
  if (trusted_proxies.empty()) return;
  if (std::find(trusted_proxies.begin(), trusted_proxies.end(), request.remote_address) ==
      trusted_proxies.end())
    return;
  auto forwarded = request.headers.get("X-Forwarded-For");
  if (!forwarded) return;
  std::string_view list = *forwarded;
  auto comma = list.rfind(',');
  std::string_view last = comma == std::string_view::npos ? list : list.substr(comma + 1);
  while (!last.empty() && last.front() == ' ') last.remove_prefix(1);
  while (!last.empty() && last.back() == ' ') last.remove_suffix(1);
  if (last.empty() || last.size() > 45 ||
      last.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos)
    return;
  request.remote_address = std::string(last);
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      out.emplace_back(percent_decode(part, true), std::string());
    } else {
      out.emplace_back(percent_decode(part.substr(0, eq), true),
                       percent_decode(part.substr(eq + 1), true));
    }
  }
  return out;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

namespace {

bool ieq_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_token68(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// "s12345678…", "S12-345-678…": a session code at the start of a segment.
bool starts_with_code(std::string_view s) {
  if (s.empty() || (s[0] != 's' && s[0] != 'S')) return false;
  int digits = 0;
  for (std::size_t i = 1; i < s.size() && digits < 8; ++i) {
    if (s[i] >= '0' && s[i] <= '9')
      ++digits;
    else if (s[i] != '-' && s[i] != ' ')
      return false;
  }
  return digits == 8;
}

bool secret_like(std::string_view seg) {
  if (starts_with_code(seg)) return true;
  if (seg.size() < 20 || is_uuid(seg)) return false;
  for (char c : seg)
    if (!is_token68(c) && c != '=') return false;
  return true;
}

}  // namespace

std::optional<std::string_view> bearer_token(const Headers& headers) {
  auto h = headers.get("Authorization");
  if (!h) return std::nullopt;
  std::string_view v = *h;
  auto space = v.find(' ');
  if (space == std::string_view::npos || !ieq_ascii(v.substr(0, space), "bearer"))
    return std::nullopt;
  v.remove_prefix(space);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  std::size_t i = 0;
  while (i < v.size() && is_token68(v[i])) ++i;
  while (i < v.size() && v[i] == '=') ++i;
  if (v.empty() || i != v.size() || v.front() == '=') return std::nullopt;
  return v;
}

std::string redact_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    out += secret_like(seg) ? std::string_view("[redacted]") : seg;
    if (end == path.size()) break;
    out += '/';
    start = end + 1;
  }
  return out;
}

}  // namespace reach::net
