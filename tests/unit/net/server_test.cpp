#include "net/server.h"

#include "common/time.h"
#include "net/client.h"
#include "test_support.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <future>
#include <stdexcept>

namespace reach::net {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::expect_still_serves;
using testing::RawSocket;
using testing::RunningServer;
using testing::TestCert;

// Echoes what the handler saw, one "key=value" per line.
Response describe(Request& r) {
  std::string out = "method=" + r.method + "\npath=" + r.path + "\ntarget=" + r.target +
                    "\nbody=" + r.body + "\nremote=" + r.remote_address +
                    "\ntls=" + (r.tls ? "1" : "0") + "\nhost=" + r.host + "\n";
  for (auto& [k, v] : r.query) out += "q:" + k + "=" + v + "\n";
  if (auto h = r.headers.get("x-test")) out += "x-test=" + std::string(*h) + "\n";
  auto res = Response::text(200, out);
  res.headers.add("X-Reply", "yes");
  return res;
}

ClientOptions with_timeout(std::chrono::milliseconds t) {
  ClientOptions o;
  o.timeout = t;
  return o;
}

bool has_line(const std::string& body, const std::string& line) {
  return body.find(line + "\n") != std::string::npos;
}

TEST(Server, GetAndPostRoundTrip) {
  RunningServer s({}, describe);
  Headers h;
  h.add("X-Test", "hello");
  auto get = http_request("GET", s.url("http", "/hello"), h);
  ASSERT_TRUE(get) << get.error().message;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->headers.get("x-reply"), "yes");
  // The server's clock, as RFC 9110 asks, to the second.
  auto date = get->headers.get("date");
  ASSERT_TRUE(date);
  auto now = now_ms();
  EXPECT_TRUE(*date == http_date(now) || *date == http_date(now - 1000)) << *date;
  EXPECT_TRUE(has_line(get->body, "method=GET"));
  EXPECT_TRUE(has_line(get->body, "path=/hello"));
  EXPECT_TRUE(has_line(get->body, "x-test=hello"));
  EXPECT_TRUE(has_line(get->body, "remote=127.0.0.1"));
  EXPECT_TRUE(has_line(get->body, "tls=0"));
  EXPECT_TRUE(has_line(get->body, "host=127.0.0.1:" + std::to_string(s.port())));

  auto post = http_request("POST", s.url("http", "/items"), {}, "payload");
  ASSERT_TRUE(post) << post.error().message;
  EXPECT_TRUE(has_line(post->body, "method=POST"));
  EXPECT_TRUE(has_line(post->body, "body=payload"));

  auto stats = s.server().stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.connections_accepted, 2u);
}

TEST(Server, DecodesPathAndQuery) {
  RunningServer s({}, describe);
  auto r = http_request("GET", s.url("http", "/a%20b/c%2Fd?x=1%202&y=a+b&flag"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(has_line(r->body, "path=/a b/c/d"));
  EXPECT_TRUE(has_line(r->body, "target=/a%20b/c%2Fd?x=1%202&y=a+b&flag"));
  EXPECT_TRUE(has_line(r->body, "q:x=1 2"));
  EXPECT_TRUE(has_line(r->body, "q:y=a b"));
  EXPECT_TRUE(has_line(r->body, "q:flag="));

  // Invalid escapes (which the client refuses to send) are kept verbatim.
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("GET /p%zz?z=%zz%4 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string raw = sock.read_response();
  EXPECT_NE(raw.find("path=/p%zz\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("q:z=%zz%4\n"), std::string::npos) << raw;
}

TEST(Server, HeadSendsLengthButNoBody) {
  RunningServer s({}, [](Request&) { return Response::text(200, "0123456789"); });
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
  // With Content-Length: 10 and no body, a GET follows on the same connection cleanly.
  ASSERT_TRUE(sock.send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  std::string all = sock.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  auto first_end = all.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos);
  std::string head = all.substr(0, first_end);
  EXPECT_NE(head.find("HTTP/1.1 200 OK"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 10"), std::string::npos);
  std::string rest = all.substr(first_end + 4);
  EXPECT_EQ(rest.rfind("HTTP/1.1 200 OK", 0), 0u) << rest;
  EXPECT_EQ(rest.substr(rest.size() - 10), "0123456789");

  auto via_client = http_request("HEAD", s.url("http", "/"));
  ASSERT_TRUE(via_client) << via_client.error().message;
  EXPECT_EQ(via_client->status, 200);
  EXPECT_TRUE(via_client->body.empty());
}

TEST(Server, OversizedHeadersGet431ThenServerStillServes) {
  ServerOptions o;
  o.header_limit = 1024;
  RunningServer s(o, describe);
  RawSocket sock(s.port());
  ASSERT_TRUE(
      sock.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n"));
  bool closed = false;
  std::string reply = sock.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 431 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("{\"error\":{\"code\":\"headersTooLarge\""), std::string::npos) << reply;

  expect_still_serves(s);
  EXPECT_GE(s.server().stats().rejected_malformed, 1u);
}

TEST(Server, OversizedBodyGets413) {
  ServerOptions o;
  o.body_limit = 1000;
  std::atomic<int> calls{0};
  RunningServer s(o, [&](Request& r) {
    ++calls;
    return describe(r);
  });
  // Declared length over the limit: refused from the headers alone.
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\nabc"));
  bool closed = false;
  std::string reply = sock.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413 ", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"code\":\"payloadTooLarge\""), std::string::npos) << reply;

  // The whole body sent by the client, as a real client would.
  auto r = http_request("POST", s.url("http", "/"), {}, std::string(4000, 'b'));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
  auto small = http_request("POST", s.url("http", "/"), {}, std::string(1000, 'b'));
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(calls.load(), 1);
}

TEST(Server, GarbageGets400ThenServerStillServes) {
  RunningServer s({}, describe);
  {
    RawSocket sock(s.port());
    static constexpr char kGarbage[] =
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 garbage\r\n\r\n";
    ASSERT_TRUE(sock.send(std::string_view(kGarbage, sizeof kGarbage - 1)));
    bool closed = false;
    std::string reply = sock.read_until_close(5s, &closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
    EXPECT_NE(reply.find("\"code\":\"invalidRequest\""), std::string::npos);
  }
  {
    RawSocket sock(s.port());
    ASSERT_TRUE(sock.send("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"));
    bool closed = false;
    std::string reply = sock.read_until_close(5s, &closed);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400 ", 0), 0u) << reply;
  }
  expect_still_serves(s);
  EXPECT_EQ(s.server().stats().rejected_malformed, 2u);
}

TEST(Server, ExpectContinueGets100BeforeTheBody) {
  ServerOptions o;
  o.body_limit = 100;
  RunningServer s(o, describe);
  RawSocket sock(s.port());
  ASSERT_TRUE(
      sock.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                "Expect: 100-continue\r\n\r\n"));
  std::string go_on = sock.read_response();
  EXPECT_EQ(go_on.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << go_on;
  ASSERT_TRUE(sock.send("hello"));
  std::string reply = sock.read_response();
  EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK", 0), 0u) << reply;
  EXPECT_NE(reply.find("body=hello\n"), std::string::npos) << reply;

  // Over the limit: refused without asking for the body.
  RawSocket big(s.port());
  ASSERT_TRUE(
      big.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
               "Expect: 100-continue\r\n\r\n"));
  EXPECT_EQ(big.read_response().rfind("HTTP/1.1 413 ", 0), 0u);
}

TEST(Server, ConcurrentRequestsOnSeveralIoThreads) {
  ServerOptions o;
  o.io_threads = 2;
  o.worker_threads = 3;
  RunningServer s(o, [](Request& r) {
    std::this_thread::sleep_for(20ms);
    return Response::text(200, r.path);
  });
  std::vector<std::future<bool>> results;
  for (int i = 0; i < 12; ++i) {
    results.push_back(std::async(std::launch::async, [&, i] {
      for (int j = 0; j < 5; ++j) {
        std::string path = "/c" + std::to_string(i) + "/" + std::to_string(j);
        auto r = http_request("GET", s.url("http", path));
        if (!r || r->body != path) return false;
      }
      return true;
    }));
  }
  for (auto& f : results) EXPECT_TRUE(f.get());
  EXPECT_EQ(s.server().stats().requests, 60u);
}

TEST(Server, HalfSentRequestIsClosedAfterRequestTimeout) {
  ServerOptions o;
  o.request_timeout = 300ms;
  RunningServer s(o, describe);
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("GET / HTTP/1.1\r\nHost: x\r\n"));
  bool closed = false;
  std::string reply = sock.read_until_close(10s, &closed);
  EXPECT_TRUE(closed) << "server kept a half-sent request open";
  EXPECT_TRUE(reply.empty() || reply.rfind("HTTP/1.1 408", 0) == 0) << reply;
  EXPECT_TRUE(eventually([&] { return s.server().stats().rejected_malformed == 1; }));
  EXPECT_TRUE(eventually([&] { return s.server().stats().connections_open == 0; }));

  expect_still_serves(s);
}

TEST(Server, KeepAliveServesTwoRequestsOnOneConnection) {
  RunningServer s({}, describe);
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string first = sock.read_response();
  EXPECT_EQ(first.rfind("HTTP/1.1 200 OK", 0), 0u) << first;
  EXPECT_NE(first.find("path=/one"), std::string::npos);
  ASSERT_TRUE(sock.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  std::string second = sock.read_response();
  EXPECT_EQ(second.rfind("HTTP/1.1 200 OK", 0), 0u) << second;
  EXPECT_NE(second.find("path=/two"), std::string::npos);
  EXPECT_NE(second.find("body=abc"), std::string::npos);
  auto stats = s.server().stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.connections_open, 1u);
}

TEST(Server, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout = 200ms;
  RunningServer s(o, describe);
  RawSocket sock(s.port());
  ASSERT_TRUE(sock.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(sock.read_response().empty());
  bool closed = false;
  sock.read_until_close(10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(eventually([&] { return s.server().stats().connections_open == 0; }));
}

TEST(Server, HandlerExceptionBecomes500) {
  RunningServer s({}, [](Request& r) -> Response {
    if (r.path == "/boom") throw std::runtime_error("kaboom");
    return Response::text(200, "fine");
  });
  auto r = http_request("GET", s.url("http", "/boom"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("\"code\":\"generalException\""), std::string::npos);
  EXPECT_EQ(r->body.find("kaboom"), std::string::npos) << "internal detail leaked";
  expect_still_serves(s);
}

TEST(Server, TlsRoundTrip) {
  TestCert cert;
  RunningServer s(cert.server_options(), describe);
  auto r = http_request("POST", s.url("https", "/secure?a=b"), {}, "secret", cert.client_options());
  ASSERT_TRUE(r) << r.error().code << ": " << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(has_line(r->body, "tls=1"));
  EXPECT_TRUE(has_line(r->body, "body=secret"));
  EXPECT_TRUE(has_line(r->body, "q:a=b"));

  // Without the CA the certificate must be refused...
  auto untrusted = http_request("GET", s.url("https", "/"));
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().code, "tlsFailed");
  EXPECT_EQ(untrusted.error().status, 0);
  // ...unless verification is off.
  ClientOptions insecure;
  insecure.verify_tls = false;
  auto unverified = http_request("GET", s.url("https", "/"), {}, {}, insecure);
  ASSERT_TRUE(unverified) << unverified.error().message;

  // Plain HTTP to a TLS port is not served.
  auto plain = http_request("GET", s.url("http", "/"), {}, {}, with_timeout(3s));
  EXPECT_FALSE(plain);
}

TEST(Server, GracefulStopLetsSlowHandlerFinish) {
  std::promise<void> entered;
  RunningServer s({}, [&](Request&) {
    entered.set_value();
    std::this_thread::sleep_for(300ms);
    return Response::text(200, "done");
  });
  auto result =
      std::async(std::launch::async, [&] { return http_request("GET", s.url("http", "/")); });
  entered.get_future().wait();
  s.server().stop(5s);
  s.join();  // run() returned
  auto r = result.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->headers.get("connection"), "close");
  // Nothing listens any more.
  auto after = http_request("GET", s.url("http", "/"), {}, {}, with_timeout(2s));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, "connectFailed");
}

TEST(Server, StopClosesIdleConnectionsAndGraceBoundsSlowHandlers) {
  std::promise<void> entered;
  std::promise<void> release;
  auto released = release.get_future().share();
  RunningServer s({}, [&](Request& r) {
    if (r.path == "/slow") {
      entered.set_value();
      released.wait();
    }
    return Response::text(200, "ok");
  });
  RawSocket idle(s.port());
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(idle.read_response().empty());
  auto slow =
      std::async(std::launch::async, [&] { return http_request("GET", s.url("http", "/slow")); });
  entered.get_future().wait();
  s.server().stop(200ms);
  bool closed = false;
  idle.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  s.join();  // returns after the grace period although the handler is still blocked
  auto r = slow.get();
  EXPECT_FALSE(r);
  release.set_value();
}

TEST(Server, MaxConnectionsClosesExtraSockets) {
  ServerOptions o;
  o.max_connections = 1;
  RunningServer s(o, describe);
  RawSocket first(s.port());
  ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(first.read_response().empty());
  RawSocket second(s.port());
  second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  std::string reply = second.read_until_close(5s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(reply.empty());
  // The first connection is unaffected.
  ASSERT_TRUE(first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(first.read_response().empty());
}

// A WebSocket that stays open until the test ends (agents' channels, relay streams).
class Silent : public WebSocketHandler {
 public:
  void on_open(std::shared_ptr<WebSocket> ws) override { ws_ = std::move(ws); }
  void on_message(std::string, bool) override {}
  void on_close(std::uint16_t, std::string) override { ws_.reset(); }

 private:
  std::shared_ptr<WebSocket> ws_;
};

TEST(Server, WebSocketsLeaveTheReservedConnectionsToTheApi) {
  ServerOptions o;
  o.max_connections = 8;
  o.reserved_connections = 3;
  RunningServer s(o, describe, [](Request&, Response&) -> std::shared_ptr<WebSocketHandler> {
    return std::make_shared<Silent>();
  });
  EventLoop loop;
  std::vector<std::shared_ptr<WebSocket>> sockets;
  for (int i = 0; i < 5; ++i) {
    auto ws = websocket_connect(loop, s.url("ws", "/channel"), {}, std::make_shared<Silent>());
    ASSERT_TRUE(ws) << i << ": " << ws.error().message;
    sockets.push_back(*ws);
  }
  // The sixth WebSocket would take a reserved connection: refused, in words, with a retry hint.
  auto sixth = websocket_connect(loop, s.url("ws", "/channel"), {}, std::make_shared<Silent>());
  ASSERT_FALSE(sixth);
  EXPECT_EQ(sixth.error().status, 503);
  EXPECT_NE(sixth.error().message.find("try again later"), std::string::npos)
      << sixth.error().message;
  // The API is still reachable.
  auto api = http_request("GET", s.url("http", "/health"));
  ASSERT_TRUE(api) << api.error().message;
  EXPECT_EQ(api->status, 200);
  // Filling the reserve with idle HTTP connections: the ninth connection is closed at once.
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawSocket>(s.port()));
    ASSERT_TRUE(idle.back()->send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_FALSE(idle.back()->read_response().empty());
  }
  RawSocket ninth(s.port());
  ninth.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  EXPECT_EQ(ninth.read_until_close(5s, &closed), "");
  EXPECT_TRUE(closed);
  auto st = s.server().stats();
  EXPECT_EQ(st.connections_limit, 8u);
  EXPECT_EQ(st.websockets_open, 5u);
  EXPECT_EQ(st.upgrades_refused, 1u);
  EXPECT_EQ(st.connections_refused, 1u);
  auto text = Server::metrics_text(st, "reach_test");
  EXPECT_NE(text.find("reach_test_connections_refused_total 1\n"), std::string::npos) << text;
  // A WebSocket that ends gives its slot back.
  sockets.front()->close(1000, "bye");
  sockets.erase(sockets.begin());
  ASSERT_TRUE(eventually([&] { return s.server().stats().websockets_open == 4; }));
  idle.clear();
  ASSERT_TRUE(eventually([&] { return s.server().stats().connections_open == 4; }));
  auto again = websocket_connect(loop, s.url("ws", "/channel"), {}, std::make_shared<Silent>());
  EXPECT_TRUE(again) << again.error().message;
}

TEST(Server, TheDefaultLimitFollowsTheFileDescriptorLimit) {
  std::size_t n = connections_for_fd_limit();
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  EXPECT_EQ(lim.rlim_cur, lim.rlim_max) << "the soft limit is raised to the hard one";
  EXPECT_EQ(n, static_cast<std::size_t>(lim.rlim_cur) - kFdHeadroom);
  RunningServer s({}, describe);
  EXPECT_EQ(s.server().stats().connections_limit, n);
}

TEST(Client, ErrorsAreValues) {
  // A listening socket that never answers: the timeout covers the whole exchange.
  RunningServer s({}, [](Request&) {
    std::this_thread::sleep_for(1500ms);
    return Response::text(200, "late");
  });
  auto slow = http_request("GET", s.url("http", "/"), {}, {}, with_timeout(300ms));
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, "timeout");
  EXPECT_EQ(slow.error().status, 0);

  auto refused = http_request("GET", "http://127.0.0.1:1/");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, "connectFailed");

  auto bad = http_request("GET", "ftp://example.com/");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "protocolError");
}

TEST(Client, ResponseBodyLimit) {
  RunningServer s({}, [](Request&) { return Response::text(200, std::string(10000, 'x')); });
  ClientOptions c;
  c.body_limit = 100;
  auto r = http_request("GET", s.url("http", "/"), {}, {}, c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "protocolError");
  auto ok = http_request("GET", s.url("http", "/"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body.size(), 10000u);
}

}  // namespace
}  // namespace reach::net
