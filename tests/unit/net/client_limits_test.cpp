// Caps per client (issue 20, finding 3): one address cannot take every connection or every
// WebSocket, the trusted balancer carries many clients, and what a client holds is given back.
// Other clients are other addresses of 127/8.
#include "net/client.h"
#include "net/server.h"
#include "test_support.h"

#include <gtest/gtest.h>

namespace reach::net {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RawSocket;
using testing::RunningServer;

Response ok(Request&) {
  return Response::text(200, "ok");
}

// A WebSocket that stays open until the test ends, as an agent's channel does.
class Open : public WebSocketHandler {
 public:
  void on_open(std::shared_ptr<WebSocket> ws) override { ws_ = std::move(ws); }
  void on_message(std::string, bool) override {}
  void on_close(std::uint16_t, std::string) override { ws_.reset(); }

 private:
  std::shared_ptr<WebSocket> ws_;
};

UpgradeHandler accept_all() {
  return [](Request&, Response&) -> std::shared_ptr<WebSocketHandler> {
    return std::make_shared<Open>();
  };
}

bool served(RawSocket& s) {
  return s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n") &&
         s.read_response().starts_with("HTTP/1.1 200");
}

// Closed at accept: no answer at all.
bool refused(RawSocket& s) {
  s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  return s.read_until_close(5s, &closed).empty() && closed;
}

// A WebSocket upgrade sent by hand (from any address), its answer's status line.
std::string upgrade_status(RawSocket& s, const std::string& forwarded_for = {}) {
  std::string req =
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!forwarded_for.empty()) req += "X-Forwarded-For: " + forwarded_for + "\r\n";
  if (!s.send(req + "\r\n")) return {};
  std::string head = s.read_response();
  return head.substr(0, head.find("\r\n"));
}

TEST(ClientSlots, CountsPerClientAndGivesBackWhatIsReleased) {
  ClientSlots slots(2);
  auto a = slots.take("192.0.2.1");
  auto b = slots.take("::ffff:192.0.2.1");  // the same client, v4-mapped
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(slots.take("192.0.2.1"));
  EXPECT_EQ(slots.held("192.0.2.1"), 2u);
  auto other = slots.take("192.0.2.2");
  EXPECT_TRUE(other);
  // IPv6 by /64: a subscriber's whole prefix is one client.
  auto c = slots.take("2001:db8:1:2::1");
  auto d = slots.take("2001:db8:1:2:ffff:ffff:ffff:ffff");
  ASSERT_TRUE(c && d);
  EXPECT_FALSE(slots.take("2001:db8:1:2:abcd::1"));
  EXPECT_TRUE(slots.take("2001:db8:1:3::1"));  // the next /64; given back at once
  EXPECT_EQ(slots.held("2001:db8:1:2::99"), 2u);
  EXPECT_EQ(slots.clients(), 3u);
  // Given back when the last copy goes, and a client holding nothing is forgotten.
  auto copy = a;
  a.reset();
  EXPECT_EQ(slots.held("192.0.2.1"), 2u);
  copy.reset();
  EXPECT_EQ(slots.held("192.0.2.1"), 1u);
  EXPECT_TRUE(slots.take("192.0.2.1"));
  b.reset();
  other.reset();
  c.reset();
  d.reset();
  EXPECT_EQ(slots.clients(), 0u);
}

// The finding: one address holding keep-alive connections up to the server's limit made it
// refuse everyone else. Without a cap per client the twenty-first connection is held too, and
// the limit is reached long before 127.0.0.2 asks.
TEST(ServerClientLimits, OneClientCannotTakeEveryConnection) {
  ServerOptions o;
  o.max_connections = 200;
  o.max_connections_per_client = 20;
  RunningServer s(o, ok);
  std::vector<std::unique_ptr<RawSocket>> flood;
  for (int i = 0; i < 20; ++i) {
    flood.push_back(std::make_unique<RawSocket>(s.port(), "127.0.0.1"));
    ASSERT_TRUE(served(*flood.back())) << i;
  }
  RawSocket extra(s.port(), "127.0.0.1");
  EXPECT_TRUE(refused(extra));
  RawSocket other(s.port(), "127.0.0.2");
  EXPECT_TRUE(served(other)) << "another client must still be served";
  for (auto& f : flood) EXPECT_TRUE(served(*f)) << "the held connections are unaffected";

  auto st = s.server().stats();
  EXPECT_EQ(st.connections_per_client_limit, 20u);
  EXPECT_EQ(st.connections_refused_per_client, 1u);
  EXPECT_EQ(st.connections_refused, 0u);
  auto text = Server::metrics_text(st, "reach_test");
  EXPECT_NE(text.find("reach_test_connections_refused_per_client_total 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("reach_test_connections_per_client_limit 20\n"), std::string::npos) << text;

  // A connection that closes is given back to its client.
  flood.pop_back();
  ASSERT_TRUE(eventually([&] { return s.server().stats().connections_open == 20; }));
  RawSocket again(s.port(), "127.0.0.1");
  EXPECT_TRUE(served(again));
}

TEST(ServerClientLimits, DefaultsFollowTheServerLimits) {
  ServerOptions o;
  o.max_connections = 19936;  // what a descriptor limit of 20,000 leaves
  Server s(o, ok);
  EXPECT_EQ(s.stats().connections_per_client_limit, 1246u);
  EXPECT_EQ(s.stats().websockets_per_client_limit, 4968u);
  o.max_connections = 100;
  Server small(o, ok);
  EXPECT_EQ(small.stats().connections_per_client_limit, 16u);
  EXPECT_EQ(small.stats().websockets_per_client_limit, 16u);
}

TEST(ServerClientLimits, TheTrustedProxyIsNotCappedButOthersAre) {
  ServerOptions o;
  o.max_connections = 50;
  o.max_connections_per_client = 2;
  o.trusted_proxies = {"127.0.0.1"};
  RunningServer s(o, ok);
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<RawSocket>(s.port(), "127.0.0.1"));
    ASSERT_TRUE(served(*held.back())) << i;
  }
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawSocket>(s.port(), "127.0.0.2"));
    ASSERT_TRUE(served(*held.back())) << i;
  }
  RawSocket third(s.port(), "127.0.0.2");
  EXPECT_TRUE(refused(third));
  EXPECT_EQ(s.server().stats().connections_refused_per_client, 1u);
}

// An office behind one address holds a channel per agent: a WebSocket counts against the
// client's WebSockets, not against its HTTP connections.
TEST(ServerClientLimits, WebSocketsHaveACapOfTheirOwn) {
  ServerOptions o;
  o.max_connections = 64;
  o.max_connections_per_client = 2;
  o.max_websockets_per_client = 3;
  RunningServer s(o, ok, accept_all());
  EventLoop loop;
  std::vector<std::shared_ptr<WebSocket>> sockets;
  for (int i = 0; i < 3; ++i) {
    auto ws = websocket_connect(loop, s.url("ws", "/ws"), {}, std::make_shared<Open>());
    ASSERT_TRUE(ws) << i << ": " << ws.error().message;
    sockets.push_back(*ws);
  }
  auto fourth = websocket_connect(loop, s.url("ws", "/ws"), {}, std::make_shared<Open>());
  ASSERT_FALSE(fourth);
  EXPECT_EQ(fourth.error().status, 503);
  EXPECT_NE(fourth.error().message.find("This address holds as many WebSockets"), std::string::npos)
      << fourth.error().message;
  // Its HTTP connections are still its own, and other clients' WebSockets are theirs.
  RawSocket http(s.port(), "127.0.0.1");
  EXPECT_TRUE(served(http));
  RawSocket other(s.port(), "127.0.0.2");
  EXPECT_EQ(upgrade_status(other), "HTTP/1.1 101 Switching Protocols");

  auto st = s.server().stats();
  EXPECT_EQ(st.websockets_open, 4u);
  EXPECT_EQ(st.upgrades_refused_per_client, 1u);
  EXPECT_EQ(st.upgrades_refused, 0u);
  auto text = Server::metrics_text(st, "reach_test");
  EXPECT_NE(text.find("reach_test_websocket_upgrades_refused_per_client_total 1\n"),
            std::string::npos)
      << text;
  // A WebSocket that ends is given back to its client.
  sockets.front()->close(1000, "bye");
  ASSERT_TRUE(eventually([&] { return s.server().stats().websockets_open == 3; }));
  auto again = websocket_connect(loop, s.url("ws", "/ws"), {}, std::make_shared<Open>());
  EXPECT_TRUE(again) << again.error().message;
}

// Behind the balancer every upgrade comes from it: the client is the last X-Forwarded-For entry
// (the one the balancer appended), and only there; from anyone else the header is not evidence.
TEST(ServerClientLimits, WebSocketsThroughTheTrustedProxyCountForTheForwardedClient) {
  ServerOptions o;
  o.max_connections = 64;
  o.max_websockets_per_client = 2;
  o.trusted_proxies = {"127.0.0.1"};
  RunningServer s(o, ok, accept_all());
  std::vector<std::unique_ptr<RawSocket>> held;
  auto upgrade = [&](const char* from, const std::string& forwarded_for) {
    held.push_back(std::make_unique<RawSocket>(s.port(), from));
    return upgrade_status(*held.back(), forwarded_for);
  };
  const std::string k101 = "HTTP/1.1 101 Switching Protocols";
  const std::string k503 = "HTTP/1.1 503 Service Unavailable";
  EXPECT_EQ(upgrade("127.0.0.1", "203.0.113.5"), k101);
  EXPECT_EQ(upgrade("127.0.0.1", "198.51.100.1, 203.0.113.5"), k101);
  EXPECT_EQ(upgrade("127.0.0.1", "203.0.113.5"), k503);
  EXPECT_EQ(upgrade("127.0.0.1", "203.0.113.5, 203.0.113.6"), k101);
  // Without a forwarded address the balancer's upgrade is its own, and it is not capped.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(upgrade("127.0.0.1", ""), k101) << i;
  // From a peer that is not trusted, X-Forwarded-For changes nothing.
  EXPECT_EQ(upgrade("127.0.0.2", "203.0.113.10"), k101);
  EXPECT_EQ(upgrade("127.0.0.2", "203.0.113.11"), k101);
  EXPECT_EQ(upgrade("127.0.0.2", "203.0.113.12"), k503);
  EXPECT_EQ(s.server().stats().upgrades_refused_per_client, 2u);
}

}  // namespace
}  // namespace reach::net
