// Fuzz target: the OAuth 2 server's request parameters: a form body (token and revocation
// endpoints), client credentials from an Authorization header or the form, an authorization
// request's parameters and the PKCE check. The input is "HEADER\0BODY".
#include "relay/oauth_params.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach::relay;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto nul = in.find('\0');
  std::string_view header = nul == std::string_view::npos ? std::string_view() : in.substr(0, nul);
  std::string_view body = nul == std::string_view::npos ? in : in.substr(nul + 1);
  // The sign-in page's continue: always a path on this site, of characters taken as they are.
  auto cont = safe_continue(in);
  if (cont.empty() || cont[0] != '/' || cont.starts_with("//") ||
      cont.find_first_of(" \t\r\n\\") != std::string::npos)
    __builtin_trap();
  auto form = parse_form("application/x-www-form-urlencoded", body);
  if (!form) return 0;
  if (auto c = client_credentials(header.empty() ? std::nullopt : std::optional(header), *form)) {
    if (!c->via_basic && (!form->contains("client_id") || !form->contains("client_secret")))
      __builtin_trap();
  }
  auto a = authorize_params(*form);
  if (authorize_error(a).empty() && (a.method != "S256" || a.code_challenge.size() != 43))
    __builtin_trap();
  auto get = [&](const char* k) {
    auto it = form->find(k);
    return it == form->end() ? std::string() : it->second;
  };
  (void)pkce_s256_matches(get("code_verifier"), get("code_challenge"));
  return 0;
}
