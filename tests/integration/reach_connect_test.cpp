// `reach connect` on the real programs: anyone on the machine can reach its local port, so the
// port alone is not a way into the session (the security review's item 7). A viewer must give
// the one-time password printed at start (VNC Authentication); a wrong one never opens the
// supporter end at the relay; the first viewer with it gets the session and the port closes;
// five wrong passwords stop the program. The device's handshake is answered for the viewer.
#include "integration/e2e_peer.h"
#include "integration/relay_process.h"
#include "reach/viewer_gate.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

std::string u32(std::uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A VNC viewer written out byte by byte, on a plain socket.
class RawViewer {
 public:
  explicit RawViewer(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    error_ = connected_ ? 0 : errno;
  }
  ~RawViewer() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool connected() const { return connected_; }
  int error() const { return error_; }
  void send(const std::string& s) { (void)::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  // Exactly n bytes, or what came before the peer closed or 10 s passed.
  std::string read(std::size_t n) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got <= 0) break;
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
  }
  bool closed_by_peer() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }
  // Up to the challenge of VNC Authentication (3.8); returns it.
  std::string until_challenge() {
    if (read(12) != "RFB 003.008\n") return {};
    send("RFB 003.008\n");
    if (read(2) != std::string("\x01\x02", 2)) return {};
    send("\x02");
    return read(16);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  int error_ = 0;
};

class ReachConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(relay_.init_and_start());
    dir_ = make_temp_dir("reach-connect-");
  }
  ApiResult new_session() {
    auto s = relay_.post_json("/api/v1/sessions", bj::object{{"groupname", "Connect"}},
                              relay_.admin_token());
    EXPECT_EQ(s.status, 200) << s;
    return s;
  }
  bool supporter_connected(const ApiResult& s) {
    auto g = relay_.get("/api/v1/sessions/" + s.str("code"), relay_.admin_token());
    return g.obj().at("connected").as_object().at("supporter").as_bool();
  }
  ::testing::AssertionResult start(ServerProcess& connect, const ApiResult& s) {
    return connect.start({program_path("reach"), "connect", s.str("supporter_link"), "--listen",
                          "127.0.0.1:0", "--log-level", "info"},
                         dir_ + "/connect.log", "reach connect");
  }

  RelayProcess relay_;
  std::string dir_;
};

TEST_F(ReachConnectTest,
       OnlyTheFirstViewerWithTheOneTimePasswordGetsTheSessionUntilTheRelayIsLost) {
  auto s = new_session();
  ServerProcess connect;
  ASSERT_TRUE(start(connect, s));
  std::string password = connect.second_line();
  ASSERT_EQ(password.size(), 8u) << "the second line of standard output is the password";

  {  // a wrong password: refused with a reason, and the relay never sees a supporter
    RawViewer v(connect.port());
    ASSERT_TRUE(v.connected());
    std::string challenge = v.until_challenge();
    ASSERT_EQ(challenge.size(), 16u);
    v.send(cli::vnc_auth_response("guessed!", challenge));
    std::string result = v.read(8);
    EXPECT_EQ(result.substr(0, 4), u32(1)) << "SecurityResult: failed";
    EXPECT_TRUE(v.closed_by_peer() || !v.read(200).empty());
  }
  {  // a viewer that asks for no authentication at all
    RawViewer v(connect.port());
    ASSERT_EQ(v.read(12), "RFB 003.008\n");
    v.send("RFB 003.008\n");
    ASSERT_EQ(v.read(2), std::string("\x01\x02", 2)) << "VNC Authentication is the only type";
    v.send("\x01");
    EXPECT_EQ(v.read(4), u32(1));
  }
  EXPECT_FALSE(supporter_connected(s)) << "a refused viewer opened the supporter end";

  // The right password: the supporter end opens; the device's handshake is answered for it.
  RawViewer viewer(connect.port());
  std::string challenge = viewer.until_challenge();
  ASSERT_EQ(challenge.size(), 16u);
  viewer.send(cli::vnc_auth_response(password, challenge));
  ASSERT_TRUE(wait_until([&] { return supporter_connected(s); }, 10s));
  {  // …and nobody else gets in any more: the port is closed
    RawViewer late(connect.port());
    EXPECT_FALSE(late.connected() && late.read(12) == "RFB 003.008\n")
        << "a second viewer was let in";
  }
  // The device's end (end-to-end encrypted as reach-agent's): reach connect says the code.
  net::EventLoop loop;
  auto connected = E2ePeer::connect(
      loop, relay_.ws_url("/api/v1/stream/device/" + last_segment(s.str("end_customer_link"))),
      device_end());
  ASSERT_TRUE(connected) << connected.error().message;
  auto device = *connected;
  ASSERT_TRUE(device->wait_established(10s));
  ASSERT_TRUE(wait_until(
      [&] {
        std::string code = device->verification_code();  // said as "123 456"
        return read_file_bytes(dir_ + "/connect.log")
                   .find("Verification code: " + code.substr(0, 3) + " " + code.substr(3)) !=
               std::string::npos;
      },
      10s))
      << "reach connect shows the verification code";
  device->send("RFB 003.008\n");
  ASSERT_TRUE(device->wait_bytes(12, 10s));
  device->send(std::string("\x01\x01", 2));  // None
  ASSERT_TRUE(device->wait_bytes(13, 10s));
  EXPECT_EQ(device->stream(), std::string("RFB 003.008\n\x01", 13))
      << "the gate's answers to the device";
  device->send(u32(0) + "SERVERINIT");
  EXPECT_EQ(viewer.read(4 + 10), u32(0) + "SERVERINIT") << "the viewer's SecurityResult: OK";
  viewer.send("\x01");  // ClientInit passes through
  ASSERT_TRUE(device->wait_bytes(14, 10s));

  // The relay dies mid-session: the viewer's connection is closed, as a viewer's is when the
  // session ends, and reach connect says that the connection was lost and a new session is
  // needed, and stops.
  relay_.kill9();
  EXPECT_TRUE(viewer.closed_by_peer());
  viewer.close();
  EXPECT_EQ(connect.wait_exit(10s), std::optional<int>(0));
  const std::string said = read_file_bytes(dir_ + "/connect.log");
  EXPECT_NE(said.find("Session ended: the connection to the relay was lost"), std::string::npos)
      << said;
  EXPECT_NE(said.find("request a new session"), std::string::npos) << said;
}

TEST_F(ReachConnectTest, TheDeviceUsersDenyReachesTheViewerWithItsReason) {
  auto s = new_session();
  ServerProcess connect;
  ASSERT_TRUE(start(connect, s));
  RawViewer viewer(connect.port());
  std::string challenge = viewer.until_challenge();
  viewer.send(cli::vnc_auth_response(connect.second_line(), challenge));
  ASSERT_TRUE(wait_until([&] { return supporter_connected(s); }, 10s));
  net::EventLoop loop;
  auto connected = E2ePeer::connect(
      loop, relay_.ws_url("/api/v1/stream/device/" + last_segment(s.str("end_customer_link"))),
      device_end());
  ASSERT_TRUE(connected);
  auto device = *connected;
  ASSERT_TRUE(device->wait_established(10s));
  std::string reason = "The device user denied the session.";
  device->send("RFB 003.008\n" + std::string(1, '\0') +
               u32(static_cast<std::uint32_t>(reason.size())) + reason);
  EXPECT_EQ(viewer.read(8 + reason.size()),
            u32(1) + u32(static_cast<std::uint32_t>(reason.size())) + reason);
  viewer.close();  // as a viewer does on a failed security result
  EXPECT_EQ(connect.wait_exit(15s), std::optional<int>(0));
  EXPECT_NE(read_file_bytes(dir_ + "/connect.log").find(reason), std::string::npos);
}

TEST_F(ReachConnectTest, FiveWrongPasswordsStopItAndTheLinkStillWorks) {
  auto s = new_session();
  ServerProcess connect;
  ASSERT_TRUE(start(connect, s));
  for (int i = 0; i < 5; ++i) {
    RawViewer v(connect.port());
    std::string challenge = v.until_challenge();
    ASSERT_EQ(challenge.size(), 16u) << "attempt " << i;
    v.send(cli::vnc_auth_response("nope" + std::to_string(i), challenge));
    EXPECT_EQ(v.read(4), u32(1));
  }
  auto status = connect.wait_exit(15s);
  EXPECT_TRUE(status && *status != 0) << "reach connect went on after five wrong passwords";
  EXPECT_NE(read_file_bytes(dir_ + "/connect.log")
                .find("too many wrong passwords or failed viewer connections"),
            std::string::npos);
  EXPECT_FALSE(supporter_connected(s));
  EXPECT_EQ(relay_.get("/support/" + last_segment(s.str("supporter_link"))).status, 200)
      << "the link was spent by a guesser";
}

}  // namespace
}  // namespace reach::itest
