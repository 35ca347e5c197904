// Notices from the device's end to the supporter's client, beside the RFB stream: what the user
// is being asked and what the supporter may do, said the moment it changes (the viewer and `reach
// connect` have no other way to learn that the user chose View only). They travel as WebSocket
// text messages, JSON, at most kMaxNotice bytes; the stream's bytes stay binary messages. The
// relay forwards text messages from the device's end to the supporter's and no other way.
//
//   {"type":"asking","seconds":N}      the user is asked to allow the session; N seconds to answer
//   {"type":"access","viewOnly":bool}  the session runs with control, or view only from now on
//   {"type":"link","rttMs":N,"kbps":N} the path as the agent measures it (about once a second, with
//                                      continuous updates): the round trip of its last fence and
//                                      the rate the viewer took updates at, for the viewer's
//                                      statistics
#pragma once

#include "common/result.h"

#include <string>
#include <string_view>

namespace reach::link {

inline constexpr std::size_t kMaxNotice = 256;

struct Notice {
  enum class Kind { asking, access, link };
  Kind kind = Kind::access;
  int seconds = 0;         // asking: time left to answer, 1..kMaxAskingSeconds
  bool view_only = false;  // access
  int rtt_ms = 0;          // link: 0..kMaxRttMs
  int kbps = 0;            // link: 0..kMaxKbps
};
inline constexpr int kMaxAskingSeconds = 3600;
inline constexpr int kMaxRttMs = 600'000;
inline constexpr int kMaxKbps = 100'000'000;

std::string to_json(const Notice& n);
// Reads one notice; anything else (another type, a missing or out-of-range member, more than
// kMaxNotice bytes) is an error that names what is wrong.
Result<Notice> parse_notice(std::string_view text);

}  // namespace reach::link
