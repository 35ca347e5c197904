// Pairing against the real network stack: a net::Server on 127.0.0.1:0 whose upgrades of
// /device/{code} and /supporter/{code} go to Pairing::attach, and net::websocket_connect clients.
#include "relay/pairing.h"

#include "link/notice.h"
#include "net/client.h"
#include "net/server.h"
#include "unit/net/test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace reach::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using net::testing::eventually;

constexpr std::size_t kMiB = 1024 * 1024;

// An order-sensitive 64-bit hash of a byte stream that does not depend on how the stream is cut
// into messages: FNV-1a over little 8-byte words (fast enough to hash gigabytes in a unit test).
class StreamHash {
 public:
  void update(std::string_view d) {
    const char* p = d.data();
    std::size_t n = d.size();
    bytes_ += n;
    if (fill_ > 0) {
      std::size_t k = std::min(8 - fill_, n);
      std::memcpy(buf_ + fill_, p, k);
      fill_ += k;
      p += k;
      n -= k;
      if (fill_ < 8) return;
      mix_buffered();
    }
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      mix(w);
    }
    std::memcpy(buf_, p, n);
    fill_ = n;
  }
  std::uint64_t digest() const {
    StreamHash copy = *this;
    if (copy.fill_ > 0) {
      std::memset(copy.buf_ + copy.fill_, 0, 8 - copy.fill_);
      copy.mix_buffered();
    }
    copy.mix(bytes_);
    return copy.h_;
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  void mix(std::uint64_t w) { h_ = (h_ ^ w) * 0x100000001b3ull; }
  void mix_buffered() {
    std::uint64_t w;
    std::memcpy(&w, buf_, 8);
    mix(w);
    fill_ = 0;
  }
  std::uint64_t h_ = 0xcbf29ce484222325ull;
  std::uint64_t bytes_ = 0;
  char buf_[8] = {};
  std::size_t fill_ = 0;
};

std::size_t rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "… kB"
  }
  ADD_FAILURE() << "no VmRSS in /proc/self/status";
  return 0;
}

// A client end: hashes what arrives, optionally keeps the messages, optionally reads no faster
// than a byte allowance that a test thread raises (a slow reader that never blocks its strand).
class Peer : public net::WebSocketHandler {
 public:
  explicit Peer(bool keep_messages = false) : keep_(keep_messages) {}

  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    std::lock_guard lock(mu_);
    ws_ = std::move(ws);
  }
  void on_message(std::string data, bool binary) override {
    std::lock_guard lock(mu_);
    if (!binary) {  // a notice beside the stream: kept in order, not counted as stream bytes
      texts_.push_back(std::move(data));
      if (keep_) messages_.push_back("text:" + texts_.back());
      cv_.notify_all();
      return;
    }
    received_.update(data);
    if (keep_) messages_.push_back(std::move(data));
    if (limited_ && received_.bytes() >= allowance_ && !paused_) {
      paused_ = true;
      ws_->pause_reading();
    }
    cv_.notify_all();
  }
  void on_drain() override {
    std::lock_guard lock(mu_);
    drained_ = true;
    cv_.notify_all();
  }
  void on_close(std::uint16_t code, std::string reason) override {
    std::lock_guard lock(mu_);
    ++closes_;
    close_code_ = code;
    close_reason_ = reason;
    closed_at_ = Clock::now();
    ws_.reset();
    cv_.notify_all();
  }

  // Sends `total` bytes in messages of `chunk` bytes (the first 8 bytes of each carry its index,
  // so loss, duplication or reordering changes the hash), waiting for on_drain whenever send()
  // reports a full queue. Returns false if the socket closed or stalled for 30 s.
  bool send_stream(net::WebSocket& ws, std::uint64_t total, std::size_t chunk,
                   const std::string& pool, StreamHash& sent) {
    std::uint64_t index = 0;
    for (std::uint64_t done = 0; done < total; ++index) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, total - done));
      std::size_t offset = (index * 4099 * 8) % (pool.size() - chunk);
      std::string message(pool.data() + offset, n);
      std::memcpy(message.data(), &index, std::min<std::size_t>(8, n));
      sent.update(message);
      {
        std::lock_guard lock(mu_);
        drained_ = false;
      }
      if (!ws.send(std::move(message))) {
        ++full_;
        std::unique_lock lock(mu_);
        if (!cv_.wait_for(lock, 30s, [&] { return drained_ || closes_ > 0; })) return false;
        if (closes_ > 0) return false;
      }
      done += n;
    }
    return true;
  }

  void limit_reading(std::uint64_t allowance) {
    std::lock_guard lock(mu_);
    limited_ = true;
    allowance_ = allowance;
  }
  void raise_allowance(std::uint64_t by) {
    std::lock_guard lock(mu_);
    allowance_ += by;
    if (paused_ && received_.bytes() < allowance_ && ws_) {
      paused_ = false;
      ws_->resume_reading();
    }
  }

  bool wait_bytes(std::uint64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.bytes() >= n; });
  }
  bool wait_closed(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return closes_ > 0; });
  }

  StreamHash received() {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::vector<std::string> texts() {
    std::lock_guard lock(mu_);
    return texts_;
  }
  int closes() {
    std::lock_guard lock(mu_);
    return closes_;
  }
  std::uint16_t close_code() {
    std::lock_guard lock(mu_);
    return close_code_;
  }
  std::string close_reason() {
    std::lock_guard lock(mu_);
    return close_reason_;
  }
  Clock::time_point closed_at() {
    std::lock_guard lock(mu_);
    return closed_at_;
  }
  std::uint64_t times_full() const { return full_; }

 private:
  const bool keep_;
  std::atomic<std::uint64_t> full_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<net::WebSocket> ws_;
  StreamHash received_;
  std::vector<std::string> messages_;
  std::vector<std::string> texts_;
  bool drained_ = false;
  bool limited_ = false;
  bool paused_ = false;
  std::uint64_t allowance_ = 0;
  int closes_ = 0;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
  Clock::time_point closed_at_;
};

std::string random_pool(std::size_t size) {
  std::mt19937_64 rng(42);
  std::string pool(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    std::uint64_t w = rng();
    std::memcpy(pool.data() + i, &w, 8);
  }
  return pool;
}

// A relay in miniature: Pairing behind a real server, plus a client event loop. Records the
// Pairing callbacks.
class Harness {
 public:
  explicit Harness(PairingOptions options = {}, net::ServerOptions server_options = {})
      : pairing_(std::make_unique<Pairing>(
            options,
            [this](const std::string& code, const std::string& reason) {
              std::lock_guard lock(mu_);
              ends_.emplace_back(code, reason);
              cv_.notify_all();
            },
            [this](const std::string& code, Side side) {
              std::lock_guard lock(mu_);
              connected_.emplace_back(code, side);
            },
            [this](const std::string& code) {
              std::lock_guard lock(mu_);
              paired_.push_back(code);
            })),
        server_(
            std::move(server_options),
            [](net::Request&) { return net::Response::text(404, "not here"); },
            [this](net::Request& r, net::Response& reject) { return upgrade(r, reject); }) {}

  Pairing& pairing() { return *pairing_; }
  void destroy_pairing() {
    std::lock_guard lock(pairing_mu_);
    pairing_.reset();
  }

  Result<std::shared_ptr<net::WebSocket>> connect(Side side, const std::string& code,
                                                  std::shared_ptr<Peer> peer) {
    std::string path = (side == Side::device ? "/device/" : "/supporter/") + code;
    return net::websocket_connect(loop_, server_.url("ws", path), {}, std::move(peer));
  }

  // Waits until on_end has been called for `code` and returns every reason it got.
  std::vector<std::string> wait_end(const std::string& code, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !reasons_locked(code).empty(); });
    return reasons_locked(code);
  }
  std::vector<std::string> end_reasons(const std::string& code) {
    std::lock_guard lock(mu_);
    return reasons_locked(code);
  }
  std::vector<std::pair<std::string, Side>> connected() {
    std::lock_guard lock(mu_);
    return connected_;
  }
  std::vector<std::string> paired() {
    std::lock_guard lock(mu_);
    return paired_;
  }

 private:
  std::shared_ptr<net::WebSocketHandler> upgrade(net::Request& r, net::Response& reject) {
    std::string_view path = r.path;
    Side side;
    if (path.rfind("/device/", 0) == 0) {
      side = Side::device;
      path.remove_prefix(8);
    } else if (path.rfind("/supporter/", 0) == 0) {
      side = Side::supporter;
      path.remove_prefix(11);
    } else {
      reject = net::Response::text(404, "no such stream");
      return nullptr;
    }
    std::lock_guard lock(pairing_mu_);
    if (!pairing_) {
      reject = net::Response::text(503, "no pairing");
      return nullptr;
    }
    auto handler = pairing_->attach(std::string(path), side);
    if (!handler) {
      reject = net::Response::text(handler.error().status, handler.error().code);
      return nullptr;
    }
    return *handler;
  }
  std::vector<std::string> reasons_locked(const std::string& code) {
    std::vector<std::string> out;
    for (auto& [c, reason] : ends_)
      if (c == code) out.push_back(reason);
    return out;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, std::string>> ends_;
  std::vector<std::pair<std::string, Side>> connected_;
  std::vector<std::string> paired_;
  std::mutex pairing_mu_;  // destroy_pairing() vs upgrades
  std::unique_ptr<Pairing> pairing_;
  net::testing::RunningServer server_;  // stopped before the Pairing it calls is destroyed
  net::EventLoop loop_;                 // its sockets are aborted first
};

struct Pair {
  std::shared_ptr<Peer> device = std::make_shared<Peer>();
  std::shared_ptr<Peer> supporter = std::make_shared<Peer>();
  std::shared_ptr<net::WebSocket> device_ws, supporter_ws;
};

Pair connect_pair(Harness& h, const std::string& code) {
  Pair p;
  auto d = h.connect(Side::device, code, p.device);
  EXPECT_TRUE(d) << d.error().status << " " << d.error().message;
  if (d) p.device_ws = *d;
  auto s = h.connect(Side::supporter, code, p.supporter);
  EXPECT_TRUE(s) << s.error().status << " " << s.error().message;
  if (s) p.supporter_ws = *s;
  return p;
}

TEST(PairingTest, OneGibEachWayConcurrentlyArrivesIntact) {
  Harness h;
  Pair p = connect_pair(h, "s10000001");
  ASSERT_TRUE(p.device_ws && p.supporter_ws);
  const std::uint64_t total = 1024ull * kMiB;
  const std::size_t chunk = 64 * 1024;
  const std::string pool = random_pool(kMiB);
  StreamHash sent_down, sent_up;  // device→supporter, supporter→device
  bool ok_down = false, ok_up = false;
  auto start = Clock::now();
  std::thread down(
      [&] { ok_down = p.device->send_stream(*p.device_ws, total, chunk, pool, sent_down); });
  std::thread up(
      [&] { ok_up = p.supporter->send_stream(*p.supporter_ws, total, chunk, pool, sent_up); });
  down.join();
  up.join();
  EXPECT_TRUE(ok_down);
  EXPECT_TRUE(ok_up);
  EXPECT_TRUE(p.supporter->wait_bytes(total, 60s));
  EXPECT_TRUE(p.device->wait_bytes(total, 60s));
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("2 x 1 GiB through the relay in %.2f s (%.0f MiB/s each way)\n", seconds,
              1024 / seconds);

  StreamHash at_supporter = p.supporter->received(), at_device = p.device->received();
  EXPECT_EQ(sent_down.bytes(), total);
  EXPECT_EQ(at_supporter.bytes(), total);
  EXPECT_EQ(at_supporter.digest(), sent_down.digest());
  EXPECT_EQ(sent_up.bytes(), total);
  EXPECT_EQ(at_device.bytes(), total);
  EXPECT_EQ(at_device.digest(), sent_up.digest());
  EXPECT_TRUE(h.end_reasons("s10000001").empty());
}

TEST(PairingTest, SlowSupporterDoesNotGrowRelayMemory) {
  // Server and clients share this process, so the bound covers both. With back-pressure the
  // bytes in flight in user space are at most: the relay's queue to the supporter
  // (ws_send_queue_limit 4 MiB + one 64 KiB message), one message being read from the device,
  // the device client's own send queue (ClientOptions::ws_send_queue_limit 4 MiB + one message,
  // since the producer waits for on_drain) and the supporter client's read buffer (one message).
  // That is under 10 MiB; socket buffers are kernel memory, not RSS. 64 MiB leaves room for
  // allocator slack, yet is a quarter of what buffering the 256 MiB transfer would cost.
  Harness h;
  Pair p = connect_pair(h, "s10000002");
  ASSERT_TRUE(p.device_ws && p.supporter_ws);
  const std::uint64_t total = 256 * kMiB;
  const std::size_t chunk = 64 * 1024;
  const std::string pool = random_pool(kMiB);
  // The supporter reads 4 MiB at once, then 4 MiB more every 80 ms (50 MiB/s): well below what
  // the device end sends, so without back-pressure the relay would queue most of the 256 MiB.
  p.supporter->limit_reading(4 * kMiB);
  const std::size_t baseline = rss_bytes();
  std::atomic<bool> done{false};
  std::size_t peak = baseline;
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak, rss_bytes());
      std::this_thread::sleep_for(5ms);
    }
  });
  std::thread reader_clock([&] {
    while (!done) {
      std::this_thread::sleep_for(80ms);
      p.supporter->raise_allowance(4 * kMiB);
    }
  });
  StreamHash sent;
  auto start = Clock::now();
  bool ok = p.device->send_stream(*p.device_ws, total, chunk, pool, sent);
  bool arrived = p.supporter->wait_bytes(total, 60s);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  sampler.join();
  reader_clock.join();

  EXPECT_TRUE(ok);
  EXPECT_TRUE(arrived);
  StreamHash got = p.supporter->received();
  EXPECT_EQ(got.bytes(), total);
  EXPECT_EQ(got.digest(), sent.digest());
  // The device client really was held back (by the relay, through TCP).
  EXPECT_GT(p.device->times_full(), 10u);
  std::size_t growth = peak > baseline ? peak - baseline : 0;
  std::printf("256 MiB to a slow supporter in %.2f s; RSS %.1f MiB -> peak %.1f MiB (+%.1f MiB)\n",
              seconds, baseline / double(kMiB), peak / double(kMiB), growth / double(kMiB));
  EXPECT_LT(growth, 64 * kMiB);
}

TEST(PairingTest, EitherEndLeavingClosesTheOtherWithinASecondAndEndsForGood) {
  Harness h;
  for (Side leaver : {Side::device, Side::supporter}) {
    SCOPED_TRACE(leaver == Side::device ? "device leaves" : "supporter leaves");
    std::string code = leaver == Side::device ? "s10000003" : "s10000004";
    Pair p = connect_pair(h, code);
    ASSERT_TRUE(p.device_ws && p.supporter_ws);
    ASSERT_TRUE(eventually([&] {
      auto st = h.pairing().state(code);
      return st && st->device && st->supporter;
    }));
    auto& leaving_ws = leaver == Side::device ? p.device_ws : p.supporter_ws;
    auto& staying = leaver == Side::device ? p.supporter : p.device;

    auto t0 = Clock::now();
    leaving_ws->close(1000, "bye");
    ASSERT_TRUE(staying->wait_closed(1s));
    auto elapsed = staying->closed_at() - t0;
    EXPECT_LT(elapsed, 1s);
    EXPECT_EQ(staying->close_code(), 1000);
    EXPECT_EQ(staying->close_reason(), "bye");  // the leaver's reason, passed on
    std::printf("other end closed %.1f ms after the close\n",
                std::chrono::duration<double, std::milli>(elapsed).count());

    auto reasons = h.wait_end(code, 2s);
    ASSERT_EQ(reasons.size(), 1u);
    EXPECT_EQ(reasons[0], leaver == Side::device ? "deviceLeft" : "supporterLeft");
    auto st = h.pairing().state(code);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->ended);
    EXPECT_FALSE(st->device);
    EXPECT_FALSE(st->supporter);

    for (Side side : {Side::device, Side::supporter}) {
      auto again = h.pairing().attach(code, side);
      ASSERT_FALSE(again);
      EXPECT_EQ(again.error().kind, Errc::gone);
      EXPECT_EQ(again.error().code, "sessionEnded");
    }
    auto over_the_wire = h.connect(Side::device, code, std::make_shared<Peer>());
    ASSERT_FALSE(over_the_wire);
    EXPECT_EQ(over_the_wire.error().status, 410);

    // Both closes have been seen: still exactly one on_end.
    ASSERT_TRUE(eventually([&] { return p.device->closes() + p.supporter->closes() == 2; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(h.end_reasons(code).size(), 1u);
  }
  EXPECT_EQ(h.pairing().active_sessions(), 0u);
}

TEST(PairingTest, PeerWaitTimeoutClosesTheWaitingEnd) {
  PairingOptions options;
  options.peer_wait = 300ms;
  Harness h(options);
  auto device = std::make_shared<Peer>();
  auto t0 = Clock::now();
  auto ws = h.connect(Side::device, "s10000005", device);
  ASSERT_TRUE(ws);
  ASSERT_TRUE(device->wait_closed(3s));
  auto elapsed = device->closed_at() - t0;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1300ms);
  EXPECT_EQ(device->close_code(), 4000);
  EXPECT_EQ(device->close_reason(), "the other side did not connect in time");
  auto reasons = h.wait_end("s10000005", 1s);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "peerTimeout");
  auto late = h.pairing().attach("s10000005", Side::supporter);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, Errc::gone);
}

TEST(PairingTest, SecondEndOfASideIsRefusedAndCloseEndsBoth) {
  Harness h;
  const std::string code = "s10000006";
  Pair p = connect_pair(h, code);
  ASSERT_TRUE(p.device_ws && p.supporter_ws);
  ASSERT_TRUE(eventually([&] { return h.paired().size() == 1; }));

  auto second = h.connect(Side::device, code, std::make_shared<Peer>());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().status, 409);
  auto direct = h.pairing().attach(code, Side::supporter);
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().kind, Errc::conflict);
  EXPECT_EQ(direct.error().code, "alreadyConnected");
  // The refused ends changed nothing.
  auto st = h.pairing().state(code);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->device && st->supporter && !st->ended);

  auto t0 = Clock::now();
  h.pairing().close(code);
  ASSERT_TRUE(p.device->wait_closed(1s));
  ASSERT_TRUE(p.supporter->wait_closed(1s));
  EXPECT_LT(p.device->closed_at() - t0, 1s);
  EXPECT_LT(p.supporter->closed_at() - t0, 1s);
  EXPECT_EQ(p.device->close_code(), 1000);
  EXPECT_EQ(p.supporter->close_reason(), "session closed");
  auto reasons = h.wait_end(code, 1s);
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], "closed");
  h.pairing().close(code);  // idempotent
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(h.end_reasons(code).size(), 1u);
  EXPECT_TRUE(h.pairing().state(code)->ended);
}

TEST(PairingTest, WhatTheDeviceSendsBeforeTheSupporterArrivesIsDeliveredInOrder) {
  Harness h;
  const std::string code = "s10000007";
  auto device = std::make_shared<Peer>();
  auto device_ws = h.connect(Side::device, code, device);
  ASSERT_TRUE(device_ws);
  std::vector<std::string> sent;
  std::mt19937 rng(7);
  for (int i = 0; i < 64; ++i) {
    std::string m(1 + rng() % (100 * 1024), '\0');
    for (auto& c : m) c = static_cast<char>(rng());
    sent.push_back(m);
    (*device_ws)->send(std::move(m));
  }
  // The device's notices (text) come in order with the stream; an oversized one is dropped.
  const std::string notice = R"({"type":"access","viewOnly":true})";
  (*device_ws)->send(notice, false);
  sent.push_back("text:" + notice);
  (*device_ws)->send(std::string(link::kMaxNotice + 1, 'x'), false);
  sent.push_back("last");
  (*device_ws)->send("last");
  std::this_thread::sleep_for(200ms);
  auto st = h.pairing().state(code);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->device);
  EXPECT_FALSE(st->supporter);
  ASSERT_EQ(h.connected().size(), 1u);
  EXPECT_TRUE(h.paired().empty());

  auto supporter = std::make_shared<Peer>(true);
  auto supporter_ws = h.connect(Side::supporter, code, supporter);
  ASSERT_TRUE(supporter_ws);
  std::size_t total = 0;
  for (auto& m : sent)
    if (m.rfind("text:", 0) != 0) total += m.size();
  ASSERT_TRUE(supporter->wait_bytes(total, 10s));
  EXPECT_EQ(supporter->messages(), sent);
  ASSERT_TRUE(eventually([&] { return h.paired().size() == 1; }));
  auto connected = h.connected();
  ASSERT_EQ(connected.size(), 2u);
  EXPECT_EQ(connected[0].second, Side::device);
  EXPECT_EQ(connected[1].second, Side::supporter);
}

TEST(PairingTest, TheSupporterSendsNoTextToTheDevice) {
  Harness h;
  const std::string code = "s10000017";
  auto device = std::make_shared<Peer>(true);
  auto supporter = std::make_shared<Peer>(true);
  auto device_ws = h.connect(Side::device, code, device);
  auto supporter_ws = h.connect(Side::supporter, code, supporter);
  ASSERT_TRUE(device_ws && supporter_ws);
  ASSERT_TRUE(eventually([&] { return h.paired().size() == 1; }));
  // A notice is the device's to give: the supporter's text, of any shape, goes nowhere.
  (*supporter_ws)->send(R"({"type":"access","viewOnly":false})", false);
  (*supporter_ws)->send("after");
  ASSERT_TRUE(device->wait_bytes(5, 10s));
  EXPECT_EQ(device->messages(), std::vector<std::string>{"after"});
  // And the session still carries both ways.
  (*device_ws)->send(R"({"type":"asking","seconds":300})", false);
  (*device_ws)->send("frame");
  ASSERT_TRUE(supporter->wait_bytes(5, 10s));
  EXPECT_EQ(supporter->texts(), std::vector<std::string>{R"({"type":"asking","seconds":300})"});
}

TEST(PairingTest, AHandlerThatNeverOpenedFreesItsSide) {
  Harness h;
  {
    auto handler = h.pairing().attach("s10000008", Side::device);
    ASSERT_TRUE(handler);
    EXPECT_EQ(h.pairing().active_sessions(), 1u);
    EXPECT_FALSE(h.pairing().attach("s10000008", Side::device));
  }  // e.g. the WebSocket handshake failed
  EXPECT_EQ(h.pairing().active_sessions(), 0u);
  EXPECT_FALSE(h.pairing().state("s10000008"));
  auto device = std::make_shared<Peer>();
  EXPECT_TRUE(h.connect(Side::device, "s10000008", device));
  std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(h.end_reasons("s10000008").empty());
}

TEST(PairingTest, DestroyingPairingEndsEverySession) {
  Harness h;
  Pair p = connect_pair(h, "s10000009");
  ASSERT_TRUE(p.device_ws && p.supporter_ws);
  auto lone = std::make_shared<Peer>();
  ASSERT_TRUE(h.connect(Side::device, "s10000010", lone));
  ASSERT_TRUE(eventually([&] { return h.connected().size() == 3; }));
  h.destroy_pairing();  // on_end is delivered before the destructor returns
  EXPECT_EQ(h.end_reasons("s10000009"), std::vector<std::string>{"shutdown"});
  EXPECT_EQ(h.end_reasons("s10000010"), std::vector<std::string>{"shutdown"});
  for (auto* peer : {p.device.get(), p.supporter.get(), lone.get()}) {
    ASSERT_TRUE(peer->wait_closed(1s));
    EXPECT_EQ(peer->close_code(), 1001);
  }
}

}  // namespace
}  // namespace reach::relay
