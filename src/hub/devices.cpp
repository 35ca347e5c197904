// Managed devices (Graph `managedDevice`), enrollment and check-in of agents.
#include "common/crypto.h"
#include "common/json_text.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/channel.h"
#include "hub/enrollment.h"
#include "hub/events.h"
#include "hub/internal.h"
#include "hub/odata.h"
#include "hub/page_cache.h"
#include "hub/ra_rules.h"
#include "hub/ra_sessions.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

namespace reach::hub {
namespace {

// How long a custom notification waits for a device that is offline.
constexpr std::int64_t kCustomNotificationLife = std::int64_t{7} * 24 * 3600 * 1000;

const std::vector<std::string> kOwnerTypes = {"unknown", "company", "personal"};
const std::vector<std::string> kEnrollmentTypes = {"unknown",
                                                   "userEnrollment",
                                                   "deviceEnrollmentManager",
                                                   "appleBulkWithUser",
                                                   "appleBulkWithoutUser",
                                                   "windowsAzureADJoin",
                                                   "windowsBulkUserless",
                                                   "windowsAutoEnrollment",
                                                   "windowsBulkAzureDomainJoin",
                                                   "windowsCoManagement",
                                                   "windowsAzureADJoinUsingDeviceAuth",
                                                   "appleUserEnrollment",
                                                   "appleUserEnrollmentWithServiceAccount"};
const std::vector<std::string> kComplianceStates = {
    "unknown", "compliant", "noncompliant", "conflict", "error", "inGracePeriod", "configManager"};
const std::vector<std::string> kManagementAgents = {"eas",
                                                    "mdm",
                                                    "easMdm",
                                                    "intuneClient",
                                                    "easIntuneClient",
                                                    "configurationManagerClient",
                                                    "configurationManagerClientMdm",
                                                    "configurationManagerClientMdmEas",
                                                    "unknown",
                                                    "jamf",
                                                    "googleCloudDevicePolicyController"};

// The SELECT of devices, columns in the order of DeviceColumn (below); its parameters are appended
// to `params`, which must be empty (they come first in the statement).
//
// The supporter link of a device's open remote assistance session is a bearer credential: it
// is read (kSupporterLink, sealed) only for the administrator who requested the session and for
// holders of RemoteAssistance_Update with the device in scope. Everyone else who may read the
// device sees that a session exists through deviceActionResults, not the link.
std::string device_select(Ctx& ctx, store::Params& params) {
  std::string link_allowed = "(1 = 0)";
  if (ctx.principal) {
    params.emplace_back(ctx.who().user_id);
    link_allowed = "rs.requester_id = ?";
    auto g = find_grant(ctx, actions::kRemoteAssistanceUpdate);
    if (g && *g) link_allowed += " OR " + device_scope_sql(**g, params);
  }
  params.emplace_back(now_ms());
  return fmt::format(
      "SELECT d.id, d.device_name, d.user_id, d.operating_system, d.os_version, d.model,"
      " d.manufacturer, d.serial_number, d.device_type, d.sku_family, d.owner_type,"
      " d.enrollment_type, d.compliance_state, d.management_agent, d.azure_ad_device_id, d.notes,"
      " d.enrolled_at, d.last_sync_at, CASE WHEN {} THEN rs.supporter_link END, d.ra_error_details,"
      " u.user_principal_name, u.display_name, u.mail,"
      " a.action_state, a.started_at, a.updated_at"
      " FROM devices d LEFT JOIN users u ON u.id = d.user_id"
      " LEFT JOIN device_action_results a ON a.device_id = d.id"
      " AND a.action_name = 'requestRemoteAssistance'"
      " LEFT JOIN ra_sessions rs ON rs.id = (SELECT x.id FROM ra_sessions x WHERE"
      " x.device_id = d.id AND x.state IN {} AND x.valid_until > ?"
      " ORDER BY x.created_at DESC LIMIT 1)",
      link_allowed, kOpenSessionStates);
}

const std::vector<odata::Field>& filter_fields() {
  static const std::vector<odata::Field> kFields = {
      {"id", "d.id", {}},
      {"deviceName", "d.device_name", {}, "lower(d.device_name) >= ? AND lower(d.device_name) < ?"},
      {"userId", "d.user_id", {}},
      // By the user's table, so that the condition stays on devices (an OR of such ranges is
      // then served by indexes, not a scan of every device).
      {"userPrincipalName",
       "u.user_principal_name",
       {},
       "d.user_id IN (SELECT id FROM users WHERE upn_key >= ? AND upn_key < ?)"},
      {"userDisplayName", "u.display_name", {}},
      {"emailAddress", "u.mail", {}},
      {"operatingSystem", "d.operating_system", {}},
      {"osVersion", "d.os_version", {}},
      {"model", "d.model", {}},
      {"manufacturer", "d.manufacturer", {}},
      {"serialNumber",
       "d.serial_number",
       {},
       "lower(d.serial_number) >= ? AND lower(d.serial_number) < ?"},
      {"azureADDeviceId", "d.azure_ad_device_id", {}},
      {"complianceState", "d.compliance_state", kComplianceStates},
      {"managementAgent", "d.management_agent", kManagementAgents},
      {"deviceEnrollmentType", "d.enrollment_type", kEnrollmentTypes},
      {"managedDeviceOwnerType", "d.owner_type", kOwnerTypes},
      {"deviceType", "d.device_type", device_types()},
  };
  return kFields;
}

// The columns of device_select, by name.
enum DeviceColumn : std::size_t {
  kId,
  kDeviceName,
  kUserId,
  kOperatingSystem,
  kOsVersion,
  kModel,
  kManufacturer,
  kSerialNumber,
  kDeviceType,
  kSkuFamily,
  kOwnerType,
  kEnrollmentType,
  kComplianceState,
  kManagementAgent,
  kAzureAdDeviceId,
  kNotes,
  kEnrolledAt,
  kLastSyncAt,
  kSupporterLink,  // sealed; NULL unless this caller may read it
  kRaErrorDetails,
  kUserPrincipalName,
  kUserDisplayName,
  kUserMail,
  kActionState,
  kActionStartedAt,
  kActionUpdatedAt,
  kDeviceColumns
};

// A property of the managedDevice representation: where its value comes from.
struct DeviceProperty {
  enum Kind { column, date_time, literal, session_url, action_results };
  std::string_view name;
  Kind kind;
  std::size_t col = 0;
  std::string_view json = {};  // kind literal: the value as JSON text
  std::string json_name = {};  // the name as JSON with its colon, written once
};

// Every property, in the order the full representation has them (after "@odata.type").
const std::vector<DeviceProperty>& device_properties() {
  using P = DeviceProperty;
  static const std::vector<P> kProperties = [] {
    std::vector<P> all = {
        {"id", P::column, kId},
        {"userId", P::column, kUserId},
        {"deviceName", P::column, kDeviceName},
        {"managedDeviceName", P::column, kDeviceName},
        {"managedDeviceOwnerType", P::column, kOwnerType},
        {"enrolledDateTime", P::date_time, kEnrolledAt},
        {"lastSyncDateTime", P::date_time, kLastSyncAt},
        {"operatingSystem", P::column, kOperatingSystem},
        {"osVersion", P::column, kOsVersion},
        {"complianceState", P::column, kComplianceState},
        {"jailBroken", P::literal, 0, R"("Unknown")"},
        {"managementAgent", P::column, kManagementAgent},
        {"azureADRegistered", P::literal, 0, "true"},
        {"deviceEnrollmentType", P::column, kEnrollmentType},
        {"emailAddress", P::column, kUserMail},
        {"azureADDeviceId", P::column, kAzureAdDeviceId},
        {"deviceRegistrationState", P::literal, 0, R"("registered")"},
        {"isSupervised", P::literal, 0, "false"},
        {"isEncrypted", P::literal, 0, "false"},
        {"userPrincipalName", P::column, kUserPrincipalName},
        {"userDisplayName", P::column, kUserDisplayName},
        {"model", P::column, kModel},
        {"manufacturer", P::column, kManufacturer},
        {"serialNumber", P::column, kSerialNumber},
        {"deviceType", P::column, kDeviceType},
        {"skuFamily", P::column, kSkuFamily},
        {"notes", P::column, kNotes},
        {"remoteAssistanceSessionUrl", P::session_url, kSupporterLink},
        {"remoteAssistanceSessionErrorDetails", P::column, kRaErrorDetails},
        {"deviceActionResults", P::action_results, kActionState},
    };
    for (auto& p : all) p.json_name = json::Text::quoted_key(p.name);
    return all;
  }();
  return kProperties;
}

void write_column(json::Text& t, const store::Row& r, std::size_t i) {
  const auto& v = r.cols.at(i).v;
  if (const auto* s = std::get_if<std::string>(&v))
    t.string(*s);
  else if (r.null(i))
    t.null();
  else
    t.string(r.text(i));
}

void write_property(json::Text& t, const DeviceProperty& p, const store::Row& r,
                    std::string_view key) {
  t.key_text(p.json_name);
  switch (p.kind) {
    case DeviceProperty::column:
      write_column(t, r, p.col);
      break;
    case DeviceProperty::date_time:
      t.date_time(r.integer(p.col));
      break;
    case DeviceProperty::literal:
      t.raw(p.json);
      break;
    case DeviceProperty::session_url:
      if (r.null(p.col))
        t.null();
      else
        t.string(crypto::open_text(key, r.text(p.col)));
      break;
    case DeviceProperty::action_results:
      t.begin_array();
      if (!r.null(kActionState)) {
        t.begin_object();
        t.key("@odata.type").string("microsoft.graph.deviceActionResult");
        t.key("actionName").string("requestRemoteAssistance");
        t.key("actionState");
        write_column(t, r, kActionState);
        t.key("startDateTime").date_time(r.integer(kActionStartedAt));
        t.key("lastUpdatedDateTime").date_time(r.integer(kActionUpdatedAt));
        t.end_object();
      }
      t.end_array();
      break;
  }
}

// Writes one device: every property, or those `select` names (in its order, without
// "@odata.type", as $select asks). `context` is written first when not empty; `more` writes
// members of Reach's own after the properties.
void write_device(json::Text& t, const store::Row& r, std::string_view key,
                  const std::vector<std::string>& select, std::string_view context = {},
                  const std::function<void(json::Text&)>& more = nullptr) {
  t.begin_object();
  if (!context.empty()) t.key("@odata.context").string(context);
  if (select.empty()) {
    t.key("@odata.type").string("#microsoft.graph.managedDevice");
    for (const auto& p : device_properties()) write_property(t, p, r, key);
  } else {
    for (const auto& name : select)
      for (const auto& p : device_properties())
        if (p.name == name) write_property(t, p, r, key);
  }
  if (more) more(t);
  t.end_object();
}

net::Response device_response(Ctx& ctx, const store::Row& r,
                              const std::vector<std::string>& select = {},
                              const std::function<void(json::Text&)>& more = nullptr) {
  json::Text t(2048);
  write_device(t, r, ctx.svc.config.secret_key, select,
               ctx.context_url("deviceManagement/managedDevices/$entity"), more);
  return net::Response::json_text(200, t.take());
}

const std::vector<std::string>& selectable() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> out;
    for (const auto& p : device_properties()) out.emplace_back(p.name);
    return out;
  }();
  return kNames;
}

// What a device list's page depends on besides the data: the URL its links are built on, the
// request (path and query: $select, $count), and the statement with its parameters (the caller,
// its scope, the filter, the page), less the time, which only decides whether a session is open
// and so a supporter link is shown (pages with one are not cached).
std::string page_key(const Ctx& ctx, const std::string& sql, const store::Params& params,
                     std::size_t now_param) {
  std::string key = ctx.base_url();
  key += '\n';
  key += ctx.req.target;
  key += '\n';
  key += sql;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i == now_param) continue;
    const auto& v = params[i].v;
    key += '\n';
    if (const auto* n = std::get_if<std::int64_t>(&v))
      key += 'i' + std::to_string(*n);
    else if (const auto* str = std::get_if<std::string>(&v))
      key += 's' + std::to_string(str->size()) + ':' + *str;
    else
      key += 'n';
  }
  return key;
}

// Lists devices visible under `grant`, optionally limited by `extra` (a condition over d/u).
Result<net::Response> list_devices(Ctx& ctx, const Grant& grant, std::string extra,
                                   store::Params extra_params, std::string_view context) {
  auto q = odata::parse_query(ctx.req.query, ctx.version == "beta", selectable(), 1000, true);
  if (!q) return q.error();
  // The page cache's version is read before anything else the page is made of (page_cache.h),
  // and in the same snapshot as the page (ctx.reads()).
  PageCache* cache = ctx.svc.list_cache.get();
  std::int64_t version = 0;
  if (cache) {
    auto v = device_list_version(ctx.reads());
    if (!v) return v.error();
    version = *v;
  }
  store::Params params;
  std::string sql = device_select(ctx, params);
  store::Params select_params = params;
  const std::size_t now_param = params.size() - 1;  // device_select's last: the time
  std::vector<std::string> conds;
  conds.push_back(device_scope_sql(grant, params));
  if (!extra.empty()) {
    conds.push_back(extra);
    for (auto& p : extra_params) params.push_back(std::move(p));
  }
  if (q->filter) {
    auto f = odata::compile_filter(*q->filter, filter_fields());
    if (!f) return f.error();
    conds.push_back(f->where);
    for (auto& p : f->params) params.push_back(std::move(p));
  }
  // $orderby: keyset paging on (sort key, id); the skiptoken stays the last id shown.
  std::string key = "d.id";
  if (q->orderby) {
    static const std::map<std::string, std::string, std::less<>> kSortable = {
        {"deviceName", "lower(d.device_name)"},
        {"lastSyncDateTime", "d.last_sync_at"},
        {"enrolledDateTime", "d.enrolled_at"},
        {"operatingSystem", "d.operating_system"},
        {"osVersion", "COALESCE(d.os_version, '')"},
        {"complianceState", "d.compliance_state"},
        {"managedDeviceOwnerType", "d.owner_type"},
        {"deviceEnrollmentType", "d.enrollment_type"},
        {"managementAgent", "d.management_agent"},
        {"userPrincipalName", "COALESCE(u.user_principal_name, '')"},
        {"userDisplayName", "COALESCE(u.display_name, '')"}};
    auto it = kSortable.find(*q->orderby);
    if (it == kSortable.end())
      return bad_request(fmt::format("$orderby cannot sort by '{}'.", *q->orderby));
    key = it->second;
  }
  std::string where;
  for (std::size_t i = 0; i < conds.size(); ++i) where += (i ? " AND " : " WHERE ") + conds[i];

  std::optional<std::int64_t> count;
  if (q->count) {
    store::Params where_params(params.begin() + static_cast<std::ptrdiff_t>(select_params.size()),
                               params.end());
    auto n = store::query_int(
        ctx.reads(), "SELECT COUNT(*) FROM devices d LEFT JOIN users u ON u.id = d.user_id" + where,
        where_params);
    if (!n) return n.error();
    count = *n;
  }
  sql += where;
  const char* cmp = q->descending ? "<" : ">";
  const char* dir = q->descending ? " DESC" : "";
  if (q->skiptoken && key == "d.id") {
    sql += fmt::format(" AND d.id {} ?", cmp);
    params.emplace_back(*q->skiptoken);
  } else if (q->skiptoken) {
    sql += fmt::format(
        " AND ({0}, d.id) {1} (SELECT {0}, d.id FROM devices d LEFT JOIN users u"
        " ON u.id = d.user_id WHERE d.id = ?)",
        key, cmp);
    params.emplace_back(*q->skiptoken);
  }
  sql += key == "d.id" ? fmt::format(" ORDER BY d.id{} LIMIT ?", dir)
                       : fmt::format(" ORDER BY {0}{1}, d.id{1} LIMIT ?", key, dir);
  params.emplace_back(q->top);
  std::string cache_key;
  if (cache) {
    cache_key = page_key(ctx, sql, params, now_param);
    if (auto page = cache->find(cache_key, version))
      return net::Response::json_text(200, std::move(*page));
  }
  auto rows = ctx.reads().query(sql, params);
  if (!rows) return rows.error();

  std::string ctx_what(context);
  if (!q->select.empty()) {
    ctx_what += "(";
    for (std::size_t i = 0; i < q->select.size(); ++i) ctx_what += (i ? "," : "") + q->select[i];
    ctx_what += ")";
  }
  // Written as text: a page of 100 devices built as JSON values first was most of its cost.
  json::Text t(1024 + rows->rows.size() * 1024);
  t.begin_object();
  t.key("@odata.context").string(ctx.context_url(ctx_what));
  if (count) t.key("@odata.count").number(*count);
  t.key("value").begin_array();
  for (const auto& row : rows->rows) write_device(t, row, ctx.svc.config.secret_key, q->select);
  t.end_array();
  if (static_cast<int>(rows->rows.size()) == q->top)
    t.key("@odata.nextLink").string(next_link(ctx, rows->rows.back().text(kId)));
  t.end_object();
  std::string body = t.take();
  // A page that shows a supporter link stops being true when its session's validity ends, which
  // no write marks: it is read again every time.
  bool timeless = std::none_of(rows->rows.begin(), rows->rows.end(),
                               [](const store::Row& r) { return !r.null(kSupporterLink); });
  if (cache && timeless) cache->store(cache_key, version, body);
  return net::Response::json_text(200, std::move(body));
}

Result<net::Response> list_managed_devices(Ctx& ctx) {
  auto g = require(ctx, actions::kDevicesRead);
  if (!g) return g.error();
  return list_devices(ctx, *g, "", {}, "deviceManagement/managedDevices");
}

Result<net::Response> list_user_devices(Ctx& ctx) {
  auto g = require(ctx, actions::kDevicesRead);
  if (!g) return g.error();
  auto user = find_user(ctx.db(), ctx.req.params["id"]);
  if (!user) return user.error();
  return list_devices(ctx, *g, "d.user_id = ?", {user->id},
                      fmt::format("users('{}')/managedDevices", user->id));
}

Result<net::Response> list_my_devices(Ctx& ctx) {
  // A user may always see the devices enrolled to them.
  Grant all;
  all.all_devices = true;
  return list_devices(ctx, all, "d.user_id = ?", {ctx.who().user_id}, "me/managedDevices");
}

// Loads one device the caller may act on with `action`: 404 if absent, 403 if out of scope.
Result<store::Row> device_in_scope(Ctx& ctx, std::string_view action) {
  auto g = require(ctx, action);
  if (!g) return g.error();
  store::Params params;
  std::string sql = device_select(ctx, params) + " WHERE d.id = ?";
  params.emplace_back(ctx.req.params["id"]);
  auto rows = ctx.db().query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty())
    return not_found(fmt::format("Managed device '{}' does not exist.", ctx.req.params["id"]));
  if (auto st = check_device_scope(ctx, *g, ctx.req.params["id"]); !st) return st.error();
  return rows->rows[0];
}

Result<net::Response> get_device(Ctx& ctx) {
  auto q = odata::parse_query(ctx.req.query, ctx.version == "beta", selectable(), 1000);
  if (!q) return q.error();
  auto row = device_in_scope(ctx, actions::kDevicesRead);
  if (!row) return row.error();
  if (!q->select.empty()) return device_response(ctx, *row, q->select);
  // Reach's addition: whether the device can take a remote assistance session at all (SPEC
  // §4.1), so that a page offers the request only where it can succeed and says why not.
  auto ra = find_ra_device(ctx.db(), row->text(kId));
  if (!ra) return ra.error();
  std::optional<Ineligible> why = *ra ? ineligible((*ra)->facts) : std::nullopt;
  return device_response(ctx, *row, {}, [&](json::Text& t) {
    t.key("remoteAssistanceEligibility").begin_object();
    t.key("eligible").boolean(!why);
    t.key("reason");
    if (why)
      t.string(error_code(*why));
    else
      t.null();
    t.end_object();
  });
}

// The admin center's Start remote assistance: the supporter link of the device's open session,
// as a redirect, so that opening the viewer is in the audit log (the link itself leads to the
// relay, which the hub never hears from). Who may follow it is who may read the link.
Result<net::Response> open_viewer(Ctx& ctx) {
  auto row = device_in_scope(ctx, actions::kDevicesRead);
  if (!row) return row.error();
  std::string id = row->text(kId);
  if (row->null(kSupporterLink)) {
    // Nothing to open (ended, expired, someone else's): the device's page says which.
    auto r = net::Response::empty(303);
    r.headers.set("Location", "/devices/" + net::percent_encode(id));
    return r;
  }
  auto st = ctx.db().transaction([&](store::Session& s) {
    return audit(
        s, ctx,
        {"openRemoteAssistanceViewer", "success", "managedDevice", id, row->text(kDeviceName), {}});
  });
  if (!st) return st.error();
  auto r = net::Response::empty(303);
  r.headers.set("Location",
                crypto::open_text(ctx.svc.config.secret_key, row->text(kSupporterLink)));
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

Result<net::Response> patch_device(Ctx& ctx) {
  auto row = device_in_scope(ctx, actions::kDevicesUpdate);
  if (!row) return row.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"managedDeviceOwnerType", "notes"}); !st) return st.error();
  auto owner = json::opt_string(*body, "managedDeviceOwnerType");
  if (!owner) return owner.error();
  if (*owner && std::find(kOwnerTypes.begin(), kOwnerTypes.end(), **owner) == kOwnerTypes.end())
    return bad_request(
        fmt::format("'{}' is not a valid managedDeviceOwnerType "
                    "(unknown, company, personal).",
                    **owner));
  bool notes_given = body->contains("notes");
  auto notes = json::opt_string(*body, "notes");
  if (!notes) return notes.error();
  if (*notes && (*notes)->size() > 4000)
    return bad_request("'notes' is longer than 4000 characters.");
  std::string id = row->text(kId);
  DeviceChanges changes;
  changes.owner_type = *owner;
  if (notes_given) changes.notes = *notes;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto u = update_device(s, id, changes); !u) return u;
    bj::object details;
    if (*owner) details["managedDeviceOwnerType"] = **owner;
    if (notes_given) details["notesChanged"] = true;
    return audit(s, ctx,
                 {"updateManagedDevice", "success", "managedDevice", id, row->text(kDeviceName),
                  std::move(details)});
  });
  if (!st) return st.error();
  publish_device(ctx.svc, id);
  store::Params params;
  std::string sql = device_select(ctx, params) + " WHERE d.id = ?";
  params.emplace_back(id);
  auto rows = ctx.db().query(sql, params);
  if (!rows) return rows.error();
  return device_response(ctx, rows->rows.at(0));
}

// POST managedDevices/{id}/sendCustomNotificationToCompanyPortal (Graph beta): a message shown
// by the device's company portal, delivered through the push channel's outbox.
Result<net::Response> send_custom_notification(Ctx& ctx) {
  auto row = device_in_scope(ctx, actions::kSendCustomNotification);
  if (!row) return row.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"notificationTitle", "notificationBody"}); !st)
    return st.error();
  auto title = json::req_string(*body, "notificationTitle");
  if (!title) return title.error();
  auto text = json::req_string(*body, "notificationBody");
  if (!text) return text.error();
  // Intune's limits for custom notifications.
  if (title->empty() || title->size() > 50)
    return bad_request("'notificationTitle' must be 1 to 50 characters.");
  if (text->empty() || text->size() > 500)
    return bad_request("'notificationBody' must be 1 to 500 characters.");
  std::string id = row->text(kId);
  std::string notification_id;
  const auto now = now_ms();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    NotificationSpec spec{"customNotification", *title, *text, {}, now + kCustomNotificationLife};
    auto n = queue_notification(s, id, spec, now);
    if (!n) return n.error();
    notification_id = *n;
    return audit(s, ctx,
                 {"sendCustomNotification", "success", "managedDevice", id, row->text(kDeviceName),
                  bj::object{{"notificationId", notification_id}, {"title", *title}}});
  });
  if (!st) return st.error();
  wake_device(ctx.svc, id);
  return net::Response::empty(204);
}

// ---------------------------------------------------------------- agents

// The device's Ed25519 public key an agent sends ("devicePublicKey": base64url of 32 bytes),
// kept as sent; nullopt when absent.
Result<std::optional<std::string>> device_public_key(const bj::object& body) {
  auto key = json::opt_string(body, "devicePublicKey");
  if (!key) return key.error();
  if (!*key) return std::optional<std::string>();
  auto raw = crypto::base64url_decode(**key);
  if (!raw || raw->size() != 32)
    return bad_request(
        "Property 'devicePublicKey' must be an Ed25519 public key: base64url of 32 bytes.");
  return std::optional<std::string>(**key);
}

Result<net::Response> enroll(Ctx& ctx) {
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"enrollmentToken", "device", "devicePublicKey"}); !st)
    return st.error();
  auto key = device_public_key(*body);
  if (!key) return key.error();
  auto token = json::req_string(*body, "enrollmentToken");
  if (!token) return token.error();
  auto it = body->find("device");
  if (it == body->end() || !it->value().is_object())
    return bad_request("Property 'device' (the inventory) is required.");
  auto inv = parse_inventory(it->value().as_object(), true);
  if (!inv) return inv.error();

  std::string credential = "rdc_" + crypto::random_token(32);
  std::string id = crypto::uuid_v4();
  auto now = now_ms();
  std::string device_name = *inv->device_name;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto tok = find_valid_enrollment_token(s, *token, now);
    if (!tok) return tok.error();
    if (!*tok)
      return unauthenticated(
          "The enrollment token is not valid: it is unknown, revoked or expired.");
    NewDevice d;
    d.id = id;
    d.device_name = device_name;
    d.user_id = (*tok)->user_id;
    d.operating_system = *inv->operating_system;
    d.os_version = inv->os_version;
    d.model = inv->model;
    d.manufacturer = inv->manufacturer;
    d.serial_number = inv->serial_number;
    d.device_type = inv->device_type.value_or("unknown");
    d.sku_family = inv->sku_family;
    d.owner_type = (*tok)->ownership;
    d.enrollment_type = (*tok)->enrollment_type;
    d.azure_ad_device_id = crypto::uuid_v4();
    d.credential_hash = crypto::sha256_hex(credential);
    d.e2e_public_key = *key;
    d.enrolled_at = now;
    if (auto st = insert_device(s, d); !st) return st;
    return audit(s, ctx,
                 {"enrollDevice", "success", "managedDevice", id, device_name,
                  bj::object{{"enrollmentTokenId", (*tok)->id},
                             {"deviceEnrollmentType", (*tok)->enrollment_type},
                             {"managedDeviceOwnerType", (*tok)->ownership}}});
  });
  if (!st) {
    if (st.error().kind == Errc::unauthenticated)
      log::warn("agent.enroll_refused", {{"ip", ctx.req.remote_address}});
    return st.error();
  }
  ++ctx.svc.metrics.enrollments;
  log::info("agent.enrolled", {{"device", id}, {"name", device_name}});
  return json_response(201, bj::object{{"deviceId", id}, {"deviceCredential", credential}});
}

Result<net::Response> checkin(Ctx& ctx) {
  auto found = authenticate_device(ctx.db(), ctx.req);
  if (!found) return found.error();
  auto device = found->id;
  Inventory inv;
  std::optional<std::string> key;
  if (!ctx.req.body.empty()) {
    auto body = json::parse_object(ctx.req.body);
    if (!body) return body.error();
    if (auto st = json::only_keys(*body, {"device", "devicePublicKey"}); !st) return st.error();
    auto given = device_public_key(*body);
    if (!given) return given.error();
    key = std::move(*given);
    if (auto it = body->find("device"); it != body->end()) {
      if (!it->value().is_object()) return bad_request("Property 'device' must be an object.");
      auto parsed = parse_inventory(it->value().as_object(), false);
      if (!parsed) return parsed.error();
      inv = std::move(*parsed);
    }
  }
  auto now = now_ms();
  if (auto r = record_checkin(ctx.db(), device, inv, now, key); !r) return r.error();
  ++ctx.svc.metrics.checkins;
  bj::object answer{{"deviceId", device}, {"lastSyncDateTime", iso8601(now)}};
  auto about = device_context(ctx.db(), device);
  if (!about) return about.error();
  if (*about) {
    if ((*about)->user_principal_name) answer["userPrincipalName"] = *(*about)->user_principal_name;
    answer["organization"] = (*about)->organization;
    if ((*about)->relay_url) answer["relayUrl"] = *(*about)->relay_url;
  }
  return json_response(200, std::move(answer));
}

}  // namespace

Result<DeviceIdentity> authenticate_device(store::Database& db, const net::Request& req) {
  auto credential = net::bearer_token(req.headers);
  if (!credential) return unauthenticated("Send the device credential as a Bearer token.");
  auto device = find_device_by_credential(db, std::string(*credential));
  if (!device) return device.error();
  if (!*device) {
    log::warn("agent.credential_refused", {{"ip", req.remote_address}});
    return unauthenticated("The device credential is not valid.");
  }
  return **device;
}

void register_device_routes(Routes& r) {
  r.graph("GET", "/deviceManagement/managedDevices", list_managed_devices);
  r.graph("GET", "/deviceManagement/managedDevices/{id}", get_device);
  r.graph("PATCH", "/deviceManagement/managedDevices/{id}", patch_device);
  r.graph("POST", "/deviceManagement/managedDevices/{id}/sendCustomNotificationToCompanyPortal",
          send_custom_notification);
  r.graph("GET", "/users/{id}/managedDevices", list_user_devices);
  r.api("GET", "/api/managedDevices/{id}/remoteAssistanceViewer", open_viewer);
  r.graph("GET", "/me/managedDevices", list_my_devices);
  r.api("POST", "/api/agent/enroll", enroll, Auth::none);
  r.api("POST", "/api/agent/checkin", checkin, Auth::none);
}

}  // namespace reach::hub
