#include "hub/audit_store.h"

namespace reach::hub {
namespace {

constexpr const char* kAuditColumns =
    "seq, id, at, activity, result, actor_type, actor_id, actor_name, ip_address, target_type,"
    " target_id, target_name, details";

AuditRecord audit_record_of(const store::Row& r) {
  return AuditRecord{r.integer(0),   r.text(1),      r.integer(2),  r.text(3), r.text(4),
                     r.text(5),      r.opt_text(6),  r.opt_text(7), r.text(8), r.opt_text(9),
                     r.opt_text(10), r.opt_text(11), r.text(12)};
}

}  // namespace

Status append_audit_record(store::Session& s, const AuditRecord& r) {
  // The sequence number comes from the store (an AUTOINCREMENT rowid or an identity column), so
  // writers on several nodes never pick the same one.
  return store::exec_ok(
      s,
      "INSERT INTO audit_events (id, at, activity, result, actor_type, actor_id, actor_name,"
      " ip_address, target_type, target_id, target_name, details)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {r.id, r.at, r.activity, r.result, r.actor_type, r.actor_id, r.actor_name, r.ip_address,
       r.target_type, r.target_id, r.target_name, r.details_json});
}

Result<std::vector<AuditRecord>> list_audit_records(store::Session& s, const AuditQuery& q) {
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_events";
  store::Params params = q.params;
  std::vector<std::string> conds = q.conditions;
  if (q.before_seq) {
    conds.push_back("seq < ?");
    params.emplace_back(*q.before_seq);
  }
  for (std::size_t i = 0; i < conds.size(); ++i) sql += (i ? " AND " : " WHERE ") + conds[i];
  sql += " ORDER BY seq DESC LIMIT ?";
  params.emplace_back(q.top);
  auto rows = s.query(sql, params);
  if (!rows) return rows.error();
  std::vector<AuditRecord> out;
  out.reserve(rows->rows.size());
  for (const auto& row : rows->rows) out.push_back(audit_record_of(row));
  return out;
}

}  // namespace reach::hub
