#include "integration/nginx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace reach::itest {

using namespace std::chrono_literals;

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

Nginx::~Nginx() {
  // SIGTERM: the master stops its workers first. A SIGKILLed master leaves them running, holding
  // the port, for as long as the machine is up.
  (void)process_.terminate(std::chrono::seconds(5));  // SIGKILL if it does not stop in time
  if (!dir_.empty() && !::testing::Test::HasFailure()) std::filesystem::remove_all(dir_);
}

::testing::AssertionResult Nginx::start(
    const std::string& conf, std::uint16_t port,
    const std::vector<std::pair<std::string, std::string>>& replacements,
    const std::string& health_path) {
  dir_ = make_temp_dir("reach-nginx-");
  port_ = port;
  std::string site = read_file_bytes(std::string(REACH_SOURCE_DIR) + "/deploy/nginx/" + conf);
  if (site.empty()) return ::testing::AssertionFailure() << "no deploy/nginx/" << conf;
  for (const auto& [from, to] : replacements) {
    auto at = site.find(from);
    if (at == std::string::npos)
      return ::testing::AssertionFailure() << "deploy/nginx/" << conf << " no longer has " << from;
    site.replace(at, from.size(), to);
  }
  std::ofstream(dir_ + "/" + conf) << site;
  std::string main_conf;
  if (::geteuid() == 0) main_conf += "user root;\n";
  main_conf += "worker_processes 1;\npid " + dir_ + "/nginx.pid;\nerror_log " + dir_ +
               "/error.log info;\nevents { worker_connections 1024; }\nhttp {\n  access_log " +
               dir_ + "/access.log;\n";
  for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    main_conf += "  " + std::string(t) + "_temp_path " + dir_ + "/" + t + ";\n";
  main_conf += "  include " + dir_ + "/" + conf + ";\n}\n";
  std::ofstream(dir_ + "/nginx.conf") << main_conf;
  auto started = process_.start(
      {"/usr/sbin/nginx", "-p", dir_, "-c", dir_ + "/nginx.conf", "-g", "daemon off;"},
      dir_ + "/output.log");
  if (!started) return started;
  bool up =
      wait_until([&] { return http_call("GET", url(health_path), {}, {}).status == 200; }, 15s);
  if (!up)
    return ::testing::AssertionFailure()
           << "nginx did not answer: " << process_.output() << error_log();
  return ::testing::AssertionSuccess();
}

std::string Nginx::error_log() const {
  return read_file_bytes(dir_ + "/error.log");
}

}  // namespace reach::itest
