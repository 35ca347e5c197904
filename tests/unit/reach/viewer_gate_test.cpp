// reach connect's password gate, byte for byte (RFC 6143 §7.1, §7.2.2), and its DES checked
// against libvncclient's (a VNC client nobody on this project wrote).
#include "reach/viewer_gate.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

// libvncclient's VNC Authentication (exported, not in its headers).
extern "C" void rfbClientEncryptBytes(unsigned char* bytes, char* passwd);

namespace reach::cli {
namespace {

std::string u32(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::array<std::uint8_t, 16> challenge_of(std::uint8_t seed) {
  std::array<std::uint8_t, 16> c{};
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
  return c;
}

std::string str(const std::array<std::uint8_t, 16>& c) {
  return std::string(c.begin(), c.end());
}

TEST(VncAuth, ResponseIsLibvncclientsForAnyPasswordAndChallenge) {
  std::mt19937 gen(7);
  for (int i = 0; i < 200; ++i) {
    std::string password;
    // Short, 8, and longer than the 8 bytes VNC uses. Not empty: an empty password is DES's
    // all-zero weak key, which libvncclient's libgcrypt refuses (leaving the bytes as they were).
    int len = 1 + i % 11;
    for (int k = 0; k < len; ++k) password += static_cast<char>(33 + gen() % 94);
    auto c = challenge_of(static_cast<std::uint8_t>(gen()));
    unsigned char theirs[16];
    std::copy(c.begin(), c.end(), theirs);
    rfbClientEncryptBytes(theirs, password.data());
    EXPECT_EQ(vnc_auth_response(password, str(c)), std::string(reinterpret_cast<char*>(theirs), 16))
        << "password '" << password << "'";
  }
}

TEST(VncAuth, OneTimePasswordsAreEightUnambiguousCharacters) {
  std::string a = random_viewer_password(), b = random_viewer_password();
  EXPECT_EQ(a.size(), 8u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_of("0O1lI"), std::string::npos) << a;
}

TEST(ViewerAuth, A38ViewerWithThePasswordIsLetIn) {
  auto c = challenge_of(1);
  ViewerAuth auth("s3cretPw", c);
  EXPECT_EQ(auth.greeting(), "RFB 003.008\n");
  std::string out;
  EXPECT_EQ(auth.feed("RFB 003.008\n", out), ViewerAuth::State::need_more);
  EXPECT_EQ(out, std::string("\x01\x02", 2)) << "one security type: VNC Authentication";
  out.clear();
  EXPECT_EQ(auth.feed("\x02", out), ViewerAuth::State::need_more);
  EXPECT_EQ(out, str(c));
  out.clear();
  // Byte by byte: short input waits.
  std::string response = vnc_auth_response("s3cretPw", str(c)) + "\x01";  // + ClientInit
  for (std::size_t i = 0; i + 1 < 16; ++i)
    EXPECT_EQ(auth.feed(response.substr(i, 1), out), ViewerAuth::State::need_more);
  EXPECT_EQ(auth.feed(response.substr(15), out), ViewerAuth::State::authenticated);
  EXPECT_TRUE(out.empty()) << "the security result waits for the device's";
  EXPECT_EQ(auth.minor(), 8);
  EXPECT_EQ(auth.rest(), "\x01");
}

TEST(ViewerAuth, AWrongPasswordIsRefusedWithAReason) {
  auto c = challenge_of(2);
  ViewerAuth auth("right-pw", c);
  std::string out;
  auth.feed("RFB 003.008\n\x02", out);
  out.clear();
  EXPECT_EQ(auth.feed(vnc_auth_response("wrong-pw", str(c)), out), ViewerAuth::State::failed);
  ASSERT_GE(out.size(), 8u);
  EXPECT_EQ(out.substr(0, 4), u32(1));
  EXPECT_EQ(out.substr(8), out.substr(8, out.size() - 8));
  EXPECT_NE(out.find("password"), std::string::npos);
  EXPECT_EQ(auth.why(), "wrong password");
}

TEST(ViewerAuth, OlderViewersAndBadChoices) {
  auto c = challenge_of(3);
  {
    ViewerAuth auth("pw", c);  // 3.3: the server names the type
    std::string out;
    EXPECT_EQ(auth.feed("RFB 003.003\n", out), ViewerAuth::State::need_more);
    EXPECT_EQ(out, u32(2) + str(c));
    out.clear();
    EXPECT_EQ(auth.feed(vnc_auth_response("pw", str(c)), out), ViewerAuth::State::authenticated);
    EXPECT_EQ(auth.minor(), 3);
  }
  {
    ViewerAuth auth("pw", c);  // 3.7 choosing None: refused, without a reason string
    std::string out;
    auth.feed("RFB 003.007\n", out);
    out.clear();
    EXPECT_EQ(auth.feed("\x01", out), ViewerAuth::State::failed);
    EXPECT_EQ(out, u32(1));
  }
  {
    ViewerAuth auth("pw", c);  // not RFB at all
    std::string out;
    EXPECT_EQ(auth.feed("GET / HTTP/1.1\r\n", out), ViewerAuth::State::failed);
    EXPECT_TRUE(out.empty());
  }
}

TEST(UpstreamGate, AnswersTheDevicesHandshakeAndThenPassesEverything) {
  UpstreamGate gate(8, "\x01");  // the viewer's ClientInit, held
  std::string to_tcp, to_ws;
  EXPECT_TRUE(gate.from_websocket("RFB 003.008\n", to_tcp, to_ws));
  EXPECT_EQ(to_ws, "RFB 003.008\n");
  EXPECT_TRUE(to_tcp.empty()) << "the viewer already has its version";
  to_ws.clear();
  EXPECT_TRUE(gate.from_tcp("early", to_ws));
  EXPECT_TRUE(to_ws.empty()) << "viewer bytes wait for the handshake";
  EXPECT_TRUE(gate.from_websocket(std::string("\x01\x01", 2), to_tcp, to_ws));
  EXPECT_EQ(to_ws, "\x01") << "None";
  to_ws.clear();
  EXPECT_FALSE(gate.passthrough());
  EXPECT_TRUE(gate.from_websocket(u32(0) + "INIT", to_tcp, to_ws));
  EXPECT_EQ(to_tcp, u32(0) + "INIT");
  EXPECT_EQ(to_ws, std::string("\x01") + "early");
  EXPECT_TRUE(gate.passthrough());
}

TEST(UpstreamGate, TheDeviceUsersDenyReachesTheViewerWithItsReason) {
  UpstreamGate gate(8, "");
  std::string to_tcp, to_ws;
  gate.from_websocket("RFB 003.008\n", to_tcp, to_ws);
  std::string reason = "The device user denied the session.";
  std::string refusal =
      std::string(1, '\0') + u32(static_cast<std::uint32_t>(reason.size())) + reason;
  EXPECT_TRUE(gate.from_websocket(refusal.substr(0, 3), to_tcp, to_ws)) << "short: waits";
  EXPECT_FALSE(gate.from_websocket(refusal.substr(3), to_tcp, to_ws));
  EXPECT_EQ(to_tcp, u32(1) + u32(static_cast<std::uint32_t>(reason.size())) + reason);
  EXPECT_EQ(gate.why(), reason);
  EXPECT_FALSE(gate.from_tcp("x", to_ws));
}

TEST(UpstreamGate, HeldViewerBytesAreBounded) {
  UpstreamGate gate(8, "");
  std::string to_ws;
  EXPECT_TRUE(gate.from_tcp(std::string(60 * 1024, 'x'), to_ws));
  EXPECT_FALSE(gate.from_tcp(std::string(8 * 1024, 'x'), to_ws));
}

}  // namespace
}  // namespace reach::cli
