#include "hub/enrollment.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/time.h"

#include <fmt/format.h>

#include <algorithm>

namespace reach::hub {

const std::vector<std::string>& device_types() {
  static const std::vector<std::string> kTypes = {"desktop",
                                                  "windowsRT",
                                                  "winMO6",
                                                  "nokia",
                                                  "windowsPhone",
                                                  "mac",
                                                  "winCE",
                                                  "winEmbedded",
                                                  "iPhone",
                                                  "iPad",
                                                  "iPod",
                                                  "android",
                                                  "iSocConsumer",
                                                  "unix",
                                                  "macMDM",
                                                  "holoLens",
                                                  "surfaceHub",
                                                  "androidForWork",
                                                  "androidEnterprise",
                                                  "windows10x",
                                                  "androidnGMS",
                                                  "chromeOS",
                                                  "linux",
                                                  "blackberry",
                                                  "palm",
                                                  "unknown",
                                                  "cloudPC"};
  return kTypes;
}

Result<Inventory> parse_inventory(const boost::json::object& o, bool require_identity) {
  if (auto st = json::only_keys(o, {"deviceName", "operatingSystem", "osVersion", "model",
                                    "manufacturer", "serialNumber", "deviceType", "skuFamily"});
      !st)
    return st.error();
  Inventory inv;
  struct F {
    const char* key;
    std::optional<std::string>* out;
  };
  for (F f : {F{"deviceName", &inv.device_name}, F{"operatingSystem", &inv.operating_system},
              F{"osVersion", &inv.os_version}, F{"model", &inv.model},
              F{"manufacturer", &inv.manufacturer}, F{"serialNumber", &inv.serial_number},
              F{"deviceType", &inv.device_type}, F{"skuFamily", &inv.sku_family}}) {
    auto v = json::opt_string(o, f.key);
    if (!v) return v.error();
    if (*v && (*v)->size() > 256)
      return bad_request(fmt::format("Property '{}' is longer than 256 characters.", f.key));
    *f.out = std::move(*v);
  }
  if (require_identity) {
    if (!inv.device_name || inv.device_name->empty())
      return bad_request("Property 'deviceName' is required.");
    if (!inv.operating_system || inv.operating_system->empty())
      return bad_request("Property 'operatingSystem' is required.");
  }
  if (inv.device_type) {
    const auto& t = device_types();
    if (std::find(t.begin(), t.end(), *inv.device_type) == t.end())
      return bad_request(fmt::format("'{}' is not a valid deviceType.", *inv.device_type));
  }
  return inv;
}

Result<IssuedEnrollmentToken> issue_enrollment_token(store::Session& s,
                                                     const EnrollmentTokenSpec& spec) {
  if (spec.ownership != "personal" && spec.ownership != "company")
    return bad_request("Ownership must be 'personal' or 'company'.");
  if (spec.valid_days < 1 || spec.valid_days > 365)
    return bad_request("An enrollment token is valid for 1 to 365 days.");
  IssuedEnrollmentToken t;
  t.id = crypto::uuid_v4();
  t.token = "ret_" + crypto::random_token(32);
  t.enrollment_type = spec.user_id ? "userEnrollment" : "deviceEnrollmentManager";
  auto now = now_ms();
  t.expires_at = now + std::int64_t{spec.valid_days} * 24 * 3600 * 1000;
  auto r = s.exec(
      "INSERT INTO enrollment_tokens (id, token_hash, user_id, enrollment_type, ownership,"
      " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {t.id, crypto::sha256_hex(t.token), spec.user_id, t.enrollment_type, spec.ownership, now,
       t.expires_at});
  if (!r) return r.error();
  return t;
}

Result<std::optional<EnrollmentToken>> find_valid_enrollment_token(store::Session& s,
                                                                   const std::string& token,
                                                                   std::int64_t now) {
  return store::query_one(s,
                          "SELECT id, user_id, enrollment_type, ownership FROM enrollment_tokens"
                          " WHERE token_hash = ? AND revoked = 0 AND expires_at > ?",
                          {crypto::sha256_hex(token), now}, [](const store::Row& r) {
                            return EnrollmentToken{r.text(0), r.opt_text(1), r.text(2), r.text(3)};
                          });
}

}  // namespace reach::hub
