// The relay's web pages: sign-in and sign-out, the OAuth authorize and consent pages, the portal
// where a supporter creates and closes sessions by hand, and the viewer page behind a supporter
// link. Pages are plain HTML forms that work without JavaScript (the viewer needs it for noVNC).
//
// CSRF: every form carries a token that must equal the `reach_csrf` cookie (double submit); the
// session cookie is HttpOnly and SameSite=Strict.
#include "common/crypto.h"
#include "common/html.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time.h"
#include "relay/codes.h"
#include "relay/internal.h"
#include "relay/oauth_params.h"
#include "relay/page_text.h"
#include "relay/pairing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace reach::relay {
namespace {

constexpr const char* kSessionCookie = "reach_relay_session";
constexpr const char* kCsrfCookie = "reach_csrf";

std::string cookie_attrs(const Ctx& ctx) {
  return std::string("; Path=/; HttpOnly; SameSite=Strict") + (ctx.req.tls ? "; Secure" : "");
}

// The CSRF token of this browser, created (and set on `resp`) when it has none.
std::string csrf_token(Ctx& ctx, net::Response& resp) {
  if (auto c = ctx.req.cookie(kCsrfCookie); c && c->size() == 32) return *c;
  std::string t = crypto::random_token(24);
  resp.headers.add("Set-Cookie", std::string(kCsrfCookie) + "=" + t + cookie_attrs(ctx));
  return t;
}

std::map<std::string, std::string> form_fields(const net::Request& req) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : net::parse_query(req.body)) out[k] = v;
  return out;
}

Status check_form(Ctx& ctx, const std::map<std::string, std::string>& f) {
  auto ct = ctx.req.headers.get("Content-Type").value_or("");
  if (!ct.starts_with("application/x-www-form-urlencoded"))
    return bad_request("This page takes a form (application/x-www-form-urlencoded).");
  auto cookie = ctx.req.cookie(kCsrfCookie);
  auto it = f.find("csrf");
  if (!cookie || it == f.end() || !crypto::constant_time_equal(*cookie, it->second))
    return make_error(Errc::forbidden, "invalid_permission",
                      "This form has expired or did not come from this site. Reload the page "
                      "and try again.");
  return {};
}

// The page's text in its language, as it goes into HTML (escaped unless it is markup of ours).
std::string tx(Lang lang, T id) {
  return std::string(text(lang, id));
}
// A session's state as the page says it.
std::string state_text(Lang lang, std::string_view state) {
  if (state == "open") return tx(lang, T::state_open);
  if (state == "closed") return tx(lang, T::state_closed);
  return html::escape(state);
}
template <typename... A>
std::string txf(Lang lang, T id, A&&... args) {
  return fmt::format(fmt::runtime(text(lang, id)), std::forward<A>(args)...);
}

std::string hidden(std::string_view name, std::string_view value) {
  return fmt::format("<input type=hidden name=\"{}\" value=\"{}\">", html::escape(name),
                     html::escape(value));
}

// ---------------------------------------------------------------- sign-in

net::Response signin_page(Ctx& ctx, int status, std::string_view cont, std::string_view error,
                          std::string_view email = "") {
  net::Response scratch;
  std::string csrf = csrf_token(ctx, scratch);
  Lang L = page_language(ctx.req);
  std::string body = fmt::format(
      "<h1>{}</h1>{}"
      "<form method=post action=\"/signin\" class=card>{}{}"
      "<label>{} <input name=email type=email autocomplete=username required value=\"{}\">"
      "</label><label>{} <input name=password type=password "
      "autocomplete=current-password required></label>"
      "<button type=submit>{}</button></form>",
      tx(L, T::signin_heading),
      error.empty() ? "" : fmt::format("<p class=error role=alert>{}</p>", html::escape(error)),
      hidden("csrf", csrf), hidden("continue", cont), tx(L, T::email), html::escape(email),
      tx(L, T::password), tx(L, T::signin_button));
  auto r = html_page(status, tx(L, T::signin_title), body, L);
  for (const auto& [k, v] : scratch.headers.items()) r.headers.add(k, v);
  return r;
}

Result<net::Response> get_signin(Ctx& ctx) {
  return signin_page(ctx, 200, safe_continue(ctx.req.query_param("continue").value_or("/")), "");
}

// A hash of a random password, so that an unknown email costs what a wrong password costs.
const std::string& dummy_hash() {
  static const std::string kHash = crypto::password_hash(crypto::random_token(16));
  return kHash;
}

Result<net::Response> post_signin(Ctx& ctx) {
  auto f = form_fields(ctx.req);
  std::string cont = safe_continue(f["continue"]);
  if (auto st = check_form(ctx, f); !st)
    return signin_page(ctx, st.error().status, cont, st.error().message);
  std::string email = f["email"], password = f["password"];
  if (email.empty() || password.empty() || email.size() > 320 || password.size() > 1024)
    return signin_page(ctx, 400, cont, tx(page_language(ctx.req), T::signin_missing), email);
  auto now = now_ms();
  std::string ek = "email:" + to_lower(email), ak = "addr:" + client_key(ctx.req.remote_address);
  // The client that failed is refused; the account that was failed at is only slowed, so that
  // failures from elsewhere never refuse its owner's right password (common/throttle.h).
  auto wait = ctx.svc.signin_by_address.wait_ms(ak, now);
  if (wait > 0) {
    log::warn("relay.signin_throttled", {{"email", email}, {"ip", ctx.req.remote_address}});
    auto r =
        signin_page(ctx, 429, cont,
                    txf(page_language(ctx.req), T::signin_throttled, (wait + 999) / 1000), email);
    r.headers.set("Retry-After", std::to_string((wait + 999) / 1000));
    return r;
  }
  auto slowing =
      std::chrono::milliseconds(account_slowing_ms(ctx.svc.signin_by_email.wait_ms(ek, now)));
  auto found = find_account_credential(ctx.db(), email);
  if (!found) return found.error();
  bool ok = false;
  if (!*found) {
    (void)crypto::password_verify(dummy_hash(), password);
  } else {
    ok = crypto::password_verify((*found)->password_hash, password);
  }
  if (!ok) {
    ctx.svc.signin_by_email.failure(ek, now);
    ctx.svc.signin_by_address.failure(ak, now);
    log::warn("relay.signin_failed", {{"email", email}, {"ip", ctx.req.remote_address}});
    auto r = signin_page(ctx, 401, cont, tx(page_language(ctx.req), T::signin_wrong), email);
    r.delay = slowing;
    return r;
  }
  // The owner's success ends the slowing of the account; the client's failures stay until they
  // age out (a success of its own must not buy it a new guessing budget).
  ctx.svc.signin_by_email.success(ek);
  std::string token = crypto::random_token(32);
  auto ttl =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.svc.config.web_session_ttl).count();
  const std::string& account = (*found)->id;
  auto st = ctx.db().transaction([&](store::Session& s) {
    return insert_web_session(s, crypto::sha256_hex(token), account, now, now + ttl);
  });
  if (!st) return st.error();
  log::info("relay.signin", {{"account", account}, {"ip", ctx.req.remote_address}});
  auto r = redirect(303, cont);
  r.delay = slowing;  // a quick answer would tell a guesser that this one was right
  r.headers.add("Set-Cookie", fmt::format("{}={}{}; Max-Age={}", kSessionCookie, token,
                                          cookie_attrs(ctx), ttl / 1000));
  return r;
}

Result<net::Response> post_signout(Ctx& ctx) {
  auto f = form_fields(ctx.req);
  if (auto st = check_form(ctx, f); !st) return st.error();
  if (auto c = ctx.req.cookie(kSessionCookie))
    (void)delete_web_session(ctx.db(), crypto::sha256_hex(*c));
  auto r = redirect(303, "/signin");
  r.headers.add("Set-Cookie", fmt::format("{}={}; Max-Age=0", kSessionCookie, cookie_attrs(ctx)));
  return r;
}

// ---------------------------------------------------------------- OAuth authorize + consent

struct AuthorizeRequest : AuthorizeParams {
  std::string client_name;
};

// Validates the client and redirect first: until both are right nothing may redirect.
Result<AuthorizeRequest> read_authorize(Ctx& ctx, const std::map<std::string, std::string>& p) {
  AuthorizeRequest a{authorize_params(p), {}};
  if (a.client_id.empty()) return bad_request("The request names no application (client_id).");
  auto client = find_client(ctx.db(), a.client_id);
  if (!client) return client.error();
  if (!*client) return bad_request("The application asking for access is not registered here.");
  if (a.redirect_uri != (*client)->redirect_uri)
    return bad_request(
        "The return address (redirect_uri) does not match the application's "
        "registered one, so Reach will not send you there.");
  a.client_name = (*client)->name;
  return a;
}

std::string with_query(std::string uri, const std::vector<std::pair<std::string, std::string>>& q) {
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [k, v] : q) {
    if (v.empty() && k == "state") continue;
    uri += sep;
    uri += net::percent_encode(k) + "=" + net::percent_encode(v);
    sep = '&';
  }
  return uri;
}

std::map<std::string, std::string> query_map(const net::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.query) out[k] = v;
  return out;
}

net::Response consent_page(Ctx& ctx, const AuthorizeRequest& a) {
  net::Response scratch;
  std::string csrf = csrf_token(ctx, scratch);
  std::string fields = hidden("csrf", csrf) + hidden("client_id", a.client_id) +
                       hidden("redirect_uri", a.redirect_uri) + hidden("state", a.state) +
                       hidden("response_type", a.response_type) +
                       hidden("code_challenge", a.code_challenge) +
                       hidden("code_challenge_method", a.method);
  Lang L = page_language(ctx.req);
  std::string body = fmt::format(
      "<h1>{}</h1><div class=card><p>{}</p><p class=muted>{}</p>"
      "<form method=post action=\"/oauth2/authorize\">{}"
      "<button type=submit name=decision value=allow>{}</button> "
      "<button type=submit name=decision value=deny class=secondary>{}</button>"
      "</form></div>",
      tx(L, T::consent_heading), txf(L, T::consent_wants, html::escape(a.client_name)),
      txf(L, T::consent_signed_in, html::escape(ctx.account->email)), fields, tx(L, T::allow),
      tx(L, T::deny));
  auto r = html_page(200, tx(L, T::consent_title), body, L);
  for (const auto& [k, v] : scratch.headers.items()) r.headers.add(k, v);
  return r;
}

Result<net::Response> get_authorize(Ctx& ctx) {
  auto a = read_authorize(ctx, query_map(ctx.req));
  if (!a) return a.error();  // an error page, never a redirect
  if (auto e = authorize_error(*a); !e.empty())
    return redirect(302, with_query(a->redirect_uri, {{"error", e}, {"state", a->state}}));
  if (!ctx.account) {
    // Not signed in: the sign-in page continues to this very request.
    return signin_page(ctx, 200, ctx.req.target, "");
  }
  return consent_page(ctx, *a);
}

Result<net::Response> post_authorize(Ctx& ctx) {
  auto f = form_fields(ctx.req);
  auto a = read_authorize(ctx, f);
  if (!a) return a.error();
  if (auto st = check_form(ctx, f); !st) return st.error();
  if (!ctx.account) return signin_page(ctx, 401, "/", tx(page_language(ctx.req), T::sign_in_first));
  if (auto e = authorize_error(*a); !e.empty())
    return redirect(302, with_query(a->redirect_uri, {{"error", e}, {"state", a->state}}));
  if (f["decision"] != "allow") {
    log::info("relay.consent_denied", {{"account", ctx.account->id}, {"client", a->client_id}});
    return redirect(302,
                    with_query(a->redirect_uri, {{"error", "access_denied"}, {"state", a->state}}));
  }
  std::string code = crypto::random_token(32);
  auto now = now_ms();
  auto ttl =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.svc.config.auth_code_ttl).count();
  std::string grant = crypto::uuid_v4();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = insert_grant(s, grant, a->client_id, ctx.account->id, now); !r) return r;
    return insert_authorization_code(
        s, crypto::sha256_hex(code), grant, a->redirect_uri,
        a->code_challenge.empty() ? std::nullopt : std::optional<std::string>(a->code_challenge),
        now, now + ttl);
  });
  if (!st) return st.error();
  log::info("relay.consent_granted", {{"account", ctx.account->id}, {"client", a->client_id}});
  return redirect(302, with_query(a->redirect_uri, {{"code", code}, {"state", a->state}}));
}

// ---------------------------------------------------------------- portal

// "2026-11-21 14:36 UTC" for tables.
std::string short_time(std::int64_t ms) {
  std::string t = iso8601(ms).substr(0, 16);
  t[10] = ' ';
  return t + " UTC";
}

std::string session_rows(Ctx& ctx, const std::string& csrf) {
  auto page = relay::list_sessions(ctx.db(), SessionQuery{ctx.account->id}, 200);
  Lang L = page_language(ctx.req);
  if (!page || page->sessions.empty()) return "<p class=muted>" + tx(L, T::no_sessions) + "</p>";
  std::string out = fmt::format(
      "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
      "<th>{}</th><th></th></tr></thead><tbody>",
      tx(L, T::col_code), tx(L, T::col_state), tx(L, T::col_description), tx(L, T::col_customer),
      tx(L, T::col_created));
  for (const auto& r : page->sessions) {
    const std::string& code = r.code;
    std::string action;
    if (r.open())
      action = fmt::format(
          "<a href=\"/portal/sessions/{0}\">{2}</a> "
          "<form method=post action=\"/portal/sessions/{0}/close\" class=inline>{1}"
          "<button type=submit class=secondary>{3}</button></form>",
          code, hidden("csrf", csrf), tx(L, T::open), tx(L, T::close));
    out += fmt::format(
        "<tr><td class=code>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td></tr>",
        display_code(code), state_text(L, r.state), html::escape(r.description),
        html::escape(r.end_customer_name.value_or("")), short_time(r.created_at), action);
  }
  return out + "</tbody></table>";
}

Result<net::Response> portal(Ctx& ctx) {
  if (!ctx.account) return redirect(303, "/signin?continue=%2F");
  net::Response scratch;
  std::string csrf = csrf_token(ctx, scratch);
  Lang L = page_language(ctx.req);
  std::string body = fmt::format(
      "<div class=bar><span>{}</span><form method=post action=\"/signout\" "
      "class=inline>{}<button type=submit class=secondary>{}</button></form></div>"
      "<h1>{}</h1><form method=post action=\"/portal/sessions\" class=card>"
      "<h2>{}</h2>{}<label>{} <input name=description maxlength=200 "
      "placeholder=\"{}\"></label><label>{} <input "
      "name=customer_name maxlength=100></label><label>{} <input name=customer_email "
      "type=email maxlength=254></label><button type=submit>{}</button></form>{}",
      txf(L, T::signed_in_as, html::escape(ctx.account->email)), hidden("csrf", csrf),
      tx(L, T::sign_out), tx(L, T::sessions_title), tx(L, T::new_session), hidden("csrf", csrf),
      tx(L, T::description), tx(L, T::description_hint), tx(L, T::customer_name),
      tx(L, T::customer_email), tx(L, T::create_session), session_rows(ctx, csrf));
  auto r = html_page(200, tx(L, T::sessions_title), body, L);
  for (const auto& [k, v] : scratch.headers.items()) r.headers.add(k, v);
  return r;
}

Result<net::Response> portal_create(Ctx& ctx) {
  if (!ctx.account) return redirect(303, "/signin?continue=%2F");
  auto f = form_fields(ctx.req);
  if (auto st = check_form(ctx, f); !st) return st.error();
  bj::object body{{"groupname", "Portal"}, {"description", f["description"]}};
  if (!f["customer_name"].empty() || !f["customer_email"].empty()) {
    bj::object ec;
    if (!f["customer_name"].empty()) ec["name"] = f["customer_name"];
    if (!f["customer_email"].empty()) ec["email"] = f["customer_email"];
    body["end_customer"] = std::move(ec);
  }
  auto s = create_session(ctx, *ctx.account, body, /*code_join=*/true);
  if (!s) return s.error();
  std::string code(s->at("code").as_string());
  auto canonical = normalize_code(code);
  return redirect(303, "/portal/sessions/" + canonical.value());
}

Result<net::Response> portal_session(Ctx& ctx) {
  if (!ctx.account) return redirect(303, "/signin?continue=%2F");
  auto code = normalize_code(ctx.req.params["code"]);
  if (!code) return code.error();
  if (auto owned = owned_session_code(ctx.db(), *code, ctx.account->id); !owned)
    return owned.error();
  auto s = session_json(ctx, *code, true);
  if (!s) return s.error();
  auto str = [&](const char* k) {
    auto* v = s->if_contains(k);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  net::Response scratch;
  std::string csrf = csrf_token(ctx, scratch);
  Lang L = page_language(ctx.req);
  std::string body = fmt::format(
      "<p><a href=\"/\">{}</a></p><h1>{} <span class=code>{}</span></h1>"
      "<div class=card><p>{}: <strong>{}</strong>{}</p>"
      "<p>{}</p>"
      "<pre>reach-agent join {} --relay {}</pre>"
      "<p>{}</p>"
      "<p><a class=link href=\"{}\">{}</a></p>"
      "<p class=muted>{} <code>reach connect {}</code></p>"
      "<p>{}</p>{}</div>",
      tx(L, T::back_to_sessions), tx(L, T::session_heading), html::escape(str("code")),
      tx(L, T::state_label), state_text(L, str("state")),
      s->at("online").as_bool() ? tx(L, T::device_connected) : "", tx(L, T::read_code),
      html::escape(str("code")), html::escape(ctx.base_url()), tx(L, T::supporter_link_label),
      html::escape(str("supporter_link")), html::escape(str("supporter_link")),
      tx(L, T::bridge_hint), html::escape(str("supporter_link")),
      txf(L, T::valid_until, html::escape(str("valid_until"))),
      str("state") == "open"
          ? fmt::format("<form method=post action=\"/portal/sessions/{}/close\">{}<button "
                        "type=submit class=secondary>{}</button></form>",
                        *code, hidden("csrf", csrf), tx(L, T::close_session))
          : "");
  auto r = html_page(200, tx(L, T::session_heading) + " " + str("code"), body, L);
  for (const auto& [k, v] : scratch.headers.items()) r.headers.add(k, v);
  return r;
}

Result<net::Response> portal_close(Ctx& ctx) {
  if (!ctx.account) return redirect(303, "/signin?continue=%2F");
  auto f = form_fields(ctx.req);
  if (auto st = check_form(ctx, f); !st) return st.error();
  auto code = normalize_code(ctx.req.params["code"]);
  if (!code) return code.error();
  if (auto owned = owned_session_code(ctx.db(), *code, ctx.account->id); !owned)
    return owned.error();
  auto st = ctx.db().transaction(
      [&](store::Session& s) { return close_session(s, *code, "closedBySupporter", now_ms()); });
  if (!st) return st.error();
  end_streams(ctx.svc, *code);
  return redirect(303, "/");
}

// ---------------------------------------------------------------- links

Result<net::Response> viewer(Ctx& ctx) {
  std::string ref = ctx.req.params["ref"];
  auto code = admit(ctx, Side::supporter, Credential::link, ref);
  if (!code) return code.error();
  // The stream goes to the node that owns the session (this one, if none did yet).
  auto route = route_streams(ctx.svc, *code);
  if (!route) return route.error();
  Lang L = page_language(ctx.req);
  // The viewer's script says what happens in the page's language: its texts ride along as data
  // attributes.
  std::string texts;
  for (auto [name, id] : {std::pair{"connecting", T::st_connecting},
                          std::pair{"connected", T::st_connected},
                          std::pair{"connected-view-only", T::st_connected_view_only},
                          std::pair{"you-ended", T::st_you_ended},
                          std::pair{"ended", T::st_ended},
                          std::pair{"lost", T::st_lost},
                          std::pair{"refused", T::st_refused},
                          std::pair{"view-only", T::st_view_only},
                          std::pair{"full-control", T::st_full_control},
                          std::pair{"no-reason", T::st_no_reason},
                          std::pair{"denied", T::st_denied},
                          std::pair{"no-answer", T::st_no_answer},
                          std::pair{"user-ended", T::st_user_ended},
                          std::pair{"closed", T::st_closed},
                          std::pair{"peer-timeout", T::st_peer_timeout},
                          std::pair{"asking", T::st_asking},
                          std::pair{"user-view-only", T::st_user_view_only},
                          std::pair{"stats", T::st_stats},
                          std::pair{"stats-no-rtt", T::st_stats_no_rtt},
                          std::pair{"securing", T::st_securing},
                          std::pair{"code", T::st_code},
                          std::pair{"code-hint", T::st_code_hint},
                          std::pair{"e2e-record", T::st_e2e_record},
                          std::pair{"e2e-key", T::st_e2e_key},
                          std::pair{"e2e-secret", T::st_e2e_secret},
                          std::pair{"e2e-handshake", T::st_e2e_handshake},
                          std::pair{"e2e-insecure", T::st_e2e_insecure},
                          std::pair{"title", T::viewer_title}})
    texts += fmt::format(" data-t-{}=\"{}\"", name, html::escape(text(L, id)));
  std::string page = fmt::format(
      "<!doctype html><html lang={}><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width,initial-scale=1\">"
      "<title>{} {} · {}</title>"
      "<link rel=stylesheet href=\"/static/viewer.css\"></head>"
      "<body data-stream=\"{}/api/v1/stream/supporter/{}\"{}>"
      "<div id=bar><strong>Reach</strong><span id=status role=status>{}</span>"
      "<span id=code hidden></span><span id=stats></span>"
      "<label>{} <select id=quality><option value=auto>{}</option>"
      "<option value=speed>{}</option><option value=quality>{}</option></select></label>"
      "<label><input type=checkbox id=view-only> {}</label>"
      "<button id=end type=button>{}</button></div>"
      "<div id=screen></div><p id=message hidden aria-hidden=true></p>"
      "<noscript><p>{}</p></noscript>"
      "<script type=module src=\"/static/viewer.js\"></script></body></html>",
      lang_tag(L), tx(L, T::session_heading), display_code(*code), tx(L, T::viewer_title),
      html::escape(route->stream_base), html::escape(ref), texts, tx(L, T::loading),
      tx(L, T::quality), tx(L, T::quality_auto), tx(L, T::quality_speed), tx(L, T::quality_sharp),
      tx(L, T::view_only), tx(L, T::end_session), tx(L, T::needs_js));
  auto r = net::Response::text(200, std::move(page), "text/html; charset=utf-8");
  r.headers.set("Content-Security-Policy",
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; "
                "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

Result<net::Response> join_page(Ctx& ctx) {
  std::string ref = ctx.req.params["ref"];
  auto code = admit(ctx, Side::device, Credential::link, ref);
  if (!code) return code.error();
  Lang L = page_language(ctx.req);
  auto r = html_page(
      200, tx(L, T::join_title),
      fmt::format("<h1>{} <span class=code>{}</span></h1><div class=card>"
                  "<p>{}</p>"
                  "<pre>reach-agent join {}/join/{}</pre>"
                  "<p class=muted>{}</p></div>",
                  tx(L, T::join_heading), display_code(*code), tx(L, T::join_waiting),
                  html::escape(ctx.base_url()), html::escape(ref), tx(L, T::join_nothing_shared)),
      L);
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

}  // namespace

std::optional<Account> account_from_cookie(Ctx& ctx) {
  auto c = ctx.req.cookie(kSessionCookie);
  if (!c) return std::nullopt;
  auto found = find_web_session(ctx.db(), crypto::sha256_hex(*c), now_ms());
  if (!found) return std::nullopt;
  return *found;
}

void register_pages(net::Router& r, Services& svc) {
  r.add("GET", "/", page_route(svc, portal));
  r.add("GET", "/signin", page_route(svc, get_signin));
  r.add("POST", "/signin", page_route(svc, post_signin));
  r.add("POST", "/signout", page_route(svc, post_signout));
  r.add("GET", "/oauth2/authorize", page_route(svc, get_authorize));
  r.add("POST", "/oauth2/authorize", page_route(svc, post_authorize));
  r.add("POST", "/portal/sessions", page_route(svc, portal_create));
  r.add("GET", "/portal/sessions/{code}", page_route(svc, portal_session));
  r.add("POST", "/portal/sessions/{code}/close", page_route(svc, portal_close));
  r.add("GET", "/support/{ref}", page_route(svc, viewer));
  r.add("GET", "/join/{ref}", page_route(svc, join_page));
}

}  // namespace reach::relay
