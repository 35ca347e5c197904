// The portal's link to the running agent (reach-agent run) over its control socket
// (src/agent/control.h). One connection subscribes and receives the agent's whole state after
// every change; each command the person gives goes on a connection of its own. The portal keeps
// no state of its own: when the agent is not running, or goes away, the link says so and tries
// again every second until the agent is back, then shows the state the agent has.
//
// Thread-safety: the GUI thread's (a QObject).
#pragma once

#include <QJsonObject>
#include <QLocalSocket>
#include <QObject>
#include <QTimer>

#include <functional>

namespace reach::portal {

class AgentLink : public QObject {
  Q_OBJECT
 public:
  explicit AgentLink(QString socket_path, QObject* parent = nullptr);

  void start();
  bool connected() const { return connected_; }
  const QJsonObject& state() const { return state_; }

  // Sends {"cmd": …} and calls `done` with the agent's answer ({"ok":false,"error":…} when the
  // agent cannot be reached or does not answer within 10 s).
  void command(QJsonObject request, std::function<void(const QJsonObject&)> done = {});

 signals:
  void state_changed(const QJsonObject& state);
  void connected_changed(bool connected);

 private:
  void subscribe();
  void read_lines();
  void lost();

  const QString path_;
  QLocalSocket subscription_;
  QByteArray buffer_;
  QTimer retry_;
  QJsonObject state_;
  bool connected_ = false;
};

}  // namespace reach::portal
