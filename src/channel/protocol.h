// The agent's push channel (SPEC §3.2), message by message: JSON text messages between
// reach-agent and reach-hub, parsed and made here without I/O, for both ends (and fuzzed).
//
// agent → hub: {"type":"heartbeat"}; {"type":"received","id"} (a notification is stored);
//   {"type":"event","ref","notificationId","event","detail"?} (an answer or a session event,
//   resent until acknowledged; the hub records each ref once).
// hub → agent: {"type":"heartbeatAck"}; {"type":"notification","notification":{…}};
//   {"type":"ack","ref"}; {"type":"error","ref"?,"message"} (with a ref: the event is refused
//   for good).
// Untrusted input both ways: anything malformed is an Invalid value saying what is wrong.
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace reach::channel {

inline constexpr std::size_t kMaxMessage = 16 * 1024;  // bytes of one message, either way
inline constexpr std::size_t kMaxRef = 64;
inline constexpr std::size_t kMaxDetail = 1000;
inline constexpr std::size_t kMaxReceiptDetail = 4000;  // a "receipt" event's (link/receipt.h)
// The events an agent reports about a notification. "asking" (detail: the seconds the user has
// to answer) and "viewOnly" (the user dropped the supporter's control) change no state;
// "receipt" (detail: a consent receipt the device signed) neither.
inline constexpr std::array<std::string_view, 12> kEvents = {
    "accepted", "declined",  "asking", "allowed", "allowedViewOnly", "viewOnly",
    "denied",   "connected", "ended",  "expired", "failed",          "receipt"};

// A message that cannot be taken; `ref` is set when the message named a valid ref (so that the
// refusal can name it too).
struct Invalid {
  std::string message;
  std::string ref;
};

// --- agent → hub
struct Heartbeat {};
struct Received {
  std::string id;
};
struct Event {
  std::string ref, notification_id, event;
  std::optional<std::string> detail;
};
using AgentMessage = std::variant<Heartbeat, Received, Event, Invalid>;
AgentMessage parse_agent_message(std::string_view text);

// --- hub → agent
struct HeartbeatAck {};
struct Notification {
  std::string id, kind, title, body;
  std::int64_t created_at = 0, expires_at = 0;  // ms since the epoch
  boost::json::object data;
};
struct Ack {
  std::string ref;
};
struct Refused {  // the hub will never take the event `ref`
  std::string ref, message;
};
struct HubError {
  std::string message;
};
using HubMessage = std::variant<HeartbeatAck, Notification, Ack, Refused, HubError, Invalid>;
HubMessage parse_hub_message(std::string_view text);

// A notification's JSON (the "notification" member), and its parse.
boost::json::object notification_json(const Notification& n);
Result<Notification> parse_notification(const boost::json::object& o);

}  // namespace reach::channel
