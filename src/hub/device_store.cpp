#include "hub/device_store.h"

#include "common/crypto.h"

namespace reach::hub {

Status insert_device(store::Session& s, const NewDevice& d) {
  return store::exec_ok(
      s,
      "INSERT INTO devices (id, device_name, user_id, operating_system, os_version, model,"
      " manufacturer, serial_number, device_type, sku_family, owner_type, enrollment_type,"
      " compliance_state, management_agent, azure_ad_device_id, notes, enrolled_at,"
      " last_sync_at, credential_hash, e2e_public_key) VALUES"
      " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', 'mdm', ?, NULL, ?, ?, ?, ?)",
      {d.id, d.device_name, d.user_id, d.operating_system, d.os_version, d.model, d.manufacturer,
       d.serial_number, d.device_type, d.sku_family, d.owner_type, d.enrollment_type,
       d.azure_ad_device_id, d.enrolled_at, d.enrolled_at, d.credential_hash, d.e2e_public_key});
}

Result<std::optional<DeviceIdentity>> find_device_by_credential(store::Session& s,
                                                                const std::string& credential) {
  return store::query_one(s, "SELECT id, device_name FROM devices WHERE credential_hash = ?",
                          {crypto::sha256_hex(credential)}, [](const store::Row& r) {
                            return DeviceIdentity{r.text(0), r.text(1)};
                          });
}

Status record_checkin(store::Session& s, const std::string& id, const Inventory& inv,
                      std::int64_t now, const std::optional<std::string>& e2e_public_key) {
  return store::exec_ok(
      s,
      "UPDATE devices SET last_sync_at = ?, device_name = COALESCE(?, device_name),"
      " operating_system = COALESCE(?, operating_system), os_version = COALESCE(?, os_version),"
      " model = COALESCE(?, model), manufacturer = COALESCE(?, manufacturer),"
      " serial_number = COALESCE(?, serial_number), device_type = COALESCE(?, device_type),"
      " sku_family = COALESCE(?, sku_family), e2e_public_key = COALESCE(e2e_public_key, ?)"
      " WHERE id = ?",
      {now, inv.device_name, inv.operating_system, inv.os_version, inv.model, inv.manufacturer,
       inv.serial_number, inv.device_type, inv.sku_family, e2e_public_key, id});
}

Status update_device(store::Session& s, const std::string& id, const DeviceChanges& c) {
  if (c.owner_type)
    if (auto r = store::exec_ok(s, "UPDATE devices SET owner_type = ? WHERE id = ?",
                                {*c.owner_type, id});
        !r)
      return r;
  if (c.notes)
    if (auto r = store::exec_ok(s, "UPDATE devices SET notes = ? WHERE id = ?", {*c.notes, id}); !r)
      return r;
  return {};
}

Result<std::optional<DeviceContext>> device_context(store::Session& s, const std::string& id) {
  return store::query_one(
      s,
      "SELECT u.user_principal_name, o.display_name, p.relay_url FROM devices d"
      " CROSS JOIN organization o LEFT JOIN users u ON u.id = d.user_id"
      " LEFT JOIN ra_partners p ON p.status = 'onboarded' WHERE d.id = ? LIMIT 1",
      {id}, [](const store::Row& r) {
        return DeviceContext{r.opt_text(0), r.text(1), r.opt_text(2)};
      });
}

Status record_channel_connected(store::Session& s, const std::string& id, std::int64_t at) {
  return store::exec_ok(s, "UPDATE devices SET channel_connected_at = ? WHERE id = ?", {at, id});
}

Result<bool> device_exists(store::Session& s, const std::string& id) {
  return store::exists(s, "SELECT 1 FROM devices WHERE id = ?", {id});
}

Result<std::int64_t> count_devices(store::Session& s) {
  return store::query_int(s, "SELECT COUNT(*) FROM devices");
}

Result<std::int64_t> device_list_version(store::Session& s) {
  auto v = store::query_int(s, "SELECT version FROM data_versions WHERE name = 'deviceList'");
  if (!v && v.error().kind == Errc::not_found)
    return internal_error("The device list's data version is missing.");
  return v;
}

}  // namespace reach::hub
