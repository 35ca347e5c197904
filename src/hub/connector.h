// The remote assistance connector's record (ra_partners, one row): where the partner is, the hub's
// OAuth client there, the onboarding in progress and the grant's tokens. Secrets are sealed at
// rest with the data directory's key and unsealed only in this struct, in memory.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reach::hub {

struct Services;

inline constexpr const char* kPartnerId = "6f0c1bde-5a43-4c1e-9a6e-7d3b8e2f0a11";

// The partner's account that consented to a grant (the relay's GET /api/v1/account): whose
// supporter portal every session the hub creates will appear in.
struct PartnerAccount {
  std::string id, email, name, company;
};

// The tokens of a grant, as the partner's token endpoint gave them.
struct GrantTokens {
  std::string access_token, refresh_token;
  std::int64_t expires_in_s = 0;
};

struct Partner {
  std::string id, display_name;
  std::optional<std::string> relay_url, client_id, client_secret;  // secret unsealed
  std::string status;  // notOnboarded, onboarding, onboarded
  std::int64_t onboarding_expires_at = 0;
  std::string pending_state, pending_verifier, pending_user_id;  // unsealed
  // The redirect URI of the pending authorization, as the node that began it built it: the code
  // exchange must present the same one, whichever node the relay sends the browser back to.
  std::string pending_redirect_uri;
  // SHA-256 of the nonce the beginning administrator's browser holds in its onboarding cookie:
  // the callback is taken only from that browser.
  std::string pending_browser_hash;
  // A grant the partner gave, waiting for the administrator to confirm the account that consented
  // (nothing uses it until then); both set or neither.
  std::optional<GrantTokens> pending_tokens;  // unsealed
  std::optional<PartnerAccount> pending_account;
  // The account the grant in use belongs to (onboarded).
  std::optional<PartnerAccount> connected_account;
  std::string access_token, refresh_token;  // unsealed
  std::int64_t access_expires_at = 0;
  std::int64_t access_refresh_at = 0;  // when the access token is to be refreshed
  bool needs_reauth = false;
  std::int64_t last_connection_at = 0;
};

// When an access token that lives `life_ms` from `now` is to be refreshed: a minute before it
// expires, or a quarter of its life before when that is shorter.
std::int64_t refresh_time(std::int64_t now, std::int64_t life_ms);

// Whether the stored access token must be refreshed before it is used at `now`: its refresh time
// has come, or the partner refused this very token (`refused`; a token already replaced by
// another node's refresh is not refreshed again).
bool needs_refresh(const Partner& p, const std::optional<std::string>& refused, std::int64_t now);

// Whether an onboarding started but not completed has run out of time at `now` (SPEC §3.1).
bool onboarding_lapsed(const Partner& p, std::int64_t now);

// Loads the record as it is at `now`. An onboarding that lapsed falls back to notOnboarded here,
// for whoever reads it first.
Result<Partner> load_partner(const Services& svc, store::Session& s, std::int64_t now);

// Stores a refreshed grant's tokens (rotation: the new refresh token replaces the old).
Status store_tokens(const Services& svc, store::Session& s, const GrantTokens& t);

// Marks the grant refused by the partner: an administrator must connect again.
Status mark_needs_reauth(store::Session& s);

// An administrator's change of the record; nullopt leaves a field as it is. `reset`: a new relay
// or client makes the stored grant meaningless, and the record goes back to notOnboarded.
struct PartnerChanges {
  std::optional<std::string> display_name, relay_url, client_id;
  std::optional<std::string> client_secret_sealed;
  bool reset = false;
};
Status update_partner(store::Session& s, const PartnerChanges& c, std::int64_t now);
// An onboarding begun by `user_id`: its state and PKCE verifier (sealed), the redirect URI it
// told the partner, and until when its callback is taken.
// `browser_hash`: the SHA-256 of the nonce in that administrator's onboarding cookie.
struct PendingOnboarding {
  std::string state_sealed, verifier_sealed, user_id, redirect_uri, browser_hash;
  std::int64_t expires_at = 0;
};
Status begin_pending_onboarding(store::Session& s, const PendingOnboarding& p, std::int64_t now);
// The partner granted the onboarding to `account`: the grant waits for the administrator's
// confirmation. The state and verifier are forgotten (the callback cannot be taken twice).
Status hold_pending_grant(const Services& svc, store::Session& s, const GrantTokens& t,
                          const PartnerAccount& account, std::int64_t now);
// The administrator confirmed the account: the held grant becomes the connector's (onboarded).
// Fails with a conflict when no grant is held any more.
Status confirm_pending_grant(const Services& svc, store::Session& s, std::int64_t now);
// The partner refused the onboarding, or the administrator did not confirm it: back to
// notOnboarded, nothing pending.
Status cancel_onboarding(store::Session& s);
// Forgets the grant and anything pending: notOnboarded.
Status forget_grant(store::Session& s, std::int64_t now);

std::string seal(const Services& svc, const std::string& plain);

Error connector_not_onboarded();
Error connector_needs_reauth();

}  // namespace reach::hub
