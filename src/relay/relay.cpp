#include "relay/relay.h"

#include "common/crypto.h"
#include "common/html.h"
#include "common/log.h"
#include "common/time.h"
#include "relay/codes.h"
#include "relay/internal.h"
#include "relay/nodes.h"
#include "relay/pairing.h"
#include "relay/schema.h"

#include <fmt/format.h>

#include <fstream>

namespace reach::relay {

// ---------------------------------------------------------------- Background

Background::Background() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping with nothing left
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      try {
        job();
      } catch (const std::exception& e) {
        log::error("relay.background_failed", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
}

Background::~Background() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Background::post(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

// ---------------------------------------------------------------- responses

std::string Ctx::base_url() const {
  if (!svc.config.public_url.empty()) {
    std::string u = svc.config.public_url;
    while (!u.empty() && u.back() == '/') u.pop_back();
    return u;
  }
  std::string host = req.host.empty() ? "localhost" : req.host;
  return (req.tls ? "https://" : "http://") + host;
}

namespace {
int error_number(std::string_view code) {
  static const char* kCodes[] = {"invalid_request",    "invalid_token",      "token_expired",
                                 "invalid_permission", "not_found",          "wrong_credentials",
                                 "invalid_client",     "rate_limit_reached", "internal_error",
                                 "conflict",           "session_ended",      "too_many_retries"};
  for (int i = 0; i < static_cast<int>(std::size(kCodes)); ++i)
    if (code == kCodes[i]) return i + 1;
  return 0;
}

std::string api_code(const Error& e) {
  // Errors made by shared helpers carry Graph-style codes; give them the Web API's names.
  if (e.code == "invalidRequest") return "invalid_request";
  if (e.code == "itemNotFound") return "not_found";
  if (e.code == "accessDenied") return "invalid_permission";
  if (e.code == "unauthenticated") return "invalid_token";
  if (e.code == "conflict") return "conflict";
  if (e.code == "generalException") return "internal_error";
  return e.code;
}
}  // namespace

Error invalid_token(std::string msg) {
  return make_error(Errc::unauthenticated, "invalid_token", std::move(msg));
}

net::Response json_response(int status, const bj::value& v) {
  return net::Response::json_text(status, json::serialize(v));
}

net::Response api_error(const Error& e) {
  std::string code = api_code(e);
  auto r = json_response(e.status, bj::object{{"error", code},
                                              {"error_description", e.message},
                                              {"error_code", error_number(code)}});
  if (e.status == 401) r.headers.set("WWW-Authenticate", "Bearer");
  return r;
}

net::Response html_page(int status, std::string_view title, std::string_view body, Lang lang) {
  std::string page = fmt::format(
      "<!doctype html><html lang={}><head><meta charset=utf-8>"
      "<meta name=viewport content=\"width=device-width,initial-scale=1\">"
      "<title>{} · Reach</title><link rel=stylesheet href=\"/static/reach.css\"></head>"
      "<body><header><a class=brand href=\"/\">Reach</a><span class=lang>{}</span></header>"
      "<main>{}</main></body></html>",
      lang_tag(lang), html::escape(title), text(lang, T::other_language), body);
  auto r = net::Response::text(status, std::move(page), "text/html; charset=utf-8");
  r.headers.set("Content-Security-Policy",
                "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:");
  r.headers.set("X-Frame-Options", "DENY");
  return r;
}

net::Response redirect(int status, std::string location) {
  auto r = net::Response::empty(status);
  r.headers.set("Location", std::move(location));
  return r;
}

net::Router::Handler api_route(Services& svc, Handler h, bool needs_token) {
  return [&svc, h = std::move(h), needs_token](net::Request& req) {
    Ctx ctx{svc, req, std::nullopt};
    if (needs_token) {
      auto a = account_from_bearer(ctx);
      if (!a) return api_error(a.error());
      ctx.account = std::move(*a);
    }
    auto r = h(ctx);
    return r ? std::move(*r) : api_error(r.error());
  };
}

net::Router::Handler page_route(Services& svc, Handler h) {
  return [&svc, h = std::move(h)](net::Request& req) {
    Ctx ctx{svc, req, std::nullopt};
    ctx.account = account_from_cookie(ctx);
    auto r = h(ctx);
    // The page's language switch (?lang=) is kept for the pages that follow.
    if (auto c = language_cookie(req); !c.empty()) {
      if (r) r->headers.add("Set-Cookie", c);
    }
    if (r) return std::move(*r);
    const auto& e = r.error();
    // The reason is the handler's own sentence (English); the frame is in the page's language.
    Lang lang = page_language(req);
    return html_page(e.status, text(lang, T::error_title),
                     fmt::format("<h1>{}</h1><p class=error>{}</p><p><a href=\"/\">{}</a></p>",
                                 text(lang, T::error_heading), html::escape(e.message),
                                 text(lang, T::back_to_portal)),
                     lang);
  };
}

// ---------------------------------------------------------------- streams

namespace {

Error stream_gone() {
  return make_error(Errc::gone, "session_ended",
                    "This session has ended or expired; session codes and links work once. "
                    "Request a new session.");
}

}  // namespace

Result<std::string> admit(Ctx& ctx, Side side, Credential kind, std::string_view presented) {
  auto& svc = ctx.svc;
  const auto now = now_ms();
  // The client's keys: its IPv4 address, or its IPv6 /64 and /48 (an organisation or a tunnel
  // broker's customer has a /48: 65,536 /64s must not mean 65,536 times the guesses).
  std::vector<std::string> keys;
  for (auto& k : client_keys(ctx.req.remote_address)) keys.push_back("addr:" + k);
  const char* what = kind == Credential::code ? "code" : "link";
  // Logged once per key and wait: a flood of refusals is one line.
  auto throttled = [&](store::StoredThrottle& t, const std::string& key) -> Error {
    if (t.first_refusal(key, now))
      log::warn("relay.guess_throttled", {{"ip", ctx.req.remote_address}, {"what", what}});
    return make_error(Errc::throttled, "too_many_retries",
                      "Too many wrong session codes or links; wait and retry.");
  };
  // The key of the client that must wait, if any.
  auto waiting = [&]() -> const std::string* {
    for (const auto& k : keys)
      if (svc.guesses_by_address.wait_ms(k, now) > 0) return &k;
    return nullptr;
  };
  // A refusal says the same whatever was wrong, so it tells a guesser nothing: failures count
  // for a code whether or not it exists.
  auto refuse = [&](const std::string& code, std::string_view why) -> Error {
    for (const auto& k : keys) svc.guesses_by_address.failure(k, now);
    if (!code.empty()) svc.guesses_by_code.failure("code:" + code, now);
    log::warn("relay.bad_guess", {{"ip", ctx.req.remote_address}, {"what", what}, {"why", why}});
    return make_error(Errc::not_found, "not_found", "No open session has this code or link.");
  };
  if (kind == Credential::code && side != Side::device) std::abort();  // callers' contract
  // The code alone is guessable (10^8 of them): a client that is waiting is not even looked up.
  if (kind == Credential::code)
    if (const auto* k = waiting()) return throttled(svc.guesses_by_address, *k);

  std::string code, token;
  if (kind == Credential::code) {
    auto c = normalize_code(presented);
    if (!c) return refuse("", "malformed code");
    code = *c;
  } else {
    auto ref = parse_link_ref(presented);
    if (!ref) {
      if (const auto* k = waiting()) return throttled(svc.guesses_by_address, *k);
      return refuse("", "malformed link");
    }
    code = ref->code;
    token = ref->token;
  }
  auto found = find_stream_credentials(ctx.db(), code);
  if (!found) return found.error();
  bool valid = false;
  if (*found) {
    const StreamCredentials& c = **found;
    if (kind == Credential::code) {
      valid = c.code_join;  // portal sessions only; a hub's request needs its link
    } else {
      const std::string& want =
          side == Side::supporter ? c.supporter_token_hash : c.customer_token_hash;
      valid = crypto::constant_time_equal(crypto::sha256_hex(token), want);
    }
  }
  if (!valid) {
    // A valid link is never throttled (its 192-bit token is not guessable), so failures on a
    // code never lock out the holders of its links; everything else waits.
    if (const auto* k = waiting()) return throttled(svc.guesses_by_address, *k);
    if (svc.guesses_by_code.wait_ms("code:" + code, now) > 0)
      return throttled(svc.guesses_by_code, "code:" + code);
    return refuse(code, *found ? "wrong credential" : "unknown code");
  }
  if ((*found)->state != "open") return stream_gone();
  if ((*found)->valid_until <= now) {
    auto st = ctx.db().transaction(
        [&](store::Session& s) { return close_session(s, code, "expired", now_ms()); });
    if (!st) return st.error();
    return stream_gone();
  }
  return code;
}

namespace {

Result<std::string> resolve_stream(Ctx& ctx, Side& side) {
  auto r = link::parse_stream_request(ctx.req.path, ctx.req.query_param("code"));
  if (!r) return r.error();
  side = r->side == link::StreamSide::supporter ? Side::supporter : Side::device;
  return admit(ctx, side, r->by_code ? Credential::code : Credential::link, r->presented);
}

}  // namespace

void end_streams(Services& svc, const std::string& code) {
  if (svc.nodes)
    svc.nodes->end_streams(code);
  else
    svc.pairing->close(code, "closed");
}

Result<StreamRoute> route_streams(Services& svc, const std::string& code) {
  if (!svc.nodes) return StreamRoute{};
  auto r = svc.nodes->route(code);
  if (!r) return r.error();
  return StreamRoute{r->here, r->node_url, svc.nodes->stream_base(*r)};
}

// ---------------------------------------------------------------- Relay

struct Relay::Impl {
  Services svc;
  net::Router router;
};

Relay::Relay(RelayConfig config, std::shared_ptr<store::Database> db, std::string secret_key)
    : impl_(std::make_unique<Impl>()) {
  auto& svc = impl_->svc;
  svc.config = std::move(config);
  svc.db = std::move(db);
  svc.key = std::move(secret_key);
  for (auto* t : {&svc.signin_by_email, &svc.signin_by_address, &svc.guesses_by_address,
                  &svc.guesses_by_code})
    t->attach(svc.db.get());
  Services* s = &svc;
  PairingOptions popts;
  popts.peer_wait = svc.config.peer_wait;
  svc.pairing = std::make_unique<Pairing>(
      popts,
      [s](const std::string& code, const std::string& reason) {
        log::info("relay.session_ended", {{"code", code}, {"reason", reason}});
        s->background.post([s, code, reason] {
          auto st = s->db->transaction(
              [&](store::Session& tx) { return close_session(tx, code, reason, now_ms()); });
          if (!st)
            log::error("relay.close_failed", {{"code", code}, {"error", st.error().message}});
        });
      },
      [s](const std::string& code, Side side) {
        log::info("relay.stream_connected",
                  {{"code", code}, {"side", side == Side::device ? "device" : "supporter"}});
        s->background.post([s, code, side] {
          (void)record_stream_connected(*s->db, code, side == Side::device, now_ms());
        });
      });
  register_pages(impl_->router, svc);
  register_oauth(impl_->router, svc);
  register_api(impl_->router, svc);
  auto not_websocket = api_route(
      svc,
      [](Ctx&) -> Result<net::Response> {
        return make_error(426, "invalid_request",
                          "This endpoint is a WebSocket stream: connect with a WebSocket client "
                          "(the viewer, reach connect or reach-agent).");
      },
      false);
  for (const char* p :
       {"/api/v1/stream/device", "/api/v1/stream/device/{ref}", "/api/v1/stream/supporter/{ref}"})
    impl_->router.add("GET", p, not_websocket);

  // For balancers and operators: which node, which store, and whether it reaches the store now.
  impl_->router.add(
      "GET", "/api/health",
      api_route(
          svc,
          [](Ctx& ctx) -> Result<net::Response> {
            bool ok = ctx.svc.db->ping().has_value();
            return json_response(
                ok ? 200 : 503,
                bj::object{
                    {"status", ok ? "ok" : "unavailable"},
                    {"node", ctx.svc.config.node_name},
                    {"store",
                     ctx.svc.db->backend() == store::Backend::postgresql ? "postgresql" : "sqlite"},
                    {"database", ok ? "ok" : "failing"}});
          },
          false));
  // Per node, for any account's token (a script token from `reach-relay token create`).
  impl_->router.add(
      "GET", "/api/metrics",
      api_route(
          svc,
          [](Ctx& ctx) -> Result<net::Response> {
            std::string out = fmt::format(
                "# HELP reach_relay_node_info The node that answered and its store.\n"
                "# TYPE reach_relay_node_info "
                "gauge\nreach_relay_node_info{{node=\"{}\",store=\"{}\"}} 1\n"
                "# HELP reach_relay_sessions_streaming Sessions with a stream open on this node.\n"
                "# TYPE reach_relay_sessions_streaming gauge\nreach_relay_sessions_streaming {}\n",
                ctx.svc.config.node_name,
                ctx.svc.db->backend() == store::Backend::postgresql ? "postgresql" : "sqlite",
                ctx.svc.pairing->active_sessions());
            if (ctx.svc.server_stats) out += ctx.svc.server_stats();
            return net::Response::text(200, std::move(out),
                                       "text/plain; version=0.0.4; charset=utf-8");
          },
          true));
}

Status Relay::join(std::string node_url, bool url_given, std::chrono::milliseconds check_interval) {
  auto& svc = impl_->svc;
  Nodes::Options o;
  o.name = svc.config.node_name;
  o.url = std::move(node_url);
  o.url_given = url_given;
  o.check_interval = check_interval;
  auto nodes = std::make_unique<Nodes>(*svc.db, *svc.pairing, std::move(o));
  if (auto st = nodes->start(); !st) return st;
  svc.nodes = std::move(nodes);
  return {};
}

void Relay::set_server_stats_source(std::function<std::string()> f) {
  impl_->svc.server_stats = std::move(f);
}

Relay::~Relay() = default;

namespace {

// Files under the static directory: no "..", no hidden files, known types only.
net::Response serve_static(const Services& svc, const net::Request& req) {
  std::string rel = req.path.substr(std::string_view("/static/").size());
  auto not_found_file = [] {
    return api_error(make_error(Errc::not_found, "not_found", "No such file."));
  };
  if (svc.config.static_dir.empty() || rel.empty() || rel.find("..") != std::string::npos ||
      rel.find("/.") != std::string::npos || rel.front() == '.' ||
      rel.find('\\') != std::string::npos)
    return not_found_file();
  static const std::pair<const char*, const char*> kTypes[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".json", "application/json"}};
  const char* type = nullptr;
  for (const auto& [ext, t] : kTypes)
    if (rel.ends_with(ext)) type = t;
  if (!type) return not_found_file();
  std::ifstream in(svc.config.static_dir + "/" + rel, std::ios::binary);
  if (!in) return not_found_file();
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = net::Response::text(200, std::move(body), type);
  r.headers.set("Cache-Control", "public, max-age=3600");
  return r;
}

}  // namespace

net::Response Relay::handle(net::Request& request) {
  net::use_forwarded_client(request, impl_->svc.config.trusted_proxies);
  if (request.path.starts_with("/static/") && (request.method == "GET" || request.method == "HEAD"))
    return serve_static(impl_->svc, request);
  const net::Router::Handler* h = nullptr;
  net::Response r;
  switch (impl_->router.route(request, &h)) {
    case net::Router::Match::found:
      r = (*h)(request);
      break;
    case net::Router::Match::method_not_allowed:
      r = api_error(
          make_error(405, "invalid_request",
                     fmt::format("{} is not allowed on {}.", request.method, request.path)));
      break;
    case net::Router::Match::not_found:
      r = api_error(
          make_error(Errc::not_found, "not_found", fmt::format("Nothing at {}.", request.path)));
      break;
  }
  if (!r.headers.get("Cache-Control")) r.headers.set("Cache-Control", "no-store");
  r.headers.set("X-Content-Type-Options", "nosniff");
  return r;
}

std::shared_ptr<net::WebSocketHandler> Relay::upgrade(net::Request& request,
                                                      net::Response& reject) {
  net::use_forwarded_client(request, impl_->svc.config.trusted_proxies);
  Ctx ctx{impl_->svc, request, std::nullopt};
  Side side = Side::device;
  auto code = resolve_stream(ctx, side);
  if (!code) {
    reject = api_error(code.error());
    return nullptr;
  }
  auto route = route_streams(impl_->svc, *code);
  if (!route) {
    reject = api_error(route.error());
    return nullptr;
  }
  if (!route->here) {
    // The owning node's URL, with the path and query as they came: the client asks there.
    std::string location = route->node_url;
    while (!location.empty() && location.back() == '/') location.pop_back();
    reject = net::Response::empty(307);
    reject.headers.set("Location", location + request.target);
    return nullptr;
  }
  auto handler = impl_->svc.pairing->attach(*code, side);
  if (!handler) {
    Error e = handler.error();
    if (e.kind == Errc::gone) e = stream_gone();
    reject = api_error(e);
    return nullptr;
  }
  return *handler;
}

Result<std::shared_ptr<store::Database>> open_database(const std::string& data_dir,
                                                       const std::string& db_url) {
  auto db =
      store::Database::open(db_url.empty() ? store::database_url(data_dir, "relay.db") : db_url);
  if (!db) return db.error();
  std::shared_ptr<store::Database> shared = std::move(*db);
  if (auto st = shared->migrate(migrations()); !st) return st.error();
  return shared;
}

}  // namespace reach::relay
