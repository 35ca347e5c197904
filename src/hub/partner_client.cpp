#include "hub/partner_client.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"
#include "hub/internal.h"
#include "net/client.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace reach::hub {
namespace {

std::string trim_slash(std::string u) {
  while (!u.empty() && u.back() == '/') u.pop_back();
  return u;
}

Error unreachable(const Error& e) {
  return make_error(Errc::upstream, "partnerUnreachable",
                    "The relay cannot be reached: " + e.message);
}

class RelayPartnerClient final : public PartnerClient {
 public:
  explicit RelayPartnerClient(Services& svc) : svc_(svc) {}

  Result<PartnerSession> create_session(const NewPartnerSession& n) override {
    bj::object body{{"groupname", n.groupname},
                    {"description", n.description},
                    {"end_customer",
                     bj::object{{"name", n.end_customer_name}, {"email", n.end_customer_email}}},
                    {"custom_api", n.custom_api}};
    auto r = call("POST", "/api/v1/sessions", json::serialize(body));
    if (!r) return r.error();
    if (r->status != 200)
      return make_error(Errc::upstream, "partnerError",
                        fmt::format("The relay could not create a session (HTTP {}).", r->status));
    auto s = session_of(r->body);
    if (!s) return s.error();
    if (s->code.empty() || s->supporter_link.empty() || s->end_customer_link.empty() ||
        s->valid_until == 0)
      return make_error(Errc::upstream, "partnerError",
                        "The relay's session lacks its code or links.");
    return s;
  }

  Result<PartnerSession> get_session(std::string_view code) override {
    auto r = call("GET", "/api/v1/sessions/" + net::percent_encode(code), "");
    if (!r) return r.error();
    if (r->status != 200)
      return make_error(
          502, "partnerError",
          fmt::format("The relay could not read session {} (HTTP {}).", code, r->status));
    return session_of(r->body);
  }

  Status close_session(std::string_view code) override {
    auto r = call("PUT", "/api/v1/sessions/" + net::percent_encode(code),
                  json::serialize(bj::object{{"state", "closed"}}));
    if (!r) return r.error();
    if (r->status != 200 && r->status != 204)
      return make_error(
          Errc::upstream, "partnerError",
          fmt::format("The relay could not close session {} (HTTP {}).", code, r->status));
    return {};
  }

  std::string authorization_url(const Partner& p, const std::string& redirect_uri) override {
    std::string challenge = crypto::base64url_encode(crypto::sha256_raw(p.pending_verifier));
    return fmt::format(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&state={}"
        "&code_challenge={}&code_challenge_method=S256",
        trim_slash(p.relay_url.value_or("")), net::percent_encode(p.client_id.value_or("")),
        net::percent_encode(redirect_uri), net::percent_encode(p.pending_state), challenge);
  }

  Result<CodeExchange> exchange_code(const Partner& p, const std::string& code,
                                     const std::string& redirect_uri) override {
    int status = 0;
    auto t = token_request(p,
                           {{"grant_type", "authorization_code"},
                            {"code", code},
                            {"redirect_uri", redirect_uri},
                            {"code_verifier", p.pending_verifier}},
                           &status);
    if (!t) return t.error();
    if (status != 200)
      return CodeExchange{false, json::opt_string(*t, "error").value().value_or("?"), {}};
    auto tokens = tokens_of(*t);
    if (!tokens) return tokens.error();
    return CodeExchange{true, {}, std::move(*tokens)};
  }

  Result<PartnerAccount> account(const Partner& p, const std::string& access_token) override {
    net::Headers h;
    h.set("Authorization", "Bearer " + access_token);
    auto r =
        net::http_request("GET", trim_slash(p.relay_url.value_or("")) + "/api/v1/account", h, "");
    if (!r) return unreachable(r.error());
    if (r->status != 200)
      return make_error(
          Errc::upstream, "partnerError",
          fmt::format("The relay did not say whose grant it gave (HTTP {}).", r->status));
    auto o = json::parse_object(r->body);
    if (!o) return make_error(Errc::upstream, "partnerError", "The relay's account is not JSON.");
    auto text = [&](const char* name) {
      auto v = json::opt_string(*o, name);
      return v && *v ? **v : std::string();
    };
    PartnerAccount a{text("userid"), text("email"), text("name"), text("company_name")};
    if (a.id.empty() || a.email.empty())
      return make_error(Errc::upstream, "partnerError",
                        "The relay's account lacks its id or email.");
    return a;
  }

  bool revoke(const Partner& p, const std::string& refresh_token) override {
    if (refresh_token.empty() || !p.relay_url || !p.client_id) return false;
    // RFC 7009: revoking the refresh token ends the grant at the relay.
    auto r = form_post(trim_slash(*p.relay_url) + "/api/v1/oauth2/revoke",
                       {{"token", refresh_token},
                        {"token_type_hint", "refresh_token"},
                        {"client_id", *p.client_id},
                        {"client_secret", p.client_secret.value_or("")}});
    bool revoked = r && r->status == 200;
    if (!revoked)
      log::warn("connector.revoke_failed",
                {{"error", r ? std::to_string(r->status) : r.error().message}});
    return revoked;
  }

 private:
  using Form = std::vector<std::pair<std::string, std::string>>;

  static Result<net::Response> form_post(const std::string& url, const Form& form) {
    std::string body;
    for (const auto& [k, v] : form)
      body += (body.empty() ? "" : "&") + net::percent_encode(k) + "=" + net::percent_encode(v);
    net::Headers h;
    h.set("Content-Type", "application/x-www-form-urlencoded");
    return net::http_request("POST", url, h, body);
  }

  // POST /api/v1/oauth2/token with the connector's client credentials.
  static Result<bj::object> token_request(const Partner& p, Form form, int* status) {
    form.emplace_back("client_id", *p.client_id);
    form.emplace_back("client_secret", p.client_secret.value_or(""));
    auto r = form_post(trim_slash(*p.relay_url) + "/api/v1/oauth2/token", form);
    if (!r) return unreachable(r.error());
    *status = r->status;
    auto o = json::parse_object(r->body);
    if (!o)
      return make_error(Errc::upstream, "partnerError", "The relay's token answer is not JSON.");
    return std::move(*o);
  }

  static Result<GrantTokens> tokens_of(const bj::object& t) {
    auto access = json::opt_string(t, "access_token");
    auto refresh = json::opt_string(t, "refresh_token");
    auto expires = json::opt_int(t, "expires_in");
    if (!access || !*access || !refresh || !*refresh || !expires || !*expires || **expires <= 0)
      return make_error(Errc::upstream, "partnerError",
                        "The relay's token answer lacks its tokens.");
    return GrantTokens{**access, **refresh, **expires};
  }

  static Result<PartnerSession> session_of(const std::string& body) {
    auto o = json::parse_object(body);
    if (!o) return make_error(Errc::upstream, "partnerError", "The relay's session is not JSON.");
    PartnerSession s;
    auto text = [&](const char* name) -> std::string {
      auto v = json::opt_string(*o, name);
      return v && *v ? **v : std::string();
    };
    s.code = text("code");
    s.supporter_link = text("supporter_link");
    s.end_customer_link = text("end_customer_link");
    s.state = text("state");
    if (auto valid = text("valid_until"); !valid.empty()) {
      auto at = parse_iso8601(valid);
      if (!at)
        return make_error(Errc::upstream, "partnerError", "The relay's valid_until is not a date.");
      s.valid_until = *at;
    }
    if (auto closed = text("closed_at"); !closed.empty())
      if (auto at = parse_iso8601(closed)) s.closed_at = *at;
    return s;
  }

  // A valid access token, refreshed first when it is about to expire, or when the relay refused
  // `refused` (and no one has refreshed it since). The refresh token rotates, so two refreshes at
  // once would present a used one and revoke the grant: refreshes hold the store's "connector"
  // lock, which excludes them across every node, and read the tokens again under it.
  Result<std::string> access_token(const std::optional<std::string>& refused) {
    std::string out;
    auto st = svc_.db->with_lock("connector", [&]() -> Status {
      auto p = load_partner(svc_, *svc_.db, now_ms());
      if (!p) return p.error();
      if (p->status != "onboarded") return connector_not_onboarded();
      if (p->needs_reauth) return connector_needs_reauth();
      if (!needs_refresh(*p, refused, now_ms())) {
        out = p->access_token;
        return {};
      }
      int status = 0;
      auto t = token_request(
          *p, {{"grant_type", "refresh_token"}, {"refresh_token", p->refresh_token}}, &status);
      if (!t) return t.error();
      if (status != 200) {
        std::string err = json::opt_string(*t, "error").value().value_or("");
        log::warn("connector.refresh_refused", {{"status", status}, {"error", err}});
        if (err == "invalid_grant" || err == "invalid_client" || status == 401) {
          if (auto m = mark_needs_reauth(*svc_.db); !m) return m;
          return connector_needs_reauth();
        }
        return make_error(Errc::upstream, "partnerError",
                          fmt::format("The relay refused a token refresh ({}).", err));
      }
      auto tokens = tokens_of(*t);
      if (!tokens) return tokens.error();
      if (auto stored = store_tokens(svc_, *svc_.db, *tokens); !stored) return stored;
      log::info("connector.token_refreshed", {{"node", svc_.config.node_name}});
      out = tokens->access_token;
      return {};
    });
    if (!st) return st.error();
    return out;
  }

  // A sessions-API call with the connector's token; one refresh and retry on 401.
  Result<net::Response> call(std::string_view method, const std::string& path,
                             const std::string& body) {
    std::string base;
    {
      auto p = load_partner(svc_, *svc_.db, now_ms());
      if (!p) return p.error();
      if (!p->relay_url) return connector_not_onboarded();
      base = trim_slash(*p->relay_url);
    }
    std::optional<std::string> refused;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto token = access_token(refused);
      if (!token) return token.error();
      net::Headers h;
      h.set("Authorization", "Bearer " + *token);
      if (!body.empty()) h.set("Content-Type", "application/json");
      auto r = net::http_request(method, base + path, h, body);
      if (!r) return unreachable(r.error());
      if (r->status != 401) return std::move(*r);
      log::info("connector.token_refused_by_relay", {{"path", path}});
      refused = *token;
    }
    return connector_needs_reauth();
  }

  Services& svc_;
};

}  // namespace

struct PartnerCloser::Impl {
  explicit Impl(PartnerClient& p) : partner(p) {}
  PartnerClient& partner;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> queue;  // guarded by mu
  bool stopping = false;          // guarded by mu
  std::thread worker;

  void run() {
    for (;;) {
      std::string code;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) {
          if (!queue.empty()) log::warn("connector.close_abandoned", {{"sessions", queue.size()}});
          return;
        }
        code = std::move(queue.front());
        queue.pop_front();
      }
      if (auto st = partner.close_session(code); !st)
        log::warn("connector.close_failed", {{"code", code}, {"error", st.error().message}});
      else
        log::info("connector.session_closed", {{"code", code}});
    }
  }
};

PartnerCloser::PartnerCloser(PartnerClient& partner) : impl_(std::make_unique<Impl>(partner)) {
  impl_->worker = std::thread([i = impl_.get()] { i->run(); });
}

PartnerCloser::~PartnerCloser() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->worker.join();
}

void PartnerCloser::close(std::string code) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->queue.size() >= kMaxQueued) {
      log::warn("connector.close_dropped", {{"code", code}});
      return;
    }
    impl_->queue.push_back(std::move(code));
  }
  impl_->cv.notify_one();
}

std::unique_ptr<PartnerClient> make_relay_partner_client(Services& svc) {
  return std::make_unique<RelayPartnerClient>(svc);
}

}  // namespace reach::hub
