#include "hub/connector.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/time.h"
#include "hub/internal.h"

#include <algorithm>

namespace reach::hub {
namespace {

namespace bj = boost::json;

// An access token is refreshed this long before it expires, or a quarter of its lifetime before
// when that is shorter.
constexpr std::int64_t kRefreshMargin = 60 * 1000;

// The columns of load_partner, in the order it reads them.
constexpr const char* kPartnerColumns =
    "id, display_name, relay_url, client_id, client_secret, status, onboarding_expires_at,"
    " pending_state, pending_verifier, pending_user_id, access_token, access_expires_at,"
    " refresh_token, needs_reauth, last_connection_at, access_refresh_at, pending_redirect_uri,"
    " pending_browser, pending_tokens, pending_account, connected_account";

// What an onboarding leaves pending, cleared when it ends whichever way.
constexpr const char* kClearPending =
    "pending_state = NULL, pending_verifier = NULL, pending_user_id = NULL,"
    " onboarding_expires_at = NULL, pending_browser = NULL, pending_tokens = NULL,"
    " pending_account = NULL";

std::string unseal(const Services& svc, const std::optional<std::string>& sealed) {
  return crypto::open_text(svc.config.secret_key, sealed.value_or(""));
}

std::string account_text(const PartnerAccount& a) {
  return json::serialize(
      bj::object{{"id", a.id}, {"email", a.email}, {"name", a.name}, {"company", a.company}});
}

// The store wrote it; a row that does not read as an account is no account.
std::optional<PartnerAccount> account_of(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  auto o = json::parse_object(*text);
  if (!o) return std::nullopt;
  auto field = [&](const char* k) {
    auto v = json::opt_string(*o, k);
    return v && *v ? **v : std::string();
  };
  return PartnerAccount{field("id"), field("email"), field("name"), field("company")};
}

std::string tokens_text(const GrantTokens& t) {
  return json::serialize(bj::object{
      {"access", t.access_token}, {"refresh", t.refresh_token}, {"expiresIn", t.expires_in_s}});
}

std::optional<GrantTokens> tokens_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto o = json::parse_object(text);
  if (!o) return std::nullopt;
  auto a = json::opt_string(*o, "access");
  auto r = json::opt_string(*o, "refresh");
  auto e = json::opt_int(*o, "expiresIn");
  if (!a || !*a || !r || !*r || !e || !*e) return std::nullopt;
  return GrantTokens{**a, **r, **e};
}

// The grant's columns set to `t`, obtained at `now`; the statement's text and parameters.
std::string set_tokens_sql() {
  return "access_token = ?, refresh_token = ?, access_expires_at = ?, access_refresh_at = ?,"
         " needs_reauth = 0, last_connection_at = ?, updated_at = ?";
}
store::Params tokens_params(const Services& svc, const GrantTokens& t, std::int64_t now) {
  auto life = t.expires_in_s * 1000;
  return {seal(svc, t.access_token),
          seal(svc, t.refresh_token),
          now + life,
          refresh_time(now, life),
          now,
          now};
}

}  // namespace

std::string seal(const Services& svc, const std::string& plain) {
  return crypto::seal_text(svc.config.secret_key, plain);
}

std::int64_t refresh_time(std::int64_t now, std::int64_t life_ms) {
  return now + life_ms - std::min(kRefreshMargin, life_ms / 4);
}

bool needs_refresh(const Partner& p, const std::optional<std::string>& refused, std::int64_t now) {
  return (refused && *refused == p.access_token) || p.access_refresh_at <= now;
}

Error connector_not_onboarded() {
  return make_error(Errc::conflict, "remoteAssistanceConnectorNotOnboarded",
                    "The remote assistance connector is not connected: Tenant administration > "
                    "Connectors and tokens > Remote assistance connector > Connect.");
}

Error connector_needs_reauth() {
  return make_error(Errc::conflict, "remoteAssistanceConnectorNeedsReauthorization",
                    "The remote assistance connector needs to be re-authorised: the relay no "
                    "longer accepts its grant. Connect it again (Tenant administration > "
                    "Connectors and tokens > Remote assistance connector).");
}

bool onboarding_lapsed(const Partner& p, std::int64_t now) {
  return p.status == "onboarding" && p.onboarding_expires_at <= now;
}

Result<Partner> load_partner(const Services& svc, store::Session& s, std::int64_t now) {
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
  p.refresh_token = unseal(svc, r.opt_text(12));
  p.needs_reauth = r.boolean(13);
  p.last_connection_at = r.integer(14);
  p.access_refresh_at = r.integer(15);
  p.pending_redirect_uri = r.text(16);
  p.pending_browser_hash = r.text(17);
  p.pending_tokens = tokens_of(unseal(svc, r.opt_text(18)));
  p.pending_account = account_of(r.opt_text(19));
  if (!p.pending_tokens || !p.pending_account) p.pending_tokens.reset(), p.pending_account.reset();
  p.connected_account = account_of(r.opt_text(20));
  if (onboarding_lapsed(p, now)) {
    // A grant held for confirmation and never confirmed stays unused; the partner's own expiry
    // of its refresh token ends it there.
    auto u = s.exec(std::string("UPDATE ra_partners SET status = 'notOnboarded', ") +
                        kClearPending + " WHERE id = ? AND status = 'onboarding'",
                    {kPartnerId});
    if (!u) return u.error();
    p.status = "notOnboarded";
    p.pending_state.clear();
    p.pending_user_id.clear();
    p.pending_browser_hash.clear();
    p.pending_tokens.reset();
    p.pending_account.reset();
  }
  return p;
}

Status store_tokens(const Services& svc, store::Session& s, const GrantTokens& t) {
  auto params = tokens_params(svc, t, now_ms());
  params.emplace_back(kPartnerId);
  return store::exec_ok(s, "UPDATE ra_partners SET " + set_tokens_sql() + " WHERE id = ?", params);
}

Status hold_pending_grant(const Services& svc, store::Session& s, const GrantTokens& t,
                          const PartnerAccount& account, std::int64_t now) {
  return store::exec_ok(
      s,
      "UPDATE ra_partners SET pending_tokens = ?, pending_account = ?, pending_state = NULL,"
      " pending_verifier = NULL, pending_browser = NULL, updated_at = ?"
      " WHERE id = ? AND status = 'onboarding'",
      {seal(svc, tokens_text(t)), account_text(account), now, kPartnerId});
}

Status confirm_pending_grant(const Services& svc, store::Session& s, std::int64_t now) {
  auto p = load_partner(svc, s, now);
  if (!p) return p.error();
  if (p->status != "onboarding" || !p->pending_tokens || !p->pending_account)
    return make_error(Errc::conflict, "noPendingOnboarding",
                      "There is no authorisation waiting for confirmation: connect again.");
  auto params = tokens_params(svc, *p->pending_tokens, now);
  params.emplace_back(account_text(*p->pending_account));
  params.emplace_back(kPartnerId);
  return store::exec_ok(s,
                        "UPDATE ra_partners SET " + set_tokens_sql() +
                            ", status = 'onboarded', connected_account = ?, " + kClearPending +
                            " WHERE id = ?",
                        params);
}

Status mark_needs_reauth(store::Session& s) {
  return store::exec_ok(s, "UPDATE ra_partners SET needs_reauth = 1, updated_at = ? WHERE id = ?",
                        {now_ms(), kPartnerId});
}

Status configure_connector(store::Session& s, const std::string& key, const std::string& relay_url,
                           const std::string& client_id, const std::string& client_secret) {
  if (!relay_url.starts_with("http://") && !relay_url.starts_with("https://"))
    return bad_request("--relay-url must be the relay's http:// or https:// URL.");
  if (client_id.empty() || client_secret.empty())
    return bad_request("Both the client id and the client secret are needed.");
  return store::exec_ok(
      s,
      std::string("UPDATE ra_partners SET relay_url = ?, client_id = ?, client_secret = ?,"
                  " status = 'notOnboarded', access_token = NULL, refresh_token = NULL,"
                  " access_expires_at = NULL, needs_reauth = 0, connected_account = NULL, ") +
          kClearPending + ", updated_at = ? WHERE id = ?",
      {relay_url, client_id, crypto::base64_encode(crypto::seal(key, client_secret)), now_ms(),
       kPartnerId});
}

Status update_partner(store::Session& s, const PartnerChanges& c, std::int64_t now) {
  return store::exec_ok(
      s,
      std::string("UPDATE ra_partners SET display_name = COALESCE(?, display_name),"
                  " relay_url = COALESCE(?, relay_url), client_id = COALESCE(?, client_id),"
                  " client_secret = COALESCE(?, client_secret), updated_at = ?") +
          (c.reset ? std::string(", status = 'notOnboarded', access_token = NULL,"
                                 " refresh_token = NULL, access_expires_at = NULL,"
                                 " needs_reauth = 0, connected_account = NULL, ") +
                         kClearPending
                   : std::string()) +
          " WHERE id = ?",
      {c.display_name, c.relay_url, c.client_id, c.client_secret_sealed, now, kPartnerId});
}

Status begin_pending_onboarding(store::Session& s, const PendingOnboarding& p, std::int64_t now) {
  return store::exec_ok(
      s,
      "UPDATE ra_partners SET status = 'onboarding', pending_state = ?, pending_verifier = ?,"
      " pending_user_id = ?, pending_redirect_uri = ?, onboarding_expires_at = ?,"
      " pending_browser = ?, pending_tokens = NULL, pending_account = NULL, updated_at = ?"
      " WHERE id = ?",
      {p.state_sealed, p.verifier_sealed, p.user_id, p.redirect_uri, p.expires_at, p.browser_hash,
       now, kPartnerId});
}

Status cancel_onboarding(store::Session& s) {
  return store::exec_ok(s,
                        std::string("UPDATE ra_partners SET status = 'notOnboarded', ") +
                            kClearPending + " WHERE id = ?",
                        {kPartnerId});
}

Status forget_grant(store::Session& s, std::int64_t now) {
  return store::exec_ok(
      s,
      std::string("UPDATE ra_partners SET status = 'notOnboarded', access_token = NULL,"
                  " refresh_token = NULL, access_expires_at = NULL, needs_reauth = 0,"
                  " connected_account = NULL, ") +
          kClearPending + ", updated_at = ? WHERE id = ?",
      {now, kPartnerId});
}

}  // namespace reach::hub
