// Desktop notifications through the freedesktop notification server
// (org.freedesktop.Notifications on the session bus): one per agent notification that waits for
// the person, with Accept and Decline as actions where the server supports actions, and the
// notification itself ("default") opening the portal window. Closed again once the agent says
// it is answered, expired or read.
//
// Without a session bus or a notification server the portal still works: the tray badge and
// the window show the same things. A server that starts (or restarts) later is used from then on.
//
// Thread-safety: the GUI thread's (a QObject).
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

namespace reach::portal {

class DesktopNotifications : public QObject {
  Q_OBJECT
 public:
  explicit DesktopNotifications(QObject* parent = nullptr);

  bool available() const { return available_; }

  // Shows the agent's notification `agent_id` once per run of the app: one the person dismissed
  // stays in the tray badge and the window, not on the screen. `actions`: pairs of key and
  // label, e.g. {"accept", "Accept"}.
  void show(const QString& agent_id, const QString& summary, const QString& body,
            const QList<QPair<QString, QString>>& actions, bool until_answered);
  // Closes what is shown for `agent_id`, if anything.
  void close(const QString& agent_id);
  // Forgets and closes every notification not in `keep`.
  void close_all_but(const QStringList& keep);

 signals:
  // The person chose an action ("default" when they selected the notification itself).
  void action_invoked(const QString& agent_id, const QString& action);
  // A notification server appeared: what waits for the person may be shown now.
  void became_available();

 private slots:
  void on_action_invoked(uint id, const QString& action);

 private:
  void probe();

  bool available_ = false;
  bool actions_ = false;
  QHash<QString, uint> shown_;  // agent notification id → server's id (0 while pending)
};

}  // namespace reach::portal
