#include "hub/ra_rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace reach::hub {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

constexpr std::array<std::pair<RaState, std::string_view>, 9> kStates = {{
    {RaState::requested, "requested"},
    {RaState::accepted, "accepted"},
    {RaState::allowed, "allowed"},
    {RaState::active, "active"},
    {RaState::ended, "ended"},
    {RaState::declined, "declined"},
    {RaState::denied, "denied"},
    {RaState::expired, "expired"},
    {RaState::failed, "failed"},
}};

}  // namespace

std::optional<Ineligible> ineligible(const DeviceFacts& d) {
  const std::string type = d.device_type, sku = lower(d.sku_family), os = lower(d.operating_system),
                    version = lower(d.os_version);
  const std::string& enrollment = d.enrollment_type;
  if (enrollment == "deviceEnrollmentManager" || enrollment == "windowsBulkUserless" ||
      enrollment == "appleBulkWithoutUser" || !d.has_user)
    return Ineligible::userless;
  if (d.owner_type == "company") return Ineligible::company_owned;
  if (type == "holoLens" || os.find("holographic") != std::string::npos)
    return Ineligible::windows_holographic;
  if (type == "surfaceHub" || os.find("windows team") != std::string::npos ||
      sku.find("team") != std::string::npos)
    return Ineligible::windows_team;
  if (sku == "s" || sku.find("10 s") != std::string::npos || sku == "windows10s" ||
      version.find("10 s") != std::string::npos)
    return Ineligible::windows_10s;
  if (!d.agent_connected_once) return Ineligible::agent_not_connected;
  return std::nullopt;
}

std::string_view error_code(Ineligible why) {
  switch (why) {
    case Ineligible::userless:
      return "userlessDeviceNotSupported";
    case Ineligible::company_owned:
      return "companyOwnedDeviceNotSupported";
    case Ineligible::windows_holographic:
      return "windowsHolographicNotSupported";
    case Ineligible::windows_team:
      return "windowsTeamNotSupported";
    case Ineligible::windows_10s:
      return "windows10SNotSupported";
    case Ineligible::agent_not_connected:
      return "agentNotConnected";
  }
  return "notSupported";
}

std::optional<RaState> parse_ra_state(std::string_view s) {
  for (const auto& [state, name] : kStates)
    if (name == s) return state;
  return std::nullopt;
}

std::string_view to_string(RaState s) {
  for (const auto& [state, name] : kStates)
    if (state == s) return name;
  return "failed";
}

bool is_open(RaState s) {
  return s == RaState::requested || s == RaState::accepted || s == RaState::allowed ||
         s == RaState::active;
}

std::optional<RaState> next_ra_state(RaState from, std::string_view event) {
  if (!is_open(from)) return std::nullopt;
  const bool before_allowed = from == RaState::requested || from == RaState::accepted;
  if (event == "accepted" && from == RaState::requested) return RaState::accepted;
  if (event == "declined" && from == RaState::requested) return RaState::declined;
  if ((event == "allowed" || event == "allowedViewOnly") && before_allowed) return RaState::allowed;
  if (event == "connected" && from != RaState::active) return RaState::active;
  // A session that is running is ended, not denied or expired.
  if (event == "denied" && from != RaState::active) return RaState::denied;
  if (event == "expired" && from != RaState::active) return RaState::expired;
  if (event == "failed") return RaState::failed;
  if (event == "ended") return RaState::ended;
  return std::nullopt;
}

}  // namespace reach::hub
