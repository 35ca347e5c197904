// Intune RBAC as a store: role definitions and role assignments (with their members and scope
// groups), their columns read in one place and mapped to structs. Handlers keep who may change
// them and their Graph representations.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reach::hub {

struct RoleDefinition {
  std::string id, display_name;
  std::optional<std::string> description;
  bool built_in = false;
  std::string allowed_actions_json;  // a JSON array of action names, as stored
  std::int64_t created_at = 0;
};

// The action names of a role's allowed_actions_json, as the store wrote them (anything else in
// it is skipped).
std::vector<std::string> actions_of(std::string_view allowed_actions_json);

// By id; 404 when there is none.
Result<RoleDefinition> find_role(store::Session& s, std::string_view id);
// Every role, built-in ones first, then by name.
Result<std::vector<RoleDefinition>> all_roles(store::Session& s);

struct RoleAssignment {
  std::string id, display_name;
  std::optional<std::string> description;
  std::string role_definition_id, scope_type;
  std::vector<std::string> members;  // group ids, sorted
  std::vector<std::string> scopes;   // group ids, sorted (scopeType resourceScope)
};

// By id, with its members and scopes; 404 when there is none.
Result<RoleAssignment> find_assignment(store::Session& s, std::string_view id);
// Every assignment by id, with their members and scopes (three queries, not one per assignment).
Result<std::vector<RoleAssignment>> all_assignments(store::Session& s);

// What a user holds: each assignment whose members name the user or a group the user is in,
// with its role's actions and, when scoped to groups (resourceScope), those groups. One query.
struct HeldAssignment {
  std::string id, scope_type;
  std::string allowed_actions_json;  // the role's, as stored
  std::vector<std::string> scopes;   // group ids (scopeType resourceScope)
};
Result<std::vector<HeldAssignment>> assignments_held_by(store::Session& s,
                                                        const std::string& user_id);

// --- writes, within the caller's transaction

// A custom role (built-in ones are written at start-up, rbac.cpp).
Status insert_role(store::Session& s, const std::string& id, const std::string& display_name,
                   const std::optional<std::string>& description,
                   const std::string& allowed_actions_json, std::int64_t created_at);
// nullopt leaves a field as it is.
Status update_role(store::Session& s, const std::string& id,
                   const std::optional<std::string>& display_name,
                   const std::optional<std::string>& description,
                   const std::optional<std::string>& allowed_actions_json);
// conflict while an assignment uses it.
Status delete_role(store::Session& s, const std::string& id);

// The fields of an assignment; on an update nullopt leaves one as it is, and members or scopes
// given replace the old ones.
struct AssignmentChanges {
  std::optional<std::string> display_name, description, role_definition_id, scope_type;
  std::optional<std::vector<std::string>> members, scopes;
};
Status insert_assignment(store::Session& s, const std::string& id, const AssignmentChanges& a,
                         std::int64_t created_at);
Status update_assignment(store::Session& s, const std::string& id, const AssignmentChanges& a);
Status delete_assignment(store::Session& s, const std::string& id);

// A built-in role as this release defines it (inserted, or its name, description and actions
// brought up to date).
Status upsert_builtin_role(store::Session& s, const std::string& id,
                           const std::string& display_name, const std::string& description,
                           const std::string& allowed_actions_json, std::int64_t created_at);
// Whether a role assignment names the group as a member or as a scope.
Result<bool> group_in_assignments(store::Session& s, const std::string& group_id);

// Whether `id` names a user or a group (an assignment's member), or a group (a scope).
Result<bool> is_user_or_group(store::Session& s, const std::string& id);
Result<bool> is_group(store::Session& s, const std::string& id);

}  // namespace reach::hub
