// The append-only audit log (SPEC §4.5). Records are only ever inserted; no code path updates or
// deletes them.
#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/internal.h"
#include "hub/odata.h"

namespace reach::hub {

Status audit(store::Session& s, const Actor& actor, const AuditEntry& e) {
  // The sequence number comes from the store (an AUTOINCREMENT rowid or an identity column), so
  // writers on several nodes never pick the same one.
  auto r = s.exec(
      "INSERT INTO audit_events (id, at, activity, result, actor_type, actor_id, actor_name,"
      " ip_address, target_type, target_id, target_name, details)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {crypto::uuid_v4(), now_ms(), e.activity, e.result, actor.type, actor.id, actor.name,
       actor.ip_address, e.target_type, e.target_id, e.target_name, json::serialize(e.details)});
  if (!r) return r.error();
  return {};
}

Status audit(store::Session& s, const Ctx& ctx, const AuditEntry& e) {
  Actor a;
  a.ip_address = ctx.req.remote_address;
  if (ctx.principal) {
    a.type = "user";
    a.id = ctx.principal->user_id;
    a.name = ctx.principal->upn;
  }
  return audit(s, a, e);
}

void audit_now(Ctx& ctx, const AuditEntry& e) {
  auto st = ctx.db().transaction([&](store::Session& s) { return audit(s, ctx, e); });
  if (!st) log::error("audit.failed", {{"activity", e.activity}, {"error", st.error().message}});
}

namespace {

// A stored audit event, as the columns below read.
struct AuditRecord {
  std::int64_t seq = 0;
  std::string id;
  std::int64_t at = 0;
  std::string activity, result, actor_type;
  std::optional<std::string> actor_id, actor_name;
  std::string ip_address;
  std::optional<std::string> target_type, target_id, target_name;
  std::string details_json;
};

constexpr const char* kAuditColumns =
    "seq, id, at, activity, result, actor_type, actor_id, actor_name, ip_address, target_type,"
    " target_id, target_name, details";

AuditRecord audit_record_of(const store::Row& r) {
  return AuditRecord{r.integer(0),   r.text(1),      r.integer(2),  r.text(3), r.text(4),
                     r.text(5),      r.opt_text(6),  r.opt_text(7), r.text(8), r.opt_text(9),
                     r.opt_text(10), r.opt_text(11), r.text(12)};
}

bj::value opt(const std::optional<std::string>& v) {
  return v ? bj::value(*v) : bj::value();
}

Result<net::Response> list_audit(Ctx& ctx) {
  auto g = require(ctx, actions::kAuditRead);
  if (!g) return g.error();
  auto q = odata::parse_query(ctx.req.query, true, {}, 1000);
  if (!q) return q.error();
  // Newest first; the skiptoken carries the last sequence number shown.
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit_events";
  store::Params params;
  std::vector<std::string> conds;
  if (q->filter) {
    static const std::vector<odata::Field> kFields = {
        {"activity", "activity", {}},
        {"result", "result", {"success", "failure"}},
        {"actor/type", "actor_type", {"user", "device", "system", "anonymous"}},
        {"actor/id", "actor_id", {}},
        {"actor/name", "actor_name", {}},
        {"actor/ipAddress", "ip_address", {}},
        {"target/type", "target_type", {}},
        {"target/id", "target_id", {}},
        {"target/name", "target_name", {}},
    };
    auto f = odata::compile_filter(*q->filter, kFields);
    if (!f) return f.error();
    conds.push_back(f->where);
    for (auto& p : f->params) params.push_back(std::move(p));
  }
  auto range = time_range_sql(ctx, "at", params);
  if (!range) return range.error();
  if (!range->empty()) conds.push_back(*range);
  if (q->skiptoken) {
    std::int64_t seq = 0;
    try {
      seq = std::stoll(*q->skiptoken);
    } catch (...) {
      return bad_request("$skiptoken is not valid: use @odata.nextLink as it was given.");
    }
    conds.push_back("seq < ?");
    params.emplace_back(seq);
  }
  for (std::size_t i = 0; i < conds.size(); ++i) sql += (i ? " AND " : " WHERE ") + conds[i];
  sql += " ORDER BY seq DESC LIMIT ?";
  params.emplace_back(q->top);
  auto rows = ctx.db().query(sql, params);
  if (!rows) return rows.error();
  bj::array value;
  for (const auto& row : rows->rows) {
    const AuditRecord e = audit_record_of(row);
    auto details = json::parse(e.details_json);
    bj::object actor{{"type", e.actor_type},
                     {"id", opt(e.actor_id)},
                     {"name", opt(e.actor_name)},
                     {"ipAddress", e.ip_address}};
    bj::object target{
        {"type", opt(e.target_type)}, {"id", opt(e.target_id)}, {"name", opt(e.target_name)}};
    value.push_back(bj::object{{"id", e.id},
                               {"sequence", e.seq},
                               {"activityDateTime", iso8601(e.at)},
                               {"activity", e.activity},
                               {"result", e.result},
                               {"actor", std::move(actor)},
                               {"target", std::move(target)},
                               {"details", details ? *details : bj::value()}});
  }
  bj::object out{{"value", std::move(value)}};
  if (static_cast<int>(rows->rows.size()) == q->top)
    out["@odata.nextLink"] = next_link(ctx, std::to_string(audit_record_of(rows->rows.back()).seq));
  return json_response(200, out);
}

}  // namespace

void register_audit_routes(Routes& r) {
  r.api("GET", "/api/audit", list_audit);
}

}  // namespace reach::hub
