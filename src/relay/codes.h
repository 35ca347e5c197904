// Session codes and link tokens (SPEC §4.2), without I/O.
// A code is "s" + 8 digits, shown as "s12-345-678", accepted with or without dashes or spaces and
// in either case. Links carry "<code>-<token>" where the token has 192 random bits.
#pragma once

#include "common/result.h"

#include <string>
#include <string_view>

namespace reach::relay {

// "s12345678" (canonical, stored) from what a person typed; 400 when it is not a code.
Result<std::string> normalize_code(std::string_view input);
// "s12-345-678" from a canonical code.
std::string display_code(std::string_view canonical);
// A random canonical code.
std::string random_code();
// A random group id: "g" + 8 digits.
std::string random_group_id();
// A random link token (base64url, 32 characters).
std::string random_link_token();

struct LinkRef {
  std::string code;  // canonical
  std::string token;
};
// Splits "s12345678-TOKEN" (the last path segment of a link); 400 when malformed.
Result<LinkRef> parse_link_ref(std::string_view ref);

}  // namespace reach::relay
