// The JSON body of the sessions API (POST /api/v1/sessions and PUT /api/v1/sessions/{code}),
// read and checked without I/O: which fields, their types and their limits. Fuzzed.
#pragma once

#include "common/result.h"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace reach::relay {

struct SessionFields {
  std::optional<std::string> groupid, groupname, description, waiting_message, custom_api,
      assigned_userid, end_customer_name, end_customer_email;
  std::optional<std::string> state;         // update only: "open" | "closed" (lower case)
  std::optional<std::int64_t> valid_until;  // create only: ms since the epoch
};

enum class SessionBody { create, update };

// Errors: 400 naming the field. `now` bounds valid_until (future, at most 30 days away).
Result<SessionFields> read_session_fields(const boost::json::object& body, SessionBody kind,
                                          std::int64_t now);

}  // namespace reach::relay
