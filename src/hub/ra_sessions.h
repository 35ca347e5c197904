// Remote assistance requests on the hub (ra_sessions) as a store: the changes an agent's reports
// and the reconciliation with the relay make, each one guarded by the state it was decided from
// (the transitions are ra_rules.h's), and the device's action result that mirrors them.
#pragma once

#include "common/result.h"
#include "hub/ra_rules.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reach::hub {

// A device as requestRemoteAssistance sees it: what eligibility looks at, and who is notified.
struct RaDevice {
  std::string id, name;
  DeviceFacts facts;
  std::string user_display_name, user_principal_name;  // "" without a user
  std::string e2e_public_key;  // the device's Ed25519 public key, raw; "" when not registered
};
// nullopt when there is no such device.
Result<std::optional<RaDevice>> find_ra_device(store::Session& s, const std::string& device_id);

// A request as the history shows it (ra_sessions, with its device's name).
struct RaSession {
  std::string id, device_id, device_name, requester_id, requester_name, code, state;
  std::int64_t created_at = 0, valid_until = 0;
  std::optional<std::int64_t> accepted_at, allowed_at, connected_at, ended_at;
  std::optional<std::int64_t> asked_at, answer_due;  // the user asked to allow it, until when
  std::optional<std::int64_t> view_only_at;  // the user took control back from the supporter
  std::optional<bool> view_only;
  std::optional<std::string> end_reason;
  // The receipts the device signed (JSON text) and why one is not trusted, if it is not.
  std::optional<std::string> decision_receipt, end_receipt, receipt_problem;
};

// Requests matching `where` (a condition over s, ra_sessions, and d, devices; the caller's, with
// its parameters), newest first, at most `limit`.
Result<std::vector<RaSession>> find_ra_sessions(store::Session& s, const std::string& where,
                                                store::Params params, int limit);

// A request still open (requested, accepted, allowed or active), as the reconciliation needs it.
struct OpenRaSession {
  std::string id, code, notification_id, device_id, state;
  std::int64_t valid_until = 0;
  std::int64_t created_at = 0;
};
// Every open request, or (`device_id`) that device's, oldest first.
Result<std::vector<OpenRaSession>> open_ra_sessions(
    store::Session& s, const std::optional<std::string>& device_id = std::nullopt);
// One request by id, open or not (nullopt when there is none).
Result<std::optional<OpenRaSession>> find_ra_session(store::Session& s, const std::string& id);

// A new request, as requestRemoteAssistance records it (state requested).
struct NewRaSession {
  std::string id, device_id, requester_id, requester_name, code;
  std::string sealed_supporter_link;
  std::string notification_id;
  std::int64_t created_at = 0, valid_until = 0;
};
Status insert_ra_session(store::Session& s, const NewRaSession& n);

// Sets the device's requestRemoteAssistance action result (deviceActionResults) to `state`;
// `restart`: a new request, which also restarts its start time (and creates the row).
Status set_action(store::Session& s, const std::string& device, const std::string& state,
                  bool restart);

// The error a failed request left on the device (remoteAssistanceSessionErrorDetails); nullopt
// clears it.
Status set_ra_error(store::Session& s, const std::string& device_id,
                    const std::optional<std::string>& message);

// An agent's report on a remote assistance request (its notification), applied to the session
// history within the caller's transaction. "asking" (detail: seconds to answer) and "viewOnly"
// record what the user is asked and chose without changing the state. Other notifications are left
// alone, and so is a report the request's state does not allow (logged). When the report ends a
// request that never had a running session (declined, denied, expired, failed), `close_at_partner`
// (when given) is set to its session code: the caller closes it at the partner once this has
// committed.
// "receipt" (detail: a consent receipt, link/receipt.h) is checked against the key the device
// registered, the session and the device, and kept (the first of each kind); a receipt that
// fails a check is kept with the reason, and the history says it is not trusted.
Status apply_session_event(store::Session& s, const std::string& notification_id,
                           const std::string& event, const std::string& detail, std::int64_t at,
                           std::string* close_at_partner = nullptr);

}  // namespace reach::hub
