// bench/relay: throughput and memory of reach-relay's pairing beside socat doing the same
// forwarding over plain TCP on the same machine in the same run. The ratios are the figures.
//
//   relay_bench --relay-bin build/bin/reach-relay [--single-mib 1024] [--sessions 100]
//               [--per-session-mib 16] [--idle 100]
//
// Reach: a device WebSocket sends to the supporter WebSocket through the relay (binary messages
// of 64 KiB). socat: a TCP client sends through `socat TCP-LISTEN,fork TCP:sink` to a TCP sink.
// Both load generators are alike, so that the ratio is the relay's and socat's: one blocking
// thread per sending end writing 64 KiB at a time, one per receiving end reading. The WebSocket
// ends are raw sockets after the RFC 6455 handshake: the device writes one masked frame built
// once (a client must mask; the mask is not what is measured), the supporter parses the relay's
// frames and counts their payload.
// Memory per idle pair: the relay's RSS growth per paired idle session (by default as many as
// the relay's descriptor limit allows: two per pair) vs the RSS of the socat processes per
// forwarded idle connection (socat forks one process per connection; measured on at most 1000).
#include "common/crypto.h"
#include "common/log.h"
#include "net/client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace reach;
using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 64 * 1024;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "relay_bench: %s\n", msg.c_str());
  std::exit(1);
}

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  int fds[2];
  if (pipe(fds) != 0) die("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 2);
    close(fds[0]);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

std::string read_line(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

std::string run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  Child c = spawn(argv, env);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(c.out, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(c.out);
  int st = 0;
  waitpid(c.pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("command failed: " + argv[0] + " " + argv[1]);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    int ppid = 0;
    char state;
    if (std::sscanf(stat.c_str() + close_paren + 2, "%c %d", &state, &ppid) == 2 && ppid == parent)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// ------------------------------------------------------------------ Reach side

struct Relay {
  Child proc;
  std::string base, token, data;
  std::uint16_t port = 0;
};

std::string path_of(const std::string& url) {
  auto p = url.find('/', url.find("//") + 2);
  return url.substr(p);
}

int connect_to(std::uint16_t port);

// A WebSocket end on a blocking socket, after the handshake (nothing else of RFC 6455 is needed
// to push bytes one way and count them at the other).
int raw_websocket(std::uint16_t port, const std::string& path) {
  int fd = connect_to(port);
  std::string req = fmt::format(
      "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: cmVhY2gtcmVsYXktYmVuY2g=\r\nSec-WebSocket-Version: 13\r\n\r\n",
      path, port);
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) die("handshake write");
  std::string head;
  char c;
  while (head.size() < 4096 && read(fd, &c, 1) == 1) {
    head += c;
    if (head.ends_with("\r\n\r\n")) break;
  }
  if (head.rfind("HTTP/1.1 101", 0) != 0) die("the relay refused a stream: " + head.substr(0, 80));
  return fd;
}

struct Pair {
  int dev = -1, sup = -1;
};

Pair open_pair(const Relay& relay) {
  net::Headers h;
  h.set("Authorization", "Bearer " + relay.token);
  h.set("Content-Type", "application/json");
  auto r = net::http_request("POST", relay.base + "/api/v1/sessions", h,
                             R"({"groupname":"bench","description":"bench"})");
  if (!r || r->status != 200) die("cannot create a session");
  auto s = boost::json::parse(r->body).as_object();
  std::string sup_link(s["supporter_link"].as_string()),
      dev_link(s["end_customer_link"].as_string());
  std::string dev_ref = path_of(dev_link).substr(std::string("/join/").size());
  std::string sup_ref = path_of(sup_link).substr(std::string("/support/").size());
  Pair p;
  p.dev = raw_websocket(relay.port, "/api/v1/stream/device/" + dev_ref);
  p.sup = raw_websocket(relay.port, "/api/v1/stream/supporter/" + sup_ref);
  return p;
}

void close_pair(Pair& p) {
  close(p.dev);
  close(p.sup);
}

// One binary frame of kChunk bytes as a client sends it (masked), built once.
const std::string& device_frame() {
  static const std::string frame = [] {
    std::string f;
    f += static_cast<char>(0x82);        // FIN, binary
    f += static_cast<char>(0x80 | 127);  // masked, 64-bit length
    for (int i = 7; i >= 0; --i) f += static_cast<char>((kChunk >> (8 * i)) & 0xff);
    const unsigned char key[4] = {0x5a, 0xc3, 0x17, 0x8e};
    f.append(reinterpret_cast<const char*>(key), 4);
    for (std::size_t i = 0; i < kChunk; ++i)
      f += static_cast<char>(static_cast<unsigned char>(i * 131) ^ key[i % 4]);
    return f;
  }();
  return frame;
}

// Reads the relay's (unmasked) frames until `bytes` of payload have arrived.
void count_payload(int fd, std::uint64_t bytes) {
  std::vector<unsigned char> buf(256 * 1024);
  std::size_t have = 0;            // bytes in buf not yet parsed
  std::uint64_t payload_left = 0;  // of the frame being read
  std::uint64_t got = 0;
  while (got < bytes) {
    ssize_t n = read(fd, buf.data() + have, buf.size() - have);
    if (n <= 0) die("the supporter stream closed during the transfer");
    have += static_cast<std::size_t>(n);
    std::size_t at = 0;
    for (;;) {
      if (payload_left > 0) {
        std::uint64_t take = std::min<std::uint64_t>(payload_left, have - at);
        payload_left -= take;
        got += take;
        at += static_cast<std::size_t>(take);
        if (payload_left > 0) break;
      }
      if (have - at < 2) break;
      std::size_t len = buf[at + 1] & 0x7f, header = 2;
      if (len == 126) header = 4;
      if (len == 127) header = 10;
      if (have - at < header) break;
      std::uint64_t size = len;
      if (len == 126) size = (std::uint64_t{buf[at + 2]} << 8) | buf[at + 3];
      if (len == 127) {
        size = 0;
        for (int i = 0; i < 8; ++i) size = (size << 8) | buf[at + 2 + i];
      }
      at += header;
      payload_left = size;
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
  }
}

void pump(Pair& p, std::uint64_t bytes) {
  std::thread reader([&] { count_payload(p.sup, bytes); });
  const std::string& frame = device_frame();
  for (std::uint64_t sent = 0; sent < bytes; sent += kChunk) {
    std::size_t off = 0;
    while (off < frame.size()) {
      ssize_t n = write(p.dev, frame.data() + off, frame.size() - off);
      if (n <= 0) die("the device stream closed during the transfer");
      off += static_cast<std::size_t>(n);
    }
  }
  reader.join();
}

// ------------------------------------------------------------------ socat side

int listen_any(std::uint16_t* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 512) != 0)
    die("listen");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

int connect_to(std::uint16_t port) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  die("cannot connect to socat");
}

// A sink that counts what each accepted connection receives.
struct Sink {
  int fd;
  std::uint16_t port;
  std::atomic<std::uint64_t> received{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<int> conns;
  std::thread acceptor;
  Sink() {
    fd = listen_any(&port);
    acceptor = std::thread([this] {
      for (;;) {
        int c = accept(fd, nullptr, nullptr);
        if (c < 0) return;
        std::lock_guard l(mu);
        conns.push_back(c);
        threads.emplace_back([this, c] {
          std::vector<char> buf(kChunk);
          ssize_t n;
          while ((n = read(c, buf.data(), buf.size())) > 0)
            received += static_cast<std::uint64_t>(n);
        });
      }
    });
  }
  ~Sink() {
    shutdown(fd, SHUT_RDWR);
    close(fd);
    acceptor.join();
    for (int c : conns) shutdown(c, SHUT_RDWR);
    for (auto& t : threads) t.join();
    for (int c : conns) close(c);
  }
};

void send_all(int fd, std::uint64_t bytes) {
  std::string chunk(kChunk, 'x');
  std::uint64_t sent = 0;
  while (sent < bytes) {
    ssize_t n = write(fd, chunk.data(), chunk.size());
    if (n <= 0) die("socat connection closed during the transfer");
    sent += static_cast<std::uint64_t>(n);
  }
}

double mib_per_s(std::uint64_t bytes, Clock::duration d) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0) / std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  crypto::init();
  log::init("relay_bench", "error");
  std::string relay_bin = "build/bin/reach-relay";
  std::uint64_t single_mib = 1024, per_session_mib = 16;
  int sessions = 100, idle = 9900;
  std::string io_threads = "0";  // the relay's default: one per core
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--relay-bin")
      relay_bin = v;
    else if (k == "--single-mib")
      single_mib = std::stoull(v);
    else if (k == "--sessions")
      sessions = std::stoi(v);
    else if (k == "--per-session-mib")
      per_session_mib = std::stoull(v);
    else if (k == "--idle")
      idle = std::stoi(v);
    else if (k == "--relay-io-threads")
      io_threads = v;
    else
      die("unknown option " + k);
  }

  // Reach relay
  Relay relay;
  relay.data = (std::filesystem::temp_directory_path() / ("relay-bench-" + crypto::random_token(6)))
                   .string();
  run({relay_bin, "init", "--data", relay.data, "--admin-email", "bench@reach.test"},
      {"REACH_ADMIN_PASSWORD=bench-password-1"});
  relay.token =
      run({relay_bin, "token", "create", "--data", relay.data, "--email", "bench@reach.test"});
  // Every generated end comes from 127.0.0.1, one client to the relay: its per-client caps
  // (a defence against one address taking every connection) would stop the bench, not measure
  // the data plane. They are lifted here; the global limit stays.
  relay.proc =
      spawn({relay_bin, "serve", "--data", relay.data, "--listen", "127.0.0.1:0", "--log-level",
             "error", "--workers", "2", "--io-threads", io_threads, "--max-connections-per-client",
             "10000000", "--max-websockets-per-client", "10000000"});
  std::string bound = read_line(relay.proc.out);
  relay.base = "http://" + bound;
  relay.port = static_cast<std::uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));

  // socat forwarding to a sink
  Sink sink;
  std::uint16_t socat_port;
  int probe = listen_any(&socat_port);
  close(probe);
  Child socat =
      spawn({"socat", fmt::format("TCP-LISTEN:{},bind=127.0.0.1,reuseaddr,fork", socat_port),
             fmt::format("TCP:127.0.0.1:{}", sink.port)});
  close(connect_to(socat_port));  // wait until socat listens (this connection forks and ends)

  std::printf("%-44s %14s %14s %8s\n", "measure", "reach-relay", "socat", "ratio");

  // 1. One paired session.
  {
    Pair p = open_pair(relay);
    auto t0 = Clock::now();
    pump(p, single_mib << 20);
    double reach = mib_per_s(single_mib << 20, Clock::now() - t0);
    close_pair(p);

    std::uint64_t before = sink.received;
    int fd = connect_to(socat_port);
    t0 = Clock::now();
    send_all(fd, single_mib << 20);
    while (sink.received - before < (single_mib << 20))
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    double socat_rate = mib_per_s(single_mib << 20, Clock::now() - t0);
    close(fd);
    std::printf("%-44s %10.0f MiB/s %8.0f MiB/s %8.2f\n",
                fmt::format("one session, {} MiB", single_mib).c_str(), reach, socat_rate,
                reach / socat_rate);
  }

  // 2. Many concurrent sessions.
  {
    std::vector<Pair> pairs;
    for (int i = 0; i < sessions; ++i) pairs.push_back(open_pair(relay));
    auto t0 = Clock::now();
    std::vector<std::thread> th;
    for (auto& p : pairs)
      th.emplace_back([&p, per_session_mib] { pump(p, per_session_mib << 20); });
    for (auto& t : th) t.join();
    std::uint64_t total = static_cast<std::uint64_t>(sessions) * (per_session_mib << 20);
    double reach = mib_per_s(total, Clock::now() - t0);
    for (auto& p : pairs) close_pair(p);
    pairs.clear();

    std::uint64_t before = sink.received;
    std::vector<int> fds;
    for (int i = 0; i < sessions; ++i) fds.push_back(connect_to(socat_port));
    t0 = Clock::now();
    th.clear();
    for (int fd : fds)
      th.emplace_back([fd, per_session_mib] { send_all(fd, per_session_mib << 20); });
    for (auto& t : th) t.join();
    while (sink.received - before < total)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    double socat_rate = mib_per_s(total, Clock::now() - t0);
    for (int fd : fds) close(fd);
    std::printf("%-44s %10.0f MiB/s %8.0f MiB/s %8.2f\n",
                fmt::format("{} sessions x {} MiB, aggregate", sessions, per_session_mib).c_str(),
                reach, socat_rate, reach / socat_rate);
  }

  // 3. Memory per idle paired session.
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    long base_rss = rss_kib(relay.proc.pid);
    // Opened by 4 threads: each session is an API call (a durable write) and two handshakes.
    std::vector<Pair> pairs(static_cast<std::size_t>(idle));
    std::vector<std::thread> openers;
    for (int t = 0; t < 4; ++t)
      openers.emplace_back([&, t] {
        for (int i = t; i < idle; i += 4) pairs[static_cast<std::size_t>(i)] = open_pair(relay);
      });
    for (auto& t : openers) t.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    double reach_kib = static_cast<double>(rss_kib(relay.proc.pid) - base_rss) / idle;
    for (auto& p : pairs) close_pair(p);
    pairs.clear();

    const int socat_idle = std::min(idle, 1000);
    std::vector<int> fds;
    for (int i = 0; i < socat_idle; ++i) fds.push_back(connect_to(socat_port));
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    long socat_total = 0;
    auto kids = children_of(socat.pid);
    for (pid_t k : kids) socat_total += rss_kib(k);
    double socat_kib =
        kids.empty() ? 0 : static_cast<double>(socat_total) / static_cast<double>(kids.size());
    std::printf("%-44s %10.1f KiB   %8.0f KiB   %8.3f\n",
                fmt::format("memory per idle pair ({} / {})", idle, socat_idle).c_str(), reach_kib,
                socat_kib, socat_kib > 0 ? reach_kib / socat_kib : 0.0);
    for (int fd : fds) close(fd);
  }

  kill(socat.pid, SIGTERM);
  waitpid(socat.pid, nullptr, 0);
  kill(relay.proc.pid, SIGTERM);
  waitpid(relay.proc.pid, nullptr, 0);
  std::filesystem::remove_all(relay.data);
  std::printf("ratio > 1: reach-relay higher (throughput: better; memory: worse)\n");
  return 0;
}
