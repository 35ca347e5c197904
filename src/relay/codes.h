// New session codes, group ids and link tokens (SPEC §4.2). Their shapes, and every parse of
// them, are link/link.h's.
#pragma once

#include <string>

namespace reach::relay {

// A random canonical code: "s" + 8 digits.
std::string random_code();
// A random group id: "g" + 8 digits.
std::string random_group_id();
// A random link token: 24 random bytes in base64url (32 characters).
std::string random_link_token();

}  // namespace reach::relay
