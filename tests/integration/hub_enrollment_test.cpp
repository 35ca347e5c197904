// Enrollment and the managedDevices collection (issue 2): thousands of devices enrolled through
// the agent endpoint with tokens made by the command line, then listed, paged, filtered, counted
// and projected, with every expectation computed from what was enrolled.
#include "integration/hub_process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace reach::itest {
namespace {

struct TokenKind {
  std::string token;
  std::string owner;            // managedDeviceOwnerType the token should give
  std::string enrollment_type;  // deviceEnrollmentType the token should give
  std::string user_id;          // "" for userless
  std::string upn;
};

struct Enrolled {
  std::string id, credential, name, os, os_version, serial, owner, enrollment_type, user_id, upn;
};

constexpr const char* kOs[] = {"Windows", "iOS", "Android", "macOS", "Linux"};
constexpr const char* kDeviceType[] = {"desktop", "iPhone", "android", "macMDM", "linux"};

// Creates a user through the API (as the admin); returns its id.
std::string create_user(HubProcess& hub, const std::string& upn, const std::string& name) {
  auto r =
      hub.post("/v1.0/users",
               bj::object{{"displayName", name},
                          {"userPrincipalName", upn},
                          {"mail", upn},
                          {"accountEnabled", true},
                          {"passwordProfile", bj::object{{"password", "User-Pa55word-" + name}}}},
               hub.admin_token());
  EXPECT_EQ(r.status, 201) << "POST /v1.0/users " << upn << ": " << r;
  return r.str("id");
}

std::string my_id(HubProcess& hub) {
  auto r = hub.get("/v1.0/me", hub.admin_token());
  EXPECT_EQ(r.status, 200) << "GET /v1.0/me: " << r;
  return r.str("id");
}

// Four kinds of enrollment token: user-bound personal (admin), user-bound company (alice),
// user-bound personal (bob), userless company.
std::vector<TokenKind> make_tokens(HubProcess& hub) {
  std::string admin_id = my_id(hub);
  std::string alice = create_user(hub, "alice@reach.test", "Alice");
  std::string bob = create_user(hub, "bob@reach.test", "Bob");
  std::vector<TokenKind> out;
  out.push_back({hub.create_enrollment_token(
                     {"--user", hub.options().admin_email, "--ownership", "personal"}),
                 "personal", "userEnrollment", admin_id, hub.options().admin_email});
  out.push_back(
      {hub.create_enrollment_token({"--user", "alice@reach.test", "--ownership", "company"}),
       "company", "userEnrollment", alice, "alice@reach.test"});
  out.push_back(
      {hub.create_enrollment_token({"--user", "bob@reach.test", "--ownership", "personal"}),
       "personal", "userEnrollment", bob, "bob@reach.test"});
  out.push_back({hub.create_enrollment_token({"--userless", "--ownership", "company"}), "company",
                 "deviceEnrollmentManager", "", ""});
  return out;
}

DeviceSpec spec_for(int i) {
  DeviceSpec d;
  char buf[32];
  // Some names start with LAB-, some merely contain it, most do not.
  const char* prefix = i % 7 == 0 ? "LAB-" : i % 11 == 0 ? "X-LAB-" : "PC-";
  std::snprintf(buf, sizeof buf, "%s%05d", prefix, i);
  d.name = buf;
  d.os = kOs[i % 5];
  d.device_type = kDeviceType[i % 5];
  d.os_version = std::to_string(10 + i % 3) + "." + std::to_string(i % 4);
  std::snprintf(buf, sizeof buf, "SN%07d", i);
  d.serial = buf;
  d.model = "Model-" + std::to_string(i % 6);
  return d;
}

// Enrolls `n` devices from `threads` client threads; token kind varies independently of the OS.
std::vector<Enrolled> enroll_many(const HubProcess& hub, const std::vector<TokenKind>& tokens,
                                  int n, int threads) {
  std::vector<Enrolled> out(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::mutex mu;
  std::vector<std::string> failures;  // guarded by mu
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        const TokenKind& tk = tokens[static_cast<std::size_t>((i / 5) % tokens.size())];
        DeviceSpec d = spec_for(i);
        auto r = enroll(hub, tk.token, d);
        if (r.status != 201 || r.str("deviceId").empty() || r.str("deviceCredential").empty()) {
          std::lock_guard lock(mu);
          if (failures.size() < 10)
            failures.push_back("device " + d.name + ": " + testing::PrintToString(r));
          else if (failures.size() == 10)
            failures.push_back("…");
          continue;
        }
        out[static_cast<std::size_t>(i)] = Enrolled{
            r.str("deviceId"), r.str("deviceCredential"), d.name,     d.os,  d.os_version, d.serial,
            tk.owner,          tk.enrollment_type,        tk.user_id, tk.upn};
      }
    });
  }
  for (auto& th : pool) th.join();
  for (const auto& f : failures) ADD_FAILURE() << "enrollment failed: " << f;
  return out;
}

std::string ids_sample(const std::set<std::string>& s) {
  std::string out;
  int k = 0;
  for (const auto& id : s) {
    if (k++ == 5) return out + " …";
    out += " " + id;
  }
  return out;
}

// Lists `path_and_query` (following nextLink) and checks the ids are exactly `expected`, each
// once.
void expect_ids(const HubProcess& hub, const std::string& token, const std::string& path_and_query,
                const std::set<std::string>& expected) {
  SCOPED_TRACE("GET " + path_and_query);
  auto devices = collect_pages(hub, path_and_query, token);
  std::map<std::string, int> seen;
  for (const auto& d : devices) ++seen[str_of(d, "id")];
  std::set<std::string> got, duplicated;
  for (const auto& [id, count] : seen) {
    got.insert(id);
    if (count > 1) duplicated.insert(id);
  }
  EXPECT_TRUE(duplicated.empty()) << duplicated.size()
                                  << " ids listed more than once:" << ids_sample(duplicated);
  std::set<std::string> missing, extra;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(),
                      std::inserter(missing, missing.end()));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(),
                      std::inserter(extra, extra.end()));
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << expected.size()
                               << " expected devices are missing:" << ids_sample(missing);
  EXPECT_TRUE(extra.empty()) << extra.size() << " unexpected devices listed:" << ids_sample(extra);
}

std::set<std::string> select_ids(const std::vector<Enrolled>& all,
                                 const std::function<bool(const Enrolled&)>& pred) {
  std::set<std::string> out;
  for (const auto& e : all)
    if (!e.id.empty() && pred(e)) out.insert(e.id);
  return out;
}

const std::string kDevices = "/v1.0/deviceManagement/managedDevices";

TEST(HubEnrollment, ThousandsOfDevicesArePagedFilteredCountedAndSelected) {
  HubProcess hub;
  ASSERT_TRUE(hub.init_and_start());
  const std::string& admin = hub.admin_token();
  ASSERT_FALSE(admin.empty());
  auto tokens = make_tokens(hub);
  for (const auto& t : tokens) ASSERT_FALSE(t.token.empty());
  for (const auto& t : tokens)
    ASSERT_TRUE(t.enrollment_type != "userEnrollment" || !t.user_id.empty());

  constexpr int kCount = 2500;
  auto all = enroll_many(hub, tokens, kCount, 4);
  ASSERT_FALSE(HasFailure()) << "enrollment failed; not checking the collection";
  std::set<std::string> every = select_ids(all, [](const Enrolled&) { return true; });
  ASSERT_EQ(every.size(), static_cast<std::size_t>(kCount)) << "device ids are not unique";
  std::map<std::string, const Enrolled*> by_id;
  for (const auto& e : all) by_id[e.id] = &e;

  {
    SCOPED_TRACE("paging with $top=100 through @odata.nextLink");
    std::string link = kDevices + "?$top=100";
    std::map<std::string, int> seen;
    int pages = 0;
    while (!link.empty() && pages < 100) {
      auto r = hub.get(link, admin);
      ASSERT_EQ(r.status, 200) << "GET " << link << ": " << r;
      ++pages;
      EXPECT_LE(r.value().size(), 100u) << "page " << pages << " is larger than $top";
      for (const auto& v : r.value()) ++seen[str_of(v.as_object(), "id")];
      const auto* next = r.obj().if_contains("@odata.nextLink");
      link = next && next->is_string() ? std::string(next->as_string()) : "";
      if (!link.empty()) {
        EXPECT_TRUE(link.starts_with("http://") || link.starts_with("https://"))
            << "@odata.nextLink should be an absolute URL: " << link;
      }
    }
    EXPECT_TRUE(link.empty()) << "paging did not end after 100 pages";
    EXPECT_GE(pages, kCount / 100) << "2500 devices cannot fit in fewer than 25 pages of 100";
    EXPECT_EQ(seen.size(), every.size());
    for (const auto& id : every)
      EXPECT_EQ(seen[id], 1) << "device " << id << " seen " << seen[id] << " times";
    for (const auto& [id, n] : seen)
      EXPECT_TRUE(every.count(id)) << "unknown device listed: " << id;
  }

  struct Case {
    std::string filter;
    std::function<bool(const Enrolled&)> pred;
  };
  const std::string alice_id = tokens[1].user_id;
  const std::string bob_id = tokens[2].user_id;
  std::vector<Case> cases = {
      {"operatingSystem eq 'iOS'", [](const Enrolled& e) { return e.os == "iOS"; }},
      {"operatingSystem eq 'Windows'", [](const Enrolled& e) { return e.os == "Windows"; }},
      {"managedDeviceOwnerType eq 'company'",
       [](const Enrolled& e) { return e.owner == "company"; }},
      {"managedDeviceOwnerType ne 'company'",
       [](const Enrolled& e) { return e.owner != "company"; }},
      {"deviceEnrollmentType eq 'deviceEnrollmentManager'",
       [](const Enrolled& e) { return e.enrollment_type == "deviceEnrollmentManager"; }},
      {"deviceEnrollmentType eq 'userEnrollment'",
       [](const Enrolled& e) { return e.enrollment_type == "userEnrollment"; }},
      {"startswith(deviceName,'LAB-')",
       [](const Enrolled& e) { return e.name.starts_with("LAB-"); }},
      {"(operatingSystem eq 'Windows' or operatingSystem eq 'Linux') and "
       "managedDeviceOwnerType eq 'personal'",
       [](const Enrolled& e) {
         return (e.os == "Windows" || e.os == "Linux") && e.owner == "personal";
       }},
      // `and` binds tighter than `or`.
      {"startswith(deviceName,'LAB-') and operatingSystem eq 'Android' or "
       "deviceEnrollmentType eq 'deviceEnrollmentManager' and operatingSystem eq 'macOS'",
       [](const Enrolled& e) {
         return (e.name.starts_with("LAB-") && e.os == "Android") ||
                (e.enrollment_type == "deviceEnrollmentManager" && e.os == "macOS");
       }},
      {"userPrincipalName eq 'alice@reach.test'",
       [](const Enrolled& e) { return e.upn == "alice@reach.test"; }},
      {"userId eq '" + bob_id + "' and managedDeviceOwnerType eq 'personal'",
       [&](const Enrolled& e) { return e.user_id == bob_id && e.owner == "personal"; }},
  };
  for (const auto& c : cases) {
    auto expected = select_ids(all, c.pred);
    ASSERT_FALSE(expected.empty()) << "test data gives no device for " << c.filter;
    ASSERT_LT(expected.size(), every.size()) << "test data gives every device for " << c.filter;
    expect_ids(hub, admin, kDevices + "?$filter=" + q(c.filter), expected);
  }
  expect_ids(hub, admin, kDevices + "?$filter=" + q("operatingSystem eq 'Solaris'"), {});
  // A filter combined with small pages still yields each match exactly once.
  expect_ids(hub, admin, kDevices + "?$top=37&$filter=" + q("operatingSystem eq 'macOS'"),
             select_ids(all, [](const Enrolled& e) { return e.os == "macOS"; }));

  {
    SCOPED_TRACE("$count=true");
    auto r = hub.get(kDevices + "?$count=true&$top=1", admin);
    ASSERT_EQ(r.status, 200) << r;
    const auto* count = r.obj().if_contains("@odata.count");
    ASSERT_TRUE(count && count->is_int64()) << "no integer @odata.count: " << r;
    EXPECT_EQ(count->as_int64(), kCount);
    EXPECT_EQ(r.value().size(), 1u);

    auto androids = select_ids(all, [](const Enrolled& e) { return e.os == "Android"; });
    r = hub.get(kDevices + "?$count=true&$top=5&$filter=" + q("operatingSystem eq 'Android'"),
                admin);
    ASSERT_EQ(r.status, 200) << r;
    count = r.obj().if_contains("@odata.count");
    ASSERT_TRUE(count && count->is_int64()) << "no integer @odata.count: " << r;
    EXPECT_EQ(count->as_int64(), static_cast<std::int64_t>(androids.size()))
        << "@odata.count must count every match, not the page";
    EXPECT_EQ(r.value().size(), 5u);
  }

  {
    SCOPED_TRACE("$select=id,deviceName");
    auto r = hub.get(kDevices + "?$select=id,deviceName&$top=200", admin);
    ASSERT_EQ(r.status, 200) << r;
    ASSERT_EQ(r.value().size(), 200u) << r;
    for (const auto& v : r.value()) {
      std::set<std::string> keys;
      for (const auto& kv : v.as_object())
        if (!kv.key().starts_with("@")) keys.insert(std::string(kv.key()));
      EXPECT_EQ(keys, (std::set<std::string>{"id", "deviceName"})) << bj::serialize(v);
      auto it = by_id.find(str_of(v.as_object(), "id"));
      ASSERT_NE(it, by_id.end()) << bj::serialize(v);
      EXPECT_EQ(str_of(v.as_object(), "deviceName"), it->second->name);
    }
  }

  {
    SCOPED_TRACE("the beta prefix");
    auto linux_ids = select_ids(all, [](const Enrolled& e) { return e.os == "Linux"; });
    expect_ids(hub, admin,
               "/beta/deviceManagement/managedDevices?$filter=" + q("operatingSystem eq 'Linux'"),
               linux_ids);
    // On beta the `$` may be left out.
    expect_ids(
        hub, admin,
        "/beta/deviceManagement/managedDevices?top=300&filter=" + q("operatingSystem eq 'Linux'"),
        linux_ids);
    auto r = hub.get("/beta/deviceManagement/managedDevices?count=true&top=2", admin);
    ASSERT_EQ(r.status, 200) << r;
    const auto* count = r.obj().if_contains("@odata.count");
    ASSERT_TRUE(count && count->is_int64()) << r;
    EXPECT_EQ(count->as_int64(), kCount);
    EXPECT_EQ(r.value().size(), 2u);
  }

  {
    SCOPED_TRACE("a user's devices");
    const std::string alice_id_copy = alice_id;
    expect_ids(hub, admin, "/v1.0/users/" + alice_id + "/managedDevices",
               select_ids(all, [&](const Enrolled& e) { return e.user_id == alice_id_copy; }));
    // {id} may be the userPrincipalName.
    expect_ids(hub, admin, "/v1.0/users/bob@reach.test/managedDevices",
               select_ids(all, [&](const Enrolled& e) { return e.user_id == bob_id; }));
    const std::string admin_id = tokens[0].user_id;
    expect_ids(hub, admin, "/v1.0/me/managedDevices",
               select_ids(all, [&](const Enrolled& e) { return e.user_id == admin_id; }));
  }
}

class HubEnrollmentSmall : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(hub_.init_and_start());
    ASSERT_FALSE(hub_.admin_token().empty());
  }
  std::int64_t device_count() {
    auto r = hub_.get(kDevices + "?$count=true&$top=1", hub_.admin_token());
    EXPECT_EQ(r.status, 200) << r;
    const auto* c = r.is_object() ? r.obj().if_contains("@odata.count") : nullptr;
    EXPECT_TRUE(c && c->is_int64()) << r;
    return c && c->is_int64() ? c->as_int64() : -1;
  }
  HubProcess hub_;
};

TEST_F(HubEnrollmentSmall, EveryTokenKindGivesItsOwnershipAndEnrollmentType) {
  auto tokens = make_tokens(hub_);
  ASSERT_FALSE(HasFailure());
  int i = 0;
  for (const auto& tk : tokens) {
    DeviceSpec d = spec_for(i++);
    auto r = enroll(hub_, tk.token, d);
    ASSERT_EQ(r.status, 201) << r;
    std::string id = r.str("deviceId");
    ASSERT_FALSE(id.empty()) << r;
    EXPECT_FALSE(r.str("deviceCredential").empty()) << r;
    auto g = hub_.get(kDevices + "/" + id, hub_.admin_token());
    ASSERT_EQ(g.status, 200) << g;
    const auto& o = g.obj();
    EXPECT_EQ(str_of(o, "id"), id);
    EXPECT_EQ(str_of(o, "deviceName"), d.name);
    EXPECT_EQ(str_of(o, "operatingSystem"), d.os);
    EXPECT_EQ(str_of(o, "osVersion"), d.os_version);
    EXPECT_EQ(str_of(o, "model"), d.model);
    EXPECT_EQ(str_of(o, "manufacturer"), d.manufacturer);
    EXPECT_EQ(str_of(o, "serialNumber"), d.serial);
    EXPECT_EQ(str_of(o, "managedDeviceOwnerType"), tk.owner);
    EXPECT_EQ(str_of(o, "deviceEnrollmentType"), tk.enrollment_type);
    if (tk.user_id.empty()) {
      const auto* uid = o.if_contains("userId");
      EXPECT_TRUE(!uid || uid->is_null() || (uid->is_string() && uid->as_string().empty()))
          << "a userless device has a user: " << g;
    } else {
      EXPECT_EQ(str_of(o, "userId"), tk.user_id);
      EXPECT_EQ(str_of(o, "userPrincipalName"), tk.upn);
    }
    // The credential is shown once and never echoed back by the API.
    EXPECT_EQ(g.body.find(r.str("deviceCredential")), std::string::npos);
  }
  EXPECT_EQ(device_count(), static_cast<std::int64_t>(tokens.size()));
}

TEST_F(HubEnrollmentSmall, CheckInUpdatesLastSyncDateTime) {
  std::string token = hub_.create_enrollment_token({"--userless", "--ownership", "company"});
  ASSERT_FALSE(token.empty());
  DeviceSpec d = spec_for(1);
  auto e = enroll(hub_, token, d);
  ASSERT_EQ(e.status, 201) << e;
  std::string id = e.str("deviceId");
  std::string credential = e.str("deviceCredential");
  auto before = hub_.get(kDevices + "/" + id, hub_.admin_token());
  ASSERT_EQ(before.status, 200) << before;
  std::string sync0 = str_of(before.obj(), "lastSyncDateTime");
  std::string enrolled0 = str_of(before.obj(), "enrolledDateTime");
  ASSERT_FALSE(sync0.empty()) << before;

  // The clock must move past the enrollment's millisecond for the new time to differ.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  net::Headers h;
  h.set("Authorization", "Bearer " + credential);
  h.set("Content-Type", "application/json");
  auto c =
      hub_.request("POST", "/api/agent/checkin",
                   bj::serialize(bj::object{{"device", bj::object{{"osVersion", "99.1"}}}}), h);
  ASSERT_EQ(c.status, 200) << c;
  EXPECT_EQ(c.str("deviceId"), id);
  std::string sync1 = c.str("lastSyncDateTime");
  ASSERT_EQ(sync1.size(), sync0.size())
      << "lastSyncDateTime formats differ: " << sync0 << " vs " << sync1;
  EXPECT_GT(sync1, sync0) << "check-in did not move lastSyncDateTime forward";

  auto after = hub_.get(kDevices + "/" + id, hub_.admin_token());
  ASSERT_EQ(after.status, 200) << after;
  EXPECT_EQ(str_of(after.obj(), "lastSyncDateTime"), sync1);
  EXPECT_EQ(str_of(after.obj(), "enrolledDateTime"), enrolled0);
  EXPECT_EQ(str_of(after.obj(), "osVersion"), "99.1") << "check-in inventory not applied";
  EXPECT_EQ(str_of(after.obj(), "deviceName"), d.name) << "an absent inventory field changed";

  // A wrong or missing credential changes nothing.
  net::Headers bad;
  bad.set("Authorization", "Bearer rdc_not-a-real-credential");
  auto b = hub_.request("POST", "/api/agent/checkin", "", bad);
  EXPECT_TRUE(IsGraphError(b, 401, "unauthenticated"));
  auto none = hub_.request("POST", "/api/agent/checkin", "", {});
  EXPECT_TRUE(IsGraphError(none, 401, "unauthenticated"));
  // A device credential is not a user's token.
  auto me = hub_.get("/v1.0/me", credential);
  EXPECT_TRUE(IsGraphError(me, 401, "unauthenticated"));
  auto last = hub_.get(kDevices + "/" + id, hub_.admin_token());
  EXPECT_EQ(str_of(last.obj(), "lastSyncDateTime"), sync1);
}

TEST_F(HubEnrollmentSmall, BadEnrollmentTokenIs401AndCreatesNothing) {
  std::string good = hub_.create_enrollment_token({"--userless", "--ownership", "company"});
  ASSERT_FALSE(good.empty());
  auto ok = enroll(hub_, good, spec_for(3));
  ASSERT_EQ(ok.status, 201) << ok;
  std::int64_t before = device_count();
  ASSERT_EQ(before, 1);

  DeviceSpec rogue = spec_for(4);
  rogue.name = "ROGUE-DEVICE";
  std::string almost = good;
  almost.back() = almost.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad :
       {std::string("not-a-token"), almost, good + "x", hub_.admin_token()}) {
    SCOPED_TRACE("enrollment token '" + bad + "'");
    auto r = enroll(hub_, bad, rogue);
    EXPECT_TRUE(IsGraphError(r, 401, "unauthenticated"));
    EXPECT_TRUE(r.str("deviceId").empty());
  }
  EXPECT_EQ(device_count(), before);
  expect_ids(hub_, hub_.admin_token(), kDevices + "?$filter=" + q("deviceName eq 'ROGUE-DEVICE'"),
             {});
  // The good token still works afterwards.
  auto again = enroll(hub_, good, spec_for(5));
  EXPECT_EQ(again.status, 201) << again;
}

}  // namespace
}  // namespace reach::itest

namespace reach::itest {
namespace {

// A power cut in the middle of a stream of enrollments: every enrollment the hub answered 201
// is there after the restart (on whichever store this run uses), and nothing half-made is.
TEST_F(HubEnrollmentSmall, NoAcknowledgedEnrollmentIsLostWhenTheHubIsKilled) {
  std::string token = hub_.create_enrollment_token({"--userless", "--ownership", "company"});
  ASSERT_FALSE(token.empty());
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> streams;
  for (int t = 0; t < 4; ++t)
    streams.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        DeviceSpec d;
        d.name = "CUT-" + std::to_string(t) + "-" + std::to_string(i);
        d.os = "Linux";
        auto r = enroll(hub_, token, d);
        if (r.status == 201) ++acknowledged;
        if (r.status == 0) return;  // the hub is gone
      }
    });
  ASSERT_TRUE(wait_until([&] { return acknowledged >= 40; }, std::chrono::seconds(60)));
  hub_.kill9();
  stop = true;
  for (auto& t : streams) t.join();
  int acked = acknowledged.load();
  ASSERT_TRUE(hub_.start());
  std::int64_t stored = device_count();
  // Every acknowledged one; at most one more per stream (committed, its answer cut off).
  EXPECT_GE(stored, acked);
  EXPECT_LE(stored, acked + 4);
  // Each device that is there is whole (its enrollment's transaction committed all of it).
  auto list =
      hub_.get(kDevices + "?$top=1000&$select=id,deviceName,operatingSystem", hub_.admin_token());
  ASSERT_EQ(list.status, 200) << list;
  for (const auto& v : list.value()) EXPECT_EQ(str_of(v.as_object(), "operatingSystem"), "Linux");
}

}  // namespace
}  // namespace reach::itest
