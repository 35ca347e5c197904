// Session links as `reach` reads them: http(s)://HOST[/PREFIX]/support/<code>-<token> (the
// supporter link) and …/join/<code>-<token> (the end-customer link), and the relay stream URLs
// they lead to. Sans-I/O: strings in, strings out.
#pragma once

#include "common/result.h"

#include <string>
#include <string_view>

namespace reach::cli {

struct SessionLink {
  std::string url;         // the link as given
  std::string stream_url;  // ws(s)://HOST[/PREFIX]/api/v1/stream/<side>/<ref>
  std::string code;        // "s12345678"
};

// `kind` is "support" (the supporter's link) or "join" (the end customer's). Errors: 400 with a
// message that says what a link looks like.
Result<SessionLink> parse_session_link(std::string_view link, std::string_view kind);

}  // namespace reach::cli
