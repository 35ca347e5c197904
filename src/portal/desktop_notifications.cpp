#include "portal/desktop_notifications.h"

#include "portal/texts.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusReply>
#include <QDBusServiceWatcher>

namespace reach::portal {

namespace {

const QString kService = QStringLiteral("org.freedesktop.Notifications");
const QString kPath = QStringLiteral("/org/freedesktop/Notifications");
const QString kInterface = QStringLiteral("org.freedesktop.Notifications");

QDBusMessage call(const QString& method) {
  return QDBusMessage::createMethodCall(kService, kPath, kInterface, method);
}

}  // namespace

DesktopNotifications::DesktopNotifications(QObject* parent) : QObject(parent) {
  auto bus = QDBusConnection::sessionBus();
  if (!bus.isConnected()) return;
  bus.connect(kService, kPath, kInterface, "ActionInvoked", this,
              SLOT(on_action_invoked(uint, QString)));
  // The notification server may start after the portal (a session's programs start together) or
  // restart: whether it is there, and what it can do, is asked again each time it appears.
  auto* watcher = new QDBusServiceWatcher(
      kService, bus,
      QDBusServiceWatcher::WatchForRegistration | QDBusServiceWatcher::WatchForUnregistration,
      this);
  connect(watcher, &QDBusServiceWatcher::serviceRegistered, this, [this] { probe(); });
  connect(watcher, &QDBusServiceWatcher::serviceUnregistered, this, [this] {
    available_ = false;
    shown_.clear();  // gone with the server
  });
  probe();
}

void DesktopNotifications::probe() {
  auto caps = QDBusConnection::sessionBus().call(call("GetCapabilities"), QDBus::Block, 2000);
  if (caps.type() != QDBusMessage::ReplyMessage || caps.arguments().isEmpty()) return;
  const bool was = available_;
  available_ = true;
  actions_ = caps.arguments().first().toStringList().contains("actions");
  if (!was) emit became_available();
}

void DesktopNotifications::show(const QString& agent_id, const QString& summary,
                                const QString& body, const QList<QPair<QString, QString>>& actions,
                                bool until_answered) {
  if (!available_ || shown_.contains(agent_id)) return;
  QStringList flat;
  if (actions_) {
    // Servers that draw every action as a button (xfce4-notifyd) show this one's label too.
    flat << "default" << tr("Open");
    for (const auto& [key, label] : actions) flat << key << label;
  }
  // Normal urgency (critical is for the system's own alarms); a request stays on the screen
  // until it is answered (resident, no timeout).
  QVariantMap hints{{"desktop-entry", QStringLiteral("reach-portal")},
                    {"urgency", QVariant::fromValue<uchar>(1)}};
  if (until_answered) hints["resident"] = true;
  auto m = call("Notify");
  // app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout (0: never).
  m << app_name() << 0u << QStringLiteral("reach-portal") << summary << body << flat << hints
    << (until_answered ? 0 : -1);
  shown_.insert(agent_id, 0);
  auto* watcher = new QDBusPendingCallWatcher(QDBusConnection::sessionBus().asyncCall(m), this);
  connect(watcher, &QDBusPendingCallWatcher::finished, this, [this, agent_id](auto* w) {
    QDBusPendingReply<uint> reply = *w;
    w->deleteLater();
    if (!shown_.contains(agent_id)) {
      // Closed (answered) before the server answered: close it there too.
      if (reply.isValid()) {
        auto c = call("CloseNotification");
        c << reply.value();
        QDBusConnection::sessionBus().asyncCall(c);
      }
      return;
    }
    if (reply.isValid())
      shown_[agent_id] = reply.value();
    else
      qWarning("reach-portal: the notification server refused a notification: %s",
               qPrintable(reply.error().message()));
  });
}

void DesktopNotifications::close(const QString& agent_id) {
  auto it = shown_.find(agent_id);
  if (it == shown_.end()) return;
  uint id = it.value();
  shown_.erase(it);
  if (id == 0) return;  // the Notify answer closes it when it comes
  auto c = call("CloseNotification");
  c << id;
  QDBusConnection::sessionBus().asyncCall(c);
}

void DesktopNotifications::close_all_but(const QStringList& keep) {
  for (const auto& id : shown_.keys())
    if (!keep.contains(id)) close(id);
}

void DesktopNotifications::on_action_invoked(uint id, const QString& action) {
  for (auto it = shown_.begin(); it != shown_.end(); ++it)
    if (it.value() == id && id != 0) {
      emit action_invoked(it.key(), action);
      return;
    }
}

}  // namespace reach::portal
