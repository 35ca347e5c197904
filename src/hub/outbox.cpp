#include "hub/outbox.h"

#include "common/crypto.h"
#include "common/json.h"

namespace reach::hub {

Result<std::string> queue_notification(store::Session& s, const std::string& device_id,
                                       const NotificationSpec& spec, std::int64_t now) {
  std::string id = crypto::uuid_v4();
  auto r = s.exec(
      "INSERT INTO device_notifications (id, device_id, kind, title, body, data, created_at,"
      " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {id, device_id, spec.kind, spec.title, spec.body, json::serialize(spec.data), now,
       spec.expires_at});
  if (!r) return r.error();
  return id;
}

Result<std::vector<StoredNotification>> pending_notifications(store::Session& s,
                                                              const std::string& device_id,
                                                              std::int64_t now,
                                                              std::int64_t limit) {
  auto rows = s.query(
      "SELECT id, kind, title, body, data, created_at, expires_at FROM device_notifications"
      " WHERE device_id = ? AND received_at IS NULL AND expires_at > ? ORDER BY created_at, id"
      " LIMIT ?",
      {device_id, now, limit});
  if (!rows) return rows.error();
  std::vector<StoredNotification> out;
  out.reserve(rows->rows.size());
  for (const auto& r : rows->rows)
    out.push_back(
        {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)});
  return out;
}

Status mark_received(store::Session& s, const std::string& device_id, const std::string& id,
                     std::int64_t now) {
  return store::exec_ok(
      s,
      "UPDATE device_notifications SET received_at = ? WHERE id = ? AND device_id = ?"
      " AND received_at IS NULL",
      {now, id, device_id});
}

Result<std::vector<std::string>> devices_with_pending(store::Session& s, std::int64_t since,
                                                      std::int64_t now) {
  auto rows = s.query(
      "SELECT DISTINCT device_id FROM device_notifications"
      " WHERE received_at IS NULL AND created_at >= ? AND expires_at > ?",
      {since, now});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  out.reserve(rows->rows.size());
  for (const auto& r : rows->rows) out.push_back(r.text(0));
  return out;
}

Result<std::optional<NotificationAnswer>> find_notification(store::Session& s,
                                                            const std::string& device_id,
                                                            const std::string& id) {
  return store::query_one(
      s, "SELECT kind, answer, expires_at FROM device_notifications WHERE id = ? AND device_id = ?",
      {id, device_id}, [](const store::Row& r) {
        return NotificationAnswer{r.text(0), r.opt_text(1), r.integer(2)};
      });
}

Status withdraw_notification(store::Session& s, const std::string& id, std::int64_t now) {
  return store::exec_ok(
      s, "UPDATE device_notifications SET expires_at = ? WHERE id = ? AND expires_at > ?",
      {now, id, now});
}

Status record_answer(store::Session& s, const std::string& id, const std::string& answer,
                     std::int64_t now) {
  return store::exec_ok(s,
                        "UPDATE device_notifications SET answer = ?, answered_at = ? WHERE id = ?",
                        {answer, now, id});
}

Result<bool> event_recorded(store::Session& s, const std::string& device_id,
                            const std::string& ref) {
  return store::exists(s, "SELECT 1 FROM device_events WHERE device_id = ? AND ref = ?",
                       {device_id, ref});
}

Result<std::int64_t> count_events(store::Session& s, const std::string& device_id,
                                  const std::string& notification_id) {
  return store::query_int(
      s, "SELECT COUNT(*) FROM device_events WHERE device_id = ? AND notification_id = ?",
      {device_id, notification_id});
}

Status record_event(store::Session& s, const std::string& device_id, const DeviceEvent& e,
                    std::int64_t now) {
  return store::exec_ok(
      s,
      "INSERT INTO device_events (device_id, ref, notification_id, event, detail, at)"
      " VALUES (?, ?, ?, ?, ?, ?)",
      {device_id, e.ref, e.notification_id, e.event, e.detail, now});
}

}  // namespace reach::hub
