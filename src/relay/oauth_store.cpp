#include "relay/oauth_store.h"

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

Result<std::optional<Account>> find_web_session(store::Session& s, const std::string& token_hash,
                                                std::int64_t now) {
  return store::query_one(s,
                          std::string("SELECT ") + kAccountColumns +
                              " FROM web_sessions w JOIN accounts a ON a.id = w.account_id"
                              " WHERE w.token_hash = ? AND w.expires_at > ?",
                          {token_hash, now}, [](const store::Row& r) { return account_of(r); });
}

}  // namespace reach::relay
