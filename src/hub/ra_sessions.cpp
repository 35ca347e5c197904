#include "hub/ra_sessions.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/internal.h"
#include "hub/ra_rules.h"
#include "link/receipt.h"

#include <charconv>

namespace reach::hub {
namespace {

constexpr std::int64_t kMaxAnswerSeconds = 3600;  // an agent's "asking" beyond this is wrong

std::optional<std::int64_t> opt_int(const store::Row& r, std::size_t i) {
  return r.null(i) ? std::nullopt : std::optional<std::int64_t>(r.integer(i));
}

}  // namespace

Result<std::optional<RaDevice>> find_ra_device(store::Session& s, const std::string& device_id) {
  return store::query_one(
      s,
      "SELECT d.id, d.device_name, d.user_id, d.owner_type, d.enrollment_type, d.device_type,"
      " d.sku_family, d.operating_system, d.os_version, d.channel_connected_at,"
      " u.display_name, u.user_principal_name, d.e2e_public_key"
      " FROM devices d LEFT JOIN users u ON u.id = d.user_id WHERE d.id = ?",
      {device_id}, [](const store::Row& r) {
        RaDevice d;
        d.id = r.text(0);
        d.name = r.text(1);
        d.facts.has_user = !r.null(2);
        d.facts.owner_type = r.text(3);
        d.facts.enrollment_type = r.text(4);
        d.facts.device_type = r.text(5);
        d.facts.sku_family = r.text(6);
        d.facts.operating_system = r.text(7);
        d.facts.os_version = r.text(8);
        d.facts.agent_connected_once = !r.null(9);
        d.user_display_name = r.text(10);
        d.user_principal_name = r.text(11);
        if (!r.null(12))
          if (auto key = crypto::base64url_decode(r.text(12)); key && key->size() == 32)
            d.e2e_public_key = std::move(*key);
        return d;
      });
}

Result<std::vector<RaSession>> find_ra_sessions(store::Session& s, const std::string& where,
                                                store::Params params, int limit) {
  params.emplace_back(limit);
  auto rows = s.query(
      "SELECT s.id, s.device_id, d.device_name, s.requester_id, s.requester_name, s.code,"
      " s.state, s.created_at, s.valid_until, s.accepted_at, s.allowed_at, s.view_only,"
      " s.connected_at, s.ended_at, s.end_reason, s.asked_at, s.answer_due,"
      " s.view_only_at, s.decision_receipt, s.end_receipt, s.receipt_problem"
      " FROM ra_sessions s JOIN devices d ON d.id = s.device_id WHERE " +
          where + " ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
      params);
  if (!rows) return rows.error();
  std::vector<RaSession> out;
  out.reserve(rows->rows.size());
  for (const auto& r : rows->rows) {
    RaSession x;
    x.id = r.text(0);
    x.device_id = r.text(1);
    x.device_name = r.text(2);
    x.requester_id = r.text(3);
    x.requester_name = r.text(4);
    x.code = r.text(5);
    x.state = r.text(6);
    x.created_at = r.integer(7);
    x.valid_until = r.integer(8);
    x.accepted_at = opt_int(r, 9);
    x.allowed_at = opt_int(r, 10);
    if (!r.null(11)) x.view_only = r.boolean(11);
    x.connected_at = opt_int(r, 12);
    x.ended_at = opt_int(r, 13);
    x.end_reason = r.opt_text(14);
    x.asked_at = opt_int(r, 15);
    x.answer_due = opt_int(r, 16);
    x.view_only_at = opt_int(r, 17);
    x.decision_receipt = r.opt_text(18);
    x.end_receipt = r.opt_text(19);
    x.receipt_problem = r.opt_text(20);
    out.push_back(std::move(x));
  }
  return out;
}

namespace {
constexpr const char* kOpenColumns =
    "SELECT id, code, notification_id, device_id, state, valid_until, created_at FROM ra_sessions";
OpenRaSession open_of(const store::Row& r) {
  return {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5), r.integer(6)};
}
}  // namespace

Result<std::vector<OpenRaSession>> open_ra_sessions(store::Session& s,
                                                    const std::optional<std::string>& device_id) {
  std::string sql = std::string(kOpenColumns) + " WHERE state IN " + kOpenSessionStates;
  store::Params params;
  if (device_id) {
    sql += " AND device_id = ?";
    params.emplace_back(*device_id);
  }
  auto rows = s.query(sql + " ORDER BY created_at", params);
  if (!rows) return rows.error();
  std::vector<OpenRaSession> out;
  for (const auto& r : rows->rows) out.push_back(open_of(r));
  return out;
}

Result<std::optional<OpenRaSession>> find_ra_session(store::Session& s, const std::string& id) {
  return store::query_one(s, std::string(kOpenColumns) + " WHERE id = ?", {id}, open_of);
}

Status insert_ra_session(store::Session& s, const NewRaSession& n) {
  return store::exec_ok(
      s,
      "INSERT INTO ra_sessions (id, device_id, requester_id, requester_name, code,"
      " supporter_link, notification_id, state, created_at, valid_until)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, 'requested', ?, ?)",
      {n.id, n.device_id, n.requester_id, n.requester_name, n.code, n.sealed_supporter_link,
       n.notification_id, n.created_at, n.valid_until});
}

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

Status set_ra_error(store::Session& s, const std::string& device_id,
                    const std::optional<std::string>& message) {
  return store::exec_ok(s, "UPDATE devices SET ra_error_details = ? WHERE id = ?",
                        {message, device_id});
}

namespace {

// A consent receipt for session `id` of `device` (see apply_session_event).
Status record_receipt(store::Session& s, const std::string& id, const std::string& device,
                      const std::string& text) {
  auto registered = store::query_one(s, "SELECT e2e_public_key FROM devices WHERE id = ?", {device},
                                     [](const store::Row& r) { return r.opt_text(0); });
  if (!registered) return registered.error();
  std::string key;
  if (*registered && **registered)
    if (auto k = crypto::base64url_decode(***registered); k) key = std::move(*k);
  std::string problem;
  auto checked = link::verify_receipt(text, key);
  auto fields = checked ? Result<bj::object>(*checked) : json::parse_object(text);
  auto field = [&](const char* name) {
    auto v = fields ? fields->if_contains(name) : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  if (key.empty())
    problem = "The device has no registered key to check it with.";
  else if (!checked)
    problem = checked.error().message;
  else if (field("sessionId") != id || field("deviceId") != device)
    problem = "The receipt names another session or device.";
  std::string kind = field("kind");
  if (kind != "decision" && kind != "end") {
    log::info("ra.receipt_ignored", {{"session", id}, {"why", "no kind"}});
    return {};
  }
  if (!problem.empty())
    log::warn("ra.receipt_untrusted", {{"session", id}, {"device", device}, {"why", problem}});
  const std::string column = kind == "decision" ? "decision_receipt" : "end_receipt";
  return store::exec_ok(
      s,
      "UPDATE ra_sessions SET " + column + " = COALESCE(" + column +
          ", ?), receipt_problem = COALESCE(receipt_problem, ?) WHERE id = ?",
      {text, problem.empty() ? std::optional<std::string>() : std::optional<std::string>(problem),
       id});
}

}  // namespace

Status apply_session_event(store::Session& s, const std::string& notification_id,
                           const std::string& event, const std::string& detail, std::int64_t at,
                           std::string* close_at_partner) {
  auto rows =
      s.query("SELECT id, device_id, state, code FROM ra_sessions WHERE notification_id = ?",
              {notification_id});
  if (!rows) return rows.error();
  if (rows->empty()) return {};  // not a remote assistance request (e.g. a custom notification)
  const std::string id = rows->rows[0].text(0), device = rows->rows[0].text(1);
  const std::string from_text = rows->rows[0].text(2);
  if (event == "receipt") return record_receipt(s, id, device, detail);
  auto from = parse_ra_state(from_text);
  if (from && (event == "asking" || event == "viewOnly")) {
    // What the user is asked or chose, within a state: recorded only where it can happen.
    std::int64_t seconds = 0;
    if (event == "asking") {
      auto [end, ec] = std::from_chars(detail.data(), detail.data() + detail.size(), seconds);
      if (ec != std::errc{} || end != detail.data() + detail.size() || seconds < 1 ||
          seconds > kMaxAnswerSeconds)
        seconds = 0;
    }
    const bool applies = event == "asking" ? *from == RaState::accepted && seconds > 0
                                           : *from == RaState::allowed || *from == RaState::active;
    if (!applies) {
      log::info("ra.event_ignored", {{"session", id}, {"state", from_text}, {"event", event}});
      return {};
    }
    return event == "asking"
               ? store::exec_ok(s,
                                "UPDATE ra_sessions SET asked_at = ?, answer_due = ? WHERE id = ?"
                                " AND state = ?",
                                {at, at + seconds * 1000, id, from_text})
               : store::exec_ok(s,
                                "UPDATE ra_sessions SET view_only_at = COALESCE(view_only_at, ?),"
                                " view_only = ? WHERE id = ? AND state = ? AND view_only = ?",
                                {at, true, id, from_text, false});
  }
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
    // A request that never had a running session is dead at the partner too.
    if (close_at_partner && *from != RaState::active) *close_at_partner = rows->rows[0].text(3);
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
