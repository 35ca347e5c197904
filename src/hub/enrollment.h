// Enrollment tokens and device inventory: shared by the API, the agent endpoints and the
// command line.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace reach::hub {

// Graph's deviceType values (beta `deviceType` enum) plus "linux".
const std::vector<std::string>& device_types();

struct Inventory {
  std::optional<std::string> device_name, operating_system, os_version, model, manufacturer,
      serial_number, device_type, sku_family;
};
// Reads an inventory object; `require_identity` demands deviceName and operatingSystem.
Result<Inventory> parse_inventory(const boost::json::object& o, bool require_identity);

struct EnrollmentTokenSpec {
  std::optional<std::string> user_id;  // nullopt: userless (device enrollment manager)
  std::string ownership = "personal";  // "personal" | "company"
  int valid_days = 30;
};
struct IssuedEnrollmentToken {
  std::string id;
  std::string token;  // shown once; only its hash is kept
  std::string enrollment_type;
  std::int64_t expires_at;
};
// Inserts a new token within the caller's transaction.
Result<IssuedEnrollmentToken> issue_enrollment_token(store::Session& s,
                                                     const EnrollmentTokenSpec& spec);

// A token that may enroll a device now, found by the token itself (its hash is looked up: the
// one place a presented enrollment token is checked).
struct EnrollmentToken {
  std::string id;
  std::optional<std::string> user_id;
  std::string enrollment_type;  // "userEnrollment" | "deviceEnrollmentManager"
  std::string ownership;        // the device's managedDeviceOwnerType
};
// nullopt when the token is unknown, revoked or expired at `now`.
Result<std::optional<EnrollmentToken>> find_valid_enrollment_token(store::Session& s,
                                                                   const std::string& token,
                                                                   std::int64_t now);

}  // namespace reach::hub
