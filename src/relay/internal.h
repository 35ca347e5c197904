// Internal to the relay module: shared services, the request context and response helpers.
#pragma once

#include "common/json.h"
#include "common/result.h"
#include "common/throttle.h"
#include "link/link.h"
#include "net/http.h"
#include "net/router.h"
#include "relay/oauth_store.h"
#include "relay/page_text.h"
#include "relay/relay.h"
#include "relay/session_record.h"
#include "store/db.h"
#include "store/stored_throttle.h"

#include <boost/json.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace reach::relay {

namespace bj = boost::json;
class Pairing;
class Nodes;
using link::display_code;
using link::normalize_code;
using link::parse_link_ref;

// Runs small jobs (database writes triggered from I/O callbacks) on one thread, in order, so
// that no WebSocket strand ever waits on the database. Thread-safe.
class Background {
 public:
  Background();
  ~Background();  // runs what is queued, then stops
  void post(std::function<void()> job);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::thread thread_;
};

struct Services {
  RelayConfig config;
  std::shared_ptr<store::Database> db;
  std::string key;  // secret-box key of the data directory
  // In the store, so that every node throttles a client alike (a balancer spreads its tries).
  store::StoredThrottle signin_by_email{"signinEmail"}, signin_by_address{"signinAddress"};
  store::StoredThrottle guesses_by_address{"guessAddress"}, guesses_by_code{"guessCode"};
  std::unique_ptr<Pairing> pairing;
  Background background;
  std::unique_ptr<Nodes> nodes;  // set by Relay::join; until then every session is streamed here
  std::function<std::string()> server_stats;
};

struct Ctx {
  Services& svc;
  net::Request& req;
  std::optional<Account> account;

  store::Database& db() { return *svc.db; }
  std::string base_url() const;
};

using Handler = std::function<Result<net::Response>(Ctx&)>;

// --- responses ---
// The Web API's error body: {"error","error_description","error_code"}.
net::Response api_error(const Error& e);
net::Response json_response(int status, const bj::value& v);
net::Response html_page(int status, std::string_view title, std::string_view body,
                        Lang lang = Lang::en);
net::Response redirect(int status, std::string location);
// Error codes of the Web API (TeamViewer's strings).
Error invalid_token(std::string msg);

// --- accounts and cookies (pages.cpp) ---
std::optional<Account> account_from_cookie(Ctx& ctx);
Result<Account> account_from_bearer(Ctx& ctx);

// --- sessions (api.cpp) ---
struct SessionRow;  // defined in api.cpp
// Creates a session for `account` from a TeamViewer-shaped JSON body. `code_join`: the device
// may join with the code alone (portal sessions, read out to the person at the device); other
// sessions admit the device only with the end-customer link.
Result<bj::object> create_session(Ctx& ctx, const Account& account, const bj::object& body,
                                  bool code_join = false);
// The JSON of one session; `full` adds links and texts.
Result<bj::object> session_json(Ctx& ctx, const std::string& code, bool full);

// The one check of session codes and link tokens, for the link pages and the streams (SPEC
// §4.2): a link's token must be the one of its side (the supporter link for Side::supporter,
// the end-customer link for Side::device); the code alone is accepted only for the device end of
// a portal session. Wrong guesses are throttled per client network (client_key) and per code,
// and answered alike (404); a waiting client gets 429. Returns the canonical code of an open
// session; 410 when it has ended or expired.
enum class Side;
enum class Credential { link, code };
Result<std::string> admit(Ctx& ctx, Side side, Credential kind, std::string_view presented);

// Closes both stream ends of a session now, on whichever node holds them (the session was
// closed through the API or portal).
void end_streams(Services& svc, const std::string& code);

// Where the streams of an open session meet (relay/nodes.h): here, or the owning node's URL.
// `stream_base` prefixes the stream paths a page gives its scripts ("" for the page's origin).
struct StreamRoute {
  bool here = true;
  std::string node_url;
  std::string stream_base;
};
Result<StreamRoute> route_streams(Services& svc, const std::string& code);

// --- route registration (one per file) ---
void register_pages(net::Router& r, Services& svc);
void register_oauth(net::Router& r, Services& svc);
void register_api(net::Router& r, Services& svc);

// Wraps a handler: builds the Ctx, turns an Error into the Web API error body.
net::Router::Handler api_route(Services& svc, Handler h, bool needs_token);
// Wraps a page handler: errors become a plain error page.
net::Router::Handler page_route(Services& svc, Handler h);

}  // namespace reach::relay
