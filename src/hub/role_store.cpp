#include "hub/role_store.h"

#include "common/json.h"

#include <fmt/format.h>

#include <map>

namespace reach::hub {

std::vector<std::string> actions_of(std::string_view allowed_actions_json) {
  std::vector<std::string> out;
  auto acts = json::parse(allowed_actions_json);
  if (acts && acts->is_array())
    for (const auto& a : acts->as_array())
      if (a.is_string()) out.emplace_back(a.as_string());
  return out;
}
namespace {

constexpr const char* kRoleColumns =
    "id, display_name, description, is_built_in, allowed_actions, created_at";
constexpr const char* kAssignmentColumns =
    "id, display_name, description, role_definition_id, scope_type";

RoleDefinition role_of(const store::Row& r) {
  return RoleDefinition{r.text(0), r.text(1), r.opt_text(2), r.boolean(3), r.text(4), r.integer(5)};
}

RoleAssignment assignment_of(const store::Row& r) {
  RoleAssignment a;
  a.id = r.text(0);
  a.display_name = r.text(1);
  a.description = r.opt_text(2);
  a.role_definition_id = r.text(3);
  a.scope_type = r.text(4);
  return a;
}

// Fills the members and scopes of `all` (sorted by group id), for `one` assignment or all.
Status load_groups(store::Session& s, std::vector<RoleAssignment>& all,
                   std::optional<std::string_view> one) {
  std::map<std::string, RoleAssignment*, std::less<>> by_id;
  for (auto& a : all) by_id[a.id] = &a;
  struct Part {
    const char* table;
    const char* column;
    std::vector<std::string> RoleAssignment::*into;
  };
  for (const Part& p : {Part{"role_assignment_members", "member_id", &RoleAssignment::members},
                        Part{"role_assignment_scopes", "group_id", &RoleAssignment::scopes}}) {
    std::string sql = fmt::format("SELECT assignment_id, {} FROM {}", p.column, p.table);
    store::Params params;
    if (one) {
      sql += " WHERE assignment_id = ?";
      params.emplace_back(*one);
    }
    auto rows = s.query(sql + fmt::format(" ORDER BY {}", p.column), params);
    if (!rows) return rows.error();
    for (const auto& r : rows->rows)
      if (auto it = by_id.find(r.text(0)); it != by_id.end())
        (it->second->*p.into).push_back(r.text(1));
  }
  return {};
}

}  // namespace

Result<RoleDefinition> find_role(store::Session& s, std::string_view id) {
  auto rows =
      s.query(fmt::format("SELECT {} FROM role_definitions WHERE id = ?", kRoleColumns), {id});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(fmt::format("Role definition '{}' does not exist.", id));
  return role_of(rows->rows[0]);
}

Result<std::vector<RoleDefinition>> all_roles(store::Session& s) {
  auto rows = s.query(fmt::format(
      "SELECT {} FROM role_definitions ORDER BY is_built_in DESC, display_name", kRoleColumns));
  if (!rows) return rows.error();
  std::vector<RoleDefinition> out;
  for (const auto& r : rows->rows) out.push_back(role_of(r));
  return out;
}

Result<RoleAssignment> find_assignment(store::Session& s, std::string_view id) {
  auto rows = s.query(
      fmt::format("SELECT {} FROM role_assignments WHERE id = ?", kAssignmentColumns), {id});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(fmt::format("Role assignment '{}' does not exist.", id));
  std::vector<RoleAssignment> one{assignment_of(rows->rows[0])};
  if (auto st = load_groups(s, one, id); !st) return st.error();
  return std::move(one.front());
}

Result<std::vector<RoleAssignment>> all_assignments(store::Session& s) {
  auto rows =
      s.query(fmt::format("SELECT {} FROM role_assignments ORDER BY id", kAssignmentColumns));
  if (!rows) return rows.error();
  std::vector<RoleAssignment> out;
  for (const auto& r : rows->rows) out.push_back(assignment_of(r));
  if (auto st = load_groups(s, out, std::nullopt); !st) return st.error();
  return out;
}

Result<std::vector<HeldAssignment>> assignments_held_by(store::Session& s,
                                                        const std::string& user_id) {
  // One row per assignment and scope group (one with a NULL group when it has none).
  auto rows = s.query(
      "SELECT ra.id, ra.scope_type, rd.allowed_actions, sc.group_id FROM role_assignments ra"
      " JOIN role_definitions rd ON rd.id = ra.role_definition_id"
      " LEFT JOIN role_assignment_scopes sc"
      "  ON sc.assignment_id = ra.id AND ra.scope_type = 'resourceScope'"
      " WHERE ra.id IN (SELECT assignment_id FROM role_assignment_members"
      "  WHERE member_id = ? OR member_id IN"
      "   (SELECT group_id FROM group_members WHERE member_id = ?))"
      " ORDER BY ra.id, sc.group_id",
      {user_id, user_id});
  if (!rows) return rows.error();
  std::vector<HeldAssignment> out;
  for (const auto& r : rows->rows) {
    if (out.empty() || out.back().id != r.text(0))
      out.push_back({r.text(0), r.text(1), r.text(2), {}});
    if (!r.null(3)) out.back().scopes.push_back(r.text(3));
  }
  return out;
}

Status insert_role(store::Session& s, const std::string& id, const std::string& display_name,
                   const std::optional<std::string>& description,
                   const std::string& allowed_actions_json, std::int64_t created_at) {
  return store::exec_ok(s,
                        "INSERT INTO role_definitions (id, display_name, description, is_built_in,"
                        " allowed_actions, created_at) VALUES (?, ?, ?, 0, ?, ?)",
                        {id, display_name, description, allowed_actions_json, created_at});
}

Status update_role(store::Session& s, const std::string& id,
                   const std::optional<std::string>& display_name,
                   const std::optional<std::string>& description,
                   const std::optional<std::string>& allowed_actions_json) {
  return store::exec_ok(s,
                        "UPDATE role_definitions SET display_name = COALESCE(?, display_name),"
                        " description = COALESCE(?, description),"
                        " allowed_actions = COALESCE(?, allowed_actions) WHERE id = ?",
                        {display_name, description, allowed_actions_json, id});
}

Status delete_role(store::Session& s, const std::string& id) {
  auto used = store::query_int(
      s, "SELECT COUNT(*) FROM role_assignments WHERE role_definition_id = ?", {id});
  if (!used) return used.error();
  if (*used > 0) return conflict("The role is assigned; delete its role assignments first.");
  return store::exec_ok(s, "DELETE FROM role_definitions WHERE id = ?", {id});
}

namespace {

// Replaces an assignment's members or scopes with `ids` (given: nullopt changes nothing).
Status replace_list(store::Session& s, const char* table, const char* column, const std::string& id,
                    const std::optional<std::vector<std::string>>& ids) {
  if (!ids) return {};
  if (auto r =
          store::exec_ok(s, fmt::format("DELETE FROM {} WHERE assignment_id = ?", table), {id});
      !r)
    return r;
  for (const auto& x : *ids)
    if (auto r = store::exec_ok(
            s,
            fmt::format("INSERT INTO {} (assignment_id, {}) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        table, column),
            {id, x});
        !r)
      return r;
  return {};
}

Status write_lists(store::Session& s, const std::string& id, const AssignmentChanges& a) {
  if (auto r = replace_list(s, "role_assignment_members", "member_id", id, a.members); !r) return r;
  return replace_list(s, "role_assignment_scopes", "group_id", id, a.scopes);
}

}  // namespace

Status insert_assignment(store::Session& s, const std::string& id, const AssignmentChanges& a,
                         std::int64_t created_at) {
  if (auto r = store::exec_ok(
          s,
          "INSERT INTO role_assignments (id, display_name, description, role_definition_id,"
          " scope_type, created_at) VALUES (?, ?, ?, ?, ?, ?)",
          {id, a.display_name, a.description, a.role_definition_id,
           a.scope_type.value_or("resourceScope"), created_at});
      !r)
    return r;
  return write_lists(s, id, a);
}

Status update_assignment(store::Session& s, const std::string& id, const AssignmentChanges& a) {
  if (auto r =
          store::exec_ok(s,
                         "UPDATE role_assignments SET display_name = COALESCE(?, display_name),"
                         " description = COALESCE(?, description),"
                         " role_definition_id = COALESCE(?, role_definition_id),"
                         " scope_type = COALESCE(?, scope_type) WHERE id = ?",
                         {a.display_name, a.description, a.role_definition_id, a.scope_type, id});
      !r)
    return r;
  return write_lists(s, id, a);
}

Status delete_assignment(store::Session& s, const std::string& id) {
  for (const char* sql : {"DELETE FROM role_assignment_members WHERE assignment_id = ?",
                          "DELETE FROM role_assignment_scopes WHERE assignment_id = ?",
                          "DELETE FROM role_assignments WHERE id = ?"})
    if (auto r = store::exec_ok(s, sql, {id}); !r) return r;
  return {};
}

Result<bool> is_user_or_group(store::Session& s, const std::string& id) {
  return store::exists(
      s, "SELECT id FROM users WHERE id = ? UNION SELECT id FROM groups_ WHERE id = ?", {id, id});
}

Result<bool> is_group(store::Session& s, const std::string& id) {
  return store::exists(s, "SELECT id FROM groups_ WHERE id = ?", {id});
}

Status upsert_builtin_role(store::Session& s, const std::string& id,
                           const std::string& display_name, const std::string& description,
                           const std::string& allowed_actions_json, std::int64_t created_at) {
  return store::exec_ok(
      s,
      "INSERT INTO role_definitions (id, display_name, description, is_built_in,"
      " allowed_actions, created_at) VALUES (?, ?, ?, 1, ?, ?)"
      " ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,"
      " description = excluded.description, allowed_actions = excluded.allowed_actions",
      {id, display_name, description, allowed_actions_json, created_at});
}

Result<bool> group_in_assignments(store::Session& s, const std::string& group_id) {
  return store::exists(s,
                       "SELECT 1 FROM role_assignment_members WHERE member_id = ?"
                       " UNION SELECT 1 FROM role_assignment_scopes WHERE group_id = ?",
                       {group_id, group_id});
}

}  // namespace reach::hub
