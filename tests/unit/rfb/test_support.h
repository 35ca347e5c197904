// Helpers shared by the RFB tests: byte strings, a handler that records events as text, and a
// connection that has finished the handshake.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "rfb/server_connection.h"

namespace reach::rfb::testing {

inline std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s.push_back(static_cast<char>(b));
  return s;
}

inline std::string u16(int v) {
  return bytes({(v >> 8) & 0xff, v & 0xff});
}
inline std::string u32(uint32_t v) {
  return bytes({int(v >> 24) & 0xff, int(v >> 16) & 0xff, int(v >> 8) & 0xff, int(v) & 0xff});
}

inline std::string hex(const std::string& s) {
  std::string r;
  for (unsigned char c : s) r += fmt::format("{:02x} ", c);
  return r;
}

class Recorder : public ServerHandler {
 public:
  void key_event(bool down, uint32_t keysym) override {
    events.push_back(fmt::format("key {} {:x}", down ? 1 : 0, keysym));
  }
  void pointer_event(uint8_t mask, int x, int y) override {
    events.push_back(fmt::format("pointer {} {},{}", mask, x, y));
  }
  void cut_text(std::string_view text) override { events.push_back("cut " + std::string(text)); }
  void update_requested(bool incremental, const Rect& r) override {
    events.push_back(fmt::format("update {} {},{} {}x{}", incremental ? 1 : 0, r.x, r.y, r.w, r.h));
  }
  void pixel_format_changed(const PixelFormat& pf) override {
    events.push_back(fmt::format("format {}/{} be{} max {},{},{} shift {},{},{}", pf.bits_per_pixel,
                                 pf.depth, pf.big_endian ? 1 : 0, pf.red_max, pf.green_max,
                                 pf.blue_max, pf.red_shift, pf.green_shift, pf.blue_shift));
  }
  void encodings_changed(const std::vector<int32_t>& e) override {
    events.push_back(fmt::format("encodings {}", fmt::join(e, ",")));
  }

  void fence_answered(std::string_view payload) override {
    events.push_back("fence " + std::string(payload));
  }
  void continuous_updates_changed(bool enable, const Rect& r) override {
    events.push_back(fmt::format("continuous {} {},{} {}x{}", enable ? 1 : 0, r.x, r.y, r.w, r.h));
  }
  std::vector<std::string> events;
};

// Client bytes of a whole 3.8 handshake with security None and a shared ClientInit.
inline std::string client_handshake() {
  return "RFB 003.008\n" + bytes({1, 1});
}

inline std::string set_pixel_format_msg(const PixelFormat& pf) {
  std::string m = bytes({0, 0, 0, 0});
  write_pixel_format(pf, m);
  return m;
}

inline std::string set_encodings_msg(const std::vector<int32_t>& e) {
  std::string m = bytes({2, 0}) + u16(static_cast<int>(e.size()));
  for (int32_t v : e) m += u32(static_cast<uint32_t>(v));
  return m;
}

// A connection past ServerInit, its output taken.
struct Session {
  explicit Session(int width = 4, int height = 2) : conn(handler, width, height, "test") {
    conn.feed(client_handshake());
    auto st = conn.process();
    REACH_CHECK(st.has_value() && conn.ready(), "handshake failed");
    conn.take_output();
  }
  // Feeds and processes; the error message or "" on success.
  std::string send(const std::string& msg) {
    conn.feed(msg);
    auto st = conn.process();
    return st ? "" : st.error().message;
  }

  Recorder handler;
  ServerConnection conn;
};

}  // namespace reach::rfb::testing
