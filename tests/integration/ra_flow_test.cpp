// The product's reason to exist, with the real programs on loopback (SPEC §3.1, §3.3–§3.7):
// the hub's connector onboarded to the relay through the relay's own sign-in and consent pages,
// a Help Desk Operator requesting remote assistance on a user's device, the agent's notification,
// accept and allow, `reach connect` giving a real VNC client (libvncclient) the device's pixels
// and input, the user ending it, and the hub's history and audit log telling what happened.
#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/json.h"
#include "common/time.h"
#include "integration/e2e_peer.h"
#include "integration/middle_relay.h"
#include "integration/ra_fixture.h"
#include "link/e2e.h"
#include "link/link.h"
#include "link/receipt.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

namespace reach::itest {
namespace {

// Issue 24, point 4: the session's consent receipts, as the device signed them, in the history;
// `reach verify-receipt` takes them against the device's fingerprint and refuses a changed
// field, another device's key, and one the hub (or anyone without the device's key) made.
void check_consent_receipts(const bj::object& hist, const std::string& state_dir,
                            const std::string& dir) {
  const auto& c = hist.at("consentReceipt").as_object();
  EXPECT_TRUE(c.at("signedByDevice").as_bool()) << bj::serialize(c);
  EXPECT_TRUE(c.at("problem").is_null()) << bj::serialize(c);
  ASSERT_TRUE(c.at("decision").is_object() && c.at("end").is_object()) << bj::serialize(c);
  const auto& decision = c.at("decision").as_object();
  EXPECT_EQ(str_of(decision, "decision"), "allowedControl");
  EXPECT_EQ(str_of(decision, "sessionId"), str_of(hist, "id"));
  EXPECT_EQ(str_of(decision, "requestedBy"), "Helen Helpdesk");
  EXPECT_EQ(str_of(c.at("end").as_object(), "outcome"), "endedByUser");
  // The device's fingerprint, as its portal shows it (from its key in the state directory).
  auto stored = json::parse_object(read_file_bytes(state_dir + "/device-key.json"));
  ASSERT_TRUE(stored);
  auto seed = crypto::base64url_decode(str_of(*stored, "ed25519"));
  ASSERT_TRUE(seed);
  std::string fingerprint = link::device_key_fingerprint(*crypto::ed25519_public_key(*seed));
  auto verify = [&](const bj::object& receipt, const std::string& fp) {
    std::string file = dir + "/receipt.json";
    std::ofstream(file) << bj::serialize(receipt);
    return run_command({program_path("reach"), "verify-receipt", file, "--fingerprint", fp});
  };
  auto ok = verify(decision, fingerprint);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid: signed by the device key " + fingerprint), std::string::npos)
      << ok.out;
  EXPECT_EQ(verify(c.at("end").as_object(), fingerprint).exit_code, 0);
  // A changed field.
  bj::object changed = decision;
  changed["decision"] = "allowedViewOnly";
  auto refused = verify(changed, fingerprint);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("a field was changed"), std::string::npos) << refused.err;
  // Another device's key: the receipt is genuine, but not that device's.
  auto other = crypto::ed25519_keypair();
  auto wrong = verify(decision, link::device_key_fingerprint(other.public_key));
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("not by the device"), std::string::npos) << wrong.err;
  // Made by someone without the device's key (the hub, say): signed with its own key.
  bj::object forged = decision;
  forged.erase("signature");
  forged.erase("deviceKey");
  auto made = json::parse_object(link::sign_receipt(forged, other.private_key));
  ASSERT_TRUE(made);
  auto forged_result = verify(*made, fingerprint);
  EXPECT_EQ(forged_result.exit_code, 1);
  EXPECT_NE(forged_result.err.find("not by the device"), std::string::npos) << forged_result.err;
  // Or with the device's key named in it but a signature of its own.
  bj::object claimed = *made;
  claimed["deviceKey"] = decision.at("deviceKey");
  EXPECT_EQ(verify(claimed, fingerprint).exit_code, 1);
}

TEST_F(RemoteAssistanceFlow, HelpDeskRequestToUserEndedSessionWithARealViewer) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  ChildProcess input_log;
  std::string log = dir_ + "/input.log";
  ASSERT_TRUE(input_log.start({program_path("reach_test_x11_input_log"), "--out", log},
                              dir_ + "/input-tool.log", {{"DISPLAY", display_.name()}}));
  ASSERT_TRUE(
      wait_until([&] { return input_log.output().find("ready") != std::string::npos; }, 20s));

  auto r = request(helpdesk_, device_);
  ASSERT_EQ(r.status, 204) << r;
  auto d = hub_.get(std::string(kDevices) + "/" + device_, admin_);
  std::string link = d.str("remoteAssistanceSessionUrl");
  ASSERT_NE(link.find("/support/"), std::string::npos) << d;
  const auto& actions = d.obj().at("deviceActionResults").as_array();
  ASSERT_EQ(actions.size(), 1u) << d;
  EXPECT_EQ(str_of(actions[0].as_object(), "actionName"), "requestRemoteAssistance");
  EXPECT_EQ(str_of(actions[0].as_object(), "actionState"), "pending");
  // A second request while this one is open makes no other: the hub says one is waiting.
  EXPECT_TRUE(IsGraphError(request(helpdesk_, device_), 409, "remoteAssistanceRequestPending"));
  EXPECT_EQ(relay_sessions(), 1u);
  EXPECT_EQ(
      hub_.get(std::string(kDevices) + "/" + device_, admin_).str("remoteAssistanceSessionUrl"),
      link);

  // The device user: the notification flag, the request, accept.
  std::string id = wait_request();
  ASSERT_FALSE(id.empty()) << agent_.output();
  EXPECT_NE(agent_.output().find("requesting control of this device"), std::string::npos);
  auto accepted = agent_cli({"accept", id});
  ASSERT_EQ(accepted.exit_code, 0) << accepted.err;
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 15s))
      << agent_.output();

  // The supporter: `reach connect` with the link from remoteAssistanceSessionUrl, and a VNC
  // client that types, clicks and stays until the session ends.
  ServerProcess bridge;
  ASSERT_TRUE(bridge.start({program_path("reach"), "connect", link, "--listen", "127.0.0.1:0"},
                           dir_ + "/connect.log", "reach connect"));
  ChildProcess viewer;
  ASSERT_TRUE(viewer.start(
      {program_path("reach_test_vnc_client"), "--connect",
       "127.0.0.1:" + std::to_string(bridge.port()), "--password", bridge.second_line(),
       "--encodings", "zrle", "--snapshot", dir_ + "/seen.ppm", "--type", "Hi, IT!", "--click",
       "40,30", "--until-closed", "--timeout-ms", "60000"},
      dir_ + "/viewer.log"));
  ASSERT_TRUE(wait_until([&] { return session_state() == "askingToAllow"; }, 15s));
  // Issue 21, point 7: the hub knows the user is being asked, and until when (the agent's
  // default of 300 s to answer); the supporter's terminal says so too.
  ASSERT_TRUE(
      wait_until([&] { return history_of(device_).at("answerDueDateTime").is_string(); }, 10s))
      << bj::serialize(history_of(device_));
  {
    auto asked = history_of(device_);
    EXPECT_EQ(str_of(asked, "state"), "accepted");
    auto at = parse_iso8601(str_of(asked, "askedDateTime"));
    auto due = parse_iso8601(str_of(asked, "answerDueDateTime"));
    ASSERT_TRUE(at && due) << bj::serialize(asked);
    EXPECT_EQ(*due - *at, 300'000);
  }
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file_bytes(dir_ + "/connect.log")
                   .find(
                       "The device user is being asked to allow the session (5:00 "
                       "to answer)") != std::string::npos;
      },
      10s))
      << read_file_bytes(dir_ + "/connect.log");
  ASSERT_EQ(agent_cli({"allow"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return viewer.output().find("frames=") != std::string::npos; }, 30s))
      << viewer.output();
  // The device's pixels (its white input window) and the typed keys arrived.
  std::ifstream snap(dir_ + "/seen.ppm", std::ios::binary);
  std::string magic;
  int w = 0, h = 0, maxval = 0;
  snap >> magic >> w >> h >> maxval;
  snap.get();
  std::string px(static_cast<std::size_t>(w) * h * 3, '\0');
  snap.read(px.data(), static_cast<std::streamsize>(px.size()));
  EXPECT_EQ(w, kWidth);
  EXPECT_EQ(px, std::string(px.size(), '\xff')) << "the device's white window";
  ASSERT_TRUE(
      wait_until([&] { return read_file_bytes(log).find("key !") != std::string::npos; }, 10s));
  std::string typed, line;
  std::istringstream in(read_file_bytes(log));
  while (std::getline(in, line))
    if (line.starts_with("key ")) typed += line.substr(4);
  EXPECT_EQ(typed, "Hi, IT!");
  EXPECT_NE(read_file_bytes(log).find("click 40 30 1"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 10s));
  // The user sees that a session is active, and by whom.
  ASSERT_TRUE(wait_until(
      [&] {
        return agent_.output().find(
                   "session: active — Helen Helpdesk (your IT administrator) "
                   "sees this screen and can control it") != std::string::npos;
      },
      10s))
      << agent_.output();
  EXPECT_EQ(str_of(agent_json({"status"}).at("session").as_object(), "supporter"),
            "Helen Helpdesk (your IT administrator)");
  EXPECT_NE(read_file_bytes(dir_ + "/connect.log")
                .find("The device user allowed the session: you have control."),
            std::string::npos)
      << read_file_bytes(dir_ + "/connect.log");
  EXPECT_FALSE(history_of(device_).at("viewOnly").as_bool());

  // Issue 21, point 8: the user switches to view only; the supporter's terminal and the hub
  // know at once.
  ASSERT_EQ(agent_cli({"view-only"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return history_of(device_).at("viewOnly").as_bool(); }, 10s))
      << bj::serialize(history_of(device_));
  EXPECT_EQ(str_of(history_of(device_), "state"), "active");
  ASSERT_TRUE(wait_until(
      [&] {
        return read_file_bytes(dir_ + "/connect.log").find("The device user chose view only") !=
               std::string::npos;
      },
      10s))
      << read_file_bytes(dir_ + "/connect.log");

  // The user ends it.
  std::this_thread::sleep_for(300ms);  // a measurable duration
  ASSERT_EQ(agent_cli({"end"}).exit_code, 0);
  EXPECT_EQ(viewer.wait(15s), std::optional<int>(0)) << viewer.output();
  EXPECT_NE(viewer.output().find("closed by server"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "ended"; }, 15s))
      << bj::serialize(history_of(device_));
  auto hist = history_of(device_);
  EXPECT_EQ(str_of(hist, "endReason"), "endedByUser");
  EXPECT_EQ(str_of(hist.at("requester").as_object(), "userPrincipalName"), "helen@reach.test");
  EXPECT_TRUE(hist.at("userAccepted").as_bool());
  EXPECT_TRUE(hist.at("userAllowed").as_bool());
  EXPECT_TRUE(hist.at("viewOnly").as_bool());  // switched during the session
  ASSERT_TRUE(hist.at("durationSeconds").is_double()) << bj::serialize(hist);
  EXPECT_GT(hist.at("durationSeconds").as_double(), 0.2);
  // The end's receipt follows the end through the device's outbox.
  ASSERT_TRUE(wait_until(
      [&] { return history_of(device_).at("consentReceipt").as_object().at("end").is_object(); },
      10s))
      << bj::serialize(history_of(device_));
  check_consent_receipts(history_of(device_), state_, dir_);
  auto after = hub_.get(std::string(kDevices) + "/" + device_, admin_);
  EXPECT_TRUE(after.obj().at("remoteAssistanceSessionUrl").is_null()) << after;
  EXPECT_EQ(str_of(after.obj().at("deviceActionResults").as_array()[0].as_object(), "actionState"),
            "done");
  // Filters: by requester, and nothing for another device.
  auto mine = hub_.get("/api/remoteAssistanceSessions?requesterId=nobody", admin_);
  EXPECT_TRUE(mine.value().empty()) << mine;

  // The same code and links are refused afterwards, with words that say what to do.
  net::EventLoop loop;
  auto gone =
      net::websocket_connect(loop, relay_.ws_url("/api/v1/stream/supporter/" + last_segment(link)),
                             {}, std::make_shared<WsPeer>());
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().status, 410) << gone.error().message;
  // The code alone never opened a session the hub requested (its end-customer link does).
  auto code = str_of(hist, "sessionCode");
  auto join = run_command({program_path("reach-agent"), "join", code, "--relay", relay_.base_url(),
                           "--display", display_.name(), "--state", dir_ + "/other"});
  EXPECT_NE(join.exit_code, 0);
  EXPECT_NE(join.err.find("no open session for this code"), std::string::npos) << join.err;

  // Every step is in the audit log.
  auto audit = hub_.get("/api/audit?$top=1000", admin_).body;
  for (const char* what :
       {"completeRemoteAssistanceOnboarding", "requestRemoteAssistance", "answerNotification",
        "reportSessionEvent", "\"event\":\"connected\"", "\"event\":\"ended\"", "endedByUser"})
    EXPECT_NE(audit.find(what), std::string::npos) << what;
}

// Issue 21, points 7 and 8: what the user is asked ("asking", with the seconds to answer) and
// chose ("viewOnly") is taken only where it can happen and with a sane detail; any other such
// report is acknowledged (the agent must not resend it forever) and changes nothing.
TEST_F(RemoteAssistanceFlow, AskingAndViewOnlyReportsOutOfPlaceChangeNothing) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string nid = wait_request();
  ASSERT_FALSE(nid.empty()) << agent_.output();
  agent_.kill9();  // from here the device is this test, on the agent's own credential
  auto cred = json::parse_object(read_file_bytes(state_ + "/credential.json"));
  ASSERT_TRUE(cred);
  net::Headers auth;
  auth.set("Authorization", "Bearer " + str_of(*cred, "deviceCredential"));
  net::EventLoop loop;
  auto peer = std::make_shared<WsPeer>();
  auto ws = net::websocket_connect(
      loop, "ws://127.0.0.1:" + std::to_string(hub_.port()) + "/api/agent/channel", auth, peer);
  ASSERT_TRUE(ws) << ws.error().message;
  int refs = 0;
  auto report = [&](const std::string& event, const std::string& detail) {
    std::string ref = "t" + std::to_string(++refs);
    bj::object ev{{"type", "event"}, {"ref", ref}, {"notificationId", nid}, {"event", event}};
    if (!detail.empty()) ev["detail"] = detail;
    (*ws)->send(bj::serialize(ev), false);
    std::string ack = R"("ref":")" + ref + '"';
    return wait_until(
        [&] {
          for (const auto& m : peer->messages())
            if (m.find(ack) != std::string::npos) return m.find(R"("ack")") != std::string::npos;
          return false;
        },
        10s);
  };
  auto unchanged = [&](const char* state) {
    auto h = history_of(device_);
    return str_of(h, "state") == state && h.at("askedDateTime").is_null() &&
           h.at("answerDueDateTime").is_null() && h.at("viewOnlyFromDateTime").is_null() &&
           !(h.at("viewOnly").is_bool() && h.at("viewOnly").as_bool());
  };
  // Not accepted yet: nobody can be asked to allow, nothing can be view only.
  ASSERT_TRUE(report("asking", "300"));
  ASSERT_TRUE(report("viewOnly", ""));
  EXPECT_TRUE(unchanged("requested")) << bj::serialize(history_of(device_));
  ASSERT_TRUE(report("accepted", ""));
  // Accepted: only a whole number of seconds, 1 to 3600, is a deadline.
  for (const char* bad : {"", "abc", "0", "-5", "3601", "99999999999999999999", "300x", " 300"})
    ASSERT_TRUE(report("asking", bad)) << bad;
  ASSERT_TRUE(report("viewOnly", ""));  // nothing allowed yet to restrict
  EXPECT_TRUE(unchanged("accepted")) << bj::serialize(history_of(device_));
  ASSERT_TRUE(report("asking", "120"));
  auto h = history_of(device_);
  auto at = parse_iso8601(str_of(h, "askedDateTime"));
  auto due = parse_iso8601(str_of(h, "answerDueDateTime"));
  ASSERT_TRUE(at && due) << bj::serialize(h);
  EXPECT_EQ(*due - *at, 120'000);
  EXPECT_EQ(str_of(h, "state"), "accepted");
}

// Finding 2 of the security review: the supporter link is a bearer credential. Only the
// administrator who requested the session and holders of RemoteAssistance_Update over the device
// read it; everyone else who may read the device sees that a session exists, not the link. At
// rest it is sealed.
TEST_F(RemoteAssistanceFlow, OnlyTheRequesterAndRemoteAssistanceUpdatersSeeTheSupporterLink) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  auto roles = hub_.get("/v1.0/deviceManagement/roleDefinitions", admin_);
  auto role_id = [&](const std::string& name) {
    for (const auto& v : roles.value())
      if (str_of(v.as_object(), "displayName") == name) return str_of(v.as_object(), "id");
    return std::string();
  };
  auto operator_with = [&](const std::string& email, const std::string& role) {
    auto u = create_user(hub_, admin_, email, email, "Operator-Passw0rd-1");
    EXPECT_EQ(u.status, 201) << u;
    auto a = hub_.post("/v1.0/deviceManagement/roleAssignments",
                       bj::object{{"displayName", email},
                                  {"members", bj::array{u.str("id")}},
                                  {"scopeType", "allDevices"},
                                  {"roleDefinitionId", role_id(role)}},
                       admin_);
    EXPECT_EQ(a.status, 201) << a;
    return hub_.create_token(email);
  };
  std::string other_helpdesk = operator_with("hank@reach.test", "Help Desk Operator");
  std::string read_only = operator_with("rita@reach.test", "Read Only Operator");
  std::string device_user = hub_.create_token("dana@reach.test");

  auto req = request(helpdesk_, device_);
  ASSERT_EQ(req.status, 204) << req;
  struct Reader {
    const char* who;
    std::string token;
    bool sees_link;
  };
  std::string link;
  for (const auto& r : {Reader{"the requester (Help Desk)", helpdesk_, true},
                        Reader{"an Intune Administrator", admin_, true},
                        Reader{"another Help Desk Operator", other_helpdesk, false},
                        Reader{"a Read Only Operator", read_only, false}}) {
    for (const std::string& path : {std::string(kDevices) + "/" + device_, std::string(kDevices)}) {
      auto got = hub_.get(path, r.token);
      ASSERT_EQ(got.status, 200) << r.who << " " << got;
      bj::object d = got.obj().contains("value") ? got.value().at(0).as_object() : got.obj();
      const auto& url = d.at("remoteAssistanceSessionUrl");
      const auto& results = d.at("deviceActionResults").as_array();
      ASSERT_EQ(results.size(), 1u) << r.who << " does not see that a session exists: " << got;
      EXPECT_EQ(str_of(results[0].as_object(), "actionState"), "pending") << r.who;
      if (r.sees_link) {
        ASSERT_TRUE(url.is_string()) << r.who << " " << got;
        link = std::string(url.as_string());
        EXPECT_TRUE(link.starts_with(relay_.base_url() + "/support/")) << r.who << " " << link;
      } else {
        EXPECT_TRUE(url.is_null()) << r.who << " reads the supporter link: " << got;
      }
    }
  }
  auto mine = hub_.get("/v1.0/me/managedDevices", device_user);
  ASSERT_EQ(mine.status, 200) << mine;
  ASSERT_EQ(mine.value().size(), 1u) << mine;
  EXPECT_TRUE(mine.value()[0].as_object().at("remoteAssistanceSessionUrl").is_null())
      << "the device's own user reads the supporter link: " << mine;

  // At rest: the link's token is nowhere in the hub's database in clear.
  ASSERT_FALSE(link.empty());
  std::string token = link.substr(link.size() - 32);
  auto dump = hub_.dump_database();
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("ra_sessions"), std::string::npos);
  EXPECT_EQ(dump.out.find(token), std::string::npos) << "the supporter link is stored in clear";
  // Nor the end-customer link (the device's way in), which the device's notification carries.
  auto at_relay = relay_.get("/api/v1/sessions/" + str_of(history_of(device_), "sessionCode"),
                             relay_.admin_token());
  std::string device_link = at_relay.str("end_customer_link");
  ASSERT_FALSE(device_link.empty()) << at_relay;
  EXPECT_EQ(dump.out.find(device_link.substr(device_link.size() - 32)), std::string::npos)
      << "the end-customer link is stored in clear";
}

TEST_F(RemoteAssistanceFlow, EachRefusalHasItsOwnErrorAndCreatesNoRelaySession) {
  start_services();
  // Before onboarding: the connector is the reason.
  enroll_device_and_helpdesk();
  auto not_onboarded = request(admin_, device_);
  EXPECT_TRUE(IsGraphError(not_onboarded, 409, "remoteAssistanceConnectorNotOnboarded"))
      << not_onboarded;
  onboard();
  // Devices that are not eligible, enrolled straight through the API.
  auto make = [&](const std::vector<std::string>& token_flags, DeviceSpec spec) {
    std::string t = hub_.create_enrollment_token(token_flags);
    auto e = enroll(hub_, t, spec);
    EXPECT_EQ(e.status, 201) << e;
    return e.str("deviceId");
  };
  struct Case {
    std::string device, code;
  };
  std::vector<Case> cases = {
      {make({"--user", "dana@reach.test", "--ownership", "company"},
            {.name = "corp", .os = "Linux"}),
       "companyOwnedDeviceNotSupported"},
      {make({"--user", "dana@reach.test"},
            {.name = "hololens", .os = "Windows", .device_type = "holoLens"}),
       "windowsHolographicNotSupported"},
      {make({"--user", "dana@reach.test"},
            {.name = "hub", .os = "Windows", .device_type = "surfaceHub"}),
       "windowsTeamNotSupported"},
      {make({"--user", "dana@reach.test"}, {.name = "10s",
                                            .os = "Windows",
                                            .device_type = "desktop",
                                            .sku_family = "Windows 10 S"}),
       "windows10SNotSupported"},
      {make({"--userless"}, {.name = "kiosk", .os = "Linux"}), "userlessDeviceNotSupported"},
      {make({"--user", "dana@reach.test"}, {.name = "no-agent", .os = "Linux"}),
       "agentNotConnected"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    auto r = request(admin_, c.device);
    EXPECT_TRUE(IsGraphError(r, 409, c.code)) << r;
    if (c.code == "userlessDeviceNotSupported") {
      EXPECT_NE(r.body.find(relay_.base_url()), std::string::npos) << "names the relay portal";
    }
  }
  // Out of scope for the help desk (the corporate device is not in its group), and no permission.
  EXPECT_TRUE(IsGraphError(request(helpdesk_, cases[0].device), 403, "accessDenied"));
  auto reader = create_user(hub_, admin_, "rita@reach.test", "Rita Reader", "Rita-Passw0rd-1");
  ASSERT_EQ(reader.status, 201);
  auto roles = hub_.get("/v1.0/deviceManagement/roleDefinitions", admin_);
  std::string read_only;
  for (const auto& v : roles.value())
    if (str_of(v.as_object(), "displayName") == "Read Only Operator")
      read_only = str_of(v.as_object(), "id");
  ASSERT_EQ(hub_.post("/v1.0/deviceManagement/roleAssignments",
                      bj::object{{"displayName", "Readers"},
                                 {"members", bj::array{reader.str("id")}},
                                 {"scopeType", "allDevices"},
                                 {"roleDefinitionId", read_only}},
                      admin_)
                .status,
            201);
  EXPECT_TRUE(
      IsGraphError(request(hub_.create_token("rita@reach.test"), device_), 403, "accessDenied"));
  EXPECT_TRUE(IsGraphError(request("", device_), 401, "unauthenticated"));
  EXPECT_EQ(relay_sessions(), 0u) << "a refused request created a relay session";
  // The eligible device still works.
  EXPECT_EQ(request(helpdesk_, device_).status, 204);
  EXPECT_EQ(relay_sessions(), 1u);
}

// Issue 24, point 2: a session the hub requested is bound to the device. Both links carry a
// secret in their fragment (which browsers and reach connect never send to the relay), and the
// supporter's the fingerprint of the key the device registered at enrollment. The relay stores
// and logs neither. A supporter without the secret gets nothing from the device; a relay that
// stands in the middle with keys of its own is caught by both ends before anything is shown.
TEST_F(RemoteAssistanceFlow, AHubSessionIsBoundToTheDevicesKeyAndASecretTheRelayNeverSees) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  auto requested_and_accepted = [&] {
    EXPECT_EQ(request(helpdesk_, device_).status, 204);
    std::string id = wait_request();
    EXPECT_FALSE(id.empty()) << agent_.output();
    EXPECT_EQ(agent_cli({"accept", id}).exit_code, 0);
    EXPECT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 10s));
    return hub_.get(std::string(kDevices) + "/" + device_, admin_)
        .str("remoteAssistanceSessionUrl");
  };

  std::string link = requested_and_accepted();
  auto parsed = link::parse_session_link(link, "support");
  ASSERT_TRUE(parsed) << link;
  ASSERT_EQ(parsed->session_secret.size(), 32u) << link;
  // The fingerprint is the key the agent holds (its seed is in its state directory).
  auto stored = json::parse_object(read_file_bytes(state_ + "/device-key.json"));
  ASSERT_TRUE(stored);
  auto seed = crypto::base64url_decode(str_of(*stored, "ed25519"));
  ASSERT_TRUE(seed);
  auto pub = crypto::ed25519_public_key(*seed);
  ASSERT_TRUE(pub);
  EXPECT_EQ(parsed->device_fingerprint, link::device_key_fingerprint(*pub));

  // The relay never held the secret: nowhere in its data directory (its log; its SQLite
  // database) nor in its database's dump (PostgreSQL too).
  std::string secret_text = crypto::base64url_encode(parsed->session_secret);
  for (const auto& f : std::filesystem::recursive_directory_iterator(relay_.data_dir())) {
    if (f.is_regular_file())
      EXPECT_EQ(read_file_bytes(f.path().string()).find(secret_text), std::string::npos)
          << f.path();
  }
  auto dump = relay_.dump_database();
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find(parsed->code), std::string::npos) << "the dump holds the session";
  EXPECT_EQ(dump.out.find(secret_text), std::string::npos);

  // Without the link's fragment, the device refuses before it shows anything.
  net::EventLoop loop;
  std::string stream = relay_.ws_url("/api/v1/stream/supporter/" + last_segment(link));
  {
    auto bare = E2ePeer::connect(loop, stream);
    ASSERT_TRUE(bare);
    ASSERT_TRUE((*bare)->wait_closed(10s));
    EXPECT_EQ((*bare)->close_reason(), "end-to-end check failed (e2eSecret)");
    EXPECT_TRUE((*bare)->stream().empty());
    EXPECT_TRUE(wait_until([&] { return session_state() == "ended"; }, 10s)) << session_state();
    EXPECT_NE(agent_.output().find("e2eFailed"), std::string::npos) << agent_.output();
  }

  // A check-in cannot replace the key the device enrolled with (not even with the device's
  // credential), and a malformed key is refused.
  auto cred = json::parse_object(read_file_bytes(state_ + "/credential.json"));
  ASSERT_TRUE(cred);
  std::string device_credential = str_of(*cred, "deviceCredential");
  auto other = crypto::ed25519_keypair();
  EXPECT_EQ(hub_.post("/api/agent/checkin",
                      bj::object{{"devicePublicKey", crypto::base64url_encode(other.public_key)}},
                      device_credential)
                .status,
            200);
  EXPECT_EQ(
      hub_.post("/api/agent/checkin", bj::object{{"devicePublicKey", "c2hvcnQ"}}, device_credential)
          .status,
      400);

  // A relay in the middle with keys of its own (it knows neither the secret nor the device's
  // key), between the supporter and the relay: each end fails its check, no allow is asked,
  // no byte of the stream is shown.
  link = requested_and_accepted();
  auto again = link::parse_session_link(link, "support");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->device_fingerprint, parsed->device_fingerprint) << "the enrolled key stays";
  EXPECT_NE(again->session_secret, parsed->session_secret) << "each session has its own secret";
  using Way = MiddleRelay::Way;  // here: to_relay = from the supporter, to_device = towards it
  std::mutex mu;
  link::E2eChannel towards_supporter(device_end(std::string(32, 'x')));  // a guessed secret
  link::E2eChannel towards_device(
      link::E2eOptions{link::E2eRole::supporter, std::string(32, 'x'), {}, {}});
  MiddleRelay middle(relay_.port(),
                     [&](Way way, int, std::string m, const MiddleRelay::Send& send) {
                       std::lock_guard lk(mu);
                       if (way == Way::to_relay) {  // the supporter's message
                         auto r = towards_supporter.receive(m);
                         if (!r) return;
                         for (auto& x : r->send) send(Way::to_device, std::move(x));
                         for (auto& x : towards_device.start()) send(Way::to_relay, std::move(x));
                       } else {  // the device's
                         auto r = towards_device.receive(m);
                         if (!r) return;
                         for (auto& x : r->send) send(Way::to_relay, std::move(x));
                       }
                     });
  std::string through =
      "ws" + middle.base_url().substr(4) + "/api/v1/stream/supporter/" + last_segment(link);
  auto supporter = E2ePeer::connect(loop, through, supporter_end(link));
  ASSERT_TRUE(supporter);
  ASSERT_TRUE((*supporter)->wait_closed(10s));
  // Its own check failed, or the device's did first and the relay passed its reason on (the two
  // run at once): either way the supporter's end was refused and nothing was shown.
  EXPECT_TRUE((*supporter)->e2e_error() == "e2eSecret" ||
              (*supporter)->close_reason() == "end-to-end check failed (e2eSecret)")
      << (*supporter)->e2e_error() << " / " << (*supporter)->close_reason();
  EXPECT_TRUE((*supporter)->stream().empty());
  EXPECT_TRUE(wait_until([&] { return session_state() == "ended"; }, 10s)) << session_state();
  EXPECT_EQ(agent_.output().find("Allow this session to start?"), std::string::npos)
      << "the device asked its user: " << agent_.output();
  EXPECT_FALSE(history_of(device_).at("userAllowed") == true);
}

TEST_F(RemoteAssistanceFlow, DeclineAndDenyEndTheRequestWithThatOutcome) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  // Decline: the agent never joins the relay session.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string id = wait_request();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(agent_cli({"decline", id}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "declined"; }, 10s));
  auto h = history_of(device_);
  EXPECT_FALSE(h.at("userAccepted").as_bool());
  EXPECT_TRUE(h.at("connectedDateTime").is_null());
  auto dev = hub_.get(std::string(kDevices) + "/" + device_, admin_);
  EXPECT_EQ(str_of(dev.obj().at("deviceActionResults").as_array()[0].as_object(), "actionState"),
            "failed");
  // Issue 21, point 11: the relay's session is closed too (its portal no longer offers it).
  auto relay_state = [&](const std::string& code) {
    return relay_.get("/api/v1/sessions/" + code, relay_.admin_token()).str("state");
  };
  std::string code = str_of(history_of(device_), "sessionCode");
  EXPECT_TRUE(wait_until([&] { return relay_state(code) == "closed"; }, 10s))
      << "the declined request's relay session is " << relay_state(code);
  // Answering twice is refused with words.
  auto twice = agent_cli({"accept", id});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("already declined"), std::string::npos) << twice.err;

  // Deny: the supporter connects and gets only the refusal.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string id2 = wait_request();
  ASSERT_FALSE(id2.empty());
  ASSERT_NE(id2, id);
  ASSERT_EQ(agent_cli({"accept", id2}).exit_code, 0);
  std::string link =
      hub_.get(std::string(kDevices) + "/" + device_, admin_).str("remoteAssistanceSessionUrl");
  net::EventLoop loop;
  auto connected = E2ePeer::connect(
      loop, relay_.ws_url("/api/v1/stream/supporter/" + last_segment(link)), supporter_end(link));
  ASSERT_TRUE(connected);
  auto peer = *connected;
  ASSERT_TRUE(peer->wait_bytes(12, 10s));
  peer->send("RFB 003.008\n");
  ASSERT_TRUE(wait_until([&] { return session_state() == "askingToAllow"; }, 10s));
  ASSERT_EQ(agent_cli({"deny"}).exit_code, 0);
  ASSERT_TRUE(peer->wait_closed(10s));
  // The stream; beside it (in records of its own), the notice that the user was being asked.
  std::string got = peer->stream();
  EXPECT_EQ(peer->notices(), std::vector<std::string>{R"({"type":"asking","seconds":300})"});
  EXPECT_EQ(got.substr(0, 13), std::string("RFB 003.008\n") + '\0');
  EXPECT_NE(got.find("denied the session"), std::string::npos);
  EXPECT_LT(got.size(), 64u) << "no framebuffer data reached the supporter";
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "denied"; }, 10s));
  EXPECT_FALSE(history_of(device_).at("userAllowed").as_bool());
  std::string code2 = str_of(history_of(device_), "sessionCode");
  EXPECT_TRUE(wait_until([&] { return relay_state(code2) == "closed"; }, 10s))
      << "the denied request's relay session is " << relay_state(code2);
}

// Issue 21, point 6: asking again while a request waits was a silent no-op (the same code, no
// audit row, nothing on the device), and a stuck request blocked a fresh one for 24 hours. Now
// the hub says a request is waiting and since when; Resend replaces it with a new one, Cancel
// ends it (at the relay too, and the device's late answer is refused); and a session the relay
// has already ended does not hold up a new request.
TEST_F(RemoteAssistanceFlow, AskingAgainSaysARequestWaitsAndResendAndCancelWork) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  auto relay_state = [&](const std::string& code) {
    return relay_.get("/api/v1/sessions/" + code, relay_.admin_token()).str("state");
  };
  // The newest unanswered request on the device that is not one of `seen`.
  auto wait_new_request = [&](const std::set<std::string>& seen) {
    std::string id;
    wait_until(
        [&] {
          auto n = agent_json({"notifications"});
          if (!n.contains("notifications")) return false;
          for (const auto& v : n.at("notifications").as_array()) {
            const auto& o = v.as_object();
            if (str_of(o, "kind") == "remoteAssistanceRequest" && !seen.count(str_of(o, "id"))) {
              id = str_of(o, "id");
              return true;
            }
          }
          return false;
        },
        20s, 100ms);
    return id;
  };
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string n1 = wait_request();
  ASSERT_FALSE(n1.empty());
  auto first = history_of(device_);
  auto again = request(helpdesk_, device_);
  EXPECT_TRUE(IsGraphError(again, 409, "remoteAssistanceRequestPending")) << again;
  EXPECT_NE(again.body.find("still waiting"), std::string::npos) << again;
  auto audit = hub_.get(
      "/api/"
      "audit?$filter=activity%20eq%20'requestRemoteAssistance'%20and%20result%20eq%20'failure'",
      admin_);
  EXPECT_NE(audit.body.find("remoteAssistanceRequestPending"), std::string::npos) << audit;
  EXPECT_EQ(str_of(history_of(device_), "id"), str_of(first, "id")) << "nothing new was made";

  // Resend: a new session and a new notification; the old one is ended and closed at the relay.
  const std::string sessions = "/api/remoteAssistanceSessions/";
  auto resent = hub_.post_raw(sessions + str_of(first, "id") + "/resend", "", helpdesk_);
  ASSERT_EQ(resent.status, 204) << resent;
  auto second = history_of(device_);
  EXPECT_NE(str_of(second, "sessionCode"), str_of(first, "sessionCode"));
  EXPECT_EQ(str_of(second, "state"), "requested");
  std::string n2 = wait_new_request({n1});
  ASSERT_FALSE(n2.empty()) << "the device got the new request";
  EXPECT_TRUE(
      wait_until([&] { return relay_state(str_of(first, "sessionCode")) == "closed"; }, 10s));
  auto all = hub_.get("/api/remoteAssistanceSessions?deviceId=" + device_, admin_);
  ASSERT_EQ(all.value().size(), 2u) << all;
  EXPECT_EQ(str_of(all.value()[1].as_object(), "endReason"), "resent") << all;

  // Cancel: ended, closed at the relay, and the device's late accept is refused.
  auto cancelled = hub_.post_raw(sessions + str_of(second, "id") + "/cancel", "", helpdesk_);
  ASSERT_EQ(cancelled.status, 204) << cancelled;
  auto third = history_of(device_);
  EXPECT_EQ(str_of(third, "state"), "ended");
  EXPECT_EQ(str_of(third, "endReason"), "cancelledByAdministrator");
  EXPECT_TRUE(
      wait_until([&] { return relay_state(str_of(second, "sessionCode")) == "closed"; }, 10s));
  auto late = agent_cli({"accept", n2});
  EXPECT_NE(late.exit_code, 0) << late.out;
  EXPECT_TRUE(
      IsGraphError(hub_.post_raw(sessions + str_of(second, "id") + "/cancel", "", helpdesk_), 409,
                   "remoteAssistanceRequestNotOpen"));
  EXPECT_EQ(hub_.post_raw(sessions + "no-such-session/cancel", "", helpdesk_).status, 404);

  // A session the relay has ended (a lost connection the device never reported) does not hold
  // up a new request: asking again makes a new session.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  auto fourth = history_of(device_);
  std::string n4 = wait_new_request({n1, n2});
  ASSERT_FALSE(n4.empty());
  ASSERT_EQ(agent_cli({"accept", n4}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "accepted"; }, 10s));
  // The device goes away without a word (killed), and the relay ends the session.
  agent_.kill9();
  ASSERT_EQ(relay_
                .put_json("/api/v1/sessions/" + str_of(fourth, "sessionCode"),
                          bj::object{{"state", "closed"}}, relay_.admin_token())
                .status,
            204);
  auto fifth = request(helpdesk_, device_);
  ASSERT_EQ(fifth.status, 204) << fifth;
  EXPECT_NE(str_of(history_of(device_), "sessionCode"), str_of(fourth, "sessionCode"));
}

TEST_F(RemoteAssistanceFlow, AgentStoppedAtRequestTimeAndHubRestartedLoseNothing) {
  start_services();
  onboard();
  enroll_device_and_helpdesk(false);
  // The agent has never run: it has no channel yet, which the hub refuses to rely on.
  EXPECT_TRUE(IsGraphError(request(helpdesk_, device_), 409, "agentNotConnected"));
  start_agent_and_wait();
  ASSERT_EQ(agent_.terminate(), std::optional<int>(0));
  // Requested while the agent is stopped: delivered when it starts.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  start_agent_and_wait();
  std::string id = wait_request();
  ASSERT_FALSE(id.empty()) << agent_.output();
  // The hub restarts (same address) between the request and the answer.
  std::uint16_t port = hub_.port();
  ASSERT_TRUE(hub_.stop());
  ASSERT_EQ(agent_cli({"decline", id}).exit_code, 0);  // queued on the device
  ASSERT_TRUE(hub_.start({"--listen", "127.0.0.1:" + std::to_string(port)}));
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "declined"; }, 20s))
      << agent_.output();
}

TEST_F(RemoteAssistanceFlow, OnlyTheUpdateActionChangesTheConnectorAndABadCallbackChangesNothing) {
  start_services();
  enroll_device_and_helpdesk();
  std::string path = std::string(kPartners) + "/" + partner_;
  // The Help Desk Operator reads the connector (RemoteAssistance_Read) but cannot change it.
  EXPECT_EQ(hub_.get(path, helpdesk_).status, 200);
  EXPECT_TRUE(IsGraphError(hub_.patch(path, bj::object{{"displayName", "Mine"}}, helpdesk_), 403,
                           "accessDenied"));
  EXPECT_TRUE(
      IsGraphError(hub_.post_raw(path + "/beginOnboarding", "", helpdesk_), 403, "accessDenied"));
  EXPECT_TRUE(
      IsGraphError(hub_.post_raw(path + "/disconnect", "", helpdesk_), 403, "accessDenied"));
  EXPECT_TRUE(IsGraphError(hub_.get(path), 401, "unauthenticated"));
  EXPECT_TRUE(IsGraphError(hub_.patch(path, bj::object{{"onboardingUrl", "ftp://x"}}, admin_), 400,
                           "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.patch(path, bj::object{{"status", "onboarded"}}, admin_), 400,
                           "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.get(std::string(kPartners) + "/not-the-partner", admin_), 404,
                           "itemNotFound"));
  EXPECT_EQ(hub_.get(path, admin_).str("displayName"), "Reach relay");
  // A callback with a state that is not the one handed out is refused and changes nothing.
  Browser hub{hub_.base_url()};
  ASSERT_EQ(hub.go("POST", "/api/auth/signin",
                   bj::serialize(bj::object{{"email", hub_.options().admin_email},
                                            {"password", hub_.options().admin_password}}),
                   "application/json")
                .status,
            200);
  ASSERT_EQ(hub.go("POST", path + "/beginOnboarding").status, 204);
  auto forged = hub.go("GET", "/api/remoteAssistance/callback?code=made-up&state=forged");
  EXPECT_EQ(forged.status, 400) << forged;
  EXPECT_NE(forged.body.find("does not belong to an onboarding begun in this browser"),
            std::string::npos);
  EXPECT_EQ(hub_.get(path, admin_).str("onboardingStatus"), "onboarding");
  // The relay's refusal (the admin said no) returns to notOnboarded.
  std::string state = url_state(hub_.get(path, admin_).str("authorizationUrl"));
  auto denied =
      hub.go("GET", "/api/remoteAssistance/callback?error=access_denied&state=" + q(state));
  EXPECT_EQ(denied.status, 400) << denied;
  EXPECT_EQ(hub_.get(path, admin_).str("onboardingStatus"), "notOnboarded");
}

// Issue 20, finding 1: while an administrator onboards, an operator who reads the connector
// (RemoteAssistance_Read) is not shown the authorization URL (its state and PKCE challenge), a
// callback that carries the right state but comes from another browser is refused, and the grant
// of a completed callback is not used until the administrator who began confirms its account.
TEST_F(RemoteAssistanceFlow, AnOnboardingIsItsAdministratorsAloneAndItsAccountIsConfirmed) {
  start_services();
  enroll_device_and_helpdesk(false);
  std::string path = std::string(kPartners) + "/" + partner_;
  Browser admin{hub_.base_url()};
  ASSERT_EQ(admin
                .go("POST", "/api/auth/signin",
                    bj::serialize(bj::object{{"email", hub_.options().admin_email},
                                             {"password", hub_.options().admin_password}}),
                    "application/json")
                .status,
            200);
  EXPECT_NE(admin.set_cookie_for("reach_session").find("SameSite=Strict"), std::string::npos)
      << "SPEC §10: the session cookie is SameSite=Strict";
  ASSERT_EQ(admin.go("POST", path + "/beginOnboarding").status, 204);
  std::string binding = admin.set_cookie_for("reach_onboarding");
  EXPECT_NE(binding.find("Path=/api/remoteAssistance/callback"), std::string::npos) << binding;
  EXPECT_NE(binding.find("HttpOnly"), std::string::npos) << binding;

  auto seen = hub_.get(path, helpdesk_);
  ASSERT_EQ(seen.status, 200) << seen;
  EXPECT_EQ(seen.str("onboardingStatus"), "onboarding");
  EXPECT_FALSE(seen.obj().contains("authorizationUrl")) << seen;
  auto listed = hub_.get(kPartners, helpdesk_);
  EXPECT_EQ(listed.body.find("authorizationUrl"), std::string::npos) << listed;
  auto mine = admin.go("GET", path);
  std::string authorize = mine.str("authorizationUrl");
  ASSERT_FALSE(authorize.empty()) << mine;

  // The relay's sign-in and consent, then the callback URL kept instead of followed.
  std::string callback = path_of(consent_at_relay(authorize));
  ASSERT_TRUE(callback.starts_with("/api/remoteAssistance/callback?")) << callback;

  // Another browser (signed in as the same administrator, even) has no onboarding cookie.
  Browser other{hub_.base_url()};
  other.cookies["reach_session"] = admin.cookies["reach_session"];
  auto refused = other.go("GET", callback);
  EXPECT_EQ(refused.status, 400) << refused;
  other.cookies["reach_onboarding"] = "a-guess";
  EXPECT_EQ(other.go("GET", callback).status, 400);
  EXPECT_EQ(hub_.get(path, admin_).str("onboardingStatus"), "onboarding");

  // The browser that began: the grant is held, named, and used only after confirmation.
  auto done = admin.go("GET", callback);
  ASSERT_EQ(done.status, 200) << done;
  EXPECT_NE(admin.set_cookie_for("reach_onboarding").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(admin.go("GET", callback).status, 400) << "a callback is taken once";
  auto held = hub_.get(path, helpdesk_);
  EXPECT_EQ(held.str("onboardingStatus"), "onboarding");
  EXPECT_FALSE(held.obj().contains("pendingAccount")) << held;
  EXPECT_TRUE(
      IsGraphError(hub_.post_raw(path + "/confirmOnboarding", "", helpdesk_), 403, "accessDenied"));
  ASSERT_EQ(admin.go("POST", path + "/confirmOnboarding").status, 204);
  auto after = hub_.get(path, helpdesk_);
  EXPECT_EQ(after.str("onboardingStatus"), "onboarded");
  EXPECT_EQ(str_of(after.obj().at("connectedAccount").as_object(), "email"),
            relay_.options().admin_email);
  EXPECT_TRUE(IsGraphError(hub_.post_raw(path + "/confirmOnboarding", "", admin_), 409,
                           "noPendingOnboarding"));
}

TEST(RemoteAssistanceOnboarding, AnOnboardingNotCompletedInTimeFallsBackAndItsCallbackIsRefused) {
  RelayProcess relay;
  ASSERT_TRUE(relay.init_and_start());
  HubProcess hub{HubOptions{.serve_args = {"--onboarding-ttl", "1"}}};
  ASSERT_TRUE(hub.init_and_start());
  auto client = relay.add_client("Reach hub", hub.base_url() + "/api/remoteAssistance/callback");
  std::string admin = hub.admin_token();
  std::string id = str_of(hub.get(kPartners, admin).value()[0].as_object(), "id");
  std::string path = std::string(kPartners) + "/" + id;
  ASSERT_EQ(hub.patch(path,
                      bj::object{{"onboardingUrl", relay.base_url()},
                                 {"clientId", client.client_id},
                                 {"clientSecret", client.client_secret}},
                      admin)
                .status,
            200);
  Browser b{hub.base_url()};
  ASSERT_EQ(b.go("POST", "/api/auth/signin",
                 bj::serialize(bj::object{{"email", hub.options().admin_email},
                                          {"password", hub.options().admin_password}}),
                 "application/json")
                .status,
            200);
  ASSERT_EQ(b.go("POST", path + "/beginOnboarding").status, 204);
  auto p = hub.get(path, admin);
  ASSERT_EQ(p.str("onboardingStatus"), "onboarding");
  std::string state = url_state(p.str("authorizationUrl"));
  // The onboarding lasts one second (--onboarding-ttl 1); until then it is still pending.
  EXPECT_TRUE(wait_until(
      [&] { return hub.get(path, admin).str("onboardingStatus") == "notOnboarded"; }, 10s, 50ms));
  auto late = b.go("GET", "/api/remoteAssistance/callback?code=c&state=" + q(state));
  EXPECT_EQ(late.status, 400) << late;
  EXPECT_EQ(hub.get(path, admin).str("onboardingStatus"), "notOnboarded");
}

TEST_F(RemoteAssistanceFlow, HistoryPagesNewestFirstAndFiltersByDevice) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(request(helpdesk_, device_).status, 204);
    std::string id = wait_request();
    ASSERT_FALSE(id.empty());
    ASSERT_EQ(agent_cli({"decline", id}).exit_code, 0);
    ASSERT_TRUE(
        wait_until([&] { return str_of(history_of(device_), "state") == "declined"; }, 10s));
  }
  auto page = hub_.get("/api/remoteAssistanceSessions?$top=2", admin_);
  ASSERT_EQ(page.value().size(), 2u) << page;
  std::string next = page.str("@odata.nextLink");
  ASSERT_FALSE(next.empty()) << page;
  auto rest = hub_.get(next, admin_);
  ASSERT_EQ(rest.value().size(), 1u) << rest;
  EXPECT_TRUE(rest.str("@odata.nextLink").empty());
  std::set<std::string> codes;
  for (const auto& v : page.value()) codes.insert(str_of(v.as_object(), "sessionCode"));
  codes.insert(str_of(rest.value()[0].as_object(), "sessionCode"));
  EXPECT_EQ(codes.size(), 3u) << "every session once";
  EXPECT_GE(str_of(page.value()[0].as_object(), "createdDateTime"),
            str_of(page.value()[1].as_object(), "createdDateTime"));
  EXPECT_TRUE(hub_.get("/api/remoteAssistanceSessions?deviceId=other", admin_).value().empty());
  EXPECT_TRUE(IsGraphError(hub_.get("/api/remoteAssistanceSessions?$skiptoken=garbage", admin_),
                           400, "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.get("/api/remoteAssistanceSessions?$top=0", admin_), 400,
                           "invalidRequest"));
  // Tokens that decode but do not hold a position answered 500 (the review's item 7).
  for (const std::string& forged :
       {crypto::base64url_encode("|x"), crypto::base64url_encode("99999999999999999999999|x"),
        crypto::base64url_encode("v1:|x"), crypto::base64url_encode("v1:12")})
    EXPECT_TRUE(IsGraphError(hub_.get("/api/remoteAssistanceSessions?$skiptoken=" + forged, admin_),
                             400, "invalidRequest"))
        << forged;
  // The history takes $filter like the other collections.
  auto declined =
      hub_.get("/api/remoteAssistanceSessions?$filter=" + q("state eq 'declined'"), admin_);
  ASSERT_EQ(declined.status, 200) << declined;
  EXPECT_EQ(declined.value().size(), 3u) << declined;
  EXPECT_TRUE(IsGraphError(
      hub_.get("/api/remoteAssistanceSessions?$filter=" + q("state eq 'nonsense'"), admin_), 400,
      "invalidRequest"));
}

// Issue 22: the organisation's "no H.264" setting (deviceManagement/remoteAssistanceSettings) is
// read and changed with the connector's actions, its body is checked, each change is audited, and
// every remote assistance request tells the device whether its screen stream may use H.264.
TEST_F(RemoteAssistanceFlow, TheNoH264SettingIsTheConnectorsAndReachesTheDevice) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  const std::string path = "/beta/deviceManagement/remoteAssistanceSettings";
  auto blocked = [&](const std::string& bearer) -> std::optional<bool> {
    auto r = hub_.get(path, bearer);
    const bj::value* v = r.is_object() ? r.obj().if_contains("blockH264") : nullptr;
    if (r.status != 200 || !v || !v->is_bool()) return std::nullopt;
    return v->as_bool();
  };
  // What the device stored of the request of session `session` (its data), once it arrived.
  auto received = [&](const std::string& session) {
    bj::object data;
    wait_until(
        [&] {
          boost::system::error_code ec;
          auto v = bj::parse(read_file_bytes(state_ + "/notifications.json"), ec);
          const bj::value* list =
              !ec && v.is_object() ? v.as_object().if_contains("notifications") : nullptr;
          if (!list || !list->is_array()) return false;
          for (const auto& n : list->as_array()) {
            const bj::value* d = n.is_object() ? n.as_object().if_contains("data") : nullptr;
            if (d && d->is_object() &&
                str_of(d->as_object(), "remoteAssistanceSessionId") == session) {
              data = d->as_object();
              return true;
            }
          }
          return false;
        },
        20s, 100ms);
    return data;
  };

  auto got = hub_.get(path, admin_);
  ASSERT_EQ(got.status, 200) << got;
  EXPECT_EQ(got.str("@odata.type"), "#microsoft.graph.remoteAssistanceSettings");
  EXPECT_TRUE(got.str("@odata.context")
                  .ends_with("/beta/$metadata#deviceManagement/remoteAssistanceSettings/$entity"))
      << got;
  EXPECT_FALSE(got.str("id").empty()) << got;
  EXPECT_EQ(got.obj().size(), 4u) << "only what Reach uses: " << got;
  EXPECT_EQ(blocked(admin_), std::optional<bool>(false)) << "H.264 is allowed by default";
  EXPECT_EQ(hub_.get("/v1.0/deviceManagement/remoteAssistanceSettings", admin_).str("id"),
            got.str("id"));

  // A request tells the device that H.264 is allowed.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string first = str_of(history_of(device_), "id");
  auto allowed = received(first);
  ASSERT_TRUE(allowed.contains("h264")) << bj::serialize(allowed);
  EXPECT_EQ(allowed.at("h264"), bj::value(true));
  ASSERT_EQ(
      hub_.post_raw("/api/remoteAssistanceSessions/" + first + "/cancel", "", helpdesk_).status,
      204);

  // The Help Desk Operator reads the settings (RemoteAssistance_Read) but cannot change them.
  EXPECT_EQ(blocked(helpdesk_), std::optional<bool>(false));
  EXPECT_TRUE(IsGraphError(hub_.patch(path, bj::object{{"blockH264", true}}, helpdesk_), 403,
                           "accessDenied"));
  // A role without RemoteAssistance_Read reads nothing.
  auto nora = create_user(hub_, admin_, "nora@reach.test", "Nora Noread", "Nora-Passw0rd-1");
  ASSERT_EQ(nora.status, 201) << nora;
  auto role = hub_.post(
      "/v1.0/deviceManagement/roleDefinitions",
      bj::object{{"displayName", "Device readers"},
                 {"rolePermissions",
                  bj::array{bj::object{
                      {"resourceActions",
                       bj::array{bj::object{{"allowedResourceActions",
                                             bj::array{"Microsoft.Intune_ManagedDevices_Read"}},
                                            {"notAllowedResourceActions", bj::array{}}}}}}}}},
      admin_);
  ASSERT_EQ(role.status, 201) << role;
  auto assigned = hub_.post("/v1.0/deviceManagement/roleAssignments",
                            bj::object{{"displayName", "Device readers"},
                                       {"members", bj::array{nora.str("id")}},
                                       {"scopeType", "allDevices"},
                                       {"resourceScopes", bj::array{}},
                                       {"roleDefinitionId", role.str("id")}},
                            admin_);
  ASSERT_EQ(assigned.status, 201) << assigned;
  std::string reader = hub_.create_token("nora@reach.test");
  ASSERT_EQ(hub_.get(kDevices, reader).status, 200) << "the role works";
  EXPECT_TRUE(IsGraphError(hub_.get(path, reader), 403, "accessDenied"));
  EXPECT_TRUE(
      IsGraphError(hub_.patch(path, bj::object{{"blockH264", true}}, reader), 403, "accessDenied"));
  // Bad bodies change nothing.
  for (const char* body :
       {R"({"blockH264":"yes"})", R"({"blockH264":1})", R"({"blockH264":null})", R"({"other":1})",
        R"({"blockH264":true,"blockChat":true})", "not JSON", "[true]", ""}) {
    auto r = hub_.patch_raw(path, body, admin_);
    EXPECT_TRUE(IsGraphError(r, 400, "invalidRequest")) << body << ": " << r;
  }
  EXPECT_NE(hub_.patch_raw(path, R"({"other":1})", admin_).body.find("'other'"), std::string::npos);
  EXPECT_NE(hub_.patch_raw(path, R"({"blockH264":"yes"})", admin_).body.find("boolean"),
            std::string::npos);
  EXPECT_EQ(blocked(admin_), std::optional<bool>(false)) << "nothing changed";
  auto audited = [&] {
    return hub_.get("/api/audit?$filter=activity%20eq%20'updateRemoteAssistanceSettings'", admin_)
        .value();
  };
  EXPECT_TRUE(audited().empty()) << "refusals change nothing and audit no change";

  // The administrator blocks H.264: audited, and the next request tells the device.
  auto changed = hub_.patch(path, bj::object{{"blockH264", true}}, admin_);
  ASSERT_EQ(changed.status, 200) << changed;
  EXPECT_EQ(changed.obj().at("blockH264"), bj::value(true)) << changed;
  EXPECT_EQ(changed.str("id"), got.str("id"));
  EXPECT_EQ(blocked(admin_), std::optional<bool>(true));
  EXPECT_EQ(blocked(helpdesk_), std::optional<bool>(true));
  auto entries = audited();
  ASSERT_EQ(entries.size(), 1u);
  const auto& entry = entries[0].as_object();
  EXPECT_EQ(str_of(entry, "result"), "success");
  EXPECT_EQ(str_of(entry.at("actor").as_object(), "type"), "user");
  EXPECT_EQ(str_of(entry.at("target").as_object(), "type"), "remoteAssistanceSettings");
  EXPECT_EQ(str_of(entry.at("target").as_object(), "id"), got.str("id"));
  EXPECT_EQ(entry.at("details"), bj::value(bj::object{{"blockH264", true}}))
      << bj::serialize(entry);

  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  std::string second = str_of(history_of(device_), "id");
  ASSERT_NE(second, first);
  auto refused = received(second);
  ASSERT_TRUE(refused.contains("h264")) << bj::serialize(refused);
  EXPECT_EQ(refused.at("h264"), bj::value(false));
  EXPECT_EQ(str_of(refused, "sessionCode"), str_of(history_of(device_), "sessionCode"));

  // And back.
  ASSERT_EQ(hub_.patch(path, bj::object{{"blockH264", false}}, admin_).status, 200);
  EXPECT_EQ(blocked(admin_), std::optional<bool>(false));
  EXPECT_EQ(audited().size(), 2u);
}

TEST_F(RemoteAssistanceFlow, ASessionTheRelayClosedIsRecordedAsEnded) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_FALSE(wait_request().empty());
  std::string code = str_of(history_of(device_), "sessionCode");
  // The supporter closes it in the relay's portal (here: its API) before the user answered.
  auto closed = relay_.put_json("/api/v1/sessions/" + code, bj::object{{"state", "closed"}},
                                relay_.admin_token());
  ASSERT_EQ(closed.status, 204) << closed;
  EXPECT_EQ(str_of(history_of(device_), "state"), "requested") << "within the grace period";
  ASSERT_TRUE(
      wait_until([&] { return str_of(history_of(device_), "state") == "ended"; }, 15s, 250ms));
  EXPECT_EQ(str_of(history_of(device_), "endReason"), "closedAtRelay");
  auto d = hub_.get(std::string(kDevices) + "/" + device_, admin_);
  EXPECT_TRUE(d.obj().at("remoteAssistanceSessionUrl").is_null()) << d;
  EXPECT_EQ(str_of(d.obj().at("deviceActionResults").as_array()[0].as_object(), "actionState"),
            "failed");
  // A new request makes a new session.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  EXPECT_NE(str_of(history_of(device_), "sessionCode"), code);
}

TEST_F(RemoteAssistanceFlow, ExpiringTokensAreRefreshedAndARevokedGrantNeedsReauthorisation) {
  start_services({"--access-token-ttl", "2"});
  onboard();
  enroll_device_and_helpdesk();
  // The access token the hub holds expires at the relay two seconds after it was issued; the
  // hub stored when it is to be refreshed, half a second before that. Wait until it has expired.
  auto stored = hub_.sql("SELECT access_refresh_at FROM ra_partners");
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
  const std::int64_t expired_at = std::stoll(stored.out) + 500;
  ASSERT_TRUE(wait_until([&] { return now_ms() > expired_at + 100; }, 10s));
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  EXPECT_EQ(relay_sessions(), 1u);
  std::string id = wait_request();
  ASSERT_EQ(agent_cli({"decline", id}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "declined"; }, 10s));

  // The relay's account withdraws the hub's access.
  auto revoke = relay_.cli({"grant", "revoke", "--client", client_.client_id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  const auto sessions_before = relay_sessions();
  // Revoking the grant revokes its access tokens at once: the next use is refused, the refresh
  // too.
  auto r = request(helpdesk_, device_);
  EXPECT_TRUE(IsGraphError(r, 409, "remoteAssistanceConnectorNeedsReauthorization")) << r;
  EXPECT_NE(r.body.find("re-authorised"), std::string::npos);
  auto p = hub_.get(std::string(kPartners) + "/" + partner_, admin_);
  EXPECT_TRUE(p.obj().at("needsReauthorization").as_bool()) << p;
  EXPECT_EQ(relay_sessions(), sessions_before) << "the refused request made no session";
  // Connecting again clears it.
  onboard();
  EXPECT_EQ(request(helpdesk_, device_).status, 204);
  // Disconnect revokes at the relay and forgets the tokens.
  ASSERT_EQ(
      hub_.post_raw(std::string(kPartners) + "/" + partner_ + "/disconnect", "", admin_).status,
      204);
  EXPECT_EQ(hub_.get(std::string(kPartners) + "/" + partner_, admin_).str("onboardingStatus"),
            "notOnboarded");
}

}  // namespace
}  // namespace reach::itest
