// Helpers for the net tests: a real Server on 127.0.0.1:0 running on its own thread, a raw
// socket for sending bytes no well-behaved client would send, and a throwaway TLS certificate.
#pragma once

#include "net/client.h"
#include "net/server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace reach::net::testing {

class RunningServer {
 public:
  RunningServer(ServerOptions options, Handler handler, UpgradeHandler upgrade = {})
      : server_(std::move(options), std::move(handler), std::move(upgrade)) {
    auto bound = server_.listen();
    if (!bound) ADD_FAILURE() << bound.error().message;
    address_ = bound ? *bound : "127.0.0.1:1";
    port_ = static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
    thread_ = std::thread([this] { server_.run(); });
  }
  ~RunningServer() {
    server_.stop(std::chrono::milliseconds(500));
    join();
  }
  Server& server() { return server_; }
  std::uint16_t port() const { return port_; }
  std::string url(std::string_view scheme, std::string_view path) const {
    return std::string(scheme) + "://" + address_ + std::string(path);
  }
  // Joins the run() thread after a stop() issued by the test.
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  Server server_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking TCP socket to 127.0.0.1:port, from `from` when given (any address of 127/8: another
// client on one machine).
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (from) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (::inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        ADD_FAILURE() << "cannot bind to " << from;
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "connect failed";
    }
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until the peer closes or `timeout` passes. `closed` says which.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* closed) {
    std::string out;
    *closed = false;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return out;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        *closed = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

  // Reads one response with a Content-Length body (what the server always sends).
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t need = std::string::npos;
    for (;;) {
      std::size_t end = pending_.find("\r\n\r\n");
      if (end != std::string::npos && need == std::string::npos) {
        std::size_t length = 0;
        std::string head = pending_.substr(0, end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t at = head.find("content-length:");
        if (at != std::string::npos) length = std::stoul(head.substr(at + 15));
        need = end + 4 + length;
      }
      if (need != std::string::npos && pending_.size() >= need) {
        std::string out = pending_.substr(0, need);
        pending_.erase(0, need);
        return out;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return {};
      pending_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string pending_;
};

// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI.
struct TestCert {
  std::filesystem::path dir;
  std::string cert, key;
  TestCert() {
    dir = std::filesystem::temp_directory_path() /
          ("reach-net-test-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(dir);
    cert = (dir / "cert.pem").string();
    key = (dir / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "openssl failed: " << cmd;
  }
  ~TestCert() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  ServerOptions server_options() const {
    ServerOptions o;
    o.tls = TlsFiles{cert, key};
    return o;
  }
  ClientOptions client_options() const {
    ClientOptions o;
    o.ca_file = cert;
    return o;
  }
};

// After a connection was refused or dropped, the server must go on serving others.
inline void expect_still_serves(RunningServer& s) {
  auto ok = http_request("GET", s.url("http", "/"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

// Polls `cond` until it holds or `timeout` passes; for waiting on other threads, not timing.
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace reach::net::testing
