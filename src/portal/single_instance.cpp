#include "portal/single_instance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QLocalSocket>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace reach::portal {

namespace {

// Why `dir` cannot hold the socket, or "" when it can. `xdg_rule`: exactly 0700, as the XDG base
// directory specification requires of $XDG_RUNTIME_DIR; otherwise only no access for group and
// others (what the agent keeps its state directory at).
QString unfit(const QString& dir, bool xdg_rule) {
  if (dir.isEmpty()) return "not set";
  if (!dir.startsWith('/')) return "not an absolute path";
  struct stat st {};
  if (::stat(QFile::encodeName(dir).constData(), &st) != 0)
    return "unreadable (" + QString::fromLocal8Bit(std::strerror(errno)) + ")";
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  if (st.st_uid != ::geteuid()) return QString("owned by uid %1").arg(st.st_uid);
  const mode_t mode = st.st_mode & 0777;
  if (xdg_rule ? mode != 0700 : (mode & 077) != 0)
    return QString("mode %1").arg(mode, 4, 8, QChar('0'));
  return {};
}

// sockaddr_un holds the path with its terminating NUL.
bool fits(const QString& path) {
  return static_cast<std::size_t>(QFile::encodeName(path).size()) < sizeof(sockaddr_un{}.sun_path);
}

QString describe(std::optional<uid_t> uid) {
  return uid ? QString("uid %1").arg(*uid) : QString("a process of unknown uid");
}

}  // namespace

InstanceSocket instance_socket(const QString& runtime_dir, const QString& state_dir) {
  // One instance per agent: the runtime directory is per user, so the name tells the agents apart.
  const QByteArray key =
      QCryptographicHash::hash(state_dir.toUtf8(), QCryptographicHash::Sha256).toHex().left(16);
  const QString name = "reach-portal-" + QString::fromLatin1(key);
  QString why = unfit(runtime_dir, true);
  if (why.isEmpty()) {
    const QString path = QDir::cleanPath(runtime_dir) + "/" + name;
    if (fits(path)) return {path, {}};
    why = "too long a path for a socket";
  }
  const QString runtime = QString("$XDG_RUNTIME_DIR (%1) is %2").arg(runtime_dir, why);
  QString state_why = unfit(state_dir, false);
  const QString path = QDir::cleanPath(state_dir) + "/portal.sock";
  if (state_why.isEmpty() && !fits(path)) state_why = "too long a path for a socket";
  if (state_why.isEmpty())
    return {path, runtime + ": the single-instance socket is " + path + " instead"};
  return {{},
          runtime + " and the state directory " + state_dir + " is " + state_why +
              ": running without single-instance (starting again opens a second portal)"};
}

std::optional<uid_t> peer_uid(qintptr descriptor) {
  if (descriptor < 0) return std::nullopt;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(static_cast<int>(descriptor), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      len != sizeof cred)
    return std::nullopt;
  return cred.uid;
}

Handover ask_running_instance(const QString& path, int timeout_ms) {
  QLocalSocket other;
  other.connectToServer(path);
  if (!other.waitForConnected(timeout_ms)) return Handover::no_instance;
  if (auto uid = peer_uid(other.socketDescriptor()); uid != ::geteuid()) {
    qWarning("reach-portal: %s is held by %s, not by this user: ignored, starting anyway",
             qPrintable(path), qPrintable(describe(uid)));
    return Handover::foreign;
  }
  other.write("show\n");
  other.waitForBytesWritten(timeout_ms);
  return Handover::shown;
}

InstanceServer::InstanceServer(QObject* parent) : QObject(parent) {
  server_.setSocketOptions(QLocalServer::UserAccessOption);
  connect(&server_, &QLocalServer::newConnection, this, &InstanceServer::accept_pending);
}

bool InstanceServer::listen(const QString& path) {
  QLocalServer::removeServer(path);
  return server_.listen(path);
}

void InstanceServer::accept_pending() {
  while (QLocalSocket* c = server_.nextPendingConnection()) {
    const auto uid = peer_uid(c->socketDescriptor());
    c->deleteLater();
    if (uid != ::geteuid()) {
      qWarning("reach-portal: a connection from %s to the single-instance socket was refused",
               qPrintable(describe(uid)));
      continue;
    }
    emit show_requested();
  }
}

}  // namespace reach::portal
