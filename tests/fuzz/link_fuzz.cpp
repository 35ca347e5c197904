// Fuzz target: what a stranger can put in a link, a code or a request line before any session
// is found: the shared link module (codes, link refs, links, the relay's stream endpoints) and
// the HTTP helpers the relay and hub run on every request (query strings, Bearer headers, the
// request log's redaction, the throttle's client key), and the device's notices that the viewer
// and `reach connect` read (link/notice.h). Checks round trips, not only crashes.
#include "common/throttle.h"
#include "link/link.h"
#include "link/notice.h"
#include "net/http.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto c = link::normalize_code(in)) {
    if (c->size() != link::kCodeSize || (*c)[0] != 's') __builtin_trap();
    auto again = link::normalize_code(link::display_code(*c));
    if (!again || *again != *c) __builtin_trap();
  }
  if (auto r = link::parse_link_ref(in)) {
    if (r->code + "-" + r->token != in) __builtin_trap();
  }
  for (const char* kind : {"support", "join"})
    if (auto l = link::parse_session_link(in, kind)) {
      if (!l->stream_url.starts_with("ws://") && !l->stream_url.starts_with("wss://"))
        __builtin_trap();
      if (!link::parse_link_ref(l->stream_url.substr(l->stream_url.rfind('/') + 1)))
        __builtin_trap();
    }
  (void)link::code_stream_url(in, "s12345678");
  (void)link::code_stream_url("https://relay.example", in);

  auto qm = in.find('?');
  std::string path = net::percent_decode(in.substr(0, qm), false);
  auto query = net::parse_query(qm == std::string_view::npos ? "" : in.substr(qm + 1));
  std::optional<std::string_view> code;
  for (const auto& [k, v] : query)
    if (k == "code") code = v;
  (void)link::parse_stream_request(path, code);

  auto redacted = net::redact_path(path);
  if (net::redact_path(redacted) != redacted) __builtin_trap();
  if (redacted.size() > path.size() + 10 * (path.size() / 1 + 1)) __builtin_trap();

  net::Headers h;
  h.set("Authorization", std::string(in));
  if (auto t = net::bearer_token(h)) {
    if (t->empty() || t->find(' ') != std::string_view::npos) __builtin_trap();
  }
  (void)client_key(in);

  if (auto n = link::parse_notice(in)) {
    std::string again = link::to_json(*n);
    auto back = link::parse_notice(again);
    if (!back || back->kind != n->kind || link::to_json(*back) != again ||
        again.size() > link::kMaxNotice)
      __builtin_trap();
  }
  return 0;
}
