// One end of a relay stream as a test drives it, end-to-end encrypted as the real ends are
// (link/e2e.h): the handshake is done on open (the supporter's end begins it), then the test
// sends and reads the stream's bytes in the clear. With the supporter's role it stands where
// the viewer or `reach connect` would; with the device's, where reach-agent would.
//
// It keeps the stream's bytes and the device's notices, decrypted. A failed check closes the
// stream the way the real ends do (1000, "end-to-end check failed (CODE)") and is kept in
// e2e_error().
#pragma once

#include "link/e2e.h"
#include "net/client.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace reach::itest {

class E2ePeer : public net::WebSocketHandler {
 public:
  explicit E2ePeer(link::E2eOptions options = {});

  // Opens `url` with a new peer (supporter's role unless `options` say otherwise) and starts
  // the handshake. Errors: websocket_connect's.
  static Result<std::shared_ptr<E2ePeer>> connect(net::EventLoop& loop, const std::string& url,
                                                  link::E2eOptions options = {});

  // Seals and sends stream bytes; nothing once the session is over (closed or failed), and
  // REACH_CHECK before the handshake has finished.
  void send(std::string_view bytes);
  // Sends stream bytes and, right behind them, the close record, then closes the stream (a
  // viewer whose user pressed End while its last request was on its way).
  void send_and_close(std::string_view bytes, const std::string& reason);

  bool wait_established(std::chrono::milliseconds timeout) const;
  bool wait_bytes(std::uint64_t n, std::chrono::milliseconds timeout) const;  // stream bytes
  bool wait_closed(std::chrono::milliseconds timeout) const;
  std::string stream() const;  // every stream byte so far
  std::uint64_t received_bytes() const;
  std::vector<std::string> notices() const;  // the device's, in order
  std::string verification_code() const;
  std::string e2e_error() const;  // the code of a failed check ("" while none)
  bool closed() const;
  std::uint16_t close_code() const;
  std::string close_reason() const;  // of the WebSocket's close frame

  void on_open(std::shared_ptr<net::WebSocket> ws) override;
  void on_message(std::string data, bool binary) override;
  void on_close(std::uint16_t code, std::string reason) override;

 private:
  template <typename F>
  auto read(F f) const {
    std::lock_guard lock(mu_);
    return f();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Guarded by mu_.
  link::E2eChannel e2e_;
  std::shared_ptr<net::WebSocket> ws_;
  std::string stream_;
  std::vector<std::string> notices_;
  std::string error_, close_reason_;
  bool closed_ = false;
  std::uint16_t close_code_ = 0;
};

// A device end's options: a fresh device key, no session secret.
link::E2eOptions device_end(std::string session_secret = {});
// The supporter's end of a link: the session secret and device fingerprint its fragment holds
// (a link the hub made), or none (a session made at the relay).
link::E2eOptions supporter_end(const std::string& supporter_link);

}  // namespace reach::itest
