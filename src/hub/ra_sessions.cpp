#include "hub/ra_sessions.h"

#include "common/log.h"
#include "common/time.h"
#include "hub/ra_rules.h"

namespace reach::hub {

Status set_action(store::Session& s, const std::string& device, const std::string& state,
                  bool restart) {
  auto now = now_ms();
  auto r =
      s.exec(restart ? "INSERT INTO device_action_results (device_id, action_name, action_state,"
                       " started_at, updated_at) VALUES (?, 'requestRemoteAssistance', ?, ?, ?)"
                       " ON CONFLICT (device_id, action_name) DO UPDATE SET action_state ="
                       " excluded.action_state, started_at = excluded.started_at,"
                       " updated_at = excluded.updated_at"
                     : "UPDATE device_action_results SET action_state = ?, updated_at = ?"
                       " WHERE device_id = ? AND action_name = 'requestRemoteAssistance'",
             restart ? store::Params{device, state, now, now} : store::Params{state, now, device});
  if (!r) return r.error();
  return {};
}

Status apply_session_event(store::Session& s, const std::string& notification_id,
                           const std::string& event, const std::string& detail, std::int64_t at) {
  auto rows = s.query("SELECT id, device_id, state FROM ra_sessions WHERE notification_id = ?",
                      {notification_id});
  if (!rows) return rows.error();
  if (rows->empty()) return {};  // not a remote assistance request (e.g. a custom notification)
  const std::string id = rows->rows[0].text(0), device = rows->rows[0].text(1);
  const std::string from_text = rows->rows[0].text(2);
  auto from = parse_ra_state(from_text);
  auto to = from ? next_ra_state(*from, event) : std::nullopt;
  if (!to) {
    log::info("ra.event_ignored", {{"session", id}, {"state", from_text}, {"event", event}});
    return {};
  }
  const std::string state(to_string(*to));
  auto update = [&](const std::string& sql, store::Params p) -> Status {
    p.insert(p.begin(), state);
    p.push_back(id);
    p.push_back(from_text);
    auto r = s.exec("UPDATE ra_sessions SET state = ?, " + sql + " WHERE id = ? AND state = ?", p);
    if (!r) return r.error();
    return {};
  };
  auto finish = [&](const std::string& reason, const std::string& action) -> Status {
    if (auto st = update("ended_at = COALESCE(ended_at, ?), end_reason = COALESCE(end_reason, ?)",
                         {at, reason});
        !st)
      return st;
    return set_action(s, device, action, false);
  };
  switch (*to) {
    case RaState::accepted:
      if (auto st = update("accepted_at = ?", {at}); !st) return st;
      return set_action(s, device, "active", false);
    case RaState::allowed:
      return update("allowed_at = ?, view_only = ?", {at, event == "allowedViewOnly"});
    case RaState::active:
      return update("connected_at = ?", {at});
    case RaState::declined:
      return finish("declinedByUser", "failed");
    case RaState::denied:
      return finish(detail.empty() ? "deniedByUser" : detail, "failed");
    case RaState::expired:
      return finish(detail.empty() ? "expired" : detail, "failed");
    case RaState::failed:
      return finish(detail.empty() ? "failed" : detail, "failed");
    case RaState::ended:
      return finish(detail.empty() ? "ended" : detail,
                    *from == RaState::active ? "done" : "failed");
    case RaState::requested:
      break;
  }
  return {};
}

}  // namespace reach::hub
