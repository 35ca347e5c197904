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

// microsoft.graph.user
boost::json::object user_json(const User& u);

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

}  // namespace reach::hub
