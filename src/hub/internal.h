// Internal to the hub module: the shared services every handler file uses, the per-request
// context, and helpers for Graph-shaped responses. Not included outside src/hub.
#pragma once

#include "common/json.h"
#include "common/result.h"
#include "common/throttle.h"
#include "hub/device_store.h"
#include "hub/directory_store.h"
#include "hub/hub.h"
#include "net/http.h"
#include "net/router.h"
#include "store/db.h"
#include "store/stored_throttle.h"

#include <boost/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reach::hub {

namespace bj = boost::json;

struct Metrics {
  std::atomic<std::uint64_t> requests{0}, responses_2xx{0}, responses_4xx{0}, responses_5xx{0};
  std::atomic<std::uint64_t> enrollments{0}, checkins{0};
  std::atomic<std::uint64_t> signins_ok{0}, signins_failed{0}, signins_throttled{0};
  std::atomic<std::uint64_t> request_micros{0};
};

struct Principal {
  std::string user_id;
  std::string display_name;
  std::string upn;
  bool licensed = false;
  bool via_cookie = false;
};

class AgentChannels;
class DeviceEvents;
class PartnerClient;
class PartnerCloser;
class PageCache;

struct Services {
  HubConfig config;
  std::shared_ptr<store::Database> db;
  store::StoredThrottle signin_by_email{"signinEmail"};  // in the store: shared by every node
  store::StoredThrottle signin_by_address{"signinAddress"};
  Metrics metrics;
  std::function<std::string()> server_stats;
  AgentChannels* channels = nullptr;        // set by Hub; outlives every request
  DeviceEvents* events = nullptr;           // set by Hub; outlives every request
  std::shared_ptr<PartnerClient> partner;   // the remote assistance partner (the relay)
  PartnerCloser* partner_closer = nullptr;  // set by Hub; outlives every request and channel
  std::shared_ptr<PageCache> list_cache;    // device list pages; null when off or on PostgreSQL
};

// After the commit of a change to a device: wake_device() pushes its pending notifications to its
// agent, publish_device() tells the admin center pages that watch it. Both act here and, through
// the store's signals, on every other node sharing the store (whichever holds the channel or the
// page's socket).
void wake_device(Services& svc, const std::string& device_id);
void publish_device(Services& svc, const std::string& device_id);

// What an action is granted over, for the caller.
struct Grant {
  bool all_devices = false;
  bool licensed_users = false;
  std::vector<std::string> scope_groups;
};

// One request being handled.
struct Ctx {
  Services& svc;
  net::Request& req;
  std::string request_id;
  std::string version;  // "v1.0" or "beta" for Graph routes, "" under /api
  std::optional<Principal> principal;
  // The caller's grants by action, read once per request (find_grant).
  std::optional<std::map<std::string, Grant>> grants;

  // The request's reads before it changes anything: who is calling, their grants, a list. They
  // share one snapshot of the store (one read transaction, where the store gains by it), so
  // they agree with each other and cost one look at the store, not one each. The snapshot
  // ends when the request first asks for db(): every read after that, and so after any write
  // the request makes, sees the store as it is.
  store::Session& reads();
  // The store, for writes and for reads that must see them. Ends the read snapshot.
  store::Database& db();
  // The remote assistance partner (the relay). Ends the read snapshot first: no reader is held,
  // nor SQLite's checkpoint held back, while the request waits on another service.
  PartnerClient& partner();

  // --- the read snapshot's state (reads())
  std::unique_ptr<store::Session> snapshot = nullptr;
  bool snapshot_over = false;
  // "https://host" (no trailing slash).
  std::string base_url() const;
  // "https://host/v1.0/$metadata#" + what
  std::string context_url(std::string_view what) const;
  const Principal& who() const { return *principal; }
};

using ApiHandler = std::function<Result<net::Response>(Ctx&)>;

enum class Auth { none, user, device };

// Route table in the making: Graph routes are registered under /v1.0 and /beta.
class Routes {
 public:
  explicit Routes(Services& svc) : svc_(svc) {}
  void graph(std::string_view method, std::string_view path, ApiHandler h);
  void api(std::string_view method, std::string_view path, ApiHandler h, Auth auth = Auth::user);
  net::Response dispatch(net::Request& req);

 private:
  void add(std::string_view method, std::string path, std::string version, ApiHandler h, Auth auth);
  Services& svc_;
  net::Router router_;
};

// --- responses ---
net::Response json_response(int status, const bj::value& v);
net::Response graph_error(const Error& e, const std::string& request_id);
// A single entity with its "@odata.context" ("…/$metadata#" + `what`).
net::Response entity_response(const Ctx& ctx, bj::object entity, std::string_view what,
                              int status = 200);
// Authenticates a user from the cookie or bearer token; 401 when absent or invalid; 403 on a
// cross-site cookie-authenticated state change.
Result<Principal> authenticate_user(Ctx& ctx);
// Whether a browser sent this request from another site (Origin or Sec-Fetch-Site say so).
// Requests without either (scripts, curl) are not cross-site.
bool cross_site(const net::Request& req);

// --- audit (audit.cpp) ---
struct AuditEntry {
  std::string activity;            // e.g. "createUser"
  std::string result = "success";  // "success" | "failure"
  std::string target_type, target_id, target_name;
  bj::object details;
};
struct Actor {
  std::string type = "anonymous";  // "user", "device", "system", "anonymous"
  std::string id, name, ip_address;
};
// Appends within the caller's transaction so the record and the change commit together.
Status audit(store::Session& s, const Actor& actor, const AuditEntry& e);
Status audit(store::Session& s, const Ctx& ctx, const AuditEntry& e);
// Appends on its own (for events that change nothing else, such as failed sign-ins).
void audit_now(Ctx& ctx, const AuditEntry& e);

// The member of a remote assistance notification's stored data that holds its end-customer link,
// sealed; the push channel gives the device "endCustomerLink" in clear.
inline constexpr const char* kSealedEndCustomerLink = "endCustomerLinkSealed";

// States of a remote assistance session (ra_sessions.state) that is not over, as an SQL list.
inline constexpr const char* kOpenSessionStates = "('requested', 'accepted', 'allowed', 'active')";

// --- authorization (rbac.cpp) ---
namespace actions {
inline constexpr const char* kDevicesRead = "Microsoft.Intune_ManagedDevices_Read";
inline constexpr const char* kDevicesUpdate = "Microsoft.Intune_ManagedDevices_Update";
inline constexpr const char* kOrgRead = "Microsoft.Intune_Organization_Read";
inline constexpr const char* kOrgUpdate = "Microsoft.Intune_Organization_Update";
inline constexpr const char* kRolesRead = "Microsoft.Intune_Roles_Read";
inline constexpr const char* kRolesCreate = "Microsoft.Intune_Roles_Create";
inline constexpr const char* kRolesUpdate = "Microsoft.Intune_Roles_Update";
inline constexpr const char* kRolesDelete = "Microsoft.Intune_Roles_Delete";
inline constexpr const char* kRolesAssign = "Microsoft.Intune_Roles_Assign";
inline constexpr const char* kEnrollmentTokensCreate = "Microsoft.Intune_EnrollmentTokens_Create";
inline constexpr const char* kAuditRead = "Microsoft.Intune_Audit_Read";
inline constexpr const char* kRemoteAssistanceRead = "Microsoft.Intune_RemoteAssistance_Read";
inline constexpr const char* kRemoteAssistanceUpdate = "Microsoft.Intune_RemoteAssistance_Update";
inline constexpr const char* kRequestRemoteAssistance =
    "Microsoft.Intune_RemoteTasks_RequestRemoteAssistance";
inline constexpr const char* kSendCustomNotification =
    "Microsoft.Intune_RemoteTasks_SendCustomNotification";
const std::vector<std::string>& all();
}  // namespace actions

// 403 unless the caller holds `action` through some assignment (and has a licence, or the
// organisation allows unlicensed administrators).
Result<Grant> require(Ctx& ctx, std::string_view action);
// The same without refusing: nullopt when the caller does not hold `action` (the licence error
// stays an error).
Result<std::optional<Grant>> find_grant(Ctx& ctx, std::string_view action);
// The devices an assignment of `scope_type` over `scopes` (resourceScope) reaches.
Grant scope_grant(std::string_view scope_type, const std::vector<std::string>& scopes);
// A permission can only grant what its holder already holds (SPEC §10): 403 unless the caller
// holds each of `granted` over a scope that covers every one of `scopes` (with no scopes: holds
// it at all). Roles_Create, Roles_Update and Roles_Assign are no way to more rights.
Status check_can_grant(Ctx& ctx, const std::vector<std::string>& granted,
                       const std::vector<Grant>& scopes);
// Every action a user holds, with the union of its scopes (no licence check).
Result<std::map<std::string, Grant>> grants_of(store::Session& s, const std::string& user_id);
// Organization_Update is not a way to more rights: changing a user who holds rights the caller
// does not (an action, or a wider scope), or a group that a role assignment uses (as members
// or as scope), also needs Roles_Assign. 403 otherwise.
Status check_user_change(Ctx& ctx, const std::string& user_id);
Status check_group_change(Ctx& ctx, const std::string& group_id);
// SQL condition (over alias d = devices) for devices within the grant; appends its parameters.
std::string device_scope_sql(const Grant& g, store::Params& params);
// 403 unless the (existing) device `id` is within the grant.
Status check_device_scope(Ctx& ctx, const Grant& g, const std::string& id);
// Seeds the built-in role definitions (idempotent).
Status seed_builtin_roles(store::Session& s);
inline constexpr const char* kIntuneAdministratorRoleId = "9e0cc482-82df-4ab2-a24c-0c23a3f52e1e";
inline constexpr const char* kHelpDeskOperatorRoleId = "9ed3a0c4-9c6b-4f3a-8d0c-6b6d1b1f8f52";
inline constexpr const char* kReadOnlyOperatorRoleId = "d12b9e51-1bd5-4a9d-9c8a-0b1e8e0e0d5f";
inline constexpr const char* kReachSkuId = "b05e124f-c7cc-45a0-a6aa-8cf78c946968";

// --- handler registration (one per file) ---
void register_auth_routes(Routes& r);
void register_directory_routes(Routes& r);
void register_role_routes(Routes& r);
void register_device_routes(Routes& r);
void register_ops_routes(Routes& r);
void register_audit_routes(Routes& r);
void register_remote_assistance_routes(Routes& r);
void register_summary_routes(Routes& r);

// Points the connector at a relay with its OAuth client (the command line's `connector set`);
// the connector then needs onboarding again.
Status configure_connector(store::Session& s, const std::string& key, const std::string& relay_url,
                           const std::string& client_id, const std::string& client_secret);

// The one check of an agent's device credential (a Bearer token), for its API calls and its push
// channel: 401 when absent or unknown.
Result<DeviceIdentity> authenticate_device(store::Database& db, const net::Request& req);

// Paging over an id-ordered collection: returns the nextLink (or "") for a page that was full.
std::string next_link(const Ctx& ctx, std::string_view last_id);
// The "from" and "to" query parameters of a history (ISO 8601 date-times, "to" exclusive) as a
// SQL condition on `column` (milliseconds), with its parameters appended; "" when neither is
// given; 400 when one is not a date-time.
Result<std::string> time_range_sql(const Ctx& ctx, std::string_view column, store::Params& params);

}  // namespace reach::hub
