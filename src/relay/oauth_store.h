// The relay's accounts and OAuth grants as a store: authorization codes, refresh and access
// tokens, and the portal's sign-in sessions, each looked up by the SHA-256 of its secret (the
// secret itself is never stored) and mapped to a struct in one place. The rules (expiry, replay,
// PKCE, which client) stay with the OAuth handlers.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reach::relay {

struct Account {
  std::string id, email, name, company_name;
};

// An authorization code with its grant.
struct AuthorizationCode {
  std::string grant_id, redirect_uri;
  std::optional<std::string> code_challenge;  // S256; none on codes from before PKCE was required
  std::int64_t expires_at = 0;
  bool used = false;
  std::string client_id, account_id;  // the grant's
  bool grant_revoked = false;
};
Result<std::optional<AuthorizationCode>> find_authorization_code(store::Session& s,
                                                                 const std::string& code_hash);
Status mark_code_used(store::Session& s, const std::string& code_hash, std::int64_t now);

// A refresh token with its grant's client.
struct RefreshToken {
  std::string grant_id, account_id, client_id;
  std::int64_t expires_at = 0;
  bool used = false, revoked = false;
};
Result<std::optional<RefreshToken>> find_refresh_token(store::Session& s,
                                                       const std::string& token_hash);
Status mark_token_used(store::Session& s, const std::string& token_hash, std::int64_t now);

// An access token (any kind but refresh) and whose it is.
struct AccessToken {
  Account account;
  std::int64_t expires_at = 0;
  bool revoked = false;
};
Result<std::optional<AccessToken>> find_access_token(store::Session& s,
                                                     const std::string& token_hash);

// The account of a portal sign-in session still valid at `now`.
Result<std::optional<Account>> find_web_session(store::Session& s, const std::string& token_hash,
                                                std::int64_t now);

}  // namespace reach::relay
