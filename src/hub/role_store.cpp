#include "hub/role_store.h"

#include <fmt/format.h>

#include <map>

namespace reach::hub {
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

}  // namespace reach::hub
