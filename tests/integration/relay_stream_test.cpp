// The relay's data plane through the real program (SPEC §3.6, §8; pairing.h): the device end and
// the supporter end of a session exchange an opaque byte stream in binary WebSocket messages,
// unchanged, in both directions at once; memory stays bounded while one end stops reading; either
// end leaving ends the session for good; a lone end is closed when the peer-wait deadline passes.
#include "integration/relay_process.h"

#include <atomic>
#include <cstring>
#include <random>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMessage = 64 * 1024;
constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

// 16 random 64 KiB blocks; message i is block (i*7 + i/16) % 16 with i in its first 8 bytes,
// so that every message differs.
const std::vector<std::string>& blocks() {
  static const std::vector<std::string> kBlocks = [] {
    std::mt19937_64 gen(20261121);
    std::vector<std::string> out(16, std::string(kMessage, '\0'));
    for (auto& b : out)
      for (std::size_t i = 0; i < kMessage; i += 8) {
        std::uint64_t w = gen();
        std::memcpy(b.data() + i, &w, 8);
      }
    return out;
  }();
  return kBlocks;
}

// Sends `total` bytes through `ws` as 64 KiB messages, waiting whenever the send queue is over
// its limit (on_drain of `self`). `sent` follows progress. Returns the checksum of what was sent.
std::uint64_t pump(WsPeer& self, net::WebSocket& ws, std::uint64_t total,
                   std::atomic<std::uint64_t>* sent = nullptr) {
  StreamChecksum sum;
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; done < total; ++i) {
    std::string msg = blocks()[(i * 7 + i / 16) % 16];
    std::memcpy(msg.data(), &i, 8);
    msg.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kMessage, total - done)));
    sum.update(msg);
    done += msg.size();
    bool below_limit = ws.send(std::move(msg));
    if (sent) sent->store(done);
    if (!below_limit) {
      while (!self.closed() && ws.queued_bytes() > net::ClientOptions{}.ws_send_queue_limit / 2)
        self.wait_drain(200ms);
      if (self.closed()) break;
    }
  }
  return sum.value();
}

struct Ends {
  std::shared_ptr<WsPeer> device, supporter;
  std::shared_ptr<net::WebSocket> device_ws, supporter_ws;
};

class RelayStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    relay_ = new RelayProcess();
    ASSERT_TRUE(relay_->init_and_start());
    token_ = relay_->admin_token();
  }
  static void TearDownTestSuite() {
    delete relay_;
    relay_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(relay_, nullptr); }

  static ApiResult new_session() {
    auto r = relay_->post_json("/api/v1/sessions", bj::object{{"groupname", "Stream"}}, token_);
    EXPECT_EQ(r.status, 200) << r;
    return r;
  }
  static std::string device_path(const ApiResult& s) {
    return "/api/v1/stream/device/" + last_segment(s.str("end_customer_link"));
  }
  static std::string supporter_path(const ApiResult& s) {
    return "/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"));
  }
  // Connects both ends: the device on `device_loop`, the supporter on `supporter_loop`.
  void connect(const ApiResult& s, Ends& e, const std::string& device_path_or_query = {}) {
    e.device = std::make_shared<WsPeer>();
    e.supporter = std::make_shared<WsPeer>();
    auto d = net::websocket_connect(
        device_loop_,
        relay_->ws_url(device_path_or_query.empty() ? device_path(s) : device_path_or_query), {},
        e.device);
    ASSERT_TRUE(d) << "device: " << d.error().status << " " << d.error().message;
    auto p =
        net::websocket_connect(supporter_loop_, relay_->ws_url(supporter_path(s)), {}, e.supporter);
    ASSERT_TRUE(p) << "supporter: " << p.error().status << " " << p.error().message;
    e.device_ws = *d;
    e.supporter_ws = *p;
  }
  // Polls GET /api/v1/sessions/{code} until its state is `state` (up to `wait`).
  static ApiResult wait_state(const std::string& code, const std::string& state,
                              std::chrono::milliseconds wait = 3s) {
    auto deadline = Clock::now() + wait;
    ApiResult r;
    do {
      r = relay_->get("/api/v1/sessions/" + code, token_);
      if (r.str("state") == state) return r;
      std::this_thread::sleep_for(20ms);
    } while (Clock::now() < deadline);
    return r;
  }
  // What websocket_connect gets for `path`: its status when refused, 101 when it opened.
  std::pair<int, std::string> try_join(const std::string& path) {
    auto peer = std::make_shared<WsPeer>();
    auto ws = net::websocket_connect(device_loop_, relay_->ws_url(path), {}, peer);
    if (ws) {
      (*ws)->close();
      return {101, ""};
    }
    return {ws.error().status, ws.error().message};
  }

  static inline RelayProcess* relay_ = nullptr;
  static inline std::string token_;
  net::EventLoop device_loop_, supporter_loop_;
};

TEST_F(RelayStreamTest, OneGibEachWayConcurrentlyArrivesIntact) {
  auto s = new_session();
  Ends e;
  ASSERT_NO_FATAL_FAILURE(connect(s, e));
  auto started = Clock::now();
  std::uint64_t up_sum = 0, down_sum = 0;
  std::thread up([&] { up_sum = pump(*e.device, *e.device_ws, kGiB); });
  std::thread down([&] { down_sum = pump(*e.supporter, *e.supporter_ws, kGiB); });
  up.join();
  down.join();
  EXPECT_TRUE(e.supporter->wait_bytes(kGiB, 300s)) << e.supporter->received_bytes();
  EXPECT_TRUE(e.device->wait_bytes(kGiB, 300s)) << e.device->received_bytes();
  auto secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("[stream] 2 x 1 GiB in %.1f s (%.0f MiB/s each way)\n", secs, 1024 / secs);
  EXPECT_EQ(e.supporter->received_bytes(), kGiB);
  EXPECT_EQ(e.device->received_bytes(), kGiB);
  EXPECT_EQ(e.supporter->checksum(), up_sum) << "device→supporter bytes differ";
  EXPECT_EQ(e.device->checksum(), down_sum) << "supporter→device bytes differ";
  EXPECT_FALSE(e.device->closed());
  EXPECT_FALSE(e.supporter->closed());
  auto g = relay_->get("/api/v1/sessions/" + s.str("code"), token_);
  EXPECT_EQ(g.obj().at("online"), bj::value(true)) << g;
  EXPECT_EQ(bj::serialize(g.obj().at("connected")), R"({"device":true,"supporter":true})");
  e.device_ws->close();
  EXPECT_TRUE(e.supporter->wait_closed(2s));
}

TEST_F(RelayStreamTest, SlowSupporterKeepsRelayMemoryBounded) {
  auto s = new_session();
  Ends e;
  ASSERT_NO_FATAL_FAILURE(connect(s, e));
  // Warm the path up so that the baseline includes the buffers a flowing session uses.
  auto warm = pump(*e.device, *e.device_ws, 8 * kMessage);
  ASSERT_TRUE(e.supporter->wait_bytes(8 * kMessage, 10s));
  ASSERT_EQ(e.supporter->checksum(), warm);
  std::int64_t baseline = relay_->vm_rss_kib();
  ASSERT_GT(baseline, 0);

  e.supporter_ws->pause_reading();
  constexpr std::uint64_t kTotal = 256ull * 1024 * 1024;
  constexpr std::int64_t kBoundKib = 64 * 1024;  // baseline + 64 MiB
  std::atomic<std::uint64_t> sent{0};
  // The device keeps trying to send (its pump waits on back-pressure, it never gives up).
  std::thread device([&] { pump(*e.device, *e.device_ws, kTotal, &sent); });
  std::int64_t peak = baseline;
  std::uint64_t sent_at_3s = 0;
  auto pause_start = Clock::now();
  while (Clock::now() - pause_start < 4s) {
    peak = std::max(peak, relay_->vm_rss_kib());
    if (Clock::now() - pause_start >= 3s && sent_at_3s == 0) sent_at_3s = sent.load();
    std::this_thread::sleep_for(50ms);
  }
  std::uint64_t sent_at_4s = sent.load();
  std::uint64_t received_while_paused = e.supporter->received_bytes() - 8 * kMessage;
  std::printf(
      "[stream] paused supporter: relay VmRSS %lld KiB → peak %lld KiB; device sent "
      "%llu MiB, supporter got %llu MiB\n",
      static_cast<long long>(baseline), static_cast<long long>(peak),
      static_cast<unsigned long long>(sent_at_4s >> 20),
      static_cast<unsigned long long>(received_while_paused >> 20));
  EXPECT_LE(peak - baseline, kBoundKib) << "relay memory grew while the supporter did not read";
  EXPECT_LT(sent_at_4s, 128ull * 1024 * 1024) << "the device was never pushed back";
  EXPECT_EQ(sent_at_4s, sent_at_3s) << "the device kept sending during the last second of pause";
  EXPECT_FALSE(e.device->closed());

  e.supporter_ws->resume_reading();
  device.join();
  EXPECT_TRUE(e.supporter->wait_bytes(8 * kMessage + kTotal, 120s))
      << e.supporter->received_bytes();
  EXPECT_EQ(e.supporter->received_bytes(), 8 * kMessage + kTotal);
  // The receiver's checksum covers warm-up + the rest: recompute the sender's side in one run.
  StreamChecksum whole;
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::string msg = blocks()[(i * 7 + i / 16) % 16];
    std::memcpy(msg.data(), &i, 8);
    whole.update(msg);
  }
  std::uint64_t done = 0;
  for (std::uint64_t i = 0; done < kTotal; ++i) {
    std::string msg = blocks()[(i * 7 + i / 16) % 16];
    std::memcpy(msg.data(), &i, 8);
    whole.update(msg);
    done += msg.size();
  }
  EXPECT_EQ(e.supporter->checksum(), whole.value()) << "bytes lost or changed after the pause";
}

TEST_F(RelayStreamTest, EitherEndLeavingEndsTheSessionForGood) {
  for (bool device_leaves : {true, false}) {
    SCOPED_TRACE(device_leaves ? "device leaves" : "supporter leaves");
    auto s = relay_->portal_session();  // its code also opens the device end, until it ends
    Ends e;
    ASSERT_NO_FATAL_FAILURE(connect(s, e));
    e.device_ws->send("ping-from-device");
    e.supporter_ws->send("ping-from-supporter");
    ASSERT_TRUE(e.supporter->wait_bytes(16, 5s));
    ASSERT_TRUE(e.device->wait_bytes(19, 5s));
    auto& leaver = device_leaves ? e.device_ws : e.supporter_ws;
    auto& other = device_leaves ? e.supporter : e.device;
    auto t0 = Clock::now();
    leaver->close();
    EXPECT_TRUE(other->wait_closed(1s)) << "the other end is still open after 1 s";
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    std::printf("[stream] other end closed after %lld ms\n", static_cast<long long>(took.count()));
    auto g = wait_state(s.str("code"), "closed");
    EXPECT_EQ(g.str("state"), "closed") << g;
    EXPECT_FALSE(g.str("closed_at").empty()) << g;
    for (const auto& path :
         {device_path(s), supporter_path(s), "/api/v1/stream/device?code=" + s.str("code")}) {
      auto [status, message] = try_join(path);
      EXPECT_EQ(status, 410) << path << ": " << message;
      EXPECT_NE(message.find("new session"), std::string::npos) << message;
    }
  }
}

TEST_F(RelayStreamTest, DeviceOfAPortalSessionJoinsByCodeAlone) {
  auto s = relay_->portal_session();
  Ends e;
  ASSERT_NO_FATAL_FAILURE(connect(s, e, "/api/v1/stream/device?code=" + s.str("code")));
  std::string hello = "RFB 003.008\n";
  e.device_ws->send(hello);
  e.supporter_ws->send(std::string("\x00\x01\xff", 3));
  ASSERT_TRUE(e.supporter->wait_bytes(hello.size(), 5s));
  ASSERT_TRUE(e.device->wait_bytes(3, 5s));
  EXPECT_EQ(e.supporter->messages(), std::vector<std::string>{hello});
  EXPECT_EQ(e.device->messages(), std::vector<std::string>{std::string("\x00\x01\xff", 3)});
  // A second device for the same session is refused while the first is there.
  auto [status, message] = try_join(device_path(s));
  EXPECT_EQ(status, 409) << message;
  EXPECT_FALSE(e.device->closed());
  e.supporter_ws->close();
  EXPECT_TRUE(e.device->wait_closed(1s));
}

TEST(RelayPeerWait, ALoneEndIsClosedAtTheDeadlineAndTheSessionEnds) {
  RelayProcess relay;
  ASSERT_TRUE(relay.init_and_start({"--peer-wait-ms", "500"}));
  std::string token = relay.admin_token();
  auto s = relay.post_json("/api/v1/sessions", bj::object{{"groupname", "Wait"}}, token);
  ASSERT_EQ(s.status, 200) << s;
  net::EventLoop loop;
  auto peer = std::make_shared<WsPeer>();
  auto t0 = Clock::now();
  auto ws = net::websocket_connect(
      loop, relay.ws_url("/api/v1/stream/device/" + last_segment(s.str("end_customer_link"))), {},
      peer);
  ASSERT_TRUE(ws) << ws.error().status << " " << ws.error().message;
  ASSERT_TRUE(peer->wait_closed(5s)) << "the lone device was never closed";
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  EXPECT_GE(took.count(), 450) << "closed before the peer-wait deadline";
  EXPECT_LE(took.count(), 2500) << "closed long after the peer-wait deadline";
  EXPECT_EQ(peer->close_code(), 4000) << peer->close_reason();
  ApiResult g;
  for (int i = 0; i < 100; ++i) {
    g = relay.get("/api/v1/sessions/" + s.str("code"), token);
    if (g.str("state") == "closed") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(g.str("state"), "closed") << g;
  EXPECT_EQ(g.str("close_reason"), "peerTimeout") << g;
  auto again = net::websocket_connect(
      loop, relay.ws_url("/api/v1/stream/supporter/" + last_segment(s.str("supporter_link"))), {},
      std::make_shared<WsPeer>());
  ASSERT_FALSE(again) << "the supporter joined a session that ended";
  EXPECT_EQ(again.error().status, 410) << again.error().message;
}

}  // namespace
}  // namespace reach::itest
