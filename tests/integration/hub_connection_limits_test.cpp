// One client cannot take every connection (issue 20, finding 3): the real reach-hub on loopback,
// flooded from one address of 127/8 while other addresses (127.0.0.2, …) still ask for service.
// Connections are counted, never timed: each held connection has had its answer before the next
// one is opened.
#include "integration/hub_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

// A connection from `from` (any address of 127/8) to the hub on 127.0.0.1 that stays open until
// destroyed: a keep-alive client, or a WebSocket nobody reads, as a flood holds them.
class HeldConnection {
 public:
  HeldConnection(std::uint16_t port, const std::string& from) : port_(port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{}, to{};
    local.sin_family = to.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &local.sin_addr);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0)
      ADD_FAILURE() << "cannot connect from " << from << ": " << std::strerror(errno);
  }
  ~HeldConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;

  // Sends GET `path` (keep-alive) with `headers` ("Name: value\r\n" lines) and returns the
  // answer's status: 0 when the hub closed the connection without one. The body (by
  // Content-Length) is in body(); after a 101 the connection is a WebSocket and stays open.
  int get(const std::string& path, const std::string& headers = {}) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                      "\r\n" + headers + "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return 0;
    std::string got;
    std::size_t need = std::string::npos;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (need == std::string::npos || got.size() < need) {
      auto end = got.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        std::string head = got.substr(0, end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto cl = head.find("content-length:");
        need = end + 4 + (cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 15)));
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return 0;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return 0;
      got.append(buf, static_cast<std::size_t>(n));
    }
    body_ = got.substr(got.find("\r\n\r\n") + 4);
    return got.starts_with("HTTP/1.1 ") ? std::atoi(got.c_str() + 9) : 0;
  }
  const std::string& body() const { return body_; }

 private:
  std::uint16_t port_;
  int fd_ = -1;
  std::string body_;
};

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

// The headers of an agent's channel upgrade, as reach-agent sends them.
std::string channel_upgrade(const ApiResult& enrolled, const std::string& forwarded_for = {}) {
  std::string h = bearer(enrolled.str("deviceCredential")) +
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!forwarded_for.empty()) h += "X-Forwarded-For: " + forwarded_for + "\r\n";
  return h;
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

// The finding: one address opening keep-alive connections, each answered, took every connection
// the hub held, and then everyone else was refused. Now an address holds its share (the default
// per client: max(16, 200 / 16) = 16) and others are still served.
TEST(HubConnectionLimits, OneAddressCannotTakeEveryConnection) {
  HubProcess hub{HubOptions{.serve_args = {"--max-connections", "200"}}};
  ASSERT_TRUE(hub.init_and_start());
  std::string admin = hub.admin_token();
  std::vector<std::unique_ptr<HeldConnection>> flood;
  int held = 0;
  // Bounded by the global limit: without a cap per client, all 200 are held.
  for (; held < 200; ++held) {
    auto c = std::make_unique<HeldConnection>(hub.port(), "127.0.0.1");
    if (c->get("/api/health") != 200) break;
    flood.push_back(std::move(c));
  }
  EXPECT_EQ(held, 16) << "connections one address may hold";
  HeldConnection other(hub.port(), "127.0.0.2");
  ASSERT_EQ(other.get("/api/health"), 200) << "another client must still be served";
  HeldConnection third(hub.port(), "127.0.0.3");
  EXPECT_EQ(third.get("/api/health"), 200);

  // Refused in the log and the metrics, with the client it was; closed connections are given
  // back (the metrics are read on `other`, so that no new connection from 127.0.0.1 is refused).
  flood.clear();
  std::string metrics;
  EXPECT_TRUE(wait_until(
      [&] {
        if (other.get("/api/metrics", bearer(admin)) != 200) return false;
        metrics = other.body();
        return has(metrics, "reach_hub_connections_open 2\n");
      },
      10s))
      << metrics;
  EXPECT_TRUE(has(metrics, "reach_hub_connections_per_client_limit 16\n")) << metrics;
  EXPECT_TRUE(has(metrics, "reach_hub_connections_refused_per_client_total 1\n")) << metrics;
  EXPECT_TRUE(has(metrics, "reach_hub_connections_refused_total 0\n")) << metrics;
  std::string log = hub.read_stderr_log();
  EXPECT_TRUE(has(log, "http.connection_refused_per_client")) << log;
  EXPECT_TRUE(has(log, "client=127.0.0.1")) << log;
  EXPECT_TRUE(hub.healthy()) << "127.0.0.1 is served again once its connections closed";
}

// WebSockets have a cap of their own per client; behind the trusted balancer the client is the
// address its X-Forwarded-For ends with, and the balancer's own connections are not capped.
TEST(HubConnectionLimits, WebSocketsPerClientAndTheTrustedBalancer) {
  HubProcess hub{HubOptions{
      .serve_args = {"--max-connections", "200", "--max-connections-per-client", "20",
                     "--max-websockets-per-client", "3", "--trusted-proxy", "127.0.0.9"}}};
  ASSERT_TRUE(hub.init_and_start());
  std::string admin = hub.admin_token();
  std::string token = hub.create_enrollment_token({"--userless"});
  std::vector<ApiResult> devices;
  for (int i = 0; i < 9; ++i) {
    DeviceSpec d;
    d.name = "cap-" + std::to_string(i);
    d.os = "Linux";
    devices.push_back(enroll(hub, token, d));
    ASSERT_EQ(devices.back().status, 201) << devices.back();
  }
  std::vector<std::unique_ptr<HeldConnection>> held;
  auto channel = [&](const std::string& from, const ApiResult& device,
                     const std::string& forwarded_for = {}) {
    held.push_back(std::make_unique<HeldConnection>(hub.port(), from));
    return held.back()->get("/api/agent/channel", channel_upgrade(device, forwarded_for));
  };

  // Directly: three channels from one address, and the fourth is refused with a reason.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(channel("127.0.0.1", devices[i]), 101) << i;
  EXPECT_EQ(channel("127.0.0.1", devices[3]), 503);
  EXPECT_TRUE(has(held.back()->body(), "try again later")) << held.back()->body();
  // Through the balancer: the same cap, per forwarded client.
  for (int i = 4; i < 7; ++i)
    EXPECT_EQ(channel("127.0.0.9", devices[i], "10.1.1.1, 198.51.100.7"), 101) << i;
  EXPECT_EQ(channel("127.0.0.9", devices[7], "198.51.100.7"), 503);
  EXPECT_EQ(channel("127.0.0.9", devices[8], "198.51.100.7, 198.51.100.8"), 101);
  // The balancer carries many clients: more connections than one client may hold.
  for (int i = 0; i < 25; ++i) {
    held.push_back(std::make_unique<HeldConnection>(hub.port(), "127.0.0.9"));
    ASSERT_EQ(held.back()->get("/api/health"), 200) << i;
  }

  auto m = hub.get("/api/metrics", admin);
  ASSERT_EQ(m.status, 200) << m;
  EXPECT_TRUE(has(m.body, "reach_hub_websockets_per_client_limit 3\n")) << m.body;
  EXPECT_TRUE(has(m.body, "reach_hub_websocket_upgrades_refused_per_client_total 2\n")) << m.body;
  EXPECT_TRUE(has(m.body, "reach_hub_connections_refused_per_client_total 0\n")) << m.body;
  EXPECT_TRUE(has(m.body, "reach_hub_websockets_open 7\n")) << m.body;
  EXPECT_TRUE(has(hub.read_stderr_log(), "http.upgrade_refused_per_client"));
}

}  // namespace
}  // namespace reach::itest
