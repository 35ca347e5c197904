#include "relay/session_record.h"

#include <fmt/format.h>

namespace reach::relay {
namespace {

std::optional<std::int64_t> opt_integer(const store::Row& r, std::size_t i) {
  if (r.null(i)) return std::nullopt;
  return r.integer(i);
}

}  // namespace

const char* const kSessionRecordColumns =
    "s.code, s.state, s.group_id, g.name, s.description, s.end_customer_name,"
    " s.end_customer_email, s.waiting_message, s.custom_api, s.assigned_userid,"
    " s.support_session_type, s.supporter_token_sealed, s.customer_token_sealed, s.created_at,"
    " s.valid_until, s.closed_at, s.close_reason, s.account_id, s.owner_node,"
    " s.device_connected_at, s.supporter_connected_at";

SessionRecord session_from_row(const store::Row& r) {
  SessionRecord s;
  s.code = r.text(0);
  s.state = r.text(1);
  s.group_id = r.text(2);
  s.group_name = r.text(3);
  s.description = r.text(4);
  s.end_customer_name = r.opt_text(5);
  s.end_customer_email = r.opt_text(6);
  s.waiting_message = r.opt_text(7);
  s.custom_api = r.opt_text(8);
  s.assigned_userid = r.text(9);
  s.support_session_type = r.text(10);
  s.supporter_token_sealed = r.text(11);
  s.customer_token_sealed = r.text(12);
  s.created_at = r.integer(13);
  s.valid_until = r.integer(14);
  s.closed_at = opt_integer(r, 15);
  s.close_reason = r.opt_text(16);
  s.account_id = r.text(17);
  s.owner_node = r.opt_text(18);
  s.device_connected_at = opt_integer(r, 19);
  s.supporter_connected_at = opt_integer(r, 20);
  return s;
}

Result<SessionRecord> find_session(store::Session& s, const std::string& code) {
  auto rows = s.query(fmt::format("SELECT {} FROM sessions s JOIN groups_ g ON g.id = s.group_id"
                                  " WHERE s.code = ?",
                                  kSessionRecordColumns),
                      {code});
  if (!rows) return rows.error();
  if (rows->empty()) return not_found("No session has this code.");
  return session_from_row(rows->rows[0]);
}

}  // namespace reach::relay
