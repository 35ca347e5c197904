// The device notification outbox: what the hub has to tell each device, kept until the device
// says it has it (delivery is at-least-once, see channel.h), what the device answered, and the
// events it reported about each notification (device_events, recorded once per ref). Its rows
// are read and written here only; the push channel and the handlers that queue notifications
// keep the rules (batches, deadlines, the session state machine).
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reach::hub {

struct NotificationSpec {
  std::string kind;  // "customNotification", "remoteAssistanceRequest"
  std::string title;
  std::string body;
  boost::json::object data;  // kind-specific (e.g. the end-customer link of a session, sealed)
  std::int64_t expires_at = 0;
};
// Queues a notification within the caller's transaction, so that it is created together with
// what caused it and survives restarts. Returns its id.
Result<std::string> queue_notification(store::Session& s, const std::string& device_id,
                                       const NotificationSpec& spec, std::int64_t now);

// A notification as stored: `data` is JSON text, its end-customer link still sealed.
struct StoredNotification {
  std::string id, kind, title, body, data;
  std::int64_t created_at = 0, expires_at = 0;
};
// The device's notifications it has not received and that have not expired, oldest first, at
// most `limit`.
Result<std::vector<StoredNotification>> pending_notifications(store::Session& s,
                                                              const std::string& device_id,
                                                              std::int64_t now, std::int64_t limit);
// The device has the notification: it is not sent again. A second receipt changes nothing.
Status mark_received(store::Session& s, const std::string& device_id, const std::string& id,
                     std::int64_t now);
// The devices that have notifications queued since `since`, not received and not expired.
Result<std::vector<std::string>> devices_with_pending(store::Session& s, std::int64_t since,
                                                      std::int64_t now);

// The notification is no longer to be answered (its request was cancelled): it expires at `now`,
// so that an answer the device still sends is refused as expired, and it is not pushed again.
Status withdraw_notification(store::Session& s, const std::string& id, std::int64_t now);

// What an answer to a notification is checked against.
struct NotificationAnswer {
  std::string kind;
  std::optional<std::string> answer;  // "accepted" or "declined" once answered
  std::int64_t expires_at = 0;
};
// The notification `id` of the device (nullopt: none, or another device's).
Result<std::optional<NotificationAnswer>> find_notification(store::Session& s,
                                                            const std::string& device_id,
                                                            const std::string& id);
Status record_answer(store::Session& s, const std::string& id, const std::string& answer,
                     std::int64_t now);

// An event a device reported about one of its notifications.
struct DeviceEvent {
  std::string ref, notification_id, event;
  std::optional<std::string> detail;
};
// Whether the device already reported the event with this ref (a resend).
Result<bool> event_recorded(store::Session& s, const std::string& device_id,
                            const std::string& ref);
// How many events the device reported about one notification.
Result<std::int64_t> count_events(store::Session& s, const std::string& device_id,
                                  const std::string& notification_id);
Status record_event(store::Session& s, const std::string& device_id, const DeviceEvent& e,
                    std::int64_t now);

}  // namespace reach::hub
