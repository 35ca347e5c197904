// HTTP/1.1 and WebSocket clients (http:// https:// ws:// wss://) on Beast.
//
// http_request() is blocking: it runs its own io_context on the calling thread, so it may be
// called from worker threads and tests. WebSocket clients run on an EventLoop's thread.
#pragma once

#include "common/result.h"
#include "net/http.h"
#include "net/websocket.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace reach::net {

struct ClientOptions {
  std::chrono::milliseconds timeout{30000};  // connect + request + response
  bool verify_tls = true;
  std::string ca_file;  // extra trusted CA (PEM); empty: system store only
  std::size_t body_limit = 64 * 1024 * 1024;
  std::size_t ws_message_limit = 16 * 1024 * 1024;
  std::size_t ws_send_queue_limit = 4 * 1024 * 1024;
};

// Errors: 0-status Error with code "connectFailed", "timeout", "tlsFailed", "protocolError".
Result<Response> http_request(std::string_view method, std::string_view url,
                              const Headers& headers = {}, std::string body = {},
                              const ClientOptions& options = {});

// A thread running an io_context for client WebSockets and timers. Thread-safe.
class EventLoop {
 public:
  EventLoop();
  ~EventLoop();  // stops the thread; open sockets are closed
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  void* native();  // boost::asio::io_context*, for net's own .cpp files only

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects and performs the handshake (blocking the caller until done or failed); the socket then
// runs on `loop`. If the server answers the upgrade with an HTTP error, the Error carries its
// status and body as message.
Result<std::shared_ptr<WebSocket>> websocket_connect(EventLoop& loop, std::string_view url,
                                                     const Headers& headers,
                                                     std::shared_ptr<WebSocketHandler> handler,
                                                     const ClientOptions& options = {});

}  // namespace reach::net
