#include "net/client.h"
#include "net/server.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace reach::net {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RawSocket;
using testing::RunningServer;
using testing::TestCert;

// Server side: echoes every message back with the same type.
class EchoHandler : public WebSocketHandler {
 public:
  void on_open(std::shared_ptr<WebSocket> ws) override { ws_ = std::move(ws); }
  void on_message(std::string data, bool binary) override { ws_->send(std::move(data), binary); }
  void on_close(std::uint16_t code, std::string reason) override { ws_.reset(); }

 private:
  std::shared_ptr<WebSocket> ws_;
};

// Client side: records what arrives, thread-safely.
class Recorder : public WebSocketHandler {
 public:
  struct Message {
    std::string data;
    bool binary;
  };
  void on_message(std::string data, bool binary) override {
    std::lock_guard lock(mu_);
    bytes_ += data.size();
    messages_.push_back({std::move(data), binary});
  }
  void on_close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(mu_);
    ++closes_;
    close_code_ = code;
  }
  std::vector<Message> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::size_t bytes() {
    std::lock_guard lock(mu_);
    return bytes_;
  }
  int closes() {
    std::lock_guard lock(mu_);
    return closes_;
  }
  std::uint16_t close_code() {
    std::lock_guard lock(mu_);
    return close_code_;
  }

 private:
  std::mutex mu_;
  std::vector<Message> messages_;
  std::size_t bytes_ = 0;
  int closes_ = 0;
  std::uint16_t close_code_ = 0;
};

Response not_websocket(Request& r) {
  return Response::text(200, "plain " + r.path);
}

UpgradeHandler accept_echo(std::string* seen_path = nullptr) {
  return [seen_path](Request& r, Response&) -> std::shared_ptr<WebSocketHandler> {
    if (seen_path) *seen_path = r.path + "?" + std::string(r.query_param("t").value_or(""));
    return std::make_shared<EchoHandler>();
  };
}

void expect_echo(const std::string& url, const ClientOptions& options = {}) {
  EventLoop loop;
  auto rec = std::make_shared<Recorder>();
  auto ws = websocket_connect(loop, url, {}, rec, options);
  ASSERT_TRUE(ws) << ws.error().code << ": " << ws.error().message;
  EXPECT_TRUE((*ws)->send("hello", false));
  EXPECT_TRUE((*ws)->send(std::string("\x00\x01\xff", 3), true));
  ASSERT_TRUE(eventually([&] { return rec->messages().size() == 2; }));
  auto got = rec->messages();
  EXPECT_EQ(got[0].data, "hello");
  EXPECT_FALSE(got[0].binary);
  EXPECT_EQ(got[1].data, std::string("\x00\x01\xff", 3));
  EXPECT_TRUE(got[1].binary);
  EXPECT_EQ((*ws)->remote_address(), "127.0.0.1");
  (*ws)->close(1000, "bye");
  ASSERT_TRUE(eventually([&] { return rec->closes() == 1; }));
  EXPECT_EQ(rec->close_code(), 1000);
  EXPECT_FALSE((*ws)->send("after close", false));
}

TEST(WebSocket, EchoTextAndBinary) {
  std::string seen;
  RunningServer s({}, not_websocket, accept_echo(&seen));
  expect_echo(s.url("ws", "/echo?t=tok%20en"));
  EXPECT_EQ(seen, "/echo?tok en");
  // Plain requests still reach the HTTP handler.
  auto plain = http_request("GET", s.url("http", "/x"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->body, "plain /x");
}

TEST(WebSocket, EchoOverTls) {
  TestCert cert;
  RunningServer s(cert.server_options(), not_websocket, accept_echo());
  expect_echo(s.url("wss", "/echo"), cert.client_options());
}

TEST(WebSocket, WithoutUpgradeHandlerUpgradeGoesToHttpHandler) {
  RunningServer s({}, not_websocket);
  EventLoop loop;
  auto ws = websocket_connect(loop, s.url("ws", "/chat"), {}, std::make_shared<Recorder>());
  ASSERT_FALSE(ws);
  EXPECT_EQ(ws.error().status, 200);
  EXPECT_EQ(ws.error().message, "plain /chat");
}

TEST(WebSocket, RefusedUpgradeGivesClientTheStatus) {
  RunningServer s({}, not_websocket, [](Request& r, Response& reject) {
    EXPECT_FALSE(r.headers.get("authorization").has_value());
    reject = Response::json_text(401, R"({"error":{"code":"unauthenticated"}})");
    return std::shared_ptr<WebSocketHandler>();
  });
  EventLoop loop;
  auto rec = std::make_shared<Recorder>();
  auto ws = websocket_connect(loop, s.url("ws", "/chat"), {}, rec);
  ASSERT_FALSE(ws);
  EXPECT_EQ(ws.error().status, 401);
  EXPECT_EQ(ws.error().message, R"({"error":{"code":"unauthenticated"}})");
  EXPECT_EQ(rec->closes(), 0);
}

// A server that redirects every upgrade (a relay node sending a stream to the node that owns its
// session).
UpgradeHandler redirect_to(std::string location, std::atomic<int>* asked = nullptr) {
  return [location, asked](Request&, Response& reject) {
    if (asked) ++*asked;
    reject = Response::empty(307);
    reject.headers.set("Location", location);
    return std::shared_ptr<WebSocketHandler>();
  };
}

TEST(WebSocket, ARedirectIsFollowedWithThePathAndHeaders) {
  std::string seen;
  RunningServer owner(
      {}, not_websocket, [&](Request& r, Response&) -> std::shared_ptr<WebSocketHandler> {
        seen = r.target + " " + std::string(r.headers.get("authorization").value_or(""));
        return std::make_shared<EchoHandler>();
      });
  RunningServer other({}, not_websocket, redirect_to(owner.url("http", "/stream/x?code=1")));
  // An absolute path is on the same origin.
  RunningServer same({}, not_websocket, redirect_to("/elsewhere"));
  EventLoop loop;
  Headers h;
  h.add("Authorization", "Bearer t");
  auto ws =
      websocket_connect(loop, other.url("ws", "/stream/x?code=1"), h, std::make_shared<Recorder>());
  ASSERT_TRUE(ws) << ws.error().message;
  EXPECT_EQ(seen, "/stream/x?code=1 Bearer t");
  auto rec = std::make_shared<Recorder>();
  auto looped = websocket_connect(loop, same.url("ws", "/first"), {}, rec);
  ASSERT_FALSE(looped);
  EXPECT_NE(looped.error().message.find("too many redirects"), std::string::npos)
      << looped.error().message;
  EXPECT_EQ(rec->closes(), 0);
}

TEST(WebSocket, ARedirectOutOfTlsOrToAnotherSchemeIsRefused) {
  TestCert cert;
  std::atomic<int> odd_asked{0};
  RunningServer plain({}, not_websocket, accept_echo());
  RunningServer tls(cert.server_options(), not_websocket, redirect_to(plain.url("http", "/x")));
  EventLoop loop;
  auto down = websocket_connect(loop, tls.url("wss", "/x"), {}, std::make_shared<Recorder>(),
                                cert.client_options());
  ASSERT_FALSE(down);
  EXPECT_NE(down.error().message.find("it leaves TLS"), std::string::npos) << down.error().message;
  RunningServer odd({}, not_websocket, redirect_to("ftp://127.0.0.1/x", &odd_asked));
  auto other = websocket_connect(loop, odd.url("ws", "/x"), {}, std::make_shared<Recorder>());
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("not an http(s) or ws(s) URL"), std::string::npos)
      << other.error().message;
  EXPECT_EQ(odd_asked.load(), 1);
}

TEST(WebSocket, HeadersReachTheUpgradeHandler) {
  std::atomic<bool> saw{false};
  RunningServer s({}, not_websocket,
                  [&](Request& r, Response&) -> std::shared_ptr<WebSocketHandler> {
                    saw = r.headers.get("authorization") == "Bearer t";
                    return std::make_shared<EchoHandler>();
                  });
  EventLoop loop;
  Headers h;
  h.add("Authorization", "Bearer t");
  auto ws = websocket_connect(loop, s.url("ws", "/"), h, std::make_shared<Recorder>());
  ASSERT_TRUE(ws) << ws.error().message;
  EXPECT_TRUE(saw.load());
}

// Server side: counts messages; records how it ended.
class CountingHandler : public WebSocketHandler {
 public:
  void on_message(std::string data, bool binary) override { ++messages; }
  void on_close(std::uint16_t code, std::string reason) override {
    close_code = code;
    closed = true;
  }
  std::atomic<int> messages{0};
  std::atomic<int> close_code{0};
  std::atomic<bool> closed{false};
};

TEST(WebSocket, MessageOverLimitClosesTheSocket) {
  ServerOptions o;
  o.ws_message_limit = 1000;
  auto server_side = std::make_shared<CountingHandler>();
  RunningServer s(o, not_websocket, [&](Request&, Response&) { return server_side; });
  EventLoop loop;
  auto rec = std::make_shared<Recorder>();
  auto ws = websocket_connect(loop, s.url("ws", "/"), {}, rec);
  ASSERT_TRUE(ws) << ws.error().message;
  (*ws)->send(std::string(500, 'a'));
  ASSERT_TRUE(eventually([&] { return server_side->messages == 1; }));
  (*ws)->send(std::string(5000, 'a'));
  ASSERT_TRUE(eventually([&] { return rec->closes() == 1; }));
  EXPECT_EQ(rec->close_code(), 1009);  // "message too big"
  ASSERT_TRUE(eventually([&] { return server_side->closed.load(); }));
  EXPECT_EQ(server_side->messages, 1);
  EXPECT_TRUE(eventually([&] { return s.server().stats().connections_open == 0; }));
}

// Server side: streams `total` bytes in `chunk` messages, producing only while send() says the
// queue has room and resuming on on_drain, as a relay would.
class Producer : public WebSocketHandler {
 public:
  static constexpr std::size_t kChunk = 64 * 1024;
  explicit Producer(std::size_t total) : total_(total) {}

  void on_open(std::shared_ptr<WebSocket> ws) override {
    ws_ = ws;
    pump();
  }
  void on_message(std::string, bool) override {}
  void on_drain() override {
    ++drains;
    pump();
  }
  void on_close(std::uint16_t, std::string) override { ws_.reset(); }

  std::atomic<std::size_t> produced{0};
  std::atomic<std::size_t> max_queued{0};
  std::atomic<int> refusals{0};  // send() returned false
  std::atomic<int> drains{0};

 private:
  void pump() {
    while (produced < total_) {
      bool room = ws_->send(std::string(kChunk, 'x'));
      produced += kChunk;
      max_queued = std::max<std::size_t>(max_queued, ws_->queued_bytes());
      if (!room) {
        ++refusals;
        return;
      }
    }
  }
  std::size_t total_;
  std::shared_ptr<WebSocket> ws_;
};

class PausingRecorder : public Recorder {
 public:
  void on_open(std::shared_ptr<WebSocket> ws) override { ws->pause_reading(); }
};

TEST(WebSocket, PausedReaderPushesBackToServerSender) {
  constexpr std::size_t kTotal = 64 * 1024 * 1024;
  constexpr std::size_t kLimit = 256 * 1024;
  ServerOptions o;
  o.ws_send_queue_limit = kLimit;
  auto producer = std::make_shared<Producer>(kTotal);
  RunningServer s(o, not_websocket, [&](Request&, Response&) { return producer; });
  EventLoop loop;
  auto rec = std::make_shared<PausingRecorder>();
  auto ws = websocket_connect(loop, s.url("ws", "/"), {}, rec);
  ASSERT_TRUE(ws) << ws.error().message;

  // Wait until the producer is stuck: kernel buffers full, queue over its limit, no drain.
  std::size_t last = 0;
  int stable = 0;
  ASSERT_TRUE(eventually(
      [&] {
        std::size_t now = producer->produced;
        stable = now == last ? stable + 1 : 0;
        last = now;
        return stable >= 100;  // unchanged for ~0.5 s
      },
      30s));
  EXPECT_LT(producer->produced.load(), kTotal) << "paused reader did not push back";
  EXPECT_EQ(rec->bytes(), 0u);
  EXPECT_GE(producer->refusals.load(), 1);
  EXPECT_LE(producer->max_queued.load(), kLimit + Producer::kChunk);
  int drains_while_paused = producer->drains;

  (*ws)->resume_reading();
  ASSERT_TRUE(eventually([&] { return rec->bytes() == kTotal; }, 60s))
      << "received " << rec->bytes() << " of " << kTotal;
  EXPECT_GT(producer->drains.load(), drains_while_paused);
  EXPECT_LE(producer->max_queued.load(), kLimit + Producer::kChunk);
}

TEST(WebSocket, ServerStopSends1001) {
  auto server_side = std::make_shared<CountingHandler>();
  RunningServer s({}, not_websocket, [&](Request&, Response&) { return server_side; });
  EventLoop loop;
  auto rec = std::make_shared<Recorder>();
  auto ws = websocket_connect(loop, s.url("ws", "/"), {}, rec);
  ASSERT_TRUE(ws) << ws.error().message;
  s.server().stop(2s);
  s.join();
  ASSERT_TRUE(eventually([&] { return rec->closes() == 1; }));
  EXPECT_EQ(rec->close_code(), 1001);
  EXPECT_TRUE(server_side->closed.load());
}

TEST(WebSocket, ClientCloseReachesServerHandler) {
  auto server_side = std::make_shared<CountingHandler>();
  RunningServer s({}, not_websocket, [&](Request&, Response&) { return server_side; });
  {
    EventLoop loop;
    auto ws = websocket_connect(loop, s.url("ws", "/"), {}, std::make_shared<Recorder>());
    ASSERT_TRUE(ws) << ws.error().message;
    (*ws)->close(4000, "done");
    ASSERT_TRUE(eventually([&] { return server_side->closed.load(); }));
    EXPECT_EQ(server_side->close_code, 4000);
  }
  EXPECT_TRUE(eventually([&] { return s.server().stats().connections_open == 0; }));
}

}  // namespace
}  // namespace reach::net
