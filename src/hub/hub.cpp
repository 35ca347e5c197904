#include "hub/hub.h"

#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/admin_center.h"
#include "hub/channel.h"
#include "hub/events.h"
#include "hub/internal.h"
#include "hub/odata.h"
#include "hub/page_cache.h"
#include "hub/partner_client.h"
#include "hub/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <thread>

namespace reach::hub {

// ---------------------------------------------------------------- Ctx

std::string Ctx::base_url() const {
  if (!svc.config.public_url.empty()) {
    std::string u = svc.config.public_url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }
  std::string host = req.host.empty() ? "localhost" : req.host;
  return (req.tls ? "https://" : "http://") + host;
}

std::string Ctx::context_url(std::string_view what) const {
  return fmt::format("{}/{}/$metadata#{}", base_url(), version.empty() ? "v1.0" : version, what);
}

std::string next_link(const Ctx& ctx, std::string_view last_id) {
  std::string q;
  for (const auto& [k, v] : ctx.req.query) {
    if (k == "$skiptoken" || k == "skiptoken") continue;
    q += q.empty() ? "?" : "&";
    q += net::percent_encode(k) + "=" + net::percent_encode(v);
  }
  q += q.empty() ? "?" : "&";
  q += "$skiptoken=" + odata::encode_skiptoken(last_id);
  return ctx.base_url() + ctx.req.path + q;
}

// ---------------------------------------------------------------- responses

net::Response json_response(int status, const bj::value& v) {
  net::Response r = net::Response::json_text(status, json::serialize(v));
  return r;
}

net::Response entity_response(const Ctx& ctx, bj::object entity, std::string_view what,
                              int status) {
  entity.emplace("@odata.context", ctx.context_url(what));
  return json_response(status, entity);
}

net::Response graph_error(const Error& e, const std::string& request_id) {
  std::string date = iso8601(now_ms()).substr(0, 19);
  bj::object inner{{"request-id", request_id}, {"date", date}};
  bj::object err{{"code", e.code}, {"message", e.message}, {"innerError", std::move(inner)}};
  auto r = json_response(e.status, bj::object{{"error", std::move(err)}});
  r.headers.set("request-id", request_id);
  if (e.status == 401) r.headers.set("WWW-Authenticate", "Bearer");
  return r;
}

net::Response server_error_response(int status, std::string_view code, std::string_view message) {
  std::string graph_code = status == 413   ? "requestTooLarge"
                           : status == 431 ? "requestHeadersTooLarge"
                           : status == 400 ? "invalidRequest"
                                           : std::string(code);
  std::string text = status == 413   ? "The request body is larger than the server accepts."
                     : status == 431 ? "The request headers are larger than the server accepts."
                     : status == 400 ? "The request is not valid HTTP."
                                     : std::string(message);
  return graph_error(make_error(status, graph_code, text), crypto::uuid_v4());
}

// ---------------------------------------------------------------- authentication

bool cross_site(const net::Request& req) {
  auto origin = req.headers.get("Origin");
  auto site = req.headers.get("Sec-Fetch-Site");
  bool cross = site && (*site == "cross-site" || *site == "same-site");
  if (origin && *origin != "null") {
    auto pos = origin->find("://");
    std::string_view host = pos == std::string_view::npos ? *origin : origin->substr(pos + 3);
    cross = cross || host != req.host;
  } else if (origin) {
    cross = true;
  }
  return cross;
}

store::Session& Ctx::reads() {
  if (snapshot_over) return *svc.db;
  if (!snapshot) {
    snapshot = svc.db->read_snapshot();
    if (!snapshot) {
      snapshot_over = true;  // the store gains nothing from one, or has no reader free
      return *svc.db;
    }
  }
  return *snapshot;
}

store::Database& Ctx::db() {
  snapshot_over = true;
  snapshot.reset();
  return *svc.db;
}

PartnerClient& Ctx::partner() {
  (void)db();
  return *svc.partner;
}

Result<Principal> authenticate_user(Ctx& ctx) {
  auto& req = ctx.req;
  std::string hash;
  bool via_cookie = false;
  if (req.headers.get("Authorization")) {
    auto token = net::bearer_token(req.headers);
    if (!token) return unauthenticated("The Authorization header must carry a Bearer token.");
    hash = crypto::sha256_hex(*token);
  } else if (auto cookie = req.cookie("reach_session")) {
    hash = crypto::sha256_hex(*cookie);
    via_cookie = true;
  } else {
    return unauthenticated("Sign in, or send an access token in the Authorization header.");
  }
  auto user = via_cookie ? find_user_by_signin_session(ctx.reads(), hash, now_ms())
                         : find_user_by_api_token(ctx.reads(), hash);
  if (!user) return user.error();
  if (!*user || !(*user)->account_enabled)
    return unauthenticated("The access token or session is invalid, expired or revoked.");
  // CSRF: the cookie is SameSite=Strict (SPEC §10), so browsers send it only with requests a
  // page of the hub's own site starts; any cookie-authenticated state change that still looks
  // cross-site (Origin, Sec-Fetch-Site) is refused here too. The connector's OAuth callback,
  // the one place another site sends the administrator, takes no session cookie: it is bound to
  // the browser that began the onboarding by a cookie of its own (remote_assistance.cpp).
  if (via_cookie && req.method != "GET" && req.method != "HEAD" && cross_site(req))
    return forbidden("Cross-site requests cannot change anything.");
  const User& u = **user;
  return Principal{u.id, u.display_name, u.user_principal_name, u.licensed, via_cookie};
}

// ---------------------------------------------------------------- Routes

void Routes::graph(std::string_view method, std::string_view path, ApiHandler h) {
  add(method, "/v1.0" + std::string(path), "v1.0", h, Auth::user);
  add(method, "/beta" + std::string(path), "beta", std::move(h), Auth::user);
}

void Routes::api(std::string_view method, std::string_view path, ApiHandler h, Auth auth) {
  add(method, std::string(path), "", std::move(h), auth);
}

void Routes::add(std::string_view method, std::string path, std::string version, ApiHandler h,
                 Auth auth) {
  Services* svc = &svc_;
  router_.add(method, path,
              [svc, version = std::move(version), h = std::move(h), auth](net::Request& req) {
                Ctx ctx{*svc, req, crypto::uuid_v4(), version, std::nullopt};
                if (auth == Auth::user) {
                  auto p = authenticate_user(ctx);
                  if (!p) return graph_error(p.error(), ctx.request_id);
                  ctx.principal = std::move(*p);
                }
                Result<net::Response> r = h(ctx);
                net::Response resp = r ? std::move(*r) : graph_error(r.error(), ctx.request_id);
                resp.headers.set("request-id", ctx.request_id);
                return resp;
              });
}

net::Response Routes::dispatch(net::Request& req) {
  const net::Router::Handler* h = nullptr;
  switch (router_.route(req, &h)) {
    case net::Router::Match::found:
      return (*h)(req);
    case net::Router::Match::method_not_allowed:
      return graph_error(make_error(405, "methodNotAllowed",
                                    fmt::format("{} is not allowed on {}.", req.method, req.path)),
                         crypto::uuid_v4());
    case net::Router::Match::not_found:
      break;
  }
  return graph_error(not_found(fmt::format("No resource at {}.", req.path)), crypto::uuid_v4());
}

Result<std::string> time_range_sql(const Ctx& ctx, std::string_view column, store::Params& params) {
  std::string sql;
  for (auto [name, op] : {std::pair{"from", ">="}, std::pair{"to", "<"}}) {
    auto v = ctx.req.query_param(name);
    if (!v) continue;
    auto at = parse_iso8601(*v);
    if (!at)
      return bad_request(
          fmt::format("'{}' must be a date and time in ISO 8601 (2026-12-01T00:00:00Z).", name));
    sql += fmt::format("{}{} {} ?", sql.empty() ? "" : " AND ", column, op);
    params.emplace_back(*at);
  }
  return sql;
}

// ---------------------------------------------------------------- Hub

namespace {
// The API's prefixes; every other path belongs to the admin center.
bool is_api_path(std::string_view path) {
  for (std::string_view prefix : {"/api", "/v1.0", "/beta"})
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/'))
      return true;
  return false;
}

constexpr const char* kDeviceSignals = "reach_hub_devices";

// What the store's signals reach: this hub until it is destroyed (the Database outlives it).
struct SignalTarget {
  std::mutex mu;
  Services* svc = nullptr;  // guarded by mu; null once the hub is gone
};

void signal_device(Services& svc, char what, const std::string& device_id) {
  auto st = svc.db->notify(kDeviceSignals, svc.config.node_name + " " + what + " " + device_id);
  if (!st) log::warn("hub.signal_failed", {{"device", device_id}, {"error", st.error().message}});
}

}  // namespace

void wake_device(Services& svc, const std::string& device_id) {
  svc.channels->wake(device_id);
  signal_device(svc, 'w', device_id);
}

void publish_device(Services& svc, const std::string& device_id) {
  svc.events->publish(device_id);
  signal_device(svc, 'p', device_id);
}

namespace {

// Pushes what is pending to the agents connected here, for notifications queued since `since`
// (another node's signal may have been lost: it died between its commit and its signal, or this
// node's listener was reconnecting).
std::int64_t sweep_outbox(Services& svc, std::int64_t since) {
  std::int64_t now = now_ms();
  auto devices = devices_with_pending(*svc.db, since, now);
  if (!devices) return since;
  for (const auto& d : *devices) svc.channels->wake(d);
  return now;
}

}  // namespace

struct Hub::Impl {
  Services svc;
  Routes routes{svc};
  std::unique_ptr<AdminCenterFiles> admin_center;
  // Destroyed after the channels and requests that queue closes, before svc (its partner).
  std::unique_ptr<PartnerCloser> closer;
  std::unique_ptr<DeviceEvents> events;     // destroyed before svc (declared after it)
  std::unique_ptr<AgentChannels> channels;  // destroyed before svc (declared after it)
  std::shared_ptr<SignalTarget> target = std::make_shared<SignalTarget>();
  std::mutex sweep_mu;
  std::condition_variable sweep_cv;
  bool stopping = false;  // guarded by sweep_mu
  std::thread sweeper;

  void on_signal(const std::string& payload) {
    if (payload.empty()) {  // signals may have been missed: look at everything recent
      sweep_outbox(svc, now_ms() - 10 * 60 * 1000);
      return;
    }
    auto first = payload.find(' ');
    if (first == std::string::npos || first + 3 > payload.size()) return;
    if (std::string_view(payload).substr(0, first) == svc.config.node_name) return;  // ours
    char what = payload[first + 1];
    std::string device = payload.substr(first + 3);
    if (what == 'w') channels->wake(device);
    if (what == 'p') events->publish(device);
  }

  void sweep_loop() {
    std::int64_t since = now_ms();
    std::unique_lock lock(sweep_mu);
    while (!sweep_cv.wait_for(lock, svc.config.outbox_sweep, [&] { return stopping; })) {
      lock.unlock();
      // A margin for clocks and commits in flight: a notification is pushed twice at worst, and
      // the agent's "received" makes that harmless.
      since = sweep_outbox(svc, since - 5000);
      lock.lock();
    }
  }
};

Hub::Hub(HubConfig config, std::shared_ptr<store::Database> db) : impl_(std::make_unique<Impl>()) {
  impl_->svc.config = std::move(config);
  impl_->svc.db = std::move(db);
  impl_->svc.signin_by_email.attach(impl_->svc.db.get());
  impl_->svc.signin_by_address.attach(impl_->svc.db.get());
  impl_->admin_center = std::make_unique<AdminCenterFiles>(impl_->svc.config.admin_dir);
  impl_->channels = std::make_unique<AgentChannels>(impl_->svc);
  impl_->svc.channels = impl_->channels.get();
  impl_->events = std::make_unique<DeviceEvents>();
  impl_->svc.events = impl_->events.get();
  impl_->svc.partner = make_relay_partner_client(impl_->svc);
  impl_->closer = std::make_unique<PartnerCloser>(*impl_->svc.partner);
  impl_->svc.partner_closer = impl_->closer.get();
  if (impl_->svc.config.list_cache_bytes > 0 && impl_->svc.db->backend() == store::Backend::sqlite)
    impl_->svc.list_cache = std::make_shared<PageCache>(impl_->svc.config.list_cache_bytes);
  register_auth_routes(impl_->routes);
  register_directory_routes(impl_->routes);
  register_role_routes(impl_->routes);
  register_device_routes(impl_->routes);
  register_ops_routes(impl_->routes);
  register_remote_assistance_routes(impl_->routes);
  register_summary_routes(impl_->routes);

  impl_->target->svc = &impl_->svc;
  impl_->svc.db->listen(kDeviceSignals,
                        [target = impl_->target, impl = impl_.get()](const std::string& payload) {
                          std::lock_guard lock(target->mu);
                          if (target->svc) impl->on_signal(payload);
                        });
  // One store for one process (SQLite) has no other node whose signal could be lost.
  if (impl_->svc.db->backend() == store::Backend::postgresql)
    impl_->sweeper = std::thread([impl = impl_.get()] { impl->sweep_loop(); });
}

Hub::~Hub() {
  {
    std::lock_guard lock(impl_->target->mu);
    impl_->target->svc = nullptr;
  }
  {
    std::lock_guard lock(impl_->sweep_mu);
    impl_->stopping = true;
  }
  impl_->sweep_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
}

std::shared_ptr<net::WebSocketHandler> Hub::upgrade(net::Request& request, net::Response& reject) {
  net::use_forwarded_client(request, impl_->svc.config.trusted_proxies);
  if (request.path == "/api/events") return impl_->events->accept(impl_->svc, request, reject);
  if (request.path != "/api/agent/channel") {
    reject = graph_error(not_found(fmt::format("No WebSocket endpoint at {}.", request.path)),
                         crypto::uuid_v4());
    return nullptr;
  }
  return impl_->channels->accept(request, reject);
}

void Hub::set_server_stats_source(std::function<std::string()> f) {
  impl_->svc.server_stats = std::move(f);
}

net::Response Hub::handle(net::Request& request) {
  auto& m = impl_->svc.metrics;
  auto start = std::chrono::steady_clock::now();
  ++m.requests;
  net::use_forwarded_client(request, impl_->svc.config.trusted_proxies);
  net::Response r =
      is_api_path(request.path) || (request.method != "GET" && request.method != "HEAD")
          ? impl_->routes.dispatch(request)
          : impl_->admin_center->serve(request);
  if (!r.headers.get("Cache-Control")) r.headers.set("Cache-Control", "no-store");
  r.headers.set("X-Content-Type-Options", "nosniff");
  if (r.status >= 500) {
    ++m.responses_5xx;
  } else if (r.status >= 400) {
    ++m.responses_4xx;
  } else {
    ++m.responses_2xx;
  }
  m.request_micros +=
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
  return r;
}

Result<std::shared_ptr<store::Database>> open_database(const std::string& data_dir,
                                                       const std::string& db_url) {
  auto db =
      store::Database::open(db_url.empty() ? store::database_url(data_dir, "hub.db") : db_url);
  if (!db) return db.error();
  std::shared_ptr<store::Database> shared = std::move(*db);
  if (auto st = shared->migrate(migrations()); !st) return st.error();
  return shared;
}

}  // namespace reach::hub
