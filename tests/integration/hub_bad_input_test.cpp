// Untrusted input (SPEC §10: "bad input gets a clear error and changes nothing"; limits and
// timeouts on every untrusted input) and durability (SPEC §9: "no acknowledged write is lost on a
// crash"). After every bad request the device and user are compared with their state before, and
// the server must still answer /api/health.
#include "integration/hub_process.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <set>

namespace reach::itest {
namespace {

const std::string kDevices = "/v1.0/deviceManagement/managedDevices";

class HubBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    HubOptions o;
    o.serve_args = {"--request-timeout-ms", "500"};
    hub_ = std::make_unique<HubProcess>(o);
    ASSERT_TRUE(hub_->init_and_start());
    admin_ = hub_->admin_token();
    ASSERT_FALSE(admin_.empty());
    auto u =
        hub_->post("/v1.0/users",
                   bj::object{{"displayName", "Victor"},
                              {"userPrincipalName", "victor@reach.test"},
                              {"accountEnabled", true},
                              {"passwordProfile", bj::object{{"password", "Victor-Pa55word"}}}},
                   admin_);
    ASSERT_EQ(u.status, 201) << u;
    user_id_ = u.str("id");
    enrollment_token_ =
        hub_->create_enrollment_token({"--user", "victor@reach.test", "--ownership", "personal"});
    ASSERT_FALSE(enrollment_token_.empty());
    DeviceSpec d;
    d.name = "VICTIM-01";
    d.os = "Linux";
    d.device_type = "linux";
    auto e = enroll(*hub_, enrollment_token_, d);
    ASSERT_EQ(e.status, 201) << e;
    device_id_ = e.str("deviceId");
    snapshot();
  }

  void TearDown() override {
    if (hub_ && hub_->running())
      EXPECT_TRUE(hub_->stop()) << "the hub must stop cleanly on SIGTERM";
  }

  void snapshot() {
    auto d = hub_->get(kDevices + "/" + device_id_, admin_);
    ASSERT_EQ(d.status, 200) << d;
    device_ = d.json;
    auto u = hub_->get("/v1.0/users/" + user_id_, admin_);
    ASSERT_EQ(u.status, 200) << u;
    user_ = u.json;
    users_ = count_users();
    devices_ = count_devices();
  }

  std::size_t count_users() { return collect_pages(*hub_, "/v1.0/users", admin_).size(); }
  std::size_t count_devices() { return collect_pages(*hub_, kDevices, admin_).size(); }

  // The state is what snapshot() saw, and the server still answers.
  void expect_unchanged() {
    ASSERT_TRUE(hub_->healthy());
    auto d = hub_->get(kDevices + "/" + device_id_, admin_);
    EXPECT_EQ(d.status, 200) << d;
    EXPECT_EQ(d.json, device_) << "the device changed: now " << d.body;
    auto u = hub_->get("/v1.0/users/" + user_id_, admin_);
    EXPECT_EQ(u.status, 200) << u;
    EXPECT_EQ(u.json, user_) << "the user changed: now " << u.body;
    EXPECT_EQ(count_users(), users_) << "a user was created or deleted";
    EXPECT_EQ(count_devices(), devices_) << "a device was created or deleted";
  }

  std::string device_path() const { return kDevices + "/" + device_id_; }

  std::unique_ptr<HubProcess> hub_;
  std::string admin_, user_id_, device_id_, enrollment_token_;
  bj::value device_, user_;
  std::size_t users_ = 0, devices_ = 0;
};

TEST_F(HubBadInput, MalformedJsonIs400AndChangesNothing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<std::string> bodies = {
      "{\"notes\":",
      "{\"notes\": \"x\",}",
      "not json at all",
      "[1,2,3]",
      "\"a string\"",
      "{\"notes\":\"a\"}{\"notes\":\"b\"}",
      "",
      "{\"notes\":\"\xff\xfe\"}",
      deep,
      "{\"notes\":" + std::string(50000, '[') + std::string(50000, ']') + "}",
  };
  for (const auto& b : bodies) {
    SCOPED_TRACE("body: " + b.substr(0, 60));
    EXPECT_TRUE(IsGraphError(hub_->patch_raw(device_path(), b, admin_), 400, "invalidRequest"))
        << "PATCH managedDevice";
    EXPECT_TRUE(
        IsGraphError(hub_->patch_raw("/v1.0/users/" + user_id_, b, admin_), 400, "invalidRequest"))
        << "PATCH user";
    EXPECT_TRUE(IsGraphError(hub_->post_raw("/v1.0/users", b, admin_), 400, "invalidRequest"))
        << "POST users";
    EXPECT_TRUE(IsGraphError(hub_->post_raw("/api/agent/enroll", b), 400, "invalidRequest"))
        << "POST /api/agent/enroll";
    EXPECT_TRUE(IsGraphError(hub_->post_raw("/api/auth/signin", b), 400, "invalidRequest"))
        << "POST /api/auth/signin";
  }
  expect_unchanged();
}

TEST_F(HubBadInput, WrongTypesAre400AndChangeNothing) {
  for (const auto& b : std::vector<bj::value>{
           bj::object{{"notes", 5}},
           bj::object{{"notes", true}},
           bj::object{{"notes", bj::object{{"x", 1}}}},
           bj::object{{"notes", bj::array{"a"}}},
           bj::object{{"managedDeviceOwnerType", true}},
           bj::object{{"managedDeviceOwnerType", 2}},
           bj::object{{"managedDeviceOwnerType", "stolen"}},
           bj::object{{"notes", "fine"}, {"managedDeviceOwnerType", "stolen"}},
       }) {
    SCOPED_TRACE("PATCH managedDevice " + bj::serialize(b));
    EXPECT_TRUE(IsGraphError(hub_->patch(device_path(), b, admin_), 400, "invalidRequest"));
  }
  for (const auto& b : std::vector<bj::value>{
           bj::object{{"displayName", 5}, {"userPrincipalName", "t1@reach.test"}},
           bj::object{{"displayName", "T2"}, {"userPrincipalName", bj::array{"t2@reach.test"}}},
           bj::object{{"displayName", "T3"},
                      {"userPrincipalName", "t3@reach.test"},
                      {"accountEnabled", "yes"}},
           bj::object{{"displayName", "T4"},
                      {"userPrincipalName", "t4@reach.test"},
                      {"passwordProfile", "Long-Enough-Password"}},
           bj::object{{"displayName", "T5"},
                      {"userPrincipalName", "t5@reach.test"},
                      {"passwordProfile", bj::object{{"password", "short"}}}},
           bj::object{{"displayName", "T6"},
                      {"userPrincipalName", "t6@reach.test"},
                      {"passwordProfile", bj::object{{"password", 12345678}}}},
       }) {
    SCOPED_TRACE("POST users " + bj::serialize(b));
    EXPECT_TRUE(IsGraphError(hub_->post("/v1.0/users", b, admin_), 400, "invalidRequest"));
  }
  for (const auto& b : std::vector<bj::value>{
           bj::object{{"displayName", 7}},
           bj::object{{"accountEnabled", "false"}},
           bj::object{{"passwordProfile", bj::object{{"password", "short"}}}},
       }) {
    SCOPED_TRACE("PATCH user " + bj::serialize(b));
    EXPECT_TRUE(
        IsGraphError(hub_->patch("/v1.0/users/" + user_id_, b, admin_), 400, "invalidRequest"));
  }
  DeviceSpec d;
  d.name = "WRONG-TYPES";
  d.os = "Linux";
  bj::object inv = device_inventory(d);
  bj::object bad_name = inv;
  bad_name["deviceName"] = 5;
  bj::object bad_os = inv;
  bad_os["operatingSystem"] = bj::array{"Linux"};
  for (const auto& b : std::vector<bj::value>{
           bj::object{{"enrollmentToken", 123}, {"device", inv}},
           bj::object{{"enrollmentToken", enrollment_token_}, {"device", "a laptop"}},
           bj::object{{"enrollmentToken", enrollment_token_}, {"device", bad_name}},
           bj::object{{"enrollmentToken", enrollment_token_}, {"device", bad_os}},
       }) {
    SCOPED_TRACE("POST /api/agent/enroll " + bj::serialize(b));
    EXPECT_TRUE(IsGraphError(hub_->post("/api/agent/enroll", b), 400, "invalidRequest"));
  }
  expect_unchanged();
}

TEST_F(HubBadInput, UnknownPropertiesOnPatchManagedDeviceAre400AndAtomic) {
  for (const auto& [b, key] : std::vector<std::pair<bj::value, std::string>>{
           {bj::object{{"notes", "legit"}, {"deviceName", "hacked"}}, "deviceName"},
           {bj::object{{"operatingSystem", "Windows"}}, "operatingSystem"},
           {bj::object{{"id", "00000000-0000-0000-0000-000000000000"}}, "id"},
           {bj::object{{"userId", "someone-else"}}, "userId"},
           {bj::object{{"managedDeviceOwnerType", "company"}, {"complianceState", "compliant"}},
            "complianceState"},
           {bj::object{{"notes", "legit"}, {"remoteAssistanceSessionUrl", "https://evil.example"}},
            "remoteAssistanceSessionUrl"},
       }) {
    SCOPED_TRACE("PATCH " + bj::serialize(b));
    auto r = hub_->patch(device_path(), b, admin_);
    EXPECT_TRUE(IsGraphError(r, 400, "invalidRequest"));
    // A clear error names what was wrong.
    if (r.is_object() && r.obj().contains("error") && r.obj().at("error").is_object())
      EXPECT_NE(str_of(r.obj().at("error").as_object(), "message").find(key), std::string::npos)
          << "the message should name '" << key << "': " << r;
  }
  expect_unchanged();

  // The same endpoint accepts what the contract allows, so the refusals above were about input.
  auto ok = hub_->patch(
      device_path(), bj::object{{"notes", "legit"}, {"managedDeviceOwnerType", "company"}}, admin_);
  ASSERT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(ok.str("notes"), "legit");
  EXPECT_EQ(ok.str("managedDeviceOwnerType"), "company");
  EXPECT_EQ(ok.str("deviceName"), "VICTIM-01");
  snapshot();
  expect_unchanged();
}

TEST_F(HubBadInput, OversizedBodyIs413AndChangesNothing) {
  std::string huge(1200 * 1024, 'a');
  auto r = hub_->post_raw("/v1.0/users",
                          "{\"displayName\":\"" + huge +
                              "\",\"userPrincipalName\":\"big@reach.test\",\"passwordProfile\":"
                              "{\"password\":\"Big-Pa55word\"}}",
                          admin_);
  EXPECT_EQ(r.status, 413) << "POST /v1.0/users with a 1.2 MiB body: " << r;
  EXPECT_TRUE(IsGraphError(r, 413, "requestTooLarge"));
  auto p = hub_->patch_raw(device_path(), "{\"notes\":\"" + huge + "\"}", admin_);
  EXPECT_EQ(p.status, 413) << "PATCH managedDevice with a 1.2 MiB body: " << p;

  // Announced but not sent: the limit applies to Content-Length before any body arrives.
  auto raw = raw_exchange(hub_->port(),
                          "POST /v1.0/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer " +
                              admin_ +
                              "\r\nContent-Type: application/json\r\n"
                              "Content-Length: 2097152\r\n\r\n",
                          std::chrono::seconds(5));
  ASSERT_TRUE(raw.connected);
  EXPECT_TRUE(raw.received.starts_with("HTTP/1.1 413"))
      << "answer: '" << raw.received.substr(0, 200) << "' after " << raw.elapsed.count() << " ms";
  EXPECT_EQ(hub_->get("/v1.0/users/big@reach.test", admin_).status, 404);
  expect_unchanged();
}

TEST_F(HubBadInput, UnparsableOrInvalidFilterIs400) {
  const std::vector<std::string> filters = {
      "operatingSystem eq",
      "operatingSystem eq 'Windows' and",
      "(operatingSystem eq 'Windows'",
      "operatingSystem eq 'Windows')",
      "startswith(deviceName,'LAB-'",
      "startswith(deviceName)",
      "noSuchField eq 'x'",
      "operatingSystem like 'Win%'",
      "operatingSystem eq Windows",
      "deviceName eq 'unterminated",
      "managedDeviceOwnerType eq 'stolen'",
      "deviceEnrollmentType eq 'notAnEnrollmentType'",
      "'; DROP TABLE devices; --",
      "eq eq eq",
      "and",
  };
  for (const auto& f : filters) {
    SCOPED_TRACE("$filter=" + f);
    EXPECT_TRUE(
        IsGraphError(hub_->get(kDevices + "?$filter=" + q(f), admin_), 400, "invalidRequest"));
    EXPECT_TRUE(
        IsGraphError(hub_->get("/beta/deviceManagement/managedDevices?$filter=" + q(f), admin_),
                     400, "invalidRequest"));
  }
  for (const auto& top : {"0", "1001", "-1", "abc", "1.5"}) {
    SCOPED_TRACE(std::string("$top=") + top);
    EXPECT_TRUE(IsGraphError(hub_->get(kDevices + "?$top=" + top, admin_), 400, "invalidRequest"));
  }
  // Deep nesting is either evaluated or refused, never a crash.
  std::string nested =
      std::string(1000, '(') + "operatingSystem eq 'Linux'" + std::string(1000, ')');
  auto r = hub_->get(kDevices + "?$filter=" + q(nested), admin_);
  EXPECT_TRUE(r.status == 200 || IsGraphError(r, 400, "invalidRequest")) << r;
  // The same endpoint with a good filter works.
  auto good = hub_->get(kDevices + "?$filter=" + q("operatingSystem eq 'Linux'"), admin_);
  ASSERT_EQ(good.status, 200) << good;
  EXPECT_EQ(good.value().size(), 1u) << good;
  expect_unchanged();
}

TEST_F(HubBadInput, BadSkiptokenIs400) {
  // A genuine continuation first, so that the refusals below are about the token.
  DeviceSpec d;
  d.name = "SECOND-02";
  d.os = "Windows";
  ASSERT_EQ(enroll(*hub_, enrollment_token_, d).status, 201);
  snapshot();
  auto first = hub_->get(kDevices + "?$top=1", admin_);
  ASSERT_EQ(first.status, 200) << first;
  std::string next = first.str("@odata.nextLink");
  ASSERT_FALSE(next.empty()) << "a full page must carry @odata.nextLink: " << first;
  auto second = hub_->get(next, admin_);
  ASSERT_EQ(second.status, 200) << second;
  ASSERT_EQ(second.value().size(), 1u) << second;

  // Not one of these could have come from an @odata.nextLink.
  for (const auto& token :
       {"garbage!!", "AAAA", "%FF%FE%00", "'%20OR%201%3D1%20--", "====", "a%20b"}) {
    SCOPED_TRACE(std::string("$skiptoken=") + token);
    EXPECT_TRUE(IsGraphError(hub_->get(kDevices + "?$top=1&$skiptoken=" + token, admin_), 400,
                             "invalidRequest"));
  }
  EXPECT_TRUE(
      IsGraphError(hub_->get("/v1.0/users?$skiptoken=garbage!!", admin_), 400, "invalidRequest"));
  expect_unchanged();
}

TEST_F(HubBadInput, GarbageBytesOnTheSocketGet400OrAClosedConnection) {
  std::mt19937 rng(20261121);
  std::string random_bytes(4096, '\0');
  for (auto& c : random_bytes) c = static_cast<char>(rng() & 0xff);
  const std::vector<std::string> payloads = {
      random_bytes,
      random_bytes + "\r\n\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + random_bytes.substr(0, 500),
      "HELLO WORLD\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
      "GET /api/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
      "GET /api/health HTTP/1.1\r\nX-Big: " + std::string(64 * 1024, 'x') + "\r\n\r\n",
      "GET " + std::string(64 * 1024, '/') + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r\n\r\n\r\n\r\n",
      std::string("GET /api/health HTTP/1.1\r\nHost: \0x\r\n\r\n", 38),
  };
  for (const auto& p : payloads) {
    SCOPED_TRACE("payload starting '" + p.substr(0, 40) + "' (" + std::to_string(p.size()) +
                 " bytes)");
    auto r = raw_exchange(hub_->port(), p, std::chrono::seconds(10));
    ASSERT_TRUE(r.connected);
    if (r.received.empty()) {
      EXPECT_TRUE(r.closed_by_peer) << "no answer and the connection stayed open for 10 s";
    } else {
      EXPECT_TRUE(r.received.starts_with("HTTP/1.1 4")) << "answer: " << r.received.substr(0, 200);
    }
    EXPECT_TRUE(hub_->healthy());
  }
  expect_unchanged();
}

TEST_F(HubBadInput, HalfSentRequestIsClosedAfterTheRequestTimeout) {
  const std::vector<std::string> partial = {
      // Headers cut short.
      "POST /api/agent/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Le",
      // Headers complete, body cut short.
      "POST /api/agent/enroll HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 200\r\n\r\n{\"enrollmentToken\":\"" +
          enrollment_token_ + "\",",
  };
  for (const auto& p : partial) {
    SCOPED_TRACE("partial request '" + p.substr(0, 60) + "…'");
    RawResult slow;
    std::thread client([&] { slow = raw_exchange(hub_->port(), p, std::chrono::seconds(10)); });
    // While the slow client hangs, others are served.
    EXPECT_TRUE(hub_->healthy());
    client.join();
    ASSERT_TRUE(slow.connected);
    EXPECT_TRUE(slow.closed_by_peer) << "the half-sent request was still open after 10 s";
    EXPECT_GE(slow.elapsed.count(), 250) << "closed long before the 500 ms request timeout";
    EXPECT_FALSE(slow.received.starts_with("HTTP/1.1 2")) << slow.received.substr(0, 200);
    if (!slow.received.empty())
      EXPECT_TRUE(slow.received.starts_with("HTTP/1.1 408") ||
                  slow.received.starts_with("HTTP/1.1 400"))
          << slow.received.substr(0, 200);
  }
  expect_unchanged();
}

// SIGKILL while two clients enroll: every enrollment that was answered 201 survives the restart.
TEST(HubCrash, AcknowledgedEnrollmentsSurviveSigkill) {
  HubProcess hub;
  ASSERT_TRUE(hub.init_and_start());
  std::string token = hub.create_enrollment_token({"--userless", "--ownership", "company"});
  ASSERT_FALSE(token.empty());

  constexpr std::size_t kKillAfter = 150;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> acked;       // guarded by mu
  std::vector<std::string> unexpected;  // guarded by mu: non-201 answers before the kill
  std::atomic<bool> killed{false};
  std::atomic<int> seq{0};
  int alive = 2;  // guarded by mu
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&] {
      while (true) {
        DeviceSpec d;
        d.name = "CRASH-" + std::to_string(seq++);
        d.os = "Android";
        d.device_type = "android";
        auto r = enroll(hub, token, d);
        std::lock_guard lock(mu);
        if (r.status == 201 && !r.str("deviceId").empty()) {
          acked.push_back(r.str("deviceId"));
          cv.notify_all();
          continue;
        }
        if (!killed && unexpected.size() < 5) unexpected.push_back(testing::PrintToString(r));
        if (r.status == 0 || killed) break;  // the server is gone
      }
      std::lock_guard lock(mu);
      --alive;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    bool enough = cv.wait_for(lock, std::chrono::seconds(120), [&] {
      return acked.size() >= kKillAfter || !unexpected.empty() || alive == 0;
    });
    EXPECT_TRUE(enough) << "only " << acked.size() << " enrollments in 120 s";
  }
  killed = true;  // from here on, failures are the kill's doing
  hub.kill9();    // the clients are mid-request: some enrollments are in flight
  for (auto& c : clients) c.join();
  for (const auto& u : unexpected) ADD_FAILURE() << "enrollment before the kill: " << u;
  std::set<std::string> acknowledged(acked.begin(), acked.end());
  ASSERT_EQ(acknowledged.size(), acked.size()) << "duplicate device ids were acknowledged";
  ASSERT_GE(acknowledged.size(), kKillAfter);

  ASSERT_TRUE(hub.start()) << "the hub must restart on the data directory after a crash";
  ASSERT_TRUE(hub.healthy());
  std::set<std::string> present;
  for (const auto& d : collect_pages(hub, kDevices + "?$top=1000", hub.admin_token()))
    present.insert(str_of(d, "id"));
  std::size_t lost = 0;
  for (const auto& id : acknowledged) {
    if (!present.count(id)) {
      ++lost;
      if (lost <= 5) ADD_FAILURE() << "acknowledged device " << id << " is gone after the crash";
    }
  }
  EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged enrollments";
  // At most the requests in flight at the kill may have been committed without an answer.
  EXPECT_LE(present.size(), acknowledged.size() + 2);
  // One of them can still be read on its own, and the hub keeps enrolling.
  auto one = hub.get(kDevices + "/" + *acknowledged.begin(), hub.admin_token());
  EXPECT_EQ(one.status, 200) << one;
  DeviceSpec after;
  after.name = "AFTER-CRASH";
  after.os = "Linux";
  EXPECT_EQ(enroll(hub, token, after).status, 201);
  EXPECT_TRUE(hub.stop());
}

}  // namespace
}  // namespace reach::itest
