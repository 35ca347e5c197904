#include "agent/state.h"

#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/json.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace reach::agent {

namespace bj = boost::json;

namespace {

constexpr const char* kCredentialFile = "credential.json";
constexpr const char* kDeviceKeyFile = "device-key.json";
constexpr const char* kNotificationsFile = "notifications.json";
constexpr std::size_t kMaxNotifications = 500;  // the oldest answered ones are forgotten first

Error io_error(const std::string& what) {
  return make_error(Errc::internal, "stateIo", fmt::format("{}: {}", what, std::strerror(errno)));
}

Result<std::optional<std::string>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return io_error("cannot read " + path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

std::string str(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}
std::int64_t num(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : 0;
}

// Creates `path` and its missing parents with mode 0700 (a fresh account has no ~/.local/state).
// Parents that exist are left as they are: they may be shared (the home directory, /var/lib).
Status make_private_dirs(const std::string& path) {
  std::size_t end = 0;
  do {
    end = path.find('/', end + 1);
    std::string prefix = path.substr(0, end);
    // mkdir reports EEXIST before a missing write permission, so existing read-only parents pass.
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
      return io_error("cannot create the state directory " + prefix);
  } while (end != std::string::npos);
  return {};
}

}  // namespace

Status write_file_atomic(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot write " + tmp);
  ::fchmod(fd, 0600);
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = io_error("cannot write " + tmp);
      ::close(fd);
      return e;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return io_error("cannot sync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("cannot replace " + path);
  std::string dir = path.substr(0, path.rfind('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<std::unique_ptr<StateDir>> StateDir::open(const std::string& path) {
  if (path.empty()) return bad_request("The state directory is not set (--state DIR).");
  if (auto s = make_private_dirs(path); !s) return s.error();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return io_error("cannot open " + path);
  if (!S_ISDIR(st.st_mode)) return bad_request(path + " is not a directory.");
  if (st.st_uid != ::geteuid())
    return make_error(Errc::forbidden, "stateNotOwned",
                      path + " belongs to another user: the agent keeps its credential there.");
  if ((st.st_mode & 077) != 0) ::chmod(path.c_str(), 0700);
  std::unique_ptr<StateDir> dir(new StateDir(path));
  if (auto s = dir->load(); !s) return s.error();
  return dir;
}

Result<std::optional<Credential>> StateDir::credential() const {
  auto text = read_file(path_ + "/" + kCredentialFile);
  if (!text) return text.error();
  if (!*text) return std::optional<Credential>();
  auto o = json::parse_object(**text);
  if (!o)
    return make_error(Errc::internal, "stateCorrupt",
                      path_ + "/credential.json is not valid JSON.");
  Credential c{str(*o, "hubUrl"), str(*o, "deviceId"), str(*o, "deviceCredential")};
  if (c.hub_url.empty() || c.device_id.empty() || c.device_credential.empty())
    return make_error(Errc::internal, "stateCorrupt", path_ + "/credential.json is incomplete.");
  return std::optional<Credential>(std::move(c));
}

Result<std::string> StateDir::device_key() {
  std::lock_guard lk(mu_);
  auto text = read_file(path_ + "/" + kDeviceKeyFile);
  if (!text) return text.error();
  if (!*text) {
    auto pair = crypto::ed25519_keypair();
    if (auto st = write_file_atomic(
            path_ + "/" + kDeviceKeyFile,
            json::serialize(bj::object{{"ed25519", crypto::base64url_encode(pair.private_key)}}));
        !st)
      return st.error();
    return pair.private_key;
  }
  auto o = json::parse_object(**text);
  auto seed = o ? crypto::base64url_decode(str(*o, "ed25519")) : Result<std::string>(o.error());
  if (!seed || seed->size() != crypto::kKeyBytes)
    return make_error(Errc::internal, "stateCorrupt",
                      path_ + "/" + kDeviceKeyFile + " holds no device key.");
  return *seed;
}

Result<std::string> StateDir::new_device_key() {
  {
    std::lock_guard lk(mu_);
    if (::unlink((path_ + "/" + kDeviceKeyFile).c_str()) != 0 && errno != ENOENT)
      return io_error("remove " + path_ + "/" + kDeviceKeyFile);
  }
  return device_key();
}

Status StateDir::save_credential(const Credential& c) {
  std::lock_guard lk(mu_);
  return write_file_atomic(path_ + "/" + kCredentialFile,
                           json::serialize(bj::object{{"hubUrl", c.hub_url},
                                                      {"deviceId", c.device_id},
                                                      {"deviceCredential", c.device_credential}}));
}

Status StateDir::load() {
  auto text = read_file(path_ + "/" + kNotificationsFile);
  if (!text) return text.error();
  if (!*text) return {};
  auto o = json::parse_object(**text);
  if (!o)
    return make_error(Errc::internal, "stateCorrupt",
                      path_ + "/notifications.json is not valid JSON.");
  if (auto it = o->find("notifications"); it != o->end() && it->value().is_array()) {
    for (const auto& v : it->value().as_array()) {
      if (!v.is_object()) continue;
      const auto& n = v.as_object();
      Notification x;
      x.id = str(n, "id");
      x.kind = str(n, "kind");
      x.title = str(n, "title");
      x.body = str(n, "body");
      x.created_at = num(n, "createdAt");
      x.expires_at = num(n, "expiresAt");
      if (auto d = n.find("data"); d != n.end() && d->value().is_object())
        x.data = d->value().as_object();
      x.read = n.contains("read") && n.at("read").is_bool() && n.at("read").as_bool();
      x.answer = str(n, "answer");
      if (!x.id.empty()) notifications_.push_back(std::move(x));
    }
  }
  if (auto it = o->find("outbox"); it != o->end() && it->value().is_array()) {
    for (const auto& v : it->value().as_array()) {
      if (!v.is_object()) continue;
      const auto& e = v.as_object();
      OutgoingEvent x{str(e, "ref"), str(e, "notificationId"), str(e, "event"), str(e, "detail")};
      if (!x.ref.empty()) outbox_.push_back(std::move(x));
    }
  }
  return {};
}

Status StateDir::save_locked() {
  while (notifications_.size() > kMaxNotifications) {
    auto it = std::find_if(notifications_.begin(), notifications_.end(),
                           [](const Notification& n) { return !n.wants_answer(); });
    notifications_.erase(it == notifications_.end() ? notifications_.begin() : it);
  }
  bj::array ns;
  for (const auto& n : notifications_)
    ns.push_back(bj::object{{"id", n.id},
                            {"kind", n.kind},
                            {"title", n.title},
                            {"body", n.body},
                            {"createdAt", n.created_at},
                            {"expiresAt", n.expires_at},
                            {"data", n.data},
                            {"read", n.read},
                            {"answer", n.answer}});
  bj::array out;
  for (const auto& e : outbox_)
    out.push_back(bj::object{{"ref", e.ref},
                             {"notificationId", e.notification_id},
                             {"event", e.event},
                             {"detail", e.detail}});
  return write_file_atomic(
      path_ + "/" + kNotificationsFile,
      json::serialize(bj::object{{"notifications", std::move(ns)}, {"outbox", std::move(out)}}));
}

std::vector<Notification> StateDir::notifications() const {
  std::lock_guard lk(mu_);
  return notifications_;
}

std::optional<Notification> StateDir::notification(const std::string& id) const {
  std::lock_guard lk(mu_);
  for (const auto& n : notifications_)
    if (n.id == id) return n;
  return std::nullopt;
}

Result<bool> StateDir::add_notification(const Notification& n) {
  std::lock_guard lk(mu_);
  for (const auto& x : notifications_)
    if (x.id == n.id) return false;
  notifications_.push_back(n);
  if (auto s = save_locked(); !s) {
    notifications_.pop_back();
    return s.error();
  }
  return true;
}

Status StateDir::update_notification(const Notification& n) {
  std::lock_guard lk(mu_);
  for (auto& x : notifications_) {
    if (x.id != n.id) continue;
    Notification old = x;
    x = n;
    if (auto s = save_locked(); !s) {
      x = old;
      return s;
    }
    return {};
  }
  return not_found("No notification " + n.id + " on this device.");
}

std::vector<OutgoingEvent> StateDir::outbox() const {
  std::lock_guard lk(mu_);
  return outbox_;
}

Status StateDir::queue_event(const OutgoingEvent& e) {
  std::lock_guard lk(mu_);
  outbox_.push_back(e);
  if (auto s = save_locked(); !s) {
    outbox_.pop_back();
    return s;
  }
  return {};
}

Status StateDir::remove_event(const std::string& ref) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(outbox_.begin(), outbox_.end(),
                         [&](const OutgoingEvent& e) { return e.ref == ref; });
  if (it == outbox_.end()) return {};
  outbox_.erase(it);
  return save_locked();
}

}  // namespace reach::agent
