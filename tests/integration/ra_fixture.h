// The remote assistance flow's fixture, shared by the tests of the flow (ra_flow_test.cpp) and of
// the desktop app on top of it (portal_test.cpp): the hub and the relay on loopback, the
// connector onboarded through the relay's own pages, a user's device enrolled with its agent on
// a virtual display, and a Help Desk Operator scoped to it.
#pragma once

#include "common/crypto.h"
#include "integration/hub_process.h"
#include "integration/relay_process.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace reach::itest {

using namespace std::chrono_literals;

constexpr int kWidth = 320;
constexpr int kHeight = 240;
constexpr const char* kPartners = "/beta/deviceManagement/remoteAssistancePartners";
constexpr const char* kDevices = "/v1.0/deviceManagement/managedDevices";

// The `state` parameter of an authorize URL.
inline std::string url_state(const std::string& url) {
  auto qm = url.find('?');
  if (qm == std::string::npos) return "";
  for (auto& [k, v] : net::parse_query(url.substr(qm + 1)))
    if (k == "state") return v;
  return "";
}

inline std::string path_of(const std::string& url) {
  auto p = url.find("://");
  auto slash = p == std::string::npos ? 0 : url.find('/', p + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

class RemoteAssistanceFlow : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("reach-ra-"); }
  void TearDown() override {
    agent_.kill9();
    if (HasFailure())
      std::printf("[ra test] keeping %s\n", dir_.c_str());
    else
      std::filesystem::remove_all(dir_);
  }

  // Hub and relay, with the hub's OAuth client registered at the relay and set on the partner.
  void start_services(std::vector<std::string> relay_args = {}) {
    ASSERT_TRUE(relay_.init_and_start(relay_args));
    ASSERT_TRUE(hub_.init_and_start());
    admin_ = hub_.admin_token();
    client_ = relay_.add_client("Reach hub", hub_.base_url() + "/api/remoteAssistance/callback");
    auto list = hub_.get(kPartners, admin_);
    ASSERT_EQ(list.status, 200) << list;
    ASSERT_EQ(list.value().size(), 1u) << list;
    partner_ = str_of(list.value()[0].as_object(), "id");
    EXPECT_EQ(str_of(list.value()[0].as_object(), "onboardingStatus"), "notOnboarded");
    auto p = hub_.patch(std::string(kPartners) + "/" + partner_,
                        bj::object{{"onboardingUrl", relay_.base_url()},
                                   {"clientId", client_.client_id},
                                   {"clientSecret", client_.client_secret}},
                        admin_);
    ASSERT_EQ(p.status, 200) << p;
    EXPECT_EQ(p.str("onboardingUrl"), relay_.base_url());
    EXPECT_EQ(p.obj().count("clientSecret"), 0u) << "the secret is never shown";
    // The tests' operators hold no licence.
    auto org = hub_.patch("/api/organization", bj::object{{"allowUnlicensedAdministrators", true}},
                          admin_);
    ASSERT_EQ(org.status, 200) << org;
  }

  // The relay's side of an onboarding, in a browser of its own: sign in as the relay's
  // administrator at `authorize`, allow, and return where the relay sends the browser back to
  // (the hub's callback with the code), without following it.
  std::string consent_at_relay(const std::string& authorize) {
    Browser relay{relay_.base_url()};
    auto signin = relay.go("GET", path_of(authorize));
    EXPECT_EQ(signin.status, 200) << signin;
    auto fields = hidden_inputs(signin.body);
    auto r = relay.go("POST", "/signin",
                      form_encode({{"csrf", fields["csrf"]},
                                   {"continue", fields["continue"]},
                                   {"email", relay_.options().admin_email},
                                   {"password", relay_.options().admin_password}}));
    EXPECT_EQ(r.status, 303) << r;
    auto consent = relay.go("GET", std::string(r.headers.get("Location").value_or("")));
    EXPECT_EQ(consent.status, 200) << consent;
    EXPECT_NE(consent.body.find("Reach hub"), std::string::npos) << "the app's name is shown";
    auto cf = hidden_inputs(consent.body);
    std::vector<std::pair<std::string, std::string>> form(cf.begin(), cf.end());
    form.emplace_back("decision", "allow");
    auto back = relay.go("POST", "/oauth2/authorize", form_encode(form));
    EXPECT_EQ(back.status, 302) << back;
    return std::string(back.headers.get("Location").value_or(""));
  }

  // Connector onboarding as the administrator's browser does it: sign in to the hub, Connect
  // (beginOnboarding), follow authorizationUrl to the relay's sign-in and consent pages, and
  // bring the code back to the hub's callback — at `callback_node` when given (another node of
  // the same store, as a load balancer may choose), with the same cookies.
  void onboard(const std::string& callback_node = "") {
    Browser hub{hub_.base_url()};
    auto in = hub.go("POST", "/api/auth/signin",
                     bj::serialize(bj::object{{"email", hub_.options().admin_email},
                                              {"password", hub_.options().admin_password}}),
                     "application/json");
    ASSERT_EQ(in.status, 200) << in;
    auto begin = hub.go("POST", std::string(kPartners) + "/" + partner_ + "/beginOnboarding");
    ASSERT_EQ(begin.status, 204) << begin;
    auto p = hub.go("GET", std::string(kPartners) + "/" + partner_);
    ASSERT_EQ(p.str("onboardingStatus"), "onboarding") << p;
    EXPECT_FALSE(p.str("onboardingRequestExpiryDateTime").empty()) << p;
    std::string authorize = p.str("authorizationUrl");
    ASSERT_TRUE(authorize.starts_with(relay_.base_url() + "/oauth2/authorize?")) << p;
    EXPECT_NE(authorize.find("code_challenge_method=S256"), std::string::npos);

    std::string location = consent_at_relay(authorize);
    ASSERT_TRUE(location.starts_with(hub_.base_url() + "/api/remoteAssistance/callback?"))
        << location;
    if (!callback_node.empty()) hub.base_url = callback_node;
    auto done = hub.go("GET", path_of(location));
    ASSERT_EQ(done.status, 200) << done;
    EXPECT_NE(done.body.find("onboarding=confirm"), std::string::npos) << done.body;
    // The grant waits for the administrator to confirm the relay account that consented.
    auto held = hub.go("GET", std::string(kPartners) + "/" + partner_);
    ASSERT_EQ(held.str("onboardingStatus"), "onboarding") << held;
    ASSERT_TRUE(held.obj().contains("pendingAccount")) << held;
    EXPECT_EQ(str_of(held.obj().at("pendingAccount").as_object(), "email"),
              relay_.options().admin_email);
    auto confirm = hub.go("POST", std::string(kPartners) + "/" + partner_ + "/confirmOnboarding");
    ASSERT_EQ(confirm.status, 204) << confirm;
    auto after = hub_.get(std::string(kPartners) + "/" + partner_, admin_);
    ASSERT_EQ(after.str("onboardingStatus"), "onboarded") << after;
    EXPECT_NE(after.str("lastConnectionDateTime").substr(0, 4), "0001") << after;
    ASSERT_TRUE(after.obj().at("connectedAccount").is_object()) << after;
    EXPECT_EQ(str_of(after.obj().at("connectedAccount").as_object(), "email"),
              relay_.options().admin_email);
  }

  // A user, a personal device enrolled to them with a running agent on its own display, and a
  // Help Desk Operator whose scope group holds the device.
  void enroll_device_and_helpdesk(bool start_agent = true) {
    auto user = create_user(hub_, admin_, "dana@reach.test", "Dana Device", "Dana-Passw0rd-1");
    ASSERT_EQ(user.status, 201) << user;
    ASSERT_TRUE(display_.start(dir_, width_, height_));
    state_ = dir_ + "/agent";
    std::string token = hub_.create_enrollment_token({"--user", "dana@reach.test"});
    auto e = agent_cli({"enroll", "--hub", hub_.base_url(), "--token", token});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    device_ = trim(e.out.substr(e.out.find("device ") + 7));
    if (start_agent) start_agent_and_wait();

    auto hd = create_user(hub_, admin_, "helen@reach.test", "Helen Helpdesk", "Helen-Passw0rd-1");
    ASSERT_EQ(hd.status, 201) << hd;
    auto group =
        hub_.post("/v1.0/groups", bj::object{{"displayName", "Supported devices"}}, admin_);
    ASSERT_EQ(group.status, 201) << group;
    auto member = hub_.post(
        "/v1.0/groups/" + group.str("id") + "/members/$ref",
        bj::object{{"@odata.id", hub_.base_url() + "/v1.0/directoryObjects/" + device_}}, admin_);
    ASSERT_EQ(member.status, 204) << member;
    auto roles = hub_.get("/v1.0/deviceManagement/roleDefinitions", admin_);
    std::string help_desk;
    for (const auto& v : roles.value())
      if (str_of(v.as_object(), "displayName") == "Help Desk Operator")
        help_desk = str_of(v.as_object(), "id");
    auto ra = hub_.post("/v1.0/deviceManagement/roleAssignments",
                        bj::object{{"displayName", "Helpdesk on supported devices"},
                                   {"members", bj::array{hd.str("id")}},
                                   {"resourceScopes", bj::array{group.str("id")}},
                                   {"roleDefinitionId", help_desk}},
                        admin_);
    ASSERT_EQ(ra.status, 201) << ra;
    helpdesk_ = hub_.create_token("helen@reach.test");
  }

  void start_agent_and_wait() {
    std::vector<std::string> argv = {program_path("reach-agent"),
                                     "run",
                                     "--state",
                                     state_,
                                     "--display",
                                     display_.name(),
                                     "--heartbeat-ms",
                                     "500",
                                     "--backoff-min-ms",
                                     "100",
                                     "--backoff-max-ms",
                                     "500"};
    argv.insert(argv.end(), agent_args_.begin(), agent_args_.end());
    ASSERT_TRUE(agent_.start(argv, state_ + ".log"));
    ASSERT_TRUE(wait_until([&] { return status_of("channel") == "connected"; }, 15s))
        << agent_.output();
  }

  CommandResult agent_cli(std::vector<std::string> args) {
    args.insert(args.begin(), program_path("reach-agent"));
    args.push_back("--state");
    args.push_back(state_);
    return run_command(args);
  }
  bj::object agent_json(std::vector<std::string> args) {
    args.push_back("--json");
    auto r = agent_cli(args);
    boost::system::error_code ec;
    auto v = bj::parse(r.out, ec);
    return v.is_object() ? v.as_object() : bj::object{};
  }
  std::string status_of(const std::string& key) { return str_of(agent_json({"status"}), key); }
  std::string session_state() {
    auto s = agent_json({"status"});
    return s.contains("session") ? str_of(s.at("session").as_object(), "state") : "";
  }
  // The id of the newest remote assistance request on the device, once it has arrived.
  std::string wait_request() {
    std::string id;
    wait_until(
        [&] {
          auto n = agent_json({"notifications"});
          if (!n.contains("notifications")) return false;
          for (const auto& v : n.at("notifications").as_array())
            if (str_of(v.as_object(), "kind") == "remoteAssistanceRequest" &&
                str_of(v.as_object(), "answer").empty()) {
              id = str_of(v.as_object(), "id");
              return true;
            }
          return false;
        },
        20s, 100ms);
    return id;
  }
  ApiResult request(const std::string& bearer, const std::string& device) {
    return hub_.post_raw(std::string(kDevices) + "/" + device + "/requestRemoteAssistance", "",
                         bearer);
  }
  bj::object history_of(const std::string& device) {
    auto h = hub_.get("/api/remoteAssistanceSessions?deviceId=" + device, admin_);
    EXPECT_EQ(h.status, 200) << h;
    return h.value().empty() ? bj::object{} : h.value()[0].as_object();
  }
  std::size_t relay_sessions() {
    return relay_.get("/api/v1/sessions", relay_.admin_token()).obj().count("sessions")
               ? relay_.get("/api/v1/sessions", relay_.admin_token())
                     .obj()
                     .at("sessions")
                     .as_array()
                     .size()
               : 0;
  }

  std::string dir_, state_, admin_, helpdesk_, partner_, device_;
  int width_ = kWidth, height_ = kHeight;  // the device's screen
  std::vector<std::string> agent_args_;    // added to `reach-agent run`
  RelayProcess relay_;
  // The device's own report of an end is awaited 2 s before the relay's word is taken for it.
  HubProcess hub_{HubOptions{.serve_args = {"--relay-close-grace-ms", "2000"}}};
  OAuthClient client_;
  VirtualDisplay display_;
  ChildProcess agent_;
};

}  // namespace reach::itest
