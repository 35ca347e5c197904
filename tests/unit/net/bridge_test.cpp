#include "net/bridge.h"

#include "net/client.h"
#include "net/server.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

namespace reach::net {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RunningServer;

// Server side: echoes binary messages, honouring back-pressure; "bye" gets "see you" and a
// close (1000, "done").
class Echo : public WebSocketHandler {
 public:
  explicit Echo(std::atomic<int>* closes) : closes_(closes) {}
  void on_open(std::shared_ptr<WebSocket> ws) override { ws_ = std::move(ws); }
  void on_message(std::string data, bool binary) override {
    if (data == "bye") {
      ws_->send("see you");
      ws_->close(1000, "done");
      return;
    }
    if (!ws_->send(std::move(data), binary)) ws_->pause_reading();
  }
  void on_drain() override { ws_->resume_reading(); }
  void on_close(std::uint16_t, std::string) override {
    ws_.reset();
    ++*closes_;
  }

 private:
  std::atomic<int>* closes_;
  std::shared_ptr<WebSocket> ws_;
};

// A blocking TCP client socket (the VNC viewer or server in real use).
class Client {
 public:
  explicit Client(const std::string& address) {
    auto port = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      ADD_FAILURE() << "connect failed";
  }
  ~Client() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Up to `max` bytes; empty on end of stream, error or timeout (then *eof says which).
  std::string recv(std::size_t max, std::chrono::milliseconds timeout, bool* eof) {
    *eof = false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return {};
    std::string buf(max, '\0');
    ssize_t n = ::recv(fd_, buf.data(), max, 0);
    if (n <= 0) {
      *eof = true;
      return {};
    }
    buf.resize(static_cast<std::size_t>(n));
    return buf;
  }
  // Everything until the peer closes (or `timeout`); *eof tells whether it closed.
  std::string read_until_close(std::chrono::milliseconds timeout, bool* eof) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string part = recv(64 * 1024, 100ms, eof);
      if (*eof) return out;
      out += part;
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::uint64_t fnv1a(std::uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}
constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;

// A server with /echo and a /gone that refuses like the relay does for an ended session; a TCP
// listener whose connections are bridged to a WebSocket by the test.
class BridgeTest : public ::testing::Test {
 protected:
  BridgeTest()
      : server_(
            [] {
              ServerOptions o;
              o.ws_send_queue_limit = 1024 * 1024;
              return o;
            }(),
            [](Request&) { return Response::text(200, "ok"); },
            [this](Request& r, Response& reject) -> std::shared_ptr<WebSocketHandler> {
              if (r.path == "/echo") return std::make_shared<Echo>(&server_closes_);
              reject = Response::json_text(
                  410, R"({"error":"session_ended","error_description":"Request a new session."})");
              return nullptr;
            }) {
    auto l = TcpListener::open(loop_, "127.0.0.1", 0);
    EXPECT_TRUE(l) << l.error().message;
    listener_ = std::move(*l);
    listener_->start([this](TcpStream s) {
      std::lock_guard lock(mu_);
      accepted_.push_back(std::move(s));
      cv_.notify_all();
    });
  }

  TcpStream next_accepted() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, 10s, [this] { return !accepted_.empty(); })) return {};
    TcpStream s = std::move(accepted_.front());
    accepted_.pop_front();
    return s;
  }

  // Connects a client to the listener and bridges its connection to `path` on the server.
  std::shared_ptr<Bridge> connect(Client& client, std::string_view path, BridgeOptions options = {},
                                  Error* error = nullptr) {
    TcpStream s = next_accepted();
    EXPECT_TRUE(s);
    auto b = Bridge::start(loop_, std::move(s), server_.url("ws", path), {}, options);
    if (!b) {
      if (error) *error = b.error();
      return nullptr;
    }
    return *b;
  }

  std::atomic<int> server_closes_{0};
  RunningServer server_;
  EventLoop loop_;
  std::unique_ptr<TcpListener> listener_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<TcpStream> accepted_;
};

TEST_F(BridgeTest, Carries64MiBBothWaysWithBoundedMemory) {
  constexpr std::size_t kTotal = 64 * 1024 * 1024;
  BridgeOptions options;
  options.tcp_write_limit = 1024 * 1024;
  Client client(listener_->address());
  auto bridge = connect(client, "/echo", options);
  ASSERT_TRUE(bridge);

  std::uint64_t sent_hash = kFnvOffset;
  std::thread writer([&] {
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    std::string block(256 * 1024, '\0');
    for (std::size_t done = 0; done < kTotal; done += block.size()) {
      for (std::size_t i = 0; i < block.size(); i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(block.data() + i, &x, 8);
      }
      sent_hash = fnv1a(sent_hash, block);
      if (!client.send(block)) {
        ADD_FAILURE() << "send failed at " << done;
        return;
      }
    }
  });
  // A slow start on the reading side fills every queue, so both pauses are exercised.
  std::this_thread::sleep_for(300ms);
  std::uint64_t got_hash = kFnvOffset;
  std::size_t got = 0;
  bool eof = false;
  while (got < kTotal) {
    std::string part = client.recv(256 * 1024, 10s, &eof);
    if (part.empty()) break;
    got += part.size();
    got_hash = fnv1a(got_hash, part);
  }
  writer.join();
  EXPECT_EQ(got, kTotal);
  EXPECT_EQ(got_hash, sent_hash);

  // The viewer quits: the bridge closes the WebSocket.
  client.close();
  auto r = bridge->wait();
  EXPECT_EQ(r.end, BridgeEnd::tcp_closed);
  EXPECT_EQ(r.tcp_to_websocket, kTotal);
  EXPECT_EQ(r.websocket_to_tcp, kTotal);
  // Both kinds of back-pressure engaged: the slow reader paused the WebSocket, and the echo
  // server (which stops reading while its queue is full) paused TCP reading.
  EXPECT_GT(r.websocket_pauses, 0u);
  EXPECT_GT(r.tcp_read_pauses, 0u);
  // Over the limit by at most the message that crossed it (a chunk echoed back).
  EXPECT_LE(r.tcp_backlog_peak, options.tcp_write_limit + options.chunk_size);
  EXPECT_TRUE(eventually([&] { return server_closes_ == 1; }));
}

TEST_F(BridgeTest, TcpCloseEndsTheWebSocket) {
  Client client(listener_->address());
  auto bridge = connect(client, "/echo");
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(client.send("hello"));
  bool eof = false;
  EXPECT_EQ(client.recv(100, 5s, &eof), "hello");
  client.close();
  auto r = bridge->wait();
  EXPECT_EQ(r.end, BridgeEnd::tcp_closed);
  EXPECT_EQ(r.tcp_to_websocket, 5u);
  EXPECT_EQ(r.websocket_to_tcp, 5u);
  EXPECT_EQ(r.websocket_code, 1000);
  EXPECT_TRUE(eventually([&] { return server_closes_ == 1; }));
}

TEST_F(BridgeTest, WebSocketCloseEndsTcpAfterFlushing) {
  Client client(listener_->address());
  auto bridge = connect(client, "/echo");
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(client.send("bye"));
  bool eof = false;
  EXPECT_EQ(client.read_until_close(10s, &eof), "see you");
  EXPECT_TRUE(eof);
  client.close();
  auto r = bridge->wait();
  EXPECT_EQ(r.end, BridgeEnd::websocket_closed);
  EXPECT_EQ(r.websocket_code, 1000);
  EXPECT_NE(r.detail.find("done"), std::string::npos) << r.detail;
  EXPECT_EQ(r.websocket_to_tcp, 7u);
}

TEST_F(BridgeTest, RefusedUpgradeKeepsStatusAndClosesTcp) {
  Client client(listener_->address());
  Error error;
  auto bridge = connect(client, "/gone", {}, &error);
  ASSERT_FALSE(bridge);
  EXPECT_EQ(error.status, 410);
  EXPECT_NE(error.message.find("new session"), std::string::npos) << error.message;
  bool eof = false;
  client.read_until_close(5s, &eof);
  EXPECT_TRUE(eof);
}

TEST_F(BridgeTest, StopEndsBothSides) {
  Client client(listener_->address());
  auto bridge = connect(client, "/echo");
  ASSERT_TRUE(bridge);
  bool ended = false;
  bridge->stop();
  auto r = bridge->wait();
  EXPECT_EQ(r.end, BridgeEnd::stopped);
  client.read_until_close(5s, &ended);
  EXPECT_TRUE(ended);
  EXPECT_TRUE(eventually([&] { return server_closes_ == 1; }));
}

TEST_F(BridgeTest, TcpConnectReachesAListenerAndReportsRefusal) {
  auto s = tcp_connect(loop_, "127.0.0.1",
                       static_cast<std::uint16_t>(std::stoi(
                           listener_->address().substr(listener_->address().rfind(':') + 1))));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(next_accepted());
  // A port nobody listens on: the listener's, once closed.
  std::string address = listener_->address();
  listener_->close();
  std::this_thread::sleep_for(50ms);
  auto refused =
      tcp_connect(loop_, "127.0.0.1",
                  static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "connectFailed");
}

}  // namespace
}  // namespace reach::net
