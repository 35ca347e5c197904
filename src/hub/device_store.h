// The devices' rows outside the list (whose SELECT, in devices.cpp, carries the caller's
// authorisation): enrollment's insert, the agent's check-in and credential, an administrator's
// changes, and what the company portal is told about its device.
#pragma once

#include "common/result.h"
#include "hub/enrollment.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reach::hub {

// A device as enrollment records it.
struct NewDevice {
  std::string id, device_name, operating_system, device_type, owner_type, enrollment_type;
  std::optional<std::string> user_id, os_version, model, manufacturer, serial_number, sku_family;
  std::string azure_ad_device_id;
  std::string credential_hash;                // the device credential's SHA-256, hex
  std::optional<std::string> e2e_public_key;  // base64url of the device's Ed25519 public key
  std::int64_t enrolled_at = 0;
};
Status insert_device(store::Session& s, const NewDevice& d);

struct DeviceIdentity {
  std::string id, name;
};
// The device whose credential this is (nullopt: none). The credential is looked up by its hash.
Result<std::optional<DeviceIdentity>> find_device_by_credential(store::Session& s,
                                                                const std::string& credential);

// A check-in: the time, and what of the inventory the agent sent (absent fields stay). A device
// key is taken only by a device that has none yet (enrolled before keys were registered): the
// enrolled key is never replaced this way.
Status record_checkin(store::Session& s, const std::string& id, const Inventory& inv,
                      std::int64_t now,
                      const std::optional<std::string>& e2e_public_key = std::nullopt);

Result<bool> device_exists(store::Session& s, const std::string& id);
// The version of everything a device list reads, which the store's triggers advance on every
// change (migration 12; page_cache.h).
Result<std::int64_t> device_list_version(store::Session& s);
// How many devices are enrolled.
Result<std::int64_t> count_devices(store::Session& s);

// When the device's push channel last connected (the channel records them in batches).
Status record_channel_connected(store::Session& s, const std::string& id, std::int64_t at);

// What an administrator may change; nullopt leaves a field as it is (`notes` may be set to null).
struct DeviceChanges {
  std::optional<std::string> owner_type;
  std::optional<std::optional<std::string>> notes;
};
Status update_device(store::Session& s, const std::string& id, const DeviceChanges& c);

// What the company portal shows the person at the device: who it is enrolled to, the
// organisation, and the relay to type a session code into (once the connector is onboarded).
struct DeviceContext {
  std::optional<std::string> user_principal_name;
  std::string organization;
  std::optional<std::string> relay_url;
};
Result<std::optional<DeviceContext>> device_context(store::Session& s, const std::string& id);

}  // namespace reach::hub
