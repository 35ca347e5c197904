// The OAuth 2 token and revocation endpoints (RFC 6749 §4.1.3, §6; RFC 7636; RFC 7009), and
// bearer-token authentication for the Web API.
//
// Grants: a consent creates a grant; its code, access tokens and refresh tokens all name it.
// Replaying a used code or a rotated refresh token revokes the whole grant (RFC 6819 §5.2.2.3).
#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"
#include "relay/internal.h"
#include "relay/oauth_params.h"

#include <fmt/format.h>

namespace reach::relay {
namespace {

// RFC 6749 §5.2 error response.
net::Response oauth_error(int status, std::string_view error, std::string_view description,
                          bool basic_challenge = false) {
  auto r = json_response(status, bj::object{{"error", error}, {"error_description", description}});
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
  if (status == 401)
    r.headers.set("WWW-Authenticate", basic_challenge ? "Basic realm=\"reach\"" : "Bearer");
  return r;
}

struct ClientAuth {
  std::string client_id;
  bool via_basic = false;
};

Result<Form> read_form(const net::Request& req) {
  return parse_form(req.headers.get("Content-Type").value_or(""), req.body);
}

// client_secret_basic or client_secret_post; an error response when it fails.
std::variant<ClientAuth, net::Response> authenticate_client(Ctx& ctx, const Form& f) {
  auto creds = client_credentials(ctx.req.headers.get("Authorization"), f);
  if (!creds)
    return oauth_error(creds.error().status, creds.error().code, creds.error().message,
                       creds.error().status == 401);
  const std::string& id = creds->id;
  const std::string& secret = creds->secret;
  bool basic = creds->via_basic;
  auto client = find_client(ctx.db(), id);
  if (!client) return oauth_error(500, "server_error", "The database failed.");
  if (!*client ||
      !crypto::constant_time_equal(crypto::sha256_hex(secret), (*client)->secret_hash)) {
    log::warn("relay.client_auth_failed", {{"client", id}, {"ip", ctx.req.remote_address}});
    return oauth_error(401, "invalid_client", "Client authentication failed.", basic);
  }
  return ClientAuth{id, basic};
}

struct Issued {
  std::string access, refresh;
};

Result<Issued> issue_tokens(Ctx& ctx, store::Session& s, const std::string& grant,
                            const std::string& account, std::int64_t now) {
  Issued out{crypto::random_token(32), crypto::random_token(32)};
  auto access_ms = ctx.svc.config.access_token_ttl.count() * 1000;
  auto refresh_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.svc.config.refresh_token_ttl)
          .count();
  if (auto r = insert_token(s, crypto::sha256_hex(out.access), "access", grant, account, now,
                            now + access_ms);
      !r)
    return r.error();
  if (auto r = insert_token(s, crypto::sha256_hex(out.refresh), "refresh", grant, account, now,
                            now + refresh_ms);
      !r)
    return r.error();
  return out;
}

net::Response token_response(Ctx& ctx, const Issued& t) {
  auto r = json_response(200, bj::object{{"access_token", t.access},
                                         {"token_type", "bearer"},
                                         {"expires_in", ctx.svc.config.access_token_ttl.count()},
                                         {"refresh_token", t.refresh}});
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
  return r;
}

// Outcome of a grant step decided inside a transaction.
struct GrantOutcome {
  std::optional<Issued> issued;
  std::string error;  // invalid_grant when set
  std::string description;
};

net::Response authorization_code_grant(Ctx& ctx, const ClientAuth& client, const Form& f) {
  auto get = [&](const char* k) {
    auto it = f.find(k);
    return it == f.end() ? std::string() : it->second;
  };
  std::string code = get("code");
  if (code.empty()) return oauth_error(400, "invalid_request", "The code is missing.");
  auto now = now_ms();
  GrantOutcome out;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto found = find_authorization_code(s, crypto::sha256_hex(code));
    if (!found) return found.error();
    if (!*found) {
      out.error = "invalid_grant";
      out.description = "The authorization code is not valid.";
      return {};
    }
    const AuthorizationCode& c = **found;
    const std::string& grant = c.grant_id;
    if (c.client_id != client.client_id) {
      out.error = "invalid_grant";
      out.description = "The authorization code was issued to another client.";
      return {};
    }
    if (c.used) {
      // A second use: someone replayed the code. Revoke what the first use issued.
      log::warn("relay.code_replayed", {{"grant", grant}, {"ip", ctx.req.remote_address}});
      out.error = "invalid_grant";
      out.description = "The authorization code was already used; its tokens are now revoked.";
      return revoke_grant(s, grant, now);
    }
    if (c.grant_revoked || c.expires_at <= now) {
      out.error = "invalid_grant";
      out.description = "The authorization code has expired.";
      return {};
    }
    if (get("redirect_uri") != c.redirect_uri) {
      out.error = "invalid_grant";
      out.description = "redirect_uri does not match the one of the authorization request.";
      return {};
    }
    // Every code carries an S256 challenge (codes from before that rule have none: refused).
    if (!c.code_challenge) {
      out.error = "invalid_grant";
      out.description = "The authorization code was issued without PKCE; authorize again.";
      return {};
    }
    if (!pkce_s256_matches(get("code_verifier"), *c.code_challenge)) {
      out.error = "invalid_grant";
      out.description = "The PKCE code_verifier is missing or does not match the code_challenge.";
      return {};
    }
    if (auto r = mark_code_used(s, crypto::sha256_hex(code), now); !r) return r;
    auto t = issue_tokens(ctx, s, grant, c.account_id, now);
    if (!t) return t.error();
    out.issued = std::move(*t);
    return {};
  });
  if (!st) return oauth_error(500, "server_error", st.error().message);
  if (!out.issued) return oauth_error(400, out.error, out.description);
  log::info("relay.token_issued",
            {{"client", client.client_id}, {"grant_type", "authorization_code"}});
  return token_response(ctx, *out.issued);
}

net::Response refresh_token_grant(Ctx& ctx, const ClientAuth& client, const Form& f) {
  auto it = f.find("refresh_token");
  if (it == f.end() || it->second.empty())
    return oauth_error(400, "invalid_request", "The refresh_token is missing.");
  std::string hash = crypto::sha256_hex(it->second);
  auto now = now_ms();
  GrantOutcome out;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto found = find_refresh_token(s, hash);
    if (!found) return found.error();
    if (!*found || (*found)->client_id != client.client_id) {
      out.error = "invalid_grant";
      out.description = "The refresh token is not valid.";
      return {};
    }
    const RefreshToken& t = **found;
    const std::string& grant = t.grant_id;
    if (t.used) {
      log::warn("relay.refresh_replayed", {{"grant", grant}, {"ip", ctx.req.remote_address}});
      out.error = "invalid_grant";
      out.description = "The refresh token was already used; the whole grant is now revoked.";
      return revoke_grant(s, grant, now);
    }
    if (t.revoked || t.expires_at <= now) {
      out.error = "invalid_grant";
      out.description = "The refresh token has expired or was revoked.";
      return {};
    }
    if (auto r = mark_token_used(s, hash, now); !r) return r;
    auto issued = issue_tokens(ctx, s, grant, t.account_id, now);
    if (!issued) return issued.error();
    out.issued = std::move(*issued);
    return {};
  });
  if (!st) return oauth_error(500, "server_error", st.error().message);
  if (!out.issued) return oauth_error(400, out.error, out.description);
  return token_response(ctx, *out.issued);
}

Result<net::Response> token(Ctx& ctx) {
  auto f = read_form(ctx.req);
  if (!f) return oauth_error(400, "invalid_request", f.error().message);
  auto client = authenticate_client(ctx, *f);
  if (auto* err = std::get_if<net::Response>(&client)) return std::move(*err);
  const auto& c = std::get<ClientAuth>(client);
  auto gt = f->find("grant_type");
  if (gt == f->end()) return oauth_error(400, "invalid_request", "grant_type is missing.");
  if (gt->second == "authorization_code") return authorization_code_grant(ctx, c, *f);
  if (gt->second == "refresh_token") return refresh_token_grant(ctx, c, *f);
  return oauth_error(400, "unsupported_grant_type",
                     "Only authorization_code and refresh_token are supported.");
}

// RFC 7009, plus the Web API's form: a bearer token revoking itself.
Result<net::Response> revoke(Ctx& ctx) {
  auto now = now_ms();
  if (auto bearer = net::bearer_token(ctx.req.headers)) {
    std::string hash = crypto::sha256_hex(*bearer);
    if (auto r = revoke_token(ctx.db(), hash, now, /*access_only=*/true); !r) return r.error();
    return net::Response::empty(200);
  }
  auto f = read_form(ctx.req);
  if (!f) return oauth_error(400, "invalid_request", f.error().message);
  auto client = authenticate_client(ctx, *f);
  if (auto* err = std::get_if<net::Response>(&client)) return std::move(*err);
  const auto& c = std::get<ClientAuth>(client);
  auto t = f->find("token");
  if (t == f->end() || t->second.empty())
    return oauth_error(400, "invalid_request", "The token to revoke is missing.");
  std::string hash = crypto::sha256_hex(t->second);
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto t = find_token_grant(s, hash);
    if (!t) return t.error();
    // Unknown tokens and other clients' tokens are answered 200 as well (RFC 7009 §2.2).
    if (!*t || (*t)->client_id != c.client_id) return {};
    if ((*t)->kind == "refresh") return revoke_grant(s, (*t)->grant_id, now);
    return revoke_token(s, hash, now);
  });
  if (!st) return oauth_error(500, "server_error", st.error().message);
  log::info("relay.token_revoked", {{"client", c.client_id}});
  auto r = net::Response::empty(200);
  r.headers.set("Cache-Control", "no-store");
  return r;
}

}  // namespace

Result<Account> account_from_bearer(Ctx& ctx) {
  auto token = net::bearer_token(ctx.req.headers);
  if (!token) return invalid_token("Send an access token: Authorization: Bearer <token>.");
  auto found = find_access_token(ctx.db(), crypto::sha256_hex(*token));
  if (!found) return found.error();
  return accept_access_token(*found, now_ms());
}

void register_oauth(net::Router& r, Services& svc) {
  r.add("POST", "/api/v1/oauth2/token", api_route(svc, token, false));
  r.add("POST", "/api/v1/oauth2/revoke", api_route(svc, revoke, false));
}

}  // namespace reach::relay
