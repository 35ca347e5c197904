// Remote assistance requests on the hub (ra_sessions) as a store: the changes an agent's reports
// and the reconciliation with the relay make, each one guarded by the state it was decided from
// (the transitions are ra_rules.h's), and the device's action result that mirrors them.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <string>

namespace reach::hub {

// Sets the device's requestRemoteAssistance action result (deviceActionResults) to `state`;
// `restart`: a new request, which also restarts its start time (and creates the row).
Status set_action(store::Session& s, const std::string& device, const std::string& state,
                  bool restart);

// An agent's report on a remote assistance request (its notification), applied to the session
// history within the caller's transaction. Other notifications are left alone, and so is a
// report the request's state does not allow (logged).
Status apply_session_event(store::Session& s, const std::string& notification_id,
                           const std::string& event, const std::string& detail, std::int64_t at);

}  // namespace reach::hub
