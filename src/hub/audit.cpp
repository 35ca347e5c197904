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

Result<net::Response> list_audit(Ctx& ctx) {
  auto g = require(ctx, actions::kAuditRead);
  if (!g) return g.error();
  auto q = odata::parse_query(ctx.req.query, true, {}, 1000);
  if (!q) return q.error();
  // Newest first; the skiptoken carries the last sequence number shown.
  std::string sql =
      "SELECT seq, id, at, activity, result, actor_type, actor_id, actor_name, ip_address,"
      " target_type, target_id, target_name, details FROM audit_events";
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
    auto details = json::parse(row.text(12));
    bj::object actor{{"type", row.text(5)},
                     {"id", row.null(6) ? bj::value() : bj::value(row.text(6))},
                     {"name", row.null(7) ? bj::value() : bj::value(row.text(7))},
                     {"ipAddress", row.text(8)}};
    bj::object target{{"type", row.null(9) ? bj::value() : bj::value(row.text(9))},
                      {"id", row.null(10) ? bj::value() : bj::value(row.text(10))},
                      {"name", row.null(11) ? bj::value() : bj::value(row.text(11))}};
    value.push_back(bj::object{{"id", row.text(1)},
                               {"sequence", row.integer(0)},
                               {"activityDateTime", iso8601(row.integer(2))},
                               {"activity", row.text(3)},
                               {"result", row.text(4)},
                               {"actor", std::move(actor)},
                               {"target", std::move(target)},
                               {"details", details ? *details : bj::value()}});
  }
  bj::object out{{"value", std::move(value)}};
  if (static_cast<int>(rows->rows.size()) == q->top)
    out["@odata.nextLink"] = next_link(ctx, rows->rows.back().text(0));
  return json_response(200, out);
}

}  // namespace

void register_audit_routes(Routes& r) {
  r.api("GET", "/api/audit", list_audit);
}

}  // namespace reach::hub
