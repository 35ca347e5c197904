// The remote assistance partner connector (deviceManagement/remoteAssistancePartners), the OAuth
// client side of its onboarding, the organisation's remote assistance settings
// (deviceManagement/remoteAssistanceSettings), requestRemoteAssistance and the remote assistance
// session history (SPEC §3.1, §3.3–§3.7, §4.1–§4.5).
//
// The connector's record is hub/connector.h; the partner (the relay) is reached through
// hub/partner_client.h; which devices may be helped and how a request's state may change are
// hub/ra_rules.h.
#include "common/crypto.h"
#include "common/html.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/channel.h"
#include "hub/connector.h"
#include "hub/events.h"
#include "hub/internal.h"
#include "hub/odata.h"
#include "hub/outbox.h"
#include "hub/partner_client.h"
#include "hub/ra_rules.h"
#include "hub/ra_sessions.h"
#include "hub/ra_settings_store.h"
#include "link/e2e.h"
#include "link/link.h"
#include "net/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace reach::hub {

namespace {

constexpr const char* kRequestText =
    "Your IT administrator is requesting control of this device for a remote assistance "
    "session.";

std::string redirect_uri(const Ctx& ctx) {
  return ctx.base_url() + "/api/remoteAssistance/callback";
}

std::string pending_redirect_uri(const Ctx& ctx, const Partner& p) {
  return p.pending_redirect_uri.empty() ? redirect_uri(ctx) : p.pending_redirect_uri;
}

// The onboarding cookie: a nonce only the browser that began the onboarding holds, sent back
// with the relay's redirect to the callback (and nowhere else: its path is the callback's).
constexpr const char* kOnboardingCookie = "reach_onboarding";

std::string callback_path(const Ctx& ctx) {
  std::string uri = redirect_uri(ctx);
  auto scheme = uri.find("://");
  auto slash = scheme == std::string::npos ? std::string::npos : uri.find('/', scheme + 3);
  return slash == std::string::npos ? "/api/remoteAssistance/callback" : uri.substr(slash);
}

std::string onboarding_cookie(const Ctx& ctx, const std::string& value, std::int64_t max_age_s) {
  // Lax, not Strict: the relay may be another site, and its redirect back is a cross-site
  // navigation. The cookie authorises nothing by itself: it only ties the callback to a state
  // that the same administrator's browser was given.
  return fmt::format("{}={}; Path={}; HttpOnly; SameSite=Lax; Max-Age={}{}", kOnboardingCookie,
                     value, callback_path(ctx), max_age_s, ctx.req.tls ? "; Secure" : "");
}

bj::object account_json(const PartnerAccount& a) {
  return bj::object{
      {"id", a.id}, {"email", a.email}, {"displayName", a.name}, {"companyName", a.company}};
}

bool began_onboarding(const Ctx& ctx, const Partner& p) {
  return p.status == "onboarding" && ctx.principal && !p.pending_user_id.empty() &&
         p.pending_user_id == ctx.who().user_id;
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
      // Reach's additions: the OAuth client, whose grant it uses, and what the admin must do.
      {"clientId", p.client_id ? bj::value(*p.client_id) : bj::value()},
      {"needsReauthorization", p.needs_reauth},
      {"connectedAccount", p.status == "onboarded" && p.connected_account
                               ? bj::value(account_json(*p.connected_account))
                               : bj::value()}};
  if (ctx.version == "beta")
    o["onboardingRequestExpiryDateTime"] =
        p.status == "onboarding" ? bj::value(iso8601(p.onboarding_expires_at)) : bj::value();
  // What an onboarding in progress holds is its administrator's alone: the authorization URL
  // carries its state and PKCE challenge, and the account waiting for confirmation is theirs to
  // accept or refuse.
  if (began_onboarding(ctx, p)) {
    if (!p.pending_state.empty())
      o["authorizationUrl"] = ctx.svc.partner->authorization_url(p, pending_redirect_uri(ctx, p));
    if (p.pending_account) o["pendingAccount"] = account_json(*p.pending_account);
  }
  return o;
}

Result<Partner> partner_for(Ctx& ctx, const char* action) {
  auto g = require(ctx, action);
  if (!g) return g.error();
  if (ctx.req.params["id"] != kPartnerId)
    return not_found(
        fmt::format("Remote assistance partner '{}' does not exist.", ctx.req.params["id"]));
  return load_partner(ctx.svc, ctx.db(), now_ms());
}

// ---------------------------------------------------------------- partner endpoints

Result<net::Response> list_partners(Ctx& ctx) {
  auto g = require(ctx, actions::kRemoteAssistanceRead);
  if (!g) return g.error();
  auto p = load_partner(ctx.svc, ctx.db(), now_ms());
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
    PartnerChanges c{*name, *url, *cid, std::nullopt, reset};
    if (*secret) c.client_secret_sealed = seal(ctx.svc, **secret);
    if (auto r = update_partner(s, c, now_ms()); !r) return r;
    bj::object details;
    if (*url) details["onboardingUrl"] = **url;
    if (*cid) details["clientId"] = **cid;
    if (*secret) details["clientSecretChanged"] = true;
    return audit(s, ctx,
                 {"updateRemoteAssistancePartner", "success", "remoteAssistancePartner", kPartnerId,
                  p->display_name, std::move(details)});
  });
  if (!st) return st.error();
  auto fresh = load_partner(ctx.svc, ctx.db(), now_ms());
  if (!fresh) return fresh.error();
  return entity_response(ctx, partner_json(ctx, *fresh),
                         "deviceManagement/remoteAssistancePartners/$entity");
}

// ---------------------------------------------------------------- settings

constexpr const char* kSettingsContext = "deviceManagement/remoteAssistanceSettings/$entity";

// microsoft.graph.remoteAssistanceSettings (beta). Its Graph properties (remoteAssistanceState,
// allowSessionsToUnenrolledDevices, blockChat) have no counterpart in Reach and are left out.
bj::object settings_json(const RaSettings& s) {
  return bj::object{{"@odata.type", "#microsoft.graph.remoteAssistanceSettings"},
                    {"id", s.id},
                    // Reach's: the screen stream uses no H.264, only Tight (lossless and JPEG).
                    {"blockH264", s.block_h264}};
}

// Read and changed with the connector's actions, over any scope: the settings are the whole
// organisation's, as the connector is.
Result<net::Response> get_settings(Ctx& ctx) {
  auto g = require(ctx, actions::kRemoteAssistanceRead);
  if (!g) return g.error();
  auto s = load_ra_settings(ctx.db());
  if (!s) return s.error();
  return entity_response(ctx, settings_json(*s), kSettingsContext);
}

Result<net::Response> patch_settings(Ctx& ctx) {
  auto g = require(ctx, actions::kRemoteAssistanceUpdate);
  if (!g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"blockH264"}); !st) return st.error();
  if (auto it = body->find("blockH264"); it != body->end() && it->value().is_null())
    return bad_request("Property 'blockH264' must be a boolean.");
  auto block = json::opt_bool(*body, "blockH264");
  if (!block) return block.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto before = load_ra_settings(s);
    if (!before) return before.error();
    if (auto r = update_ra_settings(s, {*block}, now_ms()); !r) return r;
    bj::object details;
    if (*block) details["blockH264"] = **block;
    return audit(s, ctx,
                 {"updateRemoteAssistanceSettings", "success", "remoteAssistanceSettings",
                  before->id, "Remote assistance settings", std::move(details)});
  });
  if (!st) return st.error();
  auto fresh = load_ra_settings(ctx.db());
  if (!fresh) return fresh.error();
  return entity_response(ctx, settings_json(*fresh), kSettingsContext);
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
  std::string browser = crypto::random_token(32);
  auto ttl = ctx.svc.config.onboarding_ttl.count();
  auto expires = now_ms() + ttl;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    PendingOnboarding pending{seal(ctx.svc, state), seal(ctx.svc, verifier),     ctx.who().user_id,
                              redirect_uri(ctx),    crypto::sha256_hex(browser), expires};
    if (auto r = begin_pending_onboarding(s, pending, now_ms()); !r) return r;
    return audit(s, ctx,
                 {"beginRemoteAssistanceOnboarding", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name, bj::object{{"relay", *p->relay_url}}});
  });
  if (!st) return st.error();
  // A grant held for confirmation by an onboarding this one replaces is given back.
  if (p->pending_tokens) (void)ctx.partner().revoke(*p, p->pending_tokens->refresh_token);
  auto r = net::Response::empty(204);
  r.headers.add("Set-Cookie", onboarding_cookie(ctx, browser, (ttl + 999) / 1000));
  return r;
}

// POST …/confirmOnboarding: the administrator who began the onboarding accepts the account the
// relay says consented (pendingAccount). Until then the grant is held, unused.
Result<net::Response> confirm_onboarding(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  if (!ctx.req.body.empty()) return bad_request("confirmOnboarding takes no request body.");
  if (p->status != "onboarding" || !p->pending_account)
    return make_error(Errc::conflict, "noPendingOnboarding",
                      "There is no authorisation waiting for confirmation: connect again.");
  if (!began_onboarding(ctx, *p))
    return forbidden("Only the administrator who began connecting can confirm the account.");
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = confirm_pending_grant(ctx.svc, s, now_ms()); !r) return r;
    return audit(
        s, ctx,
        {"completeRemoteAssistanceOnboarding", "success", "remoteAssistancePartner", kPartnerId,
         p->display_name,
         bj::object{{"relay", p->relay_url.value_or("")}, {"account", p->pending_account->email}}});
  });
  if (!st) return st.error();
  log::info("connector.onboarded",
            {{"relay", p->relay_url.value_or("")}, {"account", p->pending_account->id}});
  return net::Response::empty(204);
}

// POST …/cancelOnboarding: ends an onboarding in progress (any holder of the Update action), and
// gives back a grant held for confirmation.
Result<net::Response> cancel_pending_onboarding(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  if (!ctx.req.body.empty()) return bad_request("cancelOnboarding takes no request body.");
  if (p->status != "onboarding")
    return make_error(Errc::conflict, "noPendingOnboarding", "No onboarding is in progress.");
  bool revoked = p->pending_tokens && ctx.partner().revoke(*p, p->pending_tokens->refresh_token);
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = cancel_onboarding(s); !r) return r;
    bj::object details{{"revokedAtRelay", revoked}};
    if (p->pending_account) details["account"] = p->pending_account->email;
    return audit(s, ctx,
                 {"cancelRemoteAssistanceOnboarding", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name, std::move(details)});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

Result<net::Response> disconnect(Ctx& ctx) {
  auto p = partner_for(ctx, actions::kRemoteAssistanceUpdate);
  if (!p) return p.error();
  bool revoked = ctx.partner().revoke(*p, p->refresh_token);
  if (p->pending_tokens) (void)ctx.partner().revoke(*p, p->pending_tokens->refresh_token);
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = forget_grant(s, now_ms()); !r) return r;
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
  auto p = load_partner(ctx.svc, ctx.db(), now_ms());
  if (!p) return p.error();
  std::string state(ctx.req.query_param("state").value_or(""));
  auto browser = ctx.req.cookie(kOnboardingCookie);
  // The session cookie is SameSite=Strict and does not come with the relay's (possibly
  // cross-site) redirect: the callback is the pending onboarding's by its state, which only its
  // administrator was shown, and by the nonce only that administrator's browser holds.
  bool bound = p->status == "onboarding" && !p->pending_state.empty() &&
               crypto::constant_time_equal(state, p->pending_state) && browser &&
               !p->pending_browser_hash.empty() &&
               crypto::constant_time_equal(crypto::sha256_hex(*browser), p->pending_browser_hash);
  if (!bound) {
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", "stateMismatch"}}});
    return page(400, "Connection not completed",
                "This answer from the relay does not belong to an onboarding begun in this "
                "browser (or it expired). Start again: Remote assistance connector > Connect.",
                "stateMismatch");
  }
  if (auto who = find_user(ctx.db(), p->pending_user_id))
    ctx.principal =
        Principal{who->id, who->display_name, who->user_principal_name, who->licensed, true};
  auto finish = [&](net::Response r) {
    r.headers.add("Set-Cookie", onboarding_cookie(ctx, "", 0));
    return r;
  };
  if (auto err_param = ctx.req.query_param("error")) {
    std::string err(*err_param);
    if (auto r = cancel_onboarding(ctx.db()); !r) return r.error();
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", err}}});
    return finish(page(400, "Connection refused",
                       "The relay did not authorise the connector (" + err + ").", "refused"));
  }
  std::string code(ctx.req.query_param("code").value_or(""));
  if (code.empty())
    return finish(page(400, "Connection not completed", "The relay sent no code.", "noCode"));
  auto t = ctx.partner().exchange_code(*p, code, pending_redirect_uri(ctx, *p));
  if (!t) return t.error();
  if (!t->granted) {
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", t->error}}});
    return finish(page(502, "Connection not completed",
                       "The relay refused to exchange the code (" + t->error + "). Start again.",
                       "exchangeFailed"));
  }
  // Whose grant this is: the administrator confirms it before the hub uses it, so that a grant
  // made by someone else's relay account is seen, and refused, before any session goes there.
  auto account = ctx.partner().account(*p, t->tokens.access_token);
  if (!account) {
    (void)ctx.partner().revoke(*p, t->tokens.refresh_token);
    if (auto r = cancel_onboarding(ctx.db()); !r) return r.error();
    audit_now(ctx, {"completeRemoteAssistanceOnboarding", "failure", "remoteAssistancePartner",
                    kPartnerId, p->display_name, bj::object{{"reason", "accountUnknown"}}});
    return finish(page(502, "Connection not completed",
                       "The relay did not say which account authorised the connector. Start "
                       "again.",
                       "exchangeFailed"));
  }
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = hold_pending_grant(ctx.svc, s, t->tokens, *account, now_ms()); !r) return r;
    return audit(s, ctx,
                 {"authorizeRemoteAssistanceOnboarding", "success", "remoteAssistancePartner",
                  kPartnerId, p->display_name,
                  bj::object{{"relay", p->relay_url.value_or("")}, {"account", account->email}}});
  });
  if (!st) return st.error();
  return finish(page(200, "Confirm the relay account",
                     "The relay authorised the connector for " + account->email +
                         ". Confirm this account in the admin center to finish connecting.",
                     "confirm"));
}

// ---------------------------------------------------------------- requestRemoteAssistance

// The eligibility rules' answer (ra_rules.h) as a Graph error; nullopt when the device may be
// helped.
std::optional<Error> ineligible(const RaDevice& d, const Partner& p) {
  auto why = hub::ineligible(d.facts);
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
  return make_error(Errc::conflict, std::string(error_code(*why)), std::move(message));
}

// Brings open requests up to date: one nobody answered in time has expired, and one whose
// session the relay has closed (ended at either end, or by its portal) is over even if the
// device never reported it. `grace_ms`: how long after the relay closed it the device's own
// report (with its reason) is waited for. Returns the requests still open.
std::vector<OpenRaSession> reconcile(Ctx& ctx, const std::vector<OpenRaSession>& open,
                                     std::int64_t grace_ms) {
  std::vector<OpenRaSession> still;
  auto now = now_ms();
  for (const auto& r : open) {
    std::string event, detail;
    if (r.valid_until <= now && r.state != "active") {
      event = "expired";
      detail = "expired";
    } else {
      auto got = ctx.partner().get_session(r.code);
      // The relay is away, or the session is on: keep what is known.
      if (!got || got->state != "closed" || !got->closed_at || *got->closed_at + grace_ms > now) {
        still.push_back(r);
        continue;
      }
      event = "ended";
      detail = "closedAtRelay";
    }
    std::string close_at_partner;
    auto st = ctx.db().transaction([&](store::Session& s) -> Status {
      close_at_partner.clear();
      return apply_session_event(s, r.notification_id, event, detail, now, &close_at_partner);
    });
    if (!st) {
      log::warn("ra.reconcile_failed", {{"session", r.id}, {"error", st.error().message}});
      still.push_back(r);
      continue;
    }
    publish_device(ctx.svc, r.device_id);
    if (!close_at_partner.empty()) ctx.svc.partner_closer->close(close_at_partner);
  }
  return still;
}

void reconcile_open_sessions(Ctx& ctx) {
  auto open = open_ra_sessions(ctx.db());
  if (open) (void)reconcile(ctx, *open, ctx.svc.config.relay_close_grace.count());
}

Result<net::Response> create_request(Ctx& ctx, const RaDevice& d);

Result<net::Response> request_remote_assistance(Ctx& ctx) {
  auto g = require(ctx, actions::kRequestRemoteAssistance);
  if (!g) return g.error();
  std::string id = ctx.req.params["id"];
  auto found = find_ra_device(ctx.db(), id);
  if (!found) return found.error();
  if (!*found) return not_found(fmt::format("Managed device '{}' does not exist.", id));
  if (auto st = check_device_scope(ctx, *g, id); !st) return st.error();
  const RaDevice& d = **found;
  const std::string& name = d.name;
  if (!ctx.req.body.empty() && ctx.req.body.find_first_not_of(" \r\n\t") != std::string::npos)
    return bad_request("requestRemoteAssistance takes no request body.");

  auto p = load_partner(ctx.svc, ctx.db(), now_ms());
  if (!p) return p.error();
  auto refuse = [&](const Error& e) -> Result<net::Response> {
    audit_now(ctx, {"requestRemoteAssistance", "failure", "managedDevice", id, name,
                    bj::object{{"reason", e.code}}});
    return e;
  };
  if (auto why = ineligible(d, *p)) return refuse(*why);
  if (p->status != "onboarded") return refuse(connector_not_onboarded());
  if (p->needs_reauth) return refuse(connector_needs_reauth());

  // One open request per device. What the relay has already ended (a lost connection, an end
  // the device never reported) does not hold up a new one; a request still waiting is said so,
  // with when it was sent: the administrator resends or cancels it.
  auto open = open_ra_sessions(ctx.db(), id);
  if (!open) return open.error();
  auto still = reconcile(ctx, *open, 0);
  if (!still.empty()) {
    const OpenRaSession& o = still.back();
    if (o.state == "requested")
      return refuse(make_error(
          Errc::conflict, "remoteAssistanceRequestPending",
          fmt::format("A request sent at {} is still waiting for the user to accept it. Resend "
                      "it, or cancel it, on the device's page.",
                      iso8601(o.created_at))));
    return refuse(make_error(Errc::conflict, "remoteAssistanceSessionInProgress",
                             "A remote assistance session is already under way on this device. "
                             "Cancel it, or wait until it ends."));
  }
  return create_request(ctx, d);
}

// Creates the partner session for a request on `d`, records it and notifies the device: what
// requestRemoteAssistance and a resend do once the request may be made.
Result<net::Response> create_request(Ctx& ctx, const RaDevice& d) {
  const std::string& id = d.id;
  const std::string& name = d.name;
  auto created = ctx.partner().create_session(
      {"Reach hub", name, d.user_display_name, d.user_principal_name,
       json::serialize(bj::object{{"deviceId", id}, {"requestedBy", ctx.who().upn}})});
  auto record_failure = [&](const Error& e) {
    auto st = ctx.db().transaction([&](store::Session& s) -> Status {
      if (auto r = set_ra_error(s, id, e.message); !r) return r;
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

  // The device names the organisation beside the requester ("allow this session to start?").
  auto org = find_organization(ctx.db());
  if (!org) return org.error();
  std::string organization = org->display_name;
  // What the organisation lets the screen stream use (the agent takes H.264 as allowed when a
  // notification does not say).
  auto settings = load_ra_settings(ctx.db());
  if (!settings) return settings.error();
  std::string session_id = crypto::uuid_v4();
  std::string notification_id;
  auto now = now_ms();
  // The session's end-to-end binding (docs/session-security.md): a secret both links carry in
  // their fragment (never sent to the relay), and the device key's fingerprint in the
  // supporter's, so that its viewer takes no picture from another key.
  std::string secret = crypto::random_bytes(link::kSessionSecretBytes);
  std::string fingerprint =
      d.e2e_public_key.empty() ? "" : link::device_key_fingerprint(d.e2e_public_key);
  std::string supporter_link = created->supporter_link + link::link_fragment(secret, fingerprint);
  std::string end_customer_link = created->end_customer_link + link::link_fragment(secret, "");
  auto st = ctx.db().transaction([&](store::Session& tx) -> Status {
    NotificationSpec spec{"remoteAssistanceRequest", "Remote assistance request", kRequestText,
                          // The device's way in: sealed at rest like the supporter link;
                          // the channel opens it for the device alone.
                          bj::object{{kSealedEndCustomerLink, seal(ctx.svc, end_customer_link)},
                                     {"sessionCode", created->code},
                                     {"requestedBy", ctx.who().display_name},
                                     {"organization", organization},
                                     {"remoteAssistanceSessionId", session_id},
                                     {"h264", !settings->block_h264}},
                          created->valid_until};
    auto n = queue_notification(tx, id, spec, now);
    if (!n) return n.error();
    notification_id = *n;
    auto r = insert_ra_session(
        tx, {session_id, id, ctx.who().user_id, ctx.who().upn, created->code,
             seal(ctx.svc, supporter_link), notification_id, now, created->valid_until});
    if (!r) return r;
    if (auto u = set_ra_error(tx, id, std::nullopt); !u) return u;
    if (auto a = set_action(tx, id, "pending", true); !a) return a;
    return audit(tx, ctx,
                 {"requestRemoteAssistance", "success", "managedDevice", id, name,
                  bj::object{{"sessionCode", created->code},
                             {"remoteAssistanceSessionId", session_id},
                             {"notificationId", notification_id}}});
  });
  if (!st) return st.error();
  wake_device(ctx.svc, id);
  publish_device(ctx.svc, id);
  log::info("ra.requested", {{"device", id}, {"code", created->code}, {"by", ctx.who().upn}});
  return net::Response::empty(204);
}

// A request of the caller's reach (RequestRemoteAssistance over its device) by the id in the
// path, with its device; 404 when there is none.
struct RequestInScope {
  OpenRaSession request;
  RaDevice device;
};
Result<RequestInScope> request_in_scope(Ctx& ctx) {
  auto g = require(ctx, actions::kRequestRemoteAssistance);
  if (!g) return g.error();
  if (!ctx.req.body.empty() && ctx.req.body.find_first_not_of(" \r\n\t") != std::string::npos)
    return bad_request("This action takes no request body.");
  std::string id = ctx.req.params["id"];
  auto r = find_ra_session(ctx.db(), id);
  if (!r) return r.error();
  if (!*r) return not_found(fmt::format("Remote assistance session '{}' does not exist.", id));
  if (auto st = check_device_scope(ctx, *g, (*r)->device_id); !st) return st.error();
  auto d = find_ra_device(ctx.db(), (*r)->device_id);
  if (!d) return d.error();
  if (!*d) return not_found("The session's device no longer exists.");
  return RequestInScope{**r, **d};
}

// Ends a request that has no running session (`reason`: cancelledByAdministrator, resent): its
// notification is withdrawn (an answer the device still sends is refused as expired) and its
// session is closed at the relay.
Status cancel_request(Ctx& ctx, const RequestInScope& r, const std::string& reason) {
  if (r.request.state == "active")
    return make_error(Errc::conflict, "remoteAssistanceSessionInProgress",
                      "The session is running: end it in the viewer.");
  if (r.request.state != "requested" && r.request.state != "accepted" &&
      r.request.state != "allowed")
    return make_error(Errc::conflict, "remoteAssistanceRequestNotOpen",
                      fmt::format("The request has already ended ({}).", r.request.state));
  std::string close_at_partner;
  auto now = now_ms();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    close_at_partner.clear();
    if (auto a = apply_session_event(s, r.request.notification_id, "ended", reason, now,
                                     &close_at_partner);
        !a)
      return a;
    if (auto w = withdraw_notification(s, r.request.notification_id, now); !w) return w;
    return audit(
        s, ctx,
        {"cancelRemoteAssistanceRequest", "success", "managedDevice", r.device.id, r.device.name,
         bj::object{{"sessionCode", r.request.code},
                    {"remoteAssistanceSessionId", r.request.id},
                    {"reason", reason}}});
  });
  if (!st) return st;
  if (!close_at_partner.empty()) ctx.svc.partner_closer->close(close_at_partner);
  publish_device(ctx.svc, r.device.id);
  log::info("ra.cancelled",
            {{"device", r.device.id}, {"code", r.request.code}, {"reason", reason}});
  return {};
}

// POST /api/remoteAssistanceSessions/{id}/cancel
Result<net::Response> handle_cancel_request(Ctx& ctx) {
  auto r = request_in_scope(ctx);
  if (!r) return r.error();
  if (auto st = cancel_request(ctx, *r, "cancelledByAdministrator"); !st) return st.error();
  return net::Response::empty(204);
}

// POST /api/remoteAssistanceSessions/{id}/resend: a request still waiting for the user is
// replaced by a new one (a new session, a new notification on the device), as the
// administrator would by cancelling it and asking again.
Result<net::Response> handle_resend_request(Ctx& ctx) {
  auto r = request_in_scope(ctx);
  if (!r) return r.error();
  if (r->request.state != "requested")
    return make_error(Errc::conflict, "remoteAssistanceRequestNotWaiting",
                      "Only a request still waiting for the user can be resent.");
  auto p = load_partner(ctx.svc, ctx.db(), now_ms());
  if (!p) return p.error();
  if (p->status != "onboarded") return connector_not_onboarded();
  if (p->needs_reauth) return connector_needs_reauth();
  if (auto why = ineligible(r->device, *p)) return *why;
  if (auto st = cancel_request(ctx, *r, "resent"); !st) return st.error();
  return create_request(ctx, r->device);
}

// ---------------------------------------------------------------- history

bj::value when(const std::optional<std::int64_t>& at) {
  return at ? bj::value(iso8601(*at)) : bj::value();
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
  auto rows = find_ra_sessions(ctx.db(), where, std::move(params), top + 1);
  if (!rows) return rows.error();
  bj::array value;
  std::string next;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    if (static_cast<int>(i) == top) {
      const auto& last = (*rows)[i - 1];
      std::string token = odata::encode_skiptoken(fmt::format("{}|{}", last.created_at, last.id));
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
    bj::object o{
        {"id", r.id},
        {"deviceId", r.device_id},
        {"deviceName", r.device_name},
        {"requester", bj::object{{"id", r.requester_id}, {"userPrincipalName", r.requester_name}}},
        {"sessionCode", r.code},
        {"state", r.state},
        {"createdDateTime", iso8601(r.created_at)},
        {"validUntilDateTime", iso8601(r.valid_until)},
        {"acceptedDateTime", when(r.accepted_at)},
        {"allowedDateTime", when(r.allowed_at)},
        {"viewOnly", r.view_only ? bj::value(*r.view_only) : bj::value()},
        {"connectedDateTime", when(r.connected_at)},
        {"endedDateTime", when(r.ended_at)},
        {"endReason", r.end_reason ? bj::value(*r.end_reason) : bj::value()},
        {"askedDateTime", when(r.asked_at)},
        {"answerDueDateTime", when(r.answer_due)},
        {"viewOnlyFromDateTime", when(r.view_only_at)}};
    // Consent answers as the user gave them.
    o["userAccepted"] = r.accepted_at           ? bj::value(true)
                        : r.state == "declined" ? bj::value(false)
                                                : bj::value();
    o["userAllowed"] = r.allowed_at          ? bj::value(true)
                       : r.state == "denied" ? bj::value(false)
                                             : bj::value();
    // The device's own record of the consent (link/receipt.h): the hub keeps it and shows
    // whether its checks passed; it cannot make one.
    auto receipt = [](const std::optional<std::string>& text) -> bj::value {
      if (!text) return nullptr;
      auto o = json::parse_object(*text);
      return o ? bj::value(std::move(*o)) : bj::value(*text);
    };
    o["consentReceipt"] =
        bj::object{{"signedByDevice", r.decision_receipt.has_value() && !r.receipt_problem},
                   {"problem", r.receipt_problem ? bj::value(*r.receipt_problem) : bj::value()},
                   {"decision", receipt(r.decision_receipt)},
                   {"end", receipt(r.end_receipt)}};
    o["durationSeconds"] =
        r.connected_at && r.ended_at
            ? bj::value(static_cast<double>(*r.ended_at - *r.connected_at) / 1000.0)
            : bj::value();
    value.push_back(std::move(o));
  }
  bj::object out{{"value", std::move(value)}};
  if (!next.empty()) out["@odata.nextLink"] = next;
  return json_response(200, out);
}

}  // namespace

void register_remote_assistance_routes(Routes& r) {
  r.graph("GET", "/deviceManagement/remoteAssistancePartners", list_partners);
  r.graph("GET", "/deviceManagement/remoteAssistancePartners/{id}", get_partner);
  r.graph("PATCH", "/deviceManagement/remoteAssistancePartners/{id}", patch_partner);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/beginOnboarding",
          begin_onboarding);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/confirmOnboarding",
          confirm_onboarding);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/cancelOnboarding",
          cancel_pending_onboarding);
  r.graph("POST", "/deviceManagement/remoteAssistancePartners/{id}/disconnect", disconnect);
  r.graph("GET", "/deviceManagement/remoteAssistanceSettings", get_settings);
  r.graph("PATCH", "/deviceManagement/remoteAssistanceSettings", patch_settings);
  r.graph("POST", "/deviceManagement/managedDevices/{id}/requestRemoteAssistance",
          request_remote_assistance);
  // No session cookie comes with the relay's redirect (SameSite=Strict): the callback checks its
  // own binding (callback_locked).
  r.api("GET", "/api/remoteAssistance/callback", callback, Auth::none);
  r.api("GET", "/api/remoteAssistanceSessions", list_sessions);
  r.api("POST", "/api/remoteAssistanceSessions/{id}/cancel", handle_cancel_request);
  r.api("POST", "/api/remoteAssistanceSessions/{id}/resend", handle_resend_request);
}

}  // namespace reach::hub
