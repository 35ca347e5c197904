// The append-only audit log (SPEC §4.5). Records are only ever inserted; no code path updates or
// deletes them.
#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/audit_store.h"
#include "hub/internal.h"
#include "hub/odata.h"

namespace reach::hub {

Status audit(store::Session& s, const Actor& actor, const AuditEntry& e) {
  AuditRecord r;
  r.id = crypto::uuid_v4();
  r.at = now_ms();
  r.activity = e.activity;
  r.result = e.result;
  r.actor_type = actor.type;
  r.actor_id = actor.id;
  r.actor_name = actor.name;
  r.ip_address = actor.ip_address;
  r.target_type = e.target_type;
  r.target_id = e.target_id;
  r.target_name = e.target_name;
  r.details_json = json::serialize(e.details);
  return append_audit_record(s, r);
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

bj::value opt(const std::optional<std::string>& v) {
  return v ? bj::value(*v) : bj::value();
}

Result<net::Response> list_audit(Ctx& ctx) {
  auto g = require(ctx, actions::kAuditRead);
  if (!g) return g.error();
  auto q = odata::parse_query(ctx.req.query, true, {}, 1000);
  if (!q) return q.error();
  // Newest first; the skiptoken carries the last sequence number shown.
  AuditQuery query;
  query.top = q->top;
  if (!g->all_devices) {
    // A grant over some devices reads what happened to those devices: entries about a device
    // follow that device's scope (a device no longer enrolled is in none); entries about the
    // tenant (users, roles, the connector, sign-ins) need a grant over all devices.
    std::string scope = device_scope_sql(*g, query.params);
    query.conditions.push_back(
        "(target_type = 'managedDevice' AND target_id IN (SELECT d.id FROM devices d WHERE " +
        scope + "))");
  }
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
    query.conditions.push_back(f->where);
    for (auto& p : f->params) query.params.push_back(std::move(p));
  }
  auto range = time_range_sql(ctx, "at", query.params);
  if (!range) return range.error();
  if (!range->empty()) query.conditions.push_back(*range);
  if (q->skiptoken) {
    try {
      query.before_seq = std::stoll(*q->skiptoken);
    } catch (...) {
      return bad_request("$skiptoken is not valid: use @odata.nextLink as it was given.");
    }
  }
  auto records = list_audit_records(ctx.db(), query);
  if (!records) return records.error();
  bj::array value;
  for (const AuditRecord& e : *records) {
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
  if (static_cast<int>(records->size()) == q->top)
    out["@odata.nextLink"] = next_link(ctx, std::to_string(records->back().seq));
  return json_response(200, out);
}

}  // namespace

void register_audit_routes(Routes& r) {
  r.api("GET", "/api/audit", list_audit);
}

}  // namespace reach::hub
