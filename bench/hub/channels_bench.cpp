// bench/hub: how many agents' push channels one reach-hub node holds, and what they cost, on
// each store in the same run (SQLite, PostgreSQL): enrollment rate, channels held, heartbeat
// round trips while every agent connects at once (the connect storm), RSS per channel and idle
// CPU once they are all connected. PostgreSQL is the tests' own server
// (tests/pg/test-postgres.sh). The load comes from --workers processes (each below the
// per-process file-descriptor limit), every one a real WebSocket client speaking the channel
// protocol (src/channel/protocol.h).
//
//   channels_bench --hub-bin build/bin/reach-hub [--channels 19800] [--workers 4]
//                  [--stores sqlite,postgresql] [--source-dir .]
#include "common/log.h"
#include "net/client.h"
#include "store/db.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bj = boost::json;
using namespace reach;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string hub_bin = "build/bin/reach-hub";
  std::string source_dir = ".";
  int channels = 19800;
  int workers = 4;
  std::vector<std::string> stores = {"sqlite", "postgresql"};
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  auto close = all.rfind(')');
  std::istringstream rest(all.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; rest >> x;) f.push_back(x);
  // utime and stime are fields 14 and 15 of stat; after the name, 12 and 13 (0-based 11, 12).
  return (std::stod(f.at(11)) + std::stod(f.at(12))) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct Hub {
  pid_t pid = -1;
  std::string url;
  std::string dir;
};

Hub start_hub(const Options& o, const std::string& dir) {
  int out[2];
  if (::pipe(out) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int err = ::open((dir + "/serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(err, 2);
    ::close(out[0]);
    ::execl(o.hub_bin.c_str(), o.hub_bin.c_str(), "serve", "--data", dir.c_str(), "--listen",
            "127.0.0.1:0", "--log-level", "warn", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string line;
  char c;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
  ::close(out[0]);
  return {pid, "http://" + line, dir};
}

struct Percentiles {
  double p50 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * v.size()))];
  };
  return {at(0.5), at(0.99), v.back()};
}

// A channel that measures its heartbeat round trips.
class Probe : public net::WebSocketHandler {
 public:
  void on_message(std::string data, bool) override {
    if (data.find("\"heartbeatAck\"") == std::string::npos) return;
    std::lock_guard lk(mu_);
    if (sent_ != Clock::time_point{}) {
      rtt_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - sent_).count();
      sent_ = {};
    }
    cv_.notify_all();
  }
  void on_close(std::uint16_t, std::string) override {
    std::lock_guard lk(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void sent() {
    std::lock_guard lk(mu_);
    sent_ = Clock::now();
    rtt_ms_ = -1;
  }
  double wait_rtt(std::chrono::milliseconds timeout) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [&] { return rtt_ms_ >= 0 || closed_; });
    return rtt_ms_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  Clock::time_point sent_{};
  double rtt_ms_ = -1;
  bool closed_ = false;
};

// One load process: connects its channels one after another; after each, one heartbeat from a
// channel opened earlier (so the round trip crosses the storm); then holds them until killed.
// Writes "connected failed rtt1 rtt2 …\n" to `report` once all are open.
void worker(const std::string& hub_url, const std::vector<std::string>& credentials, int report) {
  net::EventLoop loop;
  std::string ws = "ws" + hub_url.substr(4) + "/api/agent/channel";
  std::vector<std::shared_ptr<net::WebSocket>> open;
  std::vector<std::shared_ptr<Probe>> probes;
  std::vector<double> rtts;
  int failed = 0;
  for (std::size_t i = 0; i < credentials.size(); ++i) {
    net::Headers h;
    h.set("Authorization", "Bearer " + credentials[i]);
    auto probe = std::make_shared<Probe>();
    auto c = net::websocket_connect(loop, ws, h, probe);
    if (!c) {
      ++failed;
      continue;
    }
    open.push_back(*c);
    probes.push_back(probe);
    if (i % 10 == 0) {
      std::size_t k = open.size() / 2;
      probes[k]->sent();
      open[k]->send("{\"type\":\"heartbeat\"}", false);
      rtts.push_back(probes[k]->wait_rtt(std::chrono::seconds(10)));
    }
  }
  std::string line = std::to_string(open.size()) + " " + std::to_string(failed);
  for (double r : rtts) line += " " + std::to_string(r);
  line += "\n";
  (void)!::write(report, line.data(), line.size());
  ::pause();
}

struct Row {
  std::string store;
  double enroll_per_s = 0;
  int held = 0, failed = 0;
  Percentiles heartbeat;
  double rss_per_channel_kib = 0;
  double idle_cpu_percent = 0;
  double storm_s = 0;
};

Row measure(const Options& o, const std::string& store, const std::string& pg_url) {
  Row row;
  row.store = store;
  std::string dir = std::filesystem::temp_directory_path() /
                    ("reach-bench-hub-" + std::to_string(::getpid()) + "-" + store);
  std::filesystem::remove_all(dir);
  std::string init = "REACH_ADMIN_PASSWORD=Bench-Passw0rd-123 '" + o.hub_bin + "' init --data '" +
                     dir + "' --admin-email bench@reach.test";
  if (store == "postgresql") init += " --db '" + pg_url + "'";
  run(init + " >/dev/null");
  std::string token = run("'" + o.hub_bin + "' enrollment-token create --data '" + dir +
                          "' --userless --ownership company");
  Hub hub = start_hub(o, dir);
  if (hub.url == "http://") {
    std::fprintf(stderr, "%s: the hub did not start (%s/serve.log)\n", store.c_str(), dir.c_str());
    return row;
  }

  // Enrollment: 8 clients in parallel.
  std::vector<std::string> credentials(o.channels);
  std::atomic<int> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> enrollers;
  for (int t = 0; t < 8; ++t)
    enrollers.emplace_back([&] {
      for (int i; (i = next++) < o.channels;) {
        bj::object body{{"enrollmentToken", token},
                        {"device", bj::object{{"deviceName", "BENCH-" + std::to_string(i)},
                                              {"operatingSystem", "Linux"},
                                              {"osVersion", "12"},
                                              {"model", "Bench"},
                                              {"manufacturer", "Reach"},
                                              {"serialNumber", "SN-" + std::to_string(i)},
                                              {"deviceType", "desktop"},
                                              {"skuFamily", ""}}}};
        net::Headers h;
        h.set("Content-Type", "application/json");
        auto r = net::http_request("POST", hub.url + "/api/agent/enroll", h, bj::serialize(body));
        if (r && r->status == 201) {
          boost::system::error_code ec;
          auto v = bj::parse(r->body, ec);
          if (!ec && v.is_object() && v.as_object().contains("deviceCredential"))
            credentials[i] = std::string(v.at("deviceCredential").as_string());
        }
      }
    });
  for (auto& t : enrollers) t.join();
  row.enroll_per_s = o.channels / std::chrono::duration<double>(Clock::now() - t0).count();

  long rss_before = rss_kib(hub.pid);
  // The storm: every worker connects its share at once.
  std::vector<pid_t> pids;
  std::vector<int> reports;
  auto storm0 = Clock::now();
  for (int w = 0; w < o.workers; ++w) {
    std::vector<std::string> mine;
    for (int i = w; i < o.channels; i += o.workers)
      if (!credentials[i].empty()) mine.push_back(credentials[i]);
    int p[2];
    if (::pipe(p) != 0) break;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      worker(hub.url, mine, p[1]);
      ::_exit(0);
    }
    ::close(p[1]);
    pids.push_back(pid);
    reports.push_back(p[0]);
  }
  std::vector<double> rtts;
  for (int fd : reports) {
    std::string text;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') text.push_back(c);
    ::close(fd);
    std::istringstream in(text);
    int held = 0, failed = 0;
    in >> held >> failed;
    row.held += held;
    row.failed += failed;
    for (double r; in >> r;) rtts.push_back(r < 0 ? 10000 : r);
  }
  row.storm_s = std::chrono::duration<double>(Clock::now() - storm0).count();
  row.heartbeat = percentiles(rtts);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  long rss_after = rss_kib(hub.pid);
  row.rss_per_channel_kib =
      row.held > 0 ? static_cast<double>(rss_after - rss_before) / row.held : 0;
  double cpu0 = cpu_seconds(hub.pid);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  row.idle_cpu_percent = (cpu_seconds(hub.pid) - cpu0) / 10.0 * 100.0;

  for (pid_t p : pids) ::kill(p, SIGKILL);
  for (pid_t p : pids) ::waitpid(p, nullptr, 0);
  ::kill(hub.pid, SIGTERM);
  ::waitpid(hub.pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--hub-bin")
      o.hub_bin = v;
    else if (k == "--channels")
      o.channels = std::stoi(v);
    else if (k == "--workers")
      o.workers = std::stoi(v);
    else if (k == "--source-dir")
      o.source_dir = v;
    else if (k == "--stores") {
      o.stores.clear();
      std::istringstream in(v);
      for (std::string s; std::getline(in, s, ',');) o.stores.push_back(s);
    } else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  log::init("channels_bench", "error");
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);

  std::string pg_state, pg_server;
  if (std::find(o.stores.begin(), o.stores.end(), "postgresql") != o.stores.end()) {
    pg_state =
        std::filesystem::temp_directory_path() / ("reach-bench-pg-" + std::to_string(::getpid()));
    std::string script = o.source_dir + "/tests/pg/test-postgres.sh";
    if (std::system(("'" + script + "' start '" + pg_state + "' 2>/dev/null").c_str()) != 0) {
      std::fprintf(stderr, "cannot start PostgreSQL with %s\n", script.c_str());
      return 1;
    }
    std::ifstream(pg_state + "/url") >> pg_server;
  }

  std::vector<Row> rows;
  for (const auto& store : o.stores) {
    std::string pg_url;
    if (store == "postgresql") {
      auto admin = store::Database::open_postgresql(pg_server, 1);
      if (!admin || !(*admin)->exec("CREATE DATABASE bench_hub", {})) {
        std::fprintf(stderr, "cannot create the benchmark's database\n");
        return 1;
      }
      pg_url = pg_server;
      auto slash = pg_url.find("///") + 3;
      pg_url.replace(slash, pg_url.find('?') - slash, "bench_hub");
    }
    std::fprintf(stderr, "%s: %d channels…\n", store.c_str(), o.channels);
    rows.push_back(measure(o, store, pg_url));
  }
  if (!pg_state.empty())
    (void)std::system(
        ("'" + o.source_dir + "/tests/pg/test-postgres.sh' stop '" + pg_state + "'").c_str());

  std::printf(
      "| store | enrollments/s | channels held (of %d) | refused | connect storm | "
      "heartbeat p50 / p99 / max during the storm | RSS per channel | idle CPU |\n",
      o.channels);
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows)
    std::printf("| %s | %.0f | %d | %d | %.1f s | %.1f / %.1f / %.1f ms | %.1f KiB | %.1f %% |\n",
                r.store.c_str(), r.enroll_per_s, r.held, r.failed, r.storm_s, r.heartbeat.p50,
                r.heartbeat.p99, r.heartbeat.max, r.rss_per_channel_kib, r.idle_cpu_percent);
  if (rows.size() == 2 && rows[0].enroll_per_s > 0 && rows[0].heartbeat.p99 > 0)
    std::printf(
        "\nratios %s/%s: enrollments/s %.2f, heartbeat p99 %.2f, RSS per channel %.2f\n",
        rows[1].store.c_str(), rows[0].store.c_str(), rows[1].enroll_per_s / rows[0].enroll_per_s,
        rows[1].heartbeat.p99 / rows[0].heartbeat.p99,
        rows[0].rss_per_channel_kib > 0 ? rows[1].rss_per_channel_kib / rows[0].rss_per_channel_kib
                                        : 0.0);
  return 0;
}
