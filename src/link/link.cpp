#include "link/link.h"

#include "common/crypto.h"

namespace reach::link {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_';
}

// "http://" → "ws://", "https://" → "wss://"; the rest of the URL after the scheme.
bool split_scheme(std::string_view& url, std::string& ws_scheme) {
  if (url.starts_with("https://")) {
    ws_scheme = "wss://";
    url.remove_prefix(8);
    return true;
  }
  if (url.starts_with("http://")) {
    ws_scheme = "ws://";
    url.remove_prefix(7);
    return true;
  }
  return false;
}

bool valid_host(std::string_view host) {
  return !host.empty() && host.find_first_of("?#@ /\\\t\r\n") == std::string_view::npos;
}

}  // namespace

Result<std::string> normalize_code(std::string_view input) {
  constexpr const char* kShape = "A session code looks like s12-345-678.";
  if (input.empty() || (input[0] != 's' && input[0] != 'S')) return bad_request(kShape);
  std::string out = "s";
  for (char c : input.substr(1)) {
    if (is_digit(c)) {
      if (out.size() == kCodeSize) return bad_request("A session code has exactly 8 digits.");
      out += c;
    } else if (c != '-' && c != ' ') {
      return bad_request(kShape);
    }
  }
  if (out.size() != kCodeSize) return bad_request("A session code has exactly 8 digits.");
  return out;
}

std::string display_code(std::string_view c) {
  if (c.size() != kCodeSize) return std::string(c);
  return std::string(c.substr(0, 3)) + "-" + std::string(c.substr(3, 3)) + "-" +
         std::string(c.substr(6, 3));
}

Result<LinkRef> parse_link_ref(std::string_view ref) {
  // Links are made by the relay, never typed: only the canonical form is a link.
  bool ok = ref.size() == kCodeSize + 1 + kTokenSize && ref[0] == 's' && ref[kCodeSize] == '-';
  for (std::size_t i = 1; ok && i < kCodeSize; ++i) ok = is_digit(ref[i]);
  for (std::size_t i = kCodeSize + 1; ok && i < ref.size(); ++i) ok = is_token_char(ref[i]);
  if (!ok) return bad_request("This is not a session link.");
  return LinkRef{std::string(ref.substr(0, kCodeSize)), std::string(ref.substr(kCodeSize + 1))};
}

Result<SessionLink> parse_session_link(std::string_view link, std::string_view kind) {
  std::string example = "http(s)://HOST/" + std::string(kind) + "/s12345678-TOKEN";
  auto bad = [&](const std::string& why) {
    return bad_request("not a " + std::string(kind == "support" ? "supporter" : "session") +
                       " link (" + why + "); expected " + example);
  };
  std::string_view rest = link;
  std::string_view fragment;
  if (auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  std::string scheme;
  if (!split_scheme(rest, scheme)) return bad("it must start with http:// or https://");
  while (rest.ends_with('/')) rest.remove_suffix(1);
  auto slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return bad("no host or no path");
  std::string_view host = rest.substr(0, slash);
  std::string_view path = rest.substr(slash);
  if (!valid_host(host)) return bad("bad host");
  std::string marker = "/" + std::string(kind) + "/";
  auto at = path.rfind(marker);
  if (at == std::string_view::npos) return bad("no /" + std::string(kind) + "/ in the path");
  std::string_view prefix = path.substr(0, at);
  auto ref = parse_link_ref(path.substr(at + marker.size()));
  if (!ref) return bad("the code or token at its end is malformed");
  std::string side = kind == "support" ? "supporter" : "device";
  SessionLink out;
  out.url = std::string(scheme == "wss://" ? "https://" : "http://") + std::string(rest);
  out.stream_url = scheme + std::string(host) + std::string(prefix) + "/api/v1/stream/" + side +
                   "/" + ref->code + "-" + ref->token;
  out.code = ref->code;
  // The fragment: "s=SECRET" and "fp=FINGERPRINT", '&'-separated, each at most once.
  while (!fragment.empty()) {
    auto amp = fragment.find('&');
    std::string_view part = fragment.substr(0, amp);
    fragment = amp == std::string_view::npos ? std::string_view() : fragment.substr(amp + 1);
    if (part.starts_with("s=") && out.session_secret.empty()) {
      auto secret = crypto::base64url_decode(part.substr(2));
      if (!secret || secret->size() != 32)
        return bad("the session key after '#' is malformed; copy the whole link");
      out.session_secret = std::move(*secret);
    } else if (part.starts_with("fp=") && out.device_fingerprint.empty()) {
      std::string_view fp = part.substr(3);
      bool ok = fp.size() == 39;
      for (std::size_t i = 0; ok && i < fp.size(); ++i)
        ok = i % 5 == 4 ? fp[i] == '-' : (is_digit(fp[i]) || (fp[i] >= 'a' && fp[i] <= 'f'));
      if (!ok)
        return bad("the device key's fingerprint after '#' is malformed; copy the whole link");
      out.device_fingerprint = std::string(fp);
    } else {
      return bad("its part after '#' is not one Reach makes");
    }
  }
  if (!out.device_fingerprint.empty() && out.session_secret.empty())
    return bad("its part after '#' has a fingerprint but no session key");
  return out;
}

std::string link_fragment(std::string_view session_secret, std::string_view device_fingerprint) {
  std::string f = "#s=" + crypto::base64url_encode(session_secret);
  if (!device_fingerprint.empty()) f += "&fp=" + std::string(device_fingerprint);
  return f;
}

Result<std::string> code_stream_url(std::string_view relay_url, std::string_view code) {
  std::string scheme;
  std::string_view rest = relay_url;
  if (!split_scheme(rest, scheme)) return bad_request("--relay must be an http:// or https:// URL");
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (!valid_host(rest.substr(0, rest.find('/'))))
    return bad_request("--relay must be an http:// or https:// URL with a host");
  auto canonical = normalize_code(code);
  if (!canonical) return canonical.error();
  return scheme + std::string(rest) + "/api/v1/stream/device?code=" + *canonical;
}

Result<StreamRequest> parse_stream_request(std::string_view path,
                                           std::optional<std::string_view> code) {
  constexpr std::string_view kDevice = "/api/v1/stream/device";
  constexpr std::string_view kSupporter = "/api/v1/stream/supporter/";
  if (path.starts_with(kSupporter))
    return StreamRequest{StreamSide::supporter, false, std::string(path.substr(kSupporter.size()))};
  if (path.size() > kDevice.size() && path.starts_with(kDevice) && path[kDevice.size()] == '/')
    return StreamRequest{StreamSide::device, false, std::string(path.substr(kDevice.size() + 1))};
  if (path == kDevice) {
    if (!code) return bad_request("Give the session code: ?code=s12-345-678, or use the link.");
    return StreamRequest{StreamSide::device, true, std::string(*code)};
  }
  return not_found("No stream endpoint here.");
}

}  // namespace reach::link
