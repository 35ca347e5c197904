// The directory as a store: users (Graph `user`) and groups (Graph `group`), their columns read
// in one place and mapped to structs, the look-ups, and their Graph representations.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reach::hub {

struct User {
  std::string id, display_name, user_principal_name;
  std::optional<std::string> mail;
  bool account_enabled = false;
  bool licensed = false;  // holds the Reach licence (remote assistance)
  std::int64_t created_at = 0;
};

// The columns user_of() reads, in its order (for lists that select them themselves).
inline constexpr const char* kUserColumns =
    "id, display_name, user_principal_name, mail, account_enabled, licensed, created_at";
User user_of(const store::Row& r);

// By id or by user principal name (case-insensitive); 404 when there is none.
Result<User> find_user(store::Session& s, std::string_view id_or_upn);

// A sign-in's look-up: the user and their password hash (nullopt without a password), or
// nullopt when nobody has that name.
struct UserCredential {
  User user;
  std::optional<std::string> password_hash;
};
Result<std::optional<UserCredential>> find_credential(store::Session& s, std::string_view upn);

// Who presents a credential, by its SHA-256: a sign-in session's cookie (until it expires) or
// an API token (until it is revoked). nullopt when neither is known. The one place each is
// checked; the caller refuses a disabled account.
Result<std::optional<User>> find_user_by_signin_session(store::Session& s,
                                                        const std::string& token_hash,
                                                        std::int64_t now);
Result<std::optional<User>> find_user_by_api_token(store::Session& s,
                                                   const std::string& token_hash);

// microsoft.graph.user
boost::json::object user_json(const User& u);

// The organisation (one row, written by `reach-hub init`).
struct Organization {
  std::string id, display_name;
  bool allow_unlicensed_admins = false;  // may administrators without a licence act?
};
// not_found before `init`.
Result<Organization> find_organization(store::Session& s);

struct Group {
  std::string id, display_name;
  std::optional<std::string> description;
  std::int64_t created_at = 0;
};

// The columns group_of() reads, in its order.
inline constexpr const char* kGroupColumns = "id, display_name, description, created_at";
Group group_of(const store::Row& r);

// By id; 404 when there is none.
Result<Group> find_group(store::Session& s, std::string_view id);

// microsoft.graph.group (security groups only)
boost::json::object group_json(const Group& g);

// A page of users or groups in id order: those after `after_id` (the last one shown), at most
// `top`; and how many there are in all.
Result<std::vector<User>> users_page(store::Session& s, const std::optional<std::string>& after_id,
                                     int top);
Result<std::vector<Group>> groups_page(store::Session& s,
                                       const std::optional<std::string>& after_id, int top);
Result<std::int64_t> count_users(store::Session& s);
Result<std::int64_t> count_groups(store::Session& s);

// A group's members, each kind in id order.
struct MemberDevice {
  std::string id, device_name, operating_system;
  std::optional<std::string> os_version;
};
struct GroupMembers {
  std::vector<User> users;
  std::vector<MemberDevice> devices;
};
Result<GroupMembers> group_members(store::Session& s, const std::string& group_id);

// --- writes, within the caller's transaction

Status insert_organization(store::Session& s, const Organization& o, std::int64_t created_at);
// nullopt leaves a field as it is.
Status update_organization(store::Session& s, const std::optional<std::string>& display_name,
                           std::optional<bool> allow_unlicensed_admins);
// An API token for `user_id` (its SHA-256 and its id, which the audit names).
Status insert_api_token(store::Session& s, const std::string& token_hash, const std::string& id,
                        const std::string& user_id, std::int64_t created_at);

// A sign-in session (the cookie's token, hashed) until `expires_at`; expired ones are swept.
Status insert_signin_session(store::Session& s, const std::string& token_hash,
                             const std::string& user_id, std::int64_t now, std::int64_t expires_at);
Status delete_signin_session(store::Session& s, const std::string& token_hash);

struct NewUser {
  std::string id, display_name, user_principal_name, mail;
  std::optional<std::string> password_hash;
  bool account_enabled = true;
  std::int64_t created_at = 0;
};
// conflict when the user principal name is taken (case-insensitively).
Status insert_user(store::Session& s, const NewUser& u);
// nullopt leaves a field as it is.
struct UserChanges {
  std::optional<std::string> display_name, mail, password_hash;
  std::optional<bool> account_enabled;
};
Status update_user(store::Session& s, const std::string& id, const UserChanges& c);
// Ends the user's sign-in sessions and revokes their API tokens.
Status revoke_user_credentials(store::Session& s, const std::string& id);
Status set_licensed(store::Session& s, const std::string& id, bool licensed);
// The user, their memberships and role assignments; their devices stay, without a user.
Status delete_user(store::Session& s, const std::string& id);

Status insert_group(store::Session& s, const Group& g);
// nullopt leaves a field as it is.
Status update_group(store::Session& s, const std::string& id,
                    const std::optional<std::string>& display_name,
                    const std::optional<std::string>& description);
// The group, its members, the assignments it is a member of and the scopes it is.
Status delete_group(store::Session& s, const std::string& id);

// "user" or "device" for the id of one, nullopt for neither.
Result<std::optional<std::string>> directory_object_type(store::Session& s, const std::string& id);
// conflict when it is a member already.
Status add_group_member(store::Session& s, const std::string& group_id,
                        const std::string& member_id, const std::string& member_type);
// not_found when it is not a member.
Status remove_group_member(store::Session& s, const std::string& group_id,
                           const std::string& member_id);

}  // namespace reach::hub
