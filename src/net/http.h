// Plain HTTP message types shared by the server, the client, the router and every handler.
// Deliberately free of Beast/Asio so that handler code compiles fast; the conversion to and from
// Beast lives in server.cpp and client.cpp only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reach::net {

// Ordered header list with case-insensitive lookup.
class Headers {
 public:
  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string_view> get_all(std::string_view name) const;
  void set(std::string_view name, std::string value);  // replaces every existing value
  void add(std::string_view name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;  // "GET", "POST", …
  std::string target;  // as received: path and query, percent-encoded
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  std::string remote_address;  // peer IP address, no port
  bool tls = false;
  std::string host;                           // Host header, or "" when absent
  std::map<std::string, std::string> params;  // path parameters set by the router

  std::optional<std::string_view> query_param(std::string_view name) const;
  // Parses "a=b; c=d" Cookie headers.
  std::optional<std::string> cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // The server holds the answer this long before sending it, on a timer rather than a worker:
  // a way to slow a guesser down without blocking anyone (a sign-in to an account that is
  // being guessed at). A connection is held meanwhile, which the per-client cap bounds.
  std::chrono::milliseconds delay{0};

  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response json_text(int status, std::string json_body);
  static Response empty(int status);
};

// Behind a load balancer every request comes from the balancer. When the peer is one of
// `trusted_proxies`, the client's address becomes the last entry of X-Forwarded-For (the one
// that balancer appended; what comes before it was written by whoever sent the request, and is
// not evidence). Otherwise, or when that entry is not an address, nothing changes.
void use_forwarded_client(Request& request, const std::vector<std::string>& trusted_proxies);

// Splits "a=1&b=%20x" into decoded pairs ("+" is a space). Invalid escapes are kept verbatim.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
std::string percent_decode(std::string_view s, bool plus_is_space);
std::string percent_encode(std::string_view s);  // RFC 3986 unreserved kept

std::string_view reason_phrase(int status);

// The token of an "Authorization: Bearer TOKEN" header, the one parser every program uses
// (RFC 6750 §2.1: the scheme in any case, one or more spaces, a token68). nullopt when the header
// is absent, names another scheme, or the token is empty or has characters a token68 cannot.
std::optional<std::string_view> bearer_token(const Headers& headers);

// A request path as the request log prints it: a segment that carries a session code or a
// secret-looking token (20 or more token characters that are not a UUID) becomes "[redacted]",
// so that links, codes and tokens never reach a log. "/support/s12345678-TOKEN" →
// "/support/[redacted]"; "/v1.0/users/<uuid>" is kept.
std::string redact_path(std::string_view path);

}  // namespace reach::net
