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
//
// With --nodes N (N > 1), PostgreSQL only: N reach-hub nodes share one database, the agents'
// channels are spread over all of them, and once every agent is connected, --notifications
// custom notifications are sent through node 1's Graph API to agents spread over every node: the
// time from the request to the notification's arrival at the agent (request→notification) is
// measured, together with everything above summed over the nodes.
//
//   channels_bench --hub-bin build/bin/reach-hub --nodes 6 --channels 100000 --workers 7
#include "common/log.h"
#include "net/client.h"
#include "store/db.h"

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
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
  int nodes = 1;
  int notifications = 600;
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

Hub start_hub(const Options& o, const std::string& dir, const std::string& node_name = {}) {
  int out[2];
  if (::pipe(out) != 0) return {};
  std::vector<std::string> args = {o.hub_bin,  "serve",       "--data",      dir,
                                   "--listen", "127.0.0.1:0", "--log-level", "warn"};
  if (!node_name.empty()) {
    args.push_back("--node-name");
    args.push_back(node_name);
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int err = ::open((dir + "/serve.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(err, 2);
    ::close(out[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(o.hub_bin.c_str(), argv.data());
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
  // Notifications titled "bench-SEQ" are reported as "SEQ NANOSECONDS\n" (steady clock, which
  // every process on the machine shares) on `report`, and acknowledged as an agent does.
  explicit Probe(int report = -1) : report_(report) {}
  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    std::lock_guard lk(mu_);
    ws_ = ws;
  }
  void on_message(std::string data, bool) override {
    if (report_ >= 0 && data.find("\"notification\"") != std::string::npos) {
      auto at = Clock::now().time_since_epoch();
      boost::system::error_code ec;
      auto v = bj::parse(data, ec);
      if (ec || !v.is_object() || !v.as_object().contains("notification")) return;
      const auto& n = v.at("notification").as_object();
      std::string title = n.contains("title") ? std::string(n.at("title").as_string()) : "";
      if (title.starts_with("bench-")) {
        std::string line =
            title.substr(6) + " " +
            std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(at).count()) + "\n";
        (void)!::write(report_, line.data(), line.size());
      }
      std::shared_ptr<net::WebSocket> ws;
      {
        std::lock_guard lk(mu_);
        ws = ws_.lock();
      }
      if (ws && n.contains("id"))
        ws->send(bj::serialize(bj::object{{"type", "received"}, {"id", n.at("id")}}), false);
      return;
    }
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
  const int report_;
  std::weak_ptr<net::WebSocket> ws_;
};

// One load process: connects its channels one after another; after each, one heartbeat from a
// channel opened earlier (so the round trip crosses the storm); then holds them until killed.
// Writes "connected failed rtt1 rtt2 …\n" to `report` once all are open.
// `hub_urls[i]`: the node agent i connects to. After the first line, notifications that arrive
// are reported on `report` too (Probe).
void worker(const std::vector<std::string>& hub_urls, const std::vector<std::string>& credentials,
            int report) {
  net::EventLoop loop;
  std::vector<std::shared_ptr<net::WebSocket>> open;
  std::vector<std::shared_ptr<Probe>> probes;
  std::vector<double> rtts;
  int failed = 0;
  for (std::size_t i = 0; i < credentials.size(); ++i) {
    net::Headers h;
    h.set("Authorization", "Bearer " + credentials[i]);
    auto probe = std::make_shared<Probe>(report);
    auto c =
        net::websocket_connect(loop, "ws" + hub_urls[i].substr(4) + "/api/agent/channel", h, probe);
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
  int nodes = 1;
  double enroll_per_s = 0;
  int held = 0, failed = 0;
  Percentiles heartbeat;
  double rss_per_channel_kib = 0;
  double idle_cpu_percent = 0;  // summed over the nodes
  double storm_s = 0;
  int notified = 0;  // of Options::notifications (several nodes only)
  Percentiles notify_ms;
};

std::string enroll_body(const std::string& token, int i) {
  bj::object body{{"enrollmentToken", token},
                  {"device", bj::object{{"deviceName", "BENCH-" + std::to_string(i)},
                                        {"operatingSystem", "Linux"},
                                        {"osVersion", "12"},
                                        {"model", "Bench"},
                                        {"manufacturer", "Reach"},
                                        {"serialNumber", "SN-" + std::to_string(i)},
                                        {"deviceType", "desktop"},
                                        {"skuFamily", ""}}}};
  return bj::serialize(body);
}

// Sends `count` notifications through `hub` to devices spread evenly over `device_ids` (so over
// every node), one after another, and returns each one's request→arrival time in ms, read from
// the workers' reports.
std::vector<double> notify(const Hub& hub, const std::string& admin_token,
                           const std::vector<std::string>& device_ids, int count,
                           const std::vector<int>& reports) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> arrived(static_cast<std::size_t>(count), -1);
  int seen = 0;
  // One reader over every worker's pipe, until told to stop.
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    std::vector<pollfd> fds;
    for (int fd : reports) fds.push_back({fd, POLLIN, 0});
    std::vector<std::string> bufs(reports.size());
    while (!stop) {
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        char chunk[4096];
        ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
        if (n <= 0) {
          fds[i].fd = -1;  // poll ignores it from now on
          continue;
        }
        std::string& buf = bufs[i];
        buf.append(chunk, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
          std::istringstream in(buf.substr(0, nl));
          long long seq = -1, ns = 0;
          in >> seq >> ns;
          std::lock_guard lk(mu);
          if (seq >= 0 && seq < count && arrived[static_cast<std::size_t>(seq)] < 0) {
            arrived[static_cast<std::size_t>(seq)] = ns;
            ++seen;
            cv.notify_all();
          }
        }
      }
    }
  });
  std::vector<std::int64_t> sent(static_cast<std::size_t>(count), 0);
  net::Headers h;
  h.set("Authorization", "Bearer " + admin_token);
  h.set("Content-Type", "application/json");
  for (int k = 0; k < count; ++k) {
    const std::string& id = device_ids[static_cast<std::size_t>(k) * device_ids.size() /
                                       static_cast<std::size_t>(count)];
    sent[static_cast<std::size_t>(k)] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    auto r = net::http_request(
        "POST",
        hub.url + "/beta/deviceManagement/managedDevices/" + id +
            "/sendCustomNotificationToCompanyPortal",
        h,
        bj::serialize(bj::object{{"notificationTitle", "bench-" + std::to_string(k)},
                                 {"notificationBody", "request to notification"}}));
    if (!r || r->status != 204)
      std::fprintf(
          stderr, "notification %d: %s\n", k,
          r ? (std::to_string(r->status) + " " + r->body).c_str() : r.error().message.c_str());
  }
  {
    std::unique_lock lk(mu);
    cv.wait_for(lk, std::chrono::seconds(30), [&] { return seen == count; });
  }
  stop = true;
  reader.join();
  std::vector<double> ms;
  {
    std::lock_guard lk(mu);
    for (int k = 0; k < count; ++k)
      if (arrived[static_cast<std::size_t>(k)] >= 0)
        ms.push_back(static_cast<double>(arrived[static_cast<std::size_t>(k)] -
                                         sent[static_cast<std::size_t>(k)]) /
                     1e6);
  }
  return ms;
}

// One run: `nodes` hubs on the store, o.channels agents spread over them.
Row measure(const Options& o, const std::string& store, const std::string& pg_url, int nodes) {
  Row row;
  row.store = store;
  row.nodes = nodes;
  std::string base =
      std::filesystem::temp_directory_path() /
      ("reach-bench-hub-" + std::to_string(::getpid()) + "-" + store + "-" + std::to_string(nodes));
  std::vector<std::string> dirs;
  for (int n = 0; n < nodes; ++n) dirs.push_back(base + "-node" + std::to_string(n + 1));
  for (const auto& d : dirs) std::filesystem::remove_all(d);
  std::string init = "REACH_ADMIN_PASSWORD=Bench-Passw0rd-123 '" + o.hub_bin + "' init --data '" +
                     dirs[0] + "' --admin-email bench@reach.test";
  if (store == "postgresql") init += " --db '" + pg_url + "'";
  run(init + " >/dev/null");
  std::string token = run("'" + o.hub_bin + "' enrollment-token create --data '" + dirs[0] +
                          "' --userless --ownership company");
  std::string admin_token =
      run("'" + o.hub_bin + "' token create --data '" + dirs[0] + "' --email bench@reach.test");
  // Further nodes: the same key and database.
  for (int n = 1; n < nodes; ++n) {
    std::filesystem::create_directories(dirs[n]);
    for (const char* f : {"secret.key", "database"})
      std::filesystem::copy_file(dirs[0] + "/" + f, dirs[n] + "/" + f);
  }
  std::vector<Hub> hubs;
  for (int n = 0; n < nodes; ++n) {
    hubs.push_back(start_hub(o, dirs[n], nodes > 1 ? "hub-" + std::to_string(n + 1) : ""));
    if (hubs.back().url == "http://") {
      std::fprintf(stderr, "%s: a hub did not start (%s/serve.log)\n", store.c_str(),
                   dirs[n].c_str());
      return row;
    }
  }

  // Enrollment: 8 clients in parallel, over every node.
  std::vector<std::string> credentials(o.channels), device_ids(o.channels);
  std::atomic<int> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> enrollers;
  for (int t = 0; t < 8; ++t)
    enrollers.emplace_back([&] {
      for (int i; (i = next++) < o.channels;) {
        net::Headers h;
        h.set("Content-Type", "application/json");
        auto r = net::http_request("POST", hubs[i % nodes].url + "/api/agent/enroll", h,
                                   enroll_body(token, i));
        if (r && r->status == 201) {
          boost::system::error_code ec;
          auto v = bj::parse(r->body, ec);
          if (!ec && v.is_object() && v.as_object().contains("deviceCredential")) {
            credentials[i] = std::string(v.at("deviceCredential").as_string());
            device_ids[i] = std::string(v.at("deviceId").as_string());
          }
        }
      }
    });
  for (auto& t : enrollers) t.join();
  row.enroll_per_s = o.channels / std::chrono::duration<double>(Clock::now() - t0).count();

  auto total_rss = [&] {
    long sum = 0;
    for (const auto& hub : hubs) sum += rss_kib(hub.pid);
    return sum;
  };
  auto total_cpu = [&] {
    double sum = 0;
    for (const auto& hub : hubs) sum += cpu_seconds(hub.pid);
    return sum;
  };
  long rss_before = total_rss();
  // The storm: every worker connects its share at once, agent i to node i % nodes.
  std::vector<pid_t> pids;
  std::vector<int> reports;
  auto storm0 = Clock::now();
  for (int w = 0; w < o.workers; ++w) {
    std::vector<std::string> mine, urls;
    for (int i = w; i < o.channels; i += o.workers)
      if (!credentials[i].empty()) {
        mine.push_back(credentials[i]);
        urls.push_back(hubs[i % nodes].url);
      }
    int p[2];
    if (::pipe(p) != 0) break;
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      worker(urls, mine, p[1]);
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
  long rss_after = total_rss();
  row.rss_per_channel_kib =
      row.held > 0 ? static_cast<double>(rss_after - rss_before) / row.held : 0;
  double cpu0 = total_cpu();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  row.idle_cpu_percent = (total_cpu() - cpu0) / 10.0 * 100.0;

  if (nodes > 1 && o.notifications > 0) {
    auto ms = notify(hubs[0], admin_token, device_ids, o.notifications, reports);
    row.notified = static_cast<int>(ms.size());
    row.notify_ms = percentiles(ms);
  }
  for (int fd : reports) ::close(fd);

  for (pid_t p : pids) ::kill(p, SIGKILL);
  for (pid_t p : pids) ::waitpid(p, nullptr, 0);
  for (const auto& hub : hubs) ::kill(hub.pid, SIGTERM);
  for (const auto& hub : hubs) ::waitpid(hub.pid, nullptr, 0);
  for (const auto& d : dirs) std::filesystem::remove_all(d);
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
    else if (k == "--nodes")
      o.nodes = std::stoi(v);
    else if (k == "--notifications")
      o.notifications = std::stoi(v);
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

  if (o.nodes > 1) o.stores = {"postgresql"};  // several nodes share PostgreSQL
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
    std::fprintf(stderr, "%s: %d channels on %d node(s)…\n", store.c_str(), o.channels, o.nodes);
    rows.push_back(measure(o, store, pg_url, o.nodes));
  }
  if (!pg_state.empty())
    (void)std::system(
        ("'" + o.source_dir + "/tests/pg/test-postgres.sh' stop '" + pg_state + "'").c_str());

  std::printf(
      "| store | nodes | enrollments/s | channels held (of %d) | refused | connect storm | "
      "heartbeat p50 / p99 / max during the storm | RSS per channel | idle CPU |%s\n",
      o.channels, o.nodes > 1 ? " request→notification p50 / p99 / max (arrived) |" : "");
  std::printf("|---|---|---|---|---|---|---|---|---|%s\n", o.nodes > 1 ? "---|" : "");
  for (const auto& r : rows) {
    std::printf(
        "| %s | %d | %.0f | %d | %d | %.1f s | %.1f / %.1f / %.1f ms | %.1f KiB | %.1f %% |",
        r.store.c_str(), r.nodes, r.enroll_per_s, r.held, r.failed, r.storm_s, r.heartbeat.p50,
        r.heartbeat.p99, r.heartbeat.max, r.rss_per_channel_kib, r.idle_cpu_percent);
    if (o.nodes > 1)
      std::printf(" %.1f / %.1f / %.1f ms (%d of %d) |", r.notify_ms.p50, r.notify_ms.p99,
                  r.notify_ms.max, r.notified, o.notifications);
    std::printf("\n");
  }
  if (rows.size() == 2 && rows[0].enroll_per_s > 0 && rows[0].heartbeat.p99 > 0)
    std::printf(
        "\nratios %s/%s: enrollments/s %.2f, heartbeat p99 %.2f, RSS per channel %.2f\n",
        rows[1].store.c_str(), rows[0].store.c_str(), rows[1].enroll_per_s / rows[0].enroll_per_s,
        rows[1].heartbeat.p99 / rows[0].heartbeat.p99,
        rows[0].rss_per_channel_kib > 0 ? rows[1].rss_per_channel_kib / rows[0].rss_per_channel_kib
                                        : 0.0);
  return 0;
}
