// A relay session as the store keeps it (a `sessions` row with its group's name): the one place
// that knows the columns, their order and their types. A new field is one edit here and one in
// the migrations.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reach::relay {

struct SessionRecord {
  std::string code, state;  // state: open | closed
  std::string group_id, group_name, description;
  std::optional<std::string> end_customer_name, end_customer_email, waiting_message, custom_api;
  std::string assigned_userid, support_session_type;
  std::string supporter_token_sealed, customer_token_sealed;  // the links' tokens, sealed
  std::int64_t created_at = 0, valid_until = 0;
  std::optional<std::int64_t> closed_at;
  std::optional<std::string> close_reason;
  std::string account_id;
  std::optional<std::string> owner_node;  // the node its streams meet on (relay/nodes.h)
  std::optional<std::int64_t> device_connected_at, supporter_connected_at;

  bool open() const { return state == "open"; }
};

// The SELECT list session_from_row reads, over `sessions s JOIN groups_ g ON g.id = s.group_id`.
extern const char* const kSessionRecordColumns;
SessionRecord session_from_row(const store::Row& r);

// The session with this (canonical) code; 404 when there is none.
Result<SessionRecord> find_session(store::Session& s, const std::string& code);

// `code` (canonical) when `account_id` owns that session; not_found otherwise, the same answer
// for someone else's session as for none. The one place a caller's claim on a session is checked.
Result<std::string> owned_session_code(store::Session& s, const std::string& code,
                                       const std::string& account_id);

// A page of an account's sessions, newest first.
struct SessionQuery {
  std::string account_id;
  std::optional<std::string> state;  // "open" | "closed"; nullopt: both
  std::optional<std::string> group_id, assigned_userid;
  std::optional<std::string> after;  // the code of the last session of the previous page
};
struct SessionPage {
  std::vector<SessionRecord> sessions;
  std::int64_t remaining = 0;  // matching sessions after this page
};
// invalid when `after` names no session of the account.
Result<SessionPage> list_sessions(store::Session& s, const SessionQuery& q, int limit);

// A new session as the store keeps it; the links' tokens are given hashed and sealed.
struct NewSession {
  std::string code, account_id, group_id, description;
  std::optional<std::string> end_customer_name, end_customer_email, waiting_message, custom_api;
  std::string assigned_userid;
  std::string supporter_token_hash, supporter_token_sealed;
  std::string customer_token_hash, customer_token_sealed;
  std::int64_t created_at = 0, valid_until = 0;
  bool code_join = false;  // the device may join with the code alone (a portal session)
};
Result<bool> session_code_taken(store::Session& s, const std::string& code);
Status insert_session(store::Session& s, const NewSession& n);

// The fields a PUT may change; nullopt leaves one as it is.
struct SessionChanges {
  std::optional<std::string> description, waiting_message, custom_api, assigned_userid,
      end_customer_name, end_customer_email, group_id;
};
Status update_session(store::Session& s, const std::string& code, const SessionChanges& c);

// What a stream's join is checked against (relay.cpp, resolve_credential): the session's state
// and validity, its links' token hashes, and whether the device may join with the code alone.
struct StreamCredentials {
  std::string state;
  std::int64_t valid_until = 0;
  std::string supporter_token_hash, customer_token_hash;
  bool code_join = false;
};
Result<std::optional<StreamCredentials>> find_stream_credentials(store::Session& s,
                                                                 const std::string& code);
// When a side's stream reached the relay.
Status record_stream_connected(store::Session& s, const std::string& code, bool device,
                               std::int64_t at);

// An account's session groups (the Web API's groupid and groupname).
// The name of the account's group `id`; nullopt when the account has no such group.
Result<std::optional<std::string>> group_name(store::Session& s, const std::string& account_id,
                                              const std::string& id);
// The id of the account's group called `name`; nullopt when there is none.
Result<std::optional<std::string>> group_id_by_name(store::Session& s,
                                                    const std::string& account_id,
                                                    const std::string& name);
Status insert_group(store::Session& s, const std::string& id, const std::string& account_id,
                    const std::string& name, std::int64_t created_at);

// Marks an open session closed with `reason` (idempotent: a closed one stays as it was). Used by
// the API, the portal, expiry and the data plane.
Status close_session(store::Session& s, const std::string& code, const std::string& reason,
                     std::int64_t now);

}  // namespace reach::relay
