// Finds a control on the screen the way assistive technology does: over AT-SPI (the
// accessibility bus the session bus hands out), by its role and its accessible name, the words a
// person reads. Prints the centre of its on-screen extents, "X Y", for xdotool to click.
//   reach_test_a11y_find --role "push button" --name "View only" [--timeout-ms 10000]
//                        [--app xfce4-notifyd]
// --app looks only in the application of that accessible name (e.g. the notification server's
// Accept, not the portal window's).
// Exit status 1 when nothing matched in time. Reach's own code is not linked in.
#include <QCoreApplication>
#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QElapsedTimer>
#include <QRect>
#include <QThread>

#include <cstdio>
#include <optional>

namespace {

struct Ref {
  QString service;
  QString path;
};

QDBusMessage call(QDBusConnection& bus, const Ref& r, const QString& iface, const QString& method,
                  const QVariantList& args = {}) {
  auto m = QDBusMessage::createMethodCall(r.service, r.path, iface, method);
  m.setArguments(args);
  return bus.call(m, QDBus::Block, 2000);
}

QList<Ref> children(QDBusConnection& bus, const Ref& r) {
  auto reply = call(bus, r, "org.a11y.atspi.Accessible", "GetChildren");
  QList<Ref> out;
  if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return out;
  const QDBusArgument a = reply.arguments().first().value<QDBusArgument>();
  a.beginArray();
  while (!a.atEnd()) {
    Ref c;
    QDBusObjectPath p;
    a.beginStructure();
    a >> c.service >> p;
    a.endStructure();
    c.path = p.path();
    out << c;
  }
  a.endArray();
  return out;
}

QString name_of(QDBusConnection& bus, const Ref& r) {
  auto reply = call(bus, r, "org.freedesktop.DBus.Properties", "Get",
                    {QStringLiteral("org.a11y.atspi.Accessible"), QStringLiteral("Name")});
  if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty()) return {};
  return reply.arguments().first().value<QDBusVariant>().variant().toString();
}

QString role_of(QDBusConnection& bus, const Ref& r) {
  auto reply = call(bus, r, "org.a11y.atspi.Accessible", "GetRoleName");
  return reply.arguments().isEmpty() ? QString() : reply.arguments().first().toString();
}

// States: bit 24 of the first word is SHOWING (AT-SPI's StateType).
bool showing(QDBusConnection& bus, const Ref& r) {
  auto reply = call(bus, r, "org.a11y.atspi.Accessible", "GetState");
  if (reply.arguments().isEmpty()) return false;
  const QDBusArgument a = reply.arguments().first().value<QDBusArgument>();
  QList<uint> words;
  a >> words;
  return !words.isEmpty() && (words[0] & (1u << 25)) != 0;
}

std::optional<QRect> find(QDBusConnection& bus, const Ref& r, const QString& role,
                          const QString& name, int depth) {
  if (depth > 40) return std::nullopt;
  if (role_of(bus, r) == role && name_of(bus, r) == name && showing(bus, r)) {
    auto e = call(bus, r, "org.a11y.atspi.Component", "GetExtents", {QVariant::fromValue(0u)});
    if (!e.arguments().isEmpty()) {
      const QDBusArgument a = e.arguments().first().value<QDBusArgument>();
      int x, y, w, h;
      a.beginStructure();
      a >> x >> y >> w >> h;
      a.endStructure();
      if (w > 0 && h > 0) return QRect(x, y, w, h);
    }
  }
  for (const auto& c : children(bus, r))
    if (auto found = find(bus, c, role, name, depth + 1)) return found;
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QString role, name, in_app;
  int timeout_ms = 10000;
  auto args = app.arguments();
  for (int i = 1; i + 1 < args.size(); i += 2) {
    if (args[i] == "--role") role = args[i + 1];
    if (args[i] == "--name") name = args[i + 1];
    if (args[i] == "--timeout-ms") timeout_ms = args[i + 1].toInt();
    if (args[i] == "--app") in_app = args[i + 1];
  }
  auto session = QDBusConnection::sessionBus();
  auto addr = session.call(
      QDBusMessage::createMethodCall("org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress"),
      QDBus::Block, 5000);
  if (addr.type() != QDBusMessage::ReplyMessage || addr.arguments().isEmpty()) {
    std::fprintf(stderr, "a11y_find: no accessibility bus: %s\n", qPrintable(addr.errorMessage()));
    return 2;
  }
  auto bus = QDBusConnection::connectToBus(addr.arguments().first().toString(), "a11y");
  const Ref root{"org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root"};
  QElapsedTimer t;
  t.start();
  do {
    QList<Ref> apps{root};
    if (!in_app.isEmpty()) {
      apps.clear();
      for (const auto& a : children(bus, root))
        if (name_of(bus, a) == in_app) apps << a;
    }
    for (const auto& a : apps)
      if (auto r = find(bus, a, role, name, 0)) {
        std::printf("%d %d\n", r->center().x(), r->center().y());
        return 0;
      }
    QThread::msleep(100);
  } while (t.elapsed() < timeout_ms);
  std::fprintf(stderr, "a11y_find: no showing %s named \"%s\"\n", qPrintable(role),
               qPrintable(name));
  return 1;
}
