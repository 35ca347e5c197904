#include "net/bridge.h"

#include "common/log.h"
#include "net/asio_internal.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>

namespace reach::net {

using namespace detail;  // NOLINT: the Asio/Beast aliases of asio_internal.hpp

namespace {

asio::io_context& context_of(EventLoop& loop) {
  return *static_cast<asio::io_context*>(loop.native());
}

std::string format_endpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

}  // namespace

// ---------------------------------------------------------------- TcpStream

struct TcpStream::Impl {
  explicit Impl(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;  // its executor is a strand of the loop
};

TcpStream::TcpStream() = default;
TcpStream::TcpStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpStream::~TcpStream() = default;
TcpStream::TcpStream(TcpStream&&) noexcept = default;
TcpStream& TcpStream::operator=(TcpStream&&) noexcept = default;

std::string TcpStream::remote_address() const {
  if (!impl_) return {};
  boost::system::error_code ec;
  auto ep = impl_->socket.remote_endpoint(ec);
  return ec ? std::string() : format_endpoint(ep);
}

void TcpStream::close() {
  if (!impl_) return;
  boost::system::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
  impl_->socket.close(ignored);
}

namespace {

// Waits until `fd` is ready for `events`, or the deadline passes.
Status wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(0, "timeout", "the peer took too long");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return {};
    if (r < 0 && errno != EINTR) return make_error(0, "ioFailed", std::strerror(errno));
  }
}

}  // namespace

Result<std::string> TcpStream::read_some(std::size_t max, std::chrono::milliseconds timeout) {
  if (!impl_) return make_error(0, "closed", "not connected");
  int fd = impl_->socket.native_handle();
  if (auto st = wait_fd(fd, POLLIN, std::chrono::steady_clock::now() + timeout); !st)
    return st.error();
  std::string buf(max, '\0');
  ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n == 0) return make_error(0, "closed", "the peer closed the connection");
  if (n < 0) return make_error(0, "ioFailed", std::strerror(errno));
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

Status TcpStream::write_all(std::string_view data, std::chrono::milliseconds timeout) {
  if (!impl_) return make_error(0, "closed", "not connected");
  int fd = impl_->socket.native_handle();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!data.empty()) {
    if (auto st = wait_fd(fd, POLLOUT, deadline); !st) return st;
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      return make_error(0, "ioFailed", std::strerror(errno));
    if (n > 0) data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<TcpStream> tcp_connect(EventLoop& loop, const std::string& host, std::uint16_t port,
                              std::chrono::milliseconds timeout) {
  auto& ioc = context_of(loop);
  std::promise<Result<TcpStream>> promise;
  auto future = promise.get_future();
  auto run = [&ioc, host, port, timeout]() -> asio::awaitable<Result<TcpStream>> {
    beast::tcp_stream stream(asio::make_strand(ioc));
    tcp::resolver resolver(stream.get_executor());
    auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
    if (rec)
      co_return make_error(0, "connectFailed", "cannot resolve " + host + ": " + rec.message());
    stream.expires_after(timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, use_tuple);
    std::string where = host + ":" + std::to_string(port);
    if (cec == beast::error::timeout)
      co_return make_error(0, "timeout", "cannot connect to " + where + ": timed out");
    if (cec)
      co_return make_error(0, "connectFailed", "cannot connect to " + where + ": " + cec.message());
    boost::system::error_code nodelay_ec;  // interactive: no Nagle stalls
    stream.socket().set_option(tcp::no_delay(true), nodelay_ec);
    stream.expires_never();
    co_return TcpStream(std::make_unique<TcpStream::Impl>(stream.release_socket()));
  };
  asio::co_spawn(ioc, run(), [&promise](const std::exception_ptr& e, Result<TcpStream> r) {
    if (e) r = make_error(0, "connectFailed", exception_message(e));
    promise.set_value(std::move(r));
  });
  return future.get();
}

// ---------------------------------------------------------------- TcpListener

struct TcpListener::Impl : std::enable_shared_from_this<TcpListener::Impl> {
  explicit Impl(asio::io_context& ioc) : ioc(ioc), acceptor(asio::make_strand(ioc)) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor.async_accept(asio::any_io_executor(asio::make_strand(ioc)), use_tuple);
      AcceptCallback callback;
      {
        std::lock_guard lock(mu);
        if (closed) break;
        callback = on_accept;
      }
      if (ec) {
        if (ec == asio::error::operation_aborted) break;
        // Out of descriptors and the like: do not spin.
        log::warn("net.accept_failed", {{"error", ec.message()}});
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      boost::system::error_code nodelay_ec;  // interactive: no Nagle stalls
      socket.set_option(tcp::no_delay(true), nodelay_ec);
      if (callback) callback(TcpStream(std::make_unique<TcpStream::Impl>(std::move(socket))));
    }
  }

  asio::io_context& ioc;
  tcp::acceptor acceptor;  // used on its strand once started
  std::string address;     // constant after open()
  std::mutex mu;
  AcceptCallback on_accept;  // guarded by mu
  bool closed = false;       // guarded by mu
};

TcpListener::TcpListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

TcpListener::~TcpListener() {
  close();
}

Result<std::unique_ptr<TcpListener>> TcpListener::open(EventLoop& loop, const std::string& host,
                                                       std::uint16_t port) {
  auto impl = std::make_shared<Impl>(context_of(loop));
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error(0, "listenFailed", "not an IP address: " + host);
  tcp::endpoint ep(address, port);
  auto& a = impl->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) impl->address = format_endpoint(a.local_endpoint(ec));
  if (ec) {
    return make_error(0, "listenFailed",
                      "cannot listen on " + format_endpoint(ep) + ": " + ec.message());
  }
  return std::unique_ptr<TcpListener>(new TcpListener(std::move(impl)));
}

std::string TcpListener::address() const {
  return impl_->address;
}

void TcpListener::start(AcceptCallback on_accept) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->on_accept = std::move(on_accept);
  }
  asio::co_spawn(
      impl_->acceptor.get_executor(),
      [impl = impl_]() -> asio::awaitable<void> { co_await impl->accept_loop(); },
      log_exceptions("net.tcp_accept"));
}

void TcpListener::close() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closed) return;
    impl_->closed = true;
    impl_->on_accept = nullptr;
  }
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
}

// ---------------------------------------------------------------- Bridge

const char* to_string(BridgeEnd end) {
  switch (end) {
    case BridgeEnd::tcp_closed:
      return "tcpClosed";
    case BridgeEnd::tcp_failed:
      return "tcpFailed";
    case BridgeEnd::websocket_closed:
      return "websocketClosed";
    case BridgeEnd::stopped:
      return "stopped";
    case BridgeEnd::layer_refused:
      return "layerRefused";
  }
  return "unknown";
}

// The TCP side runs as two coroutines (reader, writer) on the socket's strand; the WebSocket
// side reaches the core through its handler on the WebSocket's strand. They share the state
// below under mu; wake-ups go through two timers on the socket's strand (as in ws_session.hpp).
// The bridge has finished when the reader, the writer and the WebSocket have all ended.
struct Bridge::Core : std::enable_shared_from_this<Bridge::Core> {
  Core(tcp::socket s, BridgeOptions o, EndCallback cb)
      : socket(std::move(s)),
        ex(socket.get_executor()),
        read_gate(ex),
        write_gate(ex),
        flush_deadline(ex),
        options(std::move(o)),
        on_end(std::move(cb)) {
    options.chunk_size = std::max<std::size_t>(options.chunk_size, 1);
  }

  void wake(asio::steady_timer Core::*gate) {
    asio::post(ex, [self = shared_from_this(), gate] { ((*self).*gate).cancel(); });
  }

  static asio::awaitable<void> wait_on(asio::steady_timer& gate) {
    gate.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await gate.async_wait(use_tuple);
    (void)ec;
  }

  // Under mu. The first cause of the end is the one reported.
  void set_end(BridgeEnd end, std::string detail) {
    if (end_set) return;
    end_set = true;
    result.end = end;
    result.detail = std::move(detail);
  }

  void close_websocket(std::uint16_t code, std::string reason) {
    std::shared_ptr<WebSocket> w;
    {
      std::lock_guard lock(mu);
      w = ws;
      // The layer says it inside the stream too (after everything it sealed before).
      if (w && options.layer && options.layer->ready() && !layer_closed) {
        layer_closed = true;
        if (auto last = options.layer->closing(reason)) w->send(std::move(*last), true);
      }
    }
    if (w) w->close(code, std::move(reason));
  }

  // Under mu: the message for stream bytes (the layer's record, or the bytes themselves); empty
  // when the layer carries nothing any more (the other end closed the session, or a check
  // failed), and then nothing is sent.
  std::string outgoing(std::string bytes) {
    if (!options.layer) return bytes;
    return options.layer->ready() ? options.layer->seal(bytes) : std::string();
  }

  // On the strand: the TCP socket goes away now (reader and writer then fail and end).
  void abort_tcp() {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // `self` keeps the core alive as long as the coroutine.
  asio::awaitable<void> reader(std::shared_ptr<Core> self) {
    std::string buf(options.chunk_size, '\0');
    for (;;) {
      bool wait = false, draining = false;
      {
        std::lock_guard lock(mu);
        if (stop_requested || tcp_failed) break;
        draining = ws_ended;
        // Nothing is read from TCP before the layer may carry it (its handshake).
        wait = (tcp_read_paused || (options.layer && !options.layer->ready())) && !draining;
      }
      if (wait) {
        co_await wait_on(read_gate);
        continue;
      }
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) {
        bool eof = ec == asio::error::eof;
        {
          std::lock_guard lock(mu);
          if (!ws_ended) set_end(eof ? BridgeEnd::tcp_closed : BridgeEnd::tcp_failed, ec.message());
          tcp_read_ended = true;
          if (!eof) tcp_failed = true;
        }
        close_websocket(1000, eof ? "tcp peer closed" : "tcp connection failed");
        if (!eof) {
          abort_tcp();
          write_gate.cancel();
        }
        break;
      }
      // After the WebSocket ended, what still arrives is read and dropped until the peer
      // answers our FIN (closing with unread data would reset the connection and could lose
      // the bytes just flushed to the peer).
      if (draining) continue;
      std::shared_ptr<WebSocket> w;
      std::string payload = buf.substr(0, n);
      bool refused = false;
      {
        std::lock_guard lock(mu);
        result.tcp_to_websocket += n;
        if (options.filter && !options.filter->passthrough()) {
          std::string out;
          refused = !options.filter->from_tcp(payload, out);
          payload = std::move(out);
        }
        w = ws;
        // Set before send(): an on_drain() racing with send() then clears it, never the reverse.
        if (!payload.empty() && !refused) tcp_read_paused = true;
        // A layer's records are sealed and sent under mu, in the order of their sequence
        // numbers (ws_message sends too).
        if (options.layer && !payload.empty() && !refused) {
          std::string record = outgoing(std::move(payload));
          bool ok = w && (record.empty() || w->send(std::move(record), true));
          if (ok)
            tcp_read_paused = false;
          else
            ++result.tcp_read_pauses;
          payload.clear();
        }
      }
      if (refused) {
        close_websocket(1000, "stream refused");
        continue;
      }
      if (payload.empty()) continue;
      bool ok = w && w->send(std::move(payload), true);
      {
        std::lock_guard lock(mu);
        if (ok)
          tcp_read_paused = false;
        else if (tcp_read_paused)
          ++result.tcp_read_pauses;
      }
    }
    task_done();
  }

  asio::awaitable<void> writer(std::shared_ptr<Core> self) {
    bool flushed = false;
    for (;;) {
      std::string chunk;
      bool have = false;
      {
        std::lock_guard lock(mu);
        if (tcp_failed || stop_requested) break;
        if (!to_tcp.empty()) {
          chunk = std::move(to_tcp.front());
          to_tcp.pop_front();
          have = true;
        } else if (ws_ended) {
          flushed = true;
          break;
        }
      }
      if (!have) {
        co_await wait_on(write_gate);
        continue;
      }
      auto [ec, n] = co_await asio::async_write(socket, asio::buffer(chunk), use_tuple);
      std::shared_ptr<WebSocket> resume;
      {
        std::lock_guard lock(mu);
        backlog -= chunk.size();
        if (ec) {
          set_end(BridgeEnd::tcp_failed, ec.message());
          tcp_failed = true;
        } else {
          result.websocket_to_tcp += n;
          if (ws_paused && backlog <= options.tcp_write_limit / 2) {
            ws_paused = false;
            resume = ws;
          }
        }
      }
      if (ec) {
        close_websocket(1000, "tcp connection failed");
        abort_tcp();
        read_gate.cancel();
        break;
      }
      if (resume) resume->resume_reading();
    }
    if (flushed) {
      // Everything the WebSocket sent is written: tell the TCP peer (FIN). The reader drains
      // until the peer closes too, or flush_deadline closes the socket.
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      bool read_ended;
      {
        std::lock_guard lock(mu);
        read_ended = tcp_read_ended;
      }
      if (read_ended) abort_tcp();
    }
    task_done();
  }

  // --- WebSocket events (on the WebSocket's strand)

  void ws_opened(std::shared_ptr<WebSocket> w) {
    std::lock_guard lock(mu);
    if (ws || ws_ended) return;
    ws = std::move(w);
    if (options.layer)
      for (auto& m : options.layer->opening()) ws->send(std::move(m), true);
  }

  void ws_message(std::string data, bool binary) {
    std::shared_ptr<WebSocket> pause;
    std::string reply;
    bool refused = false;
    if (!binary && options.layer) {
      // With a layer every word from the other end is inside its records: text is the relay's.
      std::lock_guard lock(mu);
      if (result.messages_dropped++ == 0) log::warn("net.bridge_text_dropped");
      return;
    }
    if (!binary) {
      if (options.on_text) {
        options.on_text(std::move(data));
        return;
      }
      std::lock_guard lock(mu);
      if (result.messages_dropped++ == 0) log::warn("net.bridge_text_dropped");
      return;
    }
    std::string layer_why;
    bool layer_refused = false, now_ready = false;
    {
      std::lock_guard lock(mu);
      if (tcp_failed || stop_requested) return;
      if (options.layer) {
        bool was_ready = options.layer->ready();
        std::string plain;
        std::vector<std::string> answers;
        layer_refused = !options.layer->receive(data, plain, answers, layer_why);
        for (auto& a : answers)
          if (ws) ws->send(std::move(a), true);
        data = std::move(plain);
        now_ready = !was_ready && options.layer->ready();
        if (layer_refused) {
          set_end(BridgeEnd::layer_refused, layer_why);
          data.clear();
        }
      }
      if (!data.empty() && options.filter && !options.filter->passthrough()) {
        std::string to_tcp;
        refused = !options.filter->from_websocket(data, to_tcp, reply);
        data = std::move(to_tcp);
        // Sent under mu: once the filter passes everything, the reader's next TCP bytes must
        // not overtake what it held back (send() takes only the WebSocket's own lock).
        if (!reply.empty() && ws)
          if (std::string m = outgoing(std::move(reply)); !m.empty()) ws->send(std::move(m), true);
      }
    }
    if (layer_refused) {
      close_websocket(1000, layer_why);
      return;
    }
    if (now_ready) wake(&Core::read_gate);
    if (refused) close_websocket(1000, "stream refused");
    if (data.empty()) return;
    {
      std::lock_guard lock(mu);
      if (tcp_failed || stop_requested) return;
      backlog += data.size();
      result.tcp_backlog_peak = std::max(result.tcp_backlog_peak, backlog);
      to_tcp.push_back(std::move(data));
      if (backlog > options.tcp_write_limit && !ws_paused) {
        ws_paused = true;
        ++result.websocket_pauses;
        pause = ws;
      }
    }
    if (pause) pause->pause_reading();
    wake(&Core::write_gate);
  }

  void ws_drained() {
    {
      std::lock_guard lock(mu);
      tcp_read_paused = false;
    }
    wake(&Core::read_gate);
  }

  void ws_closed(std::uint16_t code, std::string reason) {
    {
      std::lock_guard lock(mu);
      ws_ended = true;
      result.websocket_code = code;
      set_end(BridgeEnd::websocket_closed, "websocket closed (" + std::to_string(code) +
                                               (reason.empty() ? "" : " " + reason) + ")");
      ws.reset();
    }
    asio::post(ex, [self = shared_from_this()] {
      self->write_gate.cancel();
      self->read_gate.cancel();
      self->flush_deadline.expires_after(self->options.flush_timeout);
      self->flush_deadline.async_wait([self](const boost::system::error_code& ec) {
        if (ec) return;
        log::warn("net.bridge_tcp_close_timeout");
        self->abort_tcp();
      });
    });
    task_done();
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      if (finished || stop_requested) return;
      stop_requested = true;
      set_end(BridgeEnd::stopped, "stopped");
    }
    close_websocket(1001, "bridge stopped");
    asio::post(ex, [self = shared_from_this()] {
      self->abort_tcp();
      self->read_gate.cancel();
      self->write_gate.cancel();
    });
  }

  // Once per reader, writer and WebSocket; the last one finishes the bridge.
  void task_done() {
    BridgeResult r;
    EndCallback cb;
    {
      std::lock_guard lock(mu);
      if (--tasks > 0) return;
      finished = true;
      r = result;
      cb = std::move(on_end);
      to_tcp.clear();
      ws.reset();
    }
    asio::post(ex, [self = shared_from_this()] {
      self->flush_deadline.cancel();
      self->abort_tcp();
    });
    cv.notify_all();
    log::info("net.bridge_ended", {{"end", to_string(r.end)},
                                   {"detail", r.detail},
                                   {"tcp_to_ws", r.tcp_to_websocket},
                                   {"ws_to_tcp", r.websocket_to_tcp}});
    if (cb) {
      try {
        cb(r);
      } catch (const std::exception& e) {
        log::error("net.bridge_on_end_failed", {{"error", e.what()}});
      }
    }
  }

  // Constant after construction; the socket and timers belong to the strand `ex`.
  tcp::socket socket;
  asio::any_io_executor ex;
  asio::steady_timer read_gate;
  asio::steady_timer write_gate;
  asio::steady_timer flush_deadline;
  BridgeOptions options;

  mutable std::mutex mu;
  std::condition_variable cv;
  // Guarded by mu.
  EndCallback on_end;
  std::shared_ptr<WebSocket> ws;  // until it ends
  std::deque<std::string> to_tcp;
  std::size_t backlog = 0;       // bytes in to_tcp plus the chunk being written
  bool ws_paused = false;        // we paused the WebSocket (TCP backlog over the limit)
  bool tcp_read_paused = false;  // the WebSocket's send queue is over its limit
  bool tcp_read_ended = false;
  bool tcp_failed = false;
  bool ws_ended = false;
  bool stop_requested = false;
  bool end_set = false;
  bool layer_closed = false;  // the layer's closing message was sent
  bool finished = false;
  int tasks = 3;  // reader, writer, WebSocket
  BridgeResult result;
};

namespace {

class BridgeHandler final : public WebSocketHandler {
 public:
  explicit BridgeHandler(std::shared_ptr<Bridge::Core> core) : core_(std::move(core)) {}
  void on_open(std::shared_ptr<WebSocket> ws) override { core_->ws_opened(std::move(ws)); }
  void on_message(std::string data, bool binary) override {
    core_->ws_message(std::move(data), binary);
  }
  void on_drain() override { core_->ws_drained(); }
  void on_close(std::uint16_t code, std::string reason) override {
    core_->ws_closed(code, std::move(reason));
  }

 private:
  std::shared_ptr<Bridge::Core> core_;
};

}  // namespace

Bridge::Bridge(std::shared_ptr<Core> core) : core_(std::move(core)) {}

Bridge::~Bridge() {
  stop();
}

Result<std::shared_ptr<Bridge>> Bridge::start(EventLoop& loop, TcpStream tcp, std::string_view url,
                                              const Headers& headers, BridgeOptions options,
                                              EndCallback on_end) {
  REACH_CHECK(tcp, "Bridge::start needs a connected TcpStream");
  auto core =
      std::make_shared<Core>(std::move(tcp.impl()->socket), std::move(options), std::move(on_end));
  auto ws = websocket_connect(loop, url, headers, std::make_shared<BridgeHandler>(core),
                              core->options.client);
  if (!ws) {
    asio::post(core->ex, [core] { core->abort_tcp(); });
    return ws.error();
  }
  core->ws_opened(*ws);
  asio::co_spawn(core->ex, core->reader(core), log_exceptions("net.bridge_reader"));
  asio::co_spawn(core->ex, core->writer(core), log_exceptions("net.bridge_writer"));
  return std::shared_ptr<Bridge>(new Bridge(std::move(core)));
}

void Bridge::stop() {
  core_->stop();
}

BridgeResult Bridge::wait() {
  std::unique_lock lock(core_->mu);
  core_->cv.wait(lock, [this] { return core_->finished; });
  return core_->result;
}

bool Bridge::finished() const {
  std::lock_guard lock(core_->mu);
  return core_->finished;
}

BridgeResult Bridge::progress() const {
  std::lock_guard lock(core_->mu);
  return core_->result;
}

}  // namespace reach::net
