// Two reach-relay nodes on one PostgreSQL behind nginx, configured by
// deploy/nginx/reach-relay.conf: the two ends of a session that enter through different nodes
// meet on the node that owns the session (the other answers with a redirect there); killing that
// node ends its sessions at both ends, the store records why, and the other node's sessions go on.
#include "integration/nginx.h"
#include "integration/relay_process.h"
#include "pg/test_postgres.h"

#include <gtest/gtest.h>

#include <thread>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// One end of a session, connected with the client the agent and `reach connect` use.
struct End {
  std::shared_ptr<WsPeer> peer = std::make_shared<WsPeer>();
  std::shared_ptr<net::WebSocket> ws;
};

class RelayCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testpg::selected()) << "several nodes share a PostgreSQL store";
    port_ = free_port();
    ASSERT_TRUE(a_.init());
    ASSERT_TRUE(b_.join(a_));
    ASSERT_TRUE(a_.start(node_flags("relay-1")));
    ASSERT_TRUE(b_.start(node_flags("relay-2")));
    const std::string a = "127.0.0.1:" + std::to_string(a_.port());
    const std::string b = "127.0.0.1:" + std::to_string(b_.port());
    ASSERT_TRUE(nginx_.start(
        "reach-relay.conf", port_,
        {{"server 127.0.0.1:8501", "server " + a},
         {"server 127.0.0.1:8502", "server " + b},
         {"proxy_pass http://127.0.0.1:8501/;", "proxy_pass http://" + a + "/;"},
         {"proxy_pass http://127.0.0.1:8502/;", "proxy_pass http://" + b + "/;"},
         {"listen 127.0.0.1:8500;", "listen 127.0.0.1:" + std::to_string(port_) + ";"}}));
    token_ = a_.admin_token();
  }
  void TearDown() override {
    if (HasFailure())
      std::printf("[relay cluster] nginx: %s\nnode 1: %s\nnode 2: %s\n",
                  nginx_.error_log().substr(0, 3000).c_str(),
                  a_.read_stderr_log().substr(0, 6000).c_str(),
                  b_.read_stderr_log().substr(0, 6000).c_str());
  }

  std::vector<std::string> node_flags(const std::string& name) const {
    return {"--node-name",     name,  "--node-url",      node_url(name),
            "--node-check-ms", "200", "--trusted-proxy", "127.0.0.1"};
  }
  std::string node_url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/node/" + name;
  }
  static std::string ws_of(const std::string& http_url) { return "ws" + http_url.substr(4); }

  ApiResult new_session(RelayProcess& on) {
    auto r = on.post_json("/api/v1/sessions", bj::object{{"groupname", "Cluster"}}, token_);
    EXPECT_EQ(r.status, 200) << r;
    return r;
  }
  static std::string supporter_path(const ApiResult& s) {
    return "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"));
  }
  static std::string device_path(const ApiResult& s) {
    return "/api/v1/stream/device/" + last_segment(s.str("end_customer_link"));
  }
  // Connects an end to `base` (a node's or nginx's http URL) + `path`.
  void connect(End& end, const std::string& base, const std::string& path) {
    auto ws = net::websocket_connect(loop_, ws_of(base) + path, {}, end.peer);
    ASSERT_TRUE(ws) << base << path << ": " << ws.error().status << " " << ws.error().message;
    end.ws = *ws;
  }
  // Bytes go both ways between the two ends (each end's total grows by what the other sent).
  static void exchange(End& device, End& supporter, const std::string& tag) {
    auto d0 = supporter.peer->received_bytes(), s0 = device.peer->received_bytes();
    std::string from_device = "device:" + tag, from_supporter = "supporter:" + tag;
    device.ws->send(from_device);
    supporter.ws->send(from_supporter);
    ASSERT_TRUE(supporter.peer->wait_bytes(d0 + from_device.size(), 10s)) << tag;
    ASSERT_TRUE(device.peer->wait_bytes(s0 + from_supporter.size(), 10s)) << tag;
  }
  // The session as `on` sees it, once `pred` holds (or after `wait`).
  ApiResult session_on(RelayProcess& on, const std::string& code,
                       const std::function<bool(const ApiResult&)>& pred,
                       std::chrono::milliseconds wait = 10s) {
    ApiResult r;
    wait_until(
        [&] {
          r = on.get("/api/v1/sessions/" + code, token_);
          return pred(r);
        },
        wait);
    return r;
  }

  std::uint16_t port_ = 0;
  RelayProcess a_, b_;
  Nginx nginx_;
  std::string token_;
  net::EventLoop loop_;
};

TEST_F(RelayCluster, EndsThatEnterThroughDifferentNodesMeetOnTheOwner) {
  auto s = new_session(b_);
  const std::string code = s.str("code");
  End supporter, device;
  // The supporter reaches node 1 first, so node 1 owns the session; the device asks node 2,
  // which sends it to node 1 (through nginx's /node/relay-1/).
  ASSERT_NO_FATAL_FAILURE(connect(supporter, a_.base_url(), supporter_path(s)));
  ASSERT_NO_FATAL_FAILURE(connect(device, b_.base_url(), device_path(s)));
  ASSERT_NO_FATAL_FAILURE(exchange(device, supporter, "1"));
  // Either node says who is connected, the owner from its memory, the other from the store.
  for (auto* node : {&a_, &b_}) {
    auto r = session_on(*node, code, [](const ApiResult& r) {
      return r.json.is_object() && r.json.at("online") == true;
    });
    EXPECT_EQ(r.json.at("online"), true) << r;
    EXPECT_EQ(r.json.at("connected").at("supporter"), true) << r;
  }
  EXPECT_EQ(count(a_.read_stderr_log(), "relay.stream_connected"), 2) << a_.read_stderr_log();
  EXPECT_EQ(b_.read_stderr_log().find("relay.stream_connected"), std::string::npos)
      << "node 2 paired a stream itself";
  // The viewer page, wherever it is loaded, connects to the owner.
  auto page =
      http_call("GET", b_.base_url() + "/support/" + last_segment(s.str("supporter_link")), {}, {});
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(
      page.body.find("data-stream=\"" + ws_of(node_url("relay-1")) + "/api/v1/stream/supporter/"),
      std::string::npos)
      << page.body;

  // Through the balancer alone, whichever nodes the two ends land on.
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE("through nginx, session " + std::to_string(i));
    auto t = new_session(i % 2 ? a_ : b_);
    End d, p;
    ASSERT_NO_FATAL_FAILURE(connect(d, nginx_.url(), device_path(t)));
    ASSERT_NO_FATAL_FAILURE(connect(p, nginx_.url(), supporter_path(t)));
    ASSERT_NO_FATAL_FAILURE(exchange(d, p, "n" + std::to_string(i)));
    p.ws->close();
    EXPECT_TRUE(d.peer->wait_closed(5s));
  }

  // The session closed through the API on node 2 ends its streams on node 1 at once.
  auto closed = b_.put_json("/api/v1/sessions/" + code, bj::object{{"state", "closed"}}, token_);
  EXPECT_EQ(closed.status, 204) << closed;
  EXPECT_TRUE(device.peer->wait_closed(5s));
  EXPECT_TRUE(supporter.peer->wait_closed(5s));
  EXPECT_EQ(device.peer->close_code(), 1000);
}

TEST_F(RelayCluster, KillingTheOwningNodeEndsItsSessionsAtBothEndsAndLeavesTheOthers) {
  // x is owned by node 1, y by node 2; in each the other end entered through the other node.
  auto x = new_session(a_), y = new_session(b_);
  End x_supporter, x_device, y_supporter, y_device;
  ASSERT_NO_FATAL_FAILURE(connect(x_supporter, a_.base_url(), supporter_path(x)));
  ASSERT_NO_FATAL_FAILURE(connect(x_device, b_.base_url(), device_path(x)));
  ASSERT_NO_FATAL_FAILURE(connect(y_supporter, b_.base_url(), supporter_path(y)));
  ASSERT_NO_FATAL_FAILURE(connect(y_device, a_.base_url(), device_path(y)));
  ASSERT_NO_FATAL_FAILURE(exchange(x_device, x_supporter, "x1"));
  ASSERT_NO_FATAL_FAILURE(exchange(y_device, y_supporter, "y1"));

  a_.kill9();
  // Both ends of x learn at once that their connection is gone (not a normal close).
  EXPECT_TRUE(x_supporter.peer->wait_closed(5s));
  EXPECT_TRUE(x_device.peer->wait_closed(5s));
  EXPECT_NE(x_supporter.peer->close_code(), 1000);
  EXPECT_NE(x_device.peer->close_code(), 1000);
  // The surviving node closes x in the store, saying why, so its links now say "request a new
  // session" wherever they are tried.
  auto gone =
      session_on(b_, x.str("code"), [](const ApiResult& r) { return r.str("state") == "closed"; });
  EXPECT_EQ(gone.str("state"), "closed") << gone;
  EXPECT_EQ(gone.str("close_reason"), "nodeLost") << gone;
  for (const auto& path : {device_path(x), supporter_path(x)}) {
    auto peer = std::make_shared<WsPeer>();
    auto again = net::websocket_connect(loop_, ws_of(nginx_.url()) + path, {}, peer);
    ASSERT_FALSE(again) << path;
    EXPECT_EQ(again.error().status, 410) << again.error().message;
    EXPECT_NE(again.error().message.find("new session"), std::string::npos)
        << again.error().message;
  }
  EXPECT_NE(b_.read_stderr_log().find("relay.node_lost"), std::string::npos);

  // y, on node 2, goes on.
  EXPECT_FALSE(y_supporter.peer->closed());
  EXPECT_FALSE(y_device.peer->closed());
  ASSERT_NO_FATAL_FAILURE(exchange(y_device, y_supporter, "y2"));
  auto y_now = b_.get("/api/v1/sessions/" + y.str("code"), token_);
  EXPECT_EQ(y_now.str("state"), "open") << y_now;

  // New sessions work through the balancer on the node that is left.
  auto z = new_session(b_);
  End z_device, z_supporter;
  ASSERT_NO_FATAL_FAILURE(connect(z_device, nginx_.url(), device_path(z)));
  ASSERT_NO_FATAL_FAILURE(connect(z_supporter, nginx_.url(), supporter_path(z)));
  ASSERT_NO_FATAL_FAILURE(exchange(z_device, z_supporter, "z"));
}

// Wrong session codes are counted in the store: a guesser whose tries a balancer spreads over the
// nodes is throttled as if there were one node, and by its own address (the balancer's
// X-Forwarded-For), not the balancer's, so other clients behind the same balancer are not held up.
TEST_F(RelayCluster, WrongCodesSpreadOverTheNodesAreThrottledAsOneClient) {
  auto guess = [&](RelayProcess& node, int n, const std::string& client) {
    net::Headers h;
    h.set("X-Forwarded-For", client);
    auto ws = net::websocket_connect(
        loop_,
        ws_of(node.base_url()) + "/api/v1/stream/device?code=s" + std::to_string(40000000 + n), h,
        std::make_shared<WsPeer>());
    return ws ? 101 : ws.error().status;
  };
  // Five free tries, three on one node and two on the other; the sixth waits, on either node.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(guess(i % 2 ? b_ : a_, i, "203.0.113.7"), 404) << i;
  EXPECT_EQ(guess(b_, 5, "203.0.113.7"), 429);
  EXPECT_EQ(guess(a_, 6, "203.0.113.7"), 429);
  // Another client behind the balancer is not held up.
  EXPECT_EQ(guess(b_, 7, "203.0.113.8"), 404);
  EXPECT_EQ(guess(a_, 8, "198.51.100.1, 203.0.113.8"), 404);
}

TEST_F(RelayCluster, ANodeStartingUnderALiveNodesNameIsRefused) {
  RelayProcess c;
  ASSERT_TRUE(c.join(a_));
  auto started = c.start({"--node-name", "relay-1", "--node-url", node_url("relay-1")});
  EXPECT_FALSE(started);
  EXPECT_NE(c.read_stderr_log().find("already named 'relay-1'"), std::string::npos)
      << c.read_stderr_log();
  // The live node is untouched.
  auto s = new_session(a_);
  End d, p;
  ASSERT_NO_FATAL_FAILURE(connect(d, a_.base_url(), device_path(s)));
  ASSERT_NO_FATAL_FAILURE(connect(p, a_.base_url(), supporter_path(s)));
  ASSERT_NO_FATAL_FAILURE(exchange(d, p, "1"));
}

}  // namespace
}  // namespace reach::itest
