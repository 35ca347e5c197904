// The organisation's remote assistance settings (ra_settings, one row, made by the schema): what
// the hub tells each device about the sessions it may hold. Graph's beta
// remoteAssistanceSettings, with only the settings that mean something in Reach.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reach::hub {

struct RaSettings {
  std::string id;
  // The screen stream may not use H.264 (a patent-licensed codec); the agent then sends Tight
  // (lossless and JPEG) only.
  bool block_h264 = false;
};

// The row; internal_error when the schema's row is missing.
Result<RaSettings> load_ra_settings(store::Session& s);

// An administrator's change; nullopt leaves a setting as it is.
struct RaSettingsChanges {
  std::optional<bool> block_h264;
};
Status update_ra_settings(store::Session& s, const RaSettingsChanges& c, std::int64_t now);

}  // namespace reach::hub
