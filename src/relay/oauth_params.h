// The OAuth 2 server's request parameters (RFC 6749, RFC 7636), read without I/O: the form body
// of the token and revocation endpoints, client credentials, the authorization request, and the
// PKCE check. Untrusted input; every failure is a value (and the whole file is fuzzed).
#pragma once

#include "common/result.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace reach::relay {

using Form = std::map<std::string, std::string>;

// An application/x-www-form-urlencoded body; a repeated parameter is refused (RFC 6749 §3.2).
Result<Form> parse_form(std::string_view content_type, std::string_view body);

struct ClientCredentials {
  std::string id, secret;
  bool via_basic = false;  // client_secret_basic (else client_secret_post)
};
// From an Authorization: Basic header, or the form's client_id and client_secret. Errors carry
// the OAuth error code: 401 "invalid_client", 400 "invalid_request".
Result<ClientCredentials> client_credentials(std::optional<std::string_view> authorization,
                                             const Form& form);

struct AuthorizeParams {
  std::string client_id, redirect_uri, state, code_challenge, method, response_type;
};
AuthorizeParams authorize_params(const Form& params);
// The error to send back to the client (RFC 6749 §4.1.2.1), or "" when the request is fine.
// PKCE with S256 is required on every request.
std::string authorize_error(const AuthorizeParams& a);

// The sign-in page's `continue` as a path on this site to follow after signing in (the rest of
// the authorization request, say): "/" for anything else, characters browsers would not take as
// they are percent-encoded.
std::string safe_continue(std::string_view requested);

// Whether `verifier` (RFC 7636 §4.1: 43 to 128 unreserved characters) hashes to `challenge`.
bool pkce_s256_matches(std::string_view verifier, std::string_view challenge);

}  // namespace reach::relay
