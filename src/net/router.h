// Maps (method, path pattern) to handlers. Patterns are literal segments and `{name}` segments,
// which match one non-empty path segment and land in Request::params. The first route added
// that matches wins. A path that matches a pattern under another method yields 405.
// Not thread-safe while routes are added; read-only (and thread-safe) once serving.
#pragma once

#include "net/http.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace reach::net {

class Router {
 public:
  using Handler = std::function<Response(Request&)>;

  void add(std::string_view method, std::string_view pattern, Handler handler);

  enum class Match { found, method_not_allowed, not_found };
  // On `found`, fills request.params and returns the handler through `out`.
  Match route(Request& request, const Handler** out) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" marks a parameter
    Handler handler;
  };
  static std::vector<std::string_view> split(std::string_view path);
  std::vector<Route> routes_;
};

}  // namespace reach::net
