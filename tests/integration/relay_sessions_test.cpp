// The relay's sessions API (TeamViewer-shaped, SPEC §4.2, §6; api-contracts §3.5, §6.2) on the
// real program: create, list with filters and paging, get, update and close, ownership, bad
// input that changes nothing, and codes and links that are dead once a session closed or expired.
#include "integration/relay_process.h"
#include "pg/test_postgres.h"

#include <algorithm>
#include <ctime>
#include <regex>
#include <set>

namespace reach::itest {
namespace {

const std::regex kCode(R"(^s\d{2}-\d{3}-\d{3}$)");
const std::regex kGroup(R"(^g\d{8}$)");
const std::regex kIso(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$)");

std::string canonical(std::string code) {
  std::erase(code, '-');
  return code;
}

std::string iso_in(std::chrono::seconds from_now) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::string> codes_of(const ApiResult& r) {
  std::vector<std::string> out;
  if (!r.is_object()) return out;
  const auto* s = r.obj().if_contains("sessions");
  if (!s || !s->is_array()) return out;
  for (const auto& e : s->as_array())
    if (e.is_object()) out.push_back(str_of(e.as_object(), "code"));
  return out;
}

class RelaySessionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    relay_ = new RelayProcess();
    ASSERT_TRUE(relay_->init_and_start({"--sessions-page-size", "2"}));
    token_ = relay_->admin_token();
    relay_->add_account("other@relay.test", "Other-Account-Passw0rd-1");
    other_token_ = relay_->create_token("other@relay.test");
  }
  static void TearDownTestSuite() {
    delete relay_;
    relay_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(relay_, nullptr);
    ASSERT_FALSE(token_.empty());
  }

  static ApiResult create(const bj::object& body, const std::string& token = token_) {
    return relay_->post_json("/api/v1/sessions", body, token);
  }
  // Creates a session in group `group` and returns its code ("" and a failure on error).
  static std::string create_in(const std::string& group, const std::string& description = "") {
    auto r = create(bj::object{{"groupname", group}, {"description", description}});
    EXPECT_EQ(r.status, 200) << r;
    return r.str("code");
  }
  // Every session of the account (open and closed), counted from the first page.
  static std::int64_t total_sessions(const std::string& token = token_) {
    auto r = relay_->get("/api/v1/sessions?state=open,closed", token);
    EXPECT_EQ(r.status, 200) << r;
    std::int64_t n = static_cast<std::int64_t>(codes_of(r).size());
    if (const auto* rem = r.obj().if_contains("sessions_remaining")) n += rem->as_int64();
    return n;
  }
  // Follows next_offset from `first`; fails the test on a bad page.
  static std::vector<std::string> all_pages(const std::string& first) {
    std::vector<std::string> out;
    std::string url = first;
    for (int page = 0; page < 100; ++page) {
      auto r = relay_->get(url, token_);
      EXPECT_EQ(r.status, 200) << url << ": " << r;
      if (r.status != 200) return out;
      auto codes = codes_of(r);
      EXPECT_LE(codes.size(), 2u) << "page larger than --sessions-page-size: " << r;
      out.insert(out.end(), codes.begin(), codes.end());
      const auto* next = r.obj().if_contains("next_offset");
      const auto* rem = r.obj().if_contains("sessions_remaining");
      if (!next) {
        EXPECT_EQ(rem, nullptr) << "sessions_remaining without next_offset: " << r;
        return out;
      }
      EXPECT_TRUE(rem && rem->is_int64() && rem->as_int64() > 0) << r;
      EXPECT_EQ(next->as_string(), codes.back()) << "next_offset is not the page's last code";
      url = first + "&offset=" + q(std::string(next->as_string()));
    }
    ADD_FAILURE() << "more than 100 pages";
    return out;
  }

  static inline RelayProcess* relay_ = nullptr;
  static inline std::string token_, other_token_;
};

TEST_F(RelaySessionsTest, CreateAnswersTheTeamViewerShapeWithLocation) {
  auto r =
      create(bj::object{{"groupname", "Printers"},
                        {"description", "Printer does not work"},
                        {"end_customer", {{"name", "John Doe"}, {"email", "john@example.com"}}}});
  ASSERT_EQ(r.status, 200) << r;
  std::string code = r.str("code");
  EXPECT_TRUE(std::regex_match(code, kCode)) << code;
  EXPECT_EQ(r.headers.get("Location").value_or(""),
            relay_->base_url() + "/api/v1/sessions/" + code);
  EXPECT_EQ(r.str("state"), "open");
  EXPECT_TRUE(std::regex_match(r.str("groupid"), kGroup)) << r;
  EXPECT_EQ(r.str("groupname"), "Printers");
  EXPECT_EQ(r.str("description"), "Printer does not work");
  EXPECT_EQ(bj::serialize(r.obj().at("end_customer")),
            R"({"name":"John Doe","email":"john@example.com"})");
  std::string c = canonical(code);
  EXPECT_TRUE(r.str("supporter_link").starts_with(relay_->base_url() + "/support/" + c + "-")) << r;
  EXPECT_TRUE(r.str("end_customer_link").starts_with(relay_->base_url() + "/join/" + c + "-")) << r;
  EXPECT_NE(last_segment(r.str("supporter_link")), last_segment(r.str("end_customer_link")));
  // Link tokens: 32 base64url characters (192 bits).
  EXPECT_EQ(last_segment(r.str("supporter_link")).size(), c.size() + 1 + 32) << r;
  EXPECT_TRUE(std::regex_match(r.str("valid_until"), kIso)) << r;
  EXPECT_TRUE(std::regex_match(r.str("created_at"), kIso)) << r;
  EXPECT_GT(r.str("valid_until"), r.str("created_at"));

  // The same group is reused by name.
  auto again = create(bj::object{{"groupname", "Printers"}});
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.str("groupid"), r.str("groupid"));
  EXPECT_NE(again.str("code"), code);
}

TEST_F(RelaySessionsTest, GetOneUpdateAndClose) {
  std::string code = create_in("Update-Group", "first");
  ASSERT_FALSE(code.empty());
  auto g = relay_->get("/api/v1/sessions/" + code, token_);
  ASSERT_EQ(g.status, 200) << g;
  EXPECT_EQ(g.str("code"), code);
  EXPECT_EQ(g.str("state"), "open");
  EXPECT_EQ(g.obj().at("online"), bj::value(false)) << g;
  EXPECT_TRUE(g.obj().at("closed_at").is_null()) << g;
  EXPECT_EQ(bj::serialize(g.obj().at("connected")), R"({"device":false,"supporter":false})");
  // The code without dashes names the same session.
  auto g2 = relay_->get("/api/v1/sessions/" + canonical(code), token_);
  ASSERT_EQ(g2.status, 200) << g2;
  EXPECT_EQ(g2.str("code"), code);

  auto put = relay_->put_json("/api/v1/sessions/" + canonical(code),
                              bj::object{{"description", "second"}}, token_);
  EXPECT_EQ(put.status, 204) << put;
  EXPECT_TRUE(put.body.empty()) << put;
  EXPECT_EQ(relay_->get("/api/v1/sessions/" + code, token_).str("description"), "second");

  put = relay_->put_json("/api/v1/sessions/" + code, bj::object{{"state", "closed"}}, token_);
  EXPECT_EQ(put.status, 204) << put;
  g = relay_->get("/api/v1/sessions/" + code, token_);
  EXPECT_EQ(g.str("state"), "closed") << g;
  EXPECT_TRUE(std::regex_match(g.str("closed_at"), kIso)) << g;
  EXPECT_EQ(g.str("description"), "second");
  // Session codes work once: a closed session cannot be reopened.
  put = relay_->put_json("/api/v1/sessions/" + code, bj::object{{"state", "open"}}, token_);
  EXPECT_EQ(put.status, 409) << put;
  EXPECT_EQ(relay_->get("/api/v1/sessions/" + code, token_).str("state"), "closed");

  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/sessions/s00-000-000", token_), 404, "not_found"));
}

TEST_F(RelaySessionsTest, ListIsNewestFirstWithStateAndGroupFilters) {
  std::vector<std::string> created;
  for (int i = 0; i < 3; ++i) {
    created.push_back(create_in("List-Group", "s" + std::to_string(i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // distinct created_at
  }
  std::string other = create_in("List-Other");
  auto one = relay_->get("/api/v1/sessions/" + created[0], token_);
  std::string gid = one.str("groupid");
  ASSERT_FALSE(gid.empty()) << one;
  ASSERT_EQ(
      relay_->put_json("/api/v1/sessions/" + created[1], bj::object{{"state", "closed"}}, token_)
          .status,
      204);

  std::string base = "/api/v1/sessions?groupid=" + q(gid);
  // Default state: open.
  EXPECT_EQ(all_pages(base), (std::vector<std::string>{created[2], created[0]}));
  EXPECT_EQ(all_pages(base + "&state=open"), (std::vector<std::string>{created[2], created[0]}));
  EXPECT_EQ(all_pages(base + "&state=closed"), (std::vector<std::string>{created[1]}));
  EXPECT_EQ(all_pages(base + "&state=open,closed"),
            (std::vector<std::string>{created[2], created[1], created[0]}));
  EXPECT_EQ(all_pages(base + "&state=Closed,Open"),
            (std::vector<std::string>{created[2], created[1], created[0]}));
  auto everything = all_pages("/api/v1/sessions?state=open,closed");
  EXPECT_NE(std::find(everything.begin(), everything.end(), other), everything.end());
  auto filtered = all_pages(base + "&state=open,closed");
  EXPECT_EQ(std::find(filtered.begin(), filtered.end(), other), filtered.end());
  EXPECT_TRUE(
      IsApiError(relay_->get("/api/v1/sessions?state=pending", token_), 400, "invalid_request"));
}

TEST_F(RelaySessionsTest, PagingVisitsEverySessionOnce) {
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    created.push_back(create_in("Paging-Group"));
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  std::string gid = relay_->get("/api/v1/sessions/" + created[0], token_).str("groupid");
  std::string first = "/api/v1/sessions?state=open,closed&groupid=" + q(gid);
  auto r = relay_->get(first, token_);
  ASSERT_EQ(r.status, 200) << r;
  EXPECT_EQ(codes_of(r).size(), 2u) << r;
  EXPECT_EQ(r.obj().at("sessions_remaining").as_int64(), 3) << r;
  auto seen = all_pages(first);
  std::vector<std::string> expected(created.rbegin(), created.rend());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size())
      << "a session was listed twice";

  // Every session of the account, across groups and tests, each once.
  auto all = all_pages("/api/v1/sessions?state=open,closed");
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(static_cast<std::int64_t>(all.size()), total_sessions());
}

TEST_F(RelaySessionsTest, AnotherAccountCannotSeeOrChangeTheSession) {
  std::string code = create_in("Mine", "private");
  ASSERT_FALSE(code.empty());
  ASSERT_FALSE(other_token_.empty());
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/sessions/" + code, other_token_), 404, "not_found"));
  EXPECT_TRUE(IsApiError(
      relay_->put_json("/api/v1/sessions/" + code, bj::object{{"state", "closed"}}, other_token_),
      404, "not_found"));
  auto theirs = relay_->get("/api/v1/sessions?state=open,closed", other_token_);
  ASSERT_EQ(theirs.status, 200) << theirs;
  auto codes = codes_of(theirs);
  EXPECT_EQ(std::find(codes.begin(), codes.end(), code), codes.end());
  EXPECT_EQ(relay_->get("/api/v1/sessions/" + code, token_).str("state"), "open");
  // No token, or a made-up one.
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/sessions/" + code), 401, "invalid_token"));
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/sessions", "made-up"), 401, "invalid_token"));
}

TEST_F(RelaySessionsTest, BadInputGets400AndCreatesNothing) {
  auto before = total_sessions();
  struct Case {
    const char* name;
    std::string body;
  };
  std::vector<Case> cases = {
      {"malformed JSON", R"({"groupname": "G",)"},
      {"not an object", R"(["groupname"])"},
      {"unknown field", R"({"groupname":"G","colour":"red"})"},
      {"groupname a number", R"({"groupname":5})"},
      {"description an array", R"({"groupname":"G","description":[]})"},
      {"end_customer a string", R"({"groupname":"G","end_customer":"John"})"},
      {"end_customer unknown field", R"({"groupname":"G","end_customer":{"phone":"1"}})"},
      {"no group", R"({"description":"x"})"},
      {"custom_api too long",
       bj::serialize(bj::object{{"groupname", "G"}, {"custom_api", std::string(4001, 'x')}})},
      {"valid_until in the past", R"({"groupname":"G","valid_until":"2001-01-01T00:00:00Z"})"},
      {"valid_until not a date", R"({"groupname":"G","valid_until":"tomorrow"})"},
      {"end_customer.name too long",
       bj::serialize(
           bj::object{{"groupname", "G"}, {"end_customer", {{"name", std::string(101, 'n')}}}})},
  };
  for (const auto& c : cases) {
    auto r = relay_->send_raw("POST", "/api/v1/sessions", c.body, token_, "application/json");
    EXPECT_TRUE(IsApiError(r, 400, "invalid_request")) << c.name;
  }
  EXPECT_EQ(total_sessions(), before) << "a refused request created a session";

  // custom_api of exactly 4000 characters is fine.
  auto ok = create(bj::object{{"groupname", "G"}, {"custom_api", std::string(4000, 'x')}});
  EXPECT_EQ(ok.status, 200) << ok;
  EXPECT_EQ(total_sessions(), before + 1);

  // A refused update changes nothing either.
  std::string code = ok.str("code");
  auto put = relay_->send_raw(
      "PUT", "/api/v1/sessions/" + code,
      bj::serialize(bj::object{{"description", "changed"}, {"custom_api", std::string(4001, 'y')}}),
      token_, "application/json");
  EXPECT_TRUE(IsApiError(put, 400, "invalid_request")) << put;
  put = relay_->send_raw("PUT", "/api/v1/sessions/" + code,
                         R"({"description":"changed","state":"gone"})", token_, "application/json");
  EXPECT_TRUE(IsApiError(put, 400, "invalid_request")) << put;
  put = relay_->send_raw("PUT", "/api/v1/sessions/" + code, R"({"description":5})", token_,
                         "application/json");
  EXPECT_TRUE(IsApiError(put, 400, "invalid_request")) << put;
  auto g = relay_->get("/api/v1/sessions/" + code, token_);
  EXPECT_EQ(g.str("description"), "") << g;
  EXPECT_EQ(g.str("custom_api"), std::string(4000, 'x'));
  EXPECT_EQ(g.str("state"), "open");
}

// What websocket_connect gets for `path` (the error when refused; status 101 when it opened).
struct Join {
  int status = 0;
  std::string message;
};
Join try_join(const RelayProcess& relay, net::EventLoop& loop, const std::string& path) {
  auto peer = std::make_shared<WsPeer>();
  auto ws = net::websocket_connect(loop, relay.ws_url(path), {}, peer);
  if (ws) {
    (*ws)->close();
    return {101, ""};
  }
  return {ws.error().status, ws.error().message};
}

TEST_F(RelaySessionsTest, ClosedOrExpiredSessionsCannotBeJoined) {
  net::EventLoop loop;
  auto closed = create(bj::object{{"groupname", "Dead"}});
  ASSERT_EQ(closed.status, 200) << closed;
  auto expiring =
      create(bj::object{{"groupname", "Dead"}, {"valid_until", iso_in(std::chrono::seconds(3))}});
  ASSERT_EQ(expiring.status, 200) << expiring;
  ASSERT_EQ(relay_
                ->put_json("/api/v1/sessions/" + closed.str("code"),
                           bj::object{{"state", "closed"}}, token_)
                .status,
            204);
  auto until = std::chrono::system_clock::now() + std::chrono::milliseconds(3600);

  auto check_dead = [&](const ApiResult& s, const char* what) {
    std::string c = canonical(s.str("code"));
    for (const auto& path : {"/api/v1/stream/device/" + last_segment(s.str("end_customer_link")),
                             "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"))}) {
      auto j = try_join(*relay_, loop, path);
      EXPECT_EQ(j.status, 410) << what << " " << path << ": " << j.message;
      EXPECT_NE(j.message.find("new session"), std::string::npos) << what << ": " << j.message;
    }
    // The code alone never opened an API session, open or not: it tells a guesser nothing.
    for (const auto& path :
         {"/api/v1/stream/device?code=" + s.str("code"), "/api/v1/stream/device?code=" + c}) {
      auto j = try_join(*relay_, loop, path);
      EXPECT_EQ(j.status, 404) << what << " " << path << ": " << j.message;
    }
  };
  check_dead(closed, "closed session");

  std::this_thread::sleep_until(until);
  check_dead(expiring, "expired session");
  auto g = relay_->get("/api/v1/sessions/" + expiring.str("code"), token_);
  EXPECT_EQ(g.str("state"), "closed") << g;
}

TEST_F(RelaySessionsTest, PlainGetOnAStreamEndpointIs426) {
  auto s = create(bj::object{{"groupname", "Plain"}});
  ASSERT_EQ(s.status, 200) << s;
  for (const auto& path : {"/api/v1/stream/device/" + last_segment(s.str("end_customer_link")),
                           "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link")),
                           "/api/v1/stream/device?code=" + s.str("code")}) {
    auto r = relay_->get(path);
    EXPECT_EQ(r.status, 426) << path << ": " << r;
  }
  // The session is untouched and still joinable.
  EXPECT_EQ(relay_->get("/api/v1/sessions/" + s.str("code"), token_).str("state"), "open");
}

}  // namespace
}  // namespace reach::itest

namespace reach::itest {
namespace {

// Operations: health for balancers (no token), metrics for an account's token.
TEST_F(RelaySessionsTest, HealthNamesNodeAndStoreAndMetricsNeedAToken) {
  auto h = relay_->get("/api/health", "");
  ASSERT_EQ(h.status, 200) << h;
  EXPECT_EQ(h.str("status"), "ok");
  EXPECT_EQ(h.str("database"), "ok");
  EXPECT_EQ(h.str("store"), testpg::selected() ? "postgresql" : "sqlite");
  EXPECT_FALSE(h.str("node").empty()) << h;
  EXPECT_EQ(relay_->get("/api/metrics", "").status, 401);
  auto m = relay_->get("/api/metrics", token_);
  ASSERT_EQ(m.status, 200) << m;
  EXPECT_NE(m.body.find("reach_relay_sessions_streaming "), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("reach_relay_connections_open "), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("store=\"" + std::string(testpg::selected() ? "postgresql" : "sqlite")),
            std::string::npos)
      << m.body;
}

}  // namespace
}  // namespace reach::itest
