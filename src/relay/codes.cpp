#include "relay/codes.h"

#include "common/crypto.h"

#include <sodium.h>

namespace reach::relay {

std::string random_code() {
  std::string out = "s";
  for (int i = 0; i < 8; ++i) out += static_cast<char>('0' + randombytes_uniform(10));
  return out;
}

std::string random_group_id() {
  return "g" + std::to_string(10000000 + randombytes_uniform(90000000));
}

std::string random_link_token() {
  return crypto::random_token(24);
}

}  // namespace reach::relay
