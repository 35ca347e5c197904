// reach-portal runs once per user and agent state directory: starting it again asks the running
// one to show its window over a local socket, then exits. The socket lives where only the user
// can create files, and each end checks that the other end is the same user (issue 20, finding
// 6): another local user can neither keep the portal from starting by listening first nor make a
// running portal act.
//
// Thread-safety: for the GUI thread only (Qt sockets).
#pragma once

#include <QLocalServer>
#include <QObject>
#include <QString>

#include <sys/types.h>

#include <optional>

namespace reach::portal {

// Where the instance socket goes, and why not the first choice.
struct InstanceSocket {
  QString path;     // absolute; empty: run without single-instance
  QString warning;  // for the log when $XDG_RUNTIME_DIR was passed over (or nothing was usable)
};

// The socket for the agent state directory `state_dir` (absolute): in `runtime_dir`
// ($XDG_RUNTIME_DIR) when that is a directory of this user with mode 0700, as the XDG base
// directory specification requires; else in `state_dir` when it is a directory of this user that
// no one else can enter (the agent keeps it 0700: its control socket is trusted the same way).
// Never in a shared directory such as /tmp, where another user could create the name first.
InstanceSocket instance_socket(const QString& runtime_dir, const QString& state_dir);

// The effective uid of the process that made the other end of a connected Unix socket (for a
// client, the listener's; for a server, the client's); nullopt when the kernel does not say.
std::optional<uid_t> peer_uid(qintptr descriptor);

enum class Handover {
  shown,        // an instance of this user was asked to show its window
  no_instance,  // nothing listens at the path
  foreign,      // the listener belongs to another user: it was told nothing (logged)
};

// Asks the instance listening at `path` to show its window, waiting up to `timeout_ms` for each
// step.
Handover ask_running_instance(const QString& path, int timeout_ms = 500);

// The running instance's side: emits show_requested() for each connection from this user;
// connections from other users are logged and closed unanswered.
class InstanceServer : public QObject {
  Q_OBJECT

 public:
  explicit InstanceServer(QObject* parent = nullptr);

  // Replaces what is at `path` (a stale socket, or another user's listener that
  // ask_running_instance() turned down) with a socket only this user can open. False (see
  // error()) when it cannot listen: the portal then runs without single-instance.
  bool listen(const QString& path);
  QString error() const { return server_.errorString(); }

 signals:
  void show_requested();

 private:
  void accept_pending();

  QLocalServer server_;
};

}  // namespace reach::portal
