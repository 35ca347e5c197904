// The admission gate (ServerConnection::hold_admission): the device user's "allow?" sits between
// the version exchange and the security offer, and nothing about the desktop leaves before it.
#include "rfb/server_connection.h"
#include "rfb/tight.h"

#include <gtest/gtest.h>

#include "unit/rfb/test_support.h"

namespace reach::rfb {
namespace {

using testing::bytes;
using testing::hex;
using testing::u32;

class AdmissionRecorder : public testing::Recorder {
 public:
  void admission_requested() override { ++asked; }
  int asked = 0;
};

// A held connection that has received the client's `version` and is waiting for admission.
::testing::AssertionResult held(ServerConnection& c, const std::string& version) {
  c.hold_admission();
  c.take_output();
  c.feed(version);
  if (!c.process()) return ::testing::AssertionFailure() << "process failed";
  if (!c.awaiting_admission()) return ::testing::AssertionFailure() << "not awaiting admission";
  return ::testing::AssertionSuccess();
}

TEST(RfbAdmission, NothingButTheVersionLeavesBeforeAdmit) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "secret-desktop-name");
  c.hold_admission();
  EXPECT_EQ(c.take_output(), "RFB 003.008\n");
  c.feed("RFB 003.008\n");
  ASSERT_TRUE(c.process());
  EXPECT_EQ(h.asked, 1);
  EXPECT_TRUE(c.awaiting_admission());
  EXPECT_EQ(c.take_output(), "");  // no security offer, no size, no name
  ASSERT_TRUE(c.process());        // waiting is not an error
  EXPECT_EQ(h.asked, 1);
  c.admit();
  EXPECT_EQ(hex(c.take_output()), hex(bytes({1, 1})));
  c.feed(bytes({1}));
  c.feed(bytes({0}));
  ASSERT_TRUE(c.process());
  EXPECT_TRUE(c.ready());
  std::string init = c.take_output();
  EXPECT_EQ(init.substr(0, 4), u32(0));  // SecurityResult OK, then ServerInit
  EXPECT_NE(init.find("secret-desktop-name"), std::string::npos);
}

TEST(RfbAdmission, RefuseTellsA38ClientWhyAndFails) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "d");
  ASSERT_TRUE(held(c, "RFB 003.008\n"));
  c.refuse("The device user denied the session.");
  std::string reason = "The device user denied the session.";
  EXPECT_EQ(hex(c.take_output()), hex(bytes({0}) + u32(reason.size()) + reason));
  auto st = c.process();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "rfbRefused");
  EXPECT_FALSE(c.ready());
}

TEST(RfbAdmission, RefuseUsesTheU32FormFor33Clients) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "d");
  ASSERT_TRUE(held(c, "RFB 003.003\n"));
  c.refuse("no");
  EXPECT_EQ(hex(c.take_output()), hex(u32(0) + u32(2) + "no"));
}

TEST(RfbAdmission, ClientBytesBeforeTheOfferAreAProtocolError) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "d");
  ASSERT_TRUE(held(c, "RFB 003.008\n"));
  c.feed(bytes({1}));  // a security type nobody offered yet
  auto st = c.process();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, "rfbProtocol");
  EXPECT_EQ(c.take_output(), "");  // still nothing about the desktop
}

TEST(RfbAdmission, WithoutHoldTheHandshakeIsUnchanged) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "d");
  c.take_output();
  c.feed("RFB 003.008\n");
  ASSERT_TRUE(c.process());
  EXPECT_EQ(h.asked, 0);
  EXPECT_EQ(hex(c.take_output()), hex(bytes({1, 1})));
}

}  // namespace
}  // namespace reach::rfb

namespace reach::rfb {
namespace {

// Progressive output (ServerConnection::set_progress_sink): a big Tight update leaves tile by
// tile, and the bytes are exactly those of the same update written in one piece.
Framebuffer noisy(int w, int h) {
  Framebuffer fb(w, h);
  std::uint32_t x = 12345;
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w; ++i) {
      x = x * 1103515245u + 12345u;
      fb.at(i, y) = (x >> 8) & 0xffffff;
    }
  return fb;
}

TEST(RfbProgress, BigTightUpdatesLeaveTileByTileWithTheSameBytes) {
  constexpr int kW = 3000, kH = 60;  // wider than a Tight rectangle may be: several tiles
  Framebuffer fb = noisy(kW, kH);
  Update u;
  u.changed = {fb.bounds()};
  auto setup = [](testing::Session& s) {
    EXPECT_EQ(s.send(testing::set_encodings_msg({encoding::kTight})), "");
  };

  testing::Session whole(kW, kH);
  setup(whole);
  ASSERT_TRUE(whole.conn.write_update(fb, u));
  std::string expected = whole.conn.take_output();

  testing::Session progressive(kW, kH);
  setup(progressive);
  std::vector<std::string> pieces;
  progressive.conn.set_progress_sink([&] { pieces.push_back(progressive.conn.take_output()); }, 1);
  ASSERT_TRUE(progressive.conn.write_update(fb, u));
  pieces.push_back(progressive.conn.take_output());
  std::string joined;
  for (const auto& p : pieces) joined += p;
  EXPECT_EQ(hex(joined), hex(expected));
  EXPECT_GE(pieces.size(), TightEncoder::rect_count(fb.bounds()));
  EXPECT_GE(TightEncoder::rect_count(fb.bounds()), 2u);

  // A threshold above the whole update: one piece, as without a sink.
  testing::Session lazy(kW, kH);
  setup(lazy);
  int calls = 0;
  lazy.conn.set_progress_sink([&] { ++calls; }, expected.size() + 1);
  ASSERT_TRUE(lazy.conn.write_update(fb, u));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(hex(lazy.conn.take_output()), hex(expected));
}

}  // namespace
}  // namespace reach::rfb
