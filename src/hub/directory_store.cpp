#include "hub/directory_store.h"

#include "common/strings.h"
#include "common/time.h"
#include "hub/internal.h"

#include <fmt/format.h>

namespace reach::hub {

User user_of(const store::Row& r) {
  User u;
  u.id = r.text(0);
  u.display_name = r.text(1);
  u.user_principal_name = r.text(2);
  u.mail = r.opt_text(3);
  u.account_enabled = r.boolean(4);
  u.licensed = r.boolean(5);
  u.created_at = r.integer(6);
  return u;
}

Result<User> find_user(store::Session& s, std::string_view id_or_upn) {
  auto rows = s.query(fmt::format("SELECT {} FROM users WHERE id = ? OR upn_key = ?", kUserColumns),
                      {id_or_upn, to_lower(std::string(id_or_upn))});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(fmt::format("User '{}' does not exist.", id_or_upn));
  return user_of(rows->rows[0]);
}

Result<std::optional<UserCredential>> find_credential(store::Session& s, std::string_view upn) {
  return store::query_one(
      s, fmt::format("SELECT {}, password_hash FROM users WHERE upn_key = ?", kUserColumns),
      {to_lower(std::string(upn))}, [](const store::Row& r) {
        return UserCredential{user_of(r), r.opt_text(7)};
      });
}

Result<std::optional<User>> find_user_by_signin_session(store::Session& s,
                                                        const std::string& token_hash,
                                                        std::int64_t now) {
  return store::query_one(s,
                          fmt::format("SELECT {} FROM users WHERE id ="
                                      " (SELECT user_id FROM sessions"
                                      "  WHERE token_hash = ? AND expires_at > ?)",
                                      kUserColumns),
                          {token_hash, now}, user_of);
}

Result<std::optional<User>> find_user_by_api_token(store::Session& s,
                                                   const std::string& token_hash) {
  return store::query_one(s,
                          fmt::format("SELECT {} FROM users WHERE id ="
                                      " (SELECT user_id FROM api_tokens WHERE token_hash = ?)",
                                      kUserColumns),
                          {token_hash}, user_of);
}

Result<Organization> find_organization(store::Session& s) {
  auto org =
      store::query_one(s, "SELECT id, display_name, allow_unlicensed_admins FROM organization", {},
                       [](const store::Row& r) {
                         return Organization{r.text(0), r.text(1), r.boolean(2)};
                       });
  if (!org) return org.error();
  if (!*org) return not_found("The organisation is not initialised.");
  return std::move(**org);
}

Status insert_organization(store::Session& s, const Organization& o, std::int64_t created_at) {
  return store::exec_ok(s,
                        "INSERT INTO organization (id, display_name, allow_unlicensed_admins,"
                        " created_at) VALUES (?, ?, ?, ?)",
                        {o.id, o.display_name, o.allow_unlicensed_admins, created_at});
}

Status update_organization(store::Session& s, const std::optional<std::string>& display_name,
                           std::optional<bool> allow_unlicensed_admins) {
  return store::exec_ok(s,
                        "UPDATE organization SET display_name = COALESCE(?, display_name),"
                        " allow_unlicensed_admins = COALESCE(?, allow_unlicensed_admins)",
                        {display_name, allow_unlicensed_admins});
}

Status insert_api_token(store::Session& s, const std::string& token_hash, const std::string& id,
                        const std::string& user_id, std::int64_t created_at) {
  return store::exec_ok(
      s, "INSERT INTO api_tokens (token_hash, id, user_id, created_at) VALUES (?, ?, ?, ?)",
      {token_hash, id, user_id, created_at});
}

bj::object user_json(const User& u) {
  bj::array licenses;
  if (u.licensed)
    licenses.push_back(bj::object{{"disabledPlans", bj::array{}}, {"skuId", kReachSkuId}});
  return bj::object{{"@odata.type", "#microsoft.graph.user"},
                    {"id", u.id},
                    {"displayName", u.display_name},
                    {"userPrincipalName", u.user_principal_name},
                    {"mail", u.mail ? bj::value(*u.mail) : bj::value()},
                    {"accountEnabled", u.account_enabled},
                    {"assignedLicenses", std::move(licenses)},
                    {"createdDateTime", iso8601(u.created_at)}};
}

Group group_of(const store::Row& r) {
  return Group{r.text(0), r.text(1), r.opt_text(2), r.integer(3)};
}

Result<Group> find_group(store::Session& s, std::string_view id) {
  auto rows = s.query(fmt::format("SELECT {} FROM groups_ WHERE id = ?", kGroupColumns), {id});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found(fmt::format("Group '{}' does not exist.", id));
  return group_of(rows->rows[0]);
}

namespace {

// A page of `table` in id order, each row read by `map`.
template <class Map>
auto id_page(store::Session& s, std::string_view table, std::string_view columns,
             const std::optional<std::string>& after_id, int top, Map map)
    -> Result<std::vector<std::invoke_result_t<Map&, const store::Row&>>> {
  std::string sql = fmt::format("SELECT {} FROM {}", columns, table);
  store::Params params;
  if (after_id) {
    sql += " WHERE id > ?";
    params.emplace_back(*after_id);
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(top);
  auto rows = s.query(sql, params);
  if (!rows) return rows.error();
  std::vector<std::invoke_result_t<Map&, const store::Row&>> out;
  out.reserve(rows->rows.size());
  for (const auto& r : rows->rows) out.push_back(map(r));
  return out;
}

Result<std::int64_t> count_of(store::Session& s, std::string_view table) {
  return store::query_int(s, fmt::format("SELECT COUNT(*) FROM {}", table));
}

}  // namespace

Result<std::vector<User>> users_page(store::Session& s, const std::optional<std::string>& after_id,
                                     int top) {
  return id_page(s, "users", kUserColumns, after_id, top, user_of);
}

Result<std::vector<Group>> groups_page(store::Session& s,
                                       const std::optional<std::string>& after_id, int top) {
  return id_page(s, "groups_", kGroupColumns, after_id, top, group_of);
}

Result<std::int64_t> count_users(store::Session& s) {
  return count_of(s, "users");
}

Result<std::int64_t> count_groups(store::Session& s) {
  return count_of(s, "groups_");
}

Result<GroupMembers> group_members(store::Session& s, const std::string& group_id) {
  GroupMembers out;
  auto users =
      s.query(fmt::format("SELECT {} FROM users WHERE id IN (SELECT member_id FROM group_members"
                          " WHERE group_id = ?) ORDER BY id",
                          kUserColumns),
              {group_id});
  if (!users) return users.error();
  for (const auto& r : users->rows) out.users.push_back(user_of(r));
  auto devices = s.query(
      "SELECT id, device_name, operating_system, os_version FROM devices WHERE id IN"
      " (SELECT member_id FROM group_members WHERE group_id = ?) ORDER BY id",
      {group_id});
  if (!devices) return devices.error();
  for (const auto& r : devices->rows)
    out.devices.push_back({r.text(0), r.text(1), r.text(2), r.opt_text(3)});
  return out;
}

bj::object group_json(const Group& g) {
  return bj::object{{"@odata.type", "#microsoft.graph.group"},
                    {"id", g.id},
                    {"displayName", g.display_name},
                    {"description", g.description ? bj::value(*g.description) : bj::value()},
                    {"createdDateTime", iso8601(g.created_at)},
                    {"securityEnabled", true},
                    {"mailEnabled", false}};
}

Status insert_user(store::Session& s, const NewUser& u) {
  return store::exec_ok(
      s,
      "INSERT INTO users (id, display_name, user_principal_name, upn_key, mail, password_hash,"
      " account_enabled, licensed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
      {u.id, u.display_name, u.user_principal_name, to_lower(u.user_principal_name), u.mail,
       u.password_hash, u.account_enabled, u.created_at});
}

Status update_user(store::Session& s, const std::string& id, const UserChanges& c) {
  return store::exec_ok(
      s,
      "UPDATE users SET display_name = COALESCE(?, display_name), mail = COALESCE(?, mail),"
      " account_enabled = COALESCE(?, account_enabled),"
      " password_hash = COALESCE(?, password_hash) WHERE id = ?",
      {c.display_name, c.mail, c.account_enabled, c.password_hash, id});
}

Status revoke_user_credentials(store::Session& s, const std::string& id) {
  for (const char* sql :
       {"DELETE FROM sessions WHERE user_id = ?", "DELETE FROM api_tokens WHERE user_id = ?"})
    if (auto r = store::exec_ok(s, sql, {id}); !r) return r;
  return {};
}

Status set_licensed(store::Session& s, const std::string& id, bool licensed) {
  return store::exec_ok(s, "UPDATE users SET licensed = ? WHERE id = ?", {licensed, id});
}

Status delete_user(store::Session& s, const std::string& id) {
  for (const char* sql :
       {"DELETE FROM group_members WHERE member_id = ?",
        "DELETE FROM role_assignment_members WHERE member_id = ?",
        "UPDATE devices SET user_id = NULL WHERE user_id = ?", "DELETE FROM users WHERE id = ?"})
    if (auto r = store::exec_ok(s, sql, {id}); !r) return r;
  return {};
}

Status insert_group(store::Session& s, const Group& g) {
  return store::exec_ok(
      s, "INSERT INTO groups_ (id, display_name, description, created_at) VALUES (?, ?, ?, ?)",
      {g.id, g.display_name, g.description, g.created_at});
}

Status update_group(store::Session& s, const std::string& id,
                    const std::optional<std::string>& display_name,
                    const std::optional<std::string>& description) {
  return store::exec_ok(s,
                        "UPDATE groups_ SET display_name = COALESCE(?, display_name),"
                        " description = COALESCE(?, description) WHERE id = ?",
                        {display_name, description, id});
}

Status delete_group(store::Session& s, const std::string& id) {
  for (const char* sql : {"DELETE FROM group_members WHERE group_id = ?",
                          "DELETE FROM role_assignment_members WHERE member_id = ?",
                          "DELETE FROM role_assignment_scopes WHERE group_id = ?",
                          "DELETE FROM groups_ WHERE id = ?"})
    if (auto r = store::exec_ok(s, sql, {id}); !r) return r;
  return {};
}

Result<std::optional<std::string>> directory_object_type(store::Session& s, const std::string& id) {
  auto rows = s.query(
      "SELECT 'user' FROM users WHERE id = ? UNION ALL SELECT 'device' FROM devices WHERE id = ?"
      " ORDER BY 1 DESC",
      {id, id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows->rows[0].text(0));
}

Status add_group_member(store::Session& s, const std::string& group_id,
                        const std::string& member_id, const std::string& member_type) {
  auto r = s.exec("INSERT INTO group_members (group_id, member_id, member_type) VALUES (?, ?, ?)",
                  {group_id, member_id, member_type});
  if (!r) {
    if (r.error().kind == Errc::conflict)
      return conflict("That object is already a member of the group.");
    return r.error();
  }
  return {};
}

Status remove_group_member(store::Session& s, const std::string& group_id,
                           const std::string& member_id) {
  auto r = s.exec("DELETE FROM group_members WHERE group_id = ? AND member_id = ?",
                  {group_id, member_id});
  if (!r) return r.error();
  if (*r == 0) return not_found("That object is not a member of the group.");
  return {};
}

Status insert_signin_session(store::Session& s, const std::string& token_hash,
                             const std::string& user_id, std::int64_t now,
                             std::int64_t expires_at) {
  if (auto r = store::exec_ok(s,
                              "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)"
                              " VALUES (?, ?, ?, ?)",
                              {token_hash, user_id, now, expires_at});
      !r)
    return r;
  // Expired sessions are swept here rather than by a timer.
  return store::exec_ok(s, "DELETE FROM sessions WHERE expires_at <= ?", {now});
}

Status delete_signin_session(store::Session& s, const std::string& token_hash) {
  return store::exec_ok(s, "DELETE FROM sessions WHERE token_hash = ?", {token_hash});
}

}  // namespace reach::hub
