#include "relay/node_store.h"

namespace reach::relay {

Status record_node(store::Session& s, const std::string& name, const std::string& url,
                   std::int64_t started_at) {
  return store::exec_ok(
      s,
      "INSERT INTO relay_nodes (name, url, started_at) VALUES (?, ?, ?)"
      " ON CONFLICT (name) DO UPDATE SET url = excluded.url, started_at = excluded.started_at",
      {name, url, started_at});
}

Result<std::vector<std::string>> other_nodes(store::Session& s, const std::string& self) {
  auto rows = s.query("SELECT name FROM relay_nodes WHERE name <> ?", {self});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& r : rows->rows) out.push_back(r.text(0));
  return out;
}

Status forget_node(store::Session& s, const std::string& name) {
  return store::exec_ok(s, "DELETE FROM relay_nodes WHERE name = ?", {name});
}

Result<std::optional<SessionOwner>> find_session_owner(store::Session& s, const std::string& code) {
  return store::query_one(
      s,
      "SELECT s.owner_node, n.url, s.device_connected_at, s.supporter_connected_at"
      " FROM sessions s LEFT JOIN relay_nodes n ON n.name = s.owner_node WHERE s.code = ?",
      {code}, [](const store::Row& r) {
        return SessionOwner{r.opt_text(0), r.opt_text(1), !r.null(2) || !r.null(3)};
      });
}

Result<bool> claim_session(store::Session& s, const std::string& code, const std::string& node,
                           const std::optional<std::string>& expected) {
  auto changed =
      expected ? s.exec("UPDATE sessions SET owner_node = ? WHERE code = ? AND owner_node = ?",
                        {node, code, *expected})
               : s.exec("UPDATE sessions SET owner_node = ? WHERE code = ? AND owner_node IS NULL",
                        {node, code});
  if (!changed) return changed.error();
  return *changed == 1;
}

Result<std::vector<std::string>> streamed_sessions_of(store::Session& s, const std::string& node) {
  auto rows = s.query(
      "SELECT code FROM sessions WHERE owner_node = ? AND state = 'open'"
      " AND (device_connected_at IS NOT NULL OR supporter_connected_at IS NOT NULL)",
      {node});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& r : rows->rows) out.push_back(r.text(0));
  return out;
}

Status release_sessions_of(store::Session& s, const std::string& node) {
  return store::exec_ok(
      s, "UPDATE sessions SET owner_node = NULL WHERE owner_node = ? AND state = 'open'", {node});
}

}  // namespace reach::relay
