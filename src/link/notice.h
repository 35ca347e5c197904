// Notices from the device's end to the supporter's client, beside the RFB stream: what the user
// is being asked and what the supporter may do, said the moment it changes (the viewer and `reach
// connect` have no other way to learn that the user chose View only). They travel as WebSocket
// text messages, JSON, at most kMaxNotice bytes; the stream's bytes stay binary messages. The
// relay forwards text messages from the device's end to the supporter's and no other way.
//
//   {"type":"asking","seconds":N}      the user is asked to allow the session; N seconds to answer
//   {"type":"access","viewOnly":bool}  the session runs with control, or view only from now on
#pragma once

#include "common/result.h"

#include <string>
#include <string_view>

namespace reach::link {

inline constexpr std::size_t kMaxNotice = 256;

struct Notice {
  enum class Kind { asking, access };
  Kind kind = Kind::access;
  int seconds = 0;         // asking: time left to answer, 1..kMaxAskingSeconds
  bool view_only = false;  // access
};
inline constexpr int kMaxAskingSeconds = 3600;

std::string to_json(const Notice& n);
// Reads one notice; anything else (another type, a missing or out-of-range member, more than
// kMaxNotice bytes) is an error that names what is wrong.
Result<Notice> parse_notice(std::string_view text);

}  // namespace reach::link
