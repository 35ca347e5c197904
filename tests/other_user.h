// Another local user for the tests of peer-uid checks: a child process that drops to `nobody`
// (uid 65534) and holds a Unix socket. Needs root; callers skip their test otherwise.
//
// Thread-safety: for the test's main thread.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

namespace reach::test {

inline constexpr uid_t kOtherUid = 65534;

// In a forked child: becomes kOtherUid for good (groups too). False when the kernel refused.
inline bool become_other_user() {
  return ::setgroups(0, nullptr) == 0 && ::setgid(kOtherUid) == 0 && ::setuid(kOtherUid) == 0;
}

// A listener at a path of the test's choosing whose socket file and listening process belong
// to kOtherUid, as a hostile user would set one up (mode 0777: anyone may connect). It keeps
// what its clients send. Killed, and its socket file removed, on destruction.
class OtherUserListener {
 public:
  OtherUserListener() = default;
  ~OtherUserListener() { stop(); }
  OtherUserListener(const OtherUserListener&) = delete;
  OtherUserListener& operator=(const OtherUserListener&) = delete;

  ::testing::AssertionResult start(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
      return ::testing::AssertionFailure() << path << " is too long for a socket";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
      return ::testing::AssertionFailure() << "pipe: " << std::strerror(errno);
    pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here: the test process may have threads.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(report[0]);
      // A client is given the credentials of the process that called listen(), so root may bind
      // where the other user could not (a directory private to the test's user) before dropping.
      ::unlink(addr.sun_path);
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::chown(addr.sun_path, kOtherUid, kOtherUid) != 0 || ::chmod(addr.sun_path, 0777) != 0 ||
          !become_other_user() || ::listen(fd, 8) != 0)
        ::_exit(1);
      if (::write(report[1], "+", 1) != 1) ::_exit(1);
      const timeval patience{1, 0};  // a client that never closes does not hold up the next one
      for (;;) {
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0) continue;
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        char buf[256];
        ssize_t n;
        while ((n = ::read(c, buf, sizeof buf)) > 0)
          if (::write(report[1], buf, static_cast<std::size_t>(n)) != n) ::_exit(1);
        ::close(c);
      }
    }
    ::close(report[1]);
    if (pid < 0) {
      ::close(report[0]);
      return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
    }
    pid_ = pid;
    report_ = report[0];
    path_ = path;
    pollfd p{report_, POLLIN, 0};
    char ready = 0;
    if (::poll(&p, 1, 10000) != 1 || ::read(report_, &ready, 1) != 1 || ready != '+')
      return ::testing::AssertionFailure()
             << "the listener of uid " << kOtherUid << " did not start at " << path;
    return ::testing::AssertionSuccess();
  }

  // Everything its clients sent so far, after `settle` without more.
  std::string received(std::chrono::milliseconds settle = std::chrono::milliseconds(300)) {
    pollfd p{report_, POLLIN, 0};
    char buf[256];
    while (report_ >= 0 && ::poll(&p, 1, static_cast<int>(settle.count())) == 1) {
      ssize_t n = ::read(report_, buf, sizeof buf);
      if (n <= 0) break;
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return received_;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::close(report_);
    // The program under test may have replaced the file with its own socket: leave that one.
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0 && st.st_uid == kOtherUid) ::unlink(path_.c_str());
    pid_ = -1;
    report_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int report_ = -1;
  std::string path_;
  std::string received_;
};

}  // namespace reach::test
