#include "channel/protocol.h"

#include "common/json.h"
#include "common/time.h"

#include <fmt/format.h>

#include <algorithm>

namespace reach::channel {
namespace bj = boost::json;

namespace {

// The object of a message, or what is wrong with it.
std::variant<bj::object, Invalid> object_of(std::string_view text) {
  if (text.size() > kMaxMessage)
    return Invalid{
        fmt::format("Channel messages are JSON text of at most {} KiB.", kMaxMessage / 1024), {}};
  auto o = json::parse_object(text);
  if (!o) return Invalid{"Not a JSON object: " + o.error().message, {}};
  return std::move(*o);
}

}  // namespace

AgentMessage parse_agent_message(std::string_view text) {
  auto parsed = object_of(text);
  if (auto* bad = std::get_if<Invalid>(&parsed)) return *bad;
  const auto& m = std::get<bj::object>(parsed);
  auto type = json::opt_string(m, "type");
  if (!type || !*type) return Invalid{"Property 'type' (a string) is required.", {}};
  if (**type == "heartbeat") return Heartbeat{};
  if (**type == "received") {
    auto id = json::opt_string(m, "id");
    if (!id || !*id || (*id)->empty() || (*id)->size() > kMaxRef)
      return Invalid{"Property 'id' (a string) is required.", {}};
    return Received{**id};
  }
  if (**type != "event") return Invalid{fmt::format("Unknown message type '{}'.", **type), {}};
  auto ref = json::opt_string(m, "ref");
  if (!ref || !*ref || (*ref)->empty() || (*ref)->size() > kMaxRef)
    return Invalid{"Property 'ref' (1 to 64 characters) is required.", {}};
  auto refuse = [&](const char* message) { return Invalid{message, **ref}; };
  auto nid = json::opt_string(m, "notificationId");
  if (!nid || !*nid || (*nid)->empty())
    return refuse("Property 'notificationId' (a string) is required.");
  auto event = json::opt_string(m, "event");
  if (!event || !*event || std::find(kEvents.begin(), kEvents.end(), **event) == kEvents.end())
    return refuse(
        "Property 'event' must be one of accepted, declined, allowed, allowedViewOnly, denied, "
        "connected, ended, expired, failed, receipt.");
  auto detail = json::opt_string(m, "detail");
  if (!detail ||
      (*detail && (*detail)->size() > (**event == "receipt" ? kMaxReceiptDetail : kMaxDetail)))
    return refuse(
        "Property 'detail' must be a string of at most 1000 characters (4000 for a receipt).");
  return Event{**ref, **nid, **event, *detail};
}

bj::object notification_json(const Notification& n) {
  return bj::object{{"id", n.id},
                    {"kind", n.kind},
                    {"title", n.title},
                    {"body", n.body},
                    {"data", n.data},
                    {"createdDateTime", iso8601(n.created_at)},
                    {"expirationDateTime", iso8601(n.expires_at)}};
}

Result<Notification> parse_notification(const bj::object& o) {
  Notification x;
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"id", &x.id},
                          {"kind", &x.kind},
                          {"title", &x.title},
                          {"body", &x.body}}) {
    auto v = json::req_string(o, key);
    if (!v) return v.error();
    *out = std::move(*v);
  }
  if (x.id.empty() || x.id.size() > kMaxRef)
    return bad_request("A notification's id is 1 to 64 characters.");
  for (auto [key, out] :
       {std::pair<std::string_view, std::int64_t*>{"createdDateTime", &x.created_at},
        {"expirationDateTime", &x.expires_at}}) {
    auto text = json::req_string(o, key);
    if (!text) return text.error();
    auto t = parse_iso8601(*text);
    if (!t) return t.error();
    *out = *t;
  }
  if (auto d = o.find("data"); d != o.end() && d->value().is_object())
    x.data = d->value().as_object();
  return x;
}

HubMessage parse_hub_message(std::string_view text) {
  auto parsed = object_of(text);
  if (auto* bad = std::get_if<Invalid>(&parsed)) return *bad;
  const auto& m = std::get<bj::object>(parsed);
  auto type = json::opt_string(m, "type");
  if (!type || !*type) return Invalid{"Property 'type' (a string) is required.", {}};
  const std::string& t = **type;
  if (t == "heartbeatAck") return HeartbeatAck{};
  if (t == "notification") {
    auto it = m.find("notification");
    if (it == m.end() || !it->value().is_object())
      return Invalid{"Property 'notification' (an object) is required.", {}};
    auto n = parse_notification(it->value().as_object());
    if (!n) return Invalid{n.error().message, {}};
    return std::move(*n);
  }
  auto ref = json::opt_string(m, "ref");
  auto message = json::opt_string(m, "message");
  std::string msg = message ? message->value_or("") : "";
  if (t == "ack" || (t == "error" && ref && *ref)) {
    if (!ref || !*ref || (*ref)->empty() || (*ref)->size() > kMaxRef)
      return Invalid{"Property 'ref' (1 to 64 characters) is required.", {}};
    if (t == "ack") return Ack{**ref};
    return Refused{**ref, msg};
  }
  if (t == "error") return HubError{msg};
  return Invalid{fmt::format("Unknown message type '{}'.", t), {}};
}

}  // namespace reach::channel
