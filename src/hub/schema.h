// The hub's schema as forward-only migrations (portable SQL, see store/db.h).
#pragma once

#include "store/db.h"

#include <vector>

namespace reach::hub {

const std::vector<store::Migration>& migrations();

}  // namespace reach::hub
