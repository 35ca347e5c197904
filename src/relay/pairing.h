// The relay's data plane: pairs the device end and the supporter end of each session and forwards
// binary WebSocket messages between them, unchanged and uninspected, with bounded memory.
//
// Lifecycle of a session (keyed by its code):
//   attach(code, side) reserves that side and returns the handler for the upgrade. The end is
//   "connected" once its WebSocket opens (on_connected). The first end to connect is paused (its
//   bytes wait in TCP, nothing is buffered here) until the other end connects (on_paired) or
//   until peer_wait passes ("peerTimeout": the waiting end is closed with 4000). Once either
//   connected end goes away, or close() is called, both ends are closed and the session has ended
//   for good (on_end, once; the end that stays hears the leaver's close reason, or "the other
//   side left" when it gave none): attach() then answers 410 for ended_ttl. A handler that never
//   opened (refused or failed handshake, dropped by the caller) just releases its reservation.
//
// Forwarding: binary messages go to the other end as they are. Text messages are dropped (and
// logged once per end): the streams carry RFB bytes, and dropping keeps the byte stream intact.
// Back-pressure: when the other end's send queue goes over its limit the source stops reading
// until that queue drains below half. Memory per session is therefore bounded by the two send
// queues (ServerOptions::ws_send_queue_limit each, exceeded by at most one message) plus one
// message being read per direction (ServerOptions::ws_message_limit).
//
// Thread-safety: every public method may be called from any thread. The callbacks run one at a
// time on Pairing's own thread, in the order the events happened, never under a lock: they may
// call Pairing's methods (but not destroy it) and should return promptly, since the same thread
// enforces peer_wait. No callback runs after ~Pairing returns.
#pragma once

#include "common/result.h"
#include "net/websocket.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace reach::relay {

enum class Side { device, supporter };

struct PairingOptions {
  // How long the first end to connect waits for the other.
  std::chrono::milliseconds peer_wait{std::chrono::minutes(10)};
  // How long an ended code is remembered (and refused with 410) in this process. Codes are only
  // unique among open sessions, so this must not be forever; the database is the lasting record.
  std::chrono::milliseconds ended_ttl{std::chrono::hours(24)};
};

class Pairing {
 public:
  // on_end(code, reason): once per session that had an end connected, when it ends, with reason
  // "deviceLeft", "supporterLeft", "peerTimeout", "closed" (or the reason given to close()) or
  // "shutdown". on_connected(code, side): an end's WebSocket opened. on_paired(code): both have.
  using EndCallback = std::function<void(const std::string& code, const std::string& reason)>;
  using ConnectedCallback = std::function<void(const std::string& code, Side side)>;
  using PairedCallback = std::function<void(const std::string& code)>;

  Pairing(PairingOptions options, EndCallback on_end, ConnectedCallback on_connected = {},
          PairedCallback on_paired = {});
  // Ends every session ("shutdown", 1001 to the ends), delivers the pending callbacks, then
  // stops. Handlers still held by the network keep working memory alive but report nothing.
  ~Pairing();
  Pairing(const Pairing&) = delete;
  Pairing& operator=(const Pairing&) = delete;

  // A handler for a new end of session `code`. Errors: 409 "alreadyConnected" when that side is
  // already attached; 410 "sessionEnded" when the session ended in this process; 503
  // "shuttingDown" during ~Pairing.
  Result<std::shared_ptr<net::WebSocketHandler>> attach(const std::string& code, Side side);

  // Ends the session now: both ends get 1000 (1001 for reason "shutdown"), on_end gets `reason`.
  // A session with no connected end is just marked ended (no on_end). Idempotent.
  void close(const std::string& code, const std::string& reason = "closed");

  struct State {
    bool device = false;     // the device end's WebSocket is open
    bool supporter = false;  // the supporter end's WebSocket is open
    bool ended = false;
  };
  // nullopt: nothing is attached and the session has not ended here.
  std::optional<State> state(const std::string& code) const;
  // Sessions with at least one end attached or connected.
  std::size_t active_sessions() const;

  struct Core;  // shared with the handlers, which may outlive Pairing

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace reach::relay
