// The remote assistance partner as the hub's connector uses it: sessions shaped like the
// TeamViewer Web API's (POST /api/v1/sessions, GET /api/v1/sessions/{code}), and the OAuth 2
// client side of the connector's grant (authorization code with PKCE, rotating refresh tokens,
// RFC 7009 revocation). The relay is the one partner today (RelayPartnerClient); another is
// another implementation of this interface.
//
// Errors are ready for the Graph edge: partnerUnreachable and partnerError (502) when the partner
// cannot be reached or answers nonsense, remoteAssistanceConnectorNotOnboarded and
// remoteAssistanceConnectorNeedsReauthorization (409) when there is no usable grant.
#pragma once

#include "common/result.h"
#include "hub/connector.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reach::hub {

struct Services;

// POST /api/v1/sessions's body (TeamViewer Web API, SPEC §4.2).
struct NewPartnerSession {
  std::string groupname, description;
  std::string end_customer_name, end_customer_email;
  std::string custom_api;  // the partner keeps it and gives it back with the session
};

struct PartnerSession {
  std::string code;  // "r123-456-789"
  std::string supporter_link, end_customer_link;
  std::int64_t valid_until = 0;  // ms since the epoch
  std::string state;             // "open" or "closed"
  std::optional<std::int64_t> closed_at;
};

// What the partner's token endpoint said to an authorization code.
struct CodeExchange {
  bool granted = false;
  std::string error;   // the OAuth error when not granted ("invalid_grant", …)
  GrantTokens tokens;  // when granted
};

class PartnerClient {
 public:
  virtual ~PartnerClient() = default;

  virtual Result<PartnerSession> create_session(const NewPartnerSession& request) = 0;
  virtual Result<PartnerSession> get_session(std::string_view code) = 0;
  // Closes the session at the partner (PUT {"state":"closed"}), so that its code and links are
  // dead and its portal no longer offers it. Closing a closed session is no error.
  virtual Status close_session(std::string_view code) = 0;

  // Where the administrator's browser is sent to authorise the connector: the onboarding pending
  // in `p` (its state and PKCE verifier), coming back to `redirect_uri`.
  virtual std::string authorization_url(const Partner& p, const std::string& redirect_uri) = 0;
  // Exchanges the authorization code of the onboarding in `p` for a grant, which it does not
  // store: the caller holds it until the administrator confirms whose it is.
  virtual Result<CodeExchange> exchange_code(const Partner& p, const std::string& code,
                                             const std::string& redirect_uri) = 0;
  // The account a grant's access token acts for (GET /api/v1/account).
  virtual Result<PartnerAccount> account(const Partner& p, const std::string& access_token) = 0;
  // Ends the grant of `refresh_token` at the partner (best effort): whether the partner
  // confirmed it.
  virtual bool revoke(const Partner& p, const std::string& refresh_token) = 0;
};

// Closes partner sessions on a thread of its own, so that a request ended at the hub (declined,
// denied, expired, cancelled) is closed at the partner too without the caller (the agents'
// channel worker, a request handler) waiting on the partner. Best effort: a close that fails is
// logged and dropped, and the partner's own expiry (valid_until) ends the session in any case.
// At most kMaxQueued codes wait; more are dropped (logged). Thread-safe.
class PartnerCloser {
 public:
  static constexpr std::size_t kMaxQueued = 10000;
  explicit PartnerCloser(PartnerClient& partner);
  ~PartnerCloser();  // finishes the close in progress; what is still queued is dropped (logged)
  PartnerCloser(const PartnerCloser&) = delete;
  PartnerCloser& operator=(const PartnerCloser&) = delete;

  void close(std::string code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The relay as the partner. Calls are blocking HTTP on the caller's thread. An access token is
// refreshed shortly before it expires, or when the relay refuses it; refreshes hold the store's
// "connector" lock, on any node, so that a rotating refresh token is never presented twice.
std::unique_ptr<PartnerClient> make_relay_partner_client(Services& svc);

}  // namespace reach::hub
