#include "relay/oauth_store.h"

#include "common/strings.h"

namespace reach::relay {
namespace {

// The columns account_of() reads, from `first` on.
constexpr const char* kAccountColumns = "a.id, a.email, a.name, a.company_name";

Account account_of(const store::Row& r, std::size_t first = 0) {
  return Account{r.text(first), r.text(first + 1), r.text(first + 2), r.text(first + 3)};
}

}  // namespace

Result<std::optional<AuthorizationCode>> find_authorization_code(store::Session& s,
                                                                 const std::string& code_hash) {
  return store::query_one(
      s,
      "SELECT c.grant_id, c.redirect_uri, c.code_challenge, c.expires_at, c.used_at,"
      " g.client_id, g.account_id, g.revoked_at FROM oauth_codes c"
      " JOIN oauth_grants g ON g.id = c.grant_id WHERE c.code_hash = ?",
      {code_hash}, [](const store::Row& r) {
        AuthorizationCode c;
        c.grant_id = r.text(0);
        c.redirect_uri = r.text(1);
        c.code_challenge = r.opt_text(2);
        c.expires_at = r.integer(3);
        c.used = !r.null(4);
        c.client_id = r.text(5);
        c.account_id = r.text(6);
        c.grant_revoked = !r.null(7);
        return c;
      });
}

Status mark_code_used(store::Session& s, const std::string& code_hash, std::int64_t now) {
  return store::exec_ok(s, "UPDATE oauth_codes SET used_at = ? WHERE code_hash = ?",
                        {now, code_hash});
}

Result<std::optional<RefreshToken>> find_refresh_token(store::Session& s,
                                                       const std::string& token_hash) {
  return store::query_one(
      s,
      "SELECT t.grant_id, t.account_id, t.expires_at, t.used_at, t.revoked_at, g.client_id"
      " FROM tokens t JOIN oauth_grants g ON g.id = t.grant_id"
      " WHERE t.token_hash = ? AND t.kind = 'refresh'",
      {token_hash}, [](const store::Row& r) {
        RefreshToken t;
        t.grant_id = r.text(0);
        t.account_id = r.text(1);
        t.expires_at = r.integer(2);
        t.used = !r.null(3);
        t.revoked = !r.null(4);
        t.client_id = r.text(5);
        return t;
      });
}

Status mark_token_used(store::Session& s, const std::string& token_hash, std::int64_t now) {
  return store::exec_ok(s, "UPDATE tokens SET used_at = ? WHERE token_hash = ?", {now, token_hash});
}

Result<std::optional<AccessToken>> find_access_token(store::Session& s,
                                                     const std::string& token_hash) {
  return store::query_one(s,
                          std::string("SELECT ") + kAccountColumns +
                              ", t.expires_at, t.revoked_at FROM tokens t"
                              " JOIN accounts a ON a.id = t.account_id"
                              " WHERE t.token_hash = ? AND t.kind <> 'refresh'",
                          {token_hash}, [](const store::Row& r) {
                            return AccessToken{account_of(r), r.integer(4), !r.null(5)};
                          });
}

Result<Account> accept_access_token(const std::optional<AccessToken>& t, std::int64_t now) {
  if (!t)
    return make_error(Errc::unauthenticated, "invalid_token", "The access token is not valid.");
  if (t->revoked)
    return make_error(Errc::unauthenticated, "invalid_token", "The access token was revoked.");
  if (t->expires_at <= now)
    return make_error(Errc::unauthenticated, "token_expired",
                      "The access token has expired; refresh it.");
  return t->account;
}

Result<std::optional<Account>> find_web_session(store::Session& s, const std::string& token_hash,
                                                std::int64_t now) {
  return store::query_one(s,
                          std::string("SELECT ") + kAccountColumns +
                              " FROM web_sessions w JOIN accounts a ON a.id = w.account_id"
                              " WHERE w.token_hash = ? AND w.expires_at > ?",
                          {token_hash, now}, [](const store::Row& r) { return account_of(r); });
}

Result<std::optional<AccountCredential>> find_account_credential(store::Session& s,
                                                                 const std::string& email) {
  return store::query_one(s, "SELECT id, password_hash FROM accounts WHERE email_key = ?",
                          {to_lower(email)}, [](const store::Row& r) {
                            return AccountCredential{r.text(0), r.text(1)};
                          });
}

Result<std::int64_t> count_accounts(store::Session& s) {
  return store::query_int(s, "SELECT COUNT(*) FROM accounts");
}

Status insert_account(store::Session& s, const std::string& id, const std::string& email,
                      const std::string& name, const std::string& company_name,
                      const std::string& password_hash, std::int64_t created_at) {
  return store::exec_ok(
      s,
      "INSERT INTO accounts (id, email, email_key, name, company_name, password_hash, created_at)"
      " VALUES (?, ?, ?, ?, ?, ?, ?)",
      {id, email, to_lower(email), name, company_name, password_hash, created_at});
}

Result<std::optional<OAuthClient>> find_client(store::Session& s, const std::string& client_id) {
  return store::query_one(
      s, "SELECT client_id, name, redirect_uri, secret_hash FROM oauth_clients WHERE client_id = ?",
      {client_id}, [](const store::Row& r) {
        return OAuthClient{r.text(0), r.text(1), r.text(2), r.text(3)};
      });
}

Status insert_client(store::Session& s, const OAuthClient& c, std::int64_t created_at) {
  return store::exec_ok(s,
                        "INSERT INTO oauth_clients (client_id, secret_hash, name, redirect_uri,"
                        " created_at) VALUES (?, ?, ?, ?, ?)",
                        {c.client_id, c.secret_hash, c.name, c.redirect_uri, created_at});
}

Status insert_grant(store::Session& s, const std::string& grant_id, const std::string& client_id,
                    const std::string& account_id, std::int64_t created_at) {
  return store::exec_ok(
      s, "INSERT INTO oauth_grants (id, client_id, account_id, created_at) VALUES (?, ?, ?, ?)",
      {grant_id, client_id, account_id, created_at});
}

Status insert_authorization_code(store::Session& s, const std::string& code_hash,
                                 const std::string& grant_id, const std::string& redirect_uri,
                                 const std::optional<std::string>& code_challenge,
                                 std::int64_t created_at, std::int64_t expires_at) {
  return store::exec_ok(
      s,
      "INSERT INTO oauth_codes (code_hash, grant_id, redirect_uri, code_challenge,"
      " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
      {code_hash, grant_id, redirect_uri, code_challenge, created_at, expires_at});
}

Status insert_token(store::Session& s, const std::string& token_hash, std::string_view kind,
                    const std::optional<std::string>& grant_id, const std::string& account_id,
                    std::int64_t created_at, std::int64_t expires_at) {
  return store::exec_ok(s,
                        "INSERT INTO tokens (token_hash, kind, grant_id, account_id, created_at,"
                        " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                        {token_hash, kind, grant_id, account_id, created_at, expires_at});
}

Result<std::optional<TokenGrant>> find_token_grant(store::Session& s,
                                                   const std::string& token_hash) {
  return store::query_one(s,
                          "SELECT t.kind, t.grant_id, g.client_id FROM tokens t"
                          " JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = ?",
                          {token_hash}, [](const store::Row& r) {
                            return TokenGrant{r.text(0), r.text(1), r.text(2)};
                          });
}

Status revoke_token(store::Session& s, const std::string& token_hash, std::int64_t now,
                    bool access_only) {
  return store::exec_ok(s,
                        access_only ? "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND"
                                      " revoked_at IS NULL AND kind <> 'refresh'"
                                    : "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND"
                                      " revoked_at IS NULL",
                        {now, token_hash});
}

Status revoke_grant(store::Session& s, const std::string& grant_id, std::int64_t now) {
  if (auto r = store::exec_ok(
          s, "UPDATE oauth_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
          {now, grant_id});
      !r)
    return r;
  return store::exec_ok(
      s, "UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL",
      {now, grant_id});
}

Result<std::int64_t> revoke_client_grants(store::Session& s, const std::string& client_id,
                                          std::int64_t now) {
  auto t = s.exec(
      "UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND grant_id IN"
      " (SELECT id FROM oauth_grants WHERE client_id = ? AND revoked_at IS NULL)",
      {now, client_id});
  if (!t) return t.error();
  return s.exec("UPDATE oauth_grants SET revoked_at = ? WHERE client_id = ? AND revoked_at IS NULL",
                {now, client_id});
}

Status insert_web_session(store::Session& s, const std::string& token_hash,
                          const std::string& account_id, std::int64_t now,
                          std::int64_t expires_at) {
  if (auto r = store::exec_ok(s,
                              "INSERT INTO web_sessions (token_hash, account_id, created_at,"
                              " expires_at) VALUES (?, ?, ?, ?)",
                              {token_hash, account_id, now, expires_at});
      !r)
    return r;
  // Expired sessions are swept here rather than by a timer.
  return store::exec_ok(s, "DELETE FROM web_sessions WHERE expires_at <= ?", {now});
}

Status delete_web_session(store::Session& s, const std::string& token_hash) {
  return store::exec_ok(s, "DELETE FROM web_sessions WHERE token_hash = ?", {token_hash});
}

}  // namespace reach::relay
