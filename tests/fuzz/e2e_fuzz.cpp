// Fuzz target: what a relay, or anyone on its path, can send an end of a session before and
// after the end-to-end handshake (link/e2e.h). The first byte picks the end (even: the
// device's, waiting for a commit; odd: the supporter's, after its commit); the rest is a
// sequence of messages, each a 2-byte big-endian length and that many bytes. Checks besides
// "no crash": no end is ever established by bytes that do not come from a real other end (a
// forged proof would need the keys), an end that refused a message refuses every later one,
// and nothing refused yields stream bytes, notices or answers.
#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "link/e2e.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach;
  static const std::string device_key = [] {
    crypto::init();
    return crypto::ed25519_keypair().private_key;
  }();
  if (size == 0) return 0;
  bool device = (data[0] & 1) == 0;
  link::E2eChannel end(device ? link::E2eOptions{link::E2eRole::device, {}, device_key, {}}
                              : link::E2eOptions{link::E2eRole::supporter, {}, {}, {}});
  if (!device && end.start().size() != 1) __builtin_trap();
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool refused = false;
  while (in.size() >= 2) {
    std::size_t n = (static_cast<std::uint8_t>(in[0]) << 8) | static_cast<std::uint8_t>(in[1]);
    in.remove_prefix(2);
    n = std::min(n, in.size());
    auto r = end.receive(in.substr(0, n));
    in.remove_prefix(n);
    if (!r) {
      refused = true;
      if (end.state() != link::E2eChannel::State::failed) __builtin_trap();
      continue;
    }
    if (refused) __builtin_trap();  // nothing is taken after a refusal
    if (r->established || end.established() || !r->stream.empty() || !r->notices.empty() ||
        r->closed)
      __builtin_trap();  // only a real other end can get this far
    for (const auto& m : r->send)
      if (m.size() > link::kMaxHandshakeMessage + 64) __builtin_trap();
  }
  return 0;
}
