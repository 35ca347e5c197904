// Operations run by the reach-relay command line directly on a data directory.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <memory>
#include <optional>
#include <string>

namespace reach::relay {

struct InitResult {
  std::string account_id;
  std::string password;
  bool password_generated = false;
};
// Creates the data directory (0700), its secret key, the database and the first supporter
// account. Refuses a directory that is already initialised.
// With `db_url` (postgresql://…), the data lives in that database and the directory records where.
Result<InitResult> init_data_dir(const std::string& data_dir, const std::string& email,
                                 std::optional<std::string> password,
                                 const std::string& db_url = {});

// The database and secret key of an initialised data directory.
struct Opened {
  std::shared_ptr<store::Database> db;
  std::string key;
};
// `db_url` overrides the database the directory records.
Result<Opened> open_initialised(const std::string& data_dir, const std::string& db_url = {});

struct ClientCredentials {
  std::string client_id, client_secret;
};
// Registers an OAuth application (exact redirect URI).
Result<ClientCredentials> add_client(const std::string& data_dir, const std::string& name,
                                     const std::string& redirect_uri);

// A long-lived script token for the account with this email.
Result<std::string> create_script_token(const std::string& data_dir, const std::string& email);
// Withdraws every grant an application holds (its access and refresh tokens stop working);
// returns how many grants were revoked.
Result<int> revoke_grants(const std::string& data_dir, const std::string& client_id);

// Adds a supporter account (used by tests and by administrators).
Result<std::string> add_account(const std::string& data_dir, const std::string& email,
                                const std::string& password, const std::string& name);

}  // namespace reach::relay
