// Fuzz target: `reach connect`'s password gate: the bytes of a local VNC viewer (anyone on the
// machine) and of the device's end of the stream, each chopped as the input's first byte says.
// Nothing but the right response may authenticate; held viewer bytes stay bounded.
#include "reach/viewer_gate.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach::cli;
  if (size < 2) return 0;
  const size_t chunk = data[0] % 32 + 1;
  std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
  std::array<std::uint8_t, 16> challenge{};
  for (size_t i = 0; i < challenge.size(); ++i) challenge[i] = static_cast<std::uint8_t>(i * 13);
  ViewerAuth auth("pAssw0rd", challenge);
  std::string out;
  auto state = ViewerAuth::State::need_more;
  for (size_t at = 0; at < in.size() && state == ViewerAuth::State::need_more; at += chunk)
    state = auth.feed(in.substr(at, chunk), out);
  if (state == ViewerAuth::State::authenticated) {
    // Only the response computed from the password gets here.
    std::string expected =
        vnc_auth_response("pAssw0rd", std::string(challenge.begin(), challenge.end()));
    if (in.find(expected) == std::string_view::npos) __builtin_trap();
  }
  UpstreamGate gate(data[1] % 9, std::string(in.substr(0, in.size() / 4)));
  std::string to_tcp, to_ws;
  for (size_t at = 0; at < in.size(); at += chunk) {
    if (!gate.from_websocket(in.substr(at, chunk), to_tcp, to_ws)) break;
    if (!gate.from_tcp(in.substr(at, chunk), to_ws)) break;
  }
  return 0;
}
