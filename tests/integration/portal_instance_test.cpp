// reach-portal's single instance against another local user (issue 20, finding 6): a listener
// that user set up at the portal's socket path first must not receive `show` and must not keep
// the device user's portal from starting. The portal runs on Qt's offscreen platform with no
// session bus: only its start-up is under test.
#include "integration/process.h"
#include "other_user.h"

#include "common/crypto.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;

class PortalInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
    dir_ = make_temp_dir("reach-portal-instance-");
    ASSERT_FALSE(dir_.empty());
    runtime_ = dir_ + "/runtime";
    state_ = dir_ + "/state";
    for (const auto& d : {runtime_, state_, dir_ + "/home"})
      ASSERT_EQ(::mkdir(d.c_str(), 0700), 0) << d;
    // The name the portal gives the socket of this state directory, in any directory.
    key_ = crypto::sha256_hex(state_).substr(0, 16);
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  ::testing::AssertionResult start_portal(ChildProcess& p, const std::string& log,
                                          const std::string& runtime_dir) {
    return p.start({program_path("reach-portal"), "--state", state_}, dir_ + "/" + log,
                   {{"QT_QPA_PLATFORM", "offscreen"},
                    {"XDG_RUNTIME_DIR", runtime_dir},
                    {"HOME", dir_ + "/home"},
                    {"XDG_CONFIG_HOME", dir_ + "/home/.config"},
                    {"DBUS_SESSION_BUS_ADDRESS", "unix:path=" + dir_ + "/no-bus"}});
  }

  // The portal listens at `path` (its own socket there, of this user), or has exited.
  static bool listening_or_gone(ChildProcess& p, const std::string& path) {
    return wait_until(
        [&] {
          struct stat st {};
          return (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
                  st.st_uid == ::geteuid()) ||
                 p.wait(0ms).has_value();
        },
        15s);
  }

  std::string dir_, runtime_, state_, key_;
};

TEST_F(PortalInstanceTest, AnotherUsersListenerNeitherHearsShowNorStopsThePortal) {
  // The name an earlier portal used in the shared temporary directory, where anyone can create
  // it, and the name in the private runtime directory (root can put it there).
  const char* tmp = std::getenv("TMPDIR");
  const std::string shared = std::string(tmp && *tmp ? tmp : "/tmp") + "/reach-portal-" +
                             std::to_string(::getuid()) + "-" + key_;
  const std::string expected = runtime_ + "/reach-portal-" + key_;
  reach::test::OtherUserListener in_shared, in_runtime;
  ASSERT_TRUE(in_shared.start(shared));
  ASSERT_TRUE(in_runtime.start(expected));

  ChildProcess first;
  ASSERT_TRUE(start_portal(first, "first.log", runtime_));
  ASSERT_TRUE(listening_or_gone(first, expected)) << first.output();
  EXPECT_FALSE(first.wait(500ms)) << "the portal exited: " << first.output();
  EXPECT_EQ(in_shared.received(), "");
  EXPECT_EQ(in_runtime.received(), "");
  EXPECT_NE(first.output().find("held by uid 65534"), std::string::npos) << first.output();

  // The portal's own single instance still works: a second start hands over and exits.
  ChildProcess second;
  ASSERT_TRUE(start_portal(second, "second.log", runtime_));
  EXPECT_EQ(second.wait(15s), 0) << second.output();
  EXPECT_FALSE(first.wait(0ms)) << first.output();
  first.kill9();
}

// With $XDG_RUNTIME_DIR shared (here /tmp, as a broken session might set it), the socket goes in
// the agent's state directory instead, and single instance still holds.
TEST_F(PortalInstanceTest, AnUnfitRuntimeDirectoryIsReplacedByTheStateDirectory) {
  const std::string fallback = state_ + "/portal.sock";
  ChildProcess first;
  ASSERT_TRUE(start_portal(first, "first.log", "/tmp"));
  ASSERT_TRUE(listening_or_gone(first, fallback)) << first.output();
  EXPECT_FALSE(first.wait(0ms)) << "the portal exited: " << first.output();
  EXPECT_NE(first.output().find("$XDG_RUNTIME_DIR (/tmp) is mode 0777"), std::string::npos)
      << first.output();
  ChildProcess second;
  ASSERT_TRUE(start_portal(second, "second.log", "/tmp"));
  EXPECT_EQ(second.wait(15s), 0) << second.output();
  EXPECT_FALSE(first.wait(0ms)) << first.output();
  first.kill9();
}

}  // namespace
}  // namespace reach::itest
