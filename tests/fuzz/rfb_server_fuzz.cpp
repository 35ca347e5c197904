// Fuzz target: arbitrary client bytes after a valid RFB 3.8 handshake. The first input byte picks
// how the rest is chopped into feeds (exercising the rewind-on-short-input paths) and, in its high
// nibble, whether the client starts out preferring Tight (see tight_preset); every update
// the client requests is answered with a real FramebufferUpdate (CopyRect, cursor, and a desktop
// resize now and then) in whatever pixel format and encodings the input set, so the encoders
// run on fuzzer-chosen formats too. Built as a libFuzzer binary with clang and as a file replayer
// with any compiler (see README.md).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rfb/server_connection.h"

namespace {

using namespace reach::rfb;

class Requests : public ServerHandler {
 public:
  void key_event(bool, uint32_t) override {}
  void pointer_event(uint8_t, int, int) override {}
  void cut_text(std::string_view) override {}
  void update_requested(bool, const Rect& r) override { rects.push_back(r); }
  void pixel_format_changed(const PixelFormat&) override {}
  void encodings_changed(const std::vector<int32_t>&) override {}
  std::vector<Rect> rects;
};

// High nibble n of the first byte: 0 leaves the encodings to the input; otherwise the client first
// asks for Tight at compression level n % 10, with JPEG quality level n - 1 when n <= 10, so the
// Tight paths are reached without the fuzzer having to spell out a SetEncodings message; it also
// lists Fence and ContinuousUpdates, which the server offers, so their messages are parsed.
std::string tight_preset(int n) {
  std::vector<int32_t> e = {7, 16, 1, -239, -223, -312, -313, -256 + n % 10};
  if (n <= 10) e.push_back(-32 + n - 1);
  std::string m = {2, 0, 0, static_cast<char>(e.size())};
  for (int32_t v : e)
    for (int shift = 24; shift >= 0; shift -= 8)
      m.push_back(static_cast<char>(static_cast<uint32_t>(v) >> shift));
  return m;
}

Framebuffer pattern(int w, int h) {
  Framebuffer fb(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) fb.at(x, y) = (x / 7 % 3 == 0) ? 0x00102030 : (x * 0x010305 + y);
  return fb;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Framebuffer small = pattern(70, 66);
  static const Framebuffer large = pattern(130, 70);
  static const Cursor cursor{3, 2, 1, 1, {0xff000000, 0x00ffffff, 0x80ff0000, 0, 1, 0xffffffff}};

  Requests handler;
  ServerConnection conn(handler, small.width(), small.height(), "fuzz");
  conn.offer_continuous_updates();  // Fence and EnableContinuousUpdates are parsed too
  conn.feed(std::string_view("RFB 003.008\n\x01\x01", 14));
  if (!conn.process() || !conn.ready()) __builtin_trap();
  conn.take_output();
  if (size == 0) return 0;

  const size_t chunk = data[0] % 16 == 0 ? size : data[0] % 16;
  if (data[0] >> 4) {
    conn.feed(tight_preset(data[0] >> 4));
    if (!conn.process()) __builtin_trap();
  }
  const Framebuffer* fb = &small;
  // Encoding dominates the time per input; past a few updates an input only repeats encoder
  // work already done, so later requests are parsed but not answered (8: 4,300 executions a
  // second here, against 600 when every request was answered; the same coverage).
  int updates_left = 8;
  for (size_t at = 1; at < size; at += chunk) {
    size_t n = std::min(chunk, size - at);
    conn.feed(std::string_view(reinterpret_cast<const char*>(data + at), n));
    if (!conn.process()) break;
    for (const Rect& r : handler.rects) {
      if (updates_left-- <= 0) break;
      Update u;
      u.changed = {r};
      u.copies = {CopyOp{Rect{r.x, r.y, r.w / 2, r.h / 2}, r.w / 3, r.h / 3}};
      u.cursor = r.x % 2 ? &cursor : nullptr;
      if (r.w == 13) fb = fb == &small ? &large : &small;  // a resize now and then
      if (!conn.write_update(*fb, u)) return 0;
    }
    handler.rects.clear();
    if (conn.fence_agreed()) conn.write_fence(ServerConnection::kFenceRequest, "ping");
    conn.take_output();
  }
  return 0;
}
