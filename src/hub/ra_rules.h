// The rules of remote assistance requests that need no store and no network (SPEC §4.1): which
// devices may be helped through the connector, and the life of a request on the hub
// (ra_sessions.state). Handlers map what these say to Graph errors and rows.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reach::hub {

// What eligibility looks at, from the device's record.
struct DeviceFacts {
  std::string enrollment_type;  // deviceEnrollmentType
  bool has_user = false;        // a primary user is assigned
  std::string owner_type;       // managedDeviceOwnerType
  std::string device_type, sku_family, operating_system, os_version;
  bool agent_connected_once = false;  // the company portal's channel has connected
};

// Why a device cannot be helped, in SPEC §4.1's order of checks.
enum class Ineligible {
  userless,             // enrolled without a user: nobody there to notify
  company_owned,        // the connector is for personally owned devices
  windows_holographic,  // HoloLens
  windows_team,         // Surface Hub
  windows_10s,
  agent_not_connected,  // the company portal never connected: it cannot be notified
};

// nullopt when the device may be helped.
std::optional<Ineligible> ineligible(const DeviceFacts& d);
// The Graph error code of each reason ("userlessDeviceNotSupported", …).
std::string_view error_code(Ineligible why);

// A request's state on the hub. requested → accepted → allowed → active → ended is the way of a
// session the user takes; declined, denied, expired and failed end it sooner. The final states
// never change again.
enum class RaState {
  requested,
  accepted,
  allowed,
  active,
  ended,
  declined,
  denied,
  expired,
  failed
};

std::optional<RaState> parse_ra_state(std::string_view s);
std::string_view to_string(RaState s);
bool is_open(RaState s);

// The state that the agent's (or the hub's reconciliation's) `event` leads to from `from`, or
// nullopt when the event does not apply there — a late or repeated report, or a reconciliation
// that lost a race with the device's own report — and must change nothing.
// Events: accepted, declined, allowed, allowedViewOnly, connected, denied, expired, failed, ended.
std::optional<RaState> next_ra_state(RaState from, std::string_view event);

}  // namespace reach::hub
