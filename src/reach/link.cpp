#include "reach/link.h"

#include <cctype>

namespace reach::cli {

Result<SessionLink> parse_session_link(std::string_view link, std::string_view kind) {
  std::string example = "http(s)://HOST/" + std::string(kind) + "/s12345678-TOKEN";
  auto bad = [&](const std::string& why) {
    return bad_request("not a " + std::string(kind == "support" ? "supporter" : "session") +
                       " link (" + why + "); expected " + example);
  };
  std::string scheme;
  if (link.starts_with("https://")) {
    scheme = "wss://";
    link.remove_prefix(8);
  } else if (link.starts_with("http://")) {
    scheme = "ws://";
    link.remove_prefix(7);
  } else {
    return bad("it must start with http:// or https://");
  }
  while (link.ends_with('/')) link.remove_suffix(1);
  auto slash = link.find('/');
  if (slash == 0 || slash == std::string_view::npos) return bad("no host or no path");
  std::string_view host = link.substr(0, slash);
  std::string_view path = link.substr(slash);
  if (host.find_first_of("?#@ ") != std::string_view::npos) return bad("bad host");
  std::string marker = "/" + std::string(kind) + "/";
  auto at = path.rfind(marker);
  if (at == std::string_view::npos) return bad("no /" + std::string(kind) + "/ in the path");
  std::string_view prefix = path.substr(0, at);
  std::string_view ref = path.substr(at + marker.size());
  // s + 8 digits, '-', a 32-character token of [A-Za-z0-9_-].
  bool ok = ref.size() == 9 + 1 + 32 && ref[0] == 's' && ref[9] == '-';
  for (std::size_t i = 1; ok && i < 9; ++i) ok = std::isdigit(static_cast<unsigned char>(ref[i]));
  for (std::size_t i = 10; ok && i < ref.size(); ++i) {
    char c = ref[i];
    ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  }
  if (!ok) return bad("the code or token at its end is malformed");
  std::string side = kind == "support" ? "supporter" : "device";
  SessionLink out;
  out.url = std::string(scheme == "wss://" ? "https://" : "http://") + std::string(link);
  out.stream_url = scheme + std::string(host) + std::string(prefix) + "/api/v1/stream/" + side +
                   "/" + std::string(ref);
  out.code = std::string(ref.substr(0, 9));
  return out;
}

}  // namespace reach::cli
