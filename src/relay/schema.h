// reach-relay's schema as forward-only migrations (portable SQL, see store/db.h).
#pragma once

#include "store/db.h"

namespace reach::relay {
const std::vector<store::Migration>& migrations();
}  // namespace reach::relay
