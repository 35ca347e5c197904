// Intune RBAC resources: role definitions and role assignments.
#include "common/crypto.h"
#include "common/time.h"
#include "hub/internal.h"
#include "hub/odata.h"
#include "hub/role_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace reach::hub {
namespace {

bj::object role_json(const RoleDefinition& role) {
  auto acts = json::parse(role.allowed_actions_json);
  bj::object ra{{"@odata.type", "microsoft.graph.resourceAction"},
                {"allowedResourceActions", acts ? *acts : bj::array{}},
                {"notAllowedResourceActions", bj::array{}}};
  bj::object perm{{"@odata.type", "microsoft.graph.rolePermission"},
                  {"resourceActions", bj::array{std::move(ra)}}};
  return bj::object{{"@odata.type", "#microsoft.graph.deviceAndAppManagementRoleDefinition"},
                    {"id", role.id},
                    {"displayName", role.display_name},
                    {"description", role.description.value_or("")},
                    {"rolePermissions", bj::array{std::move(perm)}},
                    {"isBuiltIn", role.built_in},
                    {"isBuiltInRoleDefinition", role.built_in},
                    {"roleScopeTagIds", bj::array{"0"}}};
}

// Reads rolePermissions[].resourceActions[].allowedResourceActions; every action must be known.
Result<std::vector<std::string>> actions_from(const bj::value& v) {
  if (!v.is_array()) return bad_request("Property 'rolePermissions' must be an array.");
  std::vector<std::string> out;
  for (const auto& perm : v.as_array()) {
    if (!perm.is_object()) return bad_request("Each rolePermission must be an object.");
    const auto& po = perm.as_object();
    auto it = po.find("resourceActions");
    if (it == po.end() || !it->value().is_array())
      return bad_request("Each rolePermission needs a 'resourceActions' array.");
    for (const auto& ra : it->value().as_array()) {
      if (!ra.is_object()) return bad_request("Each resourceAction must be an object.");
      const auto& rao = ra.as_object();
      if (auto na = rao.find("notAllowedResourceActions");
          na != rao.end() && na->value().is_array() && !na->value().as_array().empty())
        return bad_request("'notAllowedResourceActions' is not supported; leave it empty.");
      auto al = rao.find("allowedResourceActions");
      if (al == rao.end()) continue;
      auto list = json::string_array(al->value(), "allowedResourceActions");
      if (!list) return list.error();
      for (auto& a : *list) {
        const auto& known = actions::all();
        if (std::find(known.begin(), known.end(), a) == known.end())
          return bad_request(fmt::format("Unknown resource action '{}'.", a));
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
      }
    }
  }
  return out;
}

// The scope of every assignment of role `role_id`.
Result<std::vector<Grant>> scopes_of_role(store::Session& s, const std::string& role_id) {
  auto all = all_assignments(s);
  if (!all) return all.error();
  std::vector<Grant> out;
  for (const auto& a : *all)
    if (a.role_definition_id == role_id) out.push_back(scope_grant(a.scope_type, a.scopes));
  return out;
}

// An assignment gives its role's actions to its members over its scope: only a caller who holds
// them over that scope may make it, or change its role, members or scope.
Status check_can_assign(Ctx& ctx, store::Session& s, const std::string& role_id,
                        std::string_view scope_type, const std::vector<std::string>& scopes) {
  auto role = find_role(s, role_id);
  if (!role) return role.error();
  return check_can_grant(ctx, actions_of(role->allowed_actions_json),
                         {scope_grant(scope_type, scopes)});
}

std::string actions_text(const std::vector<std::string>& acts) {
  bj::array a;
  for (const auto& s : acts) a.emplace_back(s);
  return json::serialize(a);
}

Result<net::Response> list_roles(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesRead); !g) return g.error();
  auto roles = all_roles(ctx.db());
  if (!roles) return roles.error();
  bj::array value;
  for (const auto& role : *roles) value.push_back(role_json(role));
  return json_response(
      200, bj::object{{"@odata.context", ctx.context_url("deviceManagement/roleDefinitions")},
                      {"value", std::move(value)}});
}

Result<net::Response> get_role(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesRead); !g) return g.error();
  auto row = find_role(ctx.db(), ctx.req.params["id"]);
  if (!row) return row.error();
  return entity_response(ctx, role_json(*row), "deviceManagement/roleDefinitions/$entity");
}

Result<net::Response> create_role(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesCreate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(
          *body, {"displayName", "description", "rolePermissions", "isBuiltIn", "roleScopeTagIds"});
      !st)
    return st.error();
  auto name = json::req_string(*body, "displayName");
  if (!name) return name.error();
  auto desc = json::opt_string(*body, "description");
  if (!desc) return desc.error();
  auto builtin = json::opt_bool(*body, "isBuiltIn");
  if (!builtin) return builtin.error();
  if (builtin->value_or(false)) return bad_request("Custom roles cannot be built in.");
  auto it = body->find("rolePermissions");
  if (it == body->end()) return bad_request("Property 'rolePermissions' is required.");
  auto acts = actions_from(it->value());
  if (!acts) return acts.error();
  if (auto held = check_can_grant(ctx, *acts, {}); !held) return held.error();
  std::string id = crypto::uuid_v4();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = insert_role(s, id, *name, *desc, actions_text(*acts), now_ms()); !r) return r;
    return audit(
        s, ctx,
        {"createRoleDefinition", "success", "roleDefinition", id, *name,
         bj::object{{"allowedResourceActions", json::parse(actions_text(*acts)).value()}}});
  });
  if (!st) return st.error();
  auto row = find_role(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, role_json(*row), "deviceManagement/roleDefinitions/$entity", 201);
}

Result<net::Response> handle_update_role(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesUpdate); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  if (auto st = json::only_keys(*body, {"displayName", "description", "rolePermissions"}); !st)
    return st.error();
  auto existing = find_role(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  if (existing->built_in) return bad_request("Built-in roles cannot be changed.");
  auto name = json::opt_string(*body, "displayName");
  if (!name) return name.error();
  if (*name && (*name)->empty()) return bad_request("Property 'displayName' cannot be empty.");
  auto desc = json::opt_string(*body, "description");
  if (!desc) return desc.error();
  std::optional<std::string> acts_text;
  if (auto it = body->find("rolePermissions"); it != body->end()) {
    auto acts = actions_from(it->value());
    if (!acts) return acts.error();
    // What the change adds reaches every member of every assignment of the role, over its
    // scope: the caller must hold it over each of those scopes.
    auto before = actions_of(existing->allowed_actions_json);
    std::vector<std::string> added;
    for (const auto& a : *acts)
      if (std::find(before.begin(), before.end(), a) == before.end()) added.push_back(a);
    if (!added.empty()) {
      auto scopes = scopes_of_role(ctx.db(), existing->id);
      if (!scopes) return scopes.error();
      if (auto held = check_can_grant(ctx, added, *scopes); !held) return held.error();
    }
    acts_text = actions_text(*acts);
  }
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = update_role(s, existing->id, *name, *desc, acts_text); !r) return r;
    return audit(s, ctx,
                 {"updateRoleDefinition",
                  "success",
                  "roleDefinition",
                  existing->id,
                  name->value_or(existing->display_name),
                  {}});
  });
  if (!st) return st.error();
  auto row = find_role(ctx.db(), existing->id);
  if (!row) return row.error();
  return entity_response(ctx, role_json(*row), "deviceManagement/roleDefinitions/$entity");
}

Result<net::Response> handle_delete_role(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesDelete); !g) return g.error();
  auto existing = find_role(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  if (existing->built_in) return bad_request("Built-in roles cannot be deleted.");
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = delete_role(s, existing->id); !r) return r;
    return audit(s, ctx,
                 {"deleteRoleDefinition",
                  "success",
                  "roleDefinition",
                  existing->id,
                  existing->display_name,
                  {}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

// ---------------------------------------------------------------- assignments

constexpr const char* kScopeTypes[] = {"resourceScope", "allDevices", "allLicensedUsers",
                                       "allDevicesAndLicensedUsers"};

bj::object assignment_json(const RoleAssignment& a) {
  bj::array members(a.members.begin(), a.members.end());
  bj::array scopes(a.scopes.begin(), a.scopes.end());
  return bj::object{{"@odata.type", "#microsoft.graph.deviceAndAppManagementRoleAssignment"},
                    {"id", a.id},
                    {"displayName", a.display_name},
                    {"description", a.description.value_or("")},
                    {"members", std::move(members)},
                    {"resourceScopes", scopes},
                    {"scopeMembers", scopes},
                    {"scopeType", a.scope_type},
                    {"roleDefinitionId", a.role_definition_id},
                    {"roleScopeTagIds", bj::array{"0"}}};
}

// "…/roleDefinitions('ID')" or "…/roleDefinitions/ID" → ID
std::string id_from_bind(std::string_view url) {
  auto pos = url.rfind("roleDefinitions");
  if (pos == std::string_view::npos) return {};
  auto rest = url.substr(pos + 15);
  if (rest.starts_with("('") && rest.ends_with("')"))
    return std::string(rest.substr(2, rest.size() - 4));
  if (rest.starts_with("/")) return std::string(rest.substr(1));
  return {};
}

Result<AssignmentChanges> read_assignment(store::Session& s, const bj::object& body, bool create) {
  if (auto st = json::only_keys(
          body, {"displayName", "description", "members", "resourceScopes", "scopeMembers",
                 "scopeType", "roleDefinitionId", "roleScopeTagIds", "roleDefinition@odata.bind"});
      !st)
    return st.error();
  AssignmentChanges in;
  auto name = json::opt_string(body, "displayName");
  if (!name) return name.error();
  in.display_name = *name;
  auto desc = json::opt_string(body, "description");
  if (!desc) return desc.error();
  in.description = *desc;
  auto rid = json::opt_string(body, "roleDefinitionId");
  if (!rid) return rid.error();
  in.role_definition_id = *rid;
  if (auto it = body.find("roleDefinition@odata.bind"); it != body.end()) {
    if (!it->value().is_string()) return bad_request("'roleDefinition@odata.bind' must be a URL.");
    auto id = id_from_bind(it->value().as_string());
    if (id.empty()) return bad_request("'roleDefinition@odata.bind' must name a role definition.");
    in.role_definition_id = id;
  }
  auto st_ = json::opt_string(body, "scopeType");
  if (!st_) return st_.error();
  if (*st_) {
    bool ok = false;
    for (auto t : kScopeTypes) ok = ok || **st_ == t;
    if (!ok) return bad_request(fmt::format("'{}' is not a valid scopeType.", **st_));
    in.scope_type = *st_;
  }
  for (const char* key : {"members", "resourceScopes", "scopeMembers"}) {
    auto it = body.find(key);
    if (it == body.end()) continue;
    auto list = json::string_array(it->value(), key);
    if (!list) return list.error();
    if (std::string_view(key) == "members")
      in.members = std::move(*list);
    else
      in.scopes = std::move(*list);
  }
  if (create) {
    if (!in.display_name || in.display_name->empty())
      return bad_request("Property 'displayName' is required.");
    if (!in.role_definition_id)
      return bad_request("Send 'roleDefinition@odata.bind' or 'roleDefinitionId'.");
    if (!in.members || in.members->empty())
      return bad_request("Property 'members' must name at least one user or group.");
  }
  if (in.role_definition_id) {
    auto r = find_role(s, *in.role_definition_id);
    if (!r)
      return bad_request(
          fmt::format("Role definition '{}' does not exist.", *in.role_definition_id));
  }
  if (in.members) {
    for (const auto& m : *in.members) {
      auto known = is_user_or_group(s, m);
      if (!known) return known.error();
      if (!*known) return bad_request(fmt::format("Member '{}' is not a user or group.", m));
    }
  }
  if (in.scopes) {
    for (const auto& g : *in.scopes) {
      auto known = is_group(s, g);
      if (!known) return known.error();
      if (!*known) return bad_request(fmt::format("Scope group '{}' does not exist.", g));
    }
  }
  return in;
}

Result<net::Response> list_assignments(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesRead); !g) return g.error();
  auto all = all_assignments(ctx.db());
  if (!all) return all.error();
  bj::array value;
  for (const auto& a : *all) value.push_back(assignment_json(a));
  return json_response(
      200, bj::object{{"@odata.context", ctx.context_url("deviceManagement/roleAssignments")},
                      {"value", std::move(value)}});
}

Result<net::Response> get_assignment(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesRead); !g) return g.error();
  auto row = find_assignment(ctx.db(), ctx.req.params["id"]);
  if (!row) return row.error();
  return entity_response(ctx, assignment_json(*row), "deviceManagement/roleAssignments/$entity");
}

Result<net::Response> get_assignment_role(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesRead); !g) return g.error();
  auto row = find_assignment(ctx.db(), ctx.req.params["id"]);
  if (!row) return row.error();
  auto role = find_role(ctx.db(), row->role_definition_id);
  if (!role) return role.error();
  return entity_response(ctx, role_json(*role), "deviceManagement/roleDefinitions/$entity");
}

Result<net::Response> create_assignment(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesAssign); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  std::string id = crypto::uuid_v4();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto in = read_assignment(s, *body, true);
    if (!in) return in.error();
    if (auto held = check_can_assign(ctx, s, *in->role_definition_id,
                                     in->scope_type.value_or("resourceScope"),
                                     in->scopes.value_or(std::vector<std::string>{}));
        !held)
      return held;
    if (auto r = insert_assignment(s, id, *in, now_ms()); !r) return r;
    return audit(s, ctx,
                 {"createRoleAssignment", "success", "roleAssignment", id, *in->display_name,
                  bj::object{{"roleDefinitionId", *in->role_definition_id}}});
  });
  if (!st) return st.error();
  auto row = find_assignment(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, assignment_json(*row), "deviceManagement/roleAssignments/$entity",
                         201);
}

Result<net::Response> handle_update_assignment(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesAssign); !g) return g.error();
  auto body = json::parse_object(ctx.req.body);
  if (!body) return body.error();
  auto existing = find_assignment(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  std::string id = existing->id;
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    auto in = read_assignment(s, *body, false);
    if (!in) return in.error();
    if (in->display_name && in->display_name->empty())
      return bad_request("Property 'displayName' cannot be empty.");
    if (in->members && in->members->empty())
      return bad_request("Property 'members' must name at least one user or group.");
    if (in->role_definition_id || in->members || in->scopes || in->scope_type) {
      if (auto held = check_can_assign(
              ctx, s, in->role_definition_id.value_or(existing->role_definition_id),
              in->scope_type.value_or(existing->scope_type), in->scopes.value_or(existing->scopes));
          !held)
        return held;
    }
    if (auto r = update_assignment(s, id, *in); !r) return r;
    return audit(s, ctx,
                 {"updateRoleAssignment",
                  "success",
                  "roleAssignment",
                  id,
                  in->display_name.value_or(existing->display_name),
                  {}});
  });
  if (!st) return st.error();
  auto row = find_assignment(ctx.db(), id);
  if (!row) return row.error();
  return entity_response(ctx, assignment_json(*row), "deviceManagement/roleAssignments/$entity");
}

Result<net::Response> handle_delete_assignment(Ctx& ctx) {
  if (auto g = require(ctx, actions::kRolesAssign); !g) return g.error();
  auto existing = find_assignment(ctx.db(), ctx.req.params["id"]);
  if (!existing) return existing.error();
  auto st = ctx.db().transaction([&](store::Session& s) -> Status {
    if (auto r = delete_assignment(s, existing->id); !r) return r;
    return audit(s, ctx,
                 {"deleteRoleAssignment",
                  "success",
                  "roleAssignment",
                  existing->id,
                  existing->display_name,
                  {}});
  });
  if (!st) return st.error();
  return net::Response::empty(204);
}

}  // namespace

void register_role_routes(Routes& r) {
  r.graph("GET", "/deviceManagement/roleDefinitions", list_roles);
  r.graph("POST", "/deviceManagement/roleDefinitions", create_role);
  r.graph("GET", "/deviceManagement/roleDefinitions/{id}", get_role);
  r.graph("PATCH", "/deviceManagement/roleDefinitions/{id}", handle_update_role);
  r.graph("DELETE", "/deviceManagement/roleDefinitions/{id}", handle_delete_role);
  r.graph("GET", "/deviceManagement/roleAssignments", list_assignments);
  r.graph("POST", "/deviceManagement/roleAssignments", create_assignment);
  r.graph("GET", "/deviceManagement/roleAssignments/{id}", get_assignment);
  r.graph("PATCH", "/deviceManagement/roleAssignments/{id}", handle_update_assignment);
  r.graph("DELETE", "/deviceManagement/roleAssignments/{id}", handle_delete_assignment);
  r.graph("GET", "/deviceManagement/roleAssignments/{id}/roleDefinition", get_assignment_role);
}

}  // namespace reach::hub
