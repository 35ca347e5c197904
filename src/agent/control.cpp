#include "agent/control.h"

#include "common/json.h"
#include "common/log.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace reach::agent {

namespace bj = boost::json;

namespace {

// A request is small; an answer may list every stored notification (a few hundred bytes each).
constexpr std::size_t kMaxRequest = 64 * 1024;
constexpr std::size_t kMaxAnswer = 16 * 1024 * 1024;
// A subscriber that leaves this much unread is not reading: it is dropped, not buffered for.
constexpr std::size_t kMaxUnread = 1024 * 1024;
// Subscribers are the user's own apps (reach-portal, scripts): a few, never hundreds.
constexpr std::size_t kMaxSubscribers = 16;

Error socket_error(const std::string& what) {
  return make_error(Errc::internal, "controlSocket",
                    fmt::format("{}: {}", what, std::strerror(errno)));
}

Result<sockaddr_un> address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path))
    return bad_request("The control socket path is too long: use a shorter --state directory.");
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Reads up to a newline (or EOF) within the deadline.
Result<std::string> read_line(int fd, int timeout_ms, std::size_t max) {
  std::string line;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r == 0) return make_error(Errc::timeout, "timeout", "The agent did not answer in time.");
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return socket_error("poll");
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return socket_error("read");
    if (n == 0) return line;
    line.append(buf, static_cast<std::size_t>(n));
    if (auto nl = line.find('\n'); nl != std::string::npos) return line.substr(0, nl);
    if (line.size() > max) return bad_request("The control message is too long.");
  }
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& path,
                                                            Handler handler, Snapshot snapshot) {
  auto addr = address(path);
  if (!addr) return addr.error();
  // A socket file may be left by a killed agent: replace it only if nobody answers on it.
  if (::access(path.c_str(), F_OK) == 0) {
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool alive = probe >= 0 &&
                 ::connect(probe, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) == 0;
    if (probe >= 0) ::close(probe);
    if (alive)
      return make_error(Errc::conflict, "agentRunning",
                        "Another reach-agent process already serves this state directory.");
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error("socket");
  // The socket is created 0600 (umask), then chmod-ed in case the umask was looser.
  mode_t old = ::umask(0177);
  int b = ::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
  ::umask(old);
  if (b != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    auto e = socket_error("cannot listen on " + path);
    ::close(fd);
    return e;
  }
  return std::unique_ptr<ControlServer>(
      new ControlServer(path, fd, std::move(handler), std::move(snapshot)));
}

ControlServer::ControlServer(std::string path, int fd, Handler handler, Snapshot snapshot)
    : path_(std::move(path)),
      fd_(fd),
      handler_(std::move(handler)),
      snapshot_(std::move(snapshot)) {
  // Non-blocking both ends: changed() never waits (a full pipe already says "changed"), and
  // run() drains every pending byte at once.
  REACH_CHECK(::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2 failed");
  thread_ = std::thread([this] { run(); });
}

ControlServer::~ControlServer() {
  char c = 'x';
  while (::write(wake_[1], &c, 1) != 1 && errno == EAGAIN) {
    // The pipe is full of 'c's: let run() drain it.
    std::this_thread::yield();
  }
  thread_.join();
  for (auto& sub : subscribers_) ::close(sub.fd);
  ::close(fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  ::unlink(path_.c_str());
}

void ControlServer::changed() {
  char c = 'c';
  (void)!::write(wake_[1], &c, 1);
}

void ControlServer::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign({{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}});
    for (const auto& sub : subscribers_)
      fds.push_back({sub.fd, static_cast<short>(POLLIN | (sub.out.empty() ? 0 : POLLOUT)), 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      log::error("control.poll_failed", {{"error", std::strerror(errno)}});
      return;
    }
    // Subscribers first, while fds[i + 2] is still subscribers_[i]; last first, so that
    // dropping one keeps the indexes of those before it.
    for (std::size_t i = subscribers_.size(); i-- > 0;) {
      short ev = fds[i + 2].revents;
      if (ev & (POLLIN | POLLHUP | POLLERR))
        drop(i, "closed");  // a subscriber only reads: its hang-up, or anything it says, ends it
      else if (ev & POLLOUT)
        flush(i);
    }
    if (fds[1].revents) {
      bool stop = false, dirty = false;
      char buf[256];
      ssize_t n;
      while ((n = ::read(wake_[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < n; ++i) (buf[i] == 'x' ? stop : dirty) = true;
      if (stop) return;
      if (dirty) publish();
    }
    if (fds[0].revents) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) serve(c);
    }
  }
}

void ControlServer::serve(int c) {
  // The request is read before anything is answered, refusals included: closing a socket
  // with unread input resets it, and the peer would lose the answer.
  auto line = read_line(c, 5000, kMaxRequest);
  ucred cred{};
  socklen_t len = sizeof cred;
  bj::object response;
  if (::getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
    log::warn("control.refused_other_user", {{"uid", cred.uid}});
    response = {{"ok", false}, {"error", "This agent belongs to another user."}};
  } else if (!line) {
    response = {{"ok", false}, {"error", line.error().message}};
  } else if (auto req = json::parse_object(*line); !req) {
    response = {{"ok", false}, {"error", "Not a JSON object: " + req.error().message}};
  } else if (auto cmd = req->if_contains("cmd"); cmd && cmd->is_string() && *cmd == "subscribe") {
    if (!snapshot_) {
      response = {{"ok", false}, {"error", "This agent does not offer subscriptions."}};
    } else if (subscribers_.size() >= kMaxSubscribers) {
      response = {{"ok", false}, {"error", "Too many subscribers: close another app first."}};
    } else {
      subscribers_.push_back({c, {}});
      log::info("control.subscribed", {{"subscribers", subscribers_.size()}});
      publish(subscribers_.size() - 1);  // the others have this state already
      return;
    }
  } else {
    response = handler_(*req);
  }
  write_all(c, json::serialize(response) + "\n");
  ::close(c);
}

void ControlServer::publish(std::size_t first) {
  if (subscribers_.size() <= first) return;
  bj::object state = snapshot_();
  state["ok"] = true;
  state["type"] = "state";
  std::string line = json::serialize(state) + "\n";
  for (std::size_t i = subscribers_.size(); i-- > first;) {
    auto& sub = subscribers_[i];
    sub.out += line;
    if (sub.out.size() > kMaxUnread)
      drop(i, "not reading");
    else
      flush(i);
  }
}

void ControlServer::flush(std::size_t index) {
  auto& sub = subscribers_[index];
  ssize_t n = ::send(sub.fd, sub.out.data(), sub.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n > 0) sub.out.erase(0, static_cast<std::size_t>(n));
  if (n < 0 && errno != EAGAIN && errno != EINTR) drop(index, "write failed");
}

void ControlServer::drop(std::size_t index, const char* why) {
  ::close(subscribers_[index].fd);
  subscribers_.erase(subscribers_.begin() + static_cast<std::ptrdiff_t>(index));
  log::info("control.unsubscribed", {{"reason", why}, {"subscribers", subscribers_.size()}});
}

Result<bj::object> control_call(const std::string& path, const bj::object& request,
                                int timeout_ms) {
  auto addr = address(path);
  if (!addr) return addr.error();
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return socket_error("socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    int e = errno;
    ::close(fd);
    if (e == ENOENT || e == ECONNREFUSED)
      return make_error(Errc::unavailable, "agentNotRunning",
                        "The agent is not running (start `reach-agent run`, or `reach-agent join "
                        "CODE` for a session from the relay portal).");
    errno = e;
    return socket_error("cannot reach the agent at " + path);
  }
  if (!write_all(fd, json::serialize(request) + "\n")) {
    auto e = socket_error("write");
    ::close(fd);
    return e;
  }
  auto line = read_line(fd, timeout_ms, kMaxAnswer);
  ::close(fd);
  if (!line) return line.error();
  auto o = json::parse_object(*line);
  if (!o) return make_error(Errc::upstream, "controlSocket", "The agent's answer is not JSON.");
  return std::move(*o);
}

}  // namespace reach::agent
