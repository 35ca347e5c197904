// What the hub gives the admin center: its files at "/" (caching, gzip, the app's routes, a
// policy that keeps it to this origin), the caller's permissions, the home page's summary,
// sorted device pages, history filters, and /api/events, the WebSocket that tells a device's
// page that the device changed (authorised once, at the upgrade, like any device read).
#include "common/crypto.h"
#include "integration/hub_process.h"
#include "net/client.h"
#include "pg/test_postgres.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;
const std::string kDevices = "/v1.0/deviceManagement/managedDevices";
constexpr const char* kHelpDeskRole = "9ed3a0c4-9c6b-4f3a-8d0c-6b6d1b1f8f52";

class HubAdminCenter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.init_and_start());
    admin_ = hub_.admin_token();
  }
  ApiResult get_with(std::string_view path,
                     std::initializer_list<std::pair<const char*, const char*>> h) {
    net::Headers headers;
    for (auto [k, v] : h) headers.set(k, v);
    return hub_.request("GET", path, "", headers);
  }
  std::string enroll_device(const std::string& name, const std::string& os = "Linux",
                            const std::string& user = "") {
    auto token =
        hub_.create_enrollment_token(user.empty() ? std::vector<std::string>{"--userless"}
                                                  : std::vector<std::string>{"--user", user});
    auto r = enroll(hub_, token, {.name = name, .os = os});
    EXPECT_EQ(r.status, 201) << r;
    return r.str("deviceId");
  }
  HubProcess hub_;
  std::string admin_;
};

TEST_F(HubAdminCenter, ServesTheAppWithCachingAndItsRoutes) {
  auto index = get_with("/", {});
  ASSERT_EQ(index.status, 200) << index;
  EXPECT_EQ(index.headers.get("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(index.headers.get("Cache-Control").value_or(""), "no-cache");
  auto csp = std::string(index.headers.get("Content-Security-Policy").value_or(""));
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_NE(index.body.find("<reach-app>"), std::string::npos);
  // An app route is index.html too; a file that is not there is not.
  auto route = get_with("/devices/0b5c7e1e-4b7b-4bb0-9f0e-1d2a3b4c5d6e", {});
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, index.body);
  EXPECT_EQ(get_with("/assets/missing-0000.js", {}).status, 404);
  EXPECT_EQ(get_with("/../hub.db", {}).status, 404);
  // The API keeps its own answers under its prefixes.
  EXPECT_TRUE(IsGraphError(get_with("/api/nothing-here", {}), 404, "itemNotFound"));
  EXPECT_TRUE(IsGraphError(get_with("/v1.0/nothing", {}), 404, "itemNotFound"));
  // The hashed script: cached for a year, gzip when asked for.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(index.body, m, std::regex("/assets/[A-Za-z0-9_-]+\\.js")));
  std::string script = m.str();
  auto plain = get_with(script, {});
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.headers.get("Cache-Control").value_or(""), "public, max-age=31536000, immutable");
  EXPECT_FALSE(plain.headers.get("Content-Encoding"));
  auto packed = get_with(script, {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(packed.status, 200);
  EXPECT_EQ(packed.headers.get("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(packed.headers.get("Vary").value_or(""), "Accept-Encoding");
  EXPECT_LT(packed.body.size() * 2, plain.body.size()) << "gzip should at least halve the script";
  // Only GET and HEAD reach the files.
  EXPECT_EQ(hub_.post_raw("/", "x").status, 404);
}

TEST_F(HubAdminCenter, PermissionsSayWhatTheCallerMayDo) {
  auto mine = hub_.get("/api/me/permissions", admin_);
  ASSERT_EQ(mine.status, 200) << mine;
  std::set<std::string> actions;
  for (const auto& a : mine.obj().at("actions").as_array())
    actions.insert(std::string(a.as_object().at("action").as_string()));
  EXPECT_EQ(actions.size(), 15u);
  EXPECT_TRUE(actions.count("Microsoft.Intune_RemoteTasks_RequestRemoteAssistance"));

  // A Help Desk Operator: four actions, no Roles, no connector update.
  auto u = create_user(hub_, admin_, "hd@reach.test", "Help Desk", "Help-Desk-Passw0rd-1");
  ASSERT_EQ(u.status, 201) << u;
  ASSERT_EQ(
      hub_.post("/v1.0/users/" + u.str("id") + "/assignLicense",
                bj::object{{"addLicenses", bj::array{bj::object{
                                               {"skuId", "b05e124f-c7cc-45a0-a6aa-8cf78c946968"}}}},
                           {"removeLicenses", bj::array{}}},
                admin_)
          .status,
      200);
  auto a = hub_.post("/v1.0/deviceManagement/roleAssignments",
                     bj::object{{"displayName", "HD"},
                                {"roleDefinitionId", kHelpDeskRole},
                                {"members", bj::array{bj::value(u.str("id"))}},
                                {"scopeType", "allDevices"}},
                     admin_);
  ASSERT_EQ(a.status, 201) << a;
  std::string hd = hub_.create_token("hd@reach.test");
  auto theirs = hub_.get("/api/me/permissions", hd);
  ASSERT_EQ(theirs.status, 200) << theirs;
  std::set<std::string> got;
  for (const auto& x : theirs.obj().at("actions").as_array())
    got.insert(std::string(x.as_object().at("action").as_string()));
  EXPECT_EQ(got, (std::set<std::string>{"Microsoft.Intune_ManagedDevices_Read",
                                        "Microsoft.Intune_Organization_Read",
                                        "Microsoft.Intune_RemoteAssistance_Read",
                                        "Microsoft.Intune_RemoteTasks_RequestRemoteAssistance"}));
  EXPECT_TRUE(IsGraphError(hub_.get("/api/me/permissions"), 401, "unauthenticated"));
}

// The device list's page cache (SQLite, hub/page_cache.h) answers a repeated request, and never
// from before a change to anything the list reads: a change through the API, one made by another
// process on the store, or time (a supporter link stops showing when its session's validity ends,
// which no write marks). On PostgreSQL there is no cache, and the same answers come from the store.
TEST_F(HubAdminCenter, DeviceListsShowEveryChangeAtOnceThoughPagesAreCached) {
  auto user = create_user(hub_, admin_, "ada@reach.test", "Ada", "Ada-Passw0rd-1");
  ASSERT_EQ(user.status, 201) << user;
  const std::string a = enroll_device("CACHE-A", "Linux", "ada@reach.test");
  const std::string b = enroll_device("CACHE-B");
  ASSERT_FALSE(a.empty() || b.empty());
  const std::string page_path = kDevices + "?$top=10";
  auto device = [&](const std::string& id) -> bj::object {
    auto page = hub_.get(page_path, admin_);
    EXPECT_EQ(page.status, 200) << page;
    for (const auto& v : page.value())
      if (str_of(v.as_object(), "id") == id) return v.as_object();
    ADD_FAILURE() << id << " is not on the page: " << page;
    return {};
  };
  auto lookups = [&](const std::string& result) -> long long {
    auto m = hub_.get("/api/metrics", admin_);
    EXPECT_EQ(m.status, 200) << m;
    std::smatch found;
    std::regex re("reach_hub_list_cache_lookups_total\\{result=\"" + result + "\"\\} (\\d+)");
    return std::regex_search(m.body, found, re) ? std::stoll(found[1]) : -1;
  };

  EXPECT_EQ(str_of(device(a), "deviceName"), "CACHE-A");
  long long hits = lookups("hit");
  EXPECT_EQ(str_of(device(a), "deviceName"), "CACHE-A");
  if (testpg::selected()) {
    EXPECT_EQ(hits, -1) << "PostgreSQL nodes keep no pages";
  } else {
    EXPECT_EQ(lookups("hit"), hits + 1) << "the same request again is answered from the cache";
  }

  // Through the API.
  auto p = hub_.patch(kDevices + "/" + a, bj::object{{"notes", "Desk 4, second floor"}}, admin_);
  ASSERT_EQ(p.status, 200) << p;
  EXPECT_EQ(str_of(device(a), "notes"), "Desk 4, second floor");
  auto renamed =
      hub_.patch("/v1.0/users/" + user.str("id"), bj::object{{"displayName", "Ada L."}}, admin_);
  ASSERT_EQ(renamed.status, 204) << renamed;
  EXPECT_EQ(str_of(device(a), "userDisplayName"), "Ada L.");

  // By another process, straight on the store.
  auto direct =
      hub_.sql("UPDATE devices SET device_name = 'RENAMED-ELSEWHERE' WHERE id = '" + b + "'");
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(str_of(device(b), "deviceName"), "RENAMED-ELSEWHERE");

  // By time: a session open for one more second shows its link, then no longer.
  auto key = crypto::load_or_create_key(hub_.data_dir() + "/secret.key");
  ASSERT_TRUE(key) << key.error().message;
  const std::string link = "https://relay.reach.test/s/cache-test";
  auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch() + 1500ms)
                   .count();
  auto open = hub_.sql(fmt::format(
      "INSERT INTO ra_sessions (id, device_id, requester_id, requester_name, code, supporter_link,"
      " notification_id, state, created_at, valid_until) VALUES ('cache-test', '{}', 'x', 'x',"
      " 'x', '{}', 'x', 'requested', {}, {})",
      a, crypto::seal_text(*key, link), until - 60000, until));
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(str_of(device(a), "remoteAssistanceSessionUrl"), link);
  EXPECT_TRUE(wait_until([&] { return device(a).at("remoteAssistanceSessionUrl").is_null(); }, 10s))
      << "the link still shows after its session's validity ended";
}

TEST_F(HubAdminCenter, DevicePagesSortByAPropertyAndPageWithoutGapsOrRepeats) {
  for (const char* n : {"delta", "Alpha", "charlie", "Echo", "bravo", "foxtrot", "Golf"})
    enroll_device(n);
  auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    for (const auto& d : collect_pages(hub_, kDevices + query, admin_))
      out.emplace_back(d.at("deviceName").as_string());
    return out;
  };
  std::vector<std::string> asc = {"Alpha", "bravo", "charlie", "delta", "Echo", "foxtrot", "Golf"};
  EXPECT_EQ(names("?$top=3&$orderby=deviceName"), asc);
  std::vector<std::string> desc(asc.rbegin(), asc.rend());
  EXPECT_EQ(names("?$top=2&$orderby=deviceName%20desc"), desc);
  EXPECT_EQ(names("?$top=3&$orderby=deviceName&$filter=startswith(deviceName,'G')"),
            std::vector<std::string>{"Golf"});
  EXPECT_EQ(names("?$top=3&$orderby=lastSyncDateTime").size(), 7u);
  EXPECT_TRUE(
      IsGraphError(hub_.get(kDevices + "?$orderby=credential", admin_), 400, "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.get(kDevices + "?$orderby=deviceName%20sideways", admin_), 400,
                           "invalidRequest"));
}

TEST_F(HubAdminCenter, TheSearchBoxFindsDevicesByNameUserOrSerialInAnyCase) {
  ASSERT_EQ(
      create_user(hub_, admin_, "Nora.Nordmann@reach.test", "Nora", "Nora-Passw0rd-long-1").status,
      201);
  enroll_device("Oslo-Laptop-7");
  enroll_device("bergen-desk", "Linux", "nora.nordmann@reach.test");
  enroll_device("OSLOFJORD");
  auto search = [&](const std::string& term) {
    std::string f = "startswith(deviceName,'" + term + "') or startswith(userPrincipalName,'" +
                    term + "') or startswith(serialNumber,'" + term + "')";
    std::vector<std::string> out;
    for (const auto& d : collect_pages(
             hub_, kDevices + "?$orderby=deviceName&$filter=" + net::percent_encode(f), admin_))
      out.emplace_back(d.at("deviceName").as_string());
    return out;
  };
  EXPECT_EQ(search("oslo"), (std::vector<std::string>{"Oslo-Laptop-7", "OSLOFJORD"}));
  EXPECT_EQ(search("OSLO-"), std::vector<std::string>{"Oslo-Laptop-7"});
  EXPECT_EQ(search("NORA.n"), std::vector<std::string>{"bergen-desk"});
  EXPECT_EQ(search("sn-BERGEN"), std::vector<std::string>{"bergen-desk"}) << "by serial number";
  EXPECT_EQ(search("o%"), std::vector<std::string>{}) << "no wildcards";
}

TEST_F(HubAdminCenter, SummaryCountsTheDevicesInScope) {
  enroll_device("one", "Linux");
  enroll_device("two", "Linux");
  enroll_device("three", "Windows");
  auto s = hub_.get("/api/summary", admin_);
  ASSERT_EQ(s.status, 200) << s;
  const auto& d = s.obj().at("devices").as_object();
  EXPECT_EQ(d.at("total").as_int64(), 3);
  EXPECT_EQ(d.at("byPlatform").as_object().at("Linux").as_int64(), 2);
  EXPECT_EQ(d.at("byPlatform").as_object().at("Windows").as_int64(), 1);
  EXPECT_EQ(d.at("byLastCheckIn").as_object().at("day").as_int64(), 3);
  const auto& r = s.obj().at("remoteAssistanceSessions").as_object();
  EXPECT_EQ(r.at("byDay").as_array().size(), 30u);
  EXPECT_EQ(r.at("requested").as_int64(), 0);
}

TEST_F(HubAdminCenter, AuditAndHistoriesFilterByActivityActorAndDate) {
  ASSERT_EQ(create_user(hub_, admin_, "a@reach.test", "A", "A-Passw0rd-long-1").status, 201);
  ASSERT_EQ(create_user(hub_, admin_, "b@reach.test", "B", "B-Passw0rd-long-1").status, 201);
  auto created = hub_.get("/api/audit?$filter=activity%20eq%20'createUser'", admin_);
  ASSERT_EQ(created.status, 200) << created;
  EXPECT_EQ(created.value().size(), 2u);
  auto by_target = hub_.get("/api/audit?$filter=startswith(target/name,'b@')", admin_);
  ASSERT_EQ(by_target.status, 200) << by_target;
  EXPECT_EQ(by_target.value().size(), 1u);
  EXPECT_EQ(hub_.get("/api/audit?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z", admin_)
                .value()
                .size(),
            0u);
  EXPECT_GE(hub_.get("/api/audit?from=2000-01-01T00:00:00Z", admin_).value().size(), 2u);
  EXPECT_TRUE(IsGraphError(hub_.get("/api/audit?from=yesterday", admin_), 400, "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.get("/api/remoteAssistanceSessions?to=soon", admin_), 400,
                           "invalidRequest"));
  EXPECT_TRUE(IsGraphError(hub_.get("/api/audit?$filter=password%20eq%20'x'", admin_), 400,
                           "invalidRequest"));
}

// Collects the text messages of a client WebSocket.
class Inbox : public net::WebSocketHandler {
 public:
  void on_message(std::string data, bool) override {
    std::lock_guard lk(mu_);
    msgs_.push_back(std::move(data));
    cv_.notify_all();
  }
  std::string next(std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, timeout, [&] { return !msgs_.empty(); })) return {};
    auto m = std::move(msgs_.front());
    msgs_.pop_front();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> msgs_;
};

TEST_F(HubAdminCenter, EventsTellAWatcherOfItsDeviceOnlyAndOnlyWhoMayReadIt) {
  std::string watched = enroll_device("watched");
  std::string other = enroll_device("other");
  std::string url = "ws://127.0.0.1:" + std::to_string(hub_.port()) + "/api/events?deviceId=";
  net::EventLoop loop;
  auto connect = [&](const std::string& device, const net::Headers& h) {
    return net::websocket_connect(loop, url + device, h, std::make_shared<Inbox>());
  };
  // No credentials, a wrong one, no device, an unknown device.
  EXPECT_EQ(connect(watched, {}).error().status, 401);
  net::Headers wrong;
  wrong.set("Authorization", "Bearer nope");
  EXPECT_EQ(connect(watched, wrong).error().status, 401);
  net::Headers admin;
  admin.set("Authorization", "Bearer " + admin_);
  EXPECT_EQ(connect("not-a-uuid", admin).error().status, 400);
  EXPECT_EQ(connect("0b5c7e1e-4b7b-4bb0-9f0e-1d2a3b4c5d6e", admin).error().status, 404);

  // The sign-in cookie works from this site's pages, and not from another site's.
  auto signin =
      hub_.post("/api/auth/signin", bj::object{{"email", hub_.options().admin_email},
                                               {"password", hub_.options().admin_password}});
  ASSERT_EQ(signin.status, 200) << signin;
  std::string cookie(signin.headers.get("Set-Cookie").value_or(""));
  cookie = cookie.substr(0, cookie.find(';'));
  net::Headers cross;
  cross.set("Cookie", cookie);
  cross.set("Origin", "https://evil.example");
  EXPECT_EQ(connect(watched, cross).error().status, 403);

  // A Help Desk Operator whose scope does not hold the device is refused.
  ASSERT_EQ(create_user(hub_, admin_, "hd@reach.test", "HD", "Help-Desk-Passw0rd-1").status, 201);
  auto hd_user = hub_.get("/v1.0/users/hd@reach.test", admin_);
  hub_.post("/v1.0/users/" + hd_user.str("id") + "/assignLicense",
            bj::object{{"addLicenses",
                        bj::array{bj::object{{"skuId", "b05e124f-c7cc-45a0-a6aa-8cf78c946968"}}}},
                       {"removeLicenses", bj::array{}}},
            admin_);
  auto group = hub_.post("/v1.0/groups", bj::object{{"displayName", "Scope"}}, admin_);
  ASSERT_EQ(hub_.post("/v1.0/deviceManagement/roleAssignments",
                      bj::object{{"displayName", "HD"},
                                 {"roleDefinitionId", kHelpDeskRole},
                                 {"members", bj::array{bj::value(hd_user.str("id"))}},
                                 {"resourceScopes", bj::array{bj::value(group.str("id"))}},
                                 {"scopeType", "resourceScope"}},
                      admin_)
                .status,
            201);
  net::Headers hd;
  hd.set("Authorization", "Bearer " + hub_.create_token("hd@reach.test"));
  EXPECT_EQ(connect(watched, hd).error().status, 403);

  // The administrator, with the cookie from this site: told when the watched device changes,
  // not when another does.
  net::Headers same;
  same.set("Cookie", cookie);
  same.set("Origin", hub_.base_url());
  auto inbox = std::make_shared<Inbox>();
  auto ws = net::websocket_connect(loop, url + watched, same, inbox);
  ASSERT_TRUE(ws) << ws.error().message;
  ASSERT_EQ(hub_.patch(kDevices + "/" + other, bj::object{{"notes", "x"}}, admin_).status, 200);
  ASSERT_EQ(hub_.patch(kDevices + "/" + watched, bj::object{{"notes", "y"}}, admin_).status, 200);
  EXPECT_EQ(inbox->next(), R"({"type":"deviceChanged","deviceId":")" + watched + "\"}");
  EXPECT_EQ(inbox->next(300ms), "") << "nothing about the other device";
  (*ws)->close();
}

}  // namespace
}  // namespace reach::itest
