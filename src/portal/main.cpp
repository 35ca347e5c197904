// reach-portal: the company portal's desktop app, a view of the running reach-agent.
//   reach-portal [--state DIR] [--show] [--language en|nb]
// One per user and state directory: starting it again brings the running one's window up.
#include "portal/portal_app.h"
#include "portal/single_instance.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QSettings>

namespace {

QString default_state_dir() {
  QString x = qEnvironmentVariable("XDG_STATE_HOME");
  if (!x.isEmpty()) return x + "/reach-agent";
  QString home = qEnvironmentVariable("HOME");
  return home.isEmpty() ? QString() : home + "/.local/state/reach-agent";
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("Reach");
  QApplication::setApplicationName("reach-portal");
  QApplication::setApplicationVersion(REACH_VERSION);
  QApplication::setDesktopFileName("reach-portal");
  // The window closes to the tray; the app ends from the tray's menu (or with the session).
  QApplication::setQuitOnLastWindowClosed(false);

  QCommandLineParser cli;
  cli.setApplicationDescription("The company portal: notifications and remote assistance.");
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption state({"s", "state"}, "The agent's state directory (as reach-agent --state).",
                           "DIR", default_state_dir());
  QCommandLineOption show("show", "Open the window at once (otherwise only the tray icon).");
  QCommandLineOption language("language",
                              "en or nb (default: as chosen in the app, else the "
                              "system's).",
                              "CODE");
  cli.addOptions({state, show, language});
  cli.process(app);
  const QString dir = QDir(cli.value(state)).absolutePath();
  if (cli.value(state).isEmpty()) {
    qCritical("reach-portal: --state is required (no $HOME or $XDG_STATE_HOME)");
    return 2;
  }

  // One instance per user and agent: a second start asks the first to show its window.
  const auto instance =
      reach::portal::instance_socket(qEnvironmentVariable("XDG_RUNTIME_DIR"), dir);
  if (!instance.warning.isEmpty()) qWarning("reach-portal: %s", qPrintable(instance.warning));
  reach::portal::InstanceServer single;
  if (!instance.path.isEmpty()) {
    if (reach::portal::ask_running_instance(instance.path) == reach::portal::Handover::shown)
      return 0;
    if (!single.listen(instance.path))
      qWarning("reach-portal: running without single-instance: %s", qPrintable(single.error()));
  }

  QString lang =
      cli.isSet(language) ? cli.value(language) : QSettings().value("language").toString();
  reach::portal::PortalApp portal(dir + "/control.sock", lang);
  QObject::connect(&single, &reach::portal::InstanceServer::show_requested, &portal,
                   &reach::portal::PortalApp::open_window);
  portal.start(cli.isSet(show));
  return app.exec();
}
