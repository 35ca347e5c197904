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
#include <string_view>

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
// The rule a presented access token is accepted by, at `now`: its account, or why not (unknown,
// revoked: invalid_token; past its expiry: token_expired, so the client refreshes).
Result<Account> accept_access_token(const std::optional<AccessToken>& t, std::int64_t now);

// The account of a portal sign-in session still valid at `now`.
Result<std::optional<Account>> find_web_session(store::Session& s, const std::string& token_hash,
                                                std::int64_t now);

// --- accounts

// An account's id and password hash by email (case-insensitive), for a sign-in.
struct AccountCredential {
  std::string id, password_hash;
};
Result<std::optional<AccountCredential>> find_account_credential(store::Session& s,
                                                                 const std::string& email);
Result<std::int64_t> count_accounts(store::Session& s);
// conflict when the email has an account (case-insensitively).
Status insert_account(store::Session& s, const std::string& id, const std::string& email,
                      const std::string& name, const std::string& company_name,
                      const std::string& password_hash, std::int64_t created_at);

// --- OAuth clients (applications registered by `reach-relay client add`)

struct OAuthClient {
  std::string client_id, name, redirect_uri;
  std::string secret_hash;  // the client secret's SHA-256, hex
};
Result<std::optional<OAuthClient>> find_client(store::Session& s, const std::string& client_id);
Status insert_client(store::Session& s, const OAuthClient& c, std::int64_t created_at);

// --- grants, codes and tokens

// A grant of `client_id` on `account_id`, and its first authorization code.
Status insert_grant(store::Session& s, const std::string& grant_id, const std::string& client_id,
                    const std::string& account_id, std::int64_t created_at);
Status insert_authorization_code(store::Session& s, const std::string& code_hash,
                                 const std::string& grant_id, const std::string& redirect_uri,
                                 const std::optional<std::string>& code_challenge,
                                 std::int64_t created_at, std::int64_t expires_at);

// kind: "access" or "refresh" (of `grant_id`), or "script" (no grant).
Status insert_token(store::Session& s, const std::string& token_hash, std::string_view kind,
                    const std::optional<std::string>& grant_id, const std::string& account_id,
                    std::int64_t created_at, std::int64_t expires_at);

// A token's kind, grant and the grant's client (for revocation by a client, RFC 7009).
struct TokenGrant {
  std::string kind, grant_id, client_id;
};
Result<std::optional<TokenGrant>> find_token_grant(store::Session& s,
                                                   const std::string& token_hash);
// Revokes one token (not already revoked); `access_only` leaves refresh tokens alone.
Status revoke_token(store::Session& s, const std::string& token_hash, std::int64_t now,
                    bool access_only = false);
// Revokes a grant and every token issued under it.
Status revoke_grant(store::Session& s, const std::string& grant_id, std::int64_t now);
// Revokes every live grant of a client and their tokens; how many grants.
Result<std::int64_t> revoke_client_grants(store::Session& s, const std::string& client_id,
                                          std::int64_t now);

// --- portal sign-in sessions

// A sign-in session until `expires_at`; expired ones are swept.
Status insert_web_session(store::Session& s, const std::string& token_hash,
                          const std::string& account_id, std::int64_t now, std::int64_t expires_at);
Status delete_web_session(store::Session& s, const std::string& token_hash);

}  // namespace reach::relay
