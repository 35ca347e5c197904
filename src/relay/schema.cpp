#include "relay/schema.h"

namespace reach::relay {

const std::vector<store::Migration>& migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1,
       "initial",
       {
           "CREATE TABLE accounts ("
           " id TEXT PRIMARY KEY, email TEXT NOT NULL, email_key TEXT NOT NULL UNIQUE,"
           " name TEXT NOT NULL, company_name TEXT NOT NULL, password_hash TEXT NOT NULL,"
           " created_at BIGINT NOT NULL)",

           "CREATE TABLE web_sessions ("
           " token_hash TEXT PRIMARY KEY,"
           " account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
           " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL)",

           "CREATE TABLE oauth_clients ("
           " client_id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, name TEXT NOT NULL,"
           " redirect_uri TEXT NOT NULL, created_at BIGINT NOT NULL)",

           "CREATE TABLE oauth_grants ("
           " id TEXT PRIMARY KEY, client_id TEXT NOT NULL REFERENCES oauth_clients(client_id),"
           " account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
           " created_at BIGINT NOT NULL, revoked_at BIGINT)",

           "CREATE TABLE oauth_codes ("
           " code_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL REFERENCES oauth_grants(id),"
           " redirect_uri TEXT NOT NULL, code_challenge TEXT,"
           " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT)",

           // kind: access | refresh | script. grant_id is NULL for script tokens.
           "CREATE TABLE tokens ("
           " token_hash TEXT PRIMARY KEY, kind TEXT NOT NULL, grant_id TEXT,"
           " account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
           " created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,"
           " used_at BIGINT, revoked_at BIGINT)",
           "CREATE INDEX tokens_grant ON tokens (grant_id)",

           "CREATE TABLE groups_ ("
           " id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id)"
           " ON DELETE CASCADE, name TEXT NOT NULL, created_at BIGINT NOT NULL)",
           "CREATE UNIQUE INDEX groups_name ON groups_ (account_id, name)",

           // Link tokens are kept sealed (to show the links again) and hashed (to look them up).
           "CREATE TABLE sessions ("
           " code TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id)"
           " ON DELETE CASCADE, group_id TEXT NOT NULL REFERENCES groups_(id),"
           " state TEXT NOT NULL, description TEXT NOT NULL, end_customer_name TEXT,"
           " end_customer_email TEXT, waiting_message TEXT, custom_api TEXT,"
           " assigned_userid TEXT NOT NULL, support_session_type TEXT NOT NULL,"
           " supporter_token_hash TEXT NOT NULL UNIQUE, supporter_token_sealed TEXT NOT NULL,"
           " customer_token_hash TEXT NOT NULL UNIQUE, customer_token_sealed TEXT NOT NULL,"
           " created_at BIGINT NOT NULL, valid_until BIGINT NOT NULL, closed_at BIGINT,"
           " close_reason TEXT, device_connected_at BIGINT, supporter_connected_at BIGINT)",
           "CREATE INDEX sessions_account ON sessions (account_id, created_at)",
       }},
      {2,
       "code join only for portal sessions",
       {
           // 1: the device may join with the code alone (a portal session); 0: only with the
           // end-customer link. Sessions made before this are link-only: the safe side.
           "ALTER TABLE sessions ADD COLUMN code_join INTEGER NOT NULL DEFAULT 0",
       }},
      {3,
       "several nodes: the node that owns a session's streams",
       {
           // The nodes sharing this store and the URL that reaches each directly; a node's row
           // goes when another node finds it dead (src/relay/nodes.h).
           "CREATE TABLE relay_nodes (name TEXT PRIMARY KEY, url TEXT NOT NULL,"
           " started_at BIGINT NOT NULL)",
           // The node both streams of the session meet on; NULL until one end arrives.
           "ALTER TABLE sessions ADD COLUMN owner_node TEXT",
           "CREATE INDEX sessions_owner ON sessions (owner_node)",
       }},
      {4,
       "throttles in the store, shared by every node",
       {
           // store::StoredThrottle: wrong sign-ins and wrong session codes or links, by hashed
           // key (an email, a client's network, a code).
           "CREATE TABLE throttles ("
           " scope TEXT NOT NULL, key_hash TEXT NOT NULL, failures INTEGER NOT NULL,"
           " blocked_until BIGINT NOT NULL, last_failure BIGINT NOT NULL,"
           " refusal_noted_for BIGINT NOT NULL, PRIMARY KEY (scope, key_hash))",
           "CREATE INDEX throttles_age ON throttles (scope, last_failure)",
       }},
  };
  return kMigrations;
}

}  // namespace reach::relay
