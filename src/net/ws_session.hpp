// Internal to src/net (included by server.cpp and client.cpp only): the one WebSocket
// implementation behind net::WebSocket, templated over the Beast stream so that server and
// client, plain and TLS, share the flow-control logic.
//
// Threading: the Beast stream is touched only on its executor (a strand). One reader coroutine
// and one writer coroutine run there; the public WebSocket methods may be called from any thread
// and talk to the coroutines through state guarded by mu_ plus two timers used as wake-ups.
#pragma once

#include "net/asio_internal.hpp"
#include "net/websocket.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace reach::net::detail {

template <class WsStream>
class WsSession final : public WebSocket, public std::enable_shared_from_this<WsSession<WsStream>> {
 public:
  // `keepalive` is held until the session is destroyed (a TLS context, a connection slot).
  WsSession(typename WsStream::next_layer_type next, std::shared_ptr<WebSocketHandler> handler,
            std::size_t queue_limit, std::string remote, std::shared_ptr<void> keepalive)
      : ws_(std::move(next)),
        ex_(ws_.get_executor()),
        write_gate_(ex_),
        read_gate_(ex_),
        handler_(std::move(handler)),
        limit_(queue_limit),
        remote_(std::move(remote)),
        keepalive_(std::move(keepalive)) {}

  // For the handshake only, on the stream's executor, before start().
  WsStream& stream() { return ws_; }

  // Calls on_open, then reads and writes until the connection ends; `on_finished` runs on the
  // strand right after on_close.
  void start(std::function<void()> on_finished) {
    on_finished_ = std::move(on_finished);
    auto self = this->shared_from_this();
    auto done = [self](std::string where) {
      return asio::bind_executor(
          self->ex_, [self, log = log_exceptions(std::move(where))](std::exception_ptr e) {
            log(e);
            self->task_done();
          });
    };
    asio::co_spawn(ex_, reader(), done("ws.reader"));
    asio::co_spawn(ex_, writer(), done("ws.writer"));
  }

  // Closes the TCP socket without a close handshake (server shutdown after the grace period).
  void abort() {
    asio::post(ex_,
               [self = this->shared_from_this()] { beast::get_lowest_layer(self->ws_).close(); });
  }

  bool send(std::string data, bool binary) override {
    bool over;
    {
      std::lock_guard lock(mu_);
      if (closed_ || close_requested_) return false;
      queued_ += data.size();
      queue_.push_back(Message{std::move(data), binary});
      over = queued_ > limit_;
      if (over) over_limit_ = true;
    }
    wake(&WsSession::write_gate_);
    return !over;
  }

  std::size_t queued_bytes() const override {
    std::lock_guard lock(mu_);
    return queued_;
  }

  void close(std::uint16_t code, std::string reason) override {
    {
      std::lock_guard lock(mu_);
      if (closed_ || close_requested_) return;
      close_requested_ = true;
      close_code_ = code;
      close_reason_ = std::move(reason);
    }
    wake(&WsSession::write_gate_);
    // A paused reader must wake so that the close handshake can complete.
    wake(&WsSession::read_gate_);
  }

  void pause_reading() override {
    std::lock_guard lock(mu_);
    paused_ = true;
  }

  void resume_reading() override {
    {
      std::lock_guard lock(mu_);
      paused_ = false;
    }
    wake(&WsSession::read_gate_);
  }

  std::string remote_address() const override { return remote_; }

 private:
  struct Message {
    std::string data;
    bool binary;
  };

  // The gates are only waited on by their coroutine; cancel() on the strand wakes it. A wake
  // that arrives while the coroutine is busy is harmless: it re-checks the state before waiting.
  void wake(asio::steady_timer WsSession::*gate) {
    asio::post(ex_, [self = this->shared_from_this(), gate] { ((*self).*gate).cancel(); });
  }

  asio::awaitable<void> wait_on(asio::steady_timer& gate) {
    gate.expires_at(asio::steady_timer::time_point::max());
    auto [ec] = co_await gate.async_wait(use_tuple);
    (void)ec;
  }

  asio::awaitable<void> reader() {
    handler_->on_open(this->shared_from_this());
    beast::flat_buffer buffer;
    for (;;) {
      bool paused;
      {
        std::lock_guard lock(mu_);
        if (closed_) break;
        // A close we started completes only while a read runs, so it overrides a pause.
        paused = paused_ && !close_requested_;
      }
      if (paused) {
        co_await wait_on(read_gate_);
        continue;
      }
      auto [ec, n] = co_await ws_.async_read(buffer, use_tuple);
      if (ec) {
        // The peer's close frame counts even when the TCP teardown after it failed.
        if (ws_.reason().code != websocket::close_code::none) {
          peer_code_ = ws_.reason().code;
          peer_reason_ = std::string(ws_.reason().reason.c_str());
        } else if (ec == websocket::error::message_too_big) {
          peer_code_ = static_cast<std::uint16_t>(websocket::close_code::too_big);
        }
        break;
      }
      std::string data = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      handler_->on_message(std::move(data), ws_.got_binary());
    }
  }

  asio::awaitable<void> writer() {
    for (;;) {
      Message msg;
      bool have = false, do_close = false;
      std::uint16_t code = 0;
      std::string reason;
      {
        std::lock_guard lock(mu_);
        if (!queue_.empty()) {
          msg = std::move(queue_.front());
          queue_.pop_front();
          have = true;
        } else if (closed_) {
          break;
        } else if (close_requested_) {
          do_close = true;
          code = close_code_;
          reason = close_reason_;
        }
      }
      if (do_close) {
        websocket::close_reason cr;
        cr.code = code;
        cr.reason.assign(reason.data(), std::min(reason.size(), cr.reason.max_size()));
        auto [ec] = co_await ws_.async_close(cr, use_tuple);
        if (ec) beast::get_lowest_layer(ws_).close();
        break;
      }
      if (!have) {
        co_await wait_on(write_gate_);
        continue;
      }
      ws_.binary(msg.binary);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(msg.data), use_tuple);
      bool drained = false;
      {
        std::lock_guard lock(mu_);
        queued_ -= msg.data.size();
        if (over_limit_ && queued_ <= limit_ / 2) {
          over_limit_ = false;
          drained = !closed_ && !close_requested_;
        }
      }
      if (ec) {
        // The reader may be parked on a healthy-looking socket; make it fail too.
        beast::get_lowest_layer(ws_).close();
        break;
      }
      if (drained && handler_) handler_->on_drain();
    }
  }

  // On the strand, once per coroutine. The first to end makes the other one end.
  void task_done() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      queued_ = 0;
      queue_.clear();
    }
    write_gate_.cancel();
    read_gate_.cancel();
    if (--tasks_ > 0) return;
    beast::get_lowest_layer(ws_).close();
    std::uint16_t code = peer_code_;
    std::string reason = peer_reason_;
    {
      std::lock_guard lock(mu_);
      if (close_requested_) {
        code = close_code_;
        reason = close_reason_;
      }
    }
    // Dropping the handler breaks the usual cycle (handler holds the WebSocket it was given).
    auto handler = std::move(handler_);
    try {
      if (handler) handler->on_close(code, std::move(reason));
    } catch (const std::exception& e) {
      log::error("ws.on_close_failed", {{"error", e.what()}});
    }
    if (on_finished_) std::exchange(on_finished_, nullptr)();
  }

  // Constant after construction; the stream and the fields below it belong to the strand.
  WsStream ws_;
  asio::any_io_executor ex_;
  asio::steady_timer write_gate_;
  asio::steady_timer read_gate_;
  std::shared_ptr<WebSocketHandler> handler_;
  const std::size_t limit_;
  const std::string remote_;
  std::shared_ptr<void> keepalive_;
  std::function<void()> on_finished_;
  int tasks_ = 2;
  std::uint16_t peer_code_ = static_cast<std::uint16_t>(websocket::close_code::abnormal);
  std::string peer_reason_;

  // Guarded by mu_.
  mutable std::mutex mu_;
  std::deque<Message> queue_;
  std::size_t queued_ = 0;
  bool over_limit_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool close_requested_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
};

}  // namespace reach::net::detail
