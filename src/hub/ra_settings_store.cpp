#include "hub/ra_settings_store.h"

namespace reach::hub {

Result<RaSettings> load_ra_settings(store::Session& s) {
  auto row =
      store::query_one(s, "SELECT id, block_h264 FROM ra_settings", {}, [](const store::Row& r) {
        return RaSettings{r.text(0), r.boolean(1)};
      });
  if (!row) return row.error();
  if (!*row) return internal_error("The remote assistance settings record is missing.");
  return **row;
}

Status update_ra_settings(store::Session& s, const RaSettingsChanges& c, std::int64_t now) {
  return store::exec_ok(
      s, "UPDATE ra_settings SET block_h264 = COALESCE(?, block_h264), updated_at = ?",
      {c.block_h264, now});
}

}  // namespace reach::hub
