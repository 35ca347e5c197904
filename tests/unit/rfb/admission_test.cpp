// The admission gate (ServerConnection::hold_admission): the device user's "allow?" sits between
// the version exchange and the security offer, and nothing about the desktop leaves before it.
#include "rfb/server_connection.h"

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
  c.hold_admission();
  c.take_output();
  c.feed("RFB 003.008\n");
  ASSERT_TRUE(c.process());
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
  c.hold_admission();
  c.take_output();
  c.feed("RFB 003.003\n");
  ASSERT_TRUE(c.process());
  c.refuse("no");
  EXPECT_EQ(hex(c.take_output()), hex(u32(0) + u32(2) + "no"));
}

TEST(RfbAdmission, ClientBytesBeforeTheOfferAreAProtocolError) {
  AdmissionRecorder h;
  ServerConnection c(h, 4, 2, "d");
  c.hold_admission();
  c.take_output();
  c.feed("RFB 003.008\n");
  ASSERT_TRUE(c.process());
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
