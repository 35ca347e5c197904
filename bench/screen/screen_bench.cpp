// bench/screen: screen sharing of Reach (reach-agent through reach-relay and `reach connect`)
// beside TigerVNC's scraping server (x0vncserver) and x11vnc, serving the same Xvfb display with
// the same load to the same client in the same run. The ratios are the figures.
//
//   reach_bench_screen [--bin DIR] [--loads full,scroll,square]
//       [--servers reach,x0vncserver,x11vnc] [--seconds 10] [--warmup 3] [--fps 30]
//       [--quality 8] [--compress 2] [--encodings "tight zrle copyrect"] [--keep] [--verbose]
//
// Each cell (one load, one server) starts afresh: a 1920x1080x24 Xvfb, reach_bench_screen_load
// drawing the load and stamping every frame with its number (marker.h), the server under test,
// and a libvncclient client in this process that asks every server for the same encodings and
// requests an incremental update after each one it has decoded (libvncclient's own loop). After
// each FramebufferUpdate the client reads the marker back; the first time it sees a frame number
// is that frame's receipt. Over the measured window (after a warm-up):
//   fps        distinct frames received per second
//   p50, p95   receipt minus the load's draw time (both CLOCK_MONOTONIC on this machine)
//   KiB/s      bytes the client's socket received (TCP_INFO tcpi_bytes_received): what the
//              server sent, after any bridge, RFB framing included
//   CPU %      utime+stime growth of the server process (/proc/PID/stat) over the window, in
//              percent of one core: reach-agent for Reach, X0tigervnc (the program x0vncserver
//              runs) and x11vnc for the peers; the X server's and, for Reach, the relay's and
//              `reach connect`'s are reported beside it
#include "common/crypto.h"
#include "common/log.h"
#include "marker.h"
#include "net/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace marker = reach::bench::marker;
using namespace std::chrono_literals;

bool g_verbose = false;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "reach_bench_screen: %s\n", msg.c_str());
  std::exit(1);
}

void note(const std::string& msg) {
  if (g_verbose) std::fprintf(stderr, "reach_bench_screen: %s\n", msg.c_str());
}

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

// ------------------------------------------------------------------ child processes

// A child process. Its standard output is a pipe (`out`) or a file; standard error goes to
// `log` so that a failing cell can say why.
struct Child {
  pid_t pid = -1;
  int out = -1;
  std::string name, log;
};

Child spawn(const std::string& name, const std::vector<std::string>& argv, const fs::path& dir,
            bool pipe_stdout, const std::vector<std::string>& env = {}) {
  Child c;
  c.name = name;
  c.log = (dir / (name + ".log")).string();
  int fds[2] = {-1, -1};
  if (pipe_stdout && pipe(fds) != 0) die("pipe");
  std::string out_file = (dir / (name + ".out")).string();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    setpgid(0, 0);  // a signal to the bench's terminal does not reach the servers twice
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    if (pipe_stdout) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
    } else {
      int f = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(f, 1);
    }
    int err = open(c.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(err, 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  if (pipe_stdout) {
    close(fds[1]);
    c.out = fds[0];
  }
  c.pid = pid;
  note(fmt::format("started {} (pid {})", name, pid));
  return c;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.size() > 1500) all = "…" + all.substr(all.size() - 1500);
  return all;
}

// Reads one line within `timeout`; nullopt on timeout or end of file.
std::optional<std::string> read_line(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char c;
    if (read(fd, &c, 1) != 1) return std::nullopt;
    if (c == '\n') return line;
    line += c;
  }
}

std::string expect_line(const Child& c, std::chrono::milliseconds timeout) {
  auto line = read_line(c.out, timeout);
  if (!line) die(fmt::format("{} printed nothing; its log:\n{}", c.name, tail_of(c.log)));
  return *line;
}

void stop(Child& c) {
  if (c.pid <= 0) return;
  kill(c.pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(c.pid, nullptr, WNOHANG) == c.pid) {
      c.pid = -1;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  if (c.pid > 0) {
    kill(c.pid, SIGKILL);
    waitpid(c.pid, nullptr, 0);
    c.pid = -1;
  }
  if (c.out >= 0) close(c.out);
  c.out = -1;
}

bool alive(const Child& c) {
  return c.pid > 0 && waitpid(c.pid, nullptr, WNOHANG) == 0;
}

// Runs a short command to its end and returns its standard output.
std::string run(const std::vector<std::string>& argv, const fs::path& dir,
                const std::vector<std::string>& env = {}, int* status = nullptr) {
  Child c = spawn("cmd-" + fs::path(argv[0]).filename().string(), argv, dir, true, env);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(c.out, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(c.out);
  int st = 0;
  waitpid(c.pid, &st, 0);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  if (status)
    *status = code;
  else if (code != 0)
    die(fmt::format("{} failed: {}", argv[0], tail_of(c.log)));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// CPU time (user + system, all threads) of a process, in seconds.
double cpu_seconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // state … cmajflt (fields 3..13)
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// bench/wan: the device's side (display, load, server under test, agent) runs in this network
// namespace, across reach_bench_wan_link's link from the bench (the viewer), the relay and `reach
// connect`, which run where the bench runs ("" : everything on this host's loopback).
std::string g_device_ns;
std::string g_device_addr = "127.0.0.1";  // where the bench reaches the device's servers
std::string g_relay_listen = "127.0.0.1:0";

// `argv` as run on the device's side.
std::vector<std::string> on_device(std::vector<std::string> argv) {
  if (g_device_ns.empty()) return argv;
  argv.insert(argv.begin(), {"ip", "netns", "exec", g_device_ns});
  return argv;
}

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool wait_listening(std::uint16_t port, const Child& server, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && alive(server)) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, g_device_addr.c_str(), &a.sin_addr);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// ------------------------------------------------------------------ the VNC client

int viewer_tag;  // its address tags the Viewer in libvncclient's client data

struct Receipt {
  std::uint32_t seq;
  std::int64_t ns;
};

// One libvncclient connection on its own thread. `receipts` and `bad_markers` are written by
// that thread only and read after join(); the other fields are atomics or set before start.
class Viewer {
 public:
  Viewer(std::string host, std::uint16_t port, std::string encodings, int quality, int compress)
      : host_(std::move(host)),
        port_(port),
        encodings_(std::move(encodings)),
        quality_(quality),
        compress_(compress) {}
  ~Viewer() { finish(); }
  // VNC Authentication's password (reach connect's one-time password); none for the peers.
  void set_password(std::string p) { password_ = std::move(p); }

  void start() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    inet_pton(AF_INET, host_.c_str(), &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      set_state(State::failed);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sock_ = fd;
    thread_ = std::thread([this] { body(); });
  }

  // Blocks until the handshake ended (true: connected) or `timeout` passed.
  bool wait_connected(std::chrono::milliseconds timeout) {
    std::unique_lock l(mu_);
    cv_.wait_for(l, timeout, [&] { return state_ != State::connecting; });
    return state_ == State::connected;
  }
  bool wait_first_frame(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (frames_seen_ > 0) return true;
      if (state_ == State::failed) return false;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  bool failed() const { return state_ == State::failed; }

  std::uint64_t bytes_received() const {
    int fd = sock_;
    if (fd < 0) return 0;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return 0;
    return info.tcpi_bytes_received;
  }

  void finish() {
    stop_ = true;
    int fd = sock_;
    if (fd >= 0) shutdown(fd, SHUT_RDWR);  // unblocks a handshake that never ends
    if (thread_.joinable()) thread_.join();
    if (fd >= 0) close(fd);
    sock_ = -1;
  }

  const std::vector<Receipt>& receipts() const { return receipts_; }
  int bad_markers() const { return bad_markers_; }

 private:
  enum class State { connecting, connected, failed };

  void set_state(State s) {
    std::lock_guard l(mu_);
    state_ = s;
    cv_.notify_all();
  }

  static void on_frame(rfbClient* client) {
    auto* self = static_cast<Viewer*>(rfbClientGetClientData(client, &viewer_tag));
    std::int64_t t = now_ns();
    const auto& f = client->format;
    const auto* fb = client->frameBuffer;
    const int width = client->width;
    auto luma = [&](int x, int y) {
      std::uint32_t px;
      std::memcpy(&px, fb + (static_cast<std::size_t>(y) * width + x) * 4, 4);
      int r = static_cast<int>((px >> f.redShift) & f.redMax) * 255 / f.redMax;
      int g = static_cast<int>((px >> f.greenShift) & f.greenMax) * 255 / f.greenMax;
      int b = static_cast<int>((px >> f.blueShift) & f.blueMax) * 255 / f.blueMax;
      return (r * 77 + g * 150 + b * 29) >> 8;
    };
    if (width < marker::kWidth || client->height < marker::kHeight) return;
    if (auto seq = marker::decode(luma)) {
      self->receipts_.push_back({*seq, t});
      ++self->frames_seen_;
    } else {
      ++self->bad_markers_;
    }
  }

  static void quiet(const char*, ...) {}
  static void loud(const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vfprintf(stderr, format, args);
    va_end(args);
  }

  void body() {
    rfbClientLog = g_verbose ? loud : quiet;
    rfbClientErr = g_verbose ? loud : quiet;
    rfbClient* client = rfbGetClient(8, 3, 4);
    client->serverHost = strdup(host_.c_str());
    client->serverPort = port_;
    client->appData.encodingsString = encodings_.c_str();
    client->appData.qualityLevel = quality_;
    client->appData.compressLevel = compress_;
    client->appData.enableJPEG = TRUE;
    client->appData.shareDesktop = TRUE;
    client->FinishedFrameBufferUpdate = on_frame;
    client->GetPassword = [](rfbClient* c) -> char* {
      auto* self = static_cast<Viewer*>(rfbClientGetClientData(c, &viewer_tag));
      return self->password_.empty() ? nullptr : strdup(self->password_.c_str());
    };
    rfbClientSetClientData(client, &viewer_tag, this);
    // The bench connects the socket itself (libvncclient's "listen" mode takes it as is), so
    // that finish() can break a handshake that never ends: Reach holds it until "allow".
    // libvncclient owns a duplicate; sock_ stays open until finish() for shutdown and TCP_INFO.
    client->sock = dup(sock_);
    client->listenSpecified = TRUE;
    bool ok = rfbInitClient(client, nullptr, nullptr);  // frees the client when it fails
    if (!ok) {
      set_state(State::failed);
      return;
    }
    set_state(State::connected);
    while (!stop_) {
      if (client->buffered == 0) {
        int n = WaitForMessage(client, 50000);
        if (n < 0) break;
        if (n == 0) continue;
      }
      if (!HandleRFBServerMessage(client)) break;
    }
    if (!stop_) set_state(State::failed);
    std::free(client->frameBuffer);
    client->frameBuffer = nullptr;
    rfbClientCleanup(client);
  }

  const std::string host_;
  const std::uint16_t port_;
  const std::string encodings_;
  const int quality_, compress_;
  std::string password_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> sock_{-1};
  std::atomic<std::uint64_t> frames_seen_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<State> state_{State::connecting};
  std::vector<Receipt> receipts_;
  int bad_markers_ = 0;
};

// ------------------------------------------------------------------ Reach's relay

struct Relay {
  Child proc;
  std::string base, token;
};

Relay start_relay(const fs::path& bin, const fs::path& dir) {
  Relay r;
  fs::path data = dir / "relay-data";
  std::string relay = (bin / "reach-relay").string();
  run({relay, "init", "--data", data.string(), "--admin-email", "bench@reach.test"}, dir,
      {"REACH_ADMIN_PASSWORD=bench-password-1"});
  r.token =
      run({relay, "token", "create", "--data", data.string(), "--email", "bench@reach.test"}, dir);
  r.proc = spawn("reach-relay",
                 {relay, "serve", "--data", data.string(), "--listen", g_relay_listen,
                  "--log-level", g_verbose ? "debug" : "warn"},
                 dir, true);
  r.base = "http://" + expect_line(r.proc, 20s);
  note("relay at " + r.base);
  return r;
}

// ------------------------------------------------------------------ one cell

struct Options {
  fs::path bin, load_program, work;
  std::vector<std::string> loads{"full", "scroll", "square"};
  std::vector<std::string> servers{"reach", "x0vncserver", "x11vnc"};
  double seconds = 10, warmup = 3, fps = 30;
  int quality = 8, compress = 2;
  std::string encodings = "tight zrle copyrect";
  bool keep = false;
};

struct Result {
  bool ok = false;
  std::string error;
  double drawn_fps = 0, fps = 0, p50_ms = 0, p95_ms = 0, kib_s = 0, cpu = 0, xvfb_cpu = 0;
  std::optional<double> relay_cpu, connect_cpu;  // Reach only: reach-relay, `reach connect`
  int bad_markers = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

std::string session_state(const fs::path& agent, const fs::path& state, const fs::path& dir) {
  int status = 0;
  std::string out = run(on_device({agent.string(), "status", "--json", "--state", state.string()}),
                        dir, {}, &status);
  if (status != 0 || out.empty()) return "";
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  if (ec || !v.is_object()) return "";
  auto* s = v.as_object().if_contains("session");
  if (!s || !s->is_object()) return "";
  auto* st = s->as_object().if_contains("state");
  return st && st->is_string() ? std::string(st->as_string()) : "";
}

Result run_cell(const Options& o, const std::string& load, const std::string& server,
                Relay* relay) {
  Result res;
  fs::path dir = o.work / (load + "-" + server);
  fs::create_directories(dir);
  std::vector<Child*> started;
  auto cleanup = [&] {
    for (auto it = started.rbegin(); it != started.rend(); ++it) stop(**it);
  };
  // `why` goes in the table; `detail` (the programs' last words) on standard error.
  auto fail = [&](std::string why, const std::string& detail = {}) {
    std::fprintf(stderr, "reach_bench_screen: %s / %s: %s\n%s\n", load.c_str(), server.c_str(),
                 why.c_str(), detail.c_str());
    res.error = std::move(why);
    return res;
  };

  Child xvfb = spawn(
      "Xvfb",
      on_device({"Xvfb", "-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"}),
      dir, true);
  started.push_back(&xvfb);
  auto display_number = read_line(xvfb.out, 20s);
  if (!display_number) {
    cleanup();
    return fail("Xvfb did not start", tail_of(xvfb.log));
  }
  std::string display = ":" + *display_number;

  fs::path times = dir / "times.txt";
  Child drawer =
      spawn("load",
            on_device({o.load_program.string(), "--load", load, "--fps", fmt::format("{}", o.fps),
                       "--display", display, "--times", times.string()}),
            dir, true);
  started.push_back(&drawer);
  if (!read_line(drawer.out, 60s)) {
    cleanup();
    return fail("the load did not start", tail_of(drawer.log));
  }

  Child srv, agent_conn;
  auto server_tail = [&] {
    std::string t = tail_of(srv.log);
    if (server == "reach") t += tail_of((dir / "reach-agent.out").string());
    return t;
  };
  std::string host = g_device_addr;
  std::uint16_t port = 0;
  std::string viewer_password;  // reach connect's one-time password
  fs::path agent_bin = o.bin / "reach-agent", agent_state = dir / "agent-state";
  if (server == "x0vncserver" || server == "x11vnc") {
    port = free_port();
    std::vector<std::string> argv;
    // x0vncserver is Debian's wrapper script that daemonizes X0tigervnc; the bench runs
    // X0tigervnc itself so that the measured process is the server.
    if (server == "x0vncserver")
      argv = {"X0tigervnc",         "-display",       display, "-rfbport",
              std::to_string(port), "-SecurityTypes", "None",  "-localhost"};
    else
      argv = {"x11vnc", "-display", display,   "-rfbport",   std::to_string(port),
              "-nopw",  "-forever", "-shared", "-localhost", "-quiet"};
    // Across the link the viewer is not local: the servers listen on the link's address (the
    // namespace holds nothing else).
    if (!g_device_ns.empty()) std::erase(argv, std::string("-localhost"));
    srv = spawn(server, on_device(argv), dir, false);
    started.push_back(&srv);
    if (!wait_listening(port, srv, 20s)) {
      cleanup();
      return fail(server + " did not listen", tail_of(srv.log));
    }
  } else if (server == "reach") {
    if (!relay) return fail("no relay");
    reach::net::Headers h;
    h.set("Authorization", "Bearer " + relay->token);
    h.set("Content-Type", "application/json");
    auto r = reach::net::http_request("POST", relay->base + "/api/v1/sessions", h,
                                      R"({"groupname":"bench"})");
    if (!r || r->status != 200) {
      cleanup();
      return fail("cannot create a session");
    }
    auto s = boost::json::parse(r->body).as_object();
    std::string device_link(s["end_customer_link"].as_string()),
        link(s["supporter_link"].as_string());
    srv = spawn("reach-agent",
                on_device({agent_bin.string(), "join", device_link, "--display", display, "--state",
                           agent_state.string(), "--log-level", g_verbose ? "debug" : "warn"}),
                dir, false);
    started.push_back(&srv);
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (session_state(agent_bin, agent_state, dir) != "waitingForSupporter") {
      if (std::chrono::steady_clock::now() > deadline || !alive(srv)) {
        cleanup();
        return fail("reach-agent did not join", server_tail());
      }
      std::this_thread::sleep_for(100ms);
    }
    agent_conn = spawn("reach-connect",
                       {(o.bin / "reach").string(), "connect", link, "--listen", "127.0.0.1:0",
                        "--log-level", g_verbose ? "debug" : "warn"},
                       dir, true);
    started.push_back(&agent_conn);
    auto address = read_line(agent_conn.out, 20s);
    auto colon = address ? address->rfind(':') : std::string::npos;
    if (colon == std::string::npos) {
      cleanup();
      return fail("reach connect did not listen", tail_of(agent_conn.log));
    }
    host = address->substr(0, colon);
    port = static_cast<std::uint16_t>(std::stoi(address->substr(colon + 1)));
    viewer_password = read_line(agent_conn.out, 20s).value_or("");
  } else {
    cleanup();
    return fail("unknown server " + server);
  }

  Viewer viewer(host, port, o.encodings, o.quality, o.compress);
  viewer.set_password(viewer_password);
  viewer.start();
  if (server == "reach") {
    // The user's consent: "allow?" is answered once the supporter (this viewer) has arrived.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      std::string st = session_state(agent_bin, agent_state, dir);
      if (st == "askingToAllow") break;
      if (std::chrono::steady_clock::now() > deadline || !alive(srv) || viewer.failed()) {
        viewer.finish();
        cleanup();
        return fail("the session never asked to allow (state " + st + ")", server_tail());
      }
      std::this_thread::sleep_for(100ms);
    }
    run(on_device({agent_bin.string(), "allow", "--state", agent_state.string()}), dir);
  }
  if (!viewer.wait_connected(30s) || !viewer.wait_first_frame(30s)) {
    viewer.finish();
    cleanup();
    return fail("no frame received", server_tail());
  }

  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup));
  auto sample_cpu = [&] {
    return std::vector<double>{cpu_seconds(srv.pid), cpu_seconds(xvfb.pid),
                               relay ? cpu_seconds(relay->proc.pid) : 0,
                               cpu_seconds(agent_conn.pid)};
  };
  std::int64_t t0 = now_ns();
  std::uint64_t bytes0 = viewer.bytes_received();
  auto cpu0 = sample_cpu();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  std::int64_t t1 = now_ns();
  std::uint64_t bytes1 = viewer.bytes_received();
  auto cpu1 = sample_cpu();
  bool viewer_failed = viewer.failed();
  viewer.finish();
  stop(agent_conn);
  stop(srv);
  stop(drawer);  // writes the draw times on SIGTERM
  cleanup();
  if (viewer_failed) return fail("the connection ended during the run", server_tail());

  std::map<std::uint32_t, std::int64_t> drawn;
  {
    std::ifstream in(times);
    std::uint32_t seq;
    long long ns;
    while (in >> seq >> ns) drawn[seq] = ns;
  }
  if (drawn.empty()) return fail("the load wrote no draw times");
  std::map<std::uint32_t, std::int64_t> first;
  for (const auto& r : viewer.receipts()) first.emplace(r.seq, r.ns);  // keeps the earliest
  if (o.keep) {  // for a closer look: seq, draw and first receipt (ns, CLOCK_MONOTONIC)
    std::ofstream out(dir / "frames.txt");
    out << "# window " << t0 << " " << t1 << "\n";
    for (auto [seq, ns] : first) {
      auto it = drawn.find(seq);
      out << seq << " " << (it == drawn.end() ? 0 : it->second) << " " << ns << "\n";
    }
  }
  std::vector<double> latencies;
  int impossible = 0;
  for (auto [seq, ns] : first) {
    if (ns < t0 || ns > t1) continue;
    auto it = drawn.find(seq);
    if (it == drawn.end() || it->second > ns) {
      ++impossible;  // a marker torn across more than two frames
      continue;
    }
    latencies.push_back(static_cast<double>(ns - it->second) / 1e6);
  }
  double window = static_cast<double>(t1 - t0) / 1e9;
  int drawn_in_window = 0;
  for (auto [seq, ns] : drawn)
    if (ns >= t0 && ns <= t1) ++drawn_in_window;
  res.ok = true;
  res.drawn_fps = drawn_in_window / window;
  res.fps = static_cast<double>(latencies.size()) / window;
  res.p50_ms = percentile(latencies, 0.50);
  res.p95_ms = percentile(latencies, 0.95);
  res.kib_s = static_cast<double>(bytes1 - bytes0) / 1024.0 / window;
  res.cpu = (cpu1[0] - cpu0[0]) / window * 100;
  res.xvfb_cpu = (cpu1[1] - cpu0[1]) / window * 100;
  if (server == "reach") {
    res.relay_cpu = (cpu1[2] - cpu0[2]) / window * 100;
    res.connect_cpu = (cpu1[3] - cpu0[3]) / window * 100;
  }
  res.bad_markers = viewer.bad_markers() + impossible;
  if (!o.keep) fs::remove_all(dir);
  return res;
}

// ------------------------------------------------------------------ output

std::string ratio(double a, double b) {
  if (b <= 0) return "–";
  double r = a / b;
  return r >= 0.095 ? fmt::format("{:.2f}", r) : fmt::format("{:.2g}", r);
}

void print_table(const std::string& load, const std::vector<std::pair<std::string, Result>>& rows) {
  std::printf("\n### %s\n\n", load.c_str());
  std::printf(
      "| server | drawn fps | fps | p50 ms | p95 ms | KiB/s | KiB/frame | server CPU %% | Xvfb CPU "
      "%% | relay CPU %% | reach connect CPU %% |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  const Result* reach = nullptr;
  for (const auto& [name, r] : rows) {
    if (!r.ok) {
      std::printf("| %s | %s | | | | | | | | | |\n", name.c_str(), r.error.c_str());
      continue;
    }
    if (name == "reach") reach = &r;
    auto opt = [](std::optional<double> v) { return v ? fmt::format("{:.0f}", *v) : "–"; };
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.1f | %.0f | %.0f | %s | %s |\n",
                name.c_str(), r.drawn_fps, r.fps, r.p50_ms, r.p95_ms, r.kib_s,
                r.fps > 0 ? r.kib_s / r.fps : 0.0, r.cpu, r.xvfb_cpu, opt(r.relay_cpu).c_str(),
                opt(r.connect_cpu).c_str());
  }
  if (!reach) return;
  for (const auto& [name, r] : rows) {
    if (name == "reach" || !r.ok) continue;
    double kf_reach = reach->fps > 0 ? reach->kib_s / reach->fps : 0;
    double kf_peer = r.fps > 0 ? r.kib_s / r.fps : 0;
    std::printf("| reach / %s | | %s | %s | %s | %s | %s | %s | %s | | |\n", name.c_str(),
                ratio(reach->fps, r.fps).c_str(), ratio(reach->p50_ms, r.p50_ms).c_str(),
                ratio(reach->p95_ms, r.p95_ms).c_str(), ratio(reach->kib_s, r.kib_s).c_str(),
                ratio(kf_reach, kf_peer).c_str(), ratio(reach->cpu, r.cpu).c_str(),
                ratio(reach->xvfb_cpu, r.xvfb_cpu).c_str());
  }
  for (const auto& [name, r] : rows)
    if (r.ok && r.bad_markers > 0)
      std::fprintf(stderr, "reach_bench_screen: %s / %s: %d updates whose marker did not read\n",
                   load.c_str(), name.c_str(), r.bad_markers);
}

void usage() {
  std::printf(
      "usage: reach_bench_screen [--bin DIR] [--loads full,scroll,square]\n"
      "         [--servers reach,x0vncserver,x11vnc] [--seconds 10] [--warmup 3] [--fps 30]\n"
      "         [--quality 8] [--compress 2] [--encodings \"tight zrle copyrect\"] [--keep]\n"
      "         [--verbose] [--device-ns NS --device-addr 10.77.0.1 --relay-listen 10.77.0.2:0]\n"
      "--bin: where reach-relay, reach-agent and reach are (default: beside this program);\n"
      "reach_bench_screen_load is always the one beside this program.\n"
      "--device-ns: the display, the load, the server and the agent run in that network\n"
      "namespace (bench/wan: run the bench itself in the link's other namespace).\n");
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  reach::crypto::init();
  reach::log::init("reach_bench_screen", "error");
  Options o;
  fs::path self = fs::read_symlink("/proc/self/exe").parent_path();
  o.bin = self;
  o.load_program = self / "reach_bench_screen_load";
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      usage();
      return 0;
    }
    if (k == "--keep") {
      o.keep = true;
      continue;
    }
    if (k == "--verbose") {
      g_verbose = true;
      continue;
    }
    if (i + 1 >= argc) die("missing value for " + k);
    std::string v = argv[++i];
    if (k == "--bin")
      o.bin = fs::absolute(v);
    else if (k == "--loads")
      o.loads = split(v, ',');
    else if (k == "--servers")
      o.servers = split(v, ',');
    else if (k == "--seconds")
      o.seconds = std::stod(v);
    else if (k == "--warmup")
      o.warmup = std::stod(v);
    else if (k == "--fps")
      o.fps = std::stod(v);
    else if (k == "--quality")
      o.quality = std::stoi(v);
    else if (k == "--compress")
      o.compress = std::stoi(v);
    else if (k == "--encodings")
      o.encodings = v;
    else if (k == "--device-ns")
      g_device_ns = v;
    else if (k == "--device-addr")
      g_device_addr = v;
    else if (k == "--relay-listen")
      g_relay_listen = v;
    else
      die("unknown option " + k);
  }
  o.work = fs::temp_directory_path() / ("reach-bench-screen-" + reach::crypto::random_token(6));
  fs::create_directories(o.work);

  bool want_reach = std::find(o.servers.begin(), o.servers.end(), "reach") != o.servers.end();
  std::optional<Relay> relay;
  std::string reach_missing;
  if (want_reach) {
    for (const char* p : {"reach-relay", "reach-agent", "reach"})
      if (!fs::exists(o.bin / p))
        reach_missing += std::string(reach_missing.empty() ? "" : ", ") + p;
    if (reach_missing.empty()) relay = start_relay(o.bin, o.work);
  }

  std::printf(
      "## bench/screen: 1920x1080 Xvfb, load drawn at %.0f fps, %.0f s per cell after "
      "%.0f s warm-up, encodings \"%s\", JPEG quality %d, compression %d\n",
      o.fps, o.seconds, o.warmup, o.encodings.c_str(), o.quality, o.compress);
  for (const auto& load : o.loads) {
    std::vector<std::pair<std::string, Result>> rows;
    for (const auto& server : o.servers) {
      note(fmt::format("cell {} / {}", load, server));
      Result r;
      if (server == "reach" && !reach_missing.empty())
        r.error = "pending: not in " + o.bin.string() + ": " + reach_missing;
      else
        r = run_cell(o, load, server, relay ? &*relay : nullptr);
      rows.emplace_back(server, r);
    }
    print_table(load, rows);
    std::fflush(stdout);
  }
  std::printf(
      "\nratios: fps above 1 is better for Reach; latency, bytes and CPU below 1 are better\n");
  if (relay) stop(relay->proc);
  if (!o.keep)
    fs::remove_all(o.work);
  else
    std::fprintf(stderr, "logs kept in %s\n", o.work.c_str());
  return 0;
}
