// Authorization by role assignment and scope (SPEC §4.3).
#include "common/log.h"
#include "common/time.h"
#include "hub/internal.h"
#include "hub/role_store.h"

#include <fmt/format.h>

#include <algorithm>

namespace reach::hub {

const std::vector<std::string>& actions::all() {
  static const std::vector<std::string> kAll = {kDevicesRead,
                                                kDevicesUpdate,
                                                kOrgRead,
                                                kOrgUpdate,
                                                kRolesRead,
                                                kRolesCreate,
                                                kRolesUpdate,
                                                kRolesDelete,
                                                kRolesAssign,
                                                kEnrollmentTokensCreate,
                                                kAuditRead,
                                                kRemoteAssistanceRead,
                                                kRemoteAssistanceUpdate,
                                                kRequestRemoteAssistance,
                                                kSendCustomNotification};
  return kAll;
}

Status seed_builtin_roles(store::Session& s) {
  std::vector<std::string> read_only;
  for (const auto& a : actions::all())
    if (a.ends_with("_Read")) read_only.push_back(a);
  struct Builtin {
    const char* id;
    const char* name;
    const char* description;
    std::vector<std::string> actions;
  };
  const Builtin builtins[] = {
      {kIntuneAdministratorRoleId, "Intune Administrator",
       "Full access to every management and remote assistance action.", actions::all()},
      {kHelpDeskOperatorRoleId,
       "Help Desk Operator",
       "Reads devices and users, reads the remote assistance connector and requests remote "
       "assistance for devices in scope.",
       {actions::kDevicesRead, actions::kOrgRead, actions::kRemoteAssistanceRead,
        actions::kRequestRemoteAssistance}},
      {kReadOnlyOperatorRoleId, "Read Only Operator",
       "Reads devices, users, roles, the connector and the audit log; changes nothing.", read_only},
  };
  for (const auto& b : builtins) {
    bj::array acts;
    for (const auto& a : b.actions) acts.emplace_back(a);
    if (auto r =
            upsert_builtin_role(s, b.id, b.name, b.description, json::serialize(acts), now_ms());
        !r)
      return r;
  }
  return {};
}

Result<Grant> require(Ctx& ctx, std::string_view action) {
  auto g = find_grant(ctx, action);
  if (!g) return g.error();
  if (!*g) {
    log::info("authz.denied",
              {{"user", ctx.who().user_id}, {"action", action}, {"path", ctx.req.path}});
    return forbidden(fmt::format(
        "You do not have permission for this request: it needs a role that grants {}.", action));
  }
  return **g;
}

Result<std::optional<Grant>> find_grant(Ctx& ctx, std::string_view action) {
  const Principal& p = ctx.who();
  if (!p.licensed) {
    auto org = find_organization(ctx.reads());
    if (!org) return org.error();
    if (!org->allow_unlicensed_admins) {
      return forbidden(
          "You hold no Reach licence. Ask an administrator to assign one, or to allow "
          "unlicensed administrators in the organisation settings.");
    }
  }
  if (!ctx.grants) {
    auto all = grants_of(ctx.reads(), p.user_id);
    if (!all) return all.error();
    ctx.grants = std::move(*all);
  }
  auto it = ctx.grants->find(std::string(action));
  if (it == ctx.grants->end()) return std::optional<Grant>();
  return std::optional<Grant>(it->second);
}

Grant scope_grant(std::string_view scope_type, const std::vector<std::string>& scopes) {
  Grant g;
  g.all_devices = scope_type == "allDevices" || scope_type == "allDevicesAndLicensedUsers";
  g.licensed_users = scope_type == "allLicensedUsers" || scope_type == "allDevicesAndLicensedUsers";
  if (scope_type == "resourceScope") g.scope_groups = scopes;
  return g;
}

Result<std::map<std::string, Grant>> grants_of(store::Session& s, const std::string& user_id) {
  auto held = assignments_held_by(s, user_id);
  if (!held) return held.error();
  std::map<std::string, Grant> out;
  for (const auto& a : *held) {
    Grant g = scope_grant(a.scope_type, a.scopes);
    for (const auto& act : actions_of(a.allowed_actions_json)) {
      auto& merged = out[act];
      merged.all_devices = merged.all_devices || g.all_devices;
      merged.licensed_users = merged.licensed_users || g.licensed_users;
      merged.scope_groups.insert(merged.scope_groups.end(), g.scope_groups.begin(),
                                 g.scope_groups.end());
    }
  }
  return out;
}

namespace {

// Whether `wide` reaches every device `narrow` reaches (scope groups compared as sets).
bool covers(const Grant& wide, const Grant& narrow) {
  if (wide.all_devices) return true;
  if (narrow.all_devices || (narrow.licensed_users && !wide.licensed_users)) return false;
  return std::all_of(narrow.scope_groups.begin(), narrow.scope_groups.end(), [&](const auto& g) {
    return std::find(wide.scope_groups.begin(), wide.scope_groups.end(), g) !=
           wide.scope_groups.end();
  });
}

Status needs_roles_assign(Ctx& ctx, std::string_view why) {
  auto g = find_grant(ctx, actions::kRolesAssign);
  if (!g) return g.error();
  if (*g) return {};
  log::info("authz.denied",
            {{"user", ctx.who().user_id}, {"action", actions::kRolesAssign}, {"why", why}});
  return forbidden(fmt::format("{} needs a role that grants {}.", why, actions::kRolesAssign));
}

}  // namespace

Status check_can_grant(Ctx& ctx, const std::vector<std::string>& granted,
                       const std::vector<Grant>& scopes) {
  for (const auto& action : granted) {
    auto mine = find_grant(ctx, action);
    if (!mine) return mine.error();
    bool held =
        mine->has_value() && std::all_of(scopes.begin(), scopes.end(),
                                         [&](const Grant& scope) { return covers(**mine, scope); });
    if (!held) {
      log::info("authz.escalation_refused", {{"user", ctx.who().user_id}, {"action", action}});
      return forbidden(fmt::format(
          "You can only give others what you hold yourself: {} is not yours over this scope.",
          action));
    }
  }
  return {};
}

Status check_user_change(Ctx& ctx, const std::string& user_id) {
  auto target = grants_of(ctx.db(), user_id);
  if (!target) return target.error();
  // Whoever could change this user's password could act as them: only someone who holds all
  // they hold (Roles_Assign is no way around it: it too only gives what its holder holds).
  for (const auto& [action, grant] : *target)
    if (auto st = check_can_grant(ctx, {action}, {grant}); !st)
      return forbidden(fmt::format(
          "You cannot change a user who holds rights you do not: {} over a wider scope.", action));
  return {};
}

Status check_group_change(Ctx& ctx, const std::string& group_id) {
  auto used = group_in_assignments(ctx.db(), group_id);
  if (!used) return used.error();
  if (!*used) return {};
  if (auto st = needs_roles_assign(ctx, "Changing a group that a role assignment uses"); !st)
    return st;
  // Its members gain, or its scope reaches, what each assignment that uses it gives.
  auto all = all_assignments(ctx.db());
  if (!all) return all.error();
  for (const auto& a : *all) {
    bool uses = std::find(a.members.begin(), a.members.end(), group_id) != a.members.end() ||
                std::find(a.scopes.begin(), a.scopes.end(), group_id) != a.scopes.end();
    if (!uses) continue;
    auto role = find_role(ctx.db(), a.role_definition_id);
    if (!role) return role.error();
    if (auto st = check_can_grant(ctx, actions_of(role->allowed_actions_json),
                                  {scope_grant(a.scope_type, a.scopes)});
        !st)
      return st;
  }
  return {};
}

std::string device_scope_sql(const Grant& g, store::Params& params) {
  if (g.all_devices) return "(1 = 1)";
  std::vector<std::string> parts;
  if (!g.scope_groups.empty()) {
    std::string marks;
    for (std::size_t i = 0; i < g.scope_groups.size(); ++i) marks += i ? ", ?" : "?";
    parts.push_back(fmt::format(
        "d.id IN (SELECT member_id FROM group_members WHERE group_id IN ({0}))"
        " OR d.user_id IN (SELECT member_id FROM group_members WHERE group_id IN ({0}))",
        marks));
    for (int pass = 0; pass < 2; ++pass)
      for (const auto& gid : g.scope_groups) params.emplace_back(gid);
  }
  if (g.licensed_users) parts.push_back("d.user_id IN (SELECT id FROM users WHERE licensed = 1)");
  if (parts.empty()) return "(1 = 0)";
  std::string out = "(";
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? " OR " : "") + parts[i];
  return out + ")";
}

Status check_device_scope(Ctx& ctx, const Grant& g, const std::string& id) {
  store::Params params{id};
  std::string scope = device_scope_sql(g, params);
  auto in = ctx.db().query("SELECT 1 FROM devices d WHERE d.id = ? AND " + scope, params);
  if (!in) return in.error();
  if (in->empty()) return forbidden("The device is outside the scope of your role assignments.");
  return {};
}

}  // namespace reach::hub
