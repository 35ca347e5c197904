// The agents' push channel and the device notification outbox (internal to the hub).
//
// Each enrolled agent keeps one WebSocket open at /api/agent/channel, authenticated by its device
// credential (Bearer). Messages are JSON text, one object each, with a "type":
//   hub → agent   notification {notification:{id, kind, title, body, createdDateTime,
//                                expirationDateTime, data}}
//                 ack {id}            (an answer or session event was recorded)
//                 heartbeatAck {}
//                 error {message}     (a message the hub could not take; the channel stays up)
//   agent → hub   heartbeat {}
//                 received {id}       (the notification is stored on the device)
//                 answer {id, answer: "accepted"|"declined"}
//                 sessionEvent {id, event, detail?}  (id: the notification's)
// Delivery is at-least-once: a notification is sent on every connect until the agent says
// "received", and is never sent after its expiry. Answers are recorded once (a repeated answer is
// acknowledged again and changes nothing), so an agent may resend until it sees "ack".
//
// Outbox (hub/outbox.h): queue_notification() inserts within the caller's transaction (so a
// notification is created together with what caused it and survives restarts); after the commit,
// call AgentChannels::wake(device) to push it at once when the device is connected to this process.
//
// Thread-safety: every AgentChannels method may be called from any thread. Database work for
// channel messages runs on the channels' own worker thread, never on an I/O thread.
#pragma once

#include "hub/internal.h"
#include "hub/outbox.h"
#include "net/websocket.h"

#include <memory>
#include <string>

namespace reach::hub {

class AgentChannels {
 public:
  explicit AgentChannels(Services& svc);
  ~AgentChannels();  // closes every channel (1001) and joins the worker
  AgentChannels(const AgentChannels&) = delete;
  AgentChannels& operator=(const AgentChannels&) = delete;

  // Decides an upgrade of /api/agent/channel (on a server worker thread; may block).
  std::shared_ptr<net::WebSocketHandler> accept(net::Request& request, net::Response& reject);
  // Sends the device's pending notifications if its channel is open in this process.
  void wake(const std::string& device_id);
  bool connected(const std::string& device_id) const;
  std::size_t open_channels() const;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace reach::hub
