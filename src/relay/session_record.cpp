#include "relay/session_record.h"

#include <fmt/format.h>

namespace reach::relay {
namespace {

std::optional<std::int64_t> opt_integer(const store::Row& r, std::size_t i) {
  if (r.null(i)) return std::nullopt;
  return r.integer(i);
}

}  // namespace

const char* const kSessionRecordColumns =
    "s.code, s.state, s.group_id, g.name, s.description, s.end_customer_name,"
    " s.end_customer_email, s.waiting_message, s.custom_api, s.assigned_userid,"
    " s.support_session_type, s.supporter_token_sealed, s.customer_token_sealed, s.created_at,"
    " s.valid_until, s.closed_at, s.close_reason, s.account_id, s.owner_node,"
    " s.device_connected_at, s.supporter_connected_at";

SessionRecord session_from_row(const store::Row& r) {
  SessionRecord s;
  s.code = r.text(0);
  s.state = r.text(1);
  s.group_id = r.text(2);
  s.group_name = r.text(3);
  s.description = r.text(4);
  s.end_customer_name = r.opt_text(5);
  s.end_customer_email = r.opt_text(6);
  s.waiting_message = r.opt_text(7);
  s.custom_api = r.opt_text(8);
  s.assigned_userid = r.text(9);
  s.support_session_type = r.text(10);
  s.supporter_token_sealed = r.text(11);
  s.customer_token_sealed = r.text(12);
  s.created_at = r.integer(13);
  s.valid_until = r.integer(14);
  s.closed_at = opt_integer(r, 15);
  s.close_reason = r.opt_text(16);
  s.account_id = r.text(17);
  s.owner_node = r.opt_text(18);
  s.device_connected_at = opt_integer(r, 19);
  s.supporter_connected_at = opt_integer(r, 20);
  return s;
}

Result<SessionRecord> find_session(store::Session& s, const std::string& code) {
  auto rows = s.query(fmt::format("SELECT {} FROM sessions s JOIN groups_ g ON g.id = s.group_id"
                                  " WHERE s.code = ?",
                                  kSessionRecordColumns),
                      {code});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found("No session has this code.");
  return session_from_row(rows->rows[0]);
}

Result<std::string> owned_session_code(store::Session& s, const std::string& code,
                                       const std::string& account_id) {
  auto rows = s.query("SELECT account_id FROM sessions WHERE code = ?", {code});
  if (!rows) return rows.error();
  if (rows->empty() || rows->rows[0].text(0) != account_id)
    return not_found("You have no session with this code.");
  return code;
}

Result<SessionPage> list_sessions(store::Session& s, const SessionQuery& q, int limit) {
  std::string where = "s.account_id = ?";
  store::Params params{q.account_id};
  if (q.state) {
    where += " AND s.state = ?";
    params.emplace_back(*q.state);
  }
  if (q.group_id) {
    where += " AND s.group_id = ?";
    params.emplace_back(*q.group_id);
  }
  if (q.assigned_userid) {
    where += " AND s.assigned_userid = ?";
    params.emplace_back(*q.assigned_userid);
  }
  if (q.after) {
    // Continue after that session (newest first).
    auto pos = s.query("SELECT created_at FROM sessions WHERE code = ? AND account_id = ?",
                       {*q.after, q.account_id});
    if (!pos) return pos.error();
    if (pos->empty()) return bad_request("offset names no session of yours.");
    where += " AND (s.created_at < ? OR (s.created_at = ? AND s.code < ?))";
    params.emplace_back(pos->rows[0].integer(0));
    params.emplace_back(pos->rows[0].integer(0));
    params.emplace_back(*q.after);
  }
  auto count = store::query_int(
      s, "SELECT COUNT(*) FROM sessions s JOIN groups_ g ON g.id = s.group_id WHERE " + where,
      params);
  if (!count) return count.error();
  params.emplace_back(limit);
  auto rows = s.query(fmt::format("SELECT {} FROM sessions s JOIN groups_ g ON"
                                  " g.id = s.group_id WHERE {}"
                                  " ORDER BY s.created_at DESC, s.code DESC LIMIT ?",
                                  kSessionRecordColumns, where),
                      params);
  if (!rows) return rows.error();
  SessionPage page;
  page.sessions.reserve(rows->rows.size());
  for (const auto& r : rows->rows) page.sessions.push_back(session_from_row(r));
  page.remaining = *count - static_cast<std::int64_t>(page.sessions.size());
  return page;
}

Result<bool> session_code_taken(store::Session& s, const std::string& code) {
  return store::exists(s, "SELECT 1 FROM sessions WHERE code = ?", {code});
}

Status insert_session(store::Session& s, const NewSession& n) {
  return store::exec_ok(
      s,
      "INSERT INTO sessions (code, account_id, group_id, state, description, end_customer_name,"
      " end_customer_email, waiting_message, custom_api, assigned_userid, support_session_type,"
      " supporter_token_hash, supporter_token_sealed, customer_token_hash,"
      " customer_token_sealed, created_at, valid_until, code_join)"
      " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, 'Default', ?, ?, ?, ?, ?, ?, ?)",
      {n.code, n.account_id, n.group_id, n.description, n.end_customer_name, n.end_customer_email,
       n.waiting_message, n.custom_api, n.assigned_userid, n.supporter_token_hash,
       n.supporter_token_sealed, n.customer_token_hash, n.customer_token_sealed, n.created_at,
       n.valid_until, n.code_join});
}

Status update_session(store::Session& s, const std::string& code, const SessionChanges& c) {
  return store::exec_ok(
      s,
      "UPDATE sessions SET description = COALESCE(?, description),"
      " waiting_message = COALESCE(?, waiting_message), custom_api = COALESCE(?, custom_api),"
      " assigned_userid = COALESCE(?, assigned_userid),"
      " end_customer_name = COALESCE(?, end_customer_name),"
      " end_customer_email = COALESCE(?, end_customer_email),"
      " group_id = COALESCE(?, group_id) WHERE code = ?",
      {c.description, c.waiting_message, c.custom_api, c.assigned_userid, c.end_customer_name,
       c.end_customer_email, c.group_id, code});
}

Status close_session(store::Session& s, const std::string& code, const std::string& reason,
                     std::int64_t now) {
  return store::exec_ok(s,
                        "UPDATE sessions SET state = 'closed', closed_at = ?, close_reason = ?"
                        " WHERE code = ? AND state = 'open'",
                        {now, reason, code});
}

Result<std::optional<StreamCredentials>> find_stream_credentials(store::Session& s,
                                                                 const std::string& code) {
  return store::query_one(
      s,
      "SELECT state, valid_until, supporter_token_hash, customer_token_hash, code_join"
      " FROM sessions WHERE code = ?",
      {code}, [](const store::Row& r) {
        return StreamCredentials{r.text(0), r.integer(1), r.text(2), r.text(3), r.boolean(4)};
      });
}

Status record_stream_connected(store::Session& s, const std::string& code, bool device,
                               std::int64_t at) {
  return store::exec_ok(s,
                        device ? "UPDATE sessions SET device_connected_at = ? WHERE code = ?"
                               : "UPDATE sessions SET supporter_connected_at = ? WHERE code = ?",
                        {at, code});
}

Result<std::optional<std::string>> group_name(store::Session& s, const std::string& account_id,
                                              const std::string& id) {
  return store::query_one(s, "SELECT name FROM groups_ WHERE id = ? AND account_id = ?",
                          {id, account_id}, [](const store::Row& r) { return r.text(0); });
}

Result<std::optional<std::string>> group_id_by_name(store::Session& s,
                                                    const std::string& account_id,
                                                    const std::string& name) {
  return store::query_one(s, "SELECT id FROM groups_ WHERE account_id = ? AND name = ?",
                          {account_id, name}, [](const store::Row& r) { return r.text(0); });
}

Status insert_group(store::Session& s, const std::string& id, const std::string& account_id,
                    const std::string& name, std::int64_t created_at) {
  return store::exec_ok(
      s, "INSERT INTO groups_ (id, account_id, name, created_at) VALUES (?, ?, ?, ?)",
      {id, account_id, name, created_at});
}

}  // namespace reach::relay
