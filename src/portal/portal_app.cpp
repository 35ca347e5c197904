#include "portal/portal_app.h"

#include "portal/agent_link.h"
#include "portal/allow_dialog.h"
#include "portal/desktop_notifications.h"
#include "portal/icon.h"
#include "portal/portal_window.h"
#include "portal/session_bar.h"
#include "portal/texts.h"

#include <QApplication>
#include <QJsonArray>
#include <QLocale>
#include <QMenu>
#include <QSettings>
#include <QSystemTrayIcon>

namespace reach::portal {

namespace {

bool shares_screen(const QJsonObject& session) {
  const QString s = session.value("state").toString();
  return s == "allowed" || s == "active";
}

}  // namespace

PortalApp::PortalApp(QString socket_path, QString language, QObject* parent)
    : QObject(parent),
      link_(new AgentLink(std::move(socket_path), this)),
      notifications_(new DesktopNotifications(this)),
      window_(std::make_unique<PortalWindow>()),
      dialog_(std::make_unique<AllowDialog>()),
      bar_(std::make_unique<SessionBar>()),
      menu_(std::make_unique<QMenu>()) {
  connect(link_, &AgentLink::state_changed, this, &PortalApp::render);
  connect(notifications_, &DesktopNotifications::action_invoked, this,
          &PortalApp::on_notification_action);
  connect(notifications_, &DesktopNotifications::became_available, this,
          [this] { notify(link_->state()); });
  connect(window_.get(), &PortalWindow::answer, this, &PortalApp::answer_request);
  connect(window_.get(), &PortalWindow::join_code, this, [this](const QString& code) {
    send("joinCode", {{"code", code}}, [this](const QJsonObject& r) {
      window_->show_feedback(r.value("ok").toBool()
                                 ? tr("Connected. The supporter will ask to see your screen.")
                                 : refusal(r),
                             !r.value("ok").toBool());
    });
  });
  connect(window_.get(), &PortalWindow::end_session, this, [this] {
    send("end", {}, [this](const QJsonObject& r) {
      if (!r.value("ok").toBool()) window_->show_feedback(refusal(r), true);
    });
  });
  connect(window_.get(), &PortalWindow::language_chosen, this, [this](const QString& code) {
    QSettings().setValue("language", code);
    set_language(code);
  });
  connect(dialog_.get(), &AllowDialog::answered, this, [this](const QString& how) {
    QString cmd = how == "deny" ? "deny" : "allow";
    send(cmd, {{"viewOnly", how == "allowViewOnly"}}, [this](const QJsonObject& r) {
      if (!r.value("ok").toBool()) dialog_->show_error(refusal(r));
    });
  });
  connect(bar_.get(), &SessionBar::end_requested, this, [this] {
    send("end", {}, [this](const QJsonObject& r) {
      if (!r.value("ok").toBool()) bar_->show_error(refusal(r));
    });
  });
  connect(bar_.get(), &SessionBar::view_only_requested, this, [this] {
    send("viewOnly", {}, [this](const QJsonObject& r) {
      if (!r.value("ok").toBool()) bar_->show_error(refusal(r));
    });
  });

  tray_ = new QSystemTrayIcon(this);
  tray_->setContextMenu(menu_.get());
  connect(tray_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason r) {
    if (r == QSystemTrayIcon::Trigger || r == QSystemTrayIcon::DoubleClick) open_window();
  });
  set_language(language);
}

PortalApp::~PortalApp() = default;

void PortalApp::start(bool show_window) {
  render();
  tray_->show();
  link_->start();
  // Without a tray there is no other way in: the window is the app.
  if (show_window || !QSystemTrayIcon::isSystemTrayAvailable()) open_window();
}

void PortalApp::open_window() {
  window_->show();
  window_->raise();
  window_->activateWindow();
  mark_read_if_seen();
}

void PortalApp::set_language(const QString& code) {
  language_ = code;
  qApp->removeTranslator(&translator_);
  const QLocale locale = code.isEmpty() ? QLocale::system() : QLocale(code);
  // Any Norwegian (nb, no, nn) reads the Bokmål catalogue; every other language English (its
  // catalogue holds only the plural forms of the source texts).
  const bool norwegian = locale.language() == QLocale::NorwegianBokmal ||
                         locale.language() == QLocale::NorwegianNynorsk;
  if (translator_.load(norwegian ? ":/i18n/reach-portal_nb.qm" : ":/i18n/reach-portal_en.qm"))
    qApp->installTranslator(&translator_);
  QLocale::setDefault(locale);  // dates and times as the person reads them
  window_->set_language(code);
  render();
}

void PortalApp::send(const QString& cmd, QJsonObject args,
                     std::function<void(const QJsonObject&)> done) {
  args["cmd"] = cmd;
  link_->command(std::move(args), std::move(done));
}

void PortalApp::answer_request(const QString& id, bool accept) {
  send(accept ? "accept" : "decline", {{"id", id}}, [this, accept](const QJsonObject& r) {
    if (!r.value("ok").toBool())
      window_->show_feedback(refusal(r), true);
    else
      window_->show_feedback(accept ? tr("Accepted. Waiting for the supporter to connect.")
                                    : tr("Declined. Nobody will connect."),
                             false);
  });
  notifications_->close(id);
}

void PortalApp::on_notification_action(const QString& id, const QString& action) {
  if (action == "accept" || action == "decline") {
    answer_request(id, action == "accept");
    return;
  }
  open_window();
  window_->show_request(id);
}

void PortalApp::mark_read_if_seen() {
  // Custom notifications count as read once the person has the window in front of them.
  if (!window_->isVisible()) return;
  for (const auto& v : link_->state().value("notifications").toArray()) {
    const QJsonObject n = v.toObject();
    if (n.value("kind").toString() != "remoteAssistanceRequest" && !n.value("read").toBool()) {
      send("notifications", {}, {});
      return;
    }
  }
}

void PortalApp::notify(const QJsonObject& state) {
  QStringList keep;
  // A session that ends while the portal runs is said once on the screen too (why and when); one
  // that had ended before the portal started is only in the window.
  const QJsonObject session = state.value("session").toObject();
  const QString s = session.value("state").toString();
  const QString ended_at = session.value("endedDateTime").toString();
  if (s == "ended" && !ended_at.isEmpty() && (ended_notice_ == ended_at || session_seen_open_)) {
    session_seen_open_ = false;
    ended_notice_ = ended_at;
    notifications_->show("session-ended-" + ended_at, session_ended_title(),
                         session_sentence(session), {}, false);
    keep << "session-ended-" + ended_at;
  } else if (s == "allowed" || s == "active") {
    session_seen_open_ = true;
  }
  for (const auto& v : state.value("notifications").toArray()) {
    const QJsonObject n = v.toObject();
    const QString id = n.value("id").toString();
    if (n.value("kind").toString() == "remoteAssistanceRequest") {
      if (!n.value("answer").toString().isEmpty() || n.value("expired").toBool()) continue;
      QString body = request_body();
      if (QString by = requested_by(n); !by.isEmpty()) body += "\n" + by;
      notifications_->show(id, request_summary(), body,
                           {{"accept", tr("Accept")}, {"decline", tr("Decline")}}, true);
    } else {
      if (n.value("read").toBool()) continue;
      notifications_->show(id, n.value("title").toString(), n.value("body").toString(), {}, false);
    }
    keep << id;
  }
  notifications_->close_all_but(keep);
}

void PortalApp::render() {
  const QJsonObject& state = link_->state();
  const bool running = link_->connected();
  const QJsonObject session = state.value("session").toObject();
  const int waiting = state.value("unread").toInt();
  const bool sharing = shares_screen(session);

  window_->render(state, running);

  QString tip = app_name() + "\n" + waiting_count(waiting);
  if (sharing) tip += "\n" + indicator_sentence(session);
  if (!running) tip = app_name() + "\n" + refusal({{"reason", "agentNotRunning"}});
  tray_->setIcon(tray_icon(waiting, sharing));
  tray_->setToolTip(tip);
  menu_->clear();
  menu_->addAction(tr("Open Company Portal"), this, &PortalApp::open_window);
  menu_->addAction(tr("Get help with a code…"), this, [this] {
    open_window();
    window_->focus_code_entry();
  });
  if (sharing) menu_->addAction(tr("End session"), bar_.get(), &SessionBar::end_requested);
  menu_->addSeparator();
  menu_->addAction(tr("Quit"), qApp, &QApplication::quit);

  notify(state);

  if (session.value("state").toString() == "askingToAllow") {
    dialog_->render(session);
    if (!dialog_->isVisible()) {
      dialog_->show();
      dialog_->raise();
      dialog_->activateWindow();
    }
  } else {
    dialog_->hide();
  }

  if (sharing) {
    bar_->render(session);
    bar_->show();
  } else {
    bar_->hide();
  }
  mark_read_if_seen();
}

}  // namespace reach::portal
