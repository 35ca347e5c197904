// Joins one TCP connection and one WebSocket: the bytes read from TCP go out as binary messages
// (at most BridgeOptions::chunk_size each), the binary messages received go out as TCP bytes.
// This is how a plain TCP program (a VNC viewer, a VNC server) rides a relay stream.
//
// Back-pressure both ways, so memory stays bounded whatever the speeds:
//   TCP → WebSocket: when WebSocket::send() reports its queue over the limit, TCP reading stops
//   until on_drain(); the TCP peer is then held back by TCP itself.
//   WebSocket → TCP: when the bytes waiting to be written to TCP exceed tcp_write_limit, the
//   WebSocket stops reading (pause_reading) until they fall to half of it.
// When either side ends, the other is ended: a TCP end closes the WebSocket (1000, after what is
// queued); a WebSocket end flushes what was received to TCP (within flush_timeout) and closes it.
// WebSocket has no half-close, so a TCP half-close (FIN) ends the bridge too: what the WebSocket
// peer had not sent yet is lost (for RFB, a viewer that closes has left).
// Text messages are dropped (the stream carries bytes only).
//
// Also here: the small Asio-free TCP endpoints the bridge needs (TcpStream, tcp_connect,
// TcpListener). Everything runs on an EventLoop's thread.
#pragma once

#include "common/result.h"
#include "net/client.h"
#include "net/http.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reach::net {

// A connected TCP socket owned by an EventLoop, not yet in use. Move-only; destroying it closes
// the connection. Destroy it before its EventLoop.
class TcpStream {
 public:
  struct Impl;
  TcpStream();
  explicit TcpStream(std::unique_ptr<Impl> impl);
  ~TcpStream();
  TcpStream(TcpStream&&) noexcept;
  TcpStream& operator=(TcpStream&&) noexcept;

  explicit operator bool() const { return impl_ != nullptr; }
  std::string remote_address() const;  // "host:port"; empty when not connected
  // Closes the connection at once (a viewer refused while another one is bridged).
  void close();
  // Blocking reads and writes with a deadline, before the stream is bridged and never on its
  // loop's thread (reach connect checks its viewer's password with them). read_some returns
  // what arrived (at most `max` bytes); errors: "timeout", "closed", "ioFailed".
  Result<std::string> read_some(std::size_t max, std::chrono::milliseconds timeout);
  Status write_all(std::string_view data, std::chrono::milliseconds timeout);
  Impl* impl() { return impl_.get(); }  // for net's own .cpp files only

 private:
  std::unique_ptr<Impl> impl_;
};

// Connects to host:port (blocking the caller, never call it on `loop`'s thread). Errors:
// "connectFailed", "timeout".
Result<TcpStream> tcp_connect(EventLoop& loop, const std::string& host, std::uint16_t port,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Accepts TCP connections on `loop`. Thread-safe. The callback runs on the loop's thread, one
// connection at a time, and must not block (hand the stream to another thread to bridge it).
class TcpListener {
 public:
  using AcceptCallback = std::function<void(TcpStream)>;
  // Binds and listens (port 0: any free port). Errors: "listenFailed".
  static Result<std::unique_ptr<TcpListener>> open(EventLoop& loop, const std::string& host,
                                                   std::uint16_t port);
  ~TcpListener();  // close()s
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  std::string address() const;  // the bound "host:port" (IPv6 hosts in brackets)
  void start(AcceptCallback on_accept);
  void close();  // stops accepting; no callback starts after it returns

  struct Impl;

 private:
  explicit TcpListener(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Rewrites the start of a bridged stream (a handshake answered in the middle, as `reach connect`
// does for its viewer's password); once passthrough() is true it is not called again. Called
// with the bridge's lock held, on the loop's threads: it must not block or call the bridge.
class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  // Bytes from the WebSocket peer: appends what goes on to TCP and what goes back to the
  // WebSocket. false: the stream cannot go on; the bridge writes `to_tcp`, then ends.
  virtual bool from_websocket(std::string_view in, std::string& to_tcp,
                              std::string& to_websocket) = 0;
  // Bytes from the TCP peer: appends what goes on to the WebSocket now (it may hold the rest).
  virtual bool from_tcp(std::string_view in, std::string& to_websocket) = 0;
  virtual bool passthrough() const = 0;
};

// A layer between the WebSocket's messages and the stream's bytes, below any StreamFilter: the
// session's end-to-end encryption (reach's e2e_layer.h). Every message the bridge sends goes
// through it and every binary message received; text messages are dropped. Called with the
// bridge's lock held, on the loop's threads: it must not block or call the bridge.
class MessageLayer {
 public:
  virtual ~MessageLayer() = default;
  // Sent as soon as the WebSocket is open (a handshake's first message).
  virtual std::vector<std::string> opening() = 0;
  // Whether stream bytes may be sent yet (a handshake is done): until then TCP is not read.
  virtual bool ready() const = 0;
  // One binary message: appends the stream bytes it carried for TCP and the messages to send
  // back at once. false: the stream cannot go on; `why` says so, in words, and becomes the
  // WebSocket's close reason (at most 123 bytes).
  virtual bool receive(std::string_view message, std::string& to_tcp,
                       std::vector<std::string>& to_websocket, std::string& why) = 0;
  // Stream bytes as one message (ready() only).
  virtual std::string seal(std::string_view bytes) = 0;
  // The bridge is closing the WebSocket for `reason`: a last message that says so, or none.
  virtual std::optional<std::string> closing(std::string_view reason) = 0;
};

struct BridgeOptions {
  std::size_t chunk_size = std::size_t{64} * 1024;  // bytes per binary message, at most
  std::size_t tcp_write_limit =
      std::size_t{4} * 1024 * 1024;                // TCP backlog that pauses the WebSocket
  std::chrono::milliseconds flush_timeout{10000};  // WebSocket ended: time to flush to TCP
  ClientOptions client;                            // for the WebSocket connection
  std::shared_ptr<StreamFilter> filter;            // none: every byte passes as it is
  std::shared_ptr<MessageLayer> layer;             // none: the stream's bytes are the messages
  // Text messages from the WebSocket (the stream is binary): handed here, on the connection's
  // thread, instead of being dropped. Must not block.
  std::function<void(std::string)> on_text;
};

// Why a bridge ended. The first cause wins; the other side is then ended by the bridge.
enum class BridgeEnd {
  tcp_closed,        // the TCP peer closed its side (a viewer quit)
  tcp_failed,        // a TCP read or write failed (reset, flush timeout)
  websocket_closed,  // the WebSocket peer closed (or the connection to it was lost)
  stopped,           // Bridge::stop()
  layer_refused,     // the MessageLayer refused a message (detail: its why)
};
const char* to_string(BridgeEnd end);

struct BridgeResult {
  BridgeEnd end = BridgeEnd::stopped;
  std::string detail;                  // e.g. "End of file", the WebSocket close reason
  std::uint16_t websocket_code = 0;    // the WebSocket's close code, as on_close gave it
  std::uint64_t tcp_to_websocket = 0;  // bytes
  std::uint64_t websocket_to_tcp = 0;  // bytes
  std::uint64_t messages_dropped = 0;  // text messages received and dropped (no on_text)
  std::size_t tcp_backlog_peak = 0;    // most bytes ever waiting for TCP (bounded-memory check)
  std::uint64_t tcp_read_pauses = 0;   // times TCP reading stopped for the WebSocket's queue
  std::uint64_t websocket_pauses = 0;  // times the WebSocket was paused for the TCP backlog
};

// One running bridge. Thread-safe; every method may be called from any thread except wait(),
// which must not be called on the loop's thread.
class Bridge {
 public:
  using EndCallback = std::function<void(const BridgeResult&)>;

  // Opens the WebSocket at `url` (ws:// or wss://; blocking the caller until its handshake is
  // done, so never on `loop`'s thread) and starts bridging it with `tcp`. On failure `tcp` is
  // closed and the Error is websocket_connect's (an HTTP refusal keeps its status and body).
  // `on_end` runs once, on the loop's thread, after both sides have ended.
  static Result<std::shared_ptr<Bridge>> start(EventLoop& loop, TcpStream tcp, std::string_view url,
                                               const Headers& headers = {},
                                               BridgeOptions options = {}, EndCallback on_end = {});
  ~Bridge();  // stop()s; the bridge finishes on the loop

  void stop();
  // Blocks until both sides have ended; returns the result.
  BridgeResult wait();
  bool finished() const;
  BridgeResult progress() const;  // counters so far (the end fields are final once finished)

  struct Core;

 private:
  explicit Bridge(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace reach::net
