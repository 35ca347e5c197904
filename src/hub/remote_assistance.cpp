// The remote assistance partner connector (deviceManagement/remoteAssistancePartners), the OAuth
// client side of its onboarding, requestRemoteAssistance and the remote assistance session
// history (SPEC §3.1, §3.3–§3.7, §4.1–§4.5).
//
// The partner is the relay. Its OAuth client credentials and tokens are sealed with the data
// directory's key. Relay calls are blocking HTTP on the request's worker thread; token refreshes
// hold the store's "connector" lock so that one rotation is never raced by another, on any node.
#include "common/crypto.h"
#include "common/html.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/channel.h"
#include "hub/events.h"
#include "hub/internal.h"
#include "hub/odata.h"
#include "hub/ra_rules.h"
#include "net/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace reach::hub {

namespace {

constexpr const char* kPartnerId = "6f0c1bde-5a43-4c1e-9a6e-7d3b8e2f0a11";
// An access token is refreshed this long before it expires, or a quarter of its lifetime before
// when that is shorter.
constexpr std::int64_t kRefreshMargin = 60 * 1000;
constexpr const char* kPartnerColumns =
    "id, display_name, relay_url, client_id, client_secret, status, onboarding_expires_at,"
    " pending_state, pending_verifier, pending_user_id, access_token, access_expires_at,"
    " refresh_token, needs_reauth, last_connection_at, access_refresh_at, pending_redirect_uri";
constexpr const char* kRequestText =
    "Your IT administrator is requesting control of this device for a remote assistance "
    "session.";

// Session states that still hold the device's one open request.

struct Partner {
  std::string id, display_name;
  std::optional<std::string> relay_url, client_id, client_secret;  // secret unsealed
  std::string status;
  std::int64_t onboarding_expires_at = 0;
  std::string pending_state, pending_verifier, pending_user_id;  // unsealed
  // The redirect URI of the pending authorization, as the node that began it built it: the code
  // exchange must present the same one, whichever node the relay sends the browser back to.
  std::string pending_redirect_uri;
  std::string access_token, refresh_token;  // unsealed
  std::int64_t access_expires_at = 0;
  std::int64_t access_refresh_at = 0;  // when the access token is to be refreshed
  bool needs_reauth = false;
  std::int64_t last_connection_at = 0;
};

std::string seal(const Services& svc, const std::string& plain) {
  return crypto::seal_text(svc.config.secret_key, plain);
}
std::string unseal(const Services& svc, const std::optional<std::string>& sealed) {
  return crypto::open_text(svc.config.secret_key, sealed.value_or(""));
}

std::string trim_slash(std::string u) {
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

Result<Partner> load_partner(Services& svc, store::Session& s) {
  auto rows = s.query(std::string("SELECT ") + kPartnerColumns + " FROM ra_partners WHERE id = ?",
                      {kPartnerId});
  if (!rows) return rows.error();
  if (rows->empty()) return internal_error("The remote assistance partner record is missing.");
  const auto& r = rows->rows[0];
  Partner p;
  p.id = r.text(0);
  p.display_name = r.text(1);
  p.relay_url = r.opt_text(2);
  p.client_id = r.opt_text(3);
  if (!r.null(4)) p.client_secret = unseal(svc, r.opt_text(4));
  p.status = r.text(5);
  p.onboarding_expires_at = r.integer(6);
  p.pending_state = unseal(svc, r.opt_text(7));
  p.pending_verifier = unseal(svc, r.opt_text(8));
  p.pending_user_id = r.text(9);
  p.access_token = unseal(svc, r.opt_text(10));
  p.access_expires_at = r.integer(11);
  p.access_refresh_at = r.integer(15);
  p.pending_redirect_uri = r.text(16);
  p.refresh_token = unseal(svc, r.opt_text(12));
  p.needs_reauth = r.boolean(13);
  p.last_connection_at = r.integer(14);
  // An onboarding not completed in time falls back (SPEC §3.1).
  if (p.status == "onboarding" && p.onboarding_expires_at <= now_ms()) {
    auto u = s.exec(
        "UPDATE ra_partners SET status = 'notOnboarded', pending_state = NULL,"
        " pending_verifier = NULL, pending_user_id = NULL, onboarding_expires_at = NULL"
        " WHERE id = ? AND status = 'onboarding'",
        {kPartnerId});
    if (!u) return u.error();
    p.status = "notOnboarded";
    p.pending_state.clear();
  }
  return p;
}

std::string redirect_uri(const Ctx& ctx) {
  return ctx.base_url() + "/api/remoteAssistance/callback";
}

std::string pending_redirect_uri(const Ctx& ctx, const Partner& p) {
  return p.pending_redirect_uri.empty() ? redirect_uri(ctx) : p.pending_redirect_uri;
}

std::string authorization_url(const Ctx& ctx, const Partner& p) {
  std::string challenge = crypto::base64url_encode(crypto::sha256_raw(p.pending_verifier));
  return fmt::format(
      "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&state={}"
      "&code_challenge={}&code_challenge_method=S256",
      trim_slash(*p.relay_url), net::percent_encode(*p.client_id),
      net::percent_encode(pending_redirect_uri(ctx, p)), net::percent_encode(p.pending_state),
      challenge);
}

bj::object partner_json(const Ctx& ctx, const Partner& p) {
  bj::object o{
      {"@odata.type", "#microsoft.graph.remoteAssistancePartner"},
      {"id", p.id},
      {"displayName", p.display_name},
      {"onboardingUrl", p.relay_url ? bj::value(*p.relay_url) : bj::value()},
      {"onboardingStatus", p.status},
      {"lastConnectionDateTime", p.last_connection_at ? bj::value(iso8601(p.last_connection_at))
                                                      : bj::value("0001-01-01T00:00:00Z")},
      // Reach's additions: the OAuth client, and what the admin must do next.
      {"clientId", p.client_id ? bj::value(*p.client_id) : bj::value()},
      {"needsReauthorization", p.needs_reauth}};
  if (ctx.version == "beta")
    o["onboardingRequestExpiryDateTime"] =
        p.status == "onboarding" ? bj::value(iso8601(p.onboarding_expires_at)) : bj::value();
  if (p.status == "onboarding" && !p.pending_state.empty())
    o["authorizationUrl"] = authorization_url(ctx, p);
  return o;
}

Result<Partner> partner_for(Ctx& ctx, const char* action) {
  auto g = require(ctx, action);
  if (!g) return g.error();
  if (ctx.req.params["id"] != kPartnerId)
    return not_found(
        fmt::format("Remote assistance partner '{}' does not exist.", ctx.req.params["id"]));
  return load_partner(ctx.svc, ctx.db());
}

// ---------------------------------------------------------------- the relay, as an OAuth client

Error connector_not_onboarded() {
  return make_error(409, "remoteAssistanceConnectorNotOnboarded",
                    "The remote assistance connector is not connected: Tenant administration > "
                    "Connectors and tokens > Remote assistance connector > Connect.");
}
Error connector_needs_reauth() {
  return make_error(409, "remoteAssistanceConnectorNeedsReauthorization",
                    "The remote assistance connector needs to be re-authorised: the relay no "
                    "longer accepts its grant. Connect it again (Tenant administration > "
                    "Connectors and tokens > Remote assistance connector).");
}

Result<bj::object> token_request(const Partner& p,
                                 std::vector<std::pair<std::string, std::string>> form,
                                 int* status) {
  form.emplace_back("client_id", *p.client_id);
  form.emplace_back("client_secret", p.client_secret.value_or(""));
  std::string body;
  for (const auto& [k, v] : form)
    body += (body.empty() ? "" : "&") + net::percent_encode(k) + "=" + net::percent_encode(v);
  net::Headers h;
  h.set("Content-Type", "application/x-www-form-urlencoded");
  auto r = net::http_request("POST", trim_slash(*p.relay_url) + "/api/v1/oauth2/token", h, body);
  if (!r)
    return make_error(502, "partnerUnreachable",
                      "The relay cannot be reached: " + r.error().message);
  *status = r->status;
  auto o = json::parse_object(r->body);
  if (!o) return make_error(502, "partnerError", "The relay's token answer is not JSON.");
  return std::move(*o);
}

// Stores the tokens of a token response (rotation: the new refresh token replaces the old).
Status store_tokens(Services& svc, const bj::object& t, bool first) {
  auto access = json::opt_string(t, "access_token");
  auto refresh = json::opt_string(t, "refresh_token");
  auto expires = json::opt_int(t, "expires_in");
  if (!access || !*access || !refresh || !*refresh || !expires || !*expires)
    return make_error(502, "partnerError", "The relay's token answer lacks its tokens.");
  auto now = now_ms();
  auto r = svc.db->exec(
      std::string(
          "UPDATE ra_partners SET access_token = ?, refresh_token = ?, access_expires_at = ?,"
          " access_refresh_at = ?, needs_reauth = 0, last_connection_at = ?, updated_at = ?") +
          (first ? ", status = 'onboarded', pending_state = NULL, pending_verifier = NULL,"
                   " pending_user_id = NULL, onboarding_expires_at = NULL"
                 : "") +
          " WHERE id = ?",
      {seal(svc, **access), seal(svc, **refresh), now + **expires * 1000,
       now + **expires * 1000 - std::min(kRefreshMargin, **expires * 1000 / 4), now, now,
       kPartnerId});
  if (!r) return r.error();
  return {};
}

// A valid access token, refreshed first when it is about to expire, or when the relay refused
// `refused` (and no one has refreshed it since). The refresh token rotates, so two refreshes at
// once would present a used one and revoke the grant: refreshes hold the store's "connector" lock,
// which excludes them across every node, and read the tokens again under it.
Result<std::string> access_token(Services& svc, const std::optional<std::string>& refused) {
  std::string out;
  auto st = svc.db->with_lock("connector", [&]() -> Status {
    auto p = load_partner(svc, *svc.db);
    if (!p) return p.error();
    if (p->status != "onboarded") return connector_not_onboarded();
    if (p->needs_reauth) return connector_needs_reauth();
    bool stale = refused && *refused == p->access_token;
    if (!stale && p->access_refresh_at > now_ms()) {
      out = p->access_token;
      return {};
    }
    int status = 0;
    auto t = token_request(
        *p, {{"grant_type", "refresh_token"}, {"refresh_token", p->refresh_token}}, &status);
    if (!t) return t.error();
    if (status != 200) {
      std::string err = json::opt_string(*t, "error").value().value_or("");
      log::warn("connector.refresh_refused", {{"status", status}, {"error", err}});
      if (err == "invalid_grant" || err == "invalid_client" || status == 401) {
        auto r =
            svc.db->exec("UPDATE ra_partners SET needs_reauth = 1, updated_at = ? WHERE id = ?",
                         {now_ms(), kPartnerId});
        if (!r) return r.error();
        return connector_needs_reauth();
      }
      return make_error(502, "partnerError",
                        fmt::format("The relay refused a token refresh ({}).", err));
    }
    if (auto stored = store_tokens(svc, *t, false); !stored) return stored.error();
    log::info("connector.token_refreshed", {{"node", svc.config.node_name}});
    out = std::string(t->at("access_token").as_string());
    return {};
  });
  if (!st) return st.error();
  return out;
}

// A sessions-API call with the connector's token; one refresh and retry on 401.
Result<net::Response> relay_call(Services& svc, std::string_view method, const std::string& path,
                                 const std::string& body) {
  std::string base;
  {
    auto p = load_partner(svc, *svc.db);
    if (!p) return p.error();
    if (!p->relay_url) return connector_not_onboarded();
    base = trim_slash(*p->relay_url);
  }
  std::optional<std::string> refused;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto token = access_token(svc, refused);
    if (!token) return token.error();
    net::Headers h;
    h.set("Authorization", "Bearer " + *token);
    if (!body.empty()) h.set("Content-Type", "application/json");
    auto r = net::http_request(method, base + path, h, body);
    if (!r)
      return make_error(502, "partnerUnreachable",
                        "The relay cannot be reached: " + r.error().message);
    if (r->status != 401) return std::move(*r);
    log::info("connector.token_refused_by_relay", {{"path", path}});
    refused = *token;
  }
  return connector_needs_reauth();
}

// ---------------------------------------------------------------- partner endpoints

Result<net::Response> list_partners(Ctx& ctx) {
  auto g = require(ctx, actions::kRemoteAssistanceRead);
  if (!g) return g.error();
  auto p = load_partner(ctx.svc, ctx.db());
  if (!p) return p.error();
  return json_response(
      200,
      bj::object{{"@odata.context", ctx.context_url("deviceManagement/remoteAssistancePartners")},
                 {"value", bj::array{partner_json(ctx, *p)}}});
}

Result<net::Response> get_partner(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceRead);
  if (!p) return p.error();
  return entity_response(ctx, partner_json(ctx, *p),
                         "deviceManagement/remoteAssistancePartners/$entity");
}

Result<net::Response> patch_partner(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st =
          json::only_keys(*body, {"displayName", "onboardingUrl", "clientId", "clientSecret"});
      !st)
    return st.error();
  auto name = json::opt_string(*body, "displayName");
  auto url = json::opt_string(*body, "onboardingUrl");
  auto cid = json::opt_string(*body, "clientId");
  auto secret = json::opt_string(*body, "clientSecret");
  for (auto* v : {&name, &url, &cid, &secret})
    if (!*v) return v->error();
  if (*name && ((*name)->empty() || (*name)->size() > 100))
    return bad_request("'displayName' must be 1 to 100 characters.");
  if (*url && !(*url)->starts_with("http://") && !(*url)->starts_with("https://"))
    return bad_request("'onboardingUrl' must be the relay's http:// or https:// URL.");
  if (*cid && ((*cid)->empty() || (*cid)->size() > 200))
    return bad_request("'clientId' must be 1 to 200 characters.");
  if (*secret && ((*secret)->empty() || (*secret)->size() > 500))
    return bad_request("'clientSecret' must be 1 to 500 characters.");
  // A new relay or client makes the stored grant meaningless: back to notOnboarded.
  bool reset = (*url && *url != p->relay_url) || (*cid && *cid != p->client_id) || *secret;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto r = s.exec(
        std::string("UPDATE ra_partners SET display_name = COALESCE(?, display_name),"
                    " relay_url = COALESCE(?, relay_url), client_id = COALESCE(?, client_id),"
                    " client_secret = COALESCE(?, client_secret), updated_at = ?") +
            (reset ? ", status = 'notOnboarded', access_token = NULL, refresh_token = NULL,"
                     " access_expires_at = NULL, needs_reauth = 0, pending_state = NULL,"
                     " pending_verifier = NULL, onboarding_expires_at = NULL"
                   : "") +
            " WHERE id = ?",
        {*name, *url, *cid, *secret ? store::Value(seal(ctx.svc, **secret)) : store::Value(),
         now_ms(), kPartnerId});
    if (!r) return r.error();
    bj::object details;
    if (*url) details["onboardingUrl"] = **url;
    if (*cid) details["clientId"] = **cid;
    if (*secret) details["clientSecretChanged"] = true;
    return audit(s, ctx,
                 {"updateRemoteAssistancePartner", "success", "remoteAssistancePartner", kPartnerId,
                  p->display_name, std::move(details)});
  });
  if (!st) return st.error();
  auto fresh = load_partner(ctx.svc, ctx.db());
  if (!fresh) return fresh.error();
  return entity_response(ctx, partner_json(ctx, *fresh),
                         "deviceManagement/remoteAssistancePartners/$entity");
}

Result<net::Response> begin_onboarding(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  if (!ctx.req.body.empty()) return bad_request("beginOnboarding takes no request body.");
  if (!p->relay_url || !p->client_id || !p->client_secret)
    return bad_request(
        "Set the partner's onboardingUrl (the relay), clientId and clientSecret first "
        "(from `reach-relay client add`).");
  std::string state = crypto::random_token(32);
  std::string verifier = crypto::random_token(48);
  auto expires = now_ms() + ctx.svc.config.onboarding_ttl.count();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto r = s.exec(
        "UPDATE ra_partners SET status = 'onboarding', pending_state = ?, pending_verifier = ?,"
        " pending_user_id = ?, pending_redirect_uri = ?, onboarding_expires_at = ?,"
        " updated_at = ? WHERE id = ?",
        {seal(ctx.svc, state), seal(ctx.svc, verifier), ctx.who().user_id, redirect_uri(ctx),
         expires, now_ms(), kPartnerId});
    if (!r) return r.error();
    return audit(s, ctx,
                 {"beginRemoteAssistanceOnboarding", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name, bj::object{{"relay", *p->relay_url}}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> disconnect(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  bool revoked = false;
  if (!p->refresh_token.empty() && p->relay_url && p->client_id) {
    // RFC 7009: revoking the refresh token ends the grant at the relay.
    std::string body =
        "token=" + net::percent_encode(p->refresh_token) +
        "&token_type_hint=refresh_token&client_id=" + net::percent_encode(*p->client_id) +
        "&client_secret=" + net::percent_encode(p->client_secret.value_or(""));
    net::Headers h;
    h.set("Content-Type", "application/x-www-form-urlencoded");
    auto r =
        net::http_request("POST", trim_slash(*p->relay_url) + "/api/v1/oauth2/revoke", h, body);
    revoked = r && r->status == 200;
    if (!revoked)
      log::warn("connector.revoke_failed",
                {{"error", r ? std::to_string(r->status) : r.error().message}});
  }
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto r = s.exec(
        "UPDATE ra_partners SET status = 'notOnboarded', access_token = NULL,"
        " refresh_token = NULL, access_expires_at = NULL, needs_reauth = 0, pending_state = NULL,"
        " pending_verifier = NULL, pending_user_id = NULL, onboarding_expires_at = NULL,"
        " updated_at = ? WHERE id = ?",
        {now_ms(), kPartnerId});
    if (!r) return r.error();
    return audit(s, ctx,
                 {"disconnectRemoteAssistancePartner", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name, bj::object{{"revokedAtRelay", revoked}}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

// The callback's answer is for the administrator's browser: a short page that goes straight
// back to the admin center's connector page, which says the outcome (`outcome` in its query) in
// the administrator's language. Without a browser (scripts) the page's words say it.
net::Response page(int status, const std::string& title, const std::string& text,
                   std::string_view outcome) {
  auto r = net::Response::text(
      status,
      fmt::format("<!doctype html><html lang=en><meta charset=utf-8><title>{0}</title>"
                  "<meta http-equiv=refresh content=\"0; url=/tenant/connector?onboarding={2}\">"
                  "<body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\">"
                  "<h1>{0}</h1><p>{1}</p><p><a href=\"/tenant/connector?onboarding={2}\">"
                  "Back to the remote assistance connector</a></p></body></html>",
                  html::escape(title), html::escape(text), outcome),
      "text/html; charset=utf-8");
  return r;
}

Result<net::Response> callback_locked(Ctx& ctx);

// GET /api/remoteAssistance/callback?code=…&state=… (the relay redirects the admin's browser).
// Under the store's "connector" lock, like token refreshes: on any node, one at a time.
Result<net::Response> callback(Ctx& ctx) {
  std::optional<Result<net::Response>> out;
  auto st = ctx.db().with_lock("connector", [&]() -> Status {
    out.emplace(callback_locked(ctx));
    return {};
  });
  if (!st) return st.error();
  return std::move(*out);
}

Result<net::Response> callback_locked(Ctx& ctx) {
  auto p = load_partner(ctx.svc, ctx.db());
  if (!p) return p.error();
  std::string state(ctx.req.query_param("state").value_or(""));
  if (p->status != "onboarding" || p->pending_state.empty() ||
      !crypto::constant_time_equal(state, p->pending_state) ||
      p->pending_user_id != ctx.who().user_id) {
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", "stateMismatch"}}});
    return page(400, "Connection not completed",
                "This answer from the relay does not belong to an onboarding you started (or "
                "it expired). Start again: Remote assistance connector > Connect.",
                "stateMismatch");
  }
  if (auto err_param = ctx.req.query_param("error")) {
    std::string err(*err_param);
    auto r = ctx.db().exec(
        "UPDATE ra_partners SET status = 'notOnboarded', pending_state = NULL,"
        " pending_verifier = NULL, pending_user_id = NULL, onboarding_expires_at = NULL WHERE id = "
        "?",
        {kPartnerId});
    if (!r) return r.error();
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", err}}});
    return page(400, "Connection refused",
                "The relay did not authorise the connector (" + err + ").", "refused");
  }
  std::string code(ctx.req.query_param("code").value_or(""));
  if (code.empty())
    return page(400, "Connection not completed", "The relay sent no code.", "noCode");
  int status = 0;
  auto t = token_request(*p,
                         {{"grant_type", "authorization_code"},
                          {"code", code},
                          {"redirect_uri", pending_redirect_uri(ctx, *p)},
                          {"code_verifier", p->pending_verifier}},
                         &status);
  if (!t) return t.error();
  if (status != 200) {
    std::string err = json::opt_string(*t, "error").value().value_or("?");
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", err}}});
    return page(502, "Connection not completed",
                "The relay refused to exchange the code (" + err + "). Start again.",
                "exchangeFailed");
  }
  if (auto st = store_tokens(ctx.svc, *t, true); !st) return st.error();
  audit_now(ctx, {"completeRemoteAssistanceOnboarding", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name, bj::object{{"relay", p->relay_url.value_or("")}}});
  log::info("connector.onboarded", {{"relay", p->relay_url.value_or("")}});
  return page(200, "Remote assistance connector connected",
              "The hub can now create remote assistance sessions.", "connected");
}

// ---------------------------------------------------------------- requestRemoteAssistance

// The eligibility rules' answer (ra_rules.h) as a Graph error; nullopt when the device may be
// helped. `d`: id, device_name, user_id, owner_type, enrollment_type, device_type, sku_family,
// operating_system, os_version, channel_connected_at.
std::optional<Error> ineligible(const store::Row& d, const Partner& p) {
  DeviceFacts facts{d.text(4), !d.null(2), d.text(3), d.text(5),
                    d.text(6), d.text(7),  d.text(8), !d.null(9)};
  auto why = hub::ineligible(facts);
  if (!why) return std::nullopt;
  std::string message;
  switch (*why) {
    case Ineligible::userless:
      message = fmt::format(
          "This device was enrolled without a user, so nobody there can be notified. Create a "
          "session in the relay portal ({}) and read its code to the person at the device, who "
          "runs `reach-agent join CODE`.",
          p.relay_url.value_or("the relay"));
      break;
    case Ineligible::company_owned:
      message =
          "Remote assistance through the connector is for personally owned devices; this device "
          "is company-owned.";
      break;
    case Ineligible::windows_holographic:
      message = "Windows Holographic (HoloLens) devices cannot take remote assistance sessions.";
      break;
    case Ineligible::windows_team:
      message = "Windows Team (Surface Hub) devices cannot take remote assistance sessions.";
      break;
    case Ineligible::windows_10s:
      message = "Windows 10 S devices cannot take remote assistance sessions.";
      break;
    case Ineligible::agent_not_connected:
      message =
          "The device's company portal (reach-agent run) has never connected to the hub, so it "
          "cannot be notified. Start it on the device first.";
      break;
  }
  return make_error(409, std::string(error_code(*why)), std::move(message));
}

Status set_action(store::Session& s, const std::string& device, const std::string& state,
                  bool restart) {
  auto now = now_ms();
  auto r =
      s.exec(restart ? "INSERT INTO device_action_results (device_id, action_name, action_state,"
                       " started_at, updated_at) VALUES (?, 'requestRemoteAssistance', ?, ?, ?)"
                       " ON CONFLICT (device_id, action_name) DO UPDATE SET action_state ="
                       " excluded.action_state, started_at = excluded.started_at,"
                       " updated_at = excluded.updated_at"
                     : "UPDATE device_action_results SET action_state = ?, updated_at = ?"
                       " WHERE device_id = ? AND action_name = 'requestRemoteAssistance'",
             restart ? store::Params{device, state, now, now} : store::Params{state, now, device});
  if (!r) return r.error();
  return {};
}

Result<net::Response> request_remote_assistance(Ctx& ctx) {
  auto g = require(ctx, actions::kRequestRemoteAssistance);
  if (!g) return g.error();
  std::string id = ctx.req.params["id"];
  auto rows = ctx.db().query(
      "SELECT d.id, d.device_name, d.user_id, d.owner_type, d.enrollment_type, d.device_type,"
      " d.sku_family, d.operating_system, d.os_version, d.channel_connected_at,"
      " u.display_name, u.user_principal_name FROM devices d LEFT JOIN users u ON u.id = d.user_id"
      " WHERE d.id = ?",
      {id});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(fmt::format("Managed device '{}' does not exist.", id));
  if (auto st = check_device_scope(ctx, *g, id); !st) return st.error();
  const auto& d = rows->rows[0];
  std::string name = d.text(1);
  if (!ctx.req.body.empty() && ctx.req.body.find_first_not_of(" \r\n\t") != std::string::npos)
    return bad_request("requestRemoteAssistance takes no request body.");

  auto p = load_partner(ctx.svc, ctx.db());
  if (!p) return p.error();
  auto refuse = [&](const Error& e) -> Result<net::Response> {
    audit_now(ctx, {"requestRemoteAssistance", "failure", "managedDevice", id, name,
                    bj::object{{"reason", e.code}}});
    return e;
  };
  if (auto why = ineligible(d, *p)) return refuse(*why);
  if (p->status != "onboarded") return refuse(connector_not_onboarded());
  if (p->needs_reauth) return refuse(connector_needs_reauth());

  // One open request per device: a second request returns the open one.
  auto open = ctx.db().query(std::string("SELECT id FROM ra_sessions WHERE device_id = ? AND"
                                         " valid_until > ? AND state IN ") +
                                 kOpenSessionStates,
                             {id, now_ms()});
  if (!open) return open.error();
  if (!open->empty()) return net::Response::empty(204);

  bj::object req{{"groupname", "Reach hub"},
                 {"description", name},
                 {"end_customer", bj::object{{"name", d.text(10)}, {"email", d.text(11)}}},
                 {"custom_api",
                  json::serialize(bj::object{{"deviceId", id}, {"requestedBy", ctx.who().upn}})}};
  auto created = relay_call(ctx.svc, "POST", "/api/v1/sessions", json::serialize(req));
  auto record_failure = [&](const Error& e) {
    auto st = ctx.db().transaction([&](store::Session& s) -> Status {
      auto r = s.exec("UPDATE devices SET ra_error_details = ? WHERE id = ?", {e.message, id});
      if (!r) return r.error();
      if (auto a = set_action(s, id, "failed", true); !a) return a;
      return audit(s, ctx,
                   {"requestRemoteAssistance", "failure", "managedDevice", id, name,
                    bj::object{{"reason", e.code}, {"message", e.message}}});
    });
    if (!st) log::error("ra.record_failure_failed", {{"error", st.error().message}});
    if (st) publish_device(ctx.svc, id);
    return e;
  };
  if (!created) return record_failure(created.error());
  auto s = json::parse_object(created->body);
  if (created->status != 200 || !s)
    return record_failure(make_error(
        502, "partnerError",
        fmt::format("The relay could not create a session (HTTP {}).", created->status)));
  auto code = json::opt_string(*s, "code");
  auto supporter = json::opt_string(*s, "supporter_link");
  auto end_customer = json::opt_string(*s, "end_customer_link");
  auto valid = json::opt_string(*s, "valid_until");
  if (!code || !*code || !supporter || !*supporter || !end_customer || !*end_customer || !valid ||
      !*valid)
    return record_failure(
        make_error(502, "partnerError", "The relay's session lacks its code or links."));
  auto valid_until = parse_iso8601(**valid);
  if (!valid_until)
    return record_failure(
        make_error(502, "partnerError", "The relay's valid_until is not a date."));

  // The device names the organisation beside the requester ("allow this session to start?").
  auto org = ctx.db().query("SELECT display_name FROM organization");
  if (!org) return org.error();
  std::string organization = org->empty() ? "" : org->rows.front().text(0);
  std::string session_id = crypto::uuid_v4();
  std::string notification_id;
  auto now = now_ms();
  auto st = ctx.db().transaction([&](store::Session& tx) -> Status {
    NotificationSpec spec{"remoteAssistanceRequest", "Remote assistance request", kRequestText,
                          // The device's way in: sealed at rest like the supporter link;
                          // the channel opens it for the device alone.
                          bj::object{{kSealedEndCustomerLink, seal(ctx.svc, **end_customer)},
                                     {"sessionCode", **code},
                                     {"requestedBy", ctx.who().display_name},
                                     {"organization", organization},
                                     {"remoteAssistanceSessionId", session_id}},
                          *valid_until};
    auto n = queue_notification(tx, id, spec);
    if (!n) return n.error();
    notification_id = *n;
    auto r = tx.exec(
        "INSERT INTO ra_sessions (id, device_id, requester_id, requester_name, code,"
        " supporter_link, notification_id, state, created_at, valid_until)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?)",
        {session_id, id, ctx.who().user_id, ctx.who().upn, **code, seal(ctx.svc, **supporter),
         notification_id, now, *valid_until});
    if (!r) return r.error();
    auto u = tx.exec("UPDATE devices SET ra_error_details = NULL WHERE id = ?", {id});
    if (!u) return u.error();
    if (auto a = set_action(tx, id, "pending", true); !a) return a;
    return audit(tx, ctx,
                 {"requestRemoteAssistance", "success", "managedDevice", id, name,
                  bj::object{{"sessionCode", **code},
                             {"remoteAssistanceSessionId", session_id},
                             {"notificationId", notification_id}}});
  });
  if (!st) return st.error();
  wake_device(ctx.svc, id);
  publish_device(ctx.svc, id);
  log::info("ra.requested", {{"device", id}, {"code", **code}, {"by", ctx.who().upn}});
  return net::Response::empty(204);
}

// ---------------------------------------------------------------- history

bj::value when(const store::Row& r, std::size_t i) {
  return r.null(i) ? bj::value() : bj::value(iso8601(r.integer(i)));
}

// Brings open sessions up to date before they are shown: a request nobody answered in time has
// expired, and a session the relay has closed (ended at either end, or by its portal) is over
// even if the device never reported it.
void reconcile_open_sessions(Ctx& ctx) {
  auto open =
      ctx.db().query(std::string("SELECT id, code, notification_id, valid_until, state, device_id"
                                 " FROM ra_sessions WHERE state IN ") +
                     kOpenSessionStates);
  if (!open || open->empty()) return;
  auto now = now_ms();
  for (const auto& r : open->rows) {
    std::string event, detail;
    if (r.integer(3) <= now && r.text(4) != "active") {
      event = "expired";
      detail = "expired";
    } else {
      auto got = relay_call(ctx.svc, "GET", "/api/v1/sessions/" + r.text(1), "");
      if (!got || got->status != 200) continue;  // the relay is away: keep what is known
      auto o = json::parse_object(got->body);
      if (!o || json::opt_string(*o, "state").value().value_or("") != "closed") continue;
      // The device reports its own end (with the reason) within moments; give it that time.
      auto closed_text = json::opt_string(*o, "closed_at").value().value_or("");
      auto closed_at = parse_iso8601(closed_text);
      if (!closed_at || *closed_at + ctx.svc.config.relay_close_grace.count() > now) continue;
      event = "ended";
      detail = "closedAtRelay";
    }
    auto st = ctx.db().transaction([&](store::Session& s) -> Status {
      return apply_session_event(s, r.text(2), event, detail, now);
    });
    if (!st)
      log::warn("ra.reconcile_failed", {{"session", r.text(0)}, {"error", st.error().message}});
    else
      publish_device(ctx.svc, r.text(5));
  }
}

Result<net::Response> list_sessions(Ctx& ctx) {
  auto g = require(ctx, actions::kRemoteAssistanceRead);
  if (!g) return g.error();
  reconcile_open_sessions(ctx);
  auto q = odata::parse_query(ctx.req.query, false, {}, 1000);
  if (!q) return q.error();
  bool top_given = std::any_of(ctx.req.query.begin(), ctx.req.query.end(),
                               [](const auto& kv) { return kv.first == "$top"; });
  int top = top_given ? q->top : 100;
  std::string where = "1 = 1";
  store::Params params;
  if (auto dev = ctx.req.query_param("deviceId")) {
    where += " AND s.device_id = ?";
    params.push_back(*dev);
  }
  if (auto who = ctx.req.query_param("requesterId")) {
    where += " AND s.requester_id = ?";
    params.push_back(*who);
  }
  if (q->filter) {
    static const std::vector<odata::Field> kFields = {
        {"deviceId", "s.device_id", {}},
        {"deviceName", "d.device_name", {}},
        {"requesterId", "s.requester_id", {}},
        {"requesterUserPrincipalName", "s.requester_name", {}},
        {"sessionCode", "s.code", {}},
        {"state",
         "s.state",
         {"requested", "accepted", "allowed", "active", "ended", "declined", "denied", "expired",
          "failed"}},
        {"endReason", "s.end_reason", {}},
    };
    auto f = odata::compile_filter(*q->filter, kFields);
    if (!f) return f.error();
    where += " AND " + f->where;
    for (auto& p : f->params) params.push_back(std::move(p));
  }
  auto range = time_range_sql(ctx, "s.created_at", params);
  if (!range) return range.error();
  if (!range->empty()) where += " AND " + *range;
  if (q->skiptoken) {
    // The position is "<created_at>|<id>" of the last session of the previous page.
    const std::string& pos = *q->skiptoken;
    auto sep = pos.find('|');
    std::int64_t at = 0;
    auto [end, ec] = std::from_chars(pos.data(), pos.data() + std::min(sep, pos.size()), at);
    if (sep == std::string::npos || sep == 0 || ec != std::errc{} || end != pos.data() + sep)
      return bad_request("$skiptoken is not valid: use @odata.nextLink as it was given.");
    where += " AND (s.created_at < ? OR (s.created_at = ? AND s.id < ?))";
    params.push_back(at);
    params.push_back(at);
    params.push_back(pos.substr(sep + 1));
  }
  // Only sessions on devices the caller may see.
  where += " AND " + device_scope_sql(*g, params);
  params.push_back(top + 1);
  auto rows = ctx.db().query(
      "SELECT s.id, s.device_id, d.device_name, s.requester_id, s.requester_name, s.code,"
      " s.state, s.created_at, s.valid_until, s.accepted_at, s.allowed_at, s.view_only,"
      " s.connected_at, s.ended_at, s.end_reason"
      " FROM ra_sessions s JOIN devices d ON d.id = s.device_id WHERE " +
          where + " ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
      params);
  if (!rows) return rows.error();
  bj::array value;
  std::string next;
  for (std::size_t i = 0; i < rows->rows.size(); ++i) {
    const auto& r = rows->rows[i];
    if (static_cast<int>(i) == top) {
      const auto& last = rows->rows[i - 1];
      std::string token =
          odata::encode_skiptoken(fmt::format("{}|{}", last.integer(7), last.text(0)));
      std::string more = "?$top=" + std::to_string(top);
      if (auto dev = ctx.req.query_param("deviceId"))
        more += "&deviceId=" + net::percent_encode(*dev);
      if (auto who = ctx.req.query_param("requesterId"))
        more += "&requesterId=" + net::percent_encode(*who);
      if (q->filter) more += "&$filter=" + net::percent_encode(*q->filter);
      for (const char* name : {"from", "to"})
        if (auto v = ctx.req.query_param(name))
          more += fmt::format("&{}={}", name, net::percent_encode(*v));
      next = ctx.base_url() + ctx.req.path + more + "&$skiptoken=" + token;
      break;
    }
    bj::object o{{"id", r.text(0)},
                 {"deviceId", r.text(1)},
                 {"deviceName", r.text(2)},
                 {"requester", bj::object{{"id", r.text(3)}, {"userPrincipalName", r.text(4)}}},
                 {"sessionCode", r.text(5)},
                 {"state", r.text(6)},
                 {"createdDateTime", iso8601(r.integer(7))},
                 {"validUntilDateTime", iso8601(r.integer(8))},
                 {"acceptedDateTime", when(r, 9)},
                 {"allowedDateTime", when(r, 10)},
                 {"viewOnly", r.null(11) ? bj::value() : bj::value(r.boolean(11))},
                 {"connectedDateTime", when(r, 12)},
                 {"endedDateTime", when(r, 13)},
                 {"endReason", r.null(14) ? bj::value() : bj::value(r.text(14))}};
    // Consent answers as the user gave them.
    std::string state = r.text(6);
    o["userAccepted"] = !r.null(9)            ? bj::value(true)
                        : state == "declined" ? bj::value(false)
                                              : bj::value();
    o["userAllowed"] = !r.null(10)         ? bj::value(true)
                       : state == "denied" ? bj::value(false)
                                           : bj::value();
    o["durationSeconds"] =
        !r.null(12) && !r.null(13)
            ? bj::value(static_cast<double>(r.integer(13) - r.integer(12)) / 1000.0)
            : bj::value();
    value.push_back(std::move(o));
  }
  bj::object out{{"value", std::move(value)}};
  if (!next.empty()) out["@odata.nextLink"] = next;
  return json_response(200, out);
}

}  // namespace

Status configure_connector(store::Session& s, const std::string& key, const std::string& relay_url,
                           const std::string& client_id, const std::string& client_secret) {
  if (!relay_url.starts_with("http://") && !relay_url.starts_with("https://"))
    return bad_request("--relay-url must be the relay's http:// or https:// URL.");
  if (client_id.empty() || client_secret.empty())
    return bad_request("Both the client id and the client secret are needed.");
  auto r = s.exec(
      "UPDATE ra_partners SET relay_url = ?, client_id = ?, client_secret = ?,"
      " status = 'notOnboarded', access_token = NULL, refresh_token = NULL,"
      " access_expires_at = NULL, needs_reauth = 0, pending_state = NULL, pending_verifier = NULL,"
      " pending_user_id = NULL, onboarding_expires_at = NULL, updated_at = ? WHERE id = ?",
      {relay_url, client_id, crypto::base64_encode(crypto::seal(key, client_secret)), now_ms(),
       kPartnerId});
  if (!r) return r.error();
  return {};
}

// Called by the push channel inside the transaction that records an agent's event, and by the
// reconciliation with the relay. Only the changes ra_rules.h allows are made, and the UPDATE is
// guarded by the state it was decided from.
Status apply_session_event(store::Session& s, const std::string& notification_id,
                           const std::string& event, const std::string& detail, std::int64_t at) {
  auto rows = s.query("SELECT id, device_id, state FROM ra_sessions WHERE notification_id = ?",
                      {notification_id});
  if (!rows) return rows.error();
  if (rows->empty()) return {};  // not a remote assistance request (e.g. a custom notification)
  const std::string id = rows->rows[0].text(0), device = rows->rows[0].text(1);
  const std::string from_text = rows->rows[0].text(2);
  auto from = parse_ra_state(from_text);
  auto to = from ? next_ra_state(*from, event) : std::nullopt;
  if (!to) {
    log::info("ra.event_ignored", {{"session", id}, {"state", from_text}, {"event", event}});
    return {};
  }
  const std::string state(to_string(*to));
  auto update = [&](const std::string& sql, store::Params p) -> Status {
    p.insert(p.begin(), state);
    p.push_back(id);
    p.push_back(from_text);
    auto r = s.exec("UPDATE ra_sessions SET state = ?, " + sql + " WHERE id = ? AND state = ?", p);
    if (!r) return r.error();
    return {};
  };
  auto finish = [&](const std::string& reason, const std::string& action) -> Status {
    if (auto st = update("ended_at = COALESCE(ended_at, ?), end_reason = COALESCE(end_reason, ?)",
                         {at, reason});
        !st)
      return st;
    return set_action(s, device, action, false);
  };
  switch (*to) {
    case RaState::accepted:
      if (auto st = update("accepted_at = ?", {at}); !st) return st;
      return set_action(s, device, "active", false);
    case RaState::allowed:
      return update("allowed_at = ?, view_only = ?", {at, event == "allowedViewOnly"});
    case RaState::active:
      return update("connected_at = ?", {at});
    case RaState::declined:
      return finish("declinedByUser", "failed");
    case RaState::denied:
      return finish(detail.empty() ? "deniedByUser" : detail, "failed");
    case RaState::expired:
      return finish(detail.empty() ? "expired" : detail, "failed");
    case RaState::failed:
      return finish(detail.empty() ? "failed" : detail, "failed");
    case RaState::ended:
      return finish(detail.empty() ? "ended" : detail,
                    *from == RaState::active ? "done" : "failed");
    case RaState::requested:
      break;
  }
  return {};
}

void register_remote_assistance_routes(Routes& r) {
  r.graph("GET", "/deviceManagement/remoteAssistancePartners", list_partners);
  r.graph("GET", "/deviceManagement/remoteAssistancePartners/{id}", get_partner);
  r.graph("PATCH", "/deviceManagement/remoteAssistancePartners/{id}", patch_partner);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/beginOnboarding",
          begin_onboarding);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/disconnect", disconnect);
  r.graph("POST", "/deviceManagement/managedDevices/{id}/requestRemoteAssistance",
          request_remote_assistance);
  r.api("GET", "/api/remoteAssistance/callback", callback);
  r.api("GET", "/api/remoteAssistanceSessions", list_sessions);
}

}  // namespace reach::hub
