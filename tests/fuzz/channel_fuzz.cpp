// Fuzz target: one message on the agent channel, read by each end: as the hub reads an agent's
// message, and as the agent reads the hub's. A notification that parses must survive its own
// JSON again.
#include "channel/protocol.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach::channel;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto a = parse_agent_message(in);
  if (auto* e = std::get_if<Event>(&a)) {
    if (e->ref.empty() || e->ref.size() > kMaxRef || e->notification_id.empty()) __builtin_trap();
  }
  auto h = parse_hub_message(in);
  if (auto* n = std::get_if<Notification>(&h)) {
    auto again = parse_notification(notification_json(*n));
    if (!again || again->id != n->id || again->title != n->title || again->body != n->body ||
        again->kind != n->kind)
      __builtin_trap();
  }
  return 0;
}
