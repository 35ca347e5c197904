#include "net/router.h"

namespace reach::net {

std::vector<std::string_view> Router::split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  Route r;
  r.method = std::string(method);
  for (auto s : split(pattern)) r.segments.emplace_back(s);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

Router::Match Router::route(Request& request, const Handler** out) const {
  auto parts = split(request.path);
  bool path_matched = false;
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& seg = r.segments[i];
      if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
        params[seg.substr(1, seg.size() - 2)] = std::string(parts[i]);
      } else {
        ok = seg == parts[i];
      }
    }
    if (!ok) continue;
    path_matched = true;
    if (r.method != request.method && !(r.method == "GET" && request.method == "HEAD")) continue;
    request.params = std::move(params);
    *out = &r.handler;
    return Match::found;
  }
  return path_matched ? Match::method_not_allowed : Match::not_found;
}

}  // namespace reach::net
