#include "rfb/server_connection.h"

#include <gtest/gtest.h>

#include "unit/rfb/test_support.h"

namespace reach::rfb {
namespace {

using testing::bytes;
using testing::hex;
using testing::Recorder;
using testing::Session;
using testing::set_encodings_msg;
using testing::set_pixel_format_msg;
using testing::u16;
using testing::u32;

// ServerInit for a 4x2 desktop named "test" in the native format (RFC 6143 §7.3.2, §7.4).
std::string server_init_4x2() {
  return bytes({0,  4,  0, 2,                                    // width, height
                32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0,  // PIXEL_FORMAT
                0,  0,  0,                                       // padding
                0,  0,  0, 4}) +
         "test";
}

TEST(RfbHandshake, Version38WithNoneIsByteExact) {
  Recorder h;
  ServerConnection c(h, 4, 2, "test");
  EXPECT_EQ(c.take_output(), "RFB 003.008\n");
  c.feed("RFB 003.008\n");
  ASSERT_TRUE(c.process());
  EXPECT_EQ(hex(c.take_output()), hex(bytes({1, 1})));  // one security type: None
  c.feed(bytes({1}));
  ASSERT_TRUE(c.process());
  EXPECT_EQ(hex(c.take_output()), hex(u32(0)));  // SecurityResult OK
  EXPECT_FALSE(c.ready());
  c.feed(bytes({1}));  // ClientInit, shared
  ASSERT_TRUE(c.process());
  EXPECT_EQ(hex(c.take_output()), hex(server_init_4x2()));
  EXPECT_TRUE(c.ready());
  EXPECT_TRUE(c.shared());
  EXPECT_EQ(c.minor_version(), 8);
  EXPECT_TRUE(h.events.empty());
}

TEST(RfbHandshake, ByteByByteGivesTheSameTranscript) {
  Recorder h;
  ServerConnection c(h, 4, 2, "test");
  for (char b : testing::client_handshake()) {
    c.feed(std::string_view(&b, 1));
    ASSERT_TRUE(c.process());
  }
  EXPECT_EQ(hex(c.take_output()),
            hex("RFB 003.008\n" + bytes({1, 1}) + u32(0) + server_init_4x2()));
  EXPECT_TRUE(c.ready());
}

TEST(RfbHandshake, Version37HasNoSecurityResultForNone) {
  Recorder h;
  ServerConnection c(h, 4, 2, "test");
  c.feed("RFB 003.007\n" + bytes({1, 0}));
  ASSERT_TRUE(c.process());
  EXPECT_EQ(hex(c.take_output()), hex("RFB 003.008\n" + bytes({1, 1}) + server_init_4x2()));
  EXPECT_FALSE(c.shared());
  EXPECT_EQ(c.minor_version(), 7);
}

TEST(RfbHandshake, Version33GetsTheSecurityTypeAsU32) {
  Recorder h;
  ServerConnection c(h, 4, 2, "test");
  c.feed("RFB 003.003\n" + bytes({1}));
  ASSERT_TRUE(c.process());
  EXPECT_EQ(hex(c.take_output()), hex("RFB 003.008\n" + u32(1) + server_init_4x2()));
  EXPECT_EQ(c.minor_version(), 3);
}

TEST(RfbHandshake, WrongVersionStringIsRefusedWithAReason) {
  for (std::string bad : {std::string("GET / HTTP/1"), std::string("RFB 004.000\n"),
                          std::string("RFB 003.008\r"), std::string("RFB 003.002\n")}) {
    Recorder h;
    ServerConnection c(h, 4, 2, "test");
    c.take_output();
    c.feed(bad);
    auto st = c.process();
    ASSERT_FALSE(st) << bad;
    EXPECT_NE(st.error().message.find("version"), std::string::npos) << st.error().message;
    std::string out = c.take_output();  // zero security types, then the reason
    ASSERT_GE(out.size(), 5u);
    EXPECT_EQ(out[0], 0);
    EXPECT_EQ(out.substr(1, 4), u32(static_cast<uint32_t>(out.size() - 5)));
    EXPECT_EQ(out.substr(5), st.error().message);
    EXPECT_FALSE(c.process());  // stays failed
  }
}

TEST(RfbHandshake, UnofferedSecurityTypeGetsAFailedSecurityResult) {
  Recorder h;
  ServerConnection c(h, 4, 2, "test");
  c.feed("RFB 003.008\n" + bytes({2}));
  auto st = c.process();
  ASSERT_FALSE(st);
  std::string out = c.take_output();
  std::string reason = st.error().message;
  EXPECT_EQ(hex(out), hex("RFB 003.008\n" + bytes({1, 1}) + u32(1) +
                          u32(static_cast<uint32_t>(reason.size())) + reason));
}

// Every client message gives the same events whether it arrives whole, one byte per feed, or
// split in two at any position.
struct MessageCase {
  std::string name;
  std::string bytes;
  std::vector<std::string> events;
};

std::vector<MessageCase> message_cases() {
  std::vector<MessageCase> cases = {
      {"SetPixelFormat",
       set_pixel_format_msg(rgb565_format(true)),
       {"format 16/16 be1 max 31,63,31 shift 11,5,0"}},
      {"SetEncodings", set_encodings_msg({16, 1, 0, -223, -239}), {"encodings 16,1,0,-223,-239"}},
      {"SetEncodingsEmpty", set_encodings_msg({}), {"encodings "}},
      {"UpdateRequestClipped",
       bytes({3, 1}) + u16(1) + u16(0) + u16(10) + u16(10),
       {"update 1 1,0 3x2"}},
      {"UpdateRequestFull",
       bytes({3, 0}) + u16(0) + u16(0) + u16(4) + u16(2),
       {"update 0 0,0 4x2"}},
      {"KeyEvent", bytes({4, 1, 0, 0}) + u32(0xff0d), {"key 1 ff0d"}},
      {"KeyUp", bytes({4, 0, 0, 0}) + u32(0x61), {"key 0 61"}},
      {"PointerEventClipped", bytes({5, 5}) + u16(100) + u16(1), {"pointer 5 3,1"}},
      {"ClientCutText", bytes({6, 0, 0, 0}) + u32(5) + "h\xe9llo", {"cut h\xe9llo"}},
      {"ClientCutTextEmpty", bytes({6, 0, 0, 0}) + u32(0), {"cut "}},
  };
  MessageCase all{"AllInOneStream", "", {}};
  for (const auto& c : cases) {
    all.bytes += c.bytes;
    all.events.insert(all.events.end(), c.events.begin(), c.events.end());
  }
  cases.push_back(all);
  return cases;
}

TEST(RfbMessages, WholeByteByByteAndSplitAgree) {
  for (const MessageCase& mc : message_cases()) {
    SCOPED_TRACE(mc.name);
    {
      Session s;
      EXPECT_EQ(s.send(mc.bytes), "");
      EXPECT_EQ(s.handler.events, mc.events);
      EXPECT_EQ(s.conn.buffered_input(), 0u);
    }
    {
      Session s;
      for (char b : mc.bytes) ASSERT_EQ(s.send(std::string(1, b)), "");
      EXPECT_EQ(s.handler.events, mc.events);
    }
    for (size_t cut = 0; cut <= mc.bytes.size(); ++cut) {
      Session s;
      ASSERT_EQ(s.send(mc.bytes.substr(0, cut)), "") << cut;
      ASSERT_EQ(s.send(mc.bytes.substr(cut)), "") << cut;
      EXPECT_EQ(s.handler.events, mc.events) << "split at " << cut;
      EXPECT_TRUE(s.conn.take_output().empty());
    }
  }
}

TEST(RfbMessages, SetPixelFormatChangesTheClientFormat) {
  Session s;
  EXPECT_EQ(s.send(set_pixel_format_msg(bgr233_format())), "");
  EXPECT_EQ(s.conn.client_format(), bgr233_format());
}

// Each bad input gives an Error with a reason, is decided from the header alone (no need to
// buffer a body the server will refuse), and leaves the connection failed.
struct BadCase {
  std::string name;
  std::string bytes;
  std::string reason_has;
};

TEST(RfbMessages, BadInputIsAnErrorWithAReason) {
  PixelFormat bpp24 = native_pixel_format();
  bpp24.bits_per_pixel = 24;
  PixelFormat max0 = native_pixel_format();
  max0.green_max = 0;
  PixelFormat depth0 = native_pixel_format();
  depth0.depth = 0;
  PixelFormat colour_map = native_pixel_format();
  colour_map.true_colour = false;
  PixelFormat shift_out = rgb565_format(false);
  shift_out.red_shift = 12;
  PixelFormat not_pow2 = native_pixel_format();
  not_pow2.red_max = 200;
  // The count is a U16, so 100000 encodings cannot even be expressed: 65535 is the most a
  // client can claim, followed here by 100000 encodings' worth of bytes.
  std::string many = bytes({2, 0}) + u16(0xffff) + std::string(400000, '\0');
  const BadCase cases[] = {
      {"UnknownType", bytes({7, 0, 0, 0}), "unknown client message type 7"},
      {"UnknownType255", bytes({255}), "unknown client message type 255"},
      {"TooManyEncodings", many, "SetEncodings with 65535 encodings"},
      {"JustOverTheEncodingLimit", bytes({2, 0}) + u16(257), "limit 256"},
      {"CutTextLength2to31", bytes({6, 0, 0, 0}) + u32(0x80000000u), "cut text too long"},
      {"CutTextNegative", bytes({6, 0, 0, 0}) + u32(0xfffffff0u), "extended clipboard"},
      {"CutTextOver1MiB", bytes({6, 0, 0, 0}) + u32((1u << 20) + 1), "cut text too long"},
      {"Bpp24", set_pixel_format_msg(bpp24), "24 bits per pixel"},
      {"Max0", set_pixel_format_msg(max0), "green max is 0"},
      {"Depth0", set_pixel_format_msg(depth0), "zero bits"},
      {"ColourMap", set_pixel_format_msg(colour_map), "colour-map"},
      {"ShiftOutOfRange", set_pixel_format_msg(shift_out), "red shift 12"},
      {"MaxNotPowerOfTwoMinusOne", set_pixel_format_msg(not_pow2), "not 2^n-1"},
      {"UpdateFarOutside", bytes({3, 0}) + u16(60000) + u16(60000) + u16(100) + u16(100),
       "lies outside the 4x2 desktop"},
      {"UpdateJustOutside", bytes({3, 0}) + u16(4) + u16(0) + u16(1) + u16(1), "outside"},
  };
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.name);
    Session s;
    // Every strict prefix short of the deciding header waits instead of failing.
    std::string err = s.send(bc.bytes);
    EXPECT_NE(err.find(bc.reason_has), std::string::npos) << err;
    EXPECT_TRUE(s.handler.events.empty());
    EXPECT_FALSE(s.conn.process());
    EXPECT_TRUE(s.conn.take_output().empty());
  }
}

// rfbproto's Fence (-312) and ContinuousUpdates (-313), offered by the server's owner.
std::string client_fence(uint32_t flags, const std::string& payload) {
  return bytes({248, 0, 0, 0}) + u32(flags) + bytes({static_cast<int>(payload.size())}) + payload;
}
std::string enable_cu(bool on, int x, int y, int w, int h) {
  return bytes({150, on ? 1 : 0}) + u16(x) + u16(y) + u16(w) + u16(h);
}

TEST(RfbContinuous, OfferedToAClientThatListsBothTheServerSaysSoOnce) {
  Session s;
  s.conn.offer_continuous_updates();
  EXPECT_TRUE(s.conn.take_output().empty()) << "nothing before the client's encodings";
  ASSERT_EQ(s.send(set_encodings_msg({7, -312, -313})), "");
  // A fence request with no payload, then EndOfContinuousUpdates: "both are taken".
  EXPECT_EQ(hex(s.conn.take_output()), hex(client_fence(0x80000000u, "") + bytes({150})));
  EXPECT_TRUE(s.conn.fence_agreed());
  ASSERT_EQ(s.send(set_encodings_msg({7, -312, -313, -239})), "");
  EXPECT_TRUE(s.conn.take_output().empty()) << "said once";
}

TEST(RfbContinuous, EnableDisableAndFencesBothWays) {
  Session s(100, 50);
  s.conn.offer_continuous_updates();
  ASSERT_EQ(s.send(set_encodings_msg({-313, -312})), "");
  s.conn.take_output();
  s.handler.events.clear();
  // The client answers the announcing fence (empty payload), then enables, clipped to the desktop.
  ASSERT_EQ(s.send(client_fence(0, "") + enable_cu(true, 10, 20, 500, 500)), "");
  EXPECT_EQ(s.handler.events, (std::vector<std::string>{"fence ", "continuous 1 10,20 90x30"}));
  EXPECT_TRUE(s.conn.continuous_updates());
  EXPECT_TRUE(s.conn.take_output().empty());
  // The server's own fence, and the client's answer with the payload as sent.
  s.conn.write_fence(ServerConnection::kFenceRequest | ServerConnection::kFenceBlockBefore,
                     "rtt#7");
  EXPECT_EQ(hex(s.conn.take_output()), hex(client_fence(0x80000001u, "rtt#7")));
  ASSERT_EQ(s.send(client_fence(1, "rtt#7")), "");
  EXPECT_EQ(s.handler.events.back(), "fence rtt#7");
  // A client's fence request is answered with its payload, only the flags honoured, no Request.
  ASSERT_EQ(s.send(client_fence(0x80000000u | 0x7 | 0x100, std::string(64, 'p'))), "");
  EXPECT_EQ(hex(s.conn.take_output()), hex(client_fence(0x3, std::string(64, 'p'))));
  // Disabled: EndOfContinuousUpdates.
  ASSERT_EQ(s.send(enable_cu(false, 0, 0, 0, 0)), "");
  EXPECT_EQ(s.handler.events.back(), "continuous 0 10,20 90x30");
  EXPECT_FALSE(s.conn.continuous_updates());
  EXPECT_EQ(hex(s.conn.take_output()), hex(bytes({150})));
}

TEST(RfbContinuous, WithoutTheOfferOrTheAnnouncementTheyAreProtocolErrors) {
  const BadCase cases[] = {
      {"FenceNeverOffered", client_fence(0x80000000u, "x"), "not offered fences"},
      {"ContinuousNeverOffered", enable_cu(true, 0, 0, 4, 2), "not offered them"},
  };
  for (const BadCase& bc : cases) {
    SCOPED_TRACE(bc.name);
    Session s;
    ASSERT_EQ(s.send(set_encodings_msg({-312, -313})), "");  // listed, but never offered
    std::string err = s.send(bc.bytes);
    EXPECT_NE(err.find(bc.reason_has), std::string::npos) << err;
  }
  {
    Session s;  // offered, but the client listed only Fence: neither is announced
    s.conn.offer_continuous_updates();
    ASSERT_EQ(s.send(set_encodings_msg({-312})), "");
    EXPECT_TRUE(s.conn.take_output().empty());
    EXPECT_NE(s.send(client_fence(0, "")).find("not offered fences"), std::string::npos);
  }
  const BadCase offered[] = {
      {"FencePayloadOver64", client_fence(0x80000000u, std::string(65, 'x')), "65 bytes"},
      {"FenceLength255", bytes({248, 0, 0, 0}) + u32(0) + bytes({255}), "limit 64"},
      {"ContinuousOutside", enable_cu(true, 4, 0, 10, 10), "outside the 4x2 desktop"},
      {"ContinuousEmpty", enable_cu(true, 0, 0, 0, 0), "outside"},
  };
  for (const BadCase& bc : offered) {
    SCOPED_TRACE(bc.name);
    Session s;
    s.conn.offer_continuous_updates();
    ASSERT_EQ(s.send(set_encodings_msg({-312, -313})), "");
    s.conn.take_output();
    s.handler.events.clear();
    std::string err = s.send(bc.bytes);
    EXPECT_NE(err.find(bc.reason_has), std::string::npos) << err;
    EXPECT_TRUE(s.handler.events.empty());
    EXPECT_FALSE(s.conn.process()) << "the connection stays failed";
  }
}

TEST(RfbContinuous, SplitAnywhereGivesTheSameEvents) {
  const std::string stream = client_fence(0, "abc") + enable_cu(true, 1, 1, 2, 1) +
                             client_fence(0x80000000u, "") + enable_cu(false, 0, 0, 0, 0);
  std::vector<std::string> whole;
  {
    Session s;
    s.conn.offer_continuous_updates();
    ASSERT_EQ(s.send(set_encodings_msg({-312, -313})), "");
    s.handler.events.clear();
    ASSERT_EQ(s.send(stream), "");
    whole = s.handler.events;
  }
  EXPECT_EQ(whole, (std::vector<std::string>{"fence abc", "continuous 1 1,1 2x1",
                                             "continuous 0 1,1 2x1"}));
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    Session s;
    s.conn.offer_continuous_updates();
    ASSERT_EQ(s.send(set_encodings_msg({-312, -313})), "");
    s.handler.events.clear();
    ASSERT_EQ(s.send(stream.substr(0, cut)), "") << cut;
    ASSERT_EQ(s.send(stream.substr(cut)), "") << cut;
    EXPECT_EQ(s.handler.events, whole) << cut;
  }
}

TEST(RfbMessages, LargestAllowedMessagesAreAccepted) {
  Session s;
  std::vector<int32_t> e(ServerConnection::kMaxEncodings, 0);
  EXPECT_EQ(s.send(set_encodings_msg(e)), "");
  std::string text(ServerConnection::kMaxCutText, 'x');
  EXPECT_EQ(s.send(bytes({6, 0, 0, 0}) + u32(static_cast<uint32_t>(text.size())) + text), "");
  ASSERT_EQ(s.handler.events.size(), 2u);
  EXPECT_EQ(s.handler.events[1].size(), 4 + text.size());
}

// --- FramebufferUpdate bytes -------------------------------------------------------------------

constexpr Pixel kP1 = 0x00FF8040;  // r 255, g 128, b 64
constexpr Pixel kP2 = 0x00123456;  // r 18, g 52, b 86

Framebuffer two_pixels() {
  Framebuffer fb(2, 1);
  fb.at(0, 0) = kP1;
  fb.at(1, 0) = kP2;
  return fb;
}

std::string raw_update_2x1(Session& s) {
  Update u;
  u.changed = {Rect{0, 0, 2, 1}};
  EXPECT_TRUE(s.conn.write_update(two_pixels(), u));
  std::string out = s.conn.take_output();
  std::string head = bytes({0, 0}) + u16(1) + u16(0) + u16(0) + u16(2) + u16(1) + u32(0);
  EXPECT_EQ(hex(out.substr(0, head.size())), hex(head));
  return out.substr(std::min(out.size(), head.size()));
}

PixelFormat xrgb_big_endian() {
  PixelFormat pf = native_pixel_format();
  pf.big_endian = true;
  return pf;
}

struct RawCase {
  std::string name;
  PixelFormat pf;
  std::string pixels;
};

TEST(RfbUpdate, RawBytesInEachClientFormat) {
  // Hand-computed: a channel c becomes round(c * max / 255), i.e. (c * max + 127) / 255.
  //   565: P1 = 31,32,8 -> 0xFC08; P2 = 2,13,10 -> 0x11AA
  //   BGR233 (r bits 0-2, g 3-5, b 6-7): P1 = 7,4,1 -> 0x67; P2 = 0,1,1 -> 0x48
  const RawCase cases[] = {
      {"32bpp little-endian (native)", native_pixel_format(),
       bytes({0x40, 0x80, 0xff, 0x00, 0x56, 0x34, 0x12, 0x00})},
      {"32bpp big-endian", xrgb_big_endian(),
       bytes({0x00, 0xff, 0x80, 0x40, 0x00, 0x12, 0x34, 0x56})},
      {"RGB565 little-endian", rgb565_format(false), bytes({0x08, 0xfc, 0xaa, 0x11})},
      {"RGB565 big-endian", rgb565_format(true), bytes({0xfc, 0x08, 0x11, 0xaa})},
      {"BGR233", bgr233_format(), bytes({0x67, 0x48})},
  };
  for (const RawCase& rc : cases) {
    SCOPED_TRACE(rc.name);
    Session s(2, 1);
    ASSERT_EQ(s.send(set_pixel_format_msg(rc.pf)), "");
    EXPECT_EQ(hex(raw_update_2x1(s)), hex(rc.pixels));
  }
}

TEST(RfbUpdate, CopyRectBytes) {
  Session s;
  ASSERT_EQ(s.send(set_encodings_msg({1, 0})), "");
  Update u;
  u.copies = {CopyOp{Rect{2, 0, 2, 1}, 0, 1}};
  ASSERT_TRUE(s.conn.write_update(Framebuffer(4, 2), u));
  EXPECT_EQ(hex(s.conn.take_output()), hex(bytes({0, 0}) + u16(1) + u16(2) + u16(0) + u16(2) +
                                           u16(1) + u32(1) + u16(0) + u16(1)));
}

TEST(RfbUpdate, CopyRectFallsBackToPixelsWhenTheClientDoesNotTakeIt) {
  Session s(2, 1);
  Update u;
  u.copies = {CopyOp{Rect{0, 0, 2, 1}, 2, 1}};
  ASSERT_TRUE(s.conn.write_update(two_pixels(), u));  // source outside the 2x1 framebuffer too
  std::string out = s.conn.take_output();
  EXPECT_EQ(hex(out), hex(bytes({0, 0}) + u16(1) + u16(0) + u16(0) + u16(2) + u16(1) + u32(0) +
                          bytes({0x40, 0x80, 0xff, 0x00, 0x56, 0x34, 0x12, 0x00})));
}

TEST(RfbUpdate, DesktopSizeBytes) {
  Session s;
  ASSERT_EQ(s.send(set_encodings_msg({-223})), "");
  ASSERT_TRUE(s.conn.write_update(Framebuffer(8, 3), Update{}));
  EXPECT_EQ(hex(s.conn.take_output()),
            hex(bytes({0, 0}) + u16(1) + u16(0) + u16(0) + u16(8) + u16(3) + u32(0xffffff21u)));
  EXPECT_EQ(s.conn.width(), 8);
  EXPECT_EQ(s.conn.height(), 3);
  // Requests are now checked against the new size.
  EXPECT_EQ(s.send(bytes({3, 0}) + u16(6) + u16(2) + u16(5) + u16(5)), "");
  EXPECT_EQ(s.handler.events.back(), "update 0 6,2 2x1");
}

TEST(RfbUpdate, ResizeWithoutDesktopSizeIsAnError) {
  Session s;
  auto st = s.conn.write_update(Framebuffer(8, 3), Update{});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("DesktopSize"), std::string::npos);
}

TEST(RfbUpdate, CursorBytes) {
  Session s;
  ASSERT_EQ(s.send(set_encodings_msg({-239})), "");
  Cursor c{2, 2, 1, 1, {0xFFFF0000, 0x00000000, 0x8000FF00, 0x7F0000FF}};
  Update u;
  u.cursor = &c;
  ASSERT_TRUE(s.conn.write_update(Framebuffer(4, 2), u));
  EXPECT_EQ(hex(s.conn.take_output()),
            hex(bytes({0, 0}) + u16(1) + u16(1) + u16(1) + u16(2) + u16(2) + u32(0xffffff11u) +
                bytes({0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,  // red, transparent
                       0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00,  // green, blue (a<128)
                       0x80, 0x80})));                                  // mask rows
}

TEST(RfbUpdate, CursorIsLeftOutForClientsWithoutTheEncoding) {
  Session s;
  Cursor c{1, 1, 0, 0, {0xFFFFFFFF}};
  Update u;
  u.cursor = &c;
  ASSERT_TRUE(s.conn.write_update(Framebuffer(4, 2), u));
  EXPECT_EQ(hex(s.conn.take_output()), hex(bytes({0, 0, 0, 0})));
}

TEST(RfbUpdate, ServerMessages) {
  Session s;
  s.conn.write_bell();
  s.conn.write_server_cut_text("hi");
  EXPECT_EQ(hex(s.conn.take_output()), hex(bytes({2, 3, 0, 0, 0}) + u32(2) + "hi"));
}

// --- Open H.264 (encoding 50) -------------------------------------------------------------------

namespace video {

// The rectangles of one FramebufferUpdate that holds only Tight and H.264 rectangles: (rect,
// encoding, H.264 flags or -1). Tight rectangles are skipped by reading their compact lengths
// (fill: 3 bytes of colour; JPEG and basic: a length), enough for the updates these tests make.
struct Seen {
  Rect rect;
  int32_t encoding;
  int64_t flags = -1;
  std::string frame;
};

uint32_t be32(const std::string& s, size_t at) {
  return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 |
         uint32_t(uint8_t(s[at + 2])) << 8 | uint8_t(s[at + 3]);
}

std::vector<Seen> parse(const std::string& out) {
  std::vector<Seen> seen;
  size_t at = 2;
  int n = (uint8_t(out[at]) << 8) | uint8_t(out[at + 1]);
  at += 2;
  for (int i = 0; i < n; ++i) {
    auto u16at = [&](size_t k) { return (uint8_t(out[k]) << 8) | uint8_t(out[k + 1]); };
    Seen s{Rect{u16at(at), u16at(at + 2), u16at(at + 4), u16at(at + 6)},
           static_cast<int32_t>(be32(out, at + 8))};
    at += 12;
    if (s.encoding == encoding::kOpenH264) {
      uint32_t len = be32(out, at);
      s.flags = be32(out, at + 4);
      s.frame = out.substr(at + 8, len);
      at += 8 + len;
    } else {
      EXPECT_EQ(s.encoding, encoding::kTight);
      uint8_t control = uint8_t(out[at++]);
      if ((control >> 4) == 8) {  // fill: one TPIXEL (3 bytes)
        at += 3;
      } else {
        // JPEG (9) or basic without a filter: a compact length then data (basic data under 12
        // bytes has none; not made by these tests' pictures).
        size_t len = 0;
        for (int shift = 0; shift < 21; shift += 7) {
          uint8_t b = uint8_t(out[at++]);
          len |= size_t(b & 0x7f) << shift;
          if (!(b & 0x80)) break;
        }
        at += len;
      }
    }
    seen.push_back(std::move(s));
  }
  EXPECT_EQ(at, out.size()) << "the update was parsed to its end";
  return seen;
}

// A busy picture (so that a basic or JPEG rectangle is chosen) with a square at `t`.
Framebuffer picture(int t) {
  Framebuffer fb(128, 96);
  for (int y = 0; y < fb.height(); ++y)
    for (int x = 0; x < fb.width(); ++x) fb.at(x, y) = uint32_t((x * 7 + y * 13 + t) & 0xff) << 8;
  fb.fill(Rect{t * 4, 16, 32, 32}, 0xff00ff);
  return fb;
}

}  // namespace video

TEST(RfbVideo, AnAreaIsOneH264FrameItsFirstWithAKeyFrameAndAReset) {
  Session s(128, 96);
  s.conn.set_video(true);
  ASSERT_EQ(s.send(set_encodings_msg({50, 7, -26})), "");
  ASSERT_TRUE(s.conn.video_active());
  for (int t = 0; t < 3; ++t) {
    Update u;
    u.video = {Rect{0, 0, 128, 64}};
    u.time_ms = t * 33;
    ASSERT_TRUE(s.conn.write_update(video::picture(t), u));
    auto seen = video::parse(s.conn.take_output());
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].rect, (Rect{0, 0, 128, 64}));
    EXPECT_EQ(seen[0].encoding, 50);
    // A new area resets its context at the viewer and starts with SPS, PPS and an IDR.
    EXPECT_EQ(seen[0].flags, t == 0 ? kH264ResetContext : 0);
    ASSERT_GT(seen[0].frame.size(), 4u);
    EXPECT_EQ(uint8_t(seen[0].frame[4]) & 0x1f, t == 0 ? 7 : 1);
    // What went lossy is reported, for the exact copy that follows once it is still.
    EXPECT_EQ(s.conn.take_lossy(), (std::vector<Rect>{Rect{0, 0, 128, 64}}));
  }
  EXPECT_EQ(s.conn.video_frames(), 3u);
}

TEST(RfbVideo, ChangesBesideVideoStayTight) {
  Session s(128, 96);
  s.conn.set_video(true);
  ASSERT_EQ(s.send(set_encodings_msg({50, 7})), "");
  Update u;
  u.changed = {Rect{0, 80, 16, 16}};
  u.video = {Rect{0, 0, 128, 64}};
  ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
  auto seen = video::parse(s.conn.take_output());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].encoding, encoding::kTight);
  EXPECT_EQ(seen[1].encoding, encoding::kOpenH264);
}

TEST(RfbVideo, WithoutTheClientsOrTheOwnersYesVideoGoesAsTight) {
  for (bool allowed : {false, true}) {
    SCOPED_TRACE(allowed ? "client without 50" : "video not allowed");
    Session s(128, 96);
    s.conn.set_video(allowed);
    ASSERT_EQ(
        s.send(set_encodings_msg(allowed ? std::vector<int32_t>{7} : std::vector<int32_t>{50, 7})),
        "");
    EXPECT_FALSE(s.conn.video_active());
    Update u;
    u.video = {Rect{0, 0, 128, 64}};
    ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
    for (const auto& seen : video::parse(s.conn.take_output()))
      EXPECT_EQ(seen.encoding, encoding::kTight);
    EXPECT_EQ(s.conn.video_frames(), 0u);
  }
}

TEST(RfbVideo, AreasH264CannotTakeGoAsChanges) {
  Session s(128, 96);
  s.conn.set_video(true);
  ASSERT_EQ(s.send(set_encodings_msg({50})), "");  // and Raw, which every client takes
  for (Rect r : {Rect{0, 0, 14, 64}, Rect{0, 0, 64, 10}, Rect{1, 1, 33, 32}}) {
    Update u;
    u.video = {r};
    ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
    std::string out = s.conn.take_output();
    EXPECT_EQ(hex(out.substr(0, 16)), hex(bytes({0, 0}) + u16(1) + u16(r.x) + u16(r.y) + u16(r.w) +
                                          u16(r.h) + u32(encoding::kRaw)));
    EXPECT_EQ(out.size(), 16u + 4u * r.w * r.h);
  }
  EXPECT_EQ(s.conn.video_frames(), 0u);
}

TEST(RfbVideo, ALosslessUpdateNeverUsesJpegAndTheClientsQualityComesBack) {
  Session s(128, 96);
  ASSERT_EQ(s.send(set_encodings_msg({7, -26})), "");  // Tight, JPEG quality 6
  Update u;
  u.changed = {Rect{0, 0, 128, 96}};
  ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
  s.conn.take_output();
  EXPECT_FALSE(s.conn.take_lossy().empty()) << "JPEG was chosen for a busy picture";
  u.lossless = true;
  ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
  s.conn.take_output();
  EXPECT_TRUE(s.conn.take_lossy().empty());
  u.lossless = false;
  ASSERT_TRUE(s.conn.write_update(video::picture(0), u));
  EXPECT_FALSE(s.conn.take_lossy().empty());
}

TEST(RfbVideo, AtMostFourContextsAndAReturningAreaStartsAgainWithAReset) {
  Session s(128, 96);
  s.conn.set_video(true);
  ASSERT_EQ(s.send(set_encodings_msg({50, 7})), "");
  auto flags_for = [&](Rect r) {
    Update u;
    u.video = {r};
    EXPECT_TRUE(s.conn.write_update(video::picture(0), u));
    auto seen = video::parse(s.conn.take_output());
    return seen.size() == 1 ? seen[0].flags : -2;
  };
  const Rect first{0, 0, 32, 32};
  EXPECT_EQ(flags_for(first), kH264ResetContext);
  EXPECT_EQ(flags_for(first), 0);
  for (int i = 1; i <= int(ServerConnection::kMaxVideoContexts); ++i)
    EXPECT_EQ(flags_for(Rect{i * 16, 32, 32, 32}), kH264ResetContext);
  // The first area's encoder was dropped: a new one, and the viewer is told to start over.
  EXPECT_EQ(flags_for(first), kH264ResetContext);
}

}  // namespace
}  // namespace reach::rfb
