// Operations run by the reach-hub command line directly on a data directory (no server needed;
// they are safe to run while `serve` is running: SQLite serialises writers).
#pragma once

#include "common/result.h"
#include "hub/enrollment.h"

#include <optional>
#include <string>

namespace reach::hub {

struct InitResult {
  std::string organization_id;
  std::string admin_user_id;
  std::string admin_password;  // as given or generated
  bool password_generated = false;
};

// Creates the data directory (0700), its secret key and database, the organisation, the
// built-in roles and the first administrator (licensed, Intune Administrator over everything).
// Refuses a data directory that is already initialised. With `db_url` (postgresql://…), the
// data lives in that database and the directory records where (store::remember_database_url).
Result<InitResult> init_data_dir(const std::string& data_dir, const std::string& admin_email,
                                 std::optional<std::string> password,
                                 const std::string& db_url = {});

// Opens an initialised data directory's database (error naming `reach-hub init` otherwise);
// `db_url` overrides the one the directory records.
Result<std::shared_ptr<store::Database>> open_initialised(const std::string& data_dir,
                                                          const std::string& db_url = {});

Result<std::string> create_api_token(const std::string& data_dir, const std::string& email);

Result<IssuedEnrollmentToken> create_enrollment_token(const std::string& data_dir,
                                                      std::optional<std::string> user_email,
                                                      std::string ownership, int valid_days);

// Points the remote assistance connector at a relay and its OAuth client (from `reach-relay
// client add`); an administrator then connects it (beginOnboarding).
Status set_connector(const std::string& data_dir, const std::string& relay_url,
                     const std::string& client_id, const std::string& client_secret);

}  // namespace reach::hub

namespace reach::hub {
// Brings the built-in role definitions up to date (run at every start).
Status refresh_builtin_roles(store::Session& s);
}  // namespace reach::hub
