// Operations endpoints: health, metrics, organisation settings, enrollment tokens.
#include "common/time.h"
#include "hub/channel.h"
#include "hub/enrollment.h"
#include "hub/internal.h"
#include "hub/page_cache.h"

#include <fmt/format.h>

namespace reach::hub {
namespace {

const char* store_name(const store::Database& db) {
  return db.backend() == store::Backend::postgresql ? "postgresql" : "sqlite";
}

// For load balancers and operators: which node answered, on which store, and whether it reaches
// the store now (503 when it does not, so that a balancer's health check takes it out).
Result<net::Response> health(Ctx& ctx) {
  bool ok = ctx.db().ping().has_value();
  return json_response(ok ? 200 : 503, bj::object{{"status", ok ? "ok" : "unavailable"},
                                                  {"node", ctx.svc.config.node_name},
                                                  {"store", store_name(ctx.db())},
                                                  {"database", ok ? "ok" : "failing"},
                                                  {"version", REACH_VERSION}});
}

// Counters say how busy the hub is and how many sign-ins fail: for operators, not for anyone
// who can reach the port. Scrape with an API token of a user who may read the organisation.
Result<net::Response> metrics(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  const auto& m = ctx.svc.metrics;
  std::string out;
  auto counter = [&](const char* name, const char* help, std::string lines) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{}", name, help, name, lines);
  };
  counter("reach_hub_http_requests_total", "HTTP requests handled, by status class.",
          fmt::format("reach_hub_http_requests_total{{class=\"2xx\"}} {}\n"
                      "reach_hub_http_requests_total{{class=\"4xx\"}} {}\n"
                      "reach_hub_http_requests_total{{class=\"5xx\"}} {}\n",
                      m.responses_2xx.load(), m.responses_4xx.load(), m.responses_5xx.load()));
  counter("reach_hub_http_request_seconds_total", "Time spent in handlers.",
          fmt::format("reach_hub_http_request_seconds_total {:.6f}\n",
                      static_cast<double>(m.request_micros.load()) / 1e6));
  counter("reach_hub_enrollments_total", "Devices enrolled since start.",
          fmt::format("reach_hub_enrollments_total {}\n", m.enrollments.load()));
  counter("reach_hub_checkins_total", "Agent check-ins since start.",
          fmt::format("reach_hub_checkins_total {}\n", m.checkins.load()));
  counter("reach_hub_signins_total", "Sign-in attempts, by outcome.",
          fmt::format("reach_hub_signins_total{{result=\"success\"}} {}\n"
                      "reach_hub_signins_total{{result=\"failure\"}} {}\n"
                      "reach_hub_signins_total{{result=\"throttled\"}} {}\n",
                      m.signins_ok.load(), m.signins_failed.load(), m.signins_throttled.load()));
  if (const auto* cache = ctx.svc.list_cache.get()) {
    auto st = cache->stats();
    counter("reach_hub_list_cache_lookups_total",
            "Device list pages asked of the page cache, by outcome.",
            fmt::format("reach_hub_list_cache_lookups_total{{result=\"hit\"}} {}\n"
                        "reach_hub_list_cache_lookups_total{{result=\"miss\"}} {}\n",
                        st.hits, st.misses));
    out += fmt::format(
        "# HELP reach_hub_list_cache_bytes Bytes of device list pages held.\n"
        "# TYPE reach_hub_list_cache_bytes gauge\nreach_hub_list_cache_bytes {}\n",
        st.bytes);
  }
  if (auto n = count_devices(ctx.db())) {
    out += fmt::format(
        "# HELP reach_hub_managed_devices Enrolled devices.\n"
        "# TYPE reach_hub_managed_devices gauge\nreach_hub_managed_devices {}\n",
        *n);
  }
  out += fmt::format(
      "# HELP reach_hub_node_info The node that answered and its store.\n"
      "# TYPE reach_hub_node_info gauge\nreach_hub_node_info{{node=\"{}\",store=\"{}\"}} 1\n",
      ctx.svc.config.node_name, store_name(ctx.db()));
  out += fmt::format(
      "# HELP reach_hub_agent_channels Agents' push channels held by this node.\n"
      "# TYPE reach_hub_agent_channels gauge\nreach_hub_agent_channels {}\n",
      ctx.svc.channels->open_channels());
  if (ctx.svc.server_stats) out += ctx.svc.server_stats();
  return net::Response::text(200, std::move(out), "text/plain; version=0.0.4; charset=utf-8");
}

Result<net::Response> organization_response(Ctx& ctx, int status) {
  auto org = find_organization(ctx.db());
  if (!org) return org.error();
  return json_response(status,
                       bj::object{{"id", org->id},
                                  {"displayName", org->display_name},
                                  {"allowUnlicensedAdministrators", org->allow_unlicensed_admins}});
}

Result<net::Response> get_organization(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgRead); !g) return g.error();
  return organization_response(ctx, 200);
}

Result<net::Response> patch_organization(Ctx& ctx) {
  if (auto g = require(ctx, actions::kOrgUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"displayName", "allowUnlicensedAdministrators"}); !st)
    return st.error();
  auto name = json::opt_string(*body, "displayName");
  if (!name) return name.error();
  if (*name && (*name)->empty()) return bad_request("Property 'displayName' cannot be empty.");
  auto allow = json::opt_bool(*body, "allowUnlicensedAdministrators");
  if (!allow) return allow.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = update_organization(s, *name, *allow); !r) return r;
    bj::object details;
    if (*allow) details["allowUnlicensedAdministrators"] = **allow;
    if (*name) details["displayName"] = **name;
    return audit(s, ctx,
                 {"updateOrganization", "success", "organization", "", "", std::move(details)});
  });
  if (!st) return st.error();
  return organization_response(ctx, 200);
}

Result<net::Response> create_enrollment_token(Ctx& ctx) {
  if (auto g = require(ctx, actions::kEnrollmentTokensCreate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(
          *body, {"userId", "userPrincipalName", "userless", "ownership", "validDays"});
      !st)
    return st.error();
  auto uid = json::opt_string(*body, "userId");
  if (!uid) return uid.error();
  auto upn = json::opt_string(*body, "userPrincipalName");
  if (!upn) return upn.error();
  auto userless = json::opt_bool(*body, "userless");
  if (!userless) return userless.error();
  auto ownership = json::opt_string(*body, "ownership");
  if (!ownership) return ownership.error();
  auto days = json::opt_int(*body, "validDays");
  if (!days) return days.error();
  bool has_user = *uid || *upn;
  if (has_user == userless->value_or(false))
    return bad_request("Name a user (userId or userPrincipalName), or set userless to true.");
  EnrollmentTokenSpec spec;
  if (has_user) {
    auto user = find_user(ctx.db(), uid->has_value() ? **uid : **upn);
    if (!user) return bad_request(user.error().message);
    spec.user_id = user->id;
  }
  spec.ownership = ownership->value_or(has_user ? "personal" : "company");
  if (*days) {
    if (**days < 1 || **days > 365) return bad_request("'validDays' must be from 1 to 365.");
    spec.valid_days = static_cast<int>(**days);
  }
  IssuedEnrollmentToken issued;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto t = issue_enrollment_token(s, spec);
    if (!t) return t.error();
    issued = std::move(*t);
    return audit(s, ctx,
                 {"createEnrollmentToken", "success", "enrollmentToken", issued.id, "",
                  bj::object{{"deviceEnrollmentType", issued.enrollment_type},
                             {"ownership", spec.ownership}}});
  });
  if (!st) return st.error();
  return json_response(201,
                       bj::object{{"id", issued.id},
                                  {"token", issued.token},
                                  {"deviceEnrollmentType", issued.enrollment_type},
                                  {"managedDeviceOwnerType", spec.ownership},
                                  {"userId", spec.user_id ? bj::value(*spec.user_id) : bj::value()},
                                  {"expirationDateTime", iso8601(issued.expires_at)}});
}

}  // namespace

void register_ops_routes(Routes& r) {
  r.api("GET", "/api/health", health, Auth::none);
  r.api("GET", "/api/metrics", metrics);
  r.api("GET", "/api/organization", get_organization);
  r.api("PATCH", "/api/organization", patch_organization);
  r.api("POST", "/api/enrollmentTokens", create_enrollment_token);
  register_audit_routes(r);
}

}  // namespace reach::hub
