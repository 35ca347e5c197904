// Authorization (SPEC §4.3, docs/hub-api.md "Authorization"): every endpoint of the contract is
// called by callers holding different roles and scopes, and each answer is checked against the
// action table: 401 without credentials, 403 without the action, 403 for a single device out of
// scope (absent from lists), success otherwise; plus the licence rule.
#include "integration/hub_process.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>

namespace reach::itest {
namespace {

constexpr const char* kDevicesRead = "Microsoft.Intune_ManagedDevices_Read";
constexpr const char* kDevicesUpdate = "Microsoft.Intune_ManagedDevices_Update";
constexpr const char* kOrgRead = "Microsoft.Intune_Organization_Read";
constexpr const char* kOrgUpdate = "Microsoft.Intune_Organization_Update";
constexpr const char* kRolesRead = "Microsoft.Intune_Roles_Read";
constexpr const char* kRolesCreate = "Microsoft.Intune_Roles_Create";
constexpr const char* kRolesAssign = "Microsoft.Intune_Roles_Assign";
constexpr const char* kEnrollmentTokensCreate = "Microsoft.Intune_EnrollmentTokens_Create";
constexpr const char* kAuditRead = "Microsoft.Intune_Audit_Read";

const std::string kDevices = "/v1.0/deviceManagement/managedDevices";

// One endpoint of the contract that is not about a particular device.
struct Endpoint {
  std::string method;
  std::string path;
  std::function<std::string()> body;  // fresh body per call (names must be unique); may be null
  std::string action;
  int ok_status;
};

class HubRbac : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.init_and_start());
    admin_ = hub_.admin_token();
    ASSERT_FALSE(admin_.empty());
    auto me = hub_.get("/v1.0/me", admin_);
    ASSERT_EQ(me.status, 200) << me;
    admin_id_ = me.str("id");
    const auto* lic = me.obj().if_contains("assignedLicenses");
    ASSERT_TRUE(lic && lic->is_array() && !lic->as_array().empty())
        << "init's administrator should hold a licence: " << me;
    sku_ = str_of(lic->as_array()[0].as_object(), "skuId");
    ASSERT_FALSE(sku_.empty()) << me;

    none_ = make_user("none@reach.test", true);
    hda_ = make_user("helpdesk-a@reach.test", true);
    hdb_ = make_user("helpdesk-b@reach.test", true);
    custom_ = make_user("custom@reach.test", true);
    unlic_ = make_user("unlicensed-admin@reach.test", false);
    p2_ = make_user("primary-two@reach.test", false);
    ASSERT_FALSE(HasFailure());

    group_a_ = make_group("Group A");
    group_b_ = make_group("Group B");
    staff_ = make_group("Staff");
    scratch_ = make_group("Scratch");
    ASSERT_FALSE(HasFailure());

    d1_ = enroll_one({"--user", hub_.options().admin_email, "--ownership", "personal"}, "DEV-ONE");
    d2_ = enroll_one({"--user", "primary-two@reach.test", "--ownership", "personal"}, "DEV-TWO");
    d3_ = enroll_one({"--userless", "--ownership", "company"}, "DEV-THREE");
    ASSERT_FALSE(HasFailure());

    add_member(group_a_, d1_);    // group A holds device 1 itself
    add_member(group_b_, p2_);    // group B holds device 2's primary user
    add_member(staff_, custom_);  // the custom role is assigned to this group
    ASSERT_FALSE(HasFailure());

    auto roles = collect_pages(hub_, "/v1.0/deviceManagement/roleDefinitions", admin_);
    for (const auto& r : roles) {
      if (str_of(r, "displayName") == "Help Desk Operator") help_desk_role_ = str_of(r, "id");
      if (str_of(r, "displayName") == "Intune Administrator") admin_role_ = str_of(r, "id");
    }
    ASSERT_FALSE(help_desk_role_.empty()) << "no built-in Help Desk Operator role";
    ASSERT_FALSE(admin_role_.empty()) << "no built-in Intune Administrator role";

    auto cr = hub_.post(
        "/v1.0/deviceManagement/roleDefinitions",
        bj::object{{"@odata.type", "#microsoft.graph.deviceAndAppManagementRoleDefinition"},
                   {"displayName", "Device Notes Editor"},
                   {"description", "Reads and annotates devices; reads the audit log."},
                   {"isBuiltIn", false},
                   {"rolePermissions",
                    bj::array{bj::object{
                        {"resourceActions",
                         bj::array{bj::object{{"allowedResourceActions",
                                               bj::array{kDevicesRead, kDevicesUpdate, kAuditRead}},
                                              {"notAllowedResourceActions", bj::array{}}}}}}}}},
        admin_);
    ASSERT_EQ(cr.status, 201) << "create custom role: " << cr;
    custom_role_ = cr.str("id");
    ASSERT_FALSE(custom_role_.empty()) << cr;

    // The three ways of naming the role definition.
    assign("Help desk A", {hda_}, {group_a_}, "resourceScope",
           {"roleDefinition@odata.bind",
            "https://graph.microsoft.com/beta/deviceManagement/roleDefinitions('" +
                help_desk_role_ + "')"});
    assign("Help desk B", {hdb_}, {group_b_}, "resourceScope",
           {"roleDefinitionId", help_desk_role_});
    assign("Notes editors", {staff_}, {group_a_}, "resourceScope",
           {"roleDefinition@odata.bind",
            hub_.base_url() + "/beta/deviceManagement/roleDefinitions/" + custom_role_});
    assign("Unlicensed admin", {unlic_}, {}, "allDevices", {"roleDefinitionId", admin_role_});
    ASSERT_FALSE(HasFailure());

    for (const auto& [upn, slot] : std::vector<std::pair<std::string, std::string*>>{
             {"none@reach.test", &t_none_},
             {"helpdesk-a@reach.test", &t_hda_},
             {"helpdesk-b@reach.test", &t_hdb_},
             {"custom@reach.test", &t_custom_},
             {"unlicensed-admin@reach.test", &t_unlic_}}) {
      *slot = hub_.create_token(upn);
      ASSERT_FALSE(slot->empty()) << upn;
    }
  }

  std::string make_user(const std::string& upn, bool licensed) {
    auto r =
        hub_.post("/v1.0/users",
                  bj::object{{"displayName", upn.substr(0, upn.find('@'))},
                             {"userPrincipalName", upn},
                             {"mail", upn},
                             {"accountEnabled", true},
                             {"passwordProfile", bj::object{{"password", "Pa55word-for-" + upn}}}},
                  admin_);
    EXPECT_EQ(r.status, 201) << "create user " << upn << ": " << r;
    std::string id = r.str("id");
    if (licensed && !id.empty()) {
      auto l = hub_.post("/v1.0/users/" + id + "/assignLicense",
                         bj::object{{"addLicenses", bj::array{bj::object{{"skuId", sku_}}}},
                                    {"removeLicenses", bj::array{}}},
                         admin_);
      EXPECT_EQ(l.status, 200) << "assignLicense " << upn << ": " << l;
    }
    return id;
  }

  std::string make_group(const std::string& name) {
    auto r = hub_.post("/v1.0/groups",
                       bj::object{{"displayName", name},
                                  {"description", "integration test group"},
                                  {"securityEnabled", true},
                                  {"mailEnabled", false}},
                       admin_);
    EXPECT_EQ(r.status, 201) << "create group " << name << ": " << r;
    return r.str("id");
  }

  std::string enroll_one(const std::vector<std::string>& flags, const std::string& name) {
    std::string token = hub_.create_enrollment_token(flags);
    DeviceSpec d;
    d.name = name;
    d.os = "Windows";
    auto r = enroll(hub_, token, d);
    EXPECT_EQ(r.status, 201) << "enroll " << name << ": " << r;
    return r.str("deviceId");
  }

  void add_member(const std::string& group, const std::string& member) {
    auto r = hub_.post(
        "/v1.0/groups/" + group + "/members/$ref",
        bj::object{{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" + member}},
        admin_);
    EXPECT_EQ(r.status, 204) << "add " << member << " to " << group << ": " << r;
  }

  void assign(const std::string& name, const std::vector<std::string>& members,
              const std::vector<std::string>& scopes, const std::string& scope_type,
              std::pair<std::string, std::string> role_ref) {
    bj::array m, s;
    for (const auto& x : members) m.emplace_back(x);
    for (const auto& x : scopes) s.emplace_back(x);
    bj::object body{{"displayName", name},
                    {"description", "integration test assignment"},
                    {"members", std::move(m)},
                    {"resourceScopes", std::move(s)},
                    {"scopeType", scope_type}};
    body[role_ref.first] = role_ref.second;
    auto r = hub_.post("/v1.0/deviceManagement/roleAssignments", body, admin_);
    EXPECT_EQ(r.status, 201) << "create role assignment " << name << ": " << r;
  }

  // Every endpoint of the contract that is not about one device.
  std::vector<Endpoint> endpoints() {
    auto n = [this] { return std::to_string(++unique_); };
    std::string scratch = scratch_, d3 = d3_, none = none_, role = help_desk_role_;
    return {
        {"GET", "/v1.0/users", nullptr, kOrgRead, 200},
        {"GET", "/v1.0/users/" + admin_id_, nullptr, kOrgRead, 200},
        {"POST", "/v1.0/users",
         [n] {
           std::string k = n();
           return bj::serialize(
               bj::object{{"displayName", "New " + k},
                          {"userPrincipalName", "new-" + k + "@reach.test"},
                          {"accountEnabled", true},
                          {"passwordProfile", bj::object{{"password", "Another-Pa55word"}}}});
         },
         kOrgUpdate, 201},
        {"GET", "/v1.0/groups", nullptr, kOrgRead, 200},
        {"GET", "/v1.0/groups/" + group_a_, nullptr, kOrgRead, 200},
        {"POST", "/v1.0/groups",
         [n] {
           return bj::serialize(bj::object{{"displayName", "New group " + n()}});
         },
         kOrgUpdate, 201},
        {"GET", "/v1.0/groups/" + group_a_ + "/members", nullptr, kOrgRead, 200},
        {"POST", "/v1.0/groups/" + scratch + "/members/$ref",
         [d3] {
           return bj::serialize(bj::object{
               {"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" + d3}});
         },
         kOrgUpdate, 204},
        {"GET", "/v1.0/deviceManagement/roleDefinitions", nullptr, kRolesRead, 200},
        {"GET", "/v1.0/deviceManagement/roleDefinitions/" + role, nullptr, kRolesRead, 200},
        {"POST", "/v1.0/deviceManagement/roleDefinitions",
         [n] {
           return bj::serialize(bj::object{
               {"displayName", "Custom " + n()},
               {"rolePermissions",
                bj::array{bj::object{
                    {"resourceActions", bj::array{bj::object{{"allowedResourceActions",
                                                              bj::array{kDevicesRead}}}}}}}}});
         },
         kRolesCreate, 201},
        {"GET", "/v1.0/deviceManagement/roleAssignments", nullptr, kRolesRead, 200},
        {"POST", "/v1.0/deviceManagement/roleAssignments",
         [n, none, scratch, role] {
           return bj::serialize(bj::object{{"displayName", "Assignment " + n()},
                                           {"members", bj::array{bj::value(none)}},
                                           {"resourceScopes", bj::array{bj::value(scratch)}},
                                           {"roleDefinitionId", role}});
         },
         kRolesAssign, 201},
        {"GET", "/api/audit", nullptr, kAuditRead, 200},
        {"POST", "/api/enrollmentTokens",
         [] {
           return bj::serialize(bj::object{{"userless", true}, {"ownership", "company"}});
         },
         kEnrollmentTokensCreate, 201},
        {"GET", "/api/organization", nullptr, kOrgRead, 200},
        {"PATCH", "/api/organization",
         [] {
           return bj::serialize(bj::object{{"allowUnlicensedAdministrators", false}});
         },
         kOrgUpdate, 200},
        {"GET", kDevices, nullptr, kDevicesRead, 200},
        {"GET", "/v1.0/users/" + p2_ + "/managedDevices", nullptr, kDevicesRead, 200},
    };
  }

  ApiResult call(const Endpoint& e, const std::string& bearer, net::Headers h = {}) {
    if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
    std::string body;
    if (e.body) {
      body = e.body();
      h.set("Content-Type", "application/json");
    }
    return hub_.request(e.method, e.path, body, h);
  }

  // Calls every endpoint as `bearer` and checks: success iff the caller holds the action.
  void check_endpoints(const std::string& bearer, const std::set<std::string>& held) {
    for (const auto& e : endpoints()) {
      SCOPED_TRACE(e.method + " " + e.path + " (needs " + e.action + ")");
      auto r = call(e, bearer);
      if (held.count(e.action)) {
        EXPECT_EQ(r.status, e.ok_status) << r;
      } else {
        EXPECT_TRUE(IsGraphError(r, 403, "accessDenied"));
      }
    }
  }

  std::string notes_of(const std::string& device) {
    auto r = hub_.get(kDevices + "/" + device, admin_);
    EXPECT_EQ(r.status, 200) << r;
    const auto* v = r.is_object() ? r.obj().if_contains("notes") : nullptr;
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }

  std::set<std::string> listed(const std::string& path, const std::string& bearer) {
    std::set<std::string> out;
    for (const auto& d : collect_pages(hub_, path, bearer)) out.insert(str_of(d, "id"));
    return out;
  }

  // Device endpoints as `bearer`: lists show exactly `visible`; a single device answers 200 when
  // visible and 403 otherwise; PATCH needs the update action and the scope.
  void check_devices(const std::string& bearer, bool can_read, bool can_update,
                     const std::set<std::string>& visible) {
    if (can_read) {
      EXPECT_EQ(listed(kDevices, bearer), visible) << "GET managedDevices";
      EXPECT_EQ(listed("/beta/deviceManagement/managedDevices", bearer), visible)
          << "GET beta managedDevices";
      std::set<std::string> p2_visible;
      if (visible.count(d2_)) p2_visible.insert(d2_);
      EXPECT_EQ(listed("/v1.0/users/" + p2_ + "/managedDevices", bearer), p2_visible)
          << "GET users/{p2}/managedDevices";
    } else {
      EXPECT_TRUE(IsGraphError(hub_.get(kDevices, bearer), 403, "accessDenied"));
    }
    for (const auto& d : {d1_, d2_, d3_}) {
      SCOPED_TRACE("device " + d);
      bool in_scope = visible.count(d) > 0;
      auto g = hub_.get(kDevices + "/" + d, bearer);
      if (can_read && in_scope) {
        EXPECT_EQ(g.status, 200) << g;
        EXPECT_EQ(g.str("id"), d);
      } else {
        EXPECT_TRUE(IsGraphError(g, 403, "accessDenied")) << "GET of a device out of reach";
      }
      std::string before = notes_of(d);
      std::string note = "note by caller " + bearer.substr(0, 6) + " on " + d;
      auto p = hub_.patch(kDevices + "/" + d, bj::object{{"notes", note}}, bearer);
      if (can_update && in_scope) {
        EXPECT_EQ(p.status, 200) << p;
        EXPECT_EQ(p.str("notes"), note) << "PATCH returns the device";
        EXPECT_EQ(notes_of(d), note);
      } else {
        EXPECT_TRUE(IsGraphError(p, 403, "accessDenied")) << "PATCH of a device out of reach";
        EXPECT_EQ(notes_of(d), before) << "a refused PATCH changed the device";
      }
      // Custom notifications: only the Intune Administrator holds the action here.
      auto n = hub_.post(kDevices + "/" + d + "/sendCustomNotificationToCompanyPortal",
                         bj::object{{"notificationTitle", "t"}, {"notificationBody", "b"}}, bearer);
      if (bearer == admin_ && in_scope)
        EXPECT_EQ(n.status, 204) << n;
      else
        EXPECT_TRUE(IsGraphError(n, 403, "accessDenied")) << "a notification out of reach";
    }
  }

  HubProcess hub_;
  int unique_ = 0;  // makes created names unique across calls
  std::string admin_, admin_id_, sku_;
  std::string none_, hda_, hdb_, custom_, unlic_, p2_;
  std::string group_a_, group_b_, staff_, scratch_;
  std::string d1_, d2_, d3_;
  std::string help_desk_role_, admin_role_, custom_role_;
  std::string t_none_, t_hda_, t_hdb_, t_custom_, t_unlic_;
};

TEST_F(HubRbac, NoCredentialsIs401WithGraphErrorEverywhere) {
  std::vector<Endpoint> all = endpoints();
  all.push_back({"GET", "/v1.0/me", nullptr, "", 200});
  all.push_back({"GET", kDevices + "/" + d1_, nullptr, kDevicesRead, 200});
  all.push_back({"PATCH", kDevices + "/" + d1_,
                 [] {
                   return bj::serialize(bj::object{{"notes", "anonymous"}});
                 },
                 kDevicesUpdate, 200});
  for (const auto& e : all) {
    SCOPED_TRACE(e.method + " " + e.path);
    auto r = call(e, "");
    EXPECT_TRUE(IsGraphError(r, 401, "unauthenticated"));
    auto www = r.headers.get("WWW-Authenticate");
    EXPECT_TRUE(www && www->starts_with("Bearer")) << "WWW-Authenticate: Bearer is missing";
    auto forged = call(e, "forged-token-0123456789abcdef");
    EXPECT_TRUE(IsGraphError(forged, 401, "unauthenticated")) << "a forged bearer token";
  }
  EXPECT_EQ(notes_of(d1_), "");
}

TEST_F(HubRbac, UserWithoutRoleIsRefusedEverywhereButMe) {
  auto me = hub_.get("/v1.0/me", t_none_);
  ASSERT_EQ(me.status, 200) << "GET /me needs no action: " << me;
  EXPECT_EQ(me.str("id"), none_);
  EXPECT_EQ(me.str("userPrincipalName"), "none@reach.test");
  check_endpoints(t_none_, {});
  check_devices(t_none_, false, false, {});
}

TEST_F(HubRbac, HelpDeskOperatorSeesOnlyDevicesInGroupA) {
  check_endpoints(t_hda_, {kDevicesRead, kOrgRead});
  check_devices(t_hda_, true, false, {d1_});

  // Scope is evaluated at request time: once device 1 leaves group A it is out of reach.
  auto r = hub_.del("/v1.0/groups/" + group_a_ + "/members/" + d1_ + "/$ref", admin_);
  ASSERT_EQ(r.status, 204) << r;
  check_devices(t_hda_, true, false, {});
}

// A scoped operator's device list follows the scope's groups at once, though the hub on SQLite
// keeps pages (hub/page_cache.h): a device, then a primary user, joins group A.
TEST_F(HubRbac, AScopedDeviceListFollowsItsGroupsAtOnce) {
  auto ids = [&] {
    std::set<std::string> out;
    for (const auto& d : collect_pages(hub_, "/v1.0/deviceManagement/managedDevices", t_hda_))
      out.insert(str_of(d, "id"));
    return out;
  };
  EXPECT_EQ(ids(), (std::set<std::string>{d1_}));
  EXPECT_EQ(ids(), (std::set<std::string>{d1_}));
  add_member(group_a_, d3_);
  EXPECT_EQ(ids(), (std::set<std::string>{d1_, d3_}));
  add_member(group_a_, p2_);
  EXPECT_EQ(ids(), (std::set<std::string>{d1_, d2_, d3_}));
}

TEST_F(HubRbac, HelpDeskOperatorSeesDevicesOfPrimaryUsersInGroupB) {
  check_endpoints(t_hdb_, {kDevicesRead, kOrgRead});
  check_devices(t_hdb_, true, false, {d2_});
}

TEST_F(HubRbac, CustomRoleAssignedToAGroupGrantsItsActionsInScope) {
  check_endpoints(t_custom_, {kDevicesRead, kDevicesUpdate, kAuditRead});
  check_devices(t_custom_, true, true, {d1_});
  // A role in use cannot be deleted.
  auto del = hub_.del("/v1.0/deviceManagement/roleDefinitions/" + custom_role_, admin_);
  EXPECT_TRUE(IsGraphError(del, 409, "conflict"));
  EXPECT_EQ(hub_.get("/v1.0/deviceManagement/roleDefinitions/" + custom_role_, admin_).status, 200);
}

TEST_F(HubRbac, AdministratorIsAllowedEverywhere) {
  std::set<std::string> every;
  for (const auto& e : endpoints()) every.insert(e.action);
  every.insert(kDevicesUpdate);
  check_endpoints(admin_, every);
  check_devices(admin_, true, true, {d1_, d2_, d3_});
  // Built-in roles cannot be changed or deleted, even by the administrator.
  auto p = hub_.patch("/v1.0/deviceManagement/roleDefinitions/" + help_desk_role_,
                      bj::object{{"displayName", "Renamed"}}, admin_);
  EXPECT_GE(p.status, 400) << p;
  EXPECT_LT(p.status, 500) << p;
  auto d = hub_.del("/v1.0/deviceManagement/roleDefinitions/" + help_desk_role_, admin_);
  EXPECT_GE(d.status, 400) << d;
  EXPECT_LT(d.status, 500) << d;
  auto g = hub_.get("/v1.0/deviceManagement/roleDefinitions/" + help_desk_role_, admin_);
  EXPECT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.str("displayName"), "Help Desk Operator");
}

TEST_F(HubRbac, UnlicensedAdministratorIsRefusedUntilTheOrganisationAllowsIt) {
  // Intune Administrator over all devices, but no licence.
  check_endpoints(t_unlic_, {});
  check_devices(t_unlic_, false, false, {});

  auto org =
      hub_.patch("/api/organization", bj::object{{"allowUnlicensedAdministrators", true}}, admin_);
  ASSERT_EQ(org.status, 200) << org;
  auto flag = org.obj().if_contains("allowUnlicensedAdministrators");
  EXPECT_TRUE(flag && flag->is_bool() && flag->as_bool()) << org;
  auto get = hub_.get("/api/organization", admin_);
  ASSERT_EQ(get.status, 200) << get;
  flag = get.obj().if_contains("allowUnlicensedAdministrators");
  EXPECT_TRUE(flag && flag->is_bool() && flag->as_bool()) << get;

  auto users = hub_.get("/v1.0/users", t_unlic_);
  EXPECT_EQ(users.status, 200) << users;
  EXPECT_EQ(listed(kDevices, t_unlic_), (std::set<std::string>{d1_, d2_, d3_}));
  auto one = hub_.get(kDevices + "/" + d3_, t_unlic_);
  EXPECT_EQ(one.status, 200) << one;

  // And refused again once the setting is withdrawn.
  org =
      hub_.patch("/api/organization", bj::object{{"allowUnlicensedAdministrators", false}}, admin_);
  ASSERT_EQ(org.status, 200) << org;
  EXPECT_TRUE(IsGraphError(hub_.get("/v1.0/users", t_unlic_), 403, "accessDenied"));
  // A licence lifts the refusal.
  auto l = hub_.post("/v1.0/users/" + unlic_ + "/assignLicense",
                     bj::object{{"addLicenses", bj::array{bj::object{{"skuId", sku_}}}},
                                {"removeLicenses", bj::array{}}},
                     admin_);
  ASSERT_EQ(l.status, 200) << l;
  EXPECT_EQ(hub_.get("/v1.0/users", t_unlic_).status, 200);
}

// Finding 6 of the security review: Organization_Update was full admin (reset an Intune
// Administrator's password, join a group a role assignment uses). Changing a user who holds
// rights the caller does not, or a group that a role assignment uses, needs Roles_Assign; a
// password change ends that user's sessions and tokens.
TEST_F(HubRbac, OrganizationUpdateIsNotAWayToMoreRights) {
  auto role = hub_.post(
      "/v1.0/deviceManagement/roleDefinitions",
      bj::object{
          {"displayName", "Directory Editor"},
          {"rolePermissions",
           bj::array{bj::object{
               {"resourceActions",
                bj::array{bj::object{{"allowedResourceActions", bj::array{kOrgRead, kOrgUpdate}},
                                     {"notAllowedResourceActions", bj::array{}}}}}}}}},
      admin_);
  ASSERT_EQ(role.status, 201) << role;
  std::string editor = make_user("editor@reach.test", true);
  assign("Directory editors", {editor}, {}, "allDevices", {"roleDefinitionId", role.str("id")});
  std::string t = hub_.create_token("editor@reach.test");
  auto password = [](const std::string& pw) {
    return bj::object{{"passwordProfile", bj::object{{"password", pw}}}};
  };
  auto member = [&](const std::string& id) {
    return bj::object{{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" + id}};
  };
  // Refused: users who hold more (the administrator, a help desk operator)…
  EXPECT_TRUE(IsGraphError(hub_.patch("/v1.0/users/" + admin_id_, password("Taken-Over-123"), t),
                           403, "accessDenied"));
  EXPECT_TRUE(
      IsGraphError(hub_.patch("/v1.0/users/" + hda_, bj::object{{"accountEnabled", false}}, t), 403,
                   "accessDenied"));
  EXPECT_EQ(hub_.del("/v1.0/users/" + hda_, t).status, 403);
  EXPECT_EQ(
      hub_.post("/v1.0/users/" + admin_id_ + "/assignLicense",
                bj::object{{"addLicenses", bj::array{}}, {"removeLicenses", bj::array{sku_}}}, t)
          .status,
      403);
  // …and groups a role assignment uses, as members (Staff) or as scope (Group A).
  EXPECT_EQ(hub_.post("/v1.0/groups/" + staff_ + "/members/$ref", member(editor), t).status, 403);
  EXPECT_EQ(hub_.post("/v1.0/groups/" + group_a_ + "/members/$ref", member(d2_), t).status, 403);
  EXPECT_EQ(hub_.del("/v1.0/groups/" + group_a_ + "/members/" + d1_ + "/$ref", t).status, 403);
  EXPECT_EQ(hub_.del("/v1.0/groups/" + staff_, t).status, 403);
  // Nothing of it happened: the administrator's password still signs in, Staff is unchanged.
  EXPECT_EQ(hub_.get("/v1.0/users/" + hda_, admin_).obj().at("accountEnabled").as_bool(), true);
  auto staff = hub_.get("/v1.0/groups/" + staff_ + "/members", admin_);
  EXPECT_EQ(staff.value().size(), 1u) << staff;
  // Allowed: users with no more rights than the editor, and groups no assignment uses.
  EXPECT_EQ(hub_.patch("/v1.0/users/" + none_, bj::object{{"displayName", "Renamed"}}, t).status,
            204);
  EXPECT_EQ(hub_.post("/v1.0/groups/" + scratch_ + "/members/$ref", member(none_), t).status, 204);

  // A password change ends the user's sessions and API tokens.
  ASSERT_EQ(hub_.get("/v1.0/me", t_none_).status, 200);
  EXPECT_EQ(hub_.patch("/v1.0/users/" + none_, password("A-New-Passw0rd-1"), t).status, 204);
  EXPECT_TRUE(IsGraphError(hub_.get("/v1.0/me", t_none_), 401, "unauthenticated"));
  // The administrator (who holds Roles_Assign) may change a help desk operator.
  EXPECT_EQ(hub_.patch("/v1.0/users/" + hda_, password("Reset-By-Admin-1"), admin_).status, 204);
  EXPECT_TRUE(IsGraphError(hub_.get("/v1.0/me", t_hda_), 401, "unauthenticated"));
}

const std::vector<std::string> kAllActions = {
    "Microsoft.Intune_ManagedDevices_Read",
    "Microsoft.Intune_ManagedDevices_Update",
    "Microsoft.Intune_Organization_Read",
    "Microsoft.Intune_Organization_Update",
    "Microsoft.Intune_Roles_Read",
    "Microsoft.Intune_Roles_Create",
    "Microsoft.Intune_Roles_Update",
    "Microsoft.Intune_Roles_Delete",
    "Microsoft.Intune_Roles_Assign",
    "Microsoft.Intune_EnrollmentTokens_Create",
    "Microsoft.Intune_Audit_Read",
    "Microsoft.Intune_RemoteAssistance_Read",
    "Microsoft.Intune_RemoteAssistance_Update",
    "Microsoft.Intune_RemoteTasks_RequestRemoteAssistance",
    "Microsoft.Intune_RemoteTasks_SendCustomNotification"};
constexpr const char* kRolesUpdate = "Microsoft.Intune_Roles_Update";
constexpr const char* kRolesDelete = "Microsoft.Intune_Roles_Delete";
constexpr const char* kRaRead = "Microsoft.Intune_RemoteAssistance_Read";
constexpr const char* kRaUpdate = "Microsoft.Intune_RemoteAssistance_Update";
const std::string kRoles = "/v1.0/deviceManagement/roleDefinitions";
const std::string kAssignments = "/v1.0/deviceManagement/roleAssignments";

bj::object role_body(const std::string& name, const std::vector<std::string>& actions) {
  bj::array acts;
  for (const auto& a : actions) acts.emplace_back(a);
  return bj::object{
      {"displayName", name},
      {"rolePermissions",
       bj::array{bj::object{{"resourceActions",
                             bj::array{bj::object{{"allowedResourceActions", std::move(acts)},
                                                  {"notAllowedResourceActions", bj::array{}}}}}}}}};
}

bj::object assignment_body(const std::string& name, const std::string& role,
                           const std::string& member_group, const std::string& scope_type,
                           const std::vector<std::string>& scopes = {}) {
  bj::array s;
  for (const auto& x : scopes) s.emplace_back(x);
  return bj::object{{"displayName", name},
                    {"roleDefinitionId", role},
                    {"members", bj::array{member_group}},
                    {"resourceScopes", std::move(s)},
                    {"scopeType", scope_type}};
}

// Issue 20, finding 4: a custom role holding only Roles_Read and Roles_Update, scoped to an
// empty group, patched itself to every action and then assigned Intune Administrator. A role
// change may add only actions the caller holds over the scopes the role is assigned with, and an
// assignment may give only what the caller holds over its scope.
TEST_F(HubRbac, RolesUpdateAndRolesAssignGiveOnlyWhatTheCallerHolds) {
  std::string empty = make_group("Nobody");
  std::string editors = make_group("Role editors");
  std::string mallory = make_user("mallory@reach.test", true);
  add_member(editors, mallory);
  auto role = hub_.post(kRoles, role_body("Role editor", {kRolesRead, kRolesUpdate}), admin_);
  ASSERT_EQ(role.status, 201) << role;
  std::string role_id = role.str("id");
  ASSERT_EQ(
      hub_.post(kAssignments,
                assignment_body("Role editors", role_id, editors, "resourceScope", {empty}), admin_)
          .status,
      201);
  std::string t = hub_.create_token("mallory@reach.test");
  auto grown = hub_.patch(kRoles + "/" + role_id, role_body("Role editor", kAllActions), t);
  EXPECT_TRUE(IsGraphError(grown, 403, "accessDenied")) << grown;
  EXPECT_NE(grown.body.find("only give others what you hold"), std::string::npos) << grown;
  auto after = hub_.get(kRoles + "/" + role_id, admin_);
  EXPECT_EQ(after.body.find(kRolesAssign), std::string::npos) << "unchanged: " << after;
  EXPECT_EQ(hub_.get(kDevices, t).status, 403);
  // Renaming it, or removing an action, gives nobody anything.
  EXPECT_EQ(
      hub_.patch(kRoles + "/" + role_id, role_body("Role editor 2", {kRolesRead, kRolesUpdate}), t)
          .status,
      200);
  // Built-in roles stay as they are, whoever asks.
  EXPECT_TRUE(IsGraphError(hub_.patch(kRoles + "/" + help_desk_role_,
                                      role_body("Help Desk Operator", kAllActions), admin_),
                           400, "invalidRequest"));

  // Roles_Assign over a group: not a way to Intune Administrator, nor past its own scope.
  auto assigner_role =
      hub_.post(kRoles, role_body("Assigner", {kRolesRead, kRolesAssign, kDevicesRead}), admin_);
  ASSERT_EQ(assigner_role.status, 201) << assigner_role;
  std::string assigners = make_group("Assigners");
  std::string ada = make_user("ada@reach.test", true);
  add_member(assigners, ada);
  ASSERT_EQ(hub_.post(kAssignments,
                      assignment_body("Assigners", assigner_role.str("id"), assigners,
                                      "resourceScope", {group_a_}),
                      admin_)
                .status,
            201);
  std::string ta = hub_.create_token("ada@reach.test");
  EXPECT_TRUE(IsGraphError(
      hub_.post(kAssignments, assignment_body("Mine", admin_role_, assigners, "allDevices"), ta),
      403, "accessDenied"));
  auto viewer = hub_.post(kRoles, role_body("Viewer", {kDevicesRead}), admin_);
  ASSERT_EQ(viewer.status, 201) << viewer;
  EXPECT_TRUE(IsGraphError(
      hub_.post(kAssignments, assignment_body("Wider", viewer.str("id"), scratch_, "allDevices"),
                ta),
      403, "accessDenied"));
  auto within = hub_.post(
      kAssignments,
      assignment_body("Within", viewer.str("id"), scratch_, "resourceScope", {group_a_}), ta);
  ASSERT_EQ(within.status, 201) << within;
  // …and an assignment it may make cannot be widened afterwards.
  EXPECT_TRUE(IsGraphError(hub_.patch(kAssignments + "/" + within.str("id"),
                                      bj::object{{"scopeType", "allDevices"}}, ta),
                           403, "accessDenied"));
  EXPECT_TRUE(IsGraphError(hub_.patch(kAssignments + "/" + within.str("id"),
                                      bj::object{{"roleDefinitionId", admin_role_}}, ta),
                           403, "accessDenied"));
  EXPECT_EQ(hub_.get(kDevices, ta).value().size(), 1u) << "still only device one, in group A";
}

// The RBAC table (issue 20): for each built-in role, and for a custom role holding each single
// action (over all devices), what its holder may change in roles, assignments, users, groups and
// the connector. Every expectation follows from two rules: the action is needed, and what is
// given to others must be held by the giver over the same scope.
TEST_F(HubRbac, WhatEachRoleMayChange) {
  ASSERT_EQ(hub_.patch("/v1.0/deviceManagement/remoteAssistancePartners/"
                       "6f0c1bde-5a43-4c1e-9a6e-7d3b8e2f0a11",
                       bj::object{{"displayName", "Reach relay"}}, admin_)
                .status,
            200);
  // Targets: an Intune Administrator (another than the test's own) in a group of their own, a
  // role granting Devices_Read to assign, a user with no rights.
  std::string boss = make_user("boss@reach.test", true);
  std::string bosses = make_group("Bosses");
  add_member(bosses, boss);
  assign("Bosses", {bosses}, {}, "allDevices", {"roleDefinitionId", admin_role_});
  auto viewer = hub_.post(kRoles, role_body("Table viewer", {kDevicesRead}), admin_);
  ASSERT_EQ(viewer.status, 201);
  std::string viewer_id = viewer.str("id");
  ASSERT_FALSE(HasFailure());

  struct Holder {
    std::string name;
    std::vector<std::string> actions;
    std::string role_id;  // built-in, or made here
  };
  std::vector<Holder> holders = {
      {"Intune Administrator", kAllActions, admin_role_},
      {"Help Desk Operator",
       {kDevicesRead, kOrgRead, kRaRead, "Microsoft.Intune_RemoteTasks_RequestRemoteAssistance"},
       help_desk_role_},
      {"Read Only Operator",
       {kDevicesRead, kOrgRead, kRolesRead, kAuditRead, kRaRead},
       "d12b9e51-1bd5-4a9d-9c8a-0b1e8e0e0d5f"}};
  for (const auto& a : kAllActions) {
    auto r = hub_.post(kRoles, role_body("Only " + a.substr(a.find('_') + 1), {a}), admin_);
    ASSERT_EQ(r.status, 201) << r;
    holders.push_back({"custom: " + a, {a}, r.str("id")});
  }

  struct Op {
    std::string what;
    // The status of the attempt by the holder with token `t`, index `k`.
    std::function<int(const std::string& t, int k, const std::string& own_group)> run;
    std::function<bool(const std::set<std::string>& held)> allowed;
    int ok;
  };
  auto has = [](const std::set<std::string>& h, const char* a) { return h.count(a) > 0; };
  auto all = [](const std::set<std::string>& h) { return h.size() == kAllActions.size(); };
  std::vector<Op> ops = {
      {"create a role granting Devices_Read",
       [&](const std::string& t, int k, const std::string&) {
         return hub_.post(kRoles, role_body("New " + std::to_string(k), {kDevicesRead}), t).status;
       },
       [&](const auto& h) { return has(h, kRolesCreate) && has(h, kDevicesRead); }, 201},
      {"add Audit_Read to an unassigned role",
       [&](const std::string& t, int k, const std::string&) {
         auto r =
             hub_.post(kRoles, role_body("Target " + std::to_string(k), {kDevicesRead}), admin_);
         return hub_
             .patch(kRoles + "/" + r.str("id"),
                    role_body("Target " + std::to_string(k), {kDevicesRead, kAuditRead}), t)
             .status;
       },
       [&](const auto& h) { return has(h, kRolesUpdate) && has(h, kAuditRead); }, 200},
      {"delete an unassigned role",
       [&](const std::string& t, int k, const std::string&) {
         auto r =
             hub_.post(kRoles, role_body("Doomed " + std::to_string(k), {kDevicesRead}), admin_);
         return hub_.del(kRoles + "/" + r.str("id"), t).status;
       },
       [&](const auto& h) { return has(h, kRolesDelete); }, 204},
      {"assign Intune Administrator to their own group",
       [&](const std::string& t, int k, const std::string& own) {
         return hub_
             .post(kAssignments,
                   assignment_body("Self " + std::to_string(k), admin_role_, own, "allDevices"), t)
             .status;
       },
       [&](const auto& h) { return all(h); }, 201},
      {"assign a Devices_Read role over all devices",
       [&](const std::string& t, int k, const std::string&) {
         return hub_
             .post(
                 kAssignments,
                 assignment_body("Viewers " + std::to_string(k), viewer_id, scratch_, "allDevices"),
                 t)
             .status;
       },
       [&](const auto& h) { return has(h, kRolesAssign) && has(h, kDevicesRead); }, 201},
      {"create a user",
       [&](const std::string& t, int k, const std::string&) {
         return hub_
             .post("/v1.0/users",
                   bj::object{{"displayName", "New"},
                              {"userPrincipalName", "new" + std::to_string(k) + "@reach.test"},
                              {"accountEnabled", true},
                              {"passwordProfile", bj::object{{"password", "New-Passw0rd-1"}}}},
                   t)
             .status;
       },
       [&](const auto& h) { return has(h, kOrgUpdate); }, 201},
      {"rename a user who holds no rights",
       [&](const std::string& t, int k, const std::string&) {
         return hub_
             .patch("/v1.0/users/" + none_,
                    bj::object{{"displayName", "None " + std::to_string(k)}}, t)
             .status;
       },
       [&](const auto& h) { return has(h, kOrgUpdate); }, 204},
      {"reset an Intune Administrator's password",
       [&](const std::string& t, int, const std::string&) {
         return hub_
             .patch("/v1.0/users/" + boss,
                    bj::object{{"passwordProfile", bj::object{{"password", "Taken-Over-123"}}}}, t)
             .status;
       },
       [&](const auto& h) { return all(h); }, 204},
      {"create a group",
       [&](const std::string& t, int k, const std::string&) {
         return hub_.post("/v1.0/groups", bj::object{{"displayName", "G" + std::to_string(k)}}, t)
             .status;
       },
       [&](const auto& h) { return has(h, kOrgUpdate); }, 201},
      {"join the Intune Administrators' group",
       [&](const std::string& t, int k, const std::string&) {
         auto me = hub_.get("/v1.0/me", t);
         (void)k;
         return hub_
             .post("/v1.0/groups/" + bosses + "/members/$ref",
                   bj::object{{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" +
                                                me.str("id")}},
                   t)
             .status;
       },
       [&](const auto& h) { return all(h); }, 204},
      {"change the connector",
       [&](const std::string& t, int, const std::string&) {
         return hub_
             .patch(
                 "/v1.0/deviceManagement/remoteAssistancePartners/"
                 "6f0c1bde-5a43-4c1e-9a6e-7d3b8e2f0a11",
                 bj::object{{"displayName", "Reach relay"}}, t)
             .status;
       },
       [&](const auto& h) { return has(h, kRaUpdate); }, 200},
      {"read the connector",
       [&](const std::string& t, int, const std::string&) {
         return hub_.get("/v1.0/deviceManagement/remoteAssistancePartners", t).status;
       },
       [&](const auto& h) { return has(h, kRaRead); }, 200},
  };

  int k = 0;
  for (const auto& holder : holders) {
    ++k;
    std::string upn = "holder" + std::to_string(k) + "@reach.test";
    std::string user = make_user(upn, true);
    std::string group = make_group("Holders " + std::to_string(k));
    add_member(group, user);
    assign("Holders " + std::to_string(k), {group}, {}, "allDevices",
           {"roleDefinitionId", holder.role_id});
    std::string t = hub_.create_token(upn);
    ASSERT_FALSE(HasFailure()) << holder.name;
    std::set<std::string> held(holder.actions.begin(), holder.actions.end());
    for (const auto& op : ops) {
      int status = op.run(t, k, group);
      int expected = op.allowed(held) ? op.ok : 403;
      EXPECT_EQ(status, expected) << holder.name << " may" << (op.allowed(held) ? "" : " not")
                                  << ": " << op.what;
    }
  }
}

// Issue 20, finding 5: the audit log follows scope. The notes editors hold Audit_Read over group
// A (device one): they read what happened to device one, and nothing about device two, the
// users, the roles or the connector. A grant over all devices reads everything.
TEST_F(HubRbac, TheAuditLogFollowsTheReadersScope) {
  ASSERT_EQ(hub_.patch(kDevices + "/" + d2_, bj::object{{"notes", "about two"}}, admin_).status,
            200);
  ASSERT_EQ(hub_.patch(kDevices + "/" + d1_, bj::object{{"notes", "about one"}}, admin_).status,
            200);
  auto scoped = hub_.get("/api/audit?$top=1000", t_custom_);
  ASSERT_EQ(scoped.status, 200) << scoped;
  std::set<std::string> activities;
  for (const auto& v : scoped.value()) {
    const auto& e = v.as_object();
    const auto& target = e.at("target").as_object();
    EXPECT_EQ(str_of(target, "type"), "managedDevice") << bj::serialize(e);
    EXPECT_EQ(str_of(target, "id"), d1_) << bj::serialize(e);
    activities.insert(str_of(e, "activity"));
  }
  EXPECT_TRUE(activities.count("enrollDevice")) << scoped;
  EXPECT_TRUE(activities.count("updateManagedDevice")) << scoped;
  EXPECT_EQ(scoped.body.find(d2_), std::string::npos);
  EXPECT_EQ(scoped.body.find("DEV-TWO"), std::string::npos);
  // A $filter cannot widen it.
  auto widened =
      hub_.get("/api/audit?$filter=target/id%20eq%20'" + d2_ + "'%20or%20target/type%20eq%20'user'",
               t_custom_);
  ASSERT_EQ(widened.status, 200) << widened;
  EXPECT_EQ(widened.value().size(), 0u) << widened;
  // The administrator (all devices) reads everything.
  auto everything = hub_.get("/api/audit?$top=1000", admin_);
  EXPECT_NE(everything.body.find("DEV-TWO"), std::string::npos);
  EXPECT_NE(everything.body.find("createUser"), std::string::npos);
}

}  // namespace
}  // namespace reach::itest
