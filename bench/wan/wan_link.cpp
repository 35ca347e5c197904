// reach_bench_wan_link: an internet link on this machine, for bench/wan (issue 22). Two network
// namespaces joined by a wire this program is: a TUN device "wan0" in each, every IP packet read
// from one written to the other after half the round trip. The rate is shaped by the kernel's tbf
// on each wan0 (this kernel has no netem); its `latency` bounds the bottleneck's queue, as a
// router's buffer does. TCP between the namespaces sees the real round trip, losses and queueing.
//
//   reach_bench_wan_link up --a DEV --b VIEW --rtt-ms 50 --rate-mbit 10 [--queue-ms 100]
//       makes the namespaces if needed (10.77.0.1 in A, 10.77.0.2 in B), prints "ready" and
//       carries packets until SIGINT or SIGTERM, then prints what it carried.
//   reach_bench_wan_link rate --a DEV --b VIEW --rate-mbit 5 [--queue-ms 100]
//       changes the rate of a running link both ways (the 50 -> 5 Mbit/s step).
//   reach_bench_wan_link probe --a DEV --b VIEW [--mib 4]
//       measures the link from A to B: 20 one-byte TCP round trips (min and median) and the
//       throughput of a bulk TCP transfer, so a run can print what the link really was.
// Needs root (namespaces, TUN, tc). Bench only: nothing in Reach links it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kAddrA = "10.77.0.1";
constexpr const char* kAddrB = "10.77.0.2";
constexpr int kProbePort = 7077;
constexpr std::size_t kMaxInFlight = std::size_t{64} << 20;  // the wire itself never holds more

std::atomic<bool> stopping{false};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "reach_bench_wan_link: %s%s%s\n", what.c_str(), errno ? ": " : "",
               errno ? std::strerror(errno) : "");
  std::exit(1);
}

// Runs a command (no shell) and waits; its exit status.
int run(std::vector<std::string> argv, bool quiet = false) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (quiet) {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void must(std::vector<std::string> argv) {
  std::string line;
  for (const auto& a : argv) line += a + " ";
  errno = 0;
  if (run(argv) != 0) die("failed: " + line);
}

// The calling thread enters namespace `ns` (/run/netns/NS, as `ip netns add` makes it).
void enter(const std::string& ns) {
  int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("no network namespace " + ns);
  if (::setns(fd, CLONE_NEWNET) != 0) die("setns " + ns);
  ::close(fd);
}

// A TUN device named wan0 inside `ns`, opened from this process (which stays where it was).
int open_tun(const std::string& ns) {
  int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  enter(ns);
  int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) die("/dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, "wan0", IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF in " + ns);
  if (::setns(home, CLONE_NEWNET) != 0) die("setns back");
  ::close(home);
  return fd;
}

struct Options {
  std::string cmd, a = "reach-wan-dev", b = "reach-wan-view";
  double rtt_ms = 50, rate_mbit = 10, queue_ms = 100, mib = 4;
};

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2)
    die("usage: reach_bench_wan_link up|rate|probe [--a NS] [--b NS] [--rtt-ms N] "
        "[--rate-mbit N] [--queue-ms N] [--mib N]");
  o.cmd = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--a")
      o.a = v;
    else if (k == "--b")
      o.b = v;
    else if (k == "--rtt-ms")
      o.rtt_ms = std::atof(v.c_str());
    else if (k == "--rate-mbit")
      o.rate_mbit = std::atof(v.c_str());
    else if (k == "--queue-ms")
      o.queue_ms = std::atof(v.c_str());
    else if (k == "--mib")
      o.mib = std::atof(v.c_str());
    else
      die("unknown option " + k);
  }
  return o;
}

// tbf on wan0 in `ns`: the rate, a burst of at least one 10 ms tick's worth, and a queue of
// queue_ms at that rate ("latency"). 0 Mbit/s: no shaping.
void shape(const std::string& ns, const Options& o, bool change) {
  if (o.rate_mbit <= 0) {
    run({"ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", "wan0", "root"}, true);
    return;
  }
  const double bytes_per_s = o.rate_mbit * 1e6 / 8;
  const long burst = std::max<long>(32 * 1024, static_cast<long>(bytes_per_s / 100));
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   ns,
                                   "tc",
                                   "qdisc",
                                   change ? "replace" : "add",
                                   "dev",
                                   "wan0",
                                   "root",
                                   "tbf",
                                   "rate",
                                   std::to_string(static_cast<long>(o.rate_mbit * 1000)) + "kbit",
                                   "burst",
                                   std::to_string(burst),
                                   "latency",
                                   std::to_string(static_cast<long>(o.queue_ms)) + "ms"};
  must(argv);
}

struct Packet {
  Clock::time_point due;
  std::string bytes;
};

int up(const Options& o) {
  for (const auto& ns : {o.a, o.b}) {
    if (::access(("/run/netns/" + ns).c_str(), F_OK) != 0) must({"ip", "netns", "add", ns});
    must({"ip", "-n", ns, "link", "set", "lo", "up"});
  }
  int fds[2] = {open_tun(o.a), open_tun(o.b)};
  const std::string addr[2] = {kAddrA, kAddrB};
  const std::string ns[2] = {o.a, o.b};
  for (int i = 0; i < 2; ++i) {
    run({"ip", "-n", ns[i], "addr", "flush", "dev", "wan0"}, true);
    must({"ip", "-n", ns[i], "addr", "add", addr[i] + "/30", "dev", "wan0"});
    must({"ip", "-n", ns[i], "link", "set", "wan0", "mtu", "1500", "up"});
    shape(ns[i], o, true);
  }
  std::signal(SIGINT, [](int) { stopping = true; });
  std::signal(SIGTERM, [](int) { stopping = true; });
  const auto one_way = std::chrono::microseconds(static_cast<long>(o.rtt_ms * 500));
  std::deque<Packet> to[2];  // to[i]: waiting to be written to fds[i]
  std::size_t held[2] = {0, 0};
  unsigned long long carried[2] = {0, 0}, bytes[2] = {0, 0}, dropped = 0;
  std::printf("ready: %s %s <-> %s %s, round trip %.1f ms, %.1f Mbit/s each way, queue %.0f ms\n",
              o.a.c_str(), kAddrA, o.b.c_str(), kAddrB, o.rtt_ms, o.rate_mbit, o.queue_ms);
  std::fflush(stdout);
  std::string buf(65536, '\0');
  while (!stopping) {
    auto now = Clock::now();
    for (int i = 0; i < 2; ++i) {
      while (!to[i].empty() && to[i].front().due <= now) {
        const auto& p = to[i].front();
        if (::write(fds[i], p.bytes.data(), p.bytes.size()) < 0 && errno == EAGAIN) break;
        held[i] -= p.bytes.size();
        ++carried[i];
        bytes[i] += p.bytes.size();
        to[i].pop_front();
      }
    }
    int timeout = 100;
    for (int i = 0; i < 2; ++i)
      if (!to[i].empty())
        timeout =
            std::min<int>(timeout, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(
                                                        to[i].front().due - Clock::now())
                                                        .count()));
    pollfd p[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
    if (::poll(p, 2, std::max(timeout, 0)) < 0 && errno != EINTR) die("poll");
    now = Clock::now();
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & POLLIN)) continue;
      for (;;) {
        ssize_t n = ::read(fds[i], buf.data(), buf.size());
        if (n <= 0) break;
        const int other = 1 - i;
        if (held[other] + static_cast<std::size_t>(n) > kMaxInFlight) {
          ++dropped;
          continue;
        }
        held[other] += static_cast<std::size_t>(n);
        to[other].push_back({now + one_way, buf.substr(0, static_cast<std::size_t>(n))});
      }
    }
  }
  std::printf(
      "carried: %llu packets (%llu bytes) to %s, %llu packets (%llu bytes) to %s, "
      "%llu dropped at the wire\n",
      carried[1], bytes[1], o.b.c_str(), carried[0], bytes[0], o.a.c_str(), dropped);
  return 0;
}

int rate(const Options& o) {
  shape(o.a, o, true);
  shape(o.b, o, true);
  std::printf("rate: %.1f Mbit/s each way, queue %.0f ms\n", o.rate_mbit, o.queue_ms);
  return 0;
}

// The probe's address in B, and a TCP socket with Nagle off.
sockaddr_in probe_address() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kProbePort);
  ::inet_pton(AF_INET, kAddrB, &a.sin_addr);
  return a;
}
int tcp_socket() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return s;
}

int probe(const Options& o) {
  int ready = -1;
  std::atomic<bool> listening{false};
  std::thread server([&] {
    enter(o.b);
    int s = tcp_socket();
    sockaddr_in a = probe_address();
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("bind in " + o.b);
    ::listen(s, 4);
    listening = true;
    for (int round = 0; round < 2; ++round) {
      int c = ::accept(s, nullptr, nullptr);
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      char b[65536];
      ssize_t n;
      // Round 0 echoes (round trips), round 1 sinks and answers one byte at the end.
      while ((n = ::read(c, b, sizeof b)) > 0)
        if (round == 0) ::write(c, b, static_cast<std::size_t>(n));
      if (round == 1) ::write(c, "k", 1);
      ::close(c);
    }
    ::close(s);
    ready = 0;
  });
  while (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::thread client([&] {
    enter(o.a);
    auto connect_b = [&] {
      int s = tcp_socket();
      sockaddr_in a = probe_address();
      if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die("connect to " + o.b);
      return s;
    };
    int s = connect_b();
    std::vector<double> rtts;
    for (int i = 0; i < 20; ++i) {
      auto t0 = Clock::now();
      char c = 'x';
      ::write(s, &c, 1);
      if (::read(s, &c, 1) != 1) die("echo");
      rtts.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    ::shutdown(s, SHUT_WR);
    char sink[16];
    while (::read(s, sink, sizeof sink) > 0) {
    }
    ::close(s);
    std::sort(rtts.begin(), rtts.end());
    s = connect_b();
    const std::size_t total = static_cast<std::size_t>(o.mib * 1024 * 1024);
    std::string chunk(65536, 'r');
    auto t0 = Clock::now();
    for (std::size_t sent = 0; sent < total;) {
      ssize_t n = ::write(s, chunk.data(), std::min(chunk.size(), total - sent));
      if (n <= 0) die("bulk write");
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(s, SHUT_WR);
    char k = 0;
    if (::read(s, &k, 1) != 1) die("bulk end");
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    ::close(s);
    std::printf(
        "probe %s -> %s: round trip min %.1f ms, median %.1f ms; %.1f MiB in %.2f s = "
        "%.2f Mbit/s\n",
        o.a.c_str(), o.b.c_str(), rtts.front(), rtts[rtts.size() / 2], o.mib, secs,
        static_cast<double>(total) * 8 / secs / 1e6);
  });
  client.join();
  server.join();
  return ready;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (::geteuid() != 0) die("needs root (network namespaces, TUN, tc)");
  if (o.cmd == "up") return up(o);
  if (o.cmd == "rate") return rate(o);
  if (o.cmd == "probe") return probe(o);
  die("unknown command " + o.cmd);
}
