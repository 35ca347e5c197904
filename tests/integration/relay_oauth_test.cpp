// The relay's OAuth 2 authorization server, driven over HTTP the way a browser and a client
// application would (SPEC §3.1, §6; api-contracts §3.2, §6.2): sign-in and consent pages with
// CSRF cookies, the authorization code flow with PKCE S256, code exchange with both client
// authentication methods, refresh rotation with replay detection, revocation and expiry.
#include "integration/relay_process.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <map>
#include <random>
#include <regex>

namespace reach::itest {
namespace {

constexpr const char* kRedirect = "https://app.example/callback";
constexpr const char* kConsentText = "wants to create sessions, read your account and keep access";

std::string base64url(const unsigned char* data, std::size_t n) {
  std::string b64(4 * ((n + 2) / 3) + 1, '\0');
  int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), data, static_cast<int>(n));
  b64.resize(static_cast<std::size_t>(len));
  for (auto& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

struct Pkce {
  std::string verifier, challenge;
};

Pkce make_pkce() {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<int> pick(0, sizeof kChars - 2);
  Pkce p;
  for (int i = 0; i < 64; ++i) p.verifier.push_back(kChars[pick(gen)]);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(p.verifier.data()), p.verifier.size(), digest);
  p.challenge = base64url(digest, sizeof digest);
  return p;
}

// The query parameters of a URL.
std::map<std::string, std::string> url_query(std::string_view url) {
  std::map<std::string, std::string> out;
  auto qm = url.find('?');
  if (qm == std::string_view::npos) return out;
  for (auto& [k, v] : net::parse_query(url.substr(qm + 1))) out[k] = v;
  return out;
}

std::string authorize_path(const std::string& client_id, const std::string& redirect,
                           const std::string& state, const Pkce& pkce) {
  return "/oauth2/authorize?response_type=code&client_id=" + q(client_id) +
         "&redirect_uri=" + q(redirect) + "&state=" + q(state) +
         "&code_challenge=" + q(pkce.challenge) + "&code_challenge_method=S256";
}

class RelayOAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    relay_ = new RelayProcess();
    ASSERT_TRUE(relay_->init_and_start());
    client_ = relay_->add_client("Contoso Helpdesk", kRedirect);
    other_client_ = relay_->add_client("Other App", "https://other.example/cb");
  }
  static void TearDownTestSuite() {
    delete relay_;
    relay_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(relay_, nullptr); }

  // Signs `b` in through the sign-in page the authorize request shows; returns the Location of
  // the 303 (the authorize request again).
  static std::string sign_in_from(Browser& b, const std::string& authorize) {
    auto page = b.go("GET", authorize);
    EXPECT_EQ(page.status, 200) << page;
    EXPECT_NE(page.body.find("action=\"/signin\""), std::string::npos) << page;
    auto fields = hidden_inputs(page.body);
    EXPECT_EQ(fields["continue"], authorize) << page;
    EXPECT_FALSE(fields["csrf"].empty()) << page;
    EXPECT_EQ(b.cookies["reach_csrf"], fields["csrf"]) << "CSRF cookie and form token differ";
    auto r = b.go("POST", "/signin",
                  form_encode({{"csrf", fields["csrf"]},
                               {"continue", fields["continue"]},
                               {"email", relay_->options().admin_email},
                               {"password", relay_->options().admin_password}}));
    EXPECT_EQ(r.status, 303) << r;
    std::string session_cookie = b.set_cookie_for("reach_relay_session");
    EXPECT_FALSE(session_cookie.empty()) << "no session cookie after signing in";
    EXPECT_NE(session_cookie.find("HttpOnly"), std::string::npos) << session_cookie;
    EXPECT_NE(session_cookie.find("SameSite=Strict"), std::string::npos) << session_cookie;
    return std::string(r.headers.get("Location").value_or(""));
  }

  // The whole browser side: returns the redirect URL the relay sent the browser to.
  static std::string consent(const OAuthClient& c, const std::string& state, const Pkce& pkce,
                             const std::string& decision = "allow") {
    Browser b{relay_->base_url()};
    std::string authorize = authorize_path(c.client_id, kRedirect, state, pkce);
    std::string back = sign_in_from(b, authorize);
    EXPECT_EQ(back, authorize) << "sign-in did not continue to the authorize request";
    auto page = b.go("GET", back);
    EXPECT_EQ(page.status, 200) << page;
    EXPECT_NE(page.body.find("Contoso Helpdesk"), std::string::npos) << page;
    EXPECT_NE(page.body.find(kConsentText), std::string::npos) << page;
    auto fields = hidden_inputs(page.body);
    EXPECT_EQ(fields["client_id"], c.client_id);
    EXPECT_EQ(fields["state"], state);
    std::vector<std::pair<std::string, std::string>> form(fields.begin(), fields.end());
    form.emplace_back("decision", decision);
    auto r = b.go("POST", "/oauth2/authorize", form_encode(form));
    EXPECT_EQ(r.status, 302) << r;
    return std::string(r.headers.get("Location").value_or(""));
  }

  // consent(allow) and the code from the redirect, with the state checked.
  static std::string authorization_code(const Pkce& pkce) {
    std::string state = "st 1/2&x=y";
    std::string loc = consent(client_, state, pkce);
    EXPECT_TRUE(loc.starts_with(std::string(kRedirect) + "?")) << loc;
    auto qp = url_query(loc);
    EXPECT_EQ(qp["state"], state) << loc;
    EXPECT_FALSE(qp["code"].empty()) << loc;
    EXPECT_EQ(qp.count("error"), 0u) << loc;
    return qp["code"];
  }

  static ApiResult token_post(std::vector<std::pair<std::string, std::string>> form,
                              const OAuthClient& c, bool basic) {
    net::Headers h;
    h.set("Content-Type", "application/x-www-form-urlencoded");
    if (basic) {
      std::string cred = q(c.client_id) + ":" + q(c.client_secret);
      std::string b64(4 * ((cred.size() + 2) / 3) + 1, '\0');
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                              reinterpret_cast<const unsigned char*>(cred.data()),
                              static_cast<int>(cred.size()));
      b64.resize(static_cast<std::size_t>(n));
      h.set("Authorization", "Basic " + b64);
    } else {
      form.emplace_back("client_id", c.client_id);
      form.emplace_back("client_secret", c.client_secret);
    }
    return relay_->request("POST", "/api/v1/oauth2/token", form_encode(form), h);
  }

  static ApiResult exchange(const std::string& code, const std::string& verifier,
                            const OAuthClient& c, bool basic) {
    return token_post({{"grant_type", "authorization_code"},
                       {"code", code},
                       {"redirect_uri", kRedirect},
                       {"code_verifier", verifier}},
                      c, basic);
  }

  static ApiResult refresh(const std::string& refresh_token, const OAuthClient& c) {
    return token_post({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}}, c,
                      false);
  }

  static void expect_token_response(const ApiResult& r) {
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_FALSE(r.str("access_token").empty()) << r;
    EXPECT_FALSE(r.str("refresh_token").empty()) << r;
    EXPECT_EQ(r.str("token_type"), "bearer") << r;
    const auto* exp = r.obj().if_contains("expires_in");
    ASSERT_TRUE(exp && exp->is_int64()) << r;
    EXPECT_GT(exp->as_int64(), 0) << r;
    EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store") << r;
  }

  static inline RelayProcess* relay_ = nullptr;
  static inline OAuthClient client_, other_client_;
};

TEST_F(RelayOAuthTest, CodeFlowWithPkceAndClientSecretPostThenRefreshRotation) {
  auto pkce = make_pkce();
  std::string code = authorization_code(pkce);
  auto t = exchange(code, pkce.verifier, client_, false);
  ASSERT_NO_FATAL_FAILURE(expect_token_response(t));
  std::string access = t.str("access_token"), refresh1 = t.str("refresh_token");

  auto account = relay_->get("/api/v1/account", access);
  ASSERT_EQ(account.status, 200) << account;
  EXPECT_EQ(account.str("email"), relay_->options().admin_email) << account;
  EXPECT_FALSE(account.str("userid").empty()) << account;
  auto ping = relay_->get("/api/v1/ping", access);
  ASSERT_EQ(ping.status, 200) << ping;
  EXPECT_EQ(bj::serialize(ping.json), R"({"token_valid":true})");
  auto ping_bad = relay_->get("/api/v1/ping", "not-a-token");
  EXPECT_EQ(bj::serialize(ping_bad.json), R"({"token_valid":false})") << ping_bad;

  // Rotation: a new refresh token each time; the new access token works.
  auto r2 = refresh(refresh1, client_);
  ASSERT_NO_FATAL_FAILURE(expect_token_response(r2));
  std::string access2 = r2.str("access_token"), refresh2 = r2.str("refresh_token");
  EXPECT_NE(refresh2, refresh1);
  EXPECT_NE(access2, access);
  EXPECT_EQ(relay_->get("/api/v1/account", access2).status, 200);

  // Replaying the rotated refresh token revokes the whole grant.
  auto replay = refresh(refresh1, client_);
  EXPECT_EQ(replay.status, 400) << replay;
  EXPECT_EQ(replay.str("error"), "invalid_grant") << replay;
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/account", access2), 401, "invalid_token"));
  EXPECT_EQ(relay_->get("/api/v1/account", access).status, 401);
  auto after = refresh(refresh2, client_);
  EXPECT_EQ(after.status, 400) << "the newest refresh token survived a replay: " << after;
  EXPECT_EQ(after.str("error"), "invalid_grant") << after;
}

TEST_F(RelayOAuthTest, ClientSecretBasicAndReplayedCodeRevokesItsTokens) {
  auto pkce = make_pkce();
  std::string code = authorization_code(pkce);
  auto t = exchange(code, pkce.verifier, client_, true);
  ASSERT_NO_FATAL_FAILURE(expect_token_response(t));
  std::string access = t.str("access_token");
  ASSERT_EQ(relay_->get("/api/v1/account", access).status, 200);

  auto replay = exchange(code, pkce.verifier, client_, true);
  EXPECT_EQ(replay.status, 400) << replay;
  EXPECT_EQ(replay.str("error"), "invalid_grant") << replay;
  EXPECT_EQ(replay.headers.get("Cache-Control").value_or(""), "no-store") << replay;
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/account", access), 401, "invalid_token"))
      << "tokens of a replayed code must be revoked";
  auto r = refresh(t.str("refresh_token"), client_);
  EXPECT_EQ(r.str("error"), "invalid_grant") << r;
}

TEST_F(RelayOAuthTest, WrongVerifierWrongSecretAndOtherClientAreRefused) {
  auto pkce = make_pkce();
  std::string code = authorization_code(pkce);
  auto wrong = make_pkce();
  auto r = exchange(code, wrong.verifier, client_, false);
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_EQ(r.str("error"), "invalid_grant") << r;
  EXPECT_TRUE(r.str("access_token").empty());

  auto no_verifier = token_post(
      {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", kRedirect}}, client_,
      false);
  EXPECT_EQ(no_verifier.str("error"), "invalid_grant") << no_verifier;

  OAuthClient bad = client_;
  bad.client_secret += "x";
  auto post = exchange(code, pkce.verifier, bad, false);
  EXPECT_EQ(post.status, 401) << post;
  EXPECT_EQ(post.str("error"), "invalid_client") << post;
  EXPECT_TRUE(post.headers.get("WWW-Authenticate").has_value()) << post;
  auto basic = exchange(code, pkce.verifier, bad, true);
  EXPECT_EQ(basic.status, 401) << basic;
  EXPECT_EQ(basic.str("error"), "invalid_client") << basic;

  // A code issued to one client is useless to another.
  auto other = exchange(code, pkce.verifier, other_client_, false);
  EXPECT_EQ(other.status, 400) << other;
  EXPECT_EQ(other.str("error"), "invalid_grant") << other;

  // None of the failures above used the code up.
  auto ok = exchange(code, pkce.verifier, client_, false);
  EXPECT_NO_FATAL_FAILURE(expect_token_response(ok));
}

TEST_F(RelayOAuthTest, UnknownClientOrRedirectMismatchShowsAnErrorPageAndNeverRedirects) {
  auto pkce = make_pkce();
  Browser b{relay_->base_url()};
  // Signed in first, so that no sign-in page can hide the check.
  std::string good = authorize_path(client_.client_id, kRedirect, "s", pkce);
  ASSERT_EQ(sign_in_from(b, good), good);

  for (const auto& path :
       {authorize_path("no-such-client", kRedirect, "s", pkce),
        authorize_path(client_.client_id, "https://evil.example/callback", "s", pkce),
        authorize_path(client_.client_id, std::string(kRedirect) + "/x", "s", pkce),
        authorize_path(client_.client_id, "https://other.example/cb", "s", pkce)}) {
    auto r = b.go("GET", path);
    EXPECT_EQ(r.status, 400) << path << ": " << r;
    EXPECT_FALSE(r.headers.get("Location").has_value()) << path << " redirected: " << r;
    EXPECT_NE(r.headers.get("Content-Type").value_or("").find("text/html"), std::string::npos) << r;
  }
  // Same for a consent form tampered with.
  auto page = b.go("GET", good);
  ASSERT_EQ(page.status, 200) << page;
  auto fields = hidden_inputs(page.body);
  fields["redirect_uri"] = "https://evil.example/callback";
  fields["decision"] = "allow";
  std::vector<std::pair<std::string, std::string>> form(fields.begin(), fields.end());
  auto r = b.go("POST", "/oauth2/authorize", form_encode(form));
  EXPECT_EQ(r.status, 400) << r;
  EXPECT_FALSE(r.headers.get("Location").has_value()) << r;
}

TEST_F(RelayOAuthTest, DenyRedirectsWithAccessDeniedAndState) {
  auto pkce = make_pkce();
  std::string loc = consent(client_, "deny-state", pkce, "deny");
  ASSERT_TRUE(loc.starts_with(std::string(kRedirect) + "?")) << loc;
  auto qp = url_query(loc);
  EXPECT_EQ(qp["error"], "access_denied") << loc;
  EXPECT_EQ(qp["state"], "deny-state") << loc;
  EXPECT_EQ(qp.count("code"), 0u) << loc;
}

TEST_F(RelayOAuthTest, RevokeEndsAnAccessTokenAndARefreshTokenEndsTheGrant) {
  auto pkce = make_pkce();
  auto t = exchange(authorization_code(pkce), pkce.verifier, client_, false);
  ASSERT_NO_FATAL_FAILURE(expect_token_response(t));
  std::string access = t.str("access_token"), refresh_token = t.str("refresh_token");
  ASSERT_EQ(relay_->get("/api/v1/account", access).status, 200);

  net::Headers h;
  h.set("Content-Type", "application/x-www-form-urlencoded");
  auto r = relay_->request("POST", "/api/v1/oauth2/revoke",
                           form_encode({{"token", access},
                                        {"client_id", client_.client_id},
                                        {"client_secret", client_.client_secret}}),
                           h);
  EXPECT_EQ(r.status, 200) << r;
  EXPECT_TRUE(IsApiError(relay_->get("/api/v1/account", access), 401, "invalid_token"));
  // The refresh token still works after revoking only the access token.
  auto r2 = refresh(refresh_token, client_);
  ASSERT_NO_FATAL_FAILURE(expect_token_response(r2));
  std::string access2 = r2.str("access_token");
  ASSERT_EQ(relay_->get("/api/v1/account", access2).status, 200);

  // Wrong client authentication at revoke: 401, nothing revoked.
  auto bad = relay_->request(
      "POST", "/api/v1/oauth2/revoke",
      form_encode(
          {{"token", access2}, {"client_id", client_.client_id}, {"client_secret", "wrong"}}),
      h);
  EXPECT_EQ(bad.status, 401) << bad;
  EXPECT_EQ(relay_->get("/api/v1/account", access2).status, 200);

  // Revoking the refresh token revokes the grant: its access token dies with it.
  r = relay_->request("POST", "/api/v1/oauth2/revoke",
                      form_encode({{"token", r2.str("refresh_token")},
                                   {"client_id", client_.client_id},
                                   {"client_secret", client_.client_secret}}),
                      h);
  EXPECT_EQ(r.status, 200) << r;
  EXPECT_EQ(relay_->get("/api/v1/account", access2).status, 401);
  EXPECT_EQ(refresh(r2.str("refresh_token"), client_).str("error"), "invalid_grant");
}

TEST_F(RelayOAuthTest, WrongPasswordGets401PageAndNoSessionCookie) {
  Browser b{relay_->base_url()};
  auto page = b.go("GET", "/signin");
  ASSERT_EQ(page.status, 200) << page;
  auto fields = hidden_inputs(page.body);
  auto r = b.go("POST", "/signin",
                form_encode({{"csrf", fields["csrf"]},
                             {"continue", "/"},
                             {"email", relay_->options().admin_email},
                             {"password", "not-the-password"}}));
  EXPECT_EQ(r.status, 401) << r;
  EXPECT_NE(r.headers.get("Content-Type").value_or("").find("text/html"), std::string::npos);
  EXPECT_TRUE(b.set_cookie_for("reach_relay_session").empty()) << "session cookie on failure";
  EXPECT_EQ(b.cookies.count("reach_relay_session"), 0u);
  EXPECT_FALSE(r.headers.get("Location").has_value()) << r;

  // Without the CSRF token the right password does not sign in either.
  auto no_csrf = b.go("POST", "/signin",
                      form_encode({{"continue", "/"},
                                   {"email", relay_->options().admin_email},
                                   {"password", relay_->options().admin_password}}));
  EXPECT_EQ(no_csrf.status, 403) << no_csrf;
  EXPECT_EQ(b.cookies.count("reach_relay_session"), 0u);
}

// Security review, finding 4: "/\t/evil.example" passed as a local path, and browsers drop the
// tab and go to //evil.example. What is followed is a path on this site: characters browsers
// would not take as they are come percent-encoded; anything else is "/".
TEST_F(RelayOAuthTest, SignInContinuesOnlyToAPathOnThisSite) {
  struct Case {
    std::string given, followed;
  };
  for (const Case& c :
       std::vector<Case>{{"/\t/evil.example", "/%09/evil.example"},
                         {"/\n/evil.example", "/%0A/evil.example"},
                         {"/\r\n/evil", "/%0D%0A/evil"},
                         {"/\\evil.example", "/%5Cevil.example"},
                         {"//evil.example", "/"},
                         {"https://evil.example/", "/"},
                         {" /x", "/"},
                         {"/oauth2/authorize?client_id=x&state=a%20b&s=[1]{2}|^",
                          "/oauth2/authorize?client_id=x&state=a%20b&s=%5B1%5D%7B2%7D%7C%5E"}}) {
    Browser b{relay_->base_url()};
    auto page = b.go("GET", "/signin?continue=" + q(c.given));
    ASSERT_EQ(page.status, 200) << page;
    EXPECT_EQ(hidden_inputs(page.body)["continue"], c.followed) << "shown for " << q(c.given);
    auto r = b.go("POST", "/signin",
                  form_encode({{"csrf", hidden_inputs(page.body)["csrf"]},
                               {"continue", c.given},
                               {"email", relay_->options().admin_email},
                               {"password", relay_->options().admin_password}}));
    ASSERT_EQ(r.status, 303) << r;
    EXPECT_EQ(r.headers.get("Location").value_or(""), c.followed) << "for " << q(c.given);
  }
}

// Security review, item 7: PKCE with S256 on every authorization request. Without it (or with
// "plain") the client is sent back an error and no code is issued.
TEST_F(RelayOAuthTest, AnAuthorizationWithoutPkceS256IsRefused) {
  auto pkce = make_pkce();
  std::string base = "/oauth2/authorize?response_type=code&client_id=" + q(client_.client_id) +
                     "&redirect_uri=" + q(kRedirect) + "&state=s1";
  for (const std::string& path :
       {base, base + "&code_challenge=" + q(pkce.verifier) + "&code_challenge_method=plain",
        base + "&code_challenge=" + q(pkce.challenge),
        base + "&code_challenge=short&code_challenge_method=S256"}) {
    Browser b{relay_->base_url()};
    auto r = b.go("GET", path);
    ASSERT_EQ(r.status, 302) << path << ": " << r;
    auto where = url_query(r.headers.get("Location").value_or(""));
    EXPECT_EQ(where["error"], "invalid_request") << path;
    EXPECT_EQ(where["state"], "s1");
    EXPECT_EQ(where.count("code"), 0u);
  }
}

// An access token past its lifetime is refused with token_expired (own relay: TTL 1 s).
TEST(RelayOAuthExpiry, ExpiredAccessTokenGets401TokenExpired) {
  RelayProcess relay;
  ASSERT_TRUE(relay.init_and_start({"--access-token-ttl", "1"}));
  auto c = relay.add_client("Contoso Helpdesk", kRedirect);
  auto pkce = make_pkce();
  Browser b{relay.base_url()};
  std::string authorize = authorize_path(c.client_id, kRedirect, "e", pkce);
  auto page = b.go("GET", authorize);
  auto f = hidden_inputs(page.body);
  auto s = b.go("POST", "/signin",
                form_encode({{"csrf", f["csrf"]},
                             {"continue", f["continue"]},
                             {"email", relay.options().admin_email},
                             {"password", relay.options().admin_password}}));
  ASSERT_EQ(s.status, 303) << s;
  auto consent_page = b.go("GET", std::string(s.headers.get("Location").value_or("")));
  ASSERT_EQ(consent_page.status, 200) << consent_page;
  auto cf = hidden_inputs(consent_page.body);
  std::vector<std::pair<std::string, std::string>> form(cf.begin(), cf.end());
  form.emplace_back("decision", "allow");
  auto redirect = b.go("POST", "/oauth2/authorize", form_encode(form));
  ASSERT_EQ(redirect.status, 302) << redirect;
  std::string code = url_query(redirect.headers.get("Location").value_or(""))["code"];
  net::Headers h;
  h.set("Content-Type", "application/x-www-form-urlencoded");
  auto t = relay.request("POST", "/api/v1/oauth2/token",
                         form_encode({{"grant_type", "authorization_code"},
                                      {"code", code},
                                      {"redirect_uri", kRedirect},
                                      {"code_verifier", pkce.verifier},
                                      {"client_id", c.client_id},
                                      {"client_secret", c.client_secret}}),
                         h);
  ASSERT_EQ(t.status, 200) << t;
  EXPECT_EQ(t.obj().at("expires_in").as_int64(), 1) << t;
  std::string access = t.str("access_token");
  // It lasts one second (expires_in 1); then it is refused as expired, not as unknown.
  EXPECT_TRUE(wait_until(
      [&] {
        return bj::serialize(relay.get("/api/v1/ping", access).json) == R"({"token_valid":false})";
      },
      std::chrono::seconds(10), std::chrono::milliseconds(50)));
  auto r = relay.get("/api/v1/account", access);
  EXPECT_TRUE(IsApiError(r, 401, "token_expired")) << r;
  EXPECT_EQ(bj::serialize(relay.get("/api/v1/ping", access).json), R"({"token_valid":false})");
}

}  // namespace
}  // namespace reach::itest
