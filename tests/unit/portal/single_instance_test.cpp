#include "portal/single_instance.h"

#include "other_user.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>

namespace reach::portal {
namespace {

using reach::test::kOtherUid;

// QLocalServer announces connections from the event loop, which needs an application object.
void ensure_application() {
  static int argc = 1;
  static char name[] = "single_instance_test";
  static char* argv[] = {name, nullptr};
  if (!QCoreApplication::instance()) new QCoreApplication(argc, argv);
}

// Runs the event loop until `done` or 10 s have passed.
bool process_events_until(const std::function<bool()>& done, int timeout_ms = 10000) {
  QElapsedTimer t;
  t.start();
  while (!done() && t.elapsed() < timeout_ms)
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
  return done();
}

class SingleInstanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_application();
    char tmpl[] = "/tmp/reach-portal-instance-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    runtime_ = root_ + "/runtime";
    state_ = root_ + "/state";
    ASSERT_EQ(::mkdir(runtime_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  InstanceSocket where(const std::string& runtime) const {
    return instance_socket(QString::fromStdString(runtime), QString::fromStdString(state_));
  }
  std::string root_, runtime_, state_;
};

TEST_F(SingleInstanceTest, APrivateRuntimeDirectoryHoldsTheSocket) {
  auto s = where(runtime_);
  EXPECT_TRUE(s.path.startsWith(QString::fromStdString(runtime_ + "/reach-portal-")))
      << s.path.toStdString();
  EXPECT_TRUE(s.warning.isEmpty()) << s.warning.toStdString();
  // One socket per agent state directory.
  auto other = instance_socket(QString::fromStdString(runtime_), QString::fromStdString(root_));
  EXPECT_NE(other.path, s.path);
  EXPECT_EQ(where(runtime_ + "/").path, s.path);
}

// Anything the XDG specification does not allow for $XDG_RUNTIME_DIR (and a shared /tmp above
// all) is passed over for the agent's state directory, which the agent keeps private.
TEST_F(SingleInstanceTest, AnUnfitRuntimeDirectoryIsPassedOverForTheStateDirectory) {
  const QString fallback = QString::fromStdString(state_ + "/portal.sock");
  auto unset = where("");
  EXPECT_EQ(unset.path, fallback);
  EXPECT_TRUE(unset.warning.contains("not set")) << unset.warning.toStdString();
  EXPECT_EQ(where("relative/runtime").path, fallback);
  EXPECT_EQ(where(root_ + "/missing").path, fallback);
  EXPECT_EQ(where("/tmp").path, fallback);
  ASSERT_EQ(::chmod(runtime_.c_str(), 0755), 0);
  auto open = where(runtime_);
  EXPECT_EQ(open.path, fallback);
  EXPECT_TRUE(open.warning.contains("mode 0755")) << open.warning.toStdString();
  ASSERT_EQ(::chmod(runtime_.c_str(), 0700), 0);
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(runtime_.c_str(), kOtherUid, kOtherUid), 0);
    auto foreign = where(runtime_);
    EXPECT_EQ(foreign.path, fallback);
    EXPECT_TRUE(foreign.warning.contains("owned by uid 65534")) << foreign.warning.toStdString();
  }
  // A runtime directory so deep that the socket's path does not fit a sockaddr_un.
  std::string deep = runtime_ + "/" + std::string(100, 'd');
  ASSERT_EQ(::mkdir(deep.c_str(), 0700), 0);
  EXPECT_EQ(where(deep).path, fallback);
}

TEST_F(SingleInstanceTest, WithNeitherDirectoryFitThereIsNoSingleInstance) {
  ASSERT_EQ(::chmod(state_.c_str(), 0755), 0);
  auto s = where("");
  EXPECT_TRUE(s.path.isEmpty()) << s.path.toStdString();
  EXPECT_TRUE(s.warning.contains("without single-instance")) << s.warning.toStdString();
  std::filesystem::remove_all(state_);
  EXPECT_TRUE(where("").path.isEmpty());
}

TEST_F(SingleInstanceTest, ASecondStartOfTheSameUserAsksTheFirstToShow) {
  const QString path = where(runtime_).path;
  EXPECT_EQ(ask_running_instance(path), Handover::no_instance);
  InstanceServer first;
  int shown = 0;
  QObject::connect(&first, &InstanceServer::show_requested, [&] { ++shown; });
  ASSERT_TRUE(first.listen(path)) << first.error().toStdString();
  struct stat st {};
  ASSERT_EQ(::stat(path.toLocal8Bit().constData(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u) << "group or others may connect";
  EXPECT_EQ(ask_running_instance(path), Handover::shown);
  EXPECT_TRUE(process_events_until([&] { return shown == 1; }));
}

// Issue 20, finding 6: a listener that another user created first at the instance's path is
// told nothing, and the second start goes on as the only instance.
TEST_F(SingleInstanceTest, AListenerOfAnotherUserIsToldNothingAndReplaced) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
  const QString path = where(runtime_).path;
  reach::test::OtherUserListener other;
  ASSERT_TRUE(other.start(path.toStdString()));
  EXPECT_EQ(ask_running_instance(path), Handover::foreign);
  EXPECT_EQ(other.received(), "");
  InstanceServer mine;
  int shown = 0;
  QObject::connect(&mine, &InstanceServer::show_requested, [&] { ++shown; });
  ASSERT_TRUE(mine.listen(path)) << mine.error().toStdString();
  EXPECT_EQ(ask_running_instance(path), Handover::shown);
  EXPECT_TRUE(process_events_until([&] { return shown == 1; }));
  EXPECT_EQ(other.received(), "");
}

// A connection from another user (who could reach the socket) does not make the window show.
TEST_F(SingleInstanceTest, TheRunningInstanceIgnoresConnectionsOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another user";
  const QString path = where(runtime_).path;
  InstanceServer server;
  int shown = 0;
  QObject::connect(&server, &InstanceServer::show_requested, [&] { ++shown; });
  ASSERT_TRUE(server.listen(path)) << server.error().toStdString();
  ASSERT_EQ(::chmod(root_.c_str(), 0711), 0);
  ASSERT_EQ(::chmod(runtime_.c_str(), 0711), 0);
  ASSERT_EQ(::chmod(path.toLocal8Bit().constData(), 0666), 0);
  const std::string p = path.toStdString();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!reach::test::become_other_user()) ::_exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, p.c_str(), p.size() + 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) ::_exit(4);
    if (::write(fd, "show\n", 5) != 5) ::_exit(5);
    char c;
    while (::read(fd, &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ASSERT_GT(pid, 0);
  int status = -1;
  // The server accepts (and closes) from the event loop, which the child waits for.
  if (!process_events_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; })) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the other user could not reach the socket";
  QCoreApplication::processEvents(QEventLoop::AllEvents, 200);
  EXPECT_EQ(shown, 0);
  EXPECT_EQ(ask_running_instance(path), Handover::shown);
  EXPECT_TRUE(process_events_until([&] { return shown == 1; }));
}

}  // namespace
}  // namespace reach::portal
