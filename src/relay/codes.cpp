#include "relay/codes.h"

#include "common/crypto.h"

#include <sodium.h>

#include <cctype>

namespace reach::relay {

Result<std::string> normalize_code(std::string_view input) {
  std::string digits;
  if (input.empty() || (input[0] != 's' && input[0] != 'S'))
    return bad_request("A session code looks like s12-345-678.");
  for (std::size_t i = 1; i < input.size(); ++i) {
    char c = input[i];
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != '-' && c != ' ') {
      return bad_request("A session code looks like s12-345-678.");
    }
    if (digits.size() > 8) return bad_request("A session code has exactly 8 digits.");
  }
  if (digits.size() != 8) return bad_request("A session code has exactly 8 digits.");
  return "s" + digits;
}

std::string display_code(std::string_view c) {
  if (c.size() != 9) return std::string(c);
  return std::string(c.substr(0, 3)) + "-" + std::string(c.substr(3, 3)) + "-" +
         std::string(c.substr(6, 3));
}

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

Result<LinkRef> parse_link_ref(std::string_view ref) {
  auto dash = ref.find('-');
  if (dash == std::string_view::npos || dash != 9 || ref.size() - dash - 1 != 32)
    return bad_request("This is not a session link.");
  auto code = normalize_code(ref.substr(0, dash));
  if (!code) return code.error();
  std::string token(ref.substr(dash + 1));
  for (char c : token)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      return bad_request("This is not a session link.");
  return LinkRef{*code, token};
}

}  // namespace reach::relay
