// Fuzz target: a JSON request body as the hub and the relay read it: the shared JSON reader
// (depth and size limits), then the relay's sessions API body (create and update) and the hub's
// device inventory (enrollment and check-in).
#include "common/json.h"
#include "hub/enrollment.h"
#include "relay/session_fields.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach;
  auto body = json::parse_object(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!body) return 0;
  constexpr std::int64_t kNow = 1'800'000'000'000;
  for (auto kind : {relay::SessionBody::create, relay::SessionBody::update})
    if (auto f = relay::read_session_fields(*body, kind, kNow)) {
      if (f->description && f->description->size() > 1000) __builtin_trap();
      if (f->valid_until && *f->valid_until <= kNow) __builtin_trap();
      if (f->state && *f->state != "open" && *f->state != "closed") __builtin_trap();
    }
  for (bool identity : {true, false})
    if (auto inv = hub::parse_inventory(*body, identity))
      if (identity && (!inv->device_name || !inv->operating_system)) __builtin_trap();
  return 0;
}
