// Test harness for integration tests of the real `reach-hub` program on loopback.
//
// HubProcess owns a fresh data directory (mkdtemp), runs `reach-hub init` with a known
// administrator password, starts `reach-hub serve --listen 127.0.0.1:0` as a child process and
// learns its address from the first line of its standard output (the readiness signal; there is
// no sleeping). The child's standard error is appended to `<data>/serve.stderr.log` so tests can
// inspect everything the server logged. The directory is removed on destruction unless the test
// failed, in which case its path is printed for post-mortem.
//
// The HTTP helpers go through reach::net::http_request, i.e. the project's own client; raw socket
// helpers exist for bytes no well-behaved client would send.
//
// The generic parts (child process, HTTP call, raw sockets) live in integration/process.h.
//
// Thread-safety: the HTTP helpers (get/post/patch/del/request) may be called from several
// threads at once; start/stop/kill9/run_cli are for the test's main thread only.
#pragma once

#include "integration/process.h"
#include "net/http.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace reach::itest {

namespace bj = boost::json;

// Checks a Graph error body: {"error":{"code","message","innerError":{"request-id","date"}}},
// the code, and the `request-id` response header.
::testing::AssertionResult IsGraphError(const ApiResult& r, int status, std::string_view code);

struct HubOptions {
  std::string admin_email = "admin@reach.test";
  std::string admin_password = "Integration-Adm1n-Passphrase-7f3c";
  std::vector<std::string> serve_args;  // extra flags for `serve`
};

class HubProcess {
 public:
  explicit HubProcess(HubOptions options = {});
  ~HubProcess();  // kills a running server, removes the data directory (kept on test failure)
  HubProcess(const HubProcess&) = delete;
  HubProcess& operator=(const HubProcess&) = delete;

  // mkdtemp + `reach-hub init` with REACH_ADMIN_PASSWORD set.
  ::testing::AssertionResult init();
  // Starts `serve` on the data directory and waits for the address line (up to 30 s).
  ::testing::AssertionResult start(const std::vector<std::string>& extra_args = {});
  // Another node of `first`'s store (ServiceProcess::join); then start() it.
  ::testing::AssertionResult join(const HubProcess& first) { return service_.join(first.service_); }
  // init() then start().
  ::testing::AssertionResult init_and_start();
  // SIGTERM and wait (up to 15 s); success only for a clean exit with status 0.
  ::testing::AssertionResult stop();
  // SIGKILL and reap: the crash test's power cut.
  void kill9();
  bool running() const { return service_.server().running(); }

  // `reach-hub ARGS…` with `--data DIR` appended when `with_data` is true.
  CommandResult cli(std::vector<std::string> args, bool with_data = true);
  // `token create --email EMAIL`; empty string (and a test failure) on error.
  std::string create_token(const std::string& email);
  // `enrollment-token create …` with the given flags (e.g. {"--userless", "--ownership",
  // "company"}); empty string (and a test failure) on error.
  std::string create_enrollment_token(const std::vector<std::string>& flags);
  // Bearer token for the administrator created by init (cached).
  const std::string& admin_token();

  const std::string& data_dir() const { return service_.data_dir(); }
  // Every row of the hub's store as text (SQLite or PostgreSQL, whichever this run uses).
  CommandResult dump_database() const { return service_.dump_database("hub.db"); }
  CommandResult sql(const std::string& statement) const {
    return service_.sql("hub.db", statement);
  }
  std::string stderr_log_path() const { return service_.stderr_log_path(); }
  std::string read_stderr_log() const;
  std::uint16_t port() const { return service_.server().port(); }
  std::string base_url() const;  // "http://127.0.0.1:PORT"
  const HubOptions& options() const { return options_; }

  // `path_or_url` is a path ("/v1.0/users") or an absolute URL (an @odata.nextLink).
  // A non-empty `bearer` adds "Authorization: Bearer …".
  ApiResult request(std::string_view method, std::string_view path_or_url, std::string body,
                    const net::Headers& headers) const;
  ApiResult get(std::string_view path, const std::string& bearer = {}) const;
  ApiResult post(std::string_view path, const bj::value& body,
                 const std::string& bearer = {}) const;
  ApiResult post_raw(std::string_view path, std::string body, const std::string& bearer = {},
                     std::string_view content_type = "application/json") const;
  ApiResult patch(std::string_view path, const bj::value& body,
                  const std::string& bearer = {}) const;
  ApiResult patch_raw(std::string_view path, std::string body,
                      const std::string& bearer = {}) const;
  ApiResult del(std::string_view path, const std::string& bearer = {}) const;

  // GET /api/health answers 200 {"status":"ok"}.
  ::testing::AssertionResult healthy() const;

 private:
  HubOptions options_;
  ServiceProcess service_{"reach-hub"};
  std::string admin_token_;
};

// --- helpers shared by the tests ---

// Follows @odata.nextLink from `first` (a path) and returns every "value" element; fails the
// test (and stops) on a non-200 page or after `max_pages`.
std::vector<bj::object> collect_pages(const HubProcess& hub, const std::string& first,
                                      const std::string& bearer, int max_pages = 1000);

// Enrolls one device through POST /api/agent/enroll; returns the raw answer.
struct DeviceSpec {
  std::string name;
  std::string os;  // operatingSystem
  std::string os_version = "1.0";
  std::string model = "Model X";
  std::string manufacturer = "Reach Labs";
  std::string serial;
  std::string device_type = "desktop";
  std::string sku_family = "Standard";
};
bj::object device_inventory(const DeviceSpec& d);
// POST /v1.0/users with a password, as `bearer`; the raw answer (201 on success).
ApiResult create_user(const HubProcess& hub, const std::string& bearer, const std::string& upn,
                      const std::string& display_name, const std::string& password);
ApiResult enroll(const HubProcess& hub, const std::string& enrollment_token, const DeviceSpec& d);

}  // namespace reach::itest
