// Two reach-hub nodes on one PostgreSQL behind nginx, configured by deploy/nginx/reach-hub.conf:
// an agent's channel lands on either node and gets what is asked on the other (LISTEN/NOTIFY);
// when its node is killed it reconnects through nginx to the other and still gets what was asked
// meanwhile (the outbox); a sign-in made on one node works on the other.
#include "integration/agent_process.h"
#include "integration/hub_process.h"
#include "integration/nginx.h"
#include "integration/ra_fixture.h"
#include "pg/test_postgres.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <latch>
#include <regex>
#include <set>
#include <thread>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

class HubCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(testpg::selected()) << "several nodes share a PostgreSQL store";
    ASSERT_TRUE(a_.init());
    // The outbox sweep, the safety net for lost signals, is slowed down: what reaches the other
    // node within the test's waits does so through LISTEN/NOTIFY.
    ASSERT_TRUE(a_.start({"--node-name", "node-a", "--outbox-sweep-ms", "600000"}));
    ASSERT_TRUE(b_.join(a_));
    ASSERT_TRUE(b_.start({"--node-name", "node-b", "--outbox-sweep-ms", "600000"}));
    const auto port = free_port();
    ASSERT_TRUE(nginx_.start(
        "reach-hub.conf", port,
        {{"server 127.0.0.1:8401", "server 127.0.0.1:" + std::to_string(a_.port())},
         {"server 127.0.0.1:8402", "server 127.0.0.1:" + std::to_string(b_.port())},
         {"listen 127.0.0.1:8400;", "listen 127.0.0.1:" + std::to_string(port) + ";"}}));
    admin_ = a_.admin_token();
    dir_ = make_temp_dir("reach-cluster-agent-");
  }
  void TearDown() override {
    agent_.reset();
    if (HasFailure())
      std::printf("[cluster test] keeping %s; nginx: %s\n", dir_.c_str(),
                  nginx_.error_log().substr(0, 4000).c_str());
    else if (!dir_.empty())
      std::filesystem::remove_all(dir_);
  }

  // The channels a node holds, from its own metrics.
  static int channels_on(HubProcess& node, const std::string& token) {
    auto r = node.get("/api/metrics", token);
    std::smatch m;
    static const std::regex kLine("\nreach_hub_agent_channels ([0-9]+)\n");
    if (r.status != 200 || !std::regex_search(r.body, m, kLine)) return -1;
    return std::stoi(m[1]);
  }

  ApiResult notify(HubProcess& node, const std::string& device, const std::string& title) {
    return node.post("/beta/deviceManagement/managedDevices/" + device +
                         "/sendCustomNotificationToCompanyPortal",
                     bj::object{{"notificationTitle", title}, {"notificationBody", "Body"}},
                     admin_);
  }

  HubProcess a_, b_;
  Nginx nginx_;
  std::string admin_, dir_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(HubCluster, ARequestOnOneNodeReachesTheAgentOnTheOtherAndSurvivesItsNodesDeath) {
  ASSERT_EQ(create_user(a_, admin_, "dana@reach.test", "Dana Device", "Dana-Passw0rd-1").status,
            201);
  std::string token = a_.create_enrollment_token({"--user", "dana@reach.test"});
  ASSERT_FALSE(token.empty());
  agent_ = std::make_unique<Agent>(dir_ + "/state");
  auto enrolled = agent_->cli({"enroll", "--hub", nginx_.url(), "--token", token});
  ASSERT_EQ(enrolled.exit_code, 0) << enrolled.out << enrolled.err;
  std::string device = trim(enrolled.out.substr(enrolled.out.find("device ") + 7));
  ASSERT_TRUE(agent_->start());
  auto connected = [&] { return str_of(agent_->status(), "channel") == "connected"; };
  ASSERT_TRUE(wait_until(connected, 15s)) << agent_->process().output();

  // Which node holds the channel: the request is made on the other one.
  std::string admin_b = b_.admin_token();
  ASSERT_TRUE(
      wait_until([&] { return channels_on(a_, admin_) + channels_on(b_, admin_b) == 1; }, 10s));
  bool on_a = channels_on(a_, admin_) == 1;
  HubProcess& holder = on_a ? a_ : b_;
  HubProcess& other = on_a ? b_ : a_;
  ASSERT_EQ(notify(other, device, "Asked on the other node").status, 204);
  ASSERT_TRUE(wait_until([&] { return agent_->has_notification("Asked on the other node"); }, 10s))
      << agent_->process().output();

  // The holder dies; what is asked meanwhile waits in the outbox, and the agent, back through
  // nginx on the surviving node, gets it.
  holder.kill9();
  ASSERT_EQ(notify(other, device, "Asked while it reconnected").status, 204);
  const std::string& other_token = on_a ? admin_b : admin_;
  ASSERT_TRUE(wait_until([&] { return channels_on(other, other_token) == 1; }, 20s))
      << agent_->process().output() << nginx_.error_log();
  ASSERT_TRUE(
      wait_until([&] { return agent_->has_notification("Asked while it reconnected"); }, 15s))
      << agent_->process().output();
  ASSERT_EQ(notify(other, device, "Asked after").status, 204);
  ASSERT_TRUE(wait_until([&] { return agent_->has_notification("Asked after"); }, 10s));
  EXPECT_TRUE(agent_->process().running());
}

TEST_F(HubCluster, ASignInAndTheDeviceListWorkOnEitherNode) {
  // Health says which node answered: through nginx, both take turns.
  std::set<std::string> nodes;
  for (int i = 0; i < 6; ++i) {
    auto h = http_call("GET", nginx_.url("/api/health"), {}, {});
    ASSERT_EQ(h.status, 200) << h.body;
    auto v = bj::parse(h.body).as_object();
    EXPECT_EQ(str_of(v, "store"), "postgresql");
    EXPECT_EQ(str_of(v, "database"), "ok");
    nodes.insert(str_of(v, "node"));
  }
  EXPECT_EQ(nodes, (std::set<std::string>{"node-a", "node-b"}));

  // Signed in on A, the browser's cookie works on B.
  net::Headers json;
  json.set("Content-Type", "application/json");
  auto signin = a_.request("POST", "/api/auth/signin",
                           bj::serialize(bj::object{{"email", a_.options().admin_email},
                                                    {"password", a_.options().admin_password}}),
                           json);
  ASSERT_EQ(signin.status, 200) << signin;
  std::string cookie;
  for (auto sc : signin.headers.get_all("Set-Cookie")) {
    std::string c(sc);
    if (c.starts_with("reach_session=")) cookie = c.substr(0, c.find(';'));
  }
  ASSERT_FALSE(cookie.empty()) << signin;
  net::Headers h;
  h.set("Cookie", cookie);
  auto me = b_.request("GET", "/v1.0/me", {}, h);
  EXPECT_EQ(me.status, 200) << me;

  // Devices enrolled on either node are listed, whole, by both.
  std::string token = a_.create_enrollment_token({"--userless", "--ownership", "company"});
  for (int i = 0; i < 4; ++i) {
    DeviceSpec d;
    d.name = "NODE-DEVICE-" + std::to_string(i);
    d.os = "Linux";
    ASSERT_EQ(enroll(i % 2 ? a_ : b_, token, d).status, 201);
  }
  for (HubProcess* node : {&a_, &b_}) {
    auto list = node->request("GET", "/v1.0/deviceManagement/managedDevices?$top=2", {}, h);
    ASSERT_EQ(list.status, 200) << list;
    EXPECT_EQ(list.value().size(), 2u);
    std::string next = list.str("@odata.nextLink");
    ASSERT_FALSE(next.empty()) << list;
    // The next page, asked of the other node (the link names the node that made it).
    HubProcess* nextnode = node == &a_ ? &b_ : &a_;
    auto page2 = nextnode->request("GET", next.substr(next.find("/v1.0/")), {}, h);
    ASSERT_EQ(page2.status, 200) << page2;
    EXPECT_EQ(page2.value().size(), 2u) << page2;
  }
}

// A sign-in flood that a load balancer spreads over the nodes is one flood: the throttle's records
// are in the store.
TEST_F(HubCluster, FailedSignInsOnBothNodesAreThrottledAsOne) {
  net::Headers json;
  json.set("Content-Type", "application/json");
  auto attempt = [&](HubProcess& node) {
    return node.request(
        "POST", "/api/auth/signin",
        bj::serialize(bj::object{{"email", "mallory@reach.test"}, {"password", "Guess-1234"}}),
        json);
  };
  for (int i = 0; i < 4; ++i) {
    auto r = attempt(i % 2 ? b_ : a_);
    EXPECT_EQ(r.status, 401) << i << ": " << r;
  }
  // The fifth failure starts the wait, whichever node saw the four before.
  EXPECT_EQ(attempt(b_).status, 401);
  auto on_a = attempt(a_);
  EXPECT_TRUE(IsGraphError(on_a, 429, "tooManyRequests")) << on_a;
  auto on_b = attempt(b_);
  EXPECT_TRUE(IsGraphError(on_b, 429, "tooManyRequests")) << on_b;
}

// The connector's onboarding begun on one node completes on the other. Its refresh token rotates:
// two refreshes at once would present a used one and the relay would revoke the grant. Two nodes
// answering 200 requests that all need the relay, just as the access token falls due, refresh it
// once between them.
class ClusterConnector : public RemoteAssistanceFlow {
 protected:
  static int refreshes(const HubProcess& node) {
    std::string log = node.read_stderr_log();
    int n = 0;
    for (auto at = log.find("event=connector.token_refreshed"); at != std::string::npos;
         at = log.find("event=connector.token_refreshed", at + 1))
      ++n;
    return n;
  }
};

TEST_F(ClusterConnector, TwoHundredRequestsOnTwoNodesRefreshTheTokenOnce) {
  ASSERT_TRUE(testpg::selected());
  // Access tokens live 8 s and are refreshed 2 s before they expire.
  start_services({"--access-token-ttl", "8"});
  HubProcess b;
  ASSERT_TRUE(b.join(hub_));
  ASSERT_TRUE(b.start({"--node-name", "node-b"}));
  // Connect begins on node A; the relay sends the browser back to node B, which exchanges the
  // code with the redirect URI node A gave (recorded with the pending onboarding).
  onboard(b.base_url());
  auto onboarded = std::chrono::steady_clock::now();
  EXPECT_EQ(b.get(std::string(kPartners) + "/" + partner_, b.admin_token()).str("onboardingStatus"),
            "onboarded");
  enroll_device_and_helpdesk();
  // One open session: every read of the history asks the relay about it, with the token.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  const std::string admin_b = b.admin_token();
  int before = refreshes(hub_) + refreshes(b);
  std::this_thread::sleep_until(onboarded + 6500ms);  // the token is due for its refresh

  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  std::latch go(41);  // the clients' first requests leave together
  for (int t = 0; t < 40; ++t)
    clients.emplace_back([&, t] {
      go.arrive_and_wait();
      for (int i = 0; i < 5; ++i) {
        HubProcess& node = (t + i) % 2 ? b : hub_;
        auto r = node.get("/api/remoteAssistanceSessions?deviceId=" + device_,
                          (t + i) % 2 ? admin_b : admin_);
        (r.status == 200 ? ok : failed)++;
      }
    });
  go.arrive_and_wait();
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(refreshes(hub_) + refreshes(b) - before, 1)
      << "node A refreshed " << refreshes(hub_) << ", node B " << refreshes(b);
  // The grant lives on: no re-authorisation, and the relay takes the connector's calls.
  auto p = b.get(std::string(kPartners) + "/" + partner_, admin_b);
  EXPECT_FALSE(p.obj().at("needsReauthorization").as_bool()) << p;
  EXPECT_EQ(history_of(device_).count("state"), 1u);
}

}  // namespace
}  // namespace reach::itest
