#include "net/client.h"

#include "net/ws_session.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/url.hpp>

#include <openssl/ssl.h>

#include <future>
#include <map>
#include <thread>

namespace reach::net {

namespace {

using namespace detail;  // NOLINT: the Asio/Beast aliases of asio_internal.hpp
using Clock = std::chrono::steady_clock;

struct Target {
  bool tls = false;
  std::string host;  // for DNS, SNI and certificate checks (no brackets)
  std::string port;
  std::string host_header;  // host[:port] as sent in Host
  std::string target;       // path and query, still percent-encoded
};

Result<Target> parse_target(std::string_view url, std::string_view plain, std::string_view secure) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    return make_error(0, "protocolError", "invalid URL: " + parsed.error().message());
  }
  const boost::urls::url_view& u = *parsed;
  Target t;
  std::string scheme(u.scheme());
  if (scheme == secure) {
    t.tls = true;
  } else if (scheme != plain) {
    return make_error(0, "protocolError", "unsupported URL scheme '" + scheme + "'");
  }
  t.host = u.host_address();
  if (t.host.empty()) return make_error(0, "protocolError", "URL has no host");
  t.port = u.has_port() ? std::string(u.port()) : std::string(t.tls ? "443" : "80");
  t.host_header = std::string(u.encoded_host_and_port());
  t.target = std::string(u.encoded_target());
  if (t.target.empty() || t.target.front() != '/') t.target.insert(0, "/");
  return t;
}

// nullptr for plain http:// and ws://.
Result<std::shared_ptr<ssl::context>> tls_context(const Target& t, const ClientOptions& options) {
  if (!t.tls) return std::shared_ptr<ssl::context>();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (options.verify_tls) {
    ctx->set_default_verify_paths(ec);
    if (!options.ca_file.empty()) ctx->load_verify_file(options.ca_file, ec);
    if (ec) return make_error(0, "tlsFailed", "cannot load CA file: " + ec.message());
    ctx->set_verify_mode(ssl::verify_peer);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  return ctx;
}

Error failure(const boost::system::error_code& ec, std::string code, std::string_view what) {
  if (ec == beast::error::timeout)
    return make_error(0, "timeout", std::string(what) + ": timed out");
  return make_error(0, std::move(code), std::string(what) + ": " + ec.message());
}

// Resolves and connects `stream` (and does the TLS handshake with SNI and host name checks).
// Returns an error, or nullopt on success.
template <class Stream>
asio::awaitable<std::optional<Error>> connect(Stream& stream, const Target& t,
                                              const ClientOptions& options,
                                              Clock::time_point deadline) {
  auto& lowest = beast::get_lowest_layer(stream);
  tcp::resolver resolver(lowest.get_executor());
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
  if (rec) co_return failure(rec, "connectFailed", "cannot resolve " + t.host);
  lowest.expires_at(deadline);
  auto [cec, ep] = co_await lowest.async_connect(endpoints, use_tuple);
  if (cec) co_return failure(cec, "connectFailed", "cannot connect to " + t.host + ":" + t.port);
  boost::system::error_code nodelay_ec;  // see server.cpp: no Nagle stalls on interactive streams
  lowest.socket().set_option(tcp::no_delay(true), nodelay_ec);
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
      co_return make_error(0, "tlsFailed", "cannot set SNI host name");
    }
    if (options.verify_tls) stream.set_verify_callback(ssl::host_name_verification(t.host));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (hec) co_return failure(hec, "tlsFailed", "TLS handshake with " + t.host + " failed");
  }
  co_return std::nullopt;
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const Target& t,
                               http::request<http::string_body>& req, const ClientOptions& options,
                               Clock::time_point deadline, Result<Response>& out) {
  auto error = co_await connect(stream, t, options, deadline);
  if (error) {
    out = std::move(*error);
    co_return;
  }
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_at(deadline);
  auto [wec, wn] = co_await http::async_write(stream, req, use_tuple);
  if (wec) {
    out = failure(wec, "protocolError", "cannot send request");
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(options.body_limit);
  if (req.method() == http::verb::head) parser.skip(true);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (rec) {
    out = failure(
        rec, "protocolError",
        rec == http::error::body_limit ? "response body too large" : "cannot read response");
    co_return;
  }
  auto& res = parser.get();
  Response r;
  r.status = static_cast<int>(res.result_int());
  for (const auto& field : res) r.headers.add(field.name_string(), std::string(field.value()));
  r.body = std::move(res.body());
  out = std::move(r);
  // The connection is not reused, so no TLS close_notify round trip: closing is enough.
  lowest.close();
}

}  // namespace

Result<Response> http_request(std::string_view method, std::string_view url, const Headers& headers,
                              std::string body, const ClientOptions& options) {
  auto target = parse_target(url, "http", "https");
  if (!target) return target.error();
  auto tls = tls_context(*target, options);
  if (!tls) return tls.error();
  std::shared_ptr<ssl::context> ctx = *tls;

  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target->target);
  req.version(11);
  req.set(http::field::host, target->host_header);
  req.set(http::field::user_agent, "reach");
  for (const auto& [name, value] : headers.items()) req.set(name, value);
  req.keep_alive(false);
  if (!body.empty() || req.method() == http::verb::post || req.method() == http::verb::put ||
      req.method() == http::verb::patch) {
    req.body() = std::move(body);
    req.prepare_payload();
  }

  Result<Response> out = make_error(0, "timeout", "request timed out");
  auto deadline = Clock::now() + options.timeout;
  // Declared after `out` and the request: destroying it destroys a timed-out coroutine's frame,
  // which refers to them.
  asio::io_context ioc(1);
  auto run = [&]() -> asio::awaitable<void> {
    if (ctx) {
      TlsStream stream(ioc.get_executor(), *ctx);
      co_await exchange(stream, *target, req, options, deadline, out);
    } else {
      beast::tcp_stream stream(ioc.get_executor());
      co_await exchange(stream, *target, req, options, deadline, out);
    }
  };
  asio::co_spawn(ioc, run, [&out](std::exception_ptr e) {
    if (e) out = make_error(0, "protocolError", exception_message(e));
  });
  // The stream timeouts cover connect and I/O; this also bounds name resolution.
  ioc.run_until(deadline + std::chrono::milliseconds(50));
  return out;
}

// Open client WebSockets of one io_context, so that ~EventLoop can end them (and run their
// on_close) while the loop still runs. An io_context service, because websocket_connect only
// sees the EventLoop through native().
struct ClientSessions : asio::execution_context::service {
  static inline asio::execution_context::id id;
  explicit ClientSessions(asio::execution_context& ctx) : service(ctx) {}
  void shutdown() override {}

  std::uint64_t add(std::function<void()> abort) {
    std::lock_guard lock(mu);
    aborts.emplace(++next_id, std::move(abort));
    return next_id;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu);
    aborts.erase(id);
  }

  std::mutex mu;
  std::map<std::uint64_t, std::function<void()>> aborts;  // guarded by mu
  std::uint64_t next_id = 0;                              // guarded by mu
};

struct EventLoop::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  std::thread thread;
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

EventLoop::~EventLoop() {
  auto& sessions = asio::use_service<ClientSessions>(impl_->ioc);
  std::vector<std::function<void()>> aborts;
  {
    std::lock_guard lock(sessions.mu);
    for (auto& [id, abort] : sessions.aborts) aborts.push_back(abort);
  }
  for (auto& abort : aborts) abort();
  auto deadline = Clock::now() + std::chrono::seconds(2);
  for (;;) {
    {
      std::lock_guard lock(sessions.mu);
      if (sessions.aborts.empty()) break;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->guard.reset();
  impl_->ioc.stop();
  impl_->thread.join();
}

void* EventLoop::native() {
  return &impl_->ioc;
}

namespace {

template <class Stream>
asio::awaitable<Result<std::shared_ptr<WebSocket>>> ws_connect(
    ClientSessions* sessions, Stream stream, Target t, Headers headers,
    std::shared_ptr<WebSocketHandler> handler, ClientOptions options,
    std::shared_ptr<ssl::context> ctx, Clock::time_point deadline) {
  auto error = co_await connect(stream, t, options, deadline);
  if (error) co_return std::move(*error);
  boost::system::error_code ignored;
  std::string remote =
      beast::get_lowest_layer(stream).socket().remote_endpoint(ignored).address().to_string();

  using Session = detail::WsSession<websocket::stream<Stream>>;
  auto session = std::make_shared<Session>(std::move(stream), std::move(handler),
                                           options.ws_send_queue_limit, std::move(remote), ctx);
  auto& ws = session->stream();
  ws.read_message_max(options.ws_message_limit);
  // Whole messages in one frame and one write: Beast's default splits them into 4 KiB frames.
  ws.auto_fragment(false);
  ws.write_buffer_bytes(64 * 1024);
  ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    req.set(http::field::user_agent, "reach");
    for (const auto& [name, value] : headers.items()) req.set(name, value);
  }));
  websocket::response_type res;
  auto [ec] = co_await ws.async_handshake(res, t.host_header, t.target, use_tuple);
  if (ec) {
    if (ec == websocket::error::upgrade_declined && res.result_int() != 0) {
      int status = static_cast<int>(res.result_int());
      if ((status == 307 || status == 308) && res.count(http::field::location))
        co_return make_error(status, "redirect", std::string(res[http::field::location]));
      co_return make_error(status, "upgradeRefused", res.body());
    }
    co_return failure(ec, "protocolError", "WebSocket handshake failed");
  }
  // From here on the WebSocket's own timeouts (close handshake) apply, not the connect deadline.
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));

  std::uint64_t id = sessions->add([weak = std::weak_ptr<Session>(session)] {
    if (auto s = weak.lock()) s->abort();
  });
  session->start([sessions, id] { sessions->remove(id); });
  co_return std::shared_ptr<WebSocket>(session);
}

// Where a 307/308 on the upgrade of `from` points, as a ws(s) URL: an absolute http(s) or ws(s)
// URL, or an absolute path on the same origin. Never from wss to ws.
Result<std::string> redirect_target(std::string_view from, const std::string& location) {
  auto fail = [&](std::string why) -> Error {
    return make_error(0, "protocolError",
                      "refused the server's redirect to '" + location + "': " + why);
  };
  bool from_tls = from.starts_with("wss://");
  std::string to;
  if (location.starts_with("/") && !location.starts_with("//")) {
    auto origin_end = from.find('/', from.find("://") + 3);
    to = std::string(from.substr(0, origin_end)) + location;
  } else if (location.starts_with("https://")) {
    to = "wss://" + location.substr(8);
  } else if (location.starts_with("http://")) {
    to = "ws://" + location.substr(7);
  } else if (location.starts_with("wss://") || location.starts_with("ws://")) {
    to = location;
  } else {
    return fail("not an http(s) or ws(s) URL");
  }
  if (from_tls && !to.starts_with("wss://")) return fail("it leaves TLS");
  return to;
}

Result<std::shared_ptr<WebSocket>> websocket_connect_once(EventLoop& loop, std::string_view url,
                                                          const Headers& headers,
                                                          std::shared_ptr<WebSocketHandler> handler,
                                                          const ClientOptions& options) {
  auto target = parse_target(url, "ws", "wss");
  if (!target) return target.error();
  auto tls = tls_context(*target, options);
  if (!tls) return tls.error();
  std::shared_ptr<ssl::context> ctx = *tls;
  auto& ioc = *static_cast<asio::io_context*>(loop.native());
  auto* sessions = &asio::use_service<ClientSessions>(ioc);
  auto strand = asio::make_strand(ioc);
  auto deadline = Clock::now() + options.timeout;
  std::promise<Result<std::shared_ptr<WebSocket>>> promise;
  auto future = promise.get_future();
  auto done = [&promise](std::exception_ptr e, Result<std::shared_ptr<WebSocket>> r) {
    if (e) r = make_error(0, "protocolError", exception_message(e));
    promise.set_value(std::move(r));
  };
  if (ctx) {
    asio::co_spawn(strand,
                   ws_connect(sessions, TlsStream(beast::tcp_stream(strand), *ctx), *target,
                              headers, std::move(handler), options, ctx, deadline),
                   done);
  } else {
    asio::co_spawn(strand,
                   ws_connect(sessions, beast::tcp_stream(strand), *target, headers,
                              std::move(handler), options, ctx, deadline),
                   done);
  }
  return future.get();
}

}  // namespace

// A relay node answers a stream for a session that another node carries with a redirect to
// that node (307); up to two are followed, within the one deadline.
Result<std::shared_ptr<WebSocket>> websocket_connect(EventLoop& loop, std::string_view url,
                                                     const Headers& headers,
                                                     std::shared_ptr<WebSocketHandler> handler,
                                                     const ClientOptions& options) {
  constexpr int kMaxRedirects = 2;
  std::string current(url);
  auto deadline = Clock::now() + options.timeout;
  for (int hop = 0;; ++hop) {
    ClientOptions left = options;
    left.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.timeout <= std::chrono::milliseconds(0))
      return make_error(0, "timeout", "the WebSocket handshake timed out");
    auto r = websocket_connect_once(loop, current, headers, handler, left);
    if (r || r.error().code != "redirect") return r;
    if (hop == kMaxRedirects)
      return make_error(0, "protocolError",
                        "too many redirects (the last to " + r.error().message + ")");
    auto next = redirect_target(current, r.error().message);
    if (!next) return next.error();
    current = std::move(*next);
  }
}

}  // namespace reach::net
