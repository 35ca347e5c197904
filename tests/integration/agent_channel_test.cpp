// The push channel between the real reach-hub and the real reach-agent on loopback: enrollment,
// the hub's outbox (a notification sent while the agent is stopped arrives when it starts), the
// agent surviving a hub restart, and the hub's channel refusing bad credentials and bad messages
// without changing anything.
#include "integration/agent_process.h"
#include "integration/hub_process.h"
#include "net/client.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <filesystem>

#include <condition_variable>
#include <deque>
#include <mutex>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

class AgentChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.init_and_start());
    admin_ = hub_.admin_token();
    auto user = create_user(hub_, admin_, "dana@reach.test", "Dana Device", "Dana-Passw0rd-1");
    ASSERT_EQ(user.status, 201) << user;
    token_ = hub_.create_enrollment_token({"--user", "dana@reach.test"});
    ASSERT_FALSE(token_.empty());
    dir_ = make_temp_dir("reach-agent-");
    agent_ = std::make_unique<Agent>(dir_ + "/state");
  }
  void TearDown() override {
    agent_.reset();  // stops a running agent before its state goes
    // Kept for a post-mortem when the test failed.
    if (HasFailure())
      std::printf("[agent test] keeping %s\n", dir_.c_str());
    else if (!dir_.empty())
      std::filesystem::remove_all(dir_);
  }

  std::string enroll_agent() {
    auto r = agent_->cli({"enroll", "--hub", hub_.base_url(), "--token", token_});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    auto pos = r.out.find("device ");
    return pos == std::string::npos ? "" : trim(r.out.substr(pos + 7));
  }

  std::string channel_url() const {
    return "ws://127.0.0.1:" + std::to_string(hub_.port()) + "/api/agent/channel";
  }
  // The Authorization header of a device enrolled through the API.
  static net::Headers device_auth(const ApiResult& enrolled) {
    net::Headers h;
    h.set("Authorization", "Bearer " + enrolled.str("deviceCredential"));
    return h;
  }

  ApiResult notify(const std::string& device, const std::string& title) {
    return hub_.post(
        "/beta/deviceManagement/managedDevices/" + device +
            "/sendCustomNotificationToCompanyPortal",
        bj::object{{"notificationTitle", title}, {"notificationBody", "Body of " + title}}, admin_);
  }

  HubProcess hub_;
  std::string admin_, token_, dir_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentChannelTest, EnrollStoresTheCredentialPrivately) {
  std::string device = enroll_agent();
  ASSERT_FALSE(device.empty());
  struct stat st {};
  ASSERT_EQ(::stat((agent_->state() + "/credential.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat(agent_->state().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  auto d = hub_.get("/v1.0/deviceManagement/managedDevices/" + device, admin_);
  ASSERT_EQ(d.status, 200) << d;
  EXPECT_EQ(d.str("operatingSystem"), "Linux");
  EXPECT_EQ(d.str("deviceEnrollmentType"), "userEnrollment");
  // A second enroll refuses to overwrite the credential; a bad token changes nothing.
  auto again = agent_->cli({"enroll", "--hub", hub_.base_url(), "--token", token_});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already enrolled"), std::string::npos) << again.err;
  Agent other(dir_ + "/other");
  auto bad = other.cli({"enroll", "--hub", hub_.base_url(), "--token", "ret_not-a-token"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("refused the enrollment (HTTP 401)"), std::string::npos) << bad.err;
  EXPECT_NE(::access((dir_ + "/other/credential.json").c_str(), F_OK), 0);
}

TEST_F(AgentChannelTest, NotificationSentWhileStoppedArrivesWhenTheAgentStarts) {
  std::string device = enroll_agent();
  ASSERT_FALSE(device.empty());
  auto sent = notify(device, "Patch tonight");
  ASSERT_EQ(sent.status, 204) << sent;
  // Commands need the running agent, and say so.
  auto early = agent_->cli({"notifications"});
  EXPECT_NE(early.exit_code, 0);
  EXPECT_NE(early.err.find("not running"), std::string::npos) << early.err;

  ASSERT_TRUE(agent_->start());
  // The flag count says one is waiting, before anybody has listed them.
  auto unread = [&] {
    auto st = agent_->status();
    return st.contains("unread") ? st.at("unread").as_int64() : -1;
  };
  ASSERT_TRUE(wait_until([&] { return unread() == 1; }, 20s)) << agent_->process().output();
  auto list = agent_->notifications();
  EXPECT_EQ(list.at("unread").as_int64(), 1);  // listing marks it read
  ASSERT_TRUE(agent_->has_notification("Patch tonight"));
  EXPECT_NE(agent_->process().output().find("Patch tonight"), std::string::npos)
      << "run tells the user";
  EXPECT_EQ(agent_->notifications().at("unread").as_int64(), 0);
  // The device's check-in on connect updated lastSyncDateTime and the inventory.
  auto d = hub_.get("/v1.0/deviceManagement/managedDevices/" + device, admin_);
  EXPECT_EQ(d.str("operatingSystem"), "Linux");

  // Sent while running: pushed at once. Restarting the agent does not repeat what it has.
  ASSERT_EQ(notify(device, "Second").status, 204);
  ASSERT_TRUE(wait_until([&] { return agent_->has_notification("Second"); }, 10s));
  ASSERT_EQ(agent_->process().terminate(), std::optional<int>(0)) << agent_->process().output();
  ASSERT_TRUE(agent_->start());
  ASSERT_TRUE(wait_until(
      [&] {
        return agent_->status().contains("channel") &&
               str_of(agent_->status(), "channel") == "connected";
      },
      10s));
  EXPECT_EQ(agent_->notifications().at("notifications").as_array().size(), 2u);
  // The audit log has the notification.
  auto audit = hub_.get("/api/audit", admin_);
  EXPECT_NE(audit.body.find("sendCustomNotification"), std::string::npos);
}

TEST_F(AgentChannelTest, AgentReconnectsByItselfAfterAHubRestart) {
  std::string device = enroll_agent();
  ASSERT_TRUE(agent_->start());
  auto connected = [&] { return str_of(agent_->status(), "channel") == "connected"; };
  ASSERT_TRUE(wait_until(connected, 10s)) << agent_->process().output();
  std::uint16_t port = hub_.port();
  ASSERT_TRUE(hub_.stop());
  ASSERT_TRUE(wait_until([&] { return !connected(); }, 10s));
  // While the hub is down a notification cannot be sent; once it is back (same address), the
  // agent reconnects on its own and gets what is sent.
  ASSERT_TRUE(hub_.start({"--listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(wait_until(connected, 15s)) << agent_->process().output();
  ASSERT_EQ(notify(device, "After restart").status, 204);
  ASSERT_TRUE(wait_until([&] { return agent_->has_notification("After restart"); }, 10s));
  EXPECT_TRUE(agent_->process().running());
}

// A WebSocket peer that collects the hub's text messages.
class Collector : public net::WebSocketHandler {
 public:
  void on_message(std::string data, bool) override {
    std::lock_guard lk(mu_);
    msgs_.push_back(std::move(data));
    cv_.notify_all();
  }
  void on_close(std::uint16_t, std::string) override {
    std::lock_guard lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // The next message, parsed ("" type on timeout).
  bj::object next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, timeout, [&] { return !msgs_.empty(); })) return {};
    auto m = std::move(msgs_.front());
    msgs_.pop_front();
    boost::system::error_code ec;
    auto v = bj::parse(m, ec);
    return v.is_object() ? v.as_object() : bj::object{};
  }
  bool closed() {
    std::lock_guard lk(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> msgs_;
  bool closed_ = false;
};

TEST_F(AgentChannelTest, ChannelRefusesWrongCredentialsAndBadMessages) {
  net::EventLoop loop;
  std::string url = channel_url();
  net::Headers bad;
  bad.set("Authorization", "Bearer rdc_wrong");
  auto refused = net::websocket_connect(loop, url, bad, std::make_shared<Collector>());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 401);
  auto none = net::websocket_connect(loop, url, {}, std::make_shared<Collector>());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().status, 401);
  auto elsewhere = net::websocket_connect(
      loop, "ws://127.0.0.1:" + std::to_string(hub_.port()) + "/api/agent/other", {},
      std::make_shared<Collector>());
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().status, 404);

  // A real device credential, straight from the enrollment endpoint.
  auto enrolled = enroll(hub_, token_, {.name = "raw-client", .os = "Linux"});
  ASSERT_EQ(enrolled.status, 201) << enrolled;
  std::string device = enrolled.str("deviceId");
  ASSERT_EQ(notify(device, "Pending").status, 204);
  net::Headers good = device_auth(enrolled);
  auto peer = std::make_shared<Collector>();
  auto ws = net::websocket_connect(loop, url, good, peer);
  ASSERT_TRUE(ws) << ws.error().message;
  auto first = peer->next();
  ASSERT_EQ(str_of(first, "type"), "notification") << bj::serialize(first);
  std::string nid = str_of(first.at("notification").as_object(), "id");
  EXPECT_EQ(str_of(first.at("notification").as_object(), "kind"), "customNotification");

  auto audit_count = [&] { return hub_.get("/api/audit?$top=1000", admin_).value().size(); };
  std::size_t audits = audit_count();
  struct Case {
    std::string message;
    bool binary;
    std::string expect;  // in the error message
  };
  for (const Case& c : std::vector<Case>{
           {"not json {", false, "Not a JSON object"},
           {"\x01\x02\x03", true, "JSON text"},
           {R"({"no":"type"})", false, "'type'"},
           {R"({"type":"selfDestruct"})", false, "Unknown message type"},
           {R"({"type":"event","ref":"r1","notificationId":"nope","event":"accepted"})", false,
            "No such notification"},
           {R"({"type":"event","ref":"r2","notificationId":")" + nid + R"(","event":"hacked"})",
            false, "must be one of"},
           {R"({"type":"event","notificationId":")" + nid + R"(","event":"ended"})", false,
            "'ref'"},
           {std::string(20000, ' ') + "{}", false, "16 KiB"},
       }) {
    (*ws)->send(c.message, c.binary);
    auto reply = peer->next();
    EXPECT_EQ(str_of(reply, "type"), "error") << c.message.substr(0, 80);
    EXPECT_NE(str_of(reply, "message").find(c.expect), std::string::npos)
        << str_of(reply, "message");
  }
  EXPECT_EQ(audit_count(), audits);  // nothing was recorded
  // The channel is still up and answers.
  (*ws)->send(R"({"type":"heartbeat"})", false);
  EXPECT_EQ(str_of(peer->next(), "type"), "heartbeatAck");
  EXPECT_FALSE(peer->closed());
  // An event is recorded once per ref, and acknowledged every time it is sent.
  std::string ev =
      R"({"type":"event","ref":"once","notificationId":")" + nid + R"(","event":"ended"})";
  (*ws)->send(ev, false);
  EXPECT_EQ(str_of(peer->next(), "type"), "ack");
  (*ws)->send(ev, false);
  EXPECT_EQ(str_of(peer->next(), "type"), "ack");
  EXPECT_EQ(audit_count(), audits + 1);
  // A notification confirmed as received is not sent again on the next connect.
  (*ws)->send(R"({"type":"received","id":")" + nid + R"("})", false);
  (*ws)->send(R"({"type":"heartbeat"})", false);
  EXPECT_EQ(str_of(peer->next(), "type"), "heartbeatAck");
  (*ws)->close();
  auto peer2 = std::make_shared<Collector>();
  auto ws2 = net::websocket_connect(loop, url, good, peer2);
  ASSERT_TRUE(ws2);
  (*ws2)->send(R"({"type":"heartbeat"})", false);
  EXPECT_EQ(str_of(peer2->next(), "type"), "heartbeatAck");  // and no notification before it
}

TEST_F(AgentChannelTest, CustomNotificationInputIsChecked) {
  auto enrolled = enroll(hub_, token_, {.name = "n", .os = "Linux"});
  std::string path = "/beta/deviceManagement/managedDevices/" + enrolled.str("deviceId") +
                     "/sendCustomNotificationToCompanyPortal";
  EXPECT_TRUE(IsGraphError(hub_.post(path, bj::object{{"notificationTitle", "x"}}, admin_), 400,
                           "invalidRequest"));
  EXPECT_TRUE(IsGraphError(
      hub_.post(path,
                bj::object{{"notificationTitle", std::string(51, 'x')}, {"notificationBody", "b"}},
                admin_),
      400, "invalidRequest"));
  EXPECT_TRUE(IsGraphError(
      hub_.post(path,
                bj::object{{"notificationTitle", "t"}, {"notificationBody", "b"}, {"extra", 1}},
                admin_),
      400, "invalidRequest"));
  EXPECT_TRUE(IsGraphError(
      hub_.post(path, bj::object{{"notificationTitle", "t"}, {"notificationBody", "b"}}), 401,
      "unauthenticated"));
  // An unknown device is 404 with a Graph error.
  EXPECT_TRUE(IsGraphError(
      hub_.post("/beta/deviceManagement/managedDevices/00000000-0000-4000-8000-000000000000/"
                "sendCustomNotificationToCompanyPortal",
                bj::object{{"notificationTitle", "t"}, {"notificationBody", "b"}}, admin_),
      404, "itemNotFound"));
}

// The security review's item 7: a notification's text reached the device's terminal raw, so an
// administrator (or a forged hub) could send escape sequences that rewrite the screen.
TEST_F(AgentChannelTest, EscapeSequencesInANotificationNeverReachTheTerminal) {
  std::string device = enroll_agent();
  ASSERT_TRUE(agent_->start());
  std::string title = "Hi\x1b]0;owned\x07\x1b[2J";
  std::string body =
      "line\r\nsession: allowed, full control\x1b[1A\xc2\x9b"
      "31m";
  auto sent = hub_.post(
      "/beta/deviceManagement/managedDevices/" + device + "/sendCustomNotificationToCompanyPortal",
      bj::object{{"notificationTitle", title}, {"notificationBody", body}}, admin_);
  ASSERT_EQ(sent.status, 204) << sent;
  ASSERT_TRUE(wait_until([&] { return agent_->has_notification(title); }, 20s))
      << agent_->process().output();
  auto listing = agent_->cli({"notifications"});
  for (const std::string& shown : {agent_->process().output(), listing.out}) {
    EXPECT_EQ(shown.find('\x1b'), std::string::npos) << "an escape reached the terminal";
    EXPECT_EQ(shown.find('\x07'), std::string::npos);
    EXPECT_EQ(shown.find('\r'), std::string::npos);
    EXPECT_EQ(shown.find("\xc2\x9b"), std::string::npos) << "a C1 CSI reached the terminal";
    EXPECT_EQ(shown.find("\nsession: allowed"), std::string::npos) << "a forged line";
  }
  EXPECT_NE(listing.out.find("Hi]0;owned[2J"), std::string::npos) << listing.out;
}

// Item 7: a misbehaving agent grew the hub's worker queue and device_events without bound.
TEST_F(AgentChannelTest, AFloodingAgentIsCutOffAndItsEventsAreBounded) {
  auto enrolled = enroll(hub_, token_, {.name = "flooder", .os = "Linux"});
  ASSERT_EQ(enrolled.status, 201) << enrolled;
  std::string device = enrolled.str("deviceId");
  ASSERT_EQ(notify(device, "Pending").status, 204);
  net::EventLoop loop;
  std::string url = channel_url();
  net::Headers good = device_auth(enrolled);
  auto peer = std::make_shared<Collector>();
  auto ws = net::websocket_connect(loop, url, good, peer);
  ASSERT_TRUE(ws) << ws.error().message;
  auto first = peer->next();
  std::string nid = str_of(first.at("notification").as_object(), "id");
  // New refs for one notification, one at a time: the 33rd on is refused, nothing recorded.
  int acks = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    (*ws)->send(R"({"type":"event","ref":"r)" + std::to_string(i) + R"(","notificationId":")" +
                    nid + R"(","event":"connected"})",
                false);
    auto reply = peer->next();
    if (str_of(reply, "type") == "ack") ++acks;
    if (str_of(reply, "type") == "error" &&
        str_of(reply, "message").find("at most 32") != std::string::npos)
      ++refused;
  }
  EXPECT_EQ(acks, 32);
  EXPECT_EQ(refused, 8);
  // A burst far ahead of the hub (each event a durable write): the channel is closed, not queued.
  for (int i = 0; i < 2000; ++i)
    (*ws)->send(R"({"type":"event","ref":"b)" + std::to_string(i) + R"(","notificationId":")" +
                    nid + R"(","event":"connected"})",
                false);
  EXPECT_TRUE(wait_until([&] { return peer->closed(); }, 20s))
      << "2000 messages in flight were all queued";
  // The hub is fine and the device may connect again.
  auto again = std::make_shared<Collector>();
  auto ws2 = net::websocket_connect(loop, url, good, again);
  ASSERT_TRUE(ws2) << ws2.error().message;
  (*ws2)->send(R"({"type":"heartbeat"})", false);
  bj::object reply;
  for (int i = 0; i < 5 && str_of(reply, "type") != "heartbeatAck"; ++i) reply = again->next();
  EXPECT_EQ(str_of(reply, "type"), "heartbeatAck");
}

// A backlog longer than one delivery batch (256) arrives whole: the next batch follows the
// receipt of the last of the one before.
TEST_F(AgentChannelTest, ABacklogLongerThanABatchArrivesWhole) {
  std::string device = enroll_agent();
  ASSERT_FALSE(device.empty());
  constexpr int kSent = 300;
  for (int i = 0; i < kSent; ++i)
    ASSERT_EQ(notify(device, "Backlog " + std::to_string(i)).status, 204) << i;
  ASSERT_TRUE(agent_->start());
  auto count = [&] {
    auto n = agent_->notifications();
    return n.contains("notifications") ? n.at("notifications").as_array().size() : 0u;
  };
  EXPECT_TRUE(wait_until([&] { return count() == kSent; }, 30s, 200ms))
      << count() << " of " << kSent << " arrived";
  EXPECT_TRUE(agent_->has_notification("Backlog 299"));
}

// One node, properly (issue 12): agents' channels may fill the connections the hub holds, but not
// the reserve; the API stays reachable, and the refusals are counted where operators look.
TEST(HubConnectionLimits, ChannelsLeaveTheReserveToTheApiAndRefusalsAreCounted) {
  HubProcess hub{
      HubOptions{.serve_args = {"--max-connections", "16", "--reserved-connections", "6"}}};
  ASSERT_TRUE(hub.init_and_start());
  std::string admin = hub.admin_token();
  std::string token = hub.create_enrollment_token({"--userless"});
  net::EventLoop loop;
  std::vector<std::shared_ptr<net::WebSocket>> channels;
  std::string url = "ws://127.0.0.1:" + std::to_string(hub.port()) + "/api/agent/channel";
  auto connect = [&](int i) {
    auto e = enroll(hub, token, DeviceSpec{.name = "limit-" + std::to_string(i), .os = "Linux"});
    EXPECT_EQ(e.status, 201) << e;
    net::Headers h;
    h.set("Authorization", "Bearer " + e.str("deviceCredential"));
    return net::websocket_connect(loop, url, h, std::make_shared<Collector>());
  };
  for (int i = 0; i < 10; ++i) {
    auto ws = connect(i);
    ASSERT_TRUE(ws) << i << ": " << ws.error().message;
    channels.push_back(*ws);
  }
  auto refused = connect(10);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 503) << refused.error().message;
  EXPECT_EQ(hub.get("/api/health").status, 200);
  auto m = hub.get("/api/metrics", admin);
  ASSERT_EQ(m.status, 200) << m;
  EXPECT_NE(m.body.find("reach_hub_connections_limit 16\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("reach_hub_websockets_open 10\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("reach_hub_websocket_upgrades_refused_total 1\n"), std::string::npos)
      << m.body;
  EXPECT_NE(hub.read_stderr_log().find("http.upgrade_refused"), std::string::npos);
}

}  // namespace
}  // namespace reach::itest
