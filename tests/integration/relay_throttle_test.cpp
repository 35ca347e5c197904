// The ways into a session (SPEC §4.2, §10), tried as an attacker would on the real program: the
// supporter end takes the supporter link only, the device end of a session the hub (or any API
// client) made takes its end-customer link only, and the code alone opens only the device end of
// a portal session. Guessing is throttled per client (an IPv4 address, an IPv6 /64) and per
// code, and logged; a success never resets a client's count, and failures on a code never lock
// out the holders of its links. Counts of refusals decide, never seconds.
#include "integration/relay_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
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
// `to` is where the relay listens: 127.0.0.1 for IPv4 sources, an IPv6 address for IPv6 ones.
Upgrade raw_upgrade(std::uint16_t port, const std::string& bind_address, const std::string& target,
                    const std::string& to = "127.0.0.1") {
  Upgrade out;
  bool v6 = bind_address.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return out;
  sockaddr_storage local{}, addr{};
  socklen_t len = 0;
  if (v6) {
    auto* l = reinterpret_cast<sockaddr_in6*>(&local);
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    l->sin6_family = a->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, bind_address.c_str(), &l->sin6_addr);
    ::inet_pton(AF_INET6, to.c_str(), &a->sin6_addr);
    a->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  } else {
    auto* l = reinterpret_cast<sockaddr_in*>(&local);
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    l->sin_family = a->sin_family = AF_INET;
    ::inet_pton(AF_INET, bind_address.c_str(), &l->sin_addr);
    ::inet_pton(AF_INET, to.c_str(), &a->sin_addr);
    a->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), len) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
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
  bool supporter_connected(const ApiResult& s) {
    auto g = relay_.get("/api/v1/sessions/" + s.str("code"), token_);
    return g.obj().at("connected").as_object().at("supporter").as_bool();
  }
  static std::string canonical(const ApiResult& s) {
    return last_segment(s.str("supporter_link")).substr(0, 9);
  }

  RelayProcess relay_;
  std::string token_;
};

// Finding 1: `/api/v1/stream/supporter/?code=CODE` (an empty ref) opened the supporter end with
// the code alone, and the real supporter then got 409.
TEST_F(RelayThrottleTest, TheSupporterEndTakesTheSupporterLinkOnly) {
  auto s = new_session();
  std::string code = s.str("code"), c = canonical(s);
  std::string device_ref = last_segment(s.str("end_customer_link"));
  std::string supporter_ref = last_segment(s.str("supporter_link"));
  int address = 40;
  auto from_fresh = [&](const std::string& target) {
    return raw_upgrade(relay_.port(), "127.0.0." + std::to_string(address++), target);
  };
  for (const std::string& target :
       {"/api/v1/stream/supporter/?code=" + code, "/api/v1/stream/supporter/?code=" + c,
        std::string("/api/v1/stream/supporter/"), "/api/v1/stream/supporter/" + c,
        "/api/v1/stream/supporter/" + device_ref,  // the other side's token
        "/api/v1/stream/supporter/" + c + "-" + std::string(32, 'A')}) {
    auto u = from_fresh(target);
    EXPECT_EQ(u.status, 404) << target << "\n" << u.head << u.body;
    EXPECT_FALSE(supporter_connected(s)) << target;
  }
  // The device end of an API-made session: the code alone and the supporter's token are refused.
  for (const std::string& target :
       {"/api/v1/stream/device?code=" + code, "/api/v1/stream/device/" + supporter_ref}) {
    auto u = from_fresh(target);
    EXPECT_EQ(u.status, 404) << target << "\n" << u.head << u.body;
  }
  // The links still work, each for its own side.
  auto sup = from_fresh("/api/v1/stream/supporter/" + supporter_ref);
  EXPECT_EQ(sup.status, 101) << sup.head << sup.body;
  auto dev = from_fresh("/api/v1/stream/device/" + device_ref);
  EXPECT_EQ(dev.status, 101) << dev.head << dev.body;
  // Beast's name and version are not announced (finding 8).
  EXPECT_EQ(sup.head.find("Beast"), std::string::npos) << sup.head;
}

TEST_F(RelayThrottleTest, APortalSessionsDeviceMayJoinWithTheCodeAlone) {
  auto p = relay_.portal_session();
  ASSERT_EQ(p.status, 200) << p;
  auto u = raw_upgrade(relay_.port(), "127.0.0.60", "/api/v1/stream/device?code=" + p.str("code"));
  EXPECT_EQ(u.status, 101) << u.head << u.body;
  // …but never its supporter end.
  auto s =
      raw_upgrade(relay_.port(), "127.0.0.61", "/api/v1/stream/supporter/?code=" + p.str("code"));
  EXPECT_EQ(s.status, 404) << s.head << s.body;
}

TEST_F(RelayThrottleTest, WrongCodesFromOneAddressGet429WhileAnotherAddressStillJoins) {
  auto p = relay_.portal_session();
  std::string code = p.str("code");
  std::vector<int> statuses;
  std::string last_429;
  for (int i = 0; i < 60; ++i) {
    char wrong[16];
    std::snprintf(wrong, sizeof wrong, "s00-000-%03d", i);
    if (wrong == code) continue;
    auto u =
        raw_upgrade(relay_.port(), "127.0.0.1", std::string("/api/v1/stream/device?code=") + wrong);
    statuses.push_back(u.status);
    if (u.status == 429) last_429 = u.body;
  }
  int not_found = static_cast<int>(std::count(statuses.begin(), statuses.end(), 404));
  int throttled = static_cast<int>(std::count(statuses.begin(), statuses.end(), 429));
  std::printf("[throttle] %zu wrong codes from 127.0.0.1: %d x 404, %d x 429\n", statuses.size(),
              not_found, throttled);
  EXPECT_EQ(not_found + throttled, static_cast<int>(statuses.size())) << "other statuses seen";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(statuses.at(i), 404) << "attempt " << i;
  EXPECT_LE(not_found, 7) << "guessing was hardly slowed down";
  EXPECT_NE(last_429.find("too_many_retries"), std::string::npos) << last_429;

  // The guessing address is refused even with the right code while it waits…
  auto blocked = raw_upgrade(relay_.port(), "127.0.0.1", "/api/v1/stream/device?code=" + code);
  EXPECT_EQ(blocked.status, 429) << blocked.head << blocked.body;
  // …but another address joins with it at the same time.
  auto other = raw_upgrade(relay_.port(), "127.0.0.2", "/api/v1/stream/device?code=" + code);
  EXPECT_EQ(other.status, 101) << other.head << other.body;

  auto log = relay_.read_stderr_log();
  EXPECT_NE(log.find("relay.bad_guess"), std::string::npos) << "wrong guesses are not logged";
  EXPECT_NE(log.find("relay.guess_throttled"), std::string::npos) << "throttling is not logged";
  // One line for the whole flood of refusals, not one each.
  std::size_t lines = 0;
  for (auto at = log.find("relay.guess_throttled"); at != std::string::npos;
       at = log.find("relay.guess_throttled", at + 1))
    ++lines;
  EXPECT_LT(lines, static_cast<std::size_t>(throttled)) << "every refusal was logged";
}

// Finding 3: a success for any existing code (even a closed one) reset the address's count, so
// "4 guesses + 1 known old code" went on forever.
TEST_F(RelayThrottleTest, AKnownOldCodeDoesNotResetTheCount) {
  auto old = relay_.portal_session();
  ASSERT_EQ(
      relay_
          .put_json("/api/v1/sessions/" + old.str("code"), bj::object{{"state", "closed"}}, token_)
          .status,
      204);
  int wrong_404 = 0, wrong_429 = 0;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 4; ++i) {
      char wrong[16];
      std::snprintf(wrong, sizeof wrong, "s00-001-%03d", round * 4 + i);
      auto u = raw_upgrade(relay_.port(), "127.0.0.3",
                           std::string("/api/v1/stream/device?code=") + wrong);
      (u.status == 404 ? wrong_404 : wrong_429) += 1;
      EXPECT_TRUE(u.status == 404 || u.status == 429) << u.head;
    }
    auto known =
        raw_upgrade(relay_.port(), "127.0.0.3", "/api/v1/stream/device?code=" + old.str("code"));
    EXPECT_TRUE(known.status == 410 || known.status == 429) << known.head << known.body;
  }
  std::printf("[throttle] 40 wrong codes between known old ones: %d x 404, %d x 429\n", wrong_404,
              wrong_429);
  EXPECT_LE(wrong_404, 5) << "the known code reset the count";
  EXPECT_GE(wrong_429, 35);
}

// Finding 3: five wrong tokens for a known code locked its legitimate holders out for a while.
TEST_F(RelayThrottleTest, WrongTokensForACodeNeverLockOutItsLinks) {
  auto s = new_session();
  auto unrelated = new_session();
  std::string wrong_ref = canonical(s) + "-" + std::string(32, 'A');
  // One attempt per address, so that only the per-code counter adds up.
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
  // The right links work at once, with no waiting, from a fresh address and from a guessing one.
  auto right = "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"));
  auto u = raw_upgrade(relay_.port(), "127.0.0.30", right);
  EXPECT_EQ(u.status, 101) << u.head << u.body;
  auto dev = raw_upgrade(relay_.port(), "127.0.0.17",
                         "/api/v1/stream/device/" + last_segment(s.str("end_customer_link")));
  EXPECT_EQ(dev.status, 101) << dev.head << dev.body;
  auto other =
      raw_upgrade(relay_.port(), "127.0.0.31",
                  "/api/v1/stream/device/" + last_segment(unrelated.str("end_customer_link")));
  EXPECT_EQ(other.status, 101) << other.head << other.body;
}

// Finding 5: the request log printed links and codes.
TEST_F(RelayThrottleTest, TheRequestLogHoldsNoLinkTokenOrCode) {
  auto s = new_session();
  std::string token = last_segment(s.str("supporter_link")).substr(10);
  (void)relay_.get("/support/" + last_segment(s.str("supporter_link")));
  (void)relay_.get("/join/" + last_segment(s.str("end_customer_link")));
  (void)raw_upgrade(relay_.port(), "127.0.0.50",
                    "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link")));
  (void)relay_.get("/api/v1/sessions/" + s.str("code"), token_);
  ASSERT_TRUE(
      wait_until([&] { return relay_.read_stderr_log().find("/join/") != std::string::npos; }, 5s));
  auto log = relay_.read_stderr_log();
  EXPECT_NE(log.find("/support/[redacted]"), std::string::npos) << tail(log);
  EXPECT_EQ(log.find(token), std::string::npos) << "a link token is in the log";
  EXPECT_EQ(log.find(last_segment(s.str("end_customer_link")).substr(10)), std::string::npos);
  EXPECT_EQ(log.find("/api/v1/sessions/" + s.str("code")), std::string::npos) << tail(log);
}

// Moves this test's process (and every program it starts) into a network namespace of its own,
// with loopback up and addresses in two IPv6 /64s: fd00:52::1 (where the relay is reached),
// fd00:52::100 … fd00:52::13f (one client's /64), fd00:52:0:1::1 (another /64 of the same /48)
// and fd00:53::1 (another client).
::testing::AssertionResult private_network() {
  bool root = ::geteuid() == 0;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (::unshare(CLONE_NEWNET | (root ? 0 : CLONE_NEWUSER)) != 0)
    return ::testing::AssertionFailure() << "unshare: " << std::strerror(errno);
  if (!root) {  // become root of the new user namespace, to configure its network
    auto write = [](const char* path, const std::string& text) {
      int fd = ::open(path, O_WRONLY | O_CLOEXEC);
      bool ok =
          fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) ::close(fd);
      return ok;
    };
    if (!write("/proc/self/setgroups", "deny") ||
        !write("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !write("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
      return ::testing::AssertionFailure() << "cannot map this user into the namespace";
  }
  std::vector<std::vector<std::string>> commands = {
      {"/bin/ip", "link", "set", "lo", "up"},
      {"/bin/ip", "-6", "addr", "add", "fd00:52::1/128", "dev", "lo", "nodad"},
      {"/bin/ip", "-6", "addr", "add", "fd00:53::1/128", "dev", "lo", "nodad"},
      {"/bin/ip", "-6", "addr", "add", "fd00:52:0:1::1/128", "dev", "lo", "nodad"}};
  for (int i = 0; i < 64; ++i) {
    char a[40];
    std::snprintf(a, sizeof a, "fd00:52::%x/128", 0x100 + i);
    commands.push_back({"/bin/ip", "-6", "addr", "add", a, "dev", "lo", "nodad"});
  }
  for (const auto& c : commands) {
    auto r = run_command(c);
    if (r.exit_code != 0)
      return ::testing::AssertionFailure()
             << c[0] << " " << c[3] << " exited " << r.exit_code << ": " << r.err;
  }
  return ::testing::AssertionSuccess();
}

// SPEC §4.2 and the review's finding 3, on the wire: every address of one IPv6 /64 is one
// client (a subscriber gets a whole /64), each IPv4 address is its own. Refusals are counted.
// Issue 20, finding 2, at the relay: wrong passwords for an account from many addresses slow
// its sign-ins and never refuse its owner's right password (the connector's onboarding needs
// that sign-in); a client's own failures still block that client.
TEST(RelaySignIn, FailuresAgainstAnAccountFromElsewhereNeverRefuseItsOwner) {
  RelayProcess relay;
  ASSERT_TRUE(relay.init_and_start({"--trusted-proxy", "127.0.0.1"}));
  auto attempt = [&](const std::string& address, const std::string& password) {
    Browser b{relay.base_url()};
    b.headers.set("X-Forwarded-For", address);
    auto page = b.go("GET", "/signin");
    auto fields = hidden_inputs(page.body);
    return b
        .go("POST", "/signin",
            form_encode({{"csrf", fields["csrf"]},
                         {"continue", "/"},
                         {"email", relay.options().admin_email},
                         {"password", password}}))
        .status;
  };
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(attempt("203.0.113." + std::to_string(i), "Wrong-" + std::to_string(i)), 401)
        << "attempt " << i + 1;
  EXPECT_EQ(attempt("198.51.100.7", relay.options().admin_password), 303)
      << "the owner's right password from elsewhere signs in";
  for (int i = 0; i < 5; ++i) EXPECT_EQ(attempt("192.0.2.9", "Guess-" + std::to_string(i)), 401);
  EXPECT_EQ(attempt("192.0.2.9", relay.options().admin_password), 429)
      << "the client that failed is blocked, right password or not";
}

TEST(RelayGuessing, ManyAddressesOfOneSlash64AreOneClientAndEachLoopbackAddressIsThrottled) {
  ASSERT_TRUE(private_network());
  RelayProcess relay;
  ASSERT_TRUE(relay.init_and_start({"--listen", "[::]:0"}));
  auto p = relay.portal_session();
  ASSERT_EQ(p.status, 200) << p;
  std::string code = p.str("code");
  auto wrong = [](int i) {
    char w[16];
    std::snprintf(w, sizeof w, "s00-002-%03d", i);
    return std::string(w);
  };

  // 64 addresses of fd00:52::/64, one wrong code each.
  int v6_404 = 0, v6_429 = 0;
  for (int i = 0; i < 64; ++i) {
    char from[40];
    std::snprintf(from, sizeof from, "fd00:52::%x", 0x100 + i);
    auto u =
        raw_upgrade(relay.port(), from, "/api/v1/stream/device?code=" + wrong(i), "fd00:52::1");
    ASSERT_TRUE(u.status == 404 || u.status == 429) << from << ": " << u.head << u.body;
    (u.status == 404 ? v6_404 : v6_429) += 1;
  }
  std::printf("[guessing] 64 addresses of one /64, one wrong code each: %d x 404, %d x 429\n",
              v6_404, v6_429);
  EXPECT_EQ(v6_404, 5) << "the /64 got more than the five free failures of one client";
  EXPECT_EQ(v6_429, 59);
  // That /64 waits even with the right code; another /64 joins with it at the same moment.
  auto same =
      raw_upgrade(relay.port(), "fd00:52::13f", "/api/v1/stream/device?code=" + code, "fd00:52::1");
  EXPECT_EQ(same.status, 429) << same.head << same.body;
  // The /48 around it waits too: a whole allocation is one client for guessing.
  auto sibling = raw_upgrade(relay.port(), "fd00:52:0:1::1",
                             "/api/v1/stream/device?code=" + wrong(99), "fd00:52::1");
  EXPECT_EQ(sibling.status, 429) << sibling.head << sibling.body;
  auto other =
      raw_upgrade(relay.port(), "fd00:53::1", "/api/v1/stream/device?code=" + code, "fd00:52::1");
  EXPECT_EQ(other.status, 101) << other.head << other.body;

  // 10 loopback addresses, 10 wrong codes each: each address is throttled after its five.
  int v4_404 = 0, v4_429 = 0;
  for (int a = 0; a < 10; ++a)
    for (int i = 0; i < 10; ++i) {
      auto u = raw_upgrade(relay.port(), "127.0.1." + std::to_string(a + 1),
                           "/api/v1/stream/device?code=" + wrong(100 + a * 10 + i));
      ASSERT_TRUE(u.status == 404 || u.status == 429) << u.head << u.body;
      (u.status == 404 ? v4_404 : v4_429) += 1;
    }
  std::printf("[guessing] 10 loopback addresses x 10 wrong codes: %d x 404, %d x 429\n", v4_404,
              v4_429);
  EXPECT_EQ(v4_404, 50);
  EXPECT_EQ(v4_429, 50);
}

}  // namespace
}  // namespace reach::itest
