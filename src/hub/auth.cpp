// Sign-in to a cookie session, sign-out, and the caller's own identity (/me).
#include "common/crypto.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time.h"
#include "hub/internal.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace reach::hub {
namespace {

constexpr const char* kCookie = "reach_session";

// A hash of a random password, computed once: verifying against it costs what a real check
// costs, so an unknown email answers no faster than a wrong password.
const std::string& dummy_hash() {
  static const std::string kHash = crypto::password_hash(crypto::random_token(16));
  return kHash;
}

Result<net::Response> signin(Ctx& ctx) {
  auto& req = ctx.req;
  // Login CSRF: another site must not sign a browser in to an account of its choosing.
  if (cross_site(req)) return forbidden("Sign in from the admin center, not from another site.");
  std::string email, password;
  auto ctype = req.headers.get("Content-Type").value_or("");
  if (ctype.starts_with("application/x-www-form-urlencoded")) {
    for (auto& [k, v] : net::parse_query(req.body)) {
      if (k == "email") email = v;
      if (k == "password") password = v;
    }
  } else {
    auto body = json::parse_object(req.body);
    if (!body) return body.error();
    if (auto st = json::only_keys(*body, {"email", "password"}); !st) return st.error();
    auto e = json::req_string(*body, "email");
    if (!e) return e.error();
    auto p = json::req_string(*body, "password");
    if (!p) return p.error();
    email = std::move(*e);
    password = std::move(*p);
  }
  if (email.empty() || password.empty())
    return bad_request("Both email and password are required.");
  if (email.size() > 320 || password.size() > 1024)
    return bad_request("The email or password is too long.");

  std::string email_key = "email:" + to_lower(email);
  std::string addr_key = "addr:" + client_key(req.remote_address);
  auto now = now_ms();
  // The client that failed is refused; the account that was failed at is only slowed, so that
  // failures from elsewhere never refuse its owner's right password (common/throttle.h).
  auto wait = ctx.svc.signin_by_address.wait_ms(addr_key, now);
  if (wait > 0) {
    ++ctx.svc.metrics.signins_throttled;
    // A flood of refused attempts is written down once per client and wait, not once each.
    if (ctx.svc.signin_by_address.first_refusal(addr_key, now)) {
      log::warn("auth.signin_throttled", {{"email", email}, {"ip", req.remote_address}});
      audit_now(ctx, {"signIn", "failure", "user", "", email, bj::object{{"reason", "throttled"}}});
    }
    auto resp = graph_error(make_error(Errc::throttled, "tooManyRequests",
                                       "Too many failed sign-ins. Wait before trying again."),
                            ctx.request_id);
    resp.headers.set("Retry-After", std::to_string((wait + 999) / 1000));
    return resp;
  }
  auto slowing = std::chrono::milliseconds(
      account_slowing_ms(ctx.svc.signin_by_email.wait_ms(email_key, now)));

  auto found = find_credential(ctx.db(), email);
  if (!found) return found.error();
  bool ok = false;
  if (!*found || !(*found)->password_hash) {
    (void)crypto::password_verify(dummy_hash(), password);
  } else {
    ok = crypto::password_verify(*(*found)->password_hash, password) &&
         (*found)->user.account_enabled;
  }
  if (!ok) {
    ctx.svc.signin_by_email.failure(email_key, now);
    ctx.svc.signin_by_address.failure(addr_key, now);
    ++ctx.svc.metrics.signins_failed;
    log::warn("auth.signin_failed", {{"email", email}, {"ip", req.remote_address}});
    audit_now(ctx,
              {"signIn", "failure", "user", "", email, bj::object{{"reason", "badCredentials"}}});
    auto resp = graph_error(unauthenticated("The email or password is not right."), ctx.request_id);
    resp.delay = slowing;
    return resp;
  }
  // The owner's success ends the slowing of the account. The client's failures stay until they
  // age out: a success of its own (any account it holds) must not buy it a new guessing budget.
  ctx.svc.signin_by_email.success(email_key);
  const User& user = (*found)->user;
  std::string token = crypto::random_token(32);
  auto lifetime_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.svc.config.session_lifetime)
          .count();
  ctx.principal =
      Principal{user.id, user.display_name, user.user_principal_name, user.licensed, true};
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r =
            insert_signin_session(s, crypto::sha256_hex(token), user.id, now, now + lifetime_ms);
        !r)
      return r;
    return audit(s, ctx, {"signIn", "success", "user", user.id, user.user_principal_name, {}});
  });
  if (!st) return st.error();
  ++ctx.svc.metrics.signins_ok;
  log::info("auth.signin", {{"user", user.id}, {"ip", req.remote_address}});
  auto resp = json_response(200, bj::object{{"id", user.id},
                                            {"displayName", user.display_name},
                                            {"userPrincipalName", user.user_principal_name}});
  resp.delay = slowing;  // a quick answer would tell a guesser that this one was right
  resp.headers.add("Set-Cookie",
                   fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kCookie,
                               token, lifetime_ms / 1000, ctx.req.tls ? "; Secure" : ""));
  return resp;
}

Result<net::Response> signout(Ctx& ctx) {
  auto cookie = ctx.req.cookie(kCookie);
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (cookie)
      if (auto r = delete_signin_session(s, crypto::sha256_hex(*cookie)); !r) return r;
    return audit(s, ctx, {"signOut", "success", "user", ctx.who().user_id, ctx.who().upn, {}});
  });
  if (!st) return st.error();
  auto resp = net::Response::empty(204);
  resp.headers.add("Set-Cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
                                             kCookie, ctx.req.tls ? "; Secure" : ""));
  return resp;
}

Result<net::Response> me(Ctx& ctx) {
  auto row = find_user(ctx.db(), ctx.who().user_id);
  if (!row) return row.error();
  return entity_response(ctx, user_json(*row), "users/$entity");
}

// What the caller may do, for a user interface that hides what would be refused (it never
// replaces the check each request makes). An unlicensed caller in an organisation that does not
// allow unlicensed administrators holds nothing, and is told why.
Result<net::Response> my_permissions(Ctx& ctx) {
  bj::array actions;
  std::string blocked;
  auto usable = find_grant(ctx, actions::kDevicesRead);  // any action: the licence check
  if (!usable && usable.error().kind == Errc::forbidden) {
    blocked = usable.error().message;
  } else if (!usable) {
    return usable.error();
  } else {
    // find_grant read every grant the caller holds, not only that one.
    for (const auto& [action, grant] : *ctx.grants)
      actions.push_back(bj::object{{"action", action},
                                   {"allDevices", grant.all_devices},
                                   {"licensedUsers", grant.licensed_users},
                                   {"scopeGroups", bj::value_from(grant.scope_groups)}});
  }
  bj::object out{{"id", ctx.who().user_id},
                 {"displayName", ctx.who().display_name},
                 {"userPrincipalName", ctx.who().upn},
                 {"actions", std::move(actions)}};
  if (!blocked.empty()) out["blockedReason"] = blocked;
  return json_response(200, out);
}

}  // namespace

void register_auth_routes(Routes& r) {
  r.api("GET", "/api/me/permissions", my_permissions);
  r.api("POST", "/api/auth/signin", signin, Auth::none);
  r.api("POST", "/api/auth/signout", signout);
  r.graph("GET", "/me", me);
}

}  // namespace reach::hub
