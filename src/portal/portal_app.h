// reach-portal, wired: the agent link's snapshots drive the tray icon (with the notification
// flag), the desktop notifications, the portal window, the "allow?" dialog and the session bar;
// the person's answers go back to the agent as commands. Every decision is the agent's: this
// object only shows and asks, so closing or killing it changes nothing on the device.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTranslator>

#include <functional>
#include <memory>

class QMenu;
class QSystemTrayIcon;

namespace reach::portal {

class AgentLink;
class AllowDialog;
class DesktopNotifications;
class PortalWindow;
class SessionBar;

class PortalApp : public QObject {
  Q_OBJECT
 public:
  // `language`: "" for the system's, or "en" / "nb" (the person's choice, remembered).
  PortalApp(QString socket_path, QString language, QObject* parent = nullptr);
  ~PortalApp() override;

  void start(bool show_window);
  void open_window();

 private:
  void render();
  void set_language(const QString& code);
  void notify(const QJsonObject& state);
  void on_notification_action(const QString& id, const QString& action);
  void answer_request(const QString& id, bool accept);
  void send(const QString& cmd, QJsonObject args, std::function<void(const QJsonObject&)> done);
  void mark_read_if_seen();

  AgentLink* link_;
  DesktopNotifications* notifications_;
  std::unique_ptr<PortalWindow> window_;
  std::unique_ptr<AllowDialog> dialog_;
  std::unique_ptr<SessionBar> bar_;
  QSystemTrayIcon* tray_ = nullptr;
  std::unique_ptr<QMenu> menu_;
  QTranslator translator_;
  QString language_;
  bool session_seen_open_ = false;  // the current session shared the screen while we ran
  QString ended_notice_;            // the end the portal has announced (its endedDateTime)
};

}  // namespace reach::portal
