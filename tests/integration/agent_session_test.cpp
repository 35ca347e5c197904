// Remote assistance sessions with the real programs: Xvfb (the device's display) ← reach-agent
// (its own RFB server, capture and input) ← reach-relay → `reach connect` → a VNC client that
// nobody on this project wrote (libvncclient, in reach_test_vnc_client). Also the consent gate
// checked on the bytes the supporter's end receives, view-only and control input, and `end`.
#include "integration/e2e_peer.h"
#include "integration/middle_relay.h"
#include "integration/relay_process.h"
#include "reach/viewer_gate.h"
#include "rfb/framebuffer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kWidth = 800;  // a Raw frame (1.9 MB) is bigger than a relay message (1 MiB)
constexpr int kHeight = 600;

// A binary PPM (P6, maxval 255) as RGB bytes.
struct Image {
  int width = 0, height = 0;
  std::string rgb;
};
Image read_ppm(const std::string& path) {
  Image img;
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  in >> magic >> img.width >> img.height >> maxval;
  in.get();
  if (magic != "P6" || maxval != 255) return {};
  img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
  in.read(img.rgb.data(), static_cast<std::streamsize>(img.rgb.size()));
  if (!in) return {};
  return img;
}

struct Diff {
  int max = 0;
  double mean = 0;
  std::size_t differing = 0;  // pixels with any channel differing by more than `tolerance`
};
Diff compare(const Image& a, const Image& b, int tolerance) {
  Diff d;
  double sum = 0;
  for (std::size_t i = 0; i < a.rgb.size(); i += 3) {
    int worst = 0;
    for (int c = 0; c < 3; ++c) {
      int e = std::abs(static_cast<unsigned char>(a.rgb[i + c]) -
                       static_cast<unsigned char>(b.rgb[i + c]));
      worst = std::max(worst, e);
      sum += e;
    }
    d.max = std::max(d.max, worst);
    if (worst > tolerance) ++d.differing;
  }
  d.mean = a.rgb.empty() ? 0 : sum / static_cast<double>(a.rgb.size());
  return d;
}

// The supporter's end of the stream as raw RFB bytes (no viewer), to assert on what crosses:
// end-to-end encrypted as the viewer is (E2ePeer), the test sees the stream in the clear.
class RawSupporter {
 public:
  RawSupporter(net::EventLoop& loop, const std::string& url) {
    auto p = E2ePeer::connect(loop, url);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    peer_ = p ? *p : std::make_shared<E2ePeer>();
  }
  void send(std::string bytes) { peer_->send(bytes); }
  // The stream's bytes, and beside them (records of their own) the device's notices.
  std::string received() const { return peer_->stream(); }
  std::vector<std::string> notices() const { return peer_->notices(); }
  E2ePeer& peer() { return *peer_; }

 private:
  std::shared_ptr<E2ePeer> peer_;
};

std::string supporter_stream(const RelayProcess& relay, const bj::object& session) {
  return relay.ws_url("/api/v1/stream/supporter/" +
                      last_segment(str_of(session, "supporter_link")));
}

struct PixelCase {
  std::string encodings;
  int bpp;
  int quality;    // -1: none (no JPEG)
  int tolerance;  // per channel
  double max_mean_error;
};

class AgentSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reach-session-");
    ASSERT_TRUE(display_.start(dir_, kWidth, kHeight));
    ASSERT_TRUE(relay_.init_and_start());
    token_ = relay_.admin_token();
  }
  void TearDown() override {
    // Kept for a post-mortem when the test failed.
    if (HasFailure())
      std::printf("[agent test] keeping %s\n", dir_.c_str());
    else if (!dir_.empty())
      std::filesystem::remove_all(dir_);
  }

  std::vector<std::pair<std::string, std::string>> x_env() const {
    return {{"DISPLAY", display_.name()}};
  }

  // A relay session as the portal creates it (for `join CODE`).
  bj::object new_session() {
    auto s = relay_.portal_session("Agent tests");
    EXPECT_EQ(s.status, 200) << s;
    return s.obj();
  }

  // `reach-agent join CODE` in the background, waiting for the supporter.
  ::testing::AssertionResult join(ChildProcess& agent, const std::string& code,
                                  const std::string& state,
                                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{program_path("reach-agent"),
                                  "join",
                                  code,
                                  "--relay",
                                  agent_relay_.empty() ? relay_.base_url() : agent_relay_,
                                  "--display",
                                  display_.name(),
                                  "--state",
                                  state};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto st = agent.start(argv, state + ".log");
    if (!st) return st;
    if (!wait_until(
            [&] {
              return agent.output().find("waiting for the supporter") != std::string::npos ||
                     !agent.running();
            },
            20s) ||
        !agent.running())
      return ::testing::AssertionFailure() << "the agent did not join: " << agent.output();
    return ::testing::AssertionSuccess();
  }

  CommandResult agent_cli(const std::string& state, std::vector<std::string> args) {
    args.insert(args.begin(), program_path("reach-agent"));
    args.push_back("--state");
    args.push_back(state);
    return run_command(args);
  }

  std::string session_state(const std::string& state) {
    auto r = agent_cli(state, {"status", "--json"});
    boost::system::error_code ec;
    auto v = bj::parse(r.out, ec);
    if (!v.is_object() || !v.as_object().contains("session")) return "";
    return str_of(v.as_object().at("session").as_object(), "state");
  }

  // A number from the agent's session status (`reach-agent status --json`), -1 without one.
  std::int64_t session_number(const std::string& state, const std::string& key) {
    auto r = agent_cli(state, {"status", "--json"});
    boost::system::error_code ec;
    auto v = bj::parse(r.out, ec);
    if (!v.is_object() || !v.as_object().contains("session")) return -1;
    const auto& s = v.as_object().at("session").as_object();
    if (!s.contains(key) || !s.at(key).is_number()) return -1;
    return s.at(key).to_number<std::int64_t>();
  }

  bool wait_state(const std::string& state, const std::string& want,
                  std::chrono::milliseconds timeout = 20s) {
    return wait_until([&] { return session_state(state) == want; }, timeout, 100ms);
  }

  // Starts `reach connect` on the supporter link; returns its local port (0 on failure).
  std::uint16_t connect(ServerProcess& bridge, const std::string& supporter_link) {
    auto st =
        bridge.start({program_path("reach"), "connect", supporter_link, "--listen", "127.0.0.1:0"},
                     dir_ + "/connect.log", "reach connect");
    EXPECT_TRUE(st);
    return st ? bridge.port() : 0;
  }

  std::uint64_t pixel_case(const Image& source, const PixelCase& c, const std::string& tag);

  // A session joined by the agent, with a raw supporter end that has exchanged versions: the
  // agent is asking its user "allow?".
  struct AskingSession {
    bj::object session;
    std::string state;  // the agent's state directory
    ChildProcess agent;
    net::EventLoop loop;
    std::unique_ptr<RawSupporter> supporter;
  };
  ::testing::AssertionResult ask(AskingSession& a, const std::string& tag,
                                 const std::vector<std::string>& extra = {}) {
    a.session = new_session();
    a.state = dir_ + "/agent-" + tag;
    if (auto st = join(a.agent, str_of(a.session, "code"), a.state, extra); !st) return st;
    a.supporter = std::make_unique<RawSupporter>(a.loop, supporter_stream(relay_, a.session));
    if (!a.supporter->peer().wait_bytes(12, 10s) || a.supporter->received() != "RFB 003.008\n")
      return ::testing::AssertionFailure()
             << "the agent's version did not arrive first: '" << a.supporter->received() << "'";
    a.supporter->send("RFB 003.008\n");
    if (!wait_state(a.state, "askingToAllow"))
      return ::testing::AssertionFailure() << "the agent did not ask: " << a.agent.output();
    return ::testing::AssertionSuccess();
  }

  // Logs the keys and clicks that reach the display into `log` (reach_test_x11_input_log).
  ::testing::AssertionResult log_input(ChildProcess& input_log, const std::string& log) {
    auto st = input_log.start({program_path("reach_test_x11_input_log"), "--out", log},
                              dir_ + "/input-tool.log", x_env());
    if (!st) return st;
    if (!wait_until([&] { return input_log.output().find("ready") != std::string::npos; }, 20s))
      return ::testing::AssertionFailure() << "the input log is not ready: " << input_log.output();
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult draw_pattern(ChildProcess& pattern, const std::string& name = "bars") {
    auto st = pattern.start({program_path("reach_test_x11_pattern"), "--pattern", name},
                            dir_ + "/pattern-" + name + ".log", x_env());
    if (!st) return st;
    if (!wait_until([&] { return pattern.output().find("drawn") != std::string::npos; }, 20s))
      return ::testing::AssertionFailure() << "pattern not drawn: " << pattern.output();
    return ::testing::AssertionSuccess();
  }

  Image screenshot(const std::string& name) {
    std::string path = dir_ + "/" + name + ".ppm";
    auto r = run_command({"/usr/bin/import", "-display", display_.name(), "-window", "root",
                          "-depth", "8", "ppm:" + path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_ppm(path);
  }

  std::string dir_;
  std::string agent_relay_;  // where `join` sends the agent ("": the relay itself)
  VirtualDisplay display_;
  RelayProcess relay_;
  std::string token_;
};

// One session: join, `reach connect`, the libvncclient client takes a snapshot, compared with
// `source`. Returns the bytes the client received (0 on failure).
std::uint64_t AgentSessionTest::pixel_case(const Image& source, const PixelCase& c,
                                           const std::string& tag) {
  SCOPED_TRACE(tag + ": " + c.encodings + " " + std::to_string(c.bpp) + " bpp, quality " +
               std::to_string(c.quality));
  auto s = new_session();
  std::string state =
      dir_ + "/agent-" + tag + c.encodings + std::to_string(c.bpp) + std::to_string(c.quality);
  ChildProcess agent;
  if (!join(agent, str_of(s, "code"), state)) {
    ADD_FAILURE() << "join failed: " << agent.output();
    return 0;
  }
  ServerProcess bridge;
  std::uint16_t port = connect(bridge, str_of(s, "supporter_link"));
  if (port == 0) return 0;
  ChildProcess client;
  std::string snap = state + ".ppm";
  std::vector<std::string> argv = {program_path("reach_test_vnc_client"),
                                   "--connect",
                                   "127.0.0.1:" + std::to_string(port),
                                   "--password",
                                   bridge.second_line(),
                                   "--encodings",
                                   c.encodings,
                                   "--bpp",
                                   std::to_string(c.bpp),
                                   "--snapshot",
                                   snap};
  if (c.quality >= 0) {
    argv.push_back("--quality");
    argv.push_back(std::to_string(c.quality));
  }
  EXPECT_TRUE(client.start(argv, state + ".client.log"));
  EXPECT_TRUE(wait_state(state, "askingToAllow")) << agent.output();
  EXPECT_EQ(agent_cli(state, {"allow"}).exit_code, 0);
  auto exit = client.wait(60s);
  EXPECT_EQ(exit, std::optional<int>(0)) << client.output() << agent.output();
  Image got = read_ppm(snap);
  EXPECT_EQ(got.width, kWidth);
  EXPECT_EQ(got.height, kHeight);
  if (got.width != kWidth || got.height != kHeight) return 0;
  Diff d = compare(source, got, c.tolerance);
  EXPECT_EQ(d.differing, 0u) << "max error " << d.max << ", mean " << d.mean;
  EXPECT_LE(d.mean, c.max_mean_error) << "max error " << d.max;
  std::printf("%s %s %d bpp quality %d: max error %d, mean %.2f\n", tag.c_str(),
              c.encodings.c_str(), c.bpp, c.quality, d.max, d.mean);
  // The viewer left, so `reach connect` closed the supporter end: the session is over and the
  // agent's join ends by itself.
  EXPECT_EQ(agent.wait(10s), std::optional<int>(0)) << agent.output();
  EXPECT_NE(agent.output().find("session: ended (supporterLeft)"), std::string::npos)
      << agent.output();
  // One-time: the same code is refused afterwards, with words that say what to do.
  auto r =
      run_command({program_path("reach-agent"), "join", str_of(s, "code"), "--relay",
                   relay_.base_url(), "--display", display_.name(), "--state", state + "-retry"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("a new session is needed"), std::string::npos) << r.err;
  std::string out = client.output();
  auto pos = out.rfind("bytes=");
  return pos == std::string::npos ? 0 : std::stoull(out.substr(pos + 6));
}

TEST_F(AgentSessionTest, PixelsReachARealVncClientThroughAgentRelayAndConnect) {
  ChildProcess bars;
  ASSERT_TRUE(draw_pattern(bars, "bars"));
  Image source = screenshot("bars");
  ASSERT_EQ(source.width, kWidth);
  ASSERT_EQ(source.height, kHeight);
  // Lossless encodings at 32 bpp must be exact; 16 bpp (5-6-5) loses the low bits of each
  // channel (at most 8 in 255 once scaled back); Tight with JPEG is lossy by design.
  for (const PixelCase& c : std::vector<PixelCase>{{"raw", 32, -1, 0, 0.0},
                                                   {"zrle", 32, -1, 0, 0.0},
                                                   {"zrle", 16, -1, 8, 4.0},
                                                   {"tight", 32, -1, 0, 0.0},
                                                   {"tight", 32, 9, 48, 3.0},
                                                   {"tight", 16, 8, 48, 6.0}})
    pixel_case(source, c, "bars");
  bars.terminate();

  // A photographic area (smooth gradients) is where Tight sends JPEG, and then (issue 22) the
  // exact copy of what went lossy: the picture ends within the tolerance (exact once the copy is
  // in), and the bytes are the JPEG's and the copy's, more than the lossless form alone.
  ChildProcess gradient;
  ASSERT_TRUE(draw_pattern(gradient, "gradient"));
  Image photo = screenshot("gradient");
  auto lossless = pixel_case(photo, {"tight", 32, -1, 0, 0.0}, "gradient");
  auto jpeg = pixel_case(photo, {"tight", 32, 9, 24, 2.0}, "gradient");
  std::printf("gradient: tight lossless %llu bytes, tight JPEG quality 9 %llu bytes\n",
              static_cast<unsigned long long>(lossless), static_cast<unsigned long long>(jpeg));
  EXPECT_GT(lossless, 0u);
  EXPECT_GT(jpeg, 0u);
  EXPECT_GT(jpeg, lossless) << "JPEG, then the exact copy, was not what the client received";
}

TEST_F(AgentSessionTest, NothingButTheVersionReachesTheSupporterBeforeAllowAndDenyEndsIt) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  AskingSession a;
  ASSERT_TRUE(ask(a, "deny"));
  auto& supporter = *a.supporter;
  auto& agent = a.agent;
  const auto& state = a.state;
  const auto& s = a.session;
  // A supporter that pushes on without waiting gets nothing either.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(supporter.received(), "RFB 003.008\n");
  // Beside the stream, only the notice that the user is being asked, and for how long.
  EXPECT_EQ(supporter.notices(), std::vector<std::string>{R"({"type":"asking","seconds":300})"});
  ASSERT_EQ(agent_cli(state, {"deny"}).exit_code, 0);
  ASSERT_TRUE(supporter.peer().wait_closed(5s));
  std::string reason = "The device user denied the session.";
  std::string expect = std::string("RFB 003.008\n") + '\0' + std::string("\0\0\0", 3) +
                       static_cast<char>(reason.size()) + reason;
  EXPECT_EQ(supporter.received(), expect);
  EXPECT_EQ(agent.wait(10s), std::optional<int>(0)) << agent.output();
  EXPECT_NE(agent.output().find("session: denied"), std::string::npos) << agent.output();
  // The relay records the close on its background thread, moments after the streams end.
  auto state_at_relay = [&] {
    return relay_.get("/api/v1/sessions/" + str_of(s, "code"), token_).str("state");
  };
  EXPECT_TRUE(wait_until([&] { return state_at_relay() == "closed"; }, 10s)) << state_at_relay();
}

// Minimal RFB client bytes: version, security None, shared ClientInit, SetEncodings [Raw].
std::string rfb_client_start() {
  std::string b = "RFB 003.008\n";
  b += '\x01';                                              // security None
  b += '\x01';                                              // shared
  b += std::string("\x02\x00\x00\x01\x00\x00\x00\x00", 8);  // SetEncodings: Raw
  return b;
}
std::string full_update_request() {
  return std::string("\x03\x00\x00\x00\x00\x00", 6) + std::string(1, kWidth >> 8) +
         std::string(1, kWidth & 0xff) + std::string(1, kHeight >> 8) +
         std::string(1, kHeight & 0xff);
}

TEST_F(AgentSessionTest, EndDuringABusyStreamStopsItAtOnce) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  AskingSession a;
  ASSERT_TRUE(ask(a, "end"));
  auto& supporter = *a.supporter;
  auto& agent = a.agent;
  const auto& state = a.state;
  ASSERT_EQ(agent_cli(state, {"allow"}).exit_code, 0);
  // The client answers the security types once they are offered (12 bytes of version, then 2),
  // as a client does: the agent refuses a client that speaks first.
  ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s)) << agent.output();
  std::string start = rfb_client_start();
  supporter.send(start.substr(12));
  // Keep the agent busy: a whole-screen Raw frame asked for every millisecond (the agent answers
  // as fast as it can; requests that arrive while it is busy are folded into one).
  std::atomic<bool> asking{true};
  std::thread asker([&] {
    while (asking) {
      supporter.send(full_update_request());
      std::this_thread::sleep_for(1ms);
    }
  });
  // Stopped on every way out of the test, failed assertions included.
  struct Join {
    std::atomic<bool>& asking;
    std::thread& t;
    ~Join() {
      asking = false;
      if (t.joinable()) t.join();
    }
  } join_asker{asking, asker};
  ASSERT_TRUE(supporter.peer().wait_bytes(16 * 1024 * 1024, 20s)) << agent.output();
  auto t0 = Clock::now();
  ASSERT_EQ(agent_cli(state, {"end"}).exit_code, 0);
  // Counted from the agent's answer to `end` (not from before the command, whose start-up time
  // on a loaded machine says nothing about the agent).
  auto before = supporter.peer().received_bytes();
  bool closed = supporter.peer().wait_closed(5s);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  asking = false;
  asker.join();
  ASSERT_TRUE(closed);
  auto after = supporter.peer().received_bytes();
  RecordProperty("end_to_closed_ms", static_cast<int>(ms));
  std::printf("end → supporter closed: %lld ms, %llu bytes after the end command\n",
              static_cast<long long>(ms), static_cast<unsigned long long>(after - before));
  // Stopped at once: after `end` only what was already in flight arrives — the agent's queue
  // (2 MiB high-water plus a frame), the relay's two send queues (4 MiB each) and the kernel's
  // loopback socket buffers — not the stream the viewer kept asking for (it asked every ms).
  EXPECT_LT(after - before, 32u * 1024 * 1024);
  EXPECT_EQ(agent.wait(10s), std::optional<int>(0));
  EXPECT_NE(agent.output().find("session: ended (endedByUser)"), std::string::npos)
      << agent.output();
}

// Issue 22: the first update after a non-incremental request for the whole screen carries the
// screen once (it carried the first grab's whole-screen change and the request's rectangle: the
// same pixels twice, twice the time to the first picture on a slow link).
TEST_F(AgentSessionTest, TheFirstWholeScreenUpdateCarriesEachPixelOnce) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  AskingSession a;
  ASSERT_TRUE(ask(a, "first"));
  auto& supporter = *a.supporter;
  ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s))
      << a.agent.output();
  supporter.send(rfb_client_start().substr(12) + full_update_request());
  // Version (12), security types (count + None), SecurityResult (4), ServerInit (24 + name), then
  // one FramebufferUpdate of Raw rectangles at 32 bpp.
  auto u16 = [](const std::string& b, std::size_t at) {
    return (static_cast<unsigned char>(b[at]) << 8) | static_cast<unsigned char>(b[at + 1]);
  };
  auto u32 = [&](const std::string& b, std::size_t at) {
    return (static_cast<std::uint32_t>(u16(b, at)) << 16) | u16(b, at + 2);
  };
  std::size_t update_at = 0, area = 0, end = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        std::string b = supporter.received();
        std::size_t at = 12;
        if (b.size() < at + 1) return false;
        at += 1 + static_cast<unsigned char>(b[at]) + 4;
        if (b.size() < at + 24) return false;
        at += 24 + u32(b, at + 20);
        if (b.size() < at + 4) return false;
        update_at = at;
        std::size_t n = u16(b, at + 2);
        at += 4;
        area = 0;
        for (std::size_t i = 0; i < n; ++i) {
          if (b.size() < at + 12) return false;
          std::size_t w = u16(b, at + 4), h = u16(b, at + 6);
          EXPECT_EQ(u32(b, at + 8), 0u) << "Raw";
          area += w * h;
          at += 12 + w * h * 4;
          if (b.size() < at) return false;
        }
        end = at;
        return true;
      },
      20s))
      << supporter.received().size() << " bytes";
  EXPECT_EQ(supporter.received()[update_at], '\0') << "a FramebufferUpdate";
  EXPECT_EQ(area, static_cast<std::size_t>(kWidth) * kHeight) << "each pixel once";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(supporter.received().size(), end) << "nothing more was asked for";
  ASSERT_EQ(agent_cli(a.state, {"end"}).exit_code, 0);
}

// Issue 22: H.264 goes to a viewer that offers Open H.264 (50) while the screen moves like video,
// and never when the agent runs with --no-h264 (the organisation's setting arrives the same way:
// ra_flow_test); the viewer then gets Tight as before.
TEST_F(AgentSessionTest, H264GoesToViewersThatOfferItUnlessTheAgentMayNotUseIt) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  for (bool no_h264 : {false, true}) {
    SCOPED_TRACE(no_h264 ? "--no-h264" : "H.264 allowed");
    AskingSession a;
    ASSERT_TRUE(ask(a, no_h264 ? "no-h264" : "h264",
                    no_h264 ? std::vector<std::string>{"--no-h264"} : std::vector<std::string>{}));
    auto& supporter = *a.supporter;
    ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s));
    // Security None, shared, SetEncodings [Open H.264, Tight, JPEG quality 6].
    std::string start("\x01\x01\x02\x00\x00\x03", 6);
    for (std::int32_t e : {50, 7, -26})
      for (int shift : {24, 16, 8, 0}) start += static_cast<char>((e >> shift) & 0xff);
    supporter.send(start + full_update_request());
    ChildProcess load;
    ASSERT_TRUE(load.start({program_path("reach_bench_screen_load"), "--load", "full", "--fps",
                            "30", "--seconds", "2"},
                           a.state + ".load.log", x_env()));
    // A viewer without continuous updates asks for each update.
    std::string incremental = full_update_request();
    incremental[1] = 1;
    for (auto until = Clock::now() + 2s; Clock::now() < until;) {
      supporter.send(incremental);
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_EQ(load.wait(5s), std::optional<int>(0)) << load.output();
    auto updates = session_number(a.state, "updatesSent");
    auto video = session_number(a.state, "videoFrames");
    std::printf("%s: %lld updates, %lld H.264 frames, %zu bytes\n", no_h264 ? "--no-h264" : "h264",
                static_cast<long long>(updates), static_cast<long long>(video),
                supporter.received().size());
    EXPECT_GT(updates, 10);
    if (no_h264) {
      EXPECT_EQ(video, 0);
    } else {
      EXPECT_GT(video, 10);
      // Once still, the areas sent as video get their exact copy.
      EXPECT_TRUE(wait_until(
          [&] {
            supporter.send(incremental);
            return session_number(a.state, "exactRefreshes") > 0;
          },
          5s, 100ms));
    }
    ASSERT_EQ(agent_cli(a.state, {"end"}).exit_code, 0);
    EXPECT_EQ(a.agent.wait(10s), std::optional<int>(0)) << a.agent.output();
  }
}

// The server's messages in a raw stream (Raw rectangles only; no cursor), from the first after
// ServerInit, as far as they are complete.
using rfb::Rect;
struct ServerMessage {
  int type = 0;
  std::vector<Rect> rects;  // a FramebufferUpdate's
};
std::vector<ServerMessage> server_messages(const std::string& b) {
  auto u8 = [&](std::size_t at) { return static_cast<unsigned char>(b[at]); };
  auto u16 = [&](std::size_t at) { return (u8(at) << 8) | u8(at + 1); };
  auto u32 = [&](std::size_t at) {
    return (static_cast<std::uint32_t>(u16(at)) << 16) | u16(at + 2);
  };
  std::vector<ServerMessage> out;
  std::size_t at = 12;
  if (b.size() < at + 1) return out;
  at += 1 + u8(at) + 4;
  if (b.size() < at + 24) return out;
  at += 24 + u32(at + 20);
  for (;;) {
    if (b.size() < at + 1) return out;
    ServerMessage m;
    m.type = u8(at);
    if (m.type == 150) {  // EndOfContinuousUpdates
      at += 1;
    } else if (m.type == 248) {  // Fence
      if (b.size() < at + 9 || b.size() < at + 9 + u8(at + 8)) return out;
      at += 9 + u8(at + 8);
    } else if (m.type == 0) {
      if (b.size() < at + 4) return out;
      std::size_t n = u16(at + 2), p = at + 4;
      for (std::size_t i = 0; i < n; ++i) {
        if (b.size() < p + 12) return out;
        Rect r{u16(p), u16(p + 2), u16(p + 4), u16(p + 6)};
        EXPECT_EQ(u32(p + 8), 0u) << "Raw only";
        p += 12 + static_cast<std::size_t>(r.w) * r.h * 4;
        if (b.size() < p) return out;
        m.rects.push_back(r);
      }
      at = p;
    } else {
      ADD_FAILURE() << "unexpected server message " << m.type;
      return out;
    }
    out.push_back(std::move(m));
  }
}

// Issue 22: a typed key's echo is not held behind the busy part of the screen. The viewer takes
// continuous updates and never answers a fence, so the window stays full after the first
// update; the echo (a small change beside a playing video) still goes out, alone, and one such
// update at a time: the rest waits for the window.
TEST_F(AgentSessionTest, ATypedKeysEchoGoesAheadOfAFullWindow) {
  ChildProcess load;
  ASSERT_TRUE(load.start(
      {program_path("reach_bench_screen_load"), "--load", "typing", "--busy", "--fps", "30"},
      dir_ + "/typing-load.log", x_env()));
  ASSERT_TRUE(wait_until([&] { return load.output().find("ready") != std::string::npos; }, 20s));
  AskingSession a;
  ASSERT_TRUE(ask(a, "small"));
  auto& supporter = *a.supporter;
  ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s));
  // Security None, shared, SetEncodings [Raw, Fence, ContinuousUpdates], the whole screen, then
  // EnableContinuousUpdates for it.
  std::string start("\x01\x01\x02\x00\x00\x03", 6);
  for (std::int32_t e : {0, -312, -313})
    for (int shift : {24, 16, 8, 0}) start += static_cast<char>((e >> shift) & 0xff);
  std::string enable = full_update_request();
  enable[0] = static_cast<char>(150);
  enable[1] = 1;
  supporter.send(start + full_update_request() + enable);
  // The first update (1.9 MB of Raw) fills the window; nothing is answered, so it stays full.
  std::size_t seen = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        std::size_t now = supporter.received().size();
        bool still = now == seen && now > 1'000'000;
        seen = now;
        return still;
      },
      20s, 500ms));
  auto before = server_messages(supporter.received());
  ASSERT_FALSE(before.empty());
  const std::size_t updates_before = std::count_if(
      before.begin(), before.end(), [](const ServerMessage& m) { return m.type == 0; });

  // A key: the load echoes it on its text line (below the video, full width, 40 rows).
  std::string key("\x04\x01\x00\x00\x00\x00\x00\x61", 8);
  supporter.send(key);
  key[1] = 0;
  supporter.send(key);
  std::vector<ServerMessage> after;
  auto updates = [&] {
    after = server_messages(supporter.received());
    return static_cast<std::size_t>(std::count_if(
        after.begin(), after.end(), [](const ServerMessage& m) { return m.type == 0; }));
  };
  ASSERT_TRUE(wait_until([&] { return updates() > updates_before; }, 5s))
      << "the echo did not come while the window was full";
  const ServerMessage* echo = nullptr;
  for (const auto& m : after)
    if (m.type == 0) echo = &m;
  std::int64_t area = 0;
  bool line = false;  // below the video region (the load's frame marker at the top changes too)
  for (const auto& r : echo->rects) {
    area += std::int64_t{r.w} * r.h;
    line = line || r.y >= 480;
  }
  EXPECT_LE(area, 128 * 1024) << "a small update only";
  EXPECT_TRUE(line) << "the echo's line";
  // Unanswered, it is the only one: more keys wait for the window.
  supporter.send(std::string("\x04\x01\x00\x00\x00\x00\x00\x62", 8) +
                 std::string("\x04\x00\x00\x00\x00\x00\x00\x62", 8));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(updates(), updates_before + 1);
  ASSERT_EQ(agent_cli(a.state, {"end"}).exit_code, 0);
  EXPECT_EQ(a.agent.wait(10s), std::optional<int>(0)) << a.agent.output();
}

// The relay dies while the session runs: the agent ends it as "relayLost" (what the portal and
// the hub's history then say), stops sharing and exits; nothing is left waiting.
TEST_F(AgentSessionTest, TheRelayDyingEndsTheSessionAsLost) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  AskingSession a;
  ASSERT_TRUE(ask(a, "lost"));
  ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
  ASSERT_TRUE(a.supporter->peer().wait_bytes(14, 10s)) << a.agent.output();
  ASSERT_TRUE(wait_state(a.state, "allowed") || wait_state(a.state, "active")) << a.agent.output();
  relay_.kill9();
  EXPECT_TRUE(a.supporter->peer().wait_closed(5s));
  EXPECT_NE(a.supporter->peer().close_code(), 1000);
  EXPECT_TRUE(a.agent.wait(15s).has_value()) << a.agent.output();
  EXPECT_NE(a.agent.output().find("session: ended (relayLost)"), std::string::npos)
      << a.agent.output();
}

// ---------------------------------------------------------------- issue 24: a relay that
// cannot see or step in. MiddleRelay stands where a compromised relay would: between the agent
// and the real relay, with every message of the session passing through it.

// An RFB KeyEvent for each character typed, down then up.
std::string key_events(std::string_view text) {
  std::string out;
  for (char c : text)
    for (char down : {'\x01', '\x00'}) out += std::string{'\x04', down, 0, 0, 0, 0, 0, c};
  return out;
}

std::string verification_code_of(const CommandResult& status) {
  boost::system::error_code ec;
  auto v = bj::parse(status.out, ec);
  if (!v.is_object() || !v.as_object().contains("session")) return "";
  return str_of(v.as_object().at("session").as_object(), "verificationCode");
}

// Whoever runs the relay records every message of a whole session: the screen sent as Raw
// pixels, keys typed, the device's notices. None of them is in the recording, though the
// supporter received and sent them all; both ends show the same code.
TEST_F(AgentSessionTest, ARelayThatRecordsTheWholeSessionFindsNoPixelNoKeyNoNotice) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  MiddleRelay middle(relay_.port());
  agent_relay_ = middle.base_url();
  AskingSession a;
  ASSERT_TRUE(ask(a, "recorded"));
  std::string code = verification_code_of(agent_cli(a.state, {"status", "--json"}));
  EXPECT_EQ(code.size(), 6u);
  EXPECT_EQ(code, a.supporter->peer().verification_code());
  ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
  auto& supporter = *a.supporter;
  ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s));
  supporter.send(rfb_client_start().substr(12) + full_update_request());
  // The whole screen, Raw: the pattern's pixels as they are in the framebuffer.
  ASSERT_TRUE(supporter.peer().wait_bytes(std::uint64_t{kWidth} * kHeight * 4, 20s))
      << a.agent.output();
  std::string typed = key_events("secret typed words");
  supporter.send(typed);
  ASSERT_TRUE(wait_until([&] { return session_number(a.state, "inputInjected") >= 36; }, 10s))
      << a.agent.output();
  ASSERT_EQ(agent_cli(a.state, {"end"}).exit_code, 0);
  ASSERT_TRUE(supporter.peer().wait_closed(10s));

  std::string plain = supporter.received();
  std::string recorded = middle.recording();
  ASSERT_GT(recorded.size(), plain.size()) << "the whole session went through the middle";
  // Needles that a relay reading the stream would find: runs of the pattern's pixels from
  // several places of the picture, the key events, the notices' JSON.
  std::vector<std::pair<std::string, std::string>> needles;
  for (std::size_t at : {plain.size() / 4, plain.size() / 2, plain.size() * 3 / 4})
    needles.emplace_back("pixels at " + std::to_string(at), plain.substr(at, 64));
  needles.emplace_back("the key events", typed.substr(0, 16));
  needles.emplace_back("a key event", typed.substr(8 * 6, 8));
  needles.emplace_back("the asking notice", R"("type":"asking")");
  needles.emplace_back("the RFB version", "RFB 003.008");
  // What the two ends said to each other in the clear: each needle must be in it, or it
  // would prove nothing.
  std::string clear = plain + typed;
  for (const auto& n : supporter.notices()) clear += n;
  for (const auto& [what, needle] : needles) {
    EXPECT_NE(clear.find(needle), std::string::npos) << what << " was not even said";
    EXPECT_EQ(recorded.find(needle), std::string::npos) << what << " crossed the relay readable";
  }
}

// The supporter presses End while its last request is on its way: the request and the close
// record arrive together. The agent takes the request, has nowhere to send the answer, and ends
// the session as the supporter's (never a crash: the answer is not sealed after the close).
TEST_F(AgentSessionTest, ARequestArrivingWithTheSupportersCloseEndsTheSessionCleanly) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  AskingSession a;
  ASSERT_TRUE(ask(a, "closing"));
  ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return a.supporter->received().size() >= 14; }, 10s));
  a.supporter->peer().send_and_close(rfb_client_start().substr(12) + full_update_request(),
                                     "the supporter ended the session");
  EXPECT_EQ(a.agent.wait(15s), std::optional<int>(0)) << a.agent.output();
  EXPECT_NE(a.agent.output().find("session: ended (supporterLeft)"), std::string::npos)
      << a.agent.output();
}

// A supporter's end that begins the handshake and stops: the agent does not wait for ever
// (as long as its user would have to answer, at most 30 s), and says why at both ends.
TEST_F(AgentSessionTest, ASupportersEndThatStopsHalfWayThroughTheHandshakeIsEnded) {
  auto s = new_session();
  std::string state = dir_ + "/agent-stalled";
  ChildProcess agent;
  ASSERT_TRUE(join(agent, str_of(s, "code"), state, {"--allow-timeout", "2"}));
  net::EventLoop loop;
  auto peer = std::make_shared<WsPeer>();
  auto ws = net::websocket_connect(loop, supporter_stream(relay_, s), {}, peer);
  ASSERT_TRUE(ws) << ws.error().message;
  link::E2eChannel half(link::E2eOptions{});
  (*ws)->send(half.start().at(0), true);  // the commit, and then nothing
  ASSERT_TRUE(peer->wait_bytes(1, 10s)) << "the device answers the commit";
  ASSERT_TRUE(peer->wait_closed(10s)) << agent.output();
  EXPECT_EQ(peer->close_reason(), "end-to-end check failed (e2eTimeout)");
  EXPECT_EQ(agent.wait(10s), std::optional<int>(0)) << agent.output();
  EXPECT_NE(agent.output().find("session: ended (e2eFailed)"), std::string::npos) << agent.output();
}

// A relay that changes one byte, drops a message, repeats one or swaps two, in either direction:
// the end that receives it ends the session with the reason, the other end learns it through
// the relay's close, and nothing altered is used (no byte past the change reaches the viewer;
// no altered key reaches the desktop).
TEST_F(AgentSessionTest, ARelayThatAltersDropsRepeatsOrReordersEndsTheSessionAtBothEnds) {
  // What reaches the display's keyboard (its window covers the screen, as the pattern would).
  ChildProcess input_log;
  std::string log = dir_ + "/input.log";
  ASSERT_TRUE(log_input(input_log, log));
  using Way = MiddleRelay::Way;
  struct Case {
    std::string name;
    Way way;
  };
  const std::vector<Case> cases = {{"flip", Way::to_relay},   {"drop", Way::to_relay},
                                   {"replay", Way::to_relay}, {"swap", Way::to_relay},
                                   {"flip", Way::to_device},  {"replay", Way::to_device}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name +
                 (c.way == Way::to_relay ? " towards the supporter" : " towards the device"));
    // Towards the supporter: the first big record (the screen) is the victim. Towards the device:
    // the first record after `armed` is set (the supporter's key events).
    std::atomic<bool> armed{false};
    std::mutex held_mu;
    std::optional<std::string> held;
    bool done = false;
    MiddleRelay middle(
        relay_.port(), [&](Way way, int, std::string m, const MiddleRelay::Send& send) {
          std::lock_guard lk(held_mu);
          bool victim =
              !done && way == c.way && (way == Way::to_relay ? m.size() > 10000 : armed.load());
          if (held && way == c.way) {  // swap: the next one first, then the held one
            send(way, std::move(m));
            send(way, std::move(*held));
            held.reset();
            return;
          }
          if (!victim) return send(way, std::move(m));
          done = true;
          if (c.name == "flip") {
            m[m.size() / 2] ^= 0x01;
            send(way, std::move(m));
          } else if (c.name == "replay") {
            send(way, m);
            send(way, std::move(m));
          } else if (c.name == "swap") {
            held = std::move(m);
          }  // drop: nothing
        });
    agent_relay_ = middle.base_url();
    AskingSession a;
    ASSERT_TRUE(ask(a, c.name + (c.way == Way::to_relay ? "-down" : "-up")));
    ASSERT_EQ(agent_cli(a.state, {"allow"}).exit_code, 0);
    auto& supporter = *a.supporter;
    ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s));
    supporter.send(rfb_client_start().substr(12) + full_update_request());
    std::size_t logged_before = 0;
    if (c.way == Way::to_device) {
      ASSERT_TRUE(supporter.peer().wait_bytes(std::uint64_t{kWidth} * kHeight * 4, 20s));
      // A key the middle leaves alone is typed (the log sees keys), then the victim.
      logged_before = read_file_bytes(log).size();
      supporter.send(key_events("k"));
      ASSERT_TRUE(
          wait_until([&] { return read_file_bytes(log).find("key k") != std::string::npos; }, 10s))
          << read_file_bytes(log);
      armed = true;
      supporter.send(key_events("x"));
      if (c.name == "swap" || c.name == "drop") supporter.send(key_events("y"));
    }
    ASSERT_TRUE(supporter.peer().wait_closed(15s)) << a.agent.output();
    EXPECT_EQ(a.agent.wait(15s), std::optional<int>(0)) << a.agent.output();
    EXPECT_NE(a.agent.output().find("session: ended (e2eFailed)"), std::string::npos)
        << a.agent.output();
    if (c.way == Way::to_relay) {
      EXPECT_EQ(supporter.peer().e2e_error(), "e2eBadRecord");
      EXPECT_LT(supporter.received().size(), std::size_t{kWidth} * kHeight * 4)
          << "bytes past the altered record reached the viewer";
    } else {
      EXPECT_EQ(supporter.peer().close_reason(), "end-to-end check failed (e2eBadRecord)");
      std::this_thread::sleep_for(300ms);  // what was injected reaches the X server and the log
      std::string seen = read_file_bytes(log).substr(logged_before);
      std::size_t x_typed = 0;
      for (auto at = seen.find("key x\n"); at != std::string::npos;
           at = seen.find("key x\n", at + 1))
        ++x_typed;
      // The record as sent may have been typed before its repeat came; the repeat never.
      EXPECT_LE(x_typed, c.name == "replay" ? 1u : 0u) << seen;
    }
    agent_relay_.clear();
  }
}

// A relay that stands in the middle of a session started by code, with keys of its own: it can
// complete a handshake with each end, but then the two ends show different codes, which is
// what the person comparing them sees (the allow dialog says to deny then).
TEST_F(AgentSessionTest, ARelayInTheMiddleWithItsOwnKeysGivesTheTwoEndsDifferentCodes) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  using Way = MiddleRelay::Way;
  std::mutex mu;
  link::E2eChannel as_device(device_end());           // towards the supporter
  link::E2eChannel as_supporter(link::E2eOptions{});  // towards the agent
  std::string pending;  // the agent's stream bytes before the supporter's side is ready
  MiddleRelay middle(relay_.port(),
                     [&](Way way, int, std::string m, const MiddleRelay::Send& send) {
                       std::lock_guard lk(mu);
                       if (way == Way::to_device) {  // from the supporter
                         auto r = as_device.receive(m);
                         if (!r) return;
                         for (auto& x : r->send) send(Way::to_relay, std::move(x));
                         if (as_supporter.state() == link::E2eChannel::State::handshake &&
                             as_supporter.verification_code().empty())
                           for (auto& x : as_supporter.start()) send(Way::to_device, std::move(x));
                         if (r->established && !pending.empty())
                           send(Way::to_relay, as_device.seal_stream(std::exchange(pending, {})));
                         if (!r->stream.empty())
                           send(Way::to_device, as_supporter.seal_stream(r->stream));
                       } else {  // from the agent
                         auto r = as_supporter.receive(m);
                         if (!r) return;
                         for (auto& x : r->send) send(Way::to_device, std::move(x));
                         if (!r->stream.empty()) {
                           if (as_device.established())
                             send(Way::to_relay, as_device.seal_stream(r->stream));
                           else
                             pending += r->stream;
                         }
                         for (auto& n : r->notices)
                           if (as_device.established())
                             send(Way::to_relay, as_device.seal_notice(n));
                       }
                     });
  agent_relay_ = middle.base_url();
  AskingSession a;
  ASSERT_TRUE(ask(a, "middle")) << "the middle passes the session on: both ends work";
  std::string device_code = verification_code_of(agent_cli(a.state, {"status", "--json"}));
  std::string supporter_code = a.supporter->peer().verification_code();
  ASSERT_EQ(device_code.size(), 6u);
  ASSERT_EQ(supporter_code.size(), 6u);
  EXPECT_NE(device_code, supporter_code) << "one time in a million they match by chance";
  ASSERT_EQ(agent_cli(a.state, {"deny"}).exit_code, 0);
}

// TigerVNC's own viewer, as a supporter runs it, behind `reach connect`: end-to-end encrypted
// from reach connect to the agent, and the viewer's window shows the device's screen exactly.
TEST_F(AgentSessionTest, TigerVncsViewerBehindReachConnectShowsTheScreen) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  Image source = screenshot("tiger-source");
  ASSERT_EQ(source.width, kWidth);
  auto s = new_session();
  std::string state = dir_ + "/agent-tiger";
  ChildProcess agent;
  ASSERT_TRUE(join(agent, str_of(s, "code"), state));
  ServerProcess bridge;
  std::uint16_t port = connect(bridge, str_of(s, "supporter_link"));
  ASSERT_NE(port, 0);
  // The password file as vncpasswd writes it: the password DES-encrypted with VNC's fixed key.
  std::string padded = bridge.second_line();
  padded.resize(16, '\0');
  std::string passwd = dir_ + "/tiger.passwd";
  {
    std::ofstream out(passwd, std::ios::binary);
    out << cli::vnc_auth_response(std::string("\x17\x52\x6b\x06\x23\x4e\x58\x07", 8), padded)
               .substr(0, 8);
  }
  VirtualDisplay screen;
  std::filesystem::create_directories(dir_ + "/viewer-display");
  ASSERT_TRUE(screen.start(dir_ + "/viewer-display", kWidth + 200, kHeight + 200));
  ChildProcess viewer;
  ASSERT_TRUE(viewer.start(
      {"/usr/bin/xtigervncviewer", "-passwd", passwd, "-AutoSelect=0", "-PreferredEncoding=ZRLE",
       "-NoJPEG", "-FullColor", "127.0.0.1::" + std::to_string(port)},
      dir_ + "/tiger.log", {{"DISPLAY", screen.name()}}));
  ASSERT_TRUE(wait_state(state, "askingToAllow")) << viewer.output() << agent.output();
  ASSERT_EQ(agent_cli(state, {"allow"}).exit_code, 0);
  ASSERT_TRUE(wait_state(state, "active")) << viewer.output();
  EXPECT_NE(read_file_bytes(dir_ + "/connect.log").find("End-to-end encrypted"), std::string::npos);
  // The device's screen, pixel for pixel, somewhere in the viewer's window.
  auto shown = [&] {
    std::string path = dir_ + "/tiger-shown.ppm";
    run_command({"/usr/bin/import", "-display", screen.name(), "-window", "root", "-depth", "8",
                 "ppm:" + path});
    Image got = read_ppm(path);
    std::string first_row = source.rgb.substr(0, std::size_t{kWidth} * 3);
    auto at = got.rgb.find(first_row);
    if (at == std::string::npos || got.width == 0) return false;
    std::size_t x = (at / 3) % got.width, y = (at / 3) / got.width;
    if ((at % 3) != 0 || x + kWidth > std::size_t(got.width) ||
        y + kHeight > std::size_t(got.height))
      return false;
    for (int row = 0; row < kHeight; ++row)
      if (got.rgb.compare(((y + row) * got.width + x) * 3, std::size_t{kWidth} * 3, source.rgb,
                          std::size_t(row) * kWidth * 3, std::size_t{kWidth} * 3) != 0)
        return false;
    return true;
  };
  EXPECT_TRUE(wait_until(shown, 20s)) << viewer.output();
  viewer.kill9();
  EXPECT_EQ(agent.wait(15s), std::optional<int>(0)) << agent.output();
}

TEST_F(AgentSessionTest, TypedTextAndClicksLandOnTheDeviceOnlyWithControl) {
  ChildProcess input_log;
  std::string log = dir_ + "/input.log";
  ASSERT_TRUE(log_input(input_log, log));
  auto run_client = [&](bool view_only, const std::string& text, const std::string& click) {
    auto s = new_session();
    std::string state = dir_ + (view_only ? "/agent-view" : "/agent-control");
    ChildProcess agent;
    EXPECT_TRUE(join(agent, str_of(s, "code"), state));
    ServerProcess bridge;
    std::uint16_t port = connect(bridge, str_of(s, "supporter_link"));
    ChildProcess client;
    EXPECT_TRUE(
        client.start({program_path("reach_test_vnc_client"), "--connect",
                      "127.0.0.1:" + std::to_string(port), "--password", bridge.second_line(),
                      "--encodings", "zrle", "--type", text, "--click", click},
                     state + ".client.log"));
    EXPECT_TRUE(wait_state(state, "askingToAllow")) << agent.output();
    std::vector<std::string> allow = {"allow"};
    if (view_only) allow.push_back("--view-only");
    EXPECT_EQ(agent_cli(state, allow).exit_code, 0);
    EXPECT_EQ(client.wait(60s), std::optional<int>(0)) << client.output();
    EXPECT_EQ(agent.wait(10s), std::optional<int>(0)) << agent.output();
    std::this_thread::sleep_for(300ms);  // the last events reach the X server and the log
    return agent.output();
  };
  auto typed = [&] {
    std::string text, line;
    std::istringstream in(read_file_bytes(log));
    while (std::getline(in, line))
      if (line.starts_with("key ")) text += line.substr(4);
    return text;
  };
  auto clicks = [&] {
    std::vector<std::string> out;
    std::string line;
    std::istringstream in(read_file_bytes(log));
    while (std::getline(in, line))
      if (line.starts_with("click ")) out.push_back(line);
    return out;
  };

  std::string view_output = run_client(true, "view only", "20,30");
  EXPECT_EQ(typed(), "");
  EXPECT_TRUE(clicks().empty());
  EXPECT_NE(view_output.find("session: allowed, view only"), std::string::npos) << view_output;

  run_client(false, "Hello, World! ~{}|<>?", "123,45");
  EXPECT_EQ(typed(), "Hello, World! ~{}|<>?");
  auto c = clicks();
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0], "click 123 45 1");
}

}  // namespace
}  // namespace reach::itest

namespace reach::itest {
namespace {

// Malicious or broken viewers: each is disconnected with a logged reason, and the agent ends the
// session cleanly (exit 0, never a signal).
TEST_F(AgentSessionTest, MaliciousViewersAreDisconnectedAndNeverCrashTheAgent) {
  ChildProcess pattern;
  ASSERT_TRUE(draw_pattern(pattern));
  struct Case {
    std::string name;
    std::string bytes;       // sent after the handshake
    std::string log_reason;  // in the agent's log
  };
  auto u32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const std::vector<Case> cases = {
      {"oversized cut text", std::string("\x06\x00\x00\x00", 4) + u32(64u << 20),
       "cut text too long"},
      {"unknown message type", std::string("\xfe\x00\x00\x00", 4), "unknown client message type"},
      {"zero-bit pixel format", std::string("\x00\x00\x00\x00", 4) + std::string(16, '\0'),
       "unsupported pixel format"},
      {"absurd rectangle", std::string("\x03\x00\xff\xff\xff\xff\xff\xff\xff\xff", 10),
       "lies outside the 800x600 desktop"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    AskingSession a;
    ASSERT_TRUE(ask(a, "bad-" + std::to_string(&c - cases.data())));
    auto& supporter = *a.supporter;
    auto& agent = a.agent;
    const auto& state = a.state;
    ASSERT_EQ(agent_cli(state, {"allow"}).exit_code, 0);
    ASSERT_TRUE(wait_until([&] { return supporter.received().size() >= 14; }, 10s))
        << agent.output();  // security types
    supporter.send(rfb_client_start().substr(12));
    supporter.send(c.bytes);
    ASSERT_TRUE(supporter.peer().wait_closed(10s)) << agent.output();
    EXPECT_EQ(agent.wait(10s), std::optional<int>(0)) << agent.output();
    std::string log = read_file_bytes(state + ".log");
    EXPECT_NE(log.find("session.viewer_refused"), std::string::npos) << log;
    EXPECT_NE(log.find(c.log_reason), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace reach::itest
