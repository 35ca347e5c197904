// The control socket's subscription: a subscriber gets the snapshot at once and after every
// change, changes that come faster than it reads are coalesced, and a subscriber that talks,
// hangs up or stops reading is dropped without touching the others or the one-shot requests.
#include "agent/control.h"

#include "common/json.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace reach::agent {
namespace {

namespace bj = boost::json;

class ControlSubscription : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reach-control-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.sock";
    auto s = ControlServer::start(
        path_,
        [this](const bj::object& r) -> bj::object {
          if (r.contains("bump")) ++version_;
          return {{"ok", true}, {"version", version_.load()}};
        },
        [this] {
          return bj::object{{"version", version_.load()}, {"pad", std::string(pad_, 'x')}};
        });
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  int subscribe() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const char req[] = "{\"cmd\":\"subscribe\"}\n";
    EXPECT_EQ(::write(fd, req, sizeof req - 1), static_cast<ssize_t>(sizeof req - 1));
    return fd;
  }

  // The next line from `fd`, or "" when nothing comes within `ms` or the socket closed (then
  // `closed` is set).
  static std::string next_line(int fd, std::string& buffer, int ms = 5000, bool* closed = nullptr) {
    for (;;) {
      if (auto nl = buffer.find('\n'); nl != std::string::npos) {
        std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) return "";
      char buf[4096];
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) {
        if (closed) *closed = true;
        return "";
      }
      buffer.append(buf, static_cast<std::size_t>(n));
    }
  }

  static std::int64_t version_of(const std::string& line) {
    auto o = json::parse_object(line);
    EXPECT_TRUE(o) << line;
    if (!o) return -1;
    EXPECT_EQ(json::serialize(o->at("type")), "\"state\"");
    return o->at("version").as_int64();
  }

  std::string dir_, path_;
  std::atomic<std::int64_t> version_{0};
  std::atomic<std::size_t> pad_{0};
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlSubscription, TheSnapshotComesAtOnceAndAfterEveryChange) {
  int fd = subscribe();
  std::string buf;
  EXPECT_EQ(version_of(next_line(fd, buf)), 0);
  // A one-shot request still works beside the subscription, and the change reaches it.
  auto r = control_call(path_, {{"bump", true}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("version").as_int64(), 1);
  server_->changed();
  EXPECT_EQ(version_of(next_line(fd, buf)), 1);
  // Nothing more without a change.
  EXPECT_EQ(next_line(fd, buf, 200), "");
  ::close(fd);
}

TEST_F(ControlSubscription, ChangesFasterThanTheReaderAreCoalesced) {
  int fd = subscribe();
  std::string buf;
  ASSERT_EQ(version_of(next_line(fd, buf)), 0);
  for (int i = 0; i < 10000; ++i) {
    ++version_;
    server_->changed();
  }
  // The last snapshot says 10000, and far fewer than 10000 lines were needed to get there.
  int lines = 0;
  std::int64_t last = 0;
  while (last != 10000) {
    std::string line = next_line(fd, buf);
    ASSERT_FALSE(line.empty()) << "no snapshot with the last version after " << lines;
    last = version_of(line);
    ++lines;
  }
  EXPECT_LT(lines, 10000);
  ::close(fd);
}

TEST_F(ControlSubscription, ASubscriberThatTalksIsDroppedAndOthersKeepTheirs) {
  int talker = subscribe(), quiet = subscribe();
  std::string b1, b2;
  ASSERT_EQ(version_of(next_line(talker, b1)), 0);
  ASSERT_EQ(version_of(next_line(quiet, b2)), 0);
  const char garbage[] = "\x01\x02 not json\n";
  ASSERT_GT(::write(talker, garbage, sizeof garbage - 1), 0);
  // The server closes the talker: the read ends without another line.
  EXPECT_EQ(next_line(talker, b1), "");
  ++version_;
  server_->changed();
  EXPECT_EQ(version_of(next_line(quiet, b2)), 1);
  ::close(talker);
  ::close(quiet);
}

TEST_F(ControlSubscription, ASubscriberThatStopsReadingIsDroppedNotBufferedFor) {
  int stalled = subscribe();
  pad_ = 64 * 1024;  // each snapshot 64 KiB: a few dozen unread exceed the 1 MiB allowance
  for (int i = 0; i < 200; ++i) {
    ++version_;
    server_->changed();
    // One-shot requests are answered meanwhile; each also lets the server publish.
    auto r = control_call(path_, {{"cmd", "status"}});
    ASSERT_TRUE(r) << r.error().message;
  }
  // The stalled subscriber's stream ends: the server closed it rather than keep 12 MiB for it.
  std::string buf;
  bool closed = false;
  int lines = 0;
  while (!next_line(stalled, buf, 5000, &closed).empty()) ++lines;
  EXPECT_TRUE(closed) << "the stream stayed open after " << lines << " lines";
  EXPECT_LT(lines, 200);
  ::close(stalled);
}

TEST_F(ControlSubscription, AServerWithoutSnapshotsRefusesSubscriptions) {
  server_.reset();
  auto s = ControlServer::start(path_, [](const bj::object&) { return bj::object{{"ok", true}}; });
  ASSERT_TRUE(s);
  auto r = control_call(path_, {{"cmd", "subscribe"}});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->at("ok").as_bool());
  EXPECT_NE(json::serialize(r->at("error")).find("subscriptions"), std::string::npos);
}

}  // namespace
}  // namespace reach::agent
