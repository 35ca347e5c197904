#include "net/server.h"

#include "common/json.h"
#include "common/log.h"
#include "common/throttle.h"
#include "common/time.h"
#include "net/ws_session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <sys/resource.h>
#include <algorithm>
#include <atomic>
#include <map>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

namespace reach::net {

namespace {

using namespace detail;  // NOLINT: the Asio/Beast aliases of asio_internal.hpp
using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

Response default_error_response(int status, std::string_view code, std::string_view message) {
  boost::json::object error{{"code", code}, {"message", message}};
  return Response::json_text(status, json::serialize(boost::json::object{{"error", error}}));
}

Request to_request(BeastRequest& in, const std::string& remote, bool tls) {
  Request r;
  r.method = std::string(in.method_string());
  r.target = std::string(in.target());
  std::string_view target = r.target;
  std::size_t q = target.find('?');
  r.path = percent_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) r.query = parse_query(target.substr(q + 1));
  for (const auto& field : in) r.headers.add(field.name_string(), std::string(field.value()));
  r.body = std::move(in.body());
  r.remote_address = remote;
  r.tls = tls;
  r.host = std::string(in[http::field::host]);
  return r;
}

BeastResponse to_beast(Response& in, const BeastRequest& req, bool keep_alive) {
  BeastResponse out;
  out.version(req.version());
  out.result(static_cast<unsigned>(in.status));
  out.reason(reason_phrase(in.status));
  for (auto& [name, value] : in.headers.items()) out.insert(name, value);
  // RFC 9110 §6.6.1: a server with a clock sends Date (the admin center reads the hub's time
  // from it, e.g. to count down to a deadline the hub set).
  if (out.find(http::field::date) == out.end()) out.set(http::field::date, http_date(now_ms()));
  bool no_body = in.status < 200 || in.status == 204 || in.status == 304;
  if (no_body) {
    in.body.clear();
  } else {
    out.body() = std::move(in.body);
    out.prepare_payload();
    // HEAD: the length of what GET would send, and no body.
    if (req.method() == http::verb::head) {
      std::size_t size = out.body().size();
      out.body().clear();
      out.content_length(size);
    }
  }
  out.keep_alive(keep_alive);
  return out;
}

// One accepted connection while it speaks HTTP. The stream lives here (not in the coroutine
// frame) so that stop() can reach it; after a WebSocket upgrade it is moved out.
template <class Stream>
struct Conn {
  Conn(Stream s, std::string r, std::shared_ptr<void> sl, std::shared_ptr<void> csl)
      : stream(std::move(s)),
        ex(stream.get_executor()),
        remote(std::move(r)),
        slot(std::move(sl)),
        client_slot(std::move(csl)) {}
  Stream stream;
  asio::any_io_executor ex;
  std::string remote;
  std::shared_ptr<void> slot;         // releases the connections_open count
  std::shared_ptr<void> client_slot;  // the client's count of HTTP connections (null: not counted)
  // On the strand only.
  bool busy = false;      // a request is being received or handled
  bool upgraded = false;  // `stream` was moved into a WebSocket

  void close_socket() {
    if (!upgraded) beast::get_lowest_layer(stream).close();
  }
};

}  // namespace

struct Server::Impl {
  // Ways to end a live connection at shutdown: `stop` asks politely, `abort` closes the socket.
  struct Live {
    std::function<void()> stop;
    std::function<void()> abort;
  };

  Impl(ServerOptions o, Handler h, UpgradeHandler u)
      : options(resolve_limits(std::move(o))),
        handler(std::move(h)),
        upgrade(std::move(u)),
        connection_slots(options.max_connections_per_client),
        websocket_slots(options.max_websockets_per_client),
        ioc(static_cast<int>(std::max<std::size_t>(1, options.io_threads))),
        acceptor(asio::make_strand(ioc)),
        pool(std::max<std::size_t>(1, options.worker_threads)) {}

  ~Impl() {
    // Handlers still running on the pool complete into the io_context, so join the pool first;
    // then destroying the io_context destroys the remaining coroutine frames.
    ioc.stop();
    pool.join();
  }

  std::uint64_t add_live(Live live) {
    std::lock_guard lock(live_mu);
    std::uint64_t id = ++next_live;
    lives.emplace(id, std::move(live));
    return id;
  }
  void remove_live(std::uint64_t id) {
    std::lock_guard lock(live_mu);
    lives.erase(id);
  }
  std::vector<Live> live_snapshot() {
    std::lock_guard lock(live_mu);
    std::vector<Live> out;
    for (auto& [id, live] : lives) out.push_back(live);
    return out;
  }
  std::size_t live_count() {
    std::lock_guard lock(live_mu);
    return lives.size();
  }

  Result<std::string> listen();
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> shutdown(std::chrono::milliseconds grace);
  template <class Stream>
  asio::awaitable<void> serve(std::shared_ptr<Conn<Stream>> conn);
  template <class Stream>
  asio::awaitable<bool> write(Conn<Stream>& conn, BeastResponse& res);
  template <class Stream>
  asio::awaitable<void> reject_and_close(Conn<Stream>& conn, int status, std::string_view code,
                                         std::string_view message);
  template <class Stream>
  asio::awaitable<void> graceful_close(Conn<Stream>& conn);
  template <class Stream>
  asio::awaitable<void> upgrade_connection(std::shared_ptr<Conn<Stream>> conn, BeastRequest req,
                                           std::chrono::steady_clock::time_point start);
  template <class Stream>
  asio::awaitable<void> refuse_upgrade(Conn<Stream>& conn, const BeastRequest& req,
                                       const Request& request, std::string_view message,
                                       std::chrono::steady_clock::time_point start);

  // Runs `fn` on the worker pool and resumes on the caller's executor; exceptions propagate.
  template <class F>
  asio::awaitable<std::invoke_result_t<F&>> on_pool(F fn) {
    using R = std::invoke_result_t<F&>;
    R result = co_await asio::co_spawn(
        pool, [&fn]() -> asio::awaitable<R> { co_return fn(); }, asio::use_awaitable);
    co_return result;
  }

  // The server's own error answers, in the application's error format when it gave one.
  Response error_response(int status, std::string_view code, std::string_view message) const {
    if (options.error_response) return options.error_response(status, code, message);
    return default_error_response(status, code, message);
  }

  void log_request(std::string_view method, std::string_view path, int status,
                   std::chrono::steady_clock::time_point start) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    log::info("http.request",
              {{"method", method}, {"path", redact_path(path)}, {"status", status}, {"ms", ms}});
  }

  // Constant after construction.
  const ServerOptions options;
  const Handler handler;
  const UpgradeHandler upgrade;

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> websockets{0};
  std::atomic<std::uint64_t> upgrades_refused{0};
  std::atomic<std::uint64_t> refused_per_client{0};
  std::atomic<std::uint64_t> upgrades_refused_per_client{0};
  // Steady ms of the last refusal logged, for the server's limits and for the clients' caps (one
  // flood must not hide the other).
  std::atomic<std::int64_t> last_refusal_log{0};
  std::atomic<std::int64_t> last_client_refusal_log{0};
  std::atomic<bool> stopping{false};

  static ServerOptions resolve_limits(ServerOptions o) {
    if (o.max_connections == 0) o.max_connections = connections_for_fd_limit();
    o.reserved_connections = std::min(o.reserved_connections, o.max_connections / 2);
    if (o.max_connections_per_client == 0)
      o.max_connections_per_client = std::max<std::size_t>(16, o.max_connections / 16);
    if (o.max_websockets_per_client == 0) {
      o.max_websockets_per_client =
          std::max<std::size_t>(16, (o.max_connections - o.reserved_connections) / 4);
    }
    return o;
  }

  bool is_trusted_proxy(const std::string& address) const {
    return std::find(options.trusted_proxies.begin(), options.trusted_proxies.end(), address) !=
           options.trusted_proxies.end();
  }

  // The client a WebSocket upgrade is counted for: through a trusted balancer, the one its
  // X-Forwarded-For ends with (the rule of use_forwarded_client, which the handlers apply too).
  std::string websocket_client(const Request& request) const {
    Request probe;
    probe.remote_address = request.remote_address;
    if (auto forwarded = request.headers.get("X-Forwarded-For"))
      probe.headers.set("X-Forwarded-For", std::string(*forwarded));
    use_forwarded_client(probe, options.trusted_proxies);
    return probe.remote_address;
  }

  // A refusal is logged at most once a second (with the count so far): a flood of them must not
  // become a flood of log lines.
  static bool refusal_log_due(std::atomic<std::int64_t>& last_log) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
                   .count();
    auto last = last_log.load();
    return now - last >= 1000 && last_log.compare_exchange_strong(last, now);
  }
  void log_refusal(const char* event) {
    if (!refusal_log_due(last_refusal_log)) return;
    log::warn(event, {{"open", open.load()},
                      {"websockets", websockets.load()},
                      {"limit", options.max_connections},
                      {"reserved", options.reserved_connections},
                      {"refused", refused.load()},
                      {"upgrades_refused", upgrades_refused.load()}});
  }
  // `client` is the client's key: the address, or its /64.
  void log_client_refusal(const char* event, const std::string& client) {
    if (!refusal_log_due(last_client_refusal_log)) return;
    log::warn(event, {{"client", client},
                      {"connections_limit", options.max_connections_per_client},
                      {"websockets_limit", options.max_websockets_per_client},
                      {"refused", refused_per_client.load()},
                      {"upgrades_refused", upgrades_refused_per_client.load()}});
  }

  std::mutex live_mu;
  std::map<std::uint64_t, Live> lives;  // guarded by live_mu
  std::uint64_t next_live = 0;          // guarded by live_mu

  // Declared before ioc: the connections destroyed with it give their slots back.
  ClientSlots connection_slots;
  ClientSlots websocket_slots;

  // Declared before ioc: TLS streams in coroutine frames destroyed with ioc still use it.
  std::optional<ssl::context> tls;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::optional<asio::signal_set> signals;
  asio::thread_pool pool;
  bool listening = false;  // set by listen(), before run()
};

Result<std::string> Server::Impl::listen() {
  if (options.tls) {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    tls->use_certificate_chain_file(options.tls->cert_file, ec);
    if (!ec) tls->use_private_key_file(options.tls->key_file, ssl::context::pem, ec);
    if (ec) {
      return make_error(500, "tlsConfig", "cannot load TLS certificate or key: " + ec.message());
    }
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return make_error(500, "badAddress", "invalid listen address " + options.host);
  tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(500, "listenFailed",
                      "cannot listen on " + options.host + ":" + std::to_string(options.port) +
                          ": " + ec.message());
  }
  auto bound = acceptor.local_endpoint(ec);
  listening = true;
  std::string where = bound.address().to_string();
  if (bound.address().is_v6()) where = "[" + where + "]";
  where += ":" + std::to_string(bound.port());
  log::info("http.listening", {{"address", where}, {"tls", options.tls.has_value()}});
  return where;
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted || !acceptor.is_open()) break;
      // EMFILE and friends: back off instead of spinning.
      log::warn("http.accept_failed", {{"error", ec.message()}});
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    ++accepted;
    if (open.load() >= options.max_connections) {
      // Counted before the close: whoever sees the connection end also sees it counted.
      ++refused;
      boost::system::error_code ignored;
      socket.close(ignored);
      log_refusal("http.connection_refused");
      continue;
    }
    boost::system::error_code ep_ec;
    std::string remote = socket.remote_endpoint(ep_ec).address().to_string();
    std::shared_ptr<void> client_slot;
    if (!is_trusted_proxy(remote)) {
      client_slot = connection_slots.take(remote);
      if (!client_slot) {
        ++refused_per_client;
        boost::system::error_code ignored;
        socket.close(ignored);
        log_client_refusal("http.connection_refused_per_client", client_key(remote));
        continue;
      }
    }
    ++open;
    // Interactive traffic (RFB through the relay): no Nagle delay on the last segment of a
    // message, which with the peer's delayed ACK stalls replies by 40 ms.
    boost::system::error_code nodelay_ec;
    socket.set_option(tcp::no_delay(true), nodelay_ec);
    // Released when the HTTP connection or the WebSocket made from it ends.
    std::shared_ptr<void> slot(nullptr, [this](void*) { --open; });
    auto ex = socket.get_executor();
    if (tls) {
      auto conn = std::make_shared<Conn<TlsStream>>(
          TlsStream(beast::tcp_stream(std::move(socket)), *tls), std::move(remote), std::move(slot),
          std::move(client_slot));
      asio::co_spawn(ex, serve(std::move(conn)), log_exceptions("http.connection"));
    } else {
      auto conn = std::make_shared<Conn<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                            std::move(remote), std::move(slot),
                                                            std::move(client_slot));
      asio::co_spawn(ex, serve(std::move(conn)), log_exceptions("http.connection"));
    }
  }
}

template <class Stream>
asio::awaitable<bool> Server::Impl::write(Conn<Stream>& conn, BeastResponse& res) {
  // A slow reader of a large response gets the more generous of the two timeouts.
  beast::get_lowest_layer(conn.stream)
      .expires_after(std::max(options.request_timeout, options.idle_timeout));
  auto [ec, n] = co_await http::async_write(conn.stream, res, use_tuple);
  co_return !ec;
}

template <class Stream>
asio::awaitable<void> Server::Impl::graceful_close(Conn<Stream>& conn) {
  auto& lowest = beast::get_lowest_layer(conn.stream);
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await conn.stream.async_shutdown(use_tuple);
    (void)ec;
  } else {
    boost::system::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  lowest.close();
}

template <class Stream>
asio::awaitable<void> Server::Impl::reject_and_close(Conn<Stream>& conn, int status,
                                                     std::string_view code,
                                                     std::string_view message) {
  ++rejected;
  log::info("http.rejected", {{"status", status}, {"code", code}, {"remote", conn.remote}});
  Response r = error_response(status, code, message);
  BeastRequest dummy;
  dummy.version(11);
  BeastResponse res = to_beast(r, dummy, false);
  if (!co_await write(conn, res)) co_return;
  auto& lowest = beast::get_lowest_layer(conn.stream);
  if constexpr (!kIsTls<Stream>) {
    // Closing with unread input makes the kernel send RST, which can destroy the response
    // before the client reads it; so half-close and drain briefly first.
    boost::system::error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest.expires_after(std::chrono::seconds(1));
    std::vector<char> sink(16 * 1024);
    for (std::size_t total = 0; total < 4 * 1024 * 1024;) {
      auto [ec, n] = co_await lowest.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
      total += n;
    }
    lowest.close();
  } else {
    co_await graceful_close(conn);
  }
}

template <class Stream>
asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Conn<Stream>> conn) {
  std::weak_ptr<Conn<Stream>> weak = conn;
  std::uint64_t live_id = add_live(Live{[weak] {
                                          if (auto c = weak.lock()) {
                                            asio::post(c->ex, [c] {
                                              if (!c->busy) c->close_socket();
                                            });
                                          }
                                        },
                                        [weak] {
                                          if (auto c = weak.lock())
                                            asio::post(c->ex, [c] { c->close_socket(); });
                                        }});
  struct Unregister {
    Impl* impl;
    std::uint64_t id;
    ~Unregister() { impl->remove_live(id); }
  } unregister{this, live_id};

  auto& lowest = beast::get_lowest_layer(conn->stream);
  if constexpr (kIsTls<Stream>) {
    lowest.expires_after(options.handshake_timeout);
    auto [ec] = co_await conn->stream.async_handshake(ssl::stream_base::server, use_tuple);
    if (ec) {
      log::debug("http.tls_handshake_failed", {{"error", ec.message()}, {"remote", conn->remote}});
      co_return;
    }
  }

  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    if (stopping) break;
    // The first request must arrive whole within request_timeout of the connection; later ones
    // may be preceded by an idle keep-alive wait, and then get request_timeout from their first
    // byte.
    lowest.expires_after(first ? options.request_timeout : options.idle_timeout);
    if (buffer.size() == 0) {
      auto [ec, n] = co_await conn->stream.async_read_some(buffer.prepare(4096), use_tuple);
      if (ec) {
        if (ec == beast::error::timeout && first) ++rejected;
        break;
      }
      buffer.commit(n);
    }
    conn->busy = true;
    auto start = std::chrono::steady_clock::now();
    if (!first) lowest.expires_after(options.request_timeout);

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    parser.body_limit(options.body_limit);
    auto [ec, n] = co_await http::async_read_header(conn->stream, buffer, parser, use_tuple);
    if (!ec && !parser.is_done()) {
      // curl and others wait (about a second) for this before sending a body; the body limit
      // has already been checked against Content-Length, so a refusal comes before the body.
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        auto [wec, wn] = co_await http::async_write(conn->stream, go_on, use_tuple);
        if (wec) co_return;
      }
      std::tie(ec, n) = co_await http::async_read(conn->stream, buffer, parser, use_tuple);
    }
    if (ec == http::error::header_limit) {
      co_await reject_and_close(*conn, 431, "headersTooLarge", "request headers are too large");
      co_return;
    }
    if (ec == http::error::body_limit) {
      co_await reject_and_close(*conn, 413, "payloadTooLarge", "request body is too large");
      co_return;
    }
    if (ec == beast::error::timeout) {
      // The socket is already closed by the timeout, so no 408 can be sent.
      ++rejected;
      log::info("http.request_timeout", {{"remote", conn->remote}});
      co_return;
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      co_await reject_and_close(*conn, 400, "invalidRequest", "malformed HTTP request");
      co_return;
    }
    if (ec) break;  // the peer went away

    ++requests;
    BeastRequest req = parser.release();
    if (upgrade && websocket::is_upgrade(req)) {
      co_await upgrade_connection(conn, std::move(req), start);
      co_return;
    }

    Request request = to_request(req, conn->remote, kIsTls<Stream>);
    Response response;
    try {
      response = co_await on_pool([this, &request] { return handler(request); });
    } catch (const std::exception& e) {
      log::error(
          "http.handler_failed",
          {{"method", request.method}, {"path", redact_path(request.path)}, {"error", e.what()}});
      response = error_response(500, "generalException", "internal error");
    }
    if (response.delay.count() > 0 && !stopping) {
      asio::steady_timer hold(conn->ex, response.delay);
      co_await hold.async_wait(use_tuple);
    }
    bool keep_alive = req.keep_alive() && !stopping;
    BeastResponse res = to_beast(response, req, keep_alive);
    bool written = co_await write(*conn, res);
    log_request(request.method, request.path, response.status, start);
    conn->busy = false;
    if (!written) co_return;
    if (!keep_alive) break;
  }
  if (lowest.socket().is_open()) co_await graceful_close(*conn);
}

template <class Stream>
asio::awaitable<void> Server::Impl::upgrade_connection(
    std::shared_ptr<Conn<Stream>> conn, BeastRequest req,
    std::chrono::steady_clock::time_point start) {
  Request request = to_request(req, conn->remote, kIsTls<Stream>);
  // WebSocket slots, the client's and the server's, are taken before the upgrade is decided (two
  // handshakes cannot both take the last one) and given back when the WebSocket ends, or now if
  // there is none.
  std::string client = websocket_client(request);
  std::shared_ptr<void> client_ws_slot;
  if (!is_trusted_proxy(client)) {
    client_ws_slot = websocket_slots.take(client);
    if (!client_ws_slot) {
      ++upgrades_refused_per_client;
      log_client_refusal("http.upgrade_refused_per_client", client_key(client));
      co_await refuse_upgrade(*conn, req, request,
                              "This address holds as many WebSockets as it may: close one, or "
                              "try again later.",
                              start);
      co_return;
    }
  }
  if (websockets.fetch_add(1) >= options.max_connections - options.reserved_connections) {
    --websockets;
    ++upgrades_refused;
    log_refusal("http.upgrade_refused");
    co_await refuse_upgrade(*conn, req, request,
                            "The server holds as many WebSockets as it may: try again later.",
                            start);
    co_return;
  }
  std::shared_ptr<void> ws_slot(nullptr, [this](void*) { --websockets; });
  Response reject = error_response(403, "accessDenied", "WebSocket upgrade refused");
  std::shared_ptr<WebSocketHandler> ws_handler;
  try {
    ws_handler = co_await on_pool([this, &request, &reject] { return upgrade(request, reject); });
  } catch (const std::exception& e) {
    log::error("http.upgrade_failed", {{"path", redact_path(request.path)}, {"error", e.what()}});
    reject = error_response(500, "generalException", "internal error");
  }
  if (!ws_handler) {
    // A refusal, or a redirect to where the stream is served (307/308); nothing else.
    if (reject.status < 400 && reject.status != 307 && reject.status != 308) reject.status = 403;
    BeastResponse res = to_beast(reject, req, false);
    bool written = co_await write(*conn, res);
    log_request(request.method, request.path, reject.status, start);
    if (written) co_await graceful_close(*conn);
    co_return;
  }

  using WsStream = websocket::stream<Stream>;
  conn->upgraded = true;
  beast::get_lowest_layer(conn->stream).expires_never();
  auto session = std::make_shared<detail::WsSession<WsStream>>(
      std::move(conn->stream), ws_handler, options.ws_send_queue_limit, conn->remote, nullptr);
  auto& ws = session->stream();
  websocket::stream_base::timeout timeouts =
      websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeouts.handshake_timeout = options.handshake_timeout;
  ws.set_option(timeouts);
  ws.read_message_max(options.ws_message_limit);
  // Whole messages in one frame and one write: Beast's default splits them into 4 KiB frames.
  ws.auto_fragment(false);
  ws.write_buffer_bytes(64 * 1024);
  // Beast names itself and its version in a 101's Server header unless one is set: name only
  // the product, as the HTTP answers do not name one at all.
  ws.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "reach"); }));
  auto [ec] = co_await ws.async_accept(req, use_tuple);
  log_request(request.method, request.path, ec ? 400 : 101, start);
  if (ec) co_return;
  // From now on the connection counts as the client's WebSocket, not as one of its HTTP
  // connections: an office behind one address holds a channel per agent.
  conn->client_slot.reset();

  std::weak_ptr<detail::WsSession<WsStream>> weak = session;
  std::uint64_t id = add_live(Live{[weak] {
                                     if (auto s = weak.lock()) s->close(1001, "server shutdown");
                                   },
                                   [weak] {
                                     if (auto s = weak.lock()) s->abort();
                                   }});
  session->start([this, id, slot = conn->slot, ws_slot, client_ws_slot] { remove_live(id); });
  // If stop() ran while the handshake was in flight, this session missed the broadcast.
  if (stopping) session->close(1001, "server shutdown");
}

template <class Stream>
asio::awaitable<void> Server::Impl::refuse_upgrade(Conn<Stream>& conn, const BeastRequest& req,
                                                   const Request& request, std::string_view message,
                                                   std::chrono::steady_clock::time_point start) {
  Response busy = error_response(503, "serviceUnavailable", message);
  busy.headers.set("Retry-After", "5");
  BeastResponse res = to_beast(busy, req, false);
  bool written = co_await write(conn, res);
  log_request(request.method, request.path, 503, start);
  if (written) co_await graceful_close(conn);
}

asio::awaitable<void> Server::Impl::shutdown(std::chrono::milliseconds grace) {
  boost::system::error_code ignored;
  acceptor.close(ignored);
  for (auto& live : live_snapshot()) live.stop();
  auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(acceptor.get_executor());
  // Polling keeps the bookkeeping trivial; this runs once per process lifetime.
  while (live_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(use_tuple);
  }
  for (auto& live : live_snapshot()) live.abort();
  auto hard_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (live_count() > 0 && std::chrono::steady_clock::now() < hard_deadline) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(use_tuple);
  }
  log::info("http.stopped", {{"open", live_count()}});
  // Handlers still blocked on the pool are abandoned; their frames go with the io_context.
  ioc.stop();
}

Server::Server(ServerOptions options, Handler handler, UpgradeHandler upgrade)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(upgrade))) {}

Server::~Server() = default;

Result<std::string> Server::listen() {
  return impl_->listen();
}

void Server::run() {
  if (impl_->stopping) return;
  if (!impl_->listening) {
    auto bound = impl_->listen();
    if (!bound) {
      log::error("http.listen_failed", {{"error", bound.error().message}});
      return;
    }
  }
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(),
                 log_exceptions("http.accept"));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->options.io_threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void Server::stop(std::chrono::milliseconds grace) {
  if (impl_->stopping.exchange(true)) return;
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->shutdown(grace),
                 log_exceptions("http.shutdown"));
}

void Server::stop_on_signals() {
  impl_->signals.emplace(impl_->ioc, SIGINT, SIGTERM);
  impl_->signals->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info("http.signal", {{"signal", sig}});
    stop();
  });
}

Server::Stats Server::stats() const {
  Stats s;
  s.connections_accepted = impl_->accepted.load();
  s.connections_open = impl_->open.load();
  s.requests = impl_->requests.load();
  s.rejected_malformed = impl_->rejected.load();
  s.connections_limit = impl_->options.max_connections;
  s.connections_refused = impl_->refused.load();
  s.websockets_open = impl_->websockets.load();
  s.upgrades_refused = impl_->upgrades_refused.load();
  s.connections_per_client_limit = impl_->options.max_connections_per_client;
  s.connections_refused_per_client = impl_->refused_per_client.load();
  s.websockets_per_client_limit = impl_->options.max_websockets_per_client;
  s.upgrades_refused_per_client = impl_->upgrades_refused_per_client.load();
  return s;
}

std::string Server::metrics_text(const Stats& s, std::string_view prefix) {
  std::string out;
  auto one = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += "# HELP " + std::string(prefix) + "_" + name + " " + help + "\n# TYPE " +
           std::string(prefix) + "_" + name + " " + type + "\n" + std::string(prefix) + "_" + name +
           " " + std::to_string(v) + "\n";
  };
  one("connections_open", "gauge", "Open client connections.", s.connections_open);
  one("connections_limit", "gauge", "Connections the server holds at most.", s.connections_limit);
  one("connections_total", "counter", "Connections accepted.", s.connections_accepted);
  one("connections_refused_total", "counter",
      "Connections closed at once because the limit was reached.", s.connections_refused);
  one("websockets_open", "gauge", "Open WebSockets.", s.websockets_open);
  one("websocket_upgrades_refused_total", "counter",
      "WebSocket upgrades refused (503) to keep the reserved connections for the API.",
      s.upgrades_refused);
  one("connections_per_client_limit", "gauge",
      "HTTP connections one client (an IPv4 address, an IPv6 /64) holds at most.",
      s.connections_per_client_limit);
  one("connections_refused_per_client_total", "counter",
      "Connections closed at once because their client held as many as it may.",
      s.connections_refused_per_client);
  one("websockets_per_client_limit", "gauge", "WebSockets one client holds at most.",
      s.websockets_per_client_limit);
  one("websocket_upgrades_refused_per_client_total", "counter",
      "WebSocket upgrades refused (503) because their client held as many as it may.",
      s.upgrades_refused_per_client);
  one("rejected_requests_total", "counter", "Malformed, oversized or timed-out requests.",
      s.rejected_malformed);
  return out;
}

struct ClientSlots::Slot {
  Slot(ClientSlots* o, std::string k) : owner(o), key(std::move(k)) {}
  ~Slot() { owner->give_back(key); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  ClientSlots* owner;
  std::string key;
};

std::shared_ptr<void> ClientSlots::take(std::string_view address) {
  std::string key = client_key(address);
  {
    std::lock_guard lock(mu_);
    auto& n = held_[key];
    if (n >= max_) {
      if (n == 0) held_.erase(key);
      return nullptr;
    }
    ++n;
  }
  return std::make_shared<Slot>(this, std::move(key));
}

void ClientSlots::give_back(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = held_.find(key);
  REACH_CHECK(it != held_.end(), "a client slot given back twice");
  if (--it->second == 0) held_.erase(it);
}

std::size_t ClientSlots::held(std::string_view address) const {
  std::lock_guard lock(mu_);
  auto it = held_.find(client_key(address));
  return it == held_.end() ? 0 : it->second;
}

std::size_t ClientSlots::clients() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

std::size_t connections_for_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024 - kFdHeadroom;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  rlim_t fds = lim.rlim_cur == RLIM_INFINITY ? rlim_t{1} << 20 : lim.rlim_cur;
  return fds > 2 * kFdHeadroom ? static_cast<std::size_t>(fds) - kFdHeadroom : kFdHeadroom;
}

}  // namespace reach::net
