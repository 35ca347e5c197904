#include "relay/oauth_params.h"

#include "common/crypto.h"
#include "net/http.h"

#include <fmt/format.h>

namespace reach::relay {

namespace {
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kUnreserved =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
}  // namespace

Result<Form> parse_form(std::string_view content_type, std::string_view body) {
  if (!content_type.starts_with("application/x-www-form-urlencoded"))
    return bad_request("The body must be application/x-www-form-urlencoded.");
  Form f;
  for (auto& [k, v] : net::parse_query(body))
    if (!f.emplace(k, v).second) return bad_request(fmt::format("Parameter '{}' is repeated.", k));
  return f;
}

Result<ClientCredentials> client_credentials(std::optional<std::string_view> authorization,
                                             const Form& form) {
  ClientCredentials c;
  if (authorization && authorization->starts_with("Basic ")) {
    auto raw = crypto::base64_decode(authorization->substr(6));
    auto colon = raw ? raw->find(':') : std::string::npos;
    if (!raw || colon == std::string::npos)
      return make_error(Errc::unauthenticated, "invalid_client",
                        "The Basic credentials are malformed.");
    c.id = net::percent_decode(raw->substr(0, colon), true);
    c.secret = net::percent_decode(raw->substr(colon + 1), true);
    c.via_basic = true;
    if (form.contains("client_secret"))
      return make_error(Errc::invalid, "invalid_request",
                        "Use one client authentication method only.");
    if (auto fid = form.find("client_id"); fid != form.end() && fid->second != c.id)
      return make_error(Errc::invalid, "invalid_request",
                        "client_id does not match the credentials.");
    return c;
  }
  auto i = form.find("client_id");
  auto s = form.find("client_secret");
  if (i == form.end() || s == form.end())
    return make_error(Errc::unauthenticated, "invalid_client",
                      "Client authentication is required.");
  c.id = i->second;
  c.secret = s->second;
  return c;
}

AuthorizeParams authorize_params(const Form& p) {
  auto get = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  return AuthorizeParams{get("client_id"),      get("redirect_uri"),          get("state"),
                         get("code_challenge"), get("code_challenge_method"), get("response_type")};
}

std::string authorize_error(const AuthorizeParams& a) {
  if (a.response_type != "code") return "unsupported_response_type";
  // PKCE with S256 on every request (RFC 9700 §2.1.1): a code is useless to whoever steals it.
  // An S256 challenge is the base64url of a SHA-256: 43 characters.
  if (a.method != "S256" || a.code_challenge.size() != 43 ||
      a.code_challenge.find_first_not_of(kBase64Url) != std::string::npos)
    return "invalid_request";
  return "";
}

// A path on this site to continue to after signing in; anything else becomes "/". Every
// character that browsers do not take as it is (a backslash, whitespace, a control character:
// browsers drop tabs and newlines, so "/\t/evil.example" would leave the site) is
// percent-encoded, and no "//" may start it (another host).
std::string safe_continue(std::string_view c) {
  static constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%?";
  if (c.empty() || c.size() > 2048 || c[0] != '/' || c.starts_with("//")) return "/";
  std::string out;
  for (char ch : c) {
    if (kSafe.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      auto b = static_cast<unsigned char>(ch);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

bool pkce_s256_matches(std::string_view verifier, std::string_view challenge) {
  if (verifier.size() < 43 || verifier.size() > 128 ||
      verifier.find_first_not_of(kUnreserved) != std::string_view::npos)
    return false;
  return crypto::constant_time_equal(crypto::base64url_encode(crypto::sha256_raw(verifier)),
                                     challenge);
}

}  // namespace reach::relay
