// Sign-in, sessions and secrets (docs/hub-api.md "Authentication", SPEC §10), operations
// endpoints, the audit log of sign-ins, and the command-line contract (SPEC §2).
#include "integration/hub_process.h"
#include "pg/test_postgres.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace reach::itest {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct Cookie {
  std::string value;       // "" when no reach_session cookie was set
  std::string attributes;  // everything after the first ';', as sent
};

// The reach_session cookie among the Set-Cookie headers of `r`.
Cookie session_cookie(const ApiResult& r) {
  for (auto sc : r.headers.get_all("Set-Cookie")) {
    std::string s(sc);
    if (!s.starts_with("reach_session=")) continue;
    auto semi = s.find(';');
    Cookie c;
    c.value = s.substr(14, semi == std::string::npos ? std::string::npos : semi - 14);
    c.attributes = semi == std::string::npos ? "" : s.substr(semi);
    return c;
  }
  return {};
}

// True when the attribute list holds `attr` (case-insensitive, e.g. "httponly").
bool has_attribute(const Cookie& c, const std::string& attr) {
  std::string a = lower(c.attributes);
  std::string needle = lower(attr);
  std::size_t pos = 0;
  while ((pos = a.find(needle, pos)) != std::string::npos) {
    bool starts = pos > 0 && (a[pos - 1] == ';' || a[pos - 1] == ' ');
    std::size_t end = pos + needle.size();
    bool ends = end == a.size() || a[end] == ';' || a[end] == ' ' ||
                (needle.find('=') == std::string::npos && a[end] == '=');
    if (starts && ends) return true;
    pos = end;
  }
  return false;
}

class HubAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    HubOptions o;
    o.serve_args = {"--log-level", "debug"};  // the most the server will ever log
    hub_ = std::make_unique<HubProcess>(o);
    ASSERT_TRUE(hub_->init_and_start());
    admin_ = hub_->admin_token();
    ASSERT_FALSE(admin_.empty());
  }

  const std::string& email() const { return hub_->options().admin_email; }
  const std::string& password() const { return hub_->options().admin_password; }

  ApiResult signin(const std::string& email, const std::string& password,
                   net::Headers h = {}) const {
    h.set("Content-Type", "application/json");
    return hub_->request("POST", "/api/auth/signin",
                         bj::serialize(bj::object{{"email", email}, {"password", password}}), h);
  }

  net::Headers with_cookie(const std::string& value) const {
    net::Headers h;
    h.set("Cookie", "reach_session=" + value);
    return h;
  }

  ApiResult me(const std::string& cookie) const {
    return hub_->request("GET", "/v1.0/me", {}, with_cookie(cookie));
  }

  std::unique_ptr<HubProcess> hub_;
  std::string admin_;
};

TEST_F(HubAuth, RightPasswordGivesAnHttpOnlySameSiteStrictCookieThatWorks) {
  auto r = signin(email(), password());
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_FALSE(r.str("id").empty()) << r;
  EXPECT_EQ(lower(r.str("userPrincipalName")), lower(email())) << r;
  EXPECT_TRUE(r.obj().contains("displayName")) << r;
  Cookie c = session_cookie(r);
  ASSERT_FALSE(c.value.empty()) << "no reach_session cookie in Set-Cookie";
  EXPECT_GE(c.value.size(), 22u) << "a session id needs at least 128 bits";
  EXPECT_TRUE(has_attribute(c, "HttpOnly")) << c.attributes;
  // Lax, not Strict: the relay's redirect back to the connector's callback is a cross-site
  // navigation (e2e_admin_story); cross-site state changes are refused by Origin.
  EXPECT_TRUE(has_attribute(c, "SameSite=Strict")) << c.attributes;  // SPEC §10
  EXPECT_TRUE(has_attribute(c, "Path=/")) << c.attributes;

  auto m = me(c.value);
  ASSERT_EQ(m.status, 200) << m;
  EXPECT_EQ(m.str("id"), r.str("id"));
  EXPECT_EQ(lower(m.str("userPrincipalName")), lower(email()));
  // The cookie carries the administrator's rights.
  EXPECT_EQ(hub_->request("GET", "/v1.0/users", {}, with_cookie(c.value)).status, 200);
  // A cookie the hub never issued does not.
  EXPECT_TRUE(IsGraphError(me(c.value + "x"), 401, "unauthenticated"));

  // The HTML form posts the same names.
  net::Headers form;
  form.set("Content-Type", "application/x-www-form-urlencoded");
  auto f = hub_->request("POST", "/api/auth/signin",
                         "email=" + q(email()) + "&password=" + q(password()), form);
  ASSERT_EQ(f.status, 200) << f;
  Cookie c2 = session_cookie(f);
  ASSERT_FALSE(c2.value.empty());
  EXPECT_NE(c2.value, c.value) << "every sign-in gets its own session";
  EXPECT_EQ(me(c2.value).status, 200);
}

TEST_F(HubAuth, WrongPasswordAndUnknownEmailAre401WithTheSameAnswer) {
  auto wrong = signin(email(), "Not-The-Password-123");
  EXPECT_TRUE(IsGraphError(wrong, 401, "unauthenticated"));
  EXPECT_TRUE(session_cookie(wrong).value.empty()) << "a failed sign-in set a session cookie";
  auto unknown = signin("nobody@reach.test", "Not-The-Password-123");
  EXPECT_TRUE(IsGraphError(unknown, 401, "unauthenticated"));
  EXPECT_TRUE(session_cookie(unknown).value.empty());
  ASSERT_TRUE(wrong.is_object() && unknown.is_object());
  EXPECT_EQ(str_of(wrong.obj().at("error").as_object(), "message"),
            str_of(unknown.obj().at("error").as_object(), "message"))
      << "a wrong password and an unknown email must be indistinguishable";
  // The right password still works (four failures are below the throttle).
  EXPECT_EQ(signin(email(), password()).status, 200);
}

::testing::AssertionResult IsThrottled(const ApiResult& r) {
  auto g = IsGraphError(r, 429, "tooManyRequests");
  if (!g) return g;
  auto ra = r.headers.get("Retry-After");
  if (!ra) return ::testing::AssertionFailure() << "429 without Retry-After: " << r;
  std::string v(*ra);
  if (v.empty() || !std::all_of(v.begin(), v.end(), ::isdigit))
    return ::testing::AssertionFailure() << "Retry-After is not delay-seconds: '" << v << "'";
  long secs = std::stol(v);
  if (secs < 1 || secs > 15 * 60)
    return ::testing::AssertionFailure() << "Retry-After " << secs << " is outside 1..900";
  return ::testing::AssertionSuccess();
}

TEST_F(HubAuth, RepeatedWrongPasswordsAreThrottledEvenForTheRightPassword) {
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("failure " + std::to_string(i + 1));
    EXPECT_TRUE(
        IsGraphError(signin(email(), "Wrong-" + std::to_string(i)), 401, "unauthenticated"));
  }
  auto sixth = signin(email(), "Wrong-6");
  EXPECT_TRUE(IsThrottled(sixth)) << "the attempt after 5 failures";
  auto right = signin(email(), password());
  EXPECT_TRUE(IsThrottled(right)) << "the right password while throttled";
  EXPECT_TRUE(session_cookie(right).value.empty()) << "a throttled attempt set a cookie";
}

TEST_F(HubAuth, RepeatedFailuresFromOneAddressAreThrottledAcrossEmails) {
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("failure " + std::to_string(i + 1));
    EXPECT_TRUE(IsGraphError(signin("guess" + std::to_string(i) + "@reach.test", "Wrong-Guess"),
                             401, "unauthenticated"));
  }
  auto right = signin(email(), password());
  EXPECT_TRUE(IsThrottled(right)) << "the sixth attempt from the same address";
  EXPECT_TRUE(session_cookie(right).value.empty());
}

TEST_F(HubAuth, SignOutEndsOnlyThatSession) {
  auto a = signin(email(), password());
  auto b = signin(email(), password());
  ASSERT_EQ(a.status, 200) << a;
  ASSERT_EQ(b.status, 200) << b;
  std::string ca = session_cookie(a).value, cb = session_cookie(b).value;
  ASSERT_FALSE(ca.empty());
  ASSERT_FALSE(cb.empty());
  ASSERT_EQ(me(ca).status, 200);

  auto out = hub_->request("POST", "/api/auth/signout", {}, with_cookie(ca));
  EXPECT_EQ(out.status, 204) << out;
  Cookie cleared = session_cookie(out);
  EXPECT_TRUE(cleared.value.empty())
      << "signout should clear the cookie, got value '" << cleared.value << "'";
  bool expires = has_attribute(cleared, "Max-Age=0") ||
                 lower(cleared.attributes).find("expires=") != std::string::npos;
  EXPECT_TRUE(expires) << "the clearing cookie should expire at once: " << cleared.attributes;

  EXPECT_TRUE(IsGraphError(me(ca), 401, "unauthenticated")) << "the signed-out cookie still works";
  EXPECT_EQ(me(cb).status, 200) << "signing out one session ended another";
}

TEST_F(HubAuth, CrossSiteStateChangesWithTheCookieAre403) {
  auto s = signin(email(), password());
  ASSERT_EQ(s.status, 200) << s;
  std::string cookie = session_cookie(s).value;
  ASSERT_FALSE(cookie.empty());
  auto groups = [&] { return collect_pages(*hub_, "/v1.0/groups", admin_).size(); };
  std::size_t before = groups();
  std::string body = bj::serialize(bj::object{{"displayName", "Planted by evil.example"}});

  net::Headers evil = with_cookie(cookie);
  evil.set("Content-Type", "application/json");
  evil.set("Origin", "http://evil.example");
  EXPECT_TRUE(IsGraphError(hub_->request("POST", "/v1.0/groups", body, evil), 403, "accessDenied"))
      << "Origin: http://evil.example";

  net::Headers fetch = with_cookie(cookie);
  fetch.set("Content-Type", "application/json");
  fetch.set("Sec-Fetch-Site", "cross-site");
  EXPECT_TRUE(IsGraphError(hub_->request("POST", "/v1.0/groups", body, fetch), 403, "accessDenied"))
      << "Sec-Fetch-Site: cross-site";

  evil.set("Origin", "http://evil.example");
  EXPECT_TRUE(IsGraphError(
      hub_->request("PATCH", "/api/organization",
                    bj::serialize(bj::object{{"allowUnlicensedAdministrators", true}}), evil),
      403, "accessDenied"))
      << "PATCH /api/organization cross-site";
  EXPECT_TRUE(
      IsGraphError(hub_->request("POST", "/api/auth/signout", {}, evil), 403, "accessDenied"))
      << "cross-site signout";
  EXPECT_EQ(groups(), before) << "a cross-site request created a group";
  auto org = hub_->get("/api/organization", admin_);
  ASSERT_EQ(org.status, 200) << org;
  const auto* flag = org.obj().if_contains("allowUnlicensedAdministrators");
  EXPECT_TRUE(flag && flag->is_bool() && !flag->as_bool()) << "a cross-site PATCH changed " << org;
  EXPECT_EQ(me(cookie).status, 200) << "a cross-site signout ended the session";

  // The same request from the hub's own origin is accepted.
  net::Headers same = with_cookie(cookie);
  same.set("Content-Type", "application/json");
  same.set("Origin", hub_->base_url());
  same.set("Sec-Fetch-Site", "same-origin");
  auto ok = hub_->request("POST", "/v1.0/groups", body, same);
  EXPECT_EQ(ok.status, 201) << "same-origin POST with the cookie: " << ok;
  EXPECT_EQ(groups(), before + 1);
}

// Every regular file of the data directory (hub.db, hub.db-wal, the key, serve.stderr.log).
std::map<std::string, std::string> data_files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) out[e.path().filename().string()] = read_file_bytes(e.path().string());
  return out;
}

TEST_F(HubAuth, PasswordsAndTokensAppearNowhereInTheDatabaseWalOrLog) {
  std::map<std::string, std::string> secrets;  // what -> plaintext
  secrets["admin password"] = password();
  secrets["admin API token"] = admin_;
  const std::string wrong = "Wr0ng-Zebra-Passphrase-4411";
  EXPECT_TRUE(IsGraphError(signin(email(), wrong), 401, "unauthenticated"));
  secrets["a wrong password"] = wrong;

  auto s = signin(email(), password());
  ASSERT_EQ(s.status, 200) << s;
  secrets["session cookie"] = session_cookie(s).value;
  ASSERT_FALSE(secrets["session cookie"].empty());
  ASSERT_EQ(me(secrets["session cookie"]).status, 200);

  const std::string created = "Created-User-Secret-8822";
  const std::string changed = "Changed-User-Secret-9933";
  auto u = hub_->post("/v1.0/users",
                      bj::object{{"displayName", "Sam"},
                                 {"userPrincipalName", "sam@reach.test"},
                                 {"passwordProfile", bj::object{{"password", created}}}},
                      admin_);
  ASSERT_EQ(u.status, 201) << u;
  secrets["created user's password"] = created;
  auto p = hub_->patch("/v1.0/users/" + u.str("id"),
                       bj::object{{"passwordProfile", bj::object{{"password", changed}}}}, admin_);
  EXPECT_TRUE(p.status == 200 || p.status == 204) << p;
  secrets["changed password"] = changed;
  EXPECT_EQ(signin("sam@reach.test", changed).status, 200);
  secrets["sam's API token"] = hub_->create_token("sam@reach.test");
  EXPECT_EQ(hub_->get("/v1.0/me", secrets["sam's API token"]).status, 200);

  std::string et = hub_->create_enrollment_token({"--userless", "--ownership", "company"});
  ASSERT_FALSE(et.empty());
  secrets["enrollment token (CLI)"] = et;
  DeviceSpec d;
  d.name = "SECRET-KEEPER";
  d.os = "Linux";
  auto e = enroll(*hub_, et, d);
  ASSERT_EQ(e.status, 201) << e;
  secrets["device credential"] = e.str("deviceCredential");
  net::Headers dh;
  dh.set("Authorization", "Bearer " + e.str("deviceCredential"));
  EXPECT_EQ(hub_->request("POST", "/api/agent/checkin", {}, dh).status, 200);
  auto api_et = hub_->post("/api/enrollmentTokens",
                           bj::object{{"userless", true}, {"ownership", "company"}}, admin_);
  EXPECT_EQ(api_et.status, 201) << api_et;
  if (!api_et.str("token").empty()) secrets["enrollment token (API)"] = api_et.str("token");

  auto check = [&](const std::string& when) {
    auto files = data_files(hub_->data_dir());
    // The store: the SQLite files are among the data directory's; PostgreSQL's rows are dumped.
    if (!testpg::selected()) {
      ASSERT_TRUE(files.count("hub.db")) << "no hub.db in " << hub_->data_dir();
    }
    auto dump = hub_->dump_database();
    ASSERT_EQ(dump.exit_code, 0) << dump.err;
    ASSERT_NE(dump.out.find("audit_events"), std::string::npos);
    files["the database dump"] = dump.out;
    ASSERT_TRUE(files.count("serve.stderr.log"));
    EXPECT_FALSE(files["serve.stderr.log"].empty()) << "the server logged nothing at debug level";
    for (const auto& [file, bytes] : files)
      for (const auto& [what, secret] : secrets)
        EXPECT_EQ(bytes.find(secret), std::string::npos)
            << when << ": the " << what << " is in plaintext in " << file;
  };
  check("while running");
  ASSERT_TRUE(hub_->stop());
  check("after a clean stop");
}

// The security review's findings on sign-in: a cross-site form may not sign a browser in (login
// CSRF), and a flood of throttled attempts writes one audit record per key and wait, not one
// each (an unauthenticated flood grew the audit log).
TEST_F(HubAuth, ACrossSiteSignInIsRefusedAndAThrottledFloodIsAuditedOnce) {
  net::Headers evil;
  evil.set("Origin", "http://evil.example");
  auto cross = signin(email(), password(), evil);
  EXPECT_TRUE(IsGraphError(cross, 403, "accessDenied")) << cross;
  EXPECT_TRUE(session_cookie(cross).value.empty()) << "a cross-site sign-in set a cookie";
  net::Headers form;
  form.set("Origin", "http://evil.example");
  form.set("Content-Type", "application/x-www-form-urlencoded");
  auto posted = hub_->request("POST", "/api/auth/signin",
                              "email=" + q(email()) + "&password=" + q(password()), form);
  EXPECT_EQ(posted.status, 403) << posted;
  net::Headers same;
  same.set("Origin", hub_->base_url());
  EXPECT_EQ(signin(email(), password(), same).status, 200) << "a same-origin sign-in works";

  auto throttled_records = [&] {
    auto a = hub_->get("/api/audit?$top=1000", admin_);
    EXPECT_EQ(a.status, 200) << a;
    int n = 0;
    for (const auto& v : a.value())
      if (a.body.find("throttled") != std::string::npos &&
          bj::serialize(v).find("\"throttled\"") != std::string::npos)
        ++n;
    return n;
  };
  for (int i = 0; i < 5; ++i) (void)signin("flood@reach.test", "Wrong-" + std::to_string(i));
  int refused = 0;
  for (int i = 0; i < 40; ++i)
    refused += IsThrottled(signin("flood@reach.test", "Wrong-x")) ? 1 : 0;
  EXPECT_EQ(refused, 40);
  int records = throttled_records();
  EXPECT_GE(records, 1) << "throttling is not audited";
  EXPECT_LE(records, 2) << "each throttled attempt wrote an audit record";
}

TEST_F(HubAuth, MetricsNeedAToken) {
  EXPECT_TRUE(IsGraphError(hub_->get("/api/metrics"), 401, "unauthenticated"));
  auto user = create_user(*hub_, admin_, "nobody@reach.test", "No Role", "Nobody-Passw0rd-1");
  ASSERT_EQ(user.status, 201) << user;
  EXPECT_EQ(hub_->get("/api/metrics", hub_->create_token("nobody@reach.test")).status, 403);
}

TEST_F(HubAuth, HealthAnswersWithoutCredentialsAndMetricsWithAToken) {
  auto h = hub_->get("/api/health");
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.str("status"), "ok");
  EXPECT_EQ(h.str("database"), "ok");
  EXPECT_FALSE(h.str("version").empty()) << h;
  EXPECT_TRUE(h.headers.get("request-id").has_value()) << "every response carries request-id";

  auto samples = [&]() {
    auto m = hub_->get("/api/metrics", admin_);
    EXPECT_EQ(m.status, 200) << m;
    auto ct = m.headers.get("Content-Type");
    EXPECT_TRUE(ct && ct->starts_with("text/plain")) << "Content-Type: " << ct.value_or("(none)");
    static const std::regex kType(
        R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
    static const std::regex kSample(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-+]?[0-9.]+([eE][-+]?[0-9]+)?|NaN|[-+]Inf)( -?[0-9]+)?$)");
    std::map<std::string, double> out;
    std::set<std::string> typed;
    std::istringstream in(m.body);
    std::string line;
    int types = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::smatch sm;
      if (line.starts_with("# TYPE")) {
        EXPECT_TRUE(std::regex_match(line, sm, kType)) << "bad TYPE line: " << line;
        if (!sm.empty()) typed.insert(sm[1].str());
        ++types;
        continue;
      }
      if (line.starts_with("#")) continue;
      if (!std::regex_match(line, sm, kSample)) {
        ADD_FAILURE() << "not a Prometheus sample line: " << line;
        continue;
      }
      std::string family = sm[1].str();
      for (const char* suffix : {"_bucket", "_sum", "_count", "_total", "_created"})
        if (!typed.count(family) && family.ends_with(suffix))
          family = family.substr(0, family.size() - std::strlen(suffix));
      EXPECT_TRUE(typed.count(family) || typed.count(sm[1].str()))
          << "sample without a # TYPE line before it: " << line;
      out[sm[1].str() + sm[2].str()] = std::strtod(sm[3].str().c_str(), nullptr);
    }
    EXPECT_GT(types, 0) << "no # TYPE lines in: " << m.body.substr(0, 500);
    return out;
  };
  auto before = samples();
  ASSERT_FALSE(before.empty());
  constexpr int kRequests = 25;
  for (int i = 0; i < kRequests; ++i) ASSERT_EQ(hub_->get("/api/health").status, 200);
  auto after = samples();
  bool moved = false;
  for (const auto& [k, v] : after)
    if (before.count(k) && v - before[k] >= kRequests) moved = true;
  EXPECT_TRUE(moved) << "no metric grew by the " << kRequests << " requests just made";
}

TEST_F(HubAuth, AuditLogShowsSignInsNewestFirst) {
  auto me_r = hub_->get("/v1.0/me", admin_);
  ASSERT_EQ(me_r.status, 200) << me_r;
  std::string admin_id = me_r.str("id");
  ASSERT_EQ(signin(email(), password()).status, 200);
  EXPECT_TRUE(IsGraphError(signin(email(), "Bad-Password-For-Audit"), 401, "unauthenticated"));

  EXPECT_TRUE(IsGraphError(hub_->get("/api/audit"), 401, "unauthenticated"));
  auto a = hub_->get("/api/audit?$top=100", admin_);
  ASSERT_EQ(a.status, 200) << a;
  EXPECT_EQ(a.body.find("Bad-Password-For-Audit"), std::string::npos) << "a password was audited";
  EXPECT_EQ(a.body.find(password()), std::string::npos) << "a password was audited";
  bool ok_seen = false, failed_seen = false;
  std::string previous_time;
  for (const auto& v : a.value()) {
    ASSERT_TRUE(v.is_object());
    const auto& o = v.as_object();
    for (const char* k : {"id", "activityDateTime", "activity", "result", "actor", "target"})
      EXPECT_TRUE(o.contains(k)) << "audit record without '" << k << "': " << bj::serialize(o);
    std::string t = str_of(o, "activityDateTime");
    if (!previous_time.empty()) EXPECT_LE(t, previous_time) << "audit is not newest first";
    previous_time = t;
    if (lower(str_of(o, "activity")).find("signin") == std::string::npos) continue;
    const auto* actor = o.if_contains("actor");
    const auto* target = o.if_contains("target");
    std::string blob = lower(bj::serialize(o));
    bool about_admin = blob.find(lower(email())) != std::string::npos ||
                       blob.find(lower(admin_id)) != std::string::npos;
    EXPECT_TRUE(about_admin) << "sign-in record names neither the user nor the email: " << blob;
    if (actor && actor->is_object())
      EXPECT_EQ(str_of(actor->as_object(), "ipAddress"), "127.0.0.1") << bj::serialize(o);
    (void)target;
    if (str_of(o, "result") == "success") ok_seen = true;
    if (str_of(o, "result") == "failure") failed_seen = true;
  }
  EXPECT_TRUE(ok_seen) << "no successful sign-in in the audit log: " << a.body.substr(0, 2000);
  EXPECT_TRUE(failed_seen) << "no failed sign-in in the audit log: " << a.body.substr(0, 2000);

  // Paging the audit log with the link as given.
  auto p1 = hub_->get("/api/audit?$top=1", admin_);
  ASSERT_EQ(p1.status, 200) << p1;
  ASSERT_EQ(p1.value().size(), 1u) << p1;
  std::string next = p1.str("@odata.nextLink");
  ASSERT_FALSE(next.empty()) << "a full audit page needs @odata.nextLink: " << p1;
  auto p2 = hub_->get(next, admin_);
  ASSERT_EQ(p2.status, 200) << "GET " << next << ": " << p2;
  ASSERT_EQ(p2.value().size(), 1u) << p2;
  EXPECT_NE(str_of(p1.value()[0].as_object(), "id"), str_of(p2.value()[0].as_object(), "id"));
  EXPECT_LE(str_of(p2.value()[0].as_object(), "activityDateTime"),
            str_of(p1.value()[0].as_object(), "activityDateTime"));
}

TEST_F(HubAuth, StopsCleanlyOnSigtermAndRestartsWithItsData) {
  ASSERT_EQ(signin(email(), password()).status, 200);
  auto port = hub_->port();
  ASSERT_TRUE(hub_->stop());
  EXPECT_FALSE(raw_exchange(port, "", std::chrono::milliseconds(100)).connected)
      << "the port still accepts connections after the hub stopped";
  ASSERT_TRUE(hub_->start());
  auto m = hub_->get("/v1.0/me", admin_);
  EXPECT_EQ(m.status, 200) << "the API token must survive a restart: " << m;
  EXPECT_EQ(signin(email(), password()).status, 200);
}

// --- the command line ---

::testing::AssertionResult OneLineOnStderr(const CommandResult& r) {
  std::string e = r.err;
  while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
  if (e.empty()) return ::testing::AssertionFailure() << "nothing on stderr";
  if (e.find('\n') != std::string::npos)
    return ::testing::AssertionFailure() << "more than one line on stderr:\n" << r.err;
  return ::testing::AssertionSuccess();
}

// Behind a load balancer every request comes from the balancer: the client's address is the one
// the balancer appends to X-Forwarded-For, and only a balancer named by --trusted-proxy is
// believed. Anyone else's X-Forwarded-For is ignored, so a guesser cannot rotate it to escape.
TEST_F(HubAuth, OnlyATrustedBalancersForwardedAddressNamesTheClient) {
  auto from = [](const std::string& chain) {
    net::Headers h;
    h.set("X-Forwarded-For", chain);
    return h;
  };
  // Not trusted: five failures under five made-up addresses are one client's.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(signin("user" + std::to_string(i) + "@reach.test", "Wrong-Passw0rd",
                     from("203.0.113." + std::to_string(i)))
                  .status,
              401);
  EXPECT_TRUE(IsGraphError(signin("other@reach.test", "Wrong-Passw0rd", from("198.51.100.1")), 429,
                           "tooManyRequests"));

  // The loopback balancer trusted: the last forwarded address is the client.
  ASSERT_TRUE(hub_->stop());
  ASSERT_TRUE(hub_->start({"--trusted-proxy", "127.0.0.1"}));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(signin("guess" + std::to_string(i) + "@reach.test", "Wrong-Passw0rd",
                     from("10.9.9.9, 203.0.113.50"))
                  .status,
              401);
  EXPECT_TRUE(IsGraphError(signin("guess9@reach.test", "Wrong-Passw0rd", from("203.0.113.50")), 429,
                           "tooManyRequests"));
  // Another client behind the same balancer is not held up, whatever it puts first.
  EXPECT_EQ(
      signin("guess9@reach.test", "Wrong-Passw0rd", from("203.0.113.50, 203.0.113.51")).status,
      401);
  EXPECT_EQ(signin(email(), password(), from("203.0.113.52")).status, 200);
  // The audit log names the client, not the balancer.
  auto audit = hub_->get("/api/audit?$top=50", admin_);
  ASSERT_EQ(audit.status, 200) << audit;
  EXPECT_NE(audit.body.find("203.0.113.52"), std::string::npos) << audit;
}

// Issue 20, finding 2: nine wrong passwords for the administrator from addresses of an
// attacker's choosing locked the administrator out everywhere. Failures against an account now
// only slow its sign-ins; the hard throttle is the client's own, and the client's own success
// does not reset it.
TEST_F(HubAuth, FailuresAgainstAnAccountFromElsewhereNeverRefuseItsOwner) {
  ASSERT_TRUE(hub_->stop());
  ASSERT_TRUE(hub_->start({"--trusted-proxy", "127.0.0.1"}));
  auto from = [](const std::string& address) {
    net::Headers h;
    h.set("X-Forwarded-For", address);
    return h;
  };
  for (int i = 0; i < 9; ++i)
    EXPECT_TRUE(IsGraphError(
        signin(email(), "Wrong-" + std::to_string(i), from("203.0.113." + std::to_string(i))), 401,
        "unauthenticated"))
        << "attempt " << i + 1 << " on the account, from its own address, is not refused";
  auto owner = signin(email(), password(), from("198.51.100.7"));
  EXPECT_EQ(owner.status, 200) << "the owner's right password from elsewhere: " << owner;
  EXPECT_FALSE(session_cookie(owner).value.empty());

  // One client: its failures block it, whichever accounts they were for, and signing in to an
  // account of its own in between buys it nothing.
  std::string mine = "mallory@reach.test";
  ASSERT_EQ(hub_->post("/v1.0/users",
                       bj::object{{"displayName", "Mallory"},
                                  {"userPrincipalName", mine},
                                  {"accountEnabled", true},
                                  {"passwordProfile", bj::object{{"password", "Mallory-Pw-123"}}}},
                       admin_)
                .status,
            201);
  const std::string other = "someone@reach.test";  // an account nobody has failed at yet
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(signin(other, "Guess-" + std::to_string(i), from("192.0.2.9")).status, 401);
  EXPECT_EQ(signin(mine, "Mallory-Pw-123", from("192.0.2.9")).status, 200);
  EXPECT_EQ(signin(other, "Guess-5", from("192.0.2.9")).status, 401);
  EXPECT_TRUE(IsThrottled(signin(other, "Guess-6", from("192.0.2.9"))))
      << "the client's sixth failure-bound attempt";
  EXPECT_TRUE(IsThrottled(signin(mine, "Mallory-Pw-123", from("192.0.2.9"))));
  EXPECT_EQ(signin(email(), password(), from("198.51.100.8")).status, 200);
}

TEST(HubCommandLine, HelpAndBadArguments) {
  auto hub = program_path("reach-hub");
  auto help = run_command({hub, "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("serve"), std::string::npos) << "--help should list the commands";
  for (const char* sub : {"init", "serve"}) {
    auto h = run_command({hub, sub, "--help"});
    EXPECT_EQ(h.exit_code, 0) << sub << " --help: " << h.err;
    EXPECT_NE(h.out.find("--data"), std::string::npos) << sub << " --help: " << h.out;
  }
  auto tc = run_command({hub, "token", "create", "--help"});
  EXPECT_EQ(tc.exit_code, 0) << tc.err;
  auto ec = run_command({hub, "enrollment-token", "create", "--help"});
  EXPECT_EQ(ec.exit_code, 0) << ec.err;

  HubProcess initialised;
  ASSERT_TRUE(initialised.init());
  const std::string dir = initialised.data_dir();
  const std::vector<std::vector<std::string>> bad = {
      {hub, "serve", "--bogus"},
      {hub, "frobnicate"},
      {hub},
      {hub, "serve", "--data", dir, "--listen", "not-an-address"},
      {hub, "serve", "--data", dir, "--listen", "127.0.0.1:99999"},
      {hub, "serve", "--data", dir, "--request-timeout-ms", "soon"},
      {hub, "serve", "--data", dir, "--db",
       "postgresql://reach@127.0.0.1:1/none?connect_timeout=2"},
      {hub, "serve", "--data", dir, "--db", "mysql://somewhere/else"},
      {hub, "init", "--data", dir},
      {hub, "token", "create", "--data", dir},
      {hub, "token", "create", "--data", dir, "--email", "nobody@reach.test"},
      {hub, "enrollment-token", "create", "--data", dir, "--ownership", "stolen", "--userless"},
      {hub, "enrollment-token", "create", "--data", dir, "--user", "admin@reach.test",
       "--userless"},
      {hub, "enrollment-token", "create", "--data", dir, "--user", "nobody@reach.test"},
  };
  for (const auto& args : bad) {
    std::string shown;
    for (std::size_t i = 1; i < args.size(); ++i) shown += " " + args[i];
    SCOPED_TRACE("reach-hub" + shown);
    auto r = run_command(args, {}, std::chrono::seconds(30));
    EXPECT_FALSE(r.timed_out) << "it should have refused the arguments, not run";
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_TRUE(OneLineOnStderr(r));
  }
}

}  // namespace
}  // namespace reach::itest
