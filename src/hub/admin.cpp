#include "hub/admin.h"

#include "common/crypto.h"
#include "common/strings.h"
#include "common/time.h"
#include "hub/hub.h"
#include "hub/internal.h"
#include "hub/role_store.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace reach::hub {
namespace {

Actor cli_actor() {
  Actor a;
  a.type = "system";
  a.name = "reach-hub command line";
  return a;
}

}  // namespace

Result<std::shared_ptr<store::Database>> open_initialised(const std::string& data_dir,
                                                          const std::string& db_url) {
  if (db_url.empty() && !store::has_database(data_dir, "hub.db"))
    return bad_request(fmt::format(
        "{} is not an initialised data directory; run 'reach-hub init --data {} --admin-email …'",
        data_dir, data_dir));
  auto db = open_database(data_dir, db_url);
  if (!db) return db.error();
  auto org = find_organization(**db);
  if (!org && org.error().kind == Errc::not_found)
    return bad_request(fmt::format("{} is not initialised; run 'reach-hub init' first", data_dir));
  if (!org) return org.error();
  return db;
}

Result<InitResult> init_data_dir(const std::string& data_dir, const std::string& admin_email,
                                 std::optional<std::string> password, const std::string& db_url) {
  if (admin_email.find('@') == std::string::npos || admin_email.size() > 320)
    return bad_request("--admin-email must be an email address");
  if (password && password->size() < 8)
    return bad_request("the administrator password must be at least 8 characters long");
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return internal_error(fmt::format("cannot create {}: {}", data_dir, ec.message()));
  ::chmod(data_dir.c_str(), 0700);
  if (auto key = crypto::load_or_create_key(data_dir + "/secret.key"); !key) return key.error();
  if (!db_url.empty()) {
    if (!store::Database::is_postgresql_url(db_url))
      return bad_request(
          "--db takes a postgresql:// URL (without it, the data directory holds "
          "an SQLite database)");
    if (store::has_database(data_dir, "hub.db"))
      return conflict(fmt::format("{} is already initialised", data_dir));
  }
  auto db = open_database(data_dir, db_url);
  if (!db) return db.error();
  if (!db_url.empty()) {
    if (auto st = store::remember_database_url(data_dir, db_url); !st) return st.error();
  }

  InitResult out;
  out.password_generated = !password;
  out.admin_password = password ? *password : crypto::random_token(18);
  std::string hash = crypto::password_hash(out.admin_password);
  out.organization_id = crypto::uuid_v4();
  out.admin_user_id = crypto::uuid_v4();
  auto now = now_ms();
  auto st = (*db)->transaction([&](store::Session& s) -> Status {
    auto org = find_organization(s);
    if (org) return conflict(fmt::format("{} is already initialised", data_dir));
    if (org.error().kind != Errc::not_found) return org.error();
    if (auto r = insert_organization(s, {out.organization_id, "Reach", false}, now); !r) return r;
    if (auto seeded = seed_builtin_roles(s); !seeded) return seeded;
    if (auto r = insert_user(
            s, {out.admin_user_id, "Administrator", admin_email, admin_email, hash, true, now});
        !r)
      return r;
    if (auto r = set_licensed(s, out.admin_user_id, true); !r) return r;
    AssignmentChanges admins;
    admins.display_name = "Organisation administrators";
    admins.description = "Created by reach-hub init.";
    admins.role_definition_id = kIntuneAdministratorRoleId;
    admins.scope_type = "allDevicesAndLicensedUsers";
    admins.members = std::vector<std::string>{out.admin_user_id};
    if (auto r = insert_assignment(s, crypto::uuid_v4(), admins, now); !r) return r;
    return audit(s, cli_actor(),
                 {"initialize", "success", "user", out.admin_user_id, admin_email, {}});
  });
  if (!st) return st.error();
  return out;
}

Result<std::string> create_api_token(const std::string& data_dir, const std::string& email) {
  auto db = open_initialised(data_dir);
  if (!db) return db.error();
  std::string token = "rht_" + crypto::random_token(32);
  auto st = (*db)->transaction([&](store::Session& s) -> Status {
    auto user = find_user(s, email);
    if (!user) return user.error();
    std::string id = crypto::uuid_v4();
    if (auto r = insert_api_token(s, crypto::sha256_hex(token), id, user->id, now_ms()); !r)
      return r;
    return audit(s, cli_actor(),
                 {"createApiToken", "success", "user", user->id, user->user_principal_name,
                  bj::object{{"tokenId", id}}});
  });
  if (!st) return st.error();
  return token;
}

Result<IssuedEnrollmentToken> create_enrollment_token(const std::string& data_dir,
                                                      std::optional<std::string> user_email,
                                                      std::string ownership, int valid_days) {
  auto db = open_initialised(data_dir);
  if (!db) return db.error();
  IssuedEnrollmentToken issued;
  auto st = (*db)->transaction([&](store::Session& s) -> Status {
    EnrollmentTokenSpec spec;
    spec.ownership = std::move(ownership);
    spec.valid_days = valid_days;
    if (user_email) {
      auto user = find_user(s, *user_email);
      if (!user) return user.error();
      spec.user_id = user->id;
    }
    auto t = issue_enrollment_token(s, spec);
    if (!t) return t.error();
    issued = std::move(*t);
    return audit(
        s, cli_actor(),
        {"createEnrollmentToken", "success", "enrollmentToken", issued.id, user_email.value_or(""),
         bj::object{{"deviceEnrollmentType", issued.enrollment_type},
                    {"ownership", spec.ownership}}});
  });
  if (!st) return st.error();
  return issued;
}

}  // namespace reach::hub

namespace reach::hub {
Status refresh_builtin_roles(store::Session& s) {
  return seed_builtin_roles(s);
}
Status set_connector(const std::string& data_dir, const std::string& relay_url,
                     const std::string& client_id, const std::string& client_secret) {
  auto db = open_initialised(data_dir);
  if (!db) return db.error();
  auto key = crypto::load_or_create_key(data_dir + "/secret.key");
  if (!key) return key.error();
  return (*db)->transaction([&](store::Session& s) -> Status {
    if (auto st = configure_connector(s, *key, relay_url, client_id, client_secret); !st) return st;
    return audit(s, cli_actor(),
                 {"updateRemoteAssistancePartner", "success", "remoteAssistancePartner", "", "",
                  bj::object{{"onboardingUrl", relay_url}, {"clientId", client_id}}});
  });
}

}  // namespace reach::hub
