// The audit log as a store (SPEC §4.5): records are appended and read, never changed or
// deleted. Its columns are read in one place and mapped to AuditRecord.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reach::hub {

struct AuditRecord {
  std::int64_t seq = 0;  // the store's: increasing, never reused
  std::string id;
  std::int64_t at = 0;
  std::string activity, result, actor_type;
  std::optional<std::string> actor_id, actor_name;
  std::string ip_address;
  std::optional<std::string> target_type, target_id, target_name;
  std::string details_json;
};

// Appends `r` within the caller's transaction (its seq is the store's to give).
Status append_audit_record(store::Session& s, const AuditRecord& r);

// A page of the log, newest first.
struct AuditQuery {
  // Conditions over audit_events' columns (a compiled $filter, a time range), with their
  // parameters in order.
  std::vector<std::string> conditions;
  store::Params params;
  std::optional<std::int64_t> before_seq;  // the last sequence number of the previous page
  int top = 100;
};
Result<std::vector<AuditRecord>> list_audit_records(store::Session& s, const AuditQuery& q);

}  // namespace reach::hub
