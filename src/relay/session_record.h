// A relay session as the store keeps it (a `sessions` row with its group's name): the one place
// that knows the columns, their order and their types. A new field is one edit here and one in
// the migrations.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace reach::relay
