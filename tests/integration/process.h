// Program-independent pieces of the integration-test harnesses (hub_process.h, relay_process.h):
// running a command to completion, running a server as a child process whose first line of
// standard output is its bound address, HTTP calls through the project's own client, and raw
// socket exchanges for bytes no well-behaved client would send.
//
// Thread-safety: the free functions may be called from several threads at once; a ServerProcess
// is for the test's main thread only.
#pragma once

#include "net/http.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace reach::itest {

namespace bj = boost::json;

// Path of a program built by this project ($REACH_BIN_DIR/<name>).
std::string program_path(std::string_view name);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs argv[0] (a path) to completion with stdin at /dev/null, capturing both streams.
// `env` entries are added to (or replace) the inherited environment.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60));

// An HTTP answer with its body parsed as JSON when it is JSON (else `json` is null).
struct ApiResult {
  int status = 0;  // 0: the request failed below HTTP (see `transport_error`)
  std::string transport_error;
  net::Headers headers;
  std::string body;
  bj::value json;

  bool is_object() const { return json.is_object(); }
  const bj::object& obj() const;  // an empty object (and a test failure) when not an object
  // The "value" array of a collection, or an empty array.
  const bj::array& value() const;
  std::string str(std::string_view key) const;  // top-level string property, or ""
};
std::ostream& operator<<(std::ostream& os, const ApiResult& r);

// One request through reach::net::http_request to an absolute URL (60 s timeout).
ApiResult http_call(std::string_view method, const std::string& url, std::string body,
                    const net::Headers& headers);

// What a raw socket exchange saw.
struct RawResult {
  bool connected = false;
  std::string received;                  // every byte the server sent
  bool closed_by_peer = false;           // EOF or reset seen before the deadline
  std::chrono::milliseconds elapsed{0};  // from the end of sending to close (or deadline)
};

// Connects to 127.0.0.1:port (from `bind_address` when given, e.g. "127.0.0.2"), sends `bytes`
// (without closing its side), then reads until the server closes the connection or `wait` has
// passed.
RawResult raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds wait,
                       std::string_view bind_address = {});

// A server program run as a child: its first line of standard output is "127.0.0.1:PORT" (the
// readiness signal; there is no sleeping), its standard error is appended to a log file, and the
// rest of its standard output is drained. Killed (SIGKILL) on destruction if still running.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts argv (argv[0] a path) and waits up to 30 s for the address line. `name` is used in
  // failure messages ("the hub", "the relay").
  ::testing::AssertionResult start(const std::vector<std::string>& argv,
                                   const std::string& stderr_log, std::string_view name);
  // SIGTERM and wait (up to 15 s); success only for a clean exit with status 0.
  ::testing::AssertionResult stop();
  // SIGKILL and reap.
  void kill9();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  // Waits for the program to exit by itself: its exit status (128+N for signal N), or nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // The line of standard output after the address ("" if none within `timeout`).
  std::string second_line(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void reap_stdout_reader();

  std::string name_;
  std::string stderr_log_;
  int pid_ = -1;
  int stdout_fd_ = -1;
  std::thread stdout_reader_;  // drains the child's stdout after the address line
  std::mutex stdout_mu_;
  std::condition_variable stdout_cv_;
  std::string stdout_rest_;  // guarded by stdout_mu_
  std::uint16_t port_ = 0;
};

// A Reach service program (reach-hub, reach-relay) with a fresh data directory, run the way
// SPEC §2 defines both: `PROGRAM init --data DIR --admin-email EMAIL` (REACH_ADMIN_PASSWORD) and
// `PROGRAM serve --data DIR --listen 127.0.0.1:0 …` with standard error appended to
// `DIR/serve.stderr.log`. The directory is removed on destruction unless the test failed.
class ServiceProcess {
 public:
  explicit ServiceProcess(std::string program) : program_(std::move(program)) {}
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // mkdtemp (the first time) and `init`; on a PostgreSQL run (testpg::selected()), `init --db`
  // with a new database of the tests' server.
  ::testing::AssertionResult init(const std::string& admin_email,
                                  const std::string& admin_password);
  // Another node of `first`'s store: a data directory of its own holding copies of `first`'s
  // secret key and database URL, as an operator sets up a second node.
  ::testing::AssertionResult join(const ServiceProcess& first);
  // `serve` with `args` appended; waits for the address line.
  ::testing::AssertionResult start(const std::vector<std::string>& args);
  // `PROGRAM ARGS…`, with `--data DIR` appended when `with_data` is true.
  CommandResult cli(std::vector<std::string> args, bool with_data = true,
                    const std::vector<std::pair<std::string, std::string>>& env = {});
  // `token create --email EMAIL`; "" (and a test failure) on error.
  std::string create_token(const std::string& email);

  ServerProcess& server() { return server_; }
  const ServerProcess& server() const { return server_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string stderr_log_path() const { return data_dir_ + "/serve.stderr.log"; }
  // The PostgreSQL database's URL on a PostgreSQL run; empty on SQLite.
  const std::string& database_url() const { return db_url_; }
  // Every row of the store as text (sqlite3 .dump or pg_dump), for tests that look at rest.
  CommandResult dump_database(const std::string& sqlite_file) const;
  // Runs `statement` on the store from another process (sqlite3 or psql), as an operator's tool
  // would: for the state no API reaches. Rows come out one per line, columns separated by '|'.
  CommandResult sql(const std::string& sqlite_file, const std::string& statement) const;

 private:
  std::string program_;
  std::string data_dir_;
  std::string db_url_;
  ServerProcess server_;
};

// A program run in the background (an agent, a VNC client): standard output and error go to
// one log file, standard input is /dev/null. Killed (SIGKILL) on destruction if still running.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ::testing::AssertionResult start(
      const std::vector<std::string>& argv, const std::string& output_log,
      const std::vector<std::pair<std::string, std::string>>& env = {});
  // SIGTERM, then waits; the exit code, or nullopt when killed after `timeout` or by a signal.
  std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for it to exit by itself; nullopt when still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill9();
  bool running() const { return pid_ > 0; }
  int pid() const { return pid_; }
  std::string output() const;  // everything it printed so far

 private:
  int pid_ = -1;
  std::optional<int> exit_status_;
  std::string output_log_;
};

// A cookie jar in front of one server, as a browser would hold it: sends the cookies it was
// given, stores those Set-Cookie gives (Max-Age=0 removes), and sends POST bodies as forms.
struct Browser {
  explicit Browser(std::string base) : base_url(std::move(base)) {}

  std::string base_url;  // "http://127.0.0.1:PORT"
  std::map<std::string, std::string> cookies;
  std::vector<std::string> last_set_cookies;
  net::Headers headers;  // sent with every request (an X-Forwarded-For a balancer would add)

  // `path_or_url`: a path on base_url or an absolute URL. Does not follow redirects.
  ApiResult go(std::string_view method, std::string_view path_or_url, std::string body = {},
               std::string_view content_type = "application/x-www-form-urlencoded");
  // The whole Set-Cookie line of the last answer for `name`, or "".
  std::string set_cookie_for(std::string_view name) const;
};

// The hidden inputs of an HTML page's forms, by name (entities decoded).
std::map<std::string, std::string> hidden_inputs(const std::string& html);
std::string html_unescape(std::string s);

// Xvfb on a display number it chose itself (-displayfd: no races between tests), with -noreset
// (the server would otherwise reset, refusing connections for a moment, whenever its last client
// leaves, as between two sessions of a test), logging to
// `dir`/xvfb.log. Killed on destruction.
class VirtualDisplay {
 public:
  ::testing::AssertionResult start(const std::string& dir, int width, int height);
  void kill() { xvfb_.kill9(); }
  const std::string& name() const { return name_; }  // ":N"

 private:
  ChildProcess xvfb_;
  std::string log_;
  std::string name_;
};

// Polls `done` every `poll` until it returns true (true) or `timeout` passed (false).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(50));

// Makes a fresh directory $TMPDIR/<prefix>XXXXXX; "" (and a test failure) on error.
std::string make_temp_dir(std::string_view prefix);

// Percent-encodes a query value (spaces, quotes, parentheses, commas…).
std::string q(std::string_view value);

// The string property `key` of `o`, or "" when absent or not a string.
std::string str_of(const bj::object& o, std::string_view key);

// Reads a whole file as bytes ("" when it does not exist).
std::string read_file_bytes(const std::string& path);

// `s` without leading and trailing white space.
std::string trim(std::string s);

// The last `n` characters of `s` (for failure messages).
std::string tail(const std::string& s, std::size_t n = 3000);

}  // namespace reach::itest
