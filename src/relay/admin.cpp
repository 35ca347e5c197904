#include "relay/admin.h"

#include "common/crypto.h"
#include "common/strings.h"
#include "common/time.h"
#include "relay/oauth_store.h"
#include "relay/relay.h"

#include <sodium.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace reach::relay {
namespace {

std::string new_account_id() {
  return "u" + std::to_string(1000000 + randombytes_uniform(9000000));
}

}  // namespace

Result<Opened> open_initialised(const std::string& data_dir, const std::string& db_url) {
  if ((db_url.empty() && !store::has_database(data_dir, "relay.db")) ||
      !std::filesystem::exists(data_dir + "/secret.key"))
    return bad_request(
        fmt::format("{} is not an initialised data directory; run 'reach-relay init --data {} "
                    "--admin-email …'",
                    data_dir, data_dir));
  auto key = crypto::load_or_create_key(data_dir + "/secret.key");
  if (!key) return key.error();
  auto db = open_database(data_dir, db_url);
  if (!db) return db.error();
  return Opened{*db, *key};
}

Result<std::string> add_account(const std::string& data_dir, const std::string& email,
                                const std::string& password, const std::string& name) {
  if (email.find('@') == std::string::npos || email.size() > 254)
    return bad_request("the email must be an email address");
  if (password.size() < 8) return bad_request("the password must be at least 8 characters long");
  auto opened = open_initialised(data_dir);
  if (!opened) return opened.error();
  std::string hash = crypto::password_hash(password);
  std::string id = new_account_id();
  auto r = insert_account(*opened->db, id, email, name, "Reach", hash, now_ms());
  if (!r) {
    if (r.error().kind == Errc::conflict)
      return conflict(fmt::format("{} already has an account", email));
    return r.error();
  }
  return id;
}

Result<InitResult> init_data_dir(const std::string& data_dir, const std::string& email,
                                 std::optional<std::string> password, const std::string& db_url) {
  if (email.find('@') == std::string::npos || email.size() > 254)
    return bad_request("--admin-email must be an email address");
  if (password && password->size() < 8)
    return bad_request("the password must be at least 8 characters long");
  if (!db_url.empty() && !store::Database::is_postgresql_url(db_url))
    return bad_request(
        "--db takes a postgresql:// URL (without it, the data directory holds "
        "an SQLite database)");
  if (store::has_database(data_dir, "relay.db"))
    return conflict(fmt::format("{} is already initialised", data_dir));
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return internal_error(fmt::format("cannot create {}: {}", data_dir, ec.message()));
  ::chmod(data_dir.c_str(), 0700);
  if (auto key = crypto::load_or_create_key(data_dir + "/secret.key"); !key) return key.error();
  auto db = open_database(data_dir, db_url);
  if (!db) return db.error();
  auto accounts = count_accounts(**db);
  if (!accounts) return accounts.error();
  if (*accounts > 0)
    return conflict(fmt::format("the database {} is already initialised", (*db)->describe()));
  if (!db_url.empty()) {
    if (auto st = store::remember_database_url(data_dir, db_url); !st) return st.error();
  }
  InitResult out;
  out.password_generated = !password;
  out.password = password ? *password : crypto::random_token(18);
  auto id = add_account(data_dir, email, out.password, "Administrator");
  if (!id) return id.error();
  out.account_id = *id;
  return out;
}

Result<ClientCredentials> add_client(const std::string& data_dir, const std::string& name,
                                     const std::string& redirect_uri) {
  if (name.empty() || name.size() > 100) return bad_request("--name must be 1 to 100 characters");
  if (!(redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://")) ||
      redirect_uri.find('#') != std::string::npos)
    return bad_request("--redirect-uri must be an absolute http(s) URL without a fragment");
  auto opened = open_initialised(data_dir);
  if (!opened) return opened.error();
  ClientCredentials c{
      std::to_string(100000 + randombytes_uniform(900000)) + "-" + crypto::random_token(15),
      crypto::random_token(32)};
  auto r = insert_client(*opened->db,
                         {c.client_id, name, redirect_uri, crypto::sha256_hex(c.client_secret)},
                         now_ms());
  if (!r) return r.error();
  return c;
}

Result<std::string> create_script_token(const std::string& data_dir, const std::string& email) {
  auto opened = open_initialised(data_dir);
  if (!opened) return opened.error();
  auto found = find_account_credential(*opened->db, email);
  if (!found) return found.error();
  if (!*found) return not_found(fmt::format("no account has the email {}", email));
  std::string account = (*found)->id;
  std::string token = account.substr(1) + "-" + crypto::random_token(24);
  auto now = now_ms();
  auto r = insert_token(*opened->db, crypto::sha256_hex(token), "script", std::nullopt, account,
                        now, now + std::int64_t{10} * 365 * 24 * 3600 * 1000);
  if (!r) return r.error();
  return token;
}

Result<int> revoke_grants(const std::string& data_dir, const std::string& client_id) {
  auto opened = open_initialised(data_dir);
  if (!opened) return opened.error();
  int revoked = 0;
  auto st = opened->db->transaction([&](store::Session& s) -> Status {
    auto c = find_client(s, client_id);
    if (!c) return c.error();
    if (!*c) return not_found(fmt::format("no application has the client id {}", client_id));
    auto r = revoke_client_grants(s, client_id, now_ms());
    if (!r) return r.error();
    revoked = static_cast<int>(*r);
    return {};
  });
  if (!st) return st.error();
  return revoked;
}

}  // namespace reach::relay
