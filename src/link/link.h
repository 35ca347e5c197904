// Session codes and links (SPEC §4.2), the one parser both ends use: the relay (which issues
// and checks them), the agent (`join CODE`, the end-customer link of a request) and `reach
// connect` (the supporter link). Sans-I/O: strings in, values or 400 errors out.
//
// A code is "s" + 8 digits, shown as "s12-345-678"; a person may type it with or without dashes
// or spaces and in either case. A link's last path segment is its ref, "<code>-<token>", where
// the code is canonical and the token is 32 characters of base64url (192 random bits).
#pragma once

#include "common/result.h"

#include <optional>
#include <string>
#include <string_view>

namespace reach::link {

inline constexpr std::size_t kCodeSize = 9;    // "s12345678"
inline constexpr std::size_t kTokenSize = 32;  // base64url of 24 random bytes

// "s12345678" (canonical, stored) from what a person typed.
Result<std::string> normalize_code(std::string_view input);
// "s12-345-678" from a canonical code.
std::string display_code(std::string_view canonical);

struct LinkRef {
  std::string code;  // canonical
  std::string token;
};
// Splits "s12345678-TOKEN", the last path segment of a link.
Result<LinkRef> parse_link_ref(std::string_view ref);

struct SessionLink {
  std::string url;         // the link as given, without its fragment (which holds a secret)
  std::string stream_url;  // ws(s)://HOST[/PREFIX]/api/v1/stream/<side>/<ref>
  std::string code;        // "s12345678"
  // From the fragment of a link the hub made (docs/session-security.md): the session's
  // end-to-end secret (32 bytes) and, in the supporter link, the device key's fingerprint
  // (link::device_key_fingerprint). Empty when the link has none (a session made at the
  // relay). Browsers never send a fragment, so the relay never sees them.
  std::string session_secret;
  std::string device_fingerprint;
};
// Reads http(s)://HOST[/PREFIX]/support/<ref> (the supporter link) or …/join/<ref> (the end
// customer's), with an optional fragment "#s=SECRET[&fp=FINGERPRINT]" (SECRET: base64url of 32
// bytes). `kind` is "support" or "join".
Result<SessionLink> parse_session_link(std::string_view link, std::string_view kind);

// The fragment the hub appends to a session's links: "#s=SECRET" and, when the device's key is
// known, "&fp=FINGERPRINT".
std::string link_fragment(std::string_view session_secret, std::string_view device_fingerprint);

// The device stream of a portal session joined by its code alone (`reach-agent join CODE`):
// ws(s)://RELAY/api/v1/stream/device?code=s12345678.
Result<std::string> code_stream_url(std::string_view relay_url, std::string_view code);

// A relay stream endpoint as a WebSocket upgrade names it:
//   /api/v1/stream/supporter/<ref>   the supporter link's ref (the only way in for a supporter)
//   /api/v1/stream/device/<ref>      the end-customer link's ref
//   /api/v1/stream/device?code=CODE  the code alone (`code`: the query's value, if any)
// The ref or code is not checked here (`presented` is as given): the relay's one check does it.
// Errors: 404 for a path that is no stream endpoint, 400 for the device endpoint without a code.
enum class StreamSide { device, supporter };
struct StreamRequest {
  StreamSide side = StreamSide::device;
  bool by_code = false;
  std::string presented;
};
Result<StreamRequest> parse_stream_request(std::string_view path,
                                           std::optional<std::string_view> code);

}  // namespace reach::link
