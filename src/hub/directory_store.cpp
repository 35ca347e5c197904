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

bj::object group_json(const Group& g) {
  return bj::object{{"@odata.type", "#microsoft.graph.group"},
                    {"id", g.id},
                    {"displayName", g.display_name},
                    {"description", g.description ? bj::value(*g.description) : bj::value()},
                    {"createdDateTime", iso8601(g.created_at)},
                    {"securityEnabled", true},
                    {"mailEnabled", false}};
}

}  // namespace reach::hub
