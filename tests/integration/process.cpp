#include "integration/process.h"

#include "pg/test_postgres.h"

#include "net/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

extern char** environ;

namespace reach::itest {

namespace {

using Clock = std::chrono::steady_clock;

// The inherited environment with `env` added or replaced, as "K=V" strings.
std::vector<std::string> make_env(const std::vector<std::pair<std::string, std::string>>& env) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : env) all[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Waits for `pid` to exit for up to `timeout`; returns its wait status, or nullopt on timeout.
// Uses a pidfd so the wait is an event, not a polling loop.
std::optional<int> wait_for_exit(int pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    ::close(pidfd);
    if (rc == 0) return std::nullopt;
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid) return status;
    return std::nullopt;
  }
  // No pidfd (old kernel): poll waitpid with a short period.
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    int rc = ::waitpid(pid, &status, WNOHANG);
    if (rc == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

}  // namespace

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "…" + s.substr(s.size() - n);
}

std::string program_path(std::string_view name) {
  const char* dir = std::getenv("REACH_BIN_DIR");
  std::string d = dir && *dir ? dir : "./bin";
  return d + "/" + std::string(name);
}

CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& env,
                          std::chrono::milliseconds timeout) {
  CommandResult res;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    res.err = std::string("pipe2: ") + std::strerror(errno);
    return res;
  }
  // Everything the child needs is prepared before fork(): the test process has threads.
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = make_env(env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(envs);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  ::close(devnull);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(out[0]);
    ::close(err[0]);
    res.err = std::string("fork: ") + std::strerror(errno);
    return res;
  }
  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&res.out, &res.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      break;
    }
    int rc = ::poll(fds, 2, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  if (res.timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = (!res.timed_out && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  return res;
}

// ------------------------------------------------------------------ ApiResult

const bj::object& ApiResult::obj() const {
  static const bj::object kEmpty;
  if (!json.is_object()) {
    ADD_FAILURE() << "expected a JSON object body, got: " << *this;
    return kEmpty;
  }
  return json.as_object();
}

const bj::array& ApiResult::value() const {
  static const bj::array kEmpty;
  if (!json.is_object()) return kEmpty;
  const auto* v = json.as_object().if_contains("value");
  if (!v || !v->is_array()) return kEmpty;
  return v->as_array();
}

std::string ApiResult::str(std::string_view key) const {
  if (!json.is_object()) return {};
  return str_of(json.as_object(), key);
}

std::ostream& operator<<(std::ostream& os, const ApiResult& r) {
  if (r.status == 0) return os << "[transport error: " << r.transport_error << "]";
  os << "[HTTP " << r.status
     << " body: " << (r.body.size() > 1500 ? r.body.substr(0, 1500) + "…" : r.body) << "]";
  return os;
}

ApiResult http_call(std::string_view method, const std::string& url, std::string body,
                    const net::Headers& headers) {
  net::ClientOptions opts;
  opts.timeout = std::chrono::seconds(60);
  auto r = net::http_request(method, url, headers, std::move(body), opts);
  ApiResult out;
  if (!r) {
    out.transport_error = r.error().code + ": " + r.error().message;
    return out;
  }
  out.status = r->status;
  out.headers = r->headers;
  out.body = std::move(r->body);
  if (!out.body.empty()) {
    boost::system::error_code ec;
    auto v = bj::parse(out.body, ec);
    if (!ec) out.json = std::move(v);
  }
  return out;
}

RawResult raw_exchange(std::uint16_t port, std::string_view bytes, std::chrono::milliseconds wait,
                       std::string_view bind_address) {
  RawResult res;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return res;
  if (!bind_address.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    std::string a(bind_address);
    if (::inet_pton(AF_INET, a.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      ::close(fd);
      return res;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return res;
  }
  res.connected = true;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (e.g. after a 400); read what it said
    sent += static_cast<std::size_t>(n);
  }
  auto start = Clock::now();
  auto deadline = start + wait;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      res.received.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    res.closed_by_peer = true;  // EOF or ECONNRESET
    break;
  }
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  ::close(fd);
  return res;
}

// ------------------------------------------------------------------ ServerProcess

ServerProcess::~ServerProcess() {
  kill9();
}

::testing::AssertionResult ServerProcess::start(const std::vector<std::string>& argv,
                                                const std::string& stderr_log,
                                                std::string_view name) {
  name_ = std::string(name);
  stderr_log_ = stderr_log;
  if (running()) return ::testing::AssertionFailure() << name_ << " is already running";
  std::vector<std::string> args = argv;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return ::testing::AssertionFailure() << "pipe2: " << std::strerror(errno);
  int log = ::open(stderr_log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<std::string> envs = make_env({});
  auto c_args = c_strings(args);
  auto c_env = c_strings(envs);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(log, 2);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(log);
  ::close(devnull);
  if (pid < 0) {
    ::close(out[0]);
    return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  }
  pid_ = pid;
  stdout_fd_ = out[0];

  // The readiness signal: the first line of standard output is the bound address.
  std::string line;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  bool eof = false;
  while (line.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{stdout_fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    char c;
    ssize_t n = ::read(stdout_fd_, &c, 1);  // byte by byte: nothing past the line is consumed
    if (n == 1) {
      line.push_back(c);
    } else if (n == 0 || errno != EINTR) {
      eof = true;
      break;
    }
  }
  if (line.find('\n') == std::string::npos) {
    std::string why = eof ? "serve closed its standard output before printing an address"
                          : "no address line within 30 s";
    kill9();
    return ::testing::AssertionFailure() << why << "; stdout so far: '" << line
                                         << "'; stderr: " << tail(read_file_bytes(stderr_log_));
  }
  line = trim(line);
  // 127.0.0.1:PORT, or [::]:PORT for a server on every address (reached at 127.0.0.1 too).
  static const std::regex kAddress(R"(^(?:127\.0\.0\.1|\[::\]):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(line, m, kAddress)) {
    kill9();
    return ::testing::AssertionFailure()
           << "first line of serve's stdout is '" << line << "', expected 127.0.0.1:PORT";
  }
  int port = std::stoi(m[1].str());
  if (port <= 0 || port > 65535) {
    kill9();
    return ::testing::AssertionFailure() << "bad port in '" << line << "'";
  }
  port_ = static_cast<std::uint16_t>(port);
  // Keep draining stdout so that a chatty server never blocks on a full pipe.
  // What follows the address line is kept (the first 64 KiB) for second_line().
  int fd = stdout_fd_;
  stdout_reader_ = std::thread([this, fd] {
    char buf[4096];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        std::lock_guard lock(stdout_mu_);
        if (stdout_rest_.size() < 65536) stdout_rest_.append(buf, static_cast<std::size_t>(n));
        stdout_cv_.notify_all();
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  });
  return ::testing::AssertionSuccess();
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto status = wait_for_exit(pid_, timeout);
  if (!status) return std::nullopt;
  pid_ = -1;
  reap_stdout_reader();
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
}

std::string ServerProcess::second_line(std::chrono::milliseconds timeout) {
  std::unique_lock lock(stdout_mu_);
  stdout_cv_.wait_for(lock, timeout, [&] { return stdout_rest_.find('\n') != std::string::npos; });
  auto nl = stdout_rest_.find('\n');
  return nl == std::string::npos ? std::string() : stdout_rest_.substr(0, nl);
}

void ServerProcess::reap_stdout_reader() {
  if (stdout_reader_.joinable()) stdout_reader_.join();
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

::testing::AssertionResult ServerProcess::stop() {
  if (!running()) return ::testing::AssertionFailure() << name_ << " is not running";
  ::kill(pid_, SIGTERM);
  auto status = wait_for_exit(pid_, std::chrono::seconds(15));
  if (!status) {
    kill9();
    return ::testing::AssertionFailure() << name_ << " did not stop within 15 s of SIGTERM";
  }
  pid_ = -1;
  reap_stdout_reader();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return ::testing::AssertionFailure() << name_ << " stopped with " << describe_status(*status)
                                         << "; stderr: " << tail(read_file_bytes(stderr_log_));
  return ::testing::AssertionSuccess();
}

void ServerProcess::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  reap_stdout_reader();
}

// ------------------------------------------------------------------ ServiceProcess

ServiceProcess::~ServiceProcess() {
  server_.kill9();
  if (data_dir_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "[" << program_ << "] test failed: keeping data directory " << data_dir_
              << " (server log: " << stderr_log_path() << ")"
              << (db_url_.empty() ? "" : " and database " + db_url_) << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
  if (!db_url_.empty()) testpg::drop_database(db_url_);
}

CommandResult ServiceProcess::dump_database(const std::string& sqlite_file) const {
  if (!db_url_.empty()) return run_command({"/usr/bin/pg_dump", "--no-owner", db_url_});
  return run_command({"/usr/bin/sqlite3", data_dir_ + "/" + sqlite_file, ".dump"});
}

CommandResult ServiceProcess::sql(const std::string& sqlite_file,
                                  const std::string& statement) const {
  if (!db_url_.empty())
    return run_command(
        {"/usr/bin/psql", "-qAt", "-v", "ON_ERROR_STOP=1", db_url_, "-c", statement});
  return run_command({"/usr/bin/sqlite3", "-bail", "-cmd", ".timeout 5000",
                      data_dir_ + "/" + sqlite_file, statement});
}

::testing::AssertionResult ServiceProcess::init(const std::string& admin_email,
                                                const std::string& admin_password) {
  if (data_dir_.empty()) {
    data_dir_ = make_temp_dir(program_ + "-it-");
    if (data_dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  }
  std::vector<std::string> argv = {program_path(program_), "init",     "--data", data_dir_,
                                   "--admin-email",        admin_email};
  if (testpg::selected() && db_url_.empty()) {
    db_url_ = testpg::create_database(program_);
    if (db_url_.empty()) return ::testing::AssertionFailure() << "no PostgreSQL database";
  }
  if (!db_url_.empty()) {
    argv.push_back("--db");
    argv.push_back(db_url_);
  }
  auto r = run_command(argv, {{"REACH_ADMIN_PASSWORD", admin_password}});
  if (r.exit_code != 0)
    return ::testing::AssertionFailure()
           << program_ << " init failed (" << r.exit_code << "): " << r.err << r.out;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServiceProcess::join(const ServiceProcess& first) {
  if (first.db_url_.empty())
    return ::testing::AssertionFailure() << "several nodes need the PostgreSQL store";
  data_dir_ = make_temp_dir(program_ + "-node-");
  if (data_dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  for (const char* f : {"secret.key", "database"}) {
    std::error_code ec;
    std::filesystem::copy_file(first.data_dir_ + "/" + f, data_dir_ + "/" + f, ec);
    if (ec) return ::testing::AssertionFailure() << "copying " << f << ": " << ec.message();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServiceProcess::start(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {program_path(program_), "serve", "--data", data_dir_};
  // A test that restarts a server on its old port passes its own --listen.
  if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
    argv.push_back("--listen");
    argv.push_back("127.0.0.1:0");
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return server_.start(argv, stderr_log_path(), program_);
}

CommandResult ServiceProcess::cli(std::vector<std::string> args, bool with_data,
                                  const std::vector<std::pair<std::string, std::string>>& env) {
  args.insert(args.begin(), program_path(program_));
  if (with_data) {
    args.push_back("--data");
    args.push_back(data_dir_);
  }
  return run_command(args, env);
}

std::string ServiceProcess::create_token(const std::string& email) {
  auto r = cli({"token", "create", "--email", email});
  EXPECT_EQ(r.exit_code, 0) << "token create --email " << email << ": " << r.err;
  std::string t = trim(r.out);
  EXPECT_FALSE(t.empty()) << "token create printed nothing";
  EXPECT_EQ(t.find_first_of(" \n\t"), std::string::npos) << "token create printed: " << r.out;
  return r.exit_code == 0 ? t : std::string();
}

std::string q(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string make_temp_dir(std::string_view prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + std::string(prefix) + "XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return {};
  }
  return tmpl;
}

std::string str_of(const bj::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return {};
  return std::string(v->as_string());
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace reach::itest

namespace reach::itest {

ChildProcess::~ChildProcess() {
  kill9();
}

::testing::AssertionResult ChildProcess::start(
    const std::vector<std::string>& argv, const std::string& output_log,
    const std::vector<std::pair<std::string, std::string>>& env) {
  if (running()) return ::testing::AssertionFailure() << argv[0] << " is already running";
  output_log_ = output_log;
  std::vector<std::string> args = argv;
  int log = ::open(output_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log < 0 || devnull < 0)
    return ::testing::AssertionFailure()
           << "cannot open " << output_log << ": " << std::strerror(errno);
  std::vector<std::string> envs = make_env(env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(envs);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  ::close(log);
  ::close(devnull);
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  pid_ = pid;
  return ::testing::AssertionSuccess();
}

std::optional<int> ChildProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  auto st = wait_for_exit(pid_, timeout);
  if (!st) {
    kill9();
    return std::nullopt;
  }
  pid_ = -1;
  exit_status_ = WIFEXITED(*st) ? std::optional<int>(WEXITSTATUS(*st)) : std::nullopt;
  return exit_status_;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  auto st = wait_for_exit(pid_, timeout);
  if (!st) return std::nullopt;
  pid_ = -1;
  exit_status_ = WIFEXITED(*st) ? std::optional<int>(WEXITSTATUS(*st)) : std::optional<int>(-1);
  return exit_status_;
}

void ChildProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ChildProcess::output() const {
  return read_file_bytes(output_log_);
}

ApiResult Browser::go(std::string_view method, std::string_view path_or_url, std::string body,
                      std::string_view content_type) {
  net::Headers h = headers;
  std::string jar;
  for (const auto& [k, v] : cookies) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
  if (!jar.empty()) h.set("Cookie", jar);
  if (method == "POST" && !body.empty()) h.set("Content-Type", std::string(content_type));
  std::string url = path_or_url.starts_with("http://") || path_or_url.starts_with("https://")
                        ? std::string(path_or_url)
                        : base_url + std::string(path_or_url);
  auto r = http_call(method, url, std::move(body), h);
  last_set_cookies.clear();
  for (auto sc : r.headers.get_all("Set-Cookie")) {
    last_set_cookies.emplace_back(sc);
    auto semi = sc.find(';');
    auto pair = sc.substr(0, semi);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(pair.substr(0, eq)), value(pair.substr(eq + 1));
    if (sc.find("Max-Age=0") != std::string_view::npos)
      cookies.erase(name);
    else
      cookies[name] = value;
  }
  return r;
}

std::string Browser::set_cookie_for(std::string_view name) const {
  for (const auto& c : last_set_cookies)
    if (c.starts_with(std::string(name) + "=")) return c;
  return {};
}

std::string html_unescape(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {{"&lt;", "<"},    {"&gt;", ">"},
                                                                  {"&quot;", "\""}, {"&#39;", "'"},
                                                                  {"&#x27;", "'"},  {"&amp;", "&"}};
  for (const auto& [from, to] : kEntities) {
    std::string f(from);
    for (auto p = s.find(f); p != std::string::npos; p = s.find(f, p + 1))
      s.replace(p, f.size(), to);
  }
  return s;
}

std::map<std::string, std::string> hidden_inputs(const std::string& html) {
  static const std::regex kHidden(R"re(<input type=hidden name="([^"]*)" value="([^"]*)">)re");
  std::map<std::string, std::string> out;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), kHidden);
       it != std::sregex_iterator(); ++it)
    out[html_unescape((*it)[1].str())] = html_unescape((*it)[2].str());
  return out;
}

::testing::AssertionResult VirtualDisplay::start(const std::string& dir, int width, int height) {
  log_ = dir + "/xvfb.log";
  auto st = xvfb_.start({"/usr/bin/Xvfb", "-displayfd", "1", "-screen", "0",
                         std::to_string(width) + "x" + std::to_string(height) + "x24", "-nolisten",
                         "tcp", "-noreset"},
                        log_);
  if (!st) return st;
  bool ok = wait_until(
      [&] {
        std::istringstream in(read_file_bytes(log_));
        std::string line;
        while (std::getline(in, line))
          if (!line.empty() && line.find_first_not_of("0123456789") == std::string::npos) {
            name_ = ":" + line;
            return true;
          }
        return false;
      },
      std::chrono::seconds(20));
  if (!ok) return ::testing::AssertionFailure() << "Xvfb did not start: " << xvfb_.output();
  return ::testing::AssertionSuccess();
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace reach::itest
