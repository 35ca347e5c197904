// Guessing session codes and links is throttled per client address and per code, and logged
// (SPEC §4.2, §10), on the real program: one address that guesses wrong codes is refused with 429
// while another address still joins with a right code; wrong link tokens for one code throttle
// that code, whatever the address, and only for a while.
#include "integration/relay_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

struct Upgrade {
  int status = 0;  // 0: no HTTP answer
  std::string head, body;
};

// Sends a WebSocket upgrade request for `target` by hand from `bind_address` and reads the
// answer's head (and body, by Content-Length). The connection is then closed.
Upgrade raw_upgrade(std::uint16_t port, const std::string& bind_address,
                    const std::string& target) {
  Upgrade out;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, bind_address.c_str(), &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "cannot connect from " << bind_address << ": " << std::strerror(errno);
    ::close(fd);
    return out;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::size_t need = std::string::npos;
  while (std::chrono::steady_clock::now() < deadline) {
    auto end = got.find("\r\n\r\n");
    if (end != std::string::npos && need == std::string::npos) {
      out.head = got.substr(0, end + 4);
      need = end + 4;
      auto cl = out.head.find("Content-Length: ");
      if (cl == std::string::npos) cl = out.head.find("content-length: ");
      if (cl != std::string::npos) need += std::stoul(out.head.substr(cl + 16));
    }
    if (need != std::string::npos && got.size() >= need) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (need != std::string::npos) out.body = got.substr(out.head.size());
  if (got.starts_with("HTTP/1.1 ") && got.size() >= 12) out.status = std::stoi(got.substr(9, 3));
  return out;
}

class RelayThrottleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(relay_.init_and_start());
    token_ = relay_.admin_token();
  }
  ApiResult new_session() {
    auto r = relay_.post_json("/api/v1/sessions", bj::object{{"groupname", "Throttle"}}, token_);
    EXPECT_EQ(r.status, 200) << r;
    return r;
  }

  RelayProcess relay_;
  std::string token_;
};

TEST_F(RelayThrottleTest, WrongCodesFromOneAddressGet429WhileAnotherAddressStillJoins) {
  auto s = new_session();
  std::string code = s.str("code");
  net::EventLoop loop;
  std::mt19937 gen(std::random_device{}());
  std::uniform_int_distribution<int> nn(0, 99);
  std::vector<int> statuses;
  std::string last_429;
  for (int i = 0; i < 200; ++i) {
    char wrong[16];
    std::snprintf(wrong, sizeof wrong, "s00-000-0%02d", nn(gen));
    if (wrong == code) continue;
    auto ws = net::websocket_connect(
        loop, relay_.ws_url(std::string("/api/v1/stream/device?code=") + wrong), {},
        std::make_shared<WsPeer>());
    ASSERT_FALSE(ws) << "joined with the wrong code " << wrong;
    statuses.push_back(ws.error().status);
    if (ws.error().status == 429) last_429 = ws.error().message;
  }
  int not_found = static_cast<int>(std::count(statuses.begin(), statuses.end(), 404));
  int throttled = static_cast<int>(std::count(statuses.begin(), statuses.end(), 429));
  std::printf("[throttle] %zu wrong codes from 127.0.0.1: %d x 404, %d x 429\n", statuses.size(),
              not_found, throttled);
  EXPECT_EQ(not_found + throttled, static_cast<int>(statuses.size())) << "other statuses seen";
  ASSERT_GE(statuses.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(statuses[i], 404) << "attempt " << i;
  EXPECT_LE(not_found, 12) << "guessing was hardly slowed down";
  EXPECT_GE(throttled, static_cast<int>(statuses.size()) - 12);
  EXPECT_NE(last_429.find("too_many_retries"), std::string::npos) << last_429;

  // The guessing address is refused even with the right code while it is blocked…
  auto blocked = raw_upgrade(relay_.port(), "127.0.0.1", "/api/v1/stream/device?code=" + code);
  EXPECT_EQ(blocked.status, 429) << blocked.head << blocked.body;
  // …but another address joins with it at the same time.
  auto other = raw_upgrade(relay_.port(), "127.0.0.2", "/api/v1/stream/device?code=" + code);
  EXPECT_EQ(other.status, 101) << other.head << other.body;
  EXPECT_NE(other.head.find("101 Switching Protocols"), std::string::npos) << other.head;

  auto log = relay_.read_stderr_log();
  EXPECT_NE(log.find("relay.bad_guess"), std::string::npos) << "wrong guesses are not logged";
  EXPECT_NE(log.find("relay.guess_throttled"), std::string::npos) << "throttling is not logged";
}

TEST_F(RelayThrottleTest, WrongLinkTokensThrottleThatCodeForAWhile) {
  auto s = new_session();
  auto unrelated = new_session();
  std::string c = last_segment(s.str("supporter_link")).substr(0, 9);  // canonical code
  std::string wrong_ref = c + "-" + std::string(32, 'A');
  // One attempt per address, so that only the per-code counter can add up.
  std::vector<int> statuses;
  std::string last_body;
  for (int i = 0; i < 8; ++i) {
    auto u = raw_upgrade(relay_.port(), "127.0.0." + std::to_string(10 + i),
                         "/api/v1/stream/supporter/" + wrong_ref);
    statuses.push_back(u.status);
    last_body = u.body;
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(statuses[i], 404) << "attempt " << i;
  for (int i = 5; i < 8; ++i) EXPECT_EQ(statuses[i], 429) << "attempt " << i << " not throttled";
  EXPECT_NE(last_body.find("this session"), std::string::npos) << last_body;

  // While the code is blocked even its right link waits, from a fresh address…
  auto right = "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"));
  EXPECT_EQ(raw_upgrade(relay_.port(), "127.0.0.30", right).status, 429);
  // …other sessions are not affected…
  auto u = raw_upgrade(relay_.port(), "127.0.0.31",
                       "/api/v1/stream/device/" + last_segment(unrelated.str("end_customer_link")));
  EXPECT_EQ(u.status, 101) << u.head << u.body;
  // …and once the delay has passed the right link works.
  std::this_thread::sleep_for(1200ms);
  auto later = raw_upgrade(relay_.port(), "127.0.0.32", right);
  EXPECT_EQ(later.status, 101) << later.head << later.body;
}

}  // namespace
}  // namespace reach::itest
