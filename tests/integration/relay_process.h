// Test harness for integration tests of the real `reach-relay` program on loopback.
//
// RelayProcess owns a fresh data directory, runs `reach-relay init` with a known administrator
// password, and starts `reach-relay serve --listen 127.0.0.1:0` through ServerProcess (first
// stdout line = address; standard error appended to `<data>/serve.stderr.log`). The directory is
// removed on destruction unless the test failed.
//
// WsPeer is a WebSocket end for the stream endpoints: it records what arrives (bytes, an
// order-sensitive checksum, text messages) and how the socket closed, for tests to wait on.
//
// Thread-safety: the HTTP helpers may be called from several threads; start/stop/cli are for the
// test's main thread only. WsPeer's accessors may be called from any thread.
#pragma once

#include "integration/process.h"
#include "net/client.h"

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace reach::itest {

struct RelayOptions {
  std::string admin_email = "admin@relay.test";
  std::string admin_password = "Relay-Integration-Adm1n-9d2e";
  std::vector<std::string> serve_args;  // extra flags for `serve`
};

struct OAuthClient {
  std::string client_id, client_secret;
};

class RelayProcess {
 public:
  explicit RelayProcess(RelayOptions options = {});
  ~RelayProcess() = default;  // kills the server, removes the data directory (kept on failure)
  RelayProcess(const RelayProcess&) = delete;
  RelayProcess& operator=(const RelayProcess&) = delete;

  ::testing::AssertionResult init();
  // A further node on `first`'s store (PostgreSQL runs): its own data directory with the same
  // secret key and database URL, and the same administrator.
  ::testing::AssertionResult join(const RelayProcess& first) {
    return service_.join(first.service_);
  }
  void kill9() { service_.server().kill9(); }
  ::testing::AssertionResult start(const std::vector<std::string>& extra_args = {});
  ::testing::AssertionResult init_and_start(const std::vector<std::string>& extra_args = {});
  ::testing::AssertionResult stop() { return service_.server().stop(); }
  bool running() const { return service_.server().running(); }
  int pid() const { return service_.server().pid(); }
  std::uint16_t port() const { return service_.server().port(); }
  std::string base_url() const;                     // "http://127.0.0.1:PORT"
  std::string ws_url(std::string_view path) const;  // "ws://127.0.0.1:PORT" + path
  const RelayOptions& options() const { return options_; }
  const std::string& data_dir() const { return service_.data_dir(); }
  // Every row of the relay's store as text (SQLite or PostgreSQL, whichever this run uses).
  CommandResult dump_database() const { return service_.dump_database("relay.db"); }
  std::string read_stderr_log() const;

  // `reach-relay ARGS… --data DIR`.
  CommandResult cli(std::vector<std::string> args,
                    const std::vector<std::pair<std::string, std::string>>& env = {});
  // Each of these fails the test (and returns empty values) when the command fails.
  std::string create_token(const std::string& email);
  OAuthClient add_client(const std::string& name, const std::string& redirect_uri);
  void add_account(const std::string& email, const std::string& password);
  const std::string& admin_token();  // script token of the administrator (cached)
  // A session made in the portal by the administrator, as a supporter makes one for a userless
  // device (its device may join with the code alone): the sessions API's full JSON of it.
  ApiResult portal_session(const std::string& description = "Portal session");

  // `path_or_url` is a path or an absolute URL.
  ApiResult request(std::string_view method, std::string_view path_or_url, std::string body,
                    const net::Headers& headers) const;
  ApiResult get(std::string_view path, const std::string& bearer = {}) const;
  ApiResult post_json(std::string_view path, const bj::value& body,
                      const std::string& bearer = {}) const;
  ApiResult send_raw(std::string_view method, std::string_view path, std::string body,
                     const std::string& bearer, std::string_view content_type) const;
  ApiResult put_json(std::string_view path, const bj::value& body,
                     const std::string& bearer = {}) const;

  // VmRSS of the server process in KiB (0 when unreadable).
  std::int64_t vm_rss_kib() const;

 private:
  RelayOptions options_;
  ServiceProcess service_{"reach-relay"};
  std::string admin_token_;
};

// Checks the Web API error body {"error","error_description","error_code"} and its status.
::testing::AssertionResult IsApiError(const ApiResult& r, int status, std::string_view error);

// "a=1&b=2" with percent-encoded values.
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// The last path segment of a link ("s12345678-TOKEN" of ".../join/s12345678-TOKEN"), without
// its fragment.
std::string last_segment(std::string_view link);

// An order-sensitive 64-bit checksum of a byte stream, independent of how it is split.
class StreamChecksum {
 public:
  void update(std::string_view bytes);
  std::uint64_t value() const;  // of everything so far (pending bytes included)
  std::uint64_t bytes() const { return total_; }

 private:
  std::uint64_t h_ = 0x9E3779B97F4A7C15ull;
  std::uint64_t total_ = 0;
  std::uint64_t pending_ = 0;  // up to 7 bytes not yet folded in
  int pending_len_ = 0;
};

// A WebSocket end that records what it receives. Create with std::make_shared, pass to
// net::websocket_connect, then use socket() (set on open).
class WsPeer : public net::WebSocketHandler {
 public:
  void on_open(std::shared_ptr<net::WebSocket> ws) override;
  void on_message(std::string data, bool binary) override;
  void on_drain() override;
  void on_close(std::uint16_t code, std::string reason) override;

  std::shared_ptr<net::WebSocket> socket() const;
  std::uint64_t received_bytes() const;
  std::uint64_t checksum() const;
  std::vector<std::string> messages() const;  // the first 64 messages, as received
  bool closed() const;
  std::uint16_t close_code() const;
  std::string close_reason() const;
  // Waits until closed (true) or `timeout` passed (false).
  bool wait_closed(std::chrono::milliseconds timeout) const;
  // Waits until at least `n` bytes were received.
  bool wait_bytes(std::uint64_t n, std::chrono::milliseconds timeout) const;
  // Waits until on_drain was called since the last wait_drain, or the socket closed.
  bool wait_drain(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::shared_ptr<net::WebSocket> ws_;  // guarded by mu_
  StreamChecksum sum_;                  // guarded by mu_
  std::vector<std::string> messages_;   // guarded by mu_
  bool drained_ = false;                // guarded by mu_
  bool closed_ = false;                 // guarded by mu_
  std::uint16_t close_code_ = 0;        // guarded by mu_
  std::string close_reason_;            // guarded by mu_
};

}  // namespace reach::itest
