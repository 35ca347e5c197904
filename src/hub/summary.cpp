// The admin center's home page in one request: the devices in the caller's scope by platform,
// by ownership and by last check-in, and their remote assistance sessions of the last 30 days.
// Each part needs the action that reads it; a part the caller may not read is left out.
#include "common/time.h"
#include "hub/internal.h"

#include <fmt/format.h>

namespace reach::hub {
namespace {

constexpr std::int64_t kDay = std::int64_t{24} * 3600 * 1000;

Result<bj::object> count_by(Ctx& ctx, const Grant& g, const std::string& column) {
  store::Params params;
  std::string scope = device_scope_sql(g, params);
  auto rows = ctx.reads().query(
      fmt::format("SELECT {0}, COUNT(*) FROM devices d WHERE {1} GROUP BY {0} ORDER BY 2 DESC",
                  column, scope),
      params);
  if (!rows) return rows.error();
  bj::object out;
  for (const auto& r : rows->rows) out[r.text(0)] = r.integer(1);
  return out;
}

Result<bj::object> devices_part(Ctx& ctx, const Grant& g) {
  auto platform = count_by(ctx, g, "d.operating_system");
  if (!platform) return platform.error();
  auto ownership = count_by(ctx, g, "d.owner_type");
  if (!ownership) return ownership.error();
  // Last check-in: within a day, a week, a month, longer ago.
  auto now = now_ms();
  store::Params params{now - kDay, now - 7 * kDay, now - 30 * kDay};
  std::string scope = device_scope_sql(g, params);
  auto rows = ctx.reads().query(
      "SELECT CASE WHEN d.last_sync_at >= ? THEN 'day' WHEN d.last_sync_at >= ? THEN 'week'"
      " WHEN d.last_sync_at >= ? THEN 'month' ELSE 'older' END, COUNT(*)"
      " FROM devices d WHERE " +
          scope + " GROUP BY 1",
      params);
  if (!rows) return rows.error();
  bj::object checkin{{"day", 0}, {"week", 0}, {"month", 0}, {"older", 0}};
  std::int64_t total = 0;
  for (const auto& r : rows->rows) {
    checkin[r.text(0)] = r.integer(1);
    total += r.integer(1);
  }
  return bj::object{{"total", total},
                    {"byPlatform", std::move(*platform)},
                    {"byOwnership", std::move(*ownership)},
                    {"byLastCheckIn", std::move(checkin)}};
}

Result<bj::object> sessions_part(Ctx& ctx, const Grant& g) {
  auto now = now_ms();
  // Days are UTC days; the oldest of the 30 starts 29 days before today's.
  std::int64_t first_day = (now / kDay - 29) * kDay;
  store::Params params{first_day};
  std::string scope = device_scope_sql(g, params);
  auto rows = ctx.reads().query("SELECT s.created_at / " + std::to_string(kDay) +
                                    ", COUNT(*), COUNT(s.accepted_at), COUNT(s.connected_at),"
                                    " SUM(CASE WHEN s.state = 'declined' THEN 1 ELSE 0 END),"
                                    " SUM(CASE WHEN s.state = 'expired' THEN 1 ELSE 0 END)"
                                    " FROM ra_sessions s JOIN devices d ON d.id = s.device_id"
                                    " WHERE s.created_at >= ? AND " +
                                    scope + " GROUP BY 1 ORDER BY 1",
                                params);
  if (!rows) return rows.error();
  std::int64_t totals[5] = {0, 0, 0, 0, 0};
  bj::array days;
  std::size_t next = 0;
  for (int i = 0; i < 30; ++i) {
    std::int64_t day = first_day / kDay + i;
    std::int64_t v[5] = {0, 0, 0, 0, 0};
    if (next < rows->rows.size() && rows->rows[next].integer(0) == day) {
      for (int k = 0; k < 5; ++k) v[k] = rows->rows[next].integer(static_cast<std::size_t>(k + 1));
      ++next;
    }
    for (int k = 0; k < 5; ++k) totals[k] += v[k];
    days.push_back(bj::object{{"date", iso8601(day * kDay).substr(0, 10)},
                              {"requested", v[0]},
                              {"accepted", v[1]},
                              {"connected", v[2]},
                              {"declined", v[3]},
                              {"expired", v[4]}});
  }
  return bj::object{{"requested", totals[0]}, {"accepted", totals[1]}, {"connected", totals[2]},
                    {"declined", totals[3]},  {"expired", totals[4]},  {"byDay", std::move(days)}};
}

Result<net::Response> summary(Ctx& ctx) {
  bj::object out;
  auto devices = find_grant(ctx, actions::kDevicesRead);
  if (!devices) return devices.error();
  if (*devices) {
    auto part = devices_part(ctx, **devices);
    if (!part) return part.error();
    out["devices"] = std::move(*part);
  }
  auto sessions = find_grant(ctx, actions::kRemoteAssistanceRead);
  if (!sessions) return sessions.error();
  if (*sessions) {
    auto part = sessions_part(ctx, **sessions);
    if (!part) return part.error();
    out["remoteAssistanceSessions"] = std::move(*part);
  }
  return json_response(200, out);
}

}  // namespace

void register_summary_routes(Routes& r) {
  r.api("GET", "/api/summary", summary);
}

}  // namespace reach::hub
