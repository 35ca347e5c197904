#include "agent/state.h"
#include "agent/control.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace reach::agent {
namespace {

namespace bj = boost::json;

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reach-agent-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    path_ = root_ + "/state";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  static mode_t mode(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
  }
  std::string root_, path_;
};

Notification request(const std::string& id) {
  Notification n;
  n.id = id;
  n.kind = "remoteAssistanceRequest";
  n.title = "Remote assistance";
  n.body = "Your IT administrator is requesting control of this device";
  n.created_at = 1000;
  n.expires_at = 2000;
  n.data = bj::object{{"endCustomerLink", "http://relay/join/s12345678-abc"}};
  return n;
}

TEST_F(StateDirTest, CredentialAndNotificationsPersistInPrivateFiles) {
  {
    auto dir = StateDir::open(path_);
    ASSERT_TRUE(dir) << dir.error().message;
    EXPECT_EQ(mode(path_), 0700u);
    auto none = (*dir)->credential();
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    ASSERT_TRUE((*dir)->save_credential({"http://hub", "dev-1", "rdc_secret"}));
    auto added = (*dir)->add_notification(request("n1"));
    ASSERT_TRUE(added);
    EXPECT_TRUE(*added);
    auto again = (*dir)->add_notification(request("n1"));  // redelivered by the hub
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
    ASSERT_TRUE((*dir)->queue_event({"ref1", "n1", "accepted", ""}));
  }
  EXPECT_EQ(mode(path_ + "/credential.json"), 0600u);
  EXPECT_EQ(mode(path_ + "/notifications.json"), 0600u);
  auto dir = StateDir::open(path_);
  ASSERT_TRUE(dir);
  auto cred = (*dir)->credential();
  ASSERT_TRUE(cred && *cred);
  EXPECT_EQ((*cred)->device_credential, "rdc_secret");
  auto list = (*dir)->notifications();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].wants_answer());
  EXPECT_EQ(list[0].data.at("endCustomerLink").as_string(), "http://relay/join/s12345678-abc");
  ASSERT_EQ((*dir)->outbox().size(), 1u);
  ASSERT_TRUE((*dir)->remove_event("ref1"));
  EXPECT_TRUE((*dir)->outbox().empty());
  Notification answered = list[0];
  answered.answer = "declined";
  ASSERT_TRUE((*dir)->update_notification(answered));
  EXPECT_FALSE((*dir)->notification("n1")->wants_answer());
  EXPECT_FALSE((*dir)->update_notification(request("unknown")));
}

TEST_F(StateDirTest, CorruptFilesAreReportedNotTrusted) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  std::ofstream(path_ + "/notifications.json") << "{not json";
  auto dir = StateDir::open(path_);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, "stateCorrupt");
  std::ofstream(path_ + "/notifications.json", std::ios::trunc) << "{}";
  std::ofstream(path_ + "/credential.json") << R"({"hubUrl":"http://hub"})";
  auto d2 = StateDir::open(path_);
  ASSERT_TRUE(d2);
  auto cred = (*d2)->credential();
  ASSERT_FALSE(cred);
  EXPECT_EQ(cred.error().code, "stateCorrupt");
}

TEST_F(StateDirTest, ALooseDirectoryIsTightenedAndAFileIsRefused) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0777), 0);
  ::chmod(path_.c_str(), 0777);
  ASSERT_TRUE(StateDir::open(path_));
  EXPECT_EQ(mode(path_), 0700u);
  std::ofstream(root_ + "/file") << "x";
  EXPECT_FALSE(StateDir::open(root_ + "/file"));
}

// A fresh account has no ~/.local/state: `reach-agent enroll` creates the missing parents, private
// like the directory itself, and leaves the ones that exist (the home directory) as they were.
TEST_F(StateDirTest, MissingParentsAreCreatedPrivateAndExistingOnesAreLeftAlone) {
  const std::string home = root_ + "/home";
  ASSERT_EQ(::mkdir(home.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(home.c_str(), 0755), 0);
  const std::string state = home + "/.local/state/reach-agent";
  auto dir = StateDir::open(state);
  ASSERT_TRUE(dir) << dir.error().message;
  EXPECT_EQ(mode(home), 0755u);
  EXPECT_EQ(mode(home + "/.local"), 0700u);
  EXPECT_EQ(mode(home + "/.local/state"), 0700u);
  EXPECT_EQ(mode(state), 0700u);
  ASSERT_TRUE((*dir)->save_credential({"http://hub", "dev-1", "rdc_secret"}));

  // A parent that is a file is reported, not worked around.
  std::ofstream(root_ + "/file") << "x";
  auto under_file = StateDir::open(root_ + "/file/state");
  ASSERT_FALSE(under_file);
  EXPECT_EQ(under_file.error().code, "stateIo");
}

TEST_F(StateDirTest, ControlSocketAnswersItsOwnerAndRefusesOtherUsers) {
  auto dir = StateDir::open(path_);
  ASSERT_TRUE(dir);
  int calls = 0;
  auto server = ControlServer::start((*dir)->control_socket(), [&](const bj::object& r) {
    ++calls;
    return bj::object{{"ok", true}, {"echo", r.at("cmd")}};
  });
  ASSERT_TRUE(server) << server.error().message;
  EXPECT_EQ(mode((*dir)->control_socket()), 0600u);
  auto r = control_call((*dir)->control_socket(), {{"cmd", "status"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("echo").as_string(), "status");
  // A second server on the same socket is refused while the first answers.
  auto second = ControlServer::start((*dir)->control_socket(),
                                     [](const bj::object&) { return bj::object{}; });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, "agentRunning");

  if (::geteuid() == 0) {
    // Another user (nobody) who could reach the socket is still refused by SO_PEERCRED.
    ::chmod(root_.c_str(), 0755);
    ::chmod(path_.c_str(), 0755);
    ::chmod((*dir)->control_socket().c_str(), 0666);
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      auto other = control_call((*dir)->control_socket(), {{"cmd", "end"}});
      bool refused =
          other && other->at("ok").as_bool() == false &&
          std::string(other->at("error").as_string()).find("another user") != std::string::npos;
      ::_exit(refused ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "another user's request was not refused";
    EXPECT_EQ(calls, 1);  // the refused request never reached the handler
  }
  // Garbage on the socket gets an error line, not a crash, and the server goes on.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", (*dir)->control_socket().c_str());
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::write(fd, "\x01garbage\n", 9), 9);
    char buf[512] = {};
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf).find("\"ok\":false"), std::string::npos) << buf;
  }
  EXPECT_TRUE(control_call((*dir)->control_socket(), {{"cmd", "status"}}));
  server->reset();
  auto gone = control_call((*dir)->control_socket(), {{"cmd", "status"}});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, "agentNotRunning");
}

}  // namespace
}  // namespace reach::agent
