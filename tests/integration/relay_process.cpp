#include "integration/relay_process.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace reach::itest {

// ------------------------------------------------------------------ RelayProcess

RelayProcess::RelayProcess(RelayOptions options) : options_(std::move(options)) {}

::testing::AssertionResult RelayProcess::init() {
  return service_.init(options_.admin_email, options_.admin_password);
}

::testing::AssertionResult RelayProcess::start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = options_.serve_args;
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return service_.start(args);
}

::testing::AssertionResult RelayProcess::init_and_start(
    const std::vector<std::string>& extra_args) {
  auto r = init();
  if (!r) return r;
  return start(extra_args);
}

std::string RelayProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port());
}

std::string RelayProcess::ws_url(std::string_view path) const {
  return "ws://127.0.0.1:" + std::to_string(port()) + std::string(path);
}

std::string RelayProcess::read_stderr_log() const {
  return read_file_bytes(service_.stderr_log_path());
}

CommandResult RelayProcess::cli(std::vector<std::string> args,
                                const std::vector<std::pair<std::string, std::string>>& env) {
  return service_.cli(std::move(args), true, env);
}

std::string RelayProcess::create_token(const std::string& email) {
  return service_.create_token(email);
}

OAuthClient RelayProcess::add_client(const std::string& name, const std::string& redirect_uri) {
  auto r = cli({"client", "add", "--name", name, "--redirect-uri", redirect_uri});
  EXPECT_EQ(r.exit_code, 0) << "client add: " << r.err;
  boost::system::error_code ec;
  auto v = bj::parse(trim(r.out), ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "client add printed no JSON object: " << r.out;
    return {};
  }
  OAuthClient c{str_of(v.as_object(), "client_id"), str_of(v.as_object(), "client_secret")};
  EXPECT_FALSE(c.client_id.empty()) << r.out;
  EXPECT_FALSE(c.client_secret.empty()) << r.out;
  return c;
}

void RelayProcess::add_account(const std::string& email, const std::string& password) {
  auto r = cli({"account", "add", "--email", email}, {{"REACH_PASSWORD", password}});
  EXPECT_EQ(r.exit_code, 0) << "account add: " << r.err;
}

ApiResult RelayProcess::portal_session(const std::string& description) {
  Browser b(base_url());
  auto page = b.go("GET", "/signin");
  auto signin = b.go("POST", "/signin",
                     form_encode({{"csrf", hidden_inputs(page.body)["csrf"]},
                                  {"continue", "/"},
                                  {"email", options_.admin_email},
                                  {"password", options_.admin_password}}));
  EXPECT_EQ(signin.status, 303) << signin;
  auto portal = b.go("GET", "/");
  auto made = b.go(
      "POST", "/portal/sessions",
      form_encode({{"csrf", hidden_inputs(portal.body)["csrf"]}, {"description", description}}));
  EXPECT_EQ(made.status, 303) << made;
  std::string location(made.headers.get("Location").value_or(""));
  return get("/api/v1/sessions/" + location.substr(location.find_last_of('/') + 1), admin_token());
}

const std::string& RelayProcess::admin_token() {
  if (admin_token_.empty()) admin_token_ = create_token(options_.admin_email);
  return admin_token_;
}

ApiResult RelayProcess::request(std::string_view method, std::string_view path_or_url,
                                std::string body, const net::Headers& headers) const {
  std::string url = path_or_url.starts_with("http://") || path_or_url.starts_with("https://")
                        ? std::string(path_or_url)
                        : base_url() + std::string(path_or_url);
  return http_call(method, url, std::move(body), headers);
}

namespace {
net::Headers bearer_headers(const std::string& bearer) {
  net::Headers h;
  if (!bearer.empty()) h.set("Authorization", "Bearer " + bearer);
  return h;
}
}  // namespace

ApiResult RelayProcess::get(std::string_view path, const std::string& bearer) const {
  return request("GET", path, {}, bearer_headers(bearer));
}

ApiResult RelayProcess::send_raw(std::string_view method, std::string_view path, std::string body,
                                 const std::string& bearer, std::string_view content_type) const {
  auto h = bearer_headers(bearer);
  h.set("Content-Type", std::string(content_type));
  return request(method, path, std::move(body), h);
}

ApiResult RelayProcess::post_json(std::string_view path, const bj::value& body,
                                  const std::string& bearer) const {
  return send_raw("POST", path, bj::serialize(body), bearer, "application/json");
}

ApiResult RelayProcess::put_json(std::string_view path, const bj::value& body,
                                 const std::string& bearer) const {
  return send_raw("PUT", path, bj::serialize(body), bearer, "application/json");
}

std::int64_t RelayProcess::vm_rss_kib() const {
  if (!running()) return 0;
  std::ifstream f("/proc/" + std::to_string(pid()) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("VmRSS:")) {
      std::istringstream ss(line.substr(6));
      std::int64_t kib = 0;
      ss >> kib;
      return kib;
    }
  }
  return 0;
}

// ------------------------------------------------------------------ helpers

::testing::AssertionResult IsApiError(const ApiResult& r, int status, std::string_view error) {
  auto fail = [&](std::string_view why) {
    return ::testing::AssertionFailure()
           << why << " (expected " << status << " " << error << "), got " << r;
  };
  if (r.status != status) return fail("wrong status");
  if (!r.json.is_object()) return fail("body is not a JSON object");
  const auto& o = r.json.as_object();
  if (str_of(o, "error") != error) return fail("wrong \"error\"");
  if (str_of(o, "error_description").empty()) return fail("no error_description");
  const auto* code = o.if_contains("error_code");
  if (!code || !code->is_int64()) return fail("error_code missing or not an integer");
  return ::testing::AssertionSuccess();
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += q(k) + "=" + q(v);
  }
  return out;
}

std::string last_segment(std::string_view link) {
  link = link.substr(0, link.find('#'));  // a hub's link carries its end-to-end secret there
  auto slash = link.rfind('/');
  return std::string(slash == std::string_view::npos ? link : link.substr(slash + 1));
}

// ------------------------------------------------------------------ StreamChecksum

namespace {
std::uint64_t mix(std::uint64_t h, std::uint64_t w) {
  h ^= w + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h *= 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 29);
}
}  // namespace

void StreamChecksum::update(std::string_view bytes) {
  total_ += bytes.size();
  std::size_t i = 0;
  while (pending_len_ > 0 && pending_len_ < 8 && i < bytes.size()) {
    pending_ |= std::uint64_t(static_cast<unsigned char>(bytes[i++])) << (8 * pending_len_);
    if (++pending_len_ == 8) {
      h_ = mix(h_, pending_);
      pending_ = 0;
      pending_len_ = 0;
    }
  }
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h_ = mix(h_, w);
  }
  for (; i < bytes.size(); ++i)
    pending_ |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * pending_len_++);
}

std::uint64_t StreamChecksum::value() const {
  return pending_len_ ? mix(mix(h_, pending_), 0x100 + pending_len_) : h_;
}

// ------------------------------------------------------------------ WsPeer

void WsPeer::on_open(std::shared_ptr<net::WebSocket> ws) {
  std::lock_guard lock(mu_);
  ws_ = std::move(ws);
  cv_.notify_all();
}

void WsPeer::on_message(std::string data, bool binary) {
  std::lock_guard lock(mu_);
  sum_.update(data);
  if (messages_.size() < 64) messages_.push_back(binary ? data : "text:" + data);
  cv_.notify_all();
}

void WsPeer::on_drain() {
  std::lock_guard lock(mu_);
  drained_ = true;
  cv_.notify_all();
}

void WsPeer::on_close(std::uint16_t code, std::string reason) {
  std::lock_guard lock(mu_);
  closed_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  cv_.notify_all();
}

std::shared_ptr<net::WebSocket> WsPeer::socket() const {
  std::lock_guard lock(mu_);
  return ws_;
}

std::uint64_t WsPeer::received_bytes() const {
  std::lock_guard lock(mu_);
  return sum_.bytes();
}

std::uint64_t WsPeer::checksum() const {
  std::lock_guard lock(mu_);
  return sum_.value();
}

std::vector<std::string> WsPeer::messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

bool WsPeer::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::uint16_t WsPeer::close_code() const {
  std::lock_guard lock(mu_);
  return close_code_;
}

std::string WsPeer::close_reason() const {
  std::lock_guard lock(mu_);
  return close_reason_;
}

bool WsPeer::wait_closed(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return closed_; });
}

bool WsPeer::wait_bytes(std::uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return sum_.bytes() >= n; });
}

bool WsPeer::wait_drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [this] { return drained_ || closed_; });
  drained_ = false;
  return ok;
}

}  // namespace reach::itest
