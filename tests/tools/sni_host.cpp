// A StatusNotifierItem host for the tests, the part of a desktop panel that shows tray icons
// (freedesktop StatusNotifierItem spec, KDE's org.kde.StatusNotifierWatcher): it owns the
// watcher's name on the session bus, accepts items' registrations, and for every item it reads
// the icon and tooltip as a panel would, each time the item says they changed. It prints
//   ready
//   item SERVICE
//   tooltip TEXT            (the tooltip's title, one line, newlines as " | ")
//   icon FILE               (the item's largest icon pixmap, written as a PNG)
// on standard output. Reach's own code is not linked in: this is the desktop's side.
//   reach_test_sni_host --out DIR
#include <QCoreApplication>
#include <QDBusAbstractAdaptor>
#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusVariant>
#include <QImage>
#include <QStringList>
#include <QTimer>

#include <cstdio>
#include <functional>
#include <map>

namespace {

void say(const QString& line) {
  std::printf("%s\n", line.toUtf8().constData());
  std::fflush(stdout);
}

struct Pixmap {
  int w = 0, h = 0;
  QByteArray argb;  // network byte order ARGB32
};

QList<Pixmap> read_pixmaps(const QDBusArgument& arg) {
  QList<Pixmap> out;
  arg.beginArray();
  while (!arg.atEnd()) {
    Pixmap p;
    arg.beginStructure();
    arg >> p.w >> p.h >> p.argb;
    arg.endStructure();
    out << p;
  }
  arg.endArray();
  return out;
}

// Properties are read asynchronously: the item may itself be in a blocking call to this watcher
// (Qt introspects it while registering), and a host that blocked on the item would hold both up.
void get(QObject* owner, const QString& service, const QString& path, const QString& prop,
         std::function<void(const QDBusVariant&)> then) {
  auto m = QDBusMessage::createMethodCall(service, path, "org.freedesktop.DBus.Properties", "Get");
  m << QStringLiteral("org.kde.StatusNotifierItem") << prop;
  auto* w = new QDBusPendingCallWatcher(QDBusConnection::sessionBus().asyncCall(m, 5000), owner);
  QObject::connect(w, &QDBusPendingCallWatcher::finished, owner,
                   [w, then = std::move(then)](QDBusPendingCallWatcher*) {
                     w->deleteLater();
                     QDBusPendingReply<QDBusVariant> r = *w;
                     if (r.isError()) return;
                     then(r.value());
                   });
}

class Watcher : public QObject {
  Q_OBJECT
  Q_CLASSINFO("D-Bus Interface", "org.kde.StatusNotifierWatcher")
  Q_PROPERTY(QStringList RegisteredStatusNotifierItems READ items)
  Q_PROPERTY(bool IsStatusNotifierHostRegistered READ host_registered)
  Q_PROPERTY(int ProtocolVersion READ protocol_version)

 public:
  explicit Watcher(QString out) : out_(std::move(out)) {}
  QStringList items() const { return items_; }
  bool host_registered() const { return true; }
  int protocol_version() const { return 0; }

 public Q_SLOTS:
  void RegisterStatusNotifierItem(const QString& service, const QDBusMessage& message) {
    // Qt registers its bus name; others may pass a path on their own connection.
    QString name = service.startsWith('/') ? message.service() : service;
    QString path = service.startsWith('/') ? service : QStringLiteral("/StatusNotifierItem");
    QString id = name + path;
    if (items_.contains(id)) return;
    items_ << id;
    say("item " + name);
    auto bus = QDBusConnection::sessionBus();
    for (const char* sig : {"NewIcon", "NewToolTip", "NewAttentionIcon", "NewStatus"})
      bus.connect(name, path, "org.kde.StatusNotifierItem", sig, this, SLOT(changed()));
    services_[id] = {name, path};
    read(name, path);
    Q_EMIT StatusNotifierItemRegistered(id);
  }
  void RegisterStatusNotifierHost(const QString&) {}

 Q_SIGNALS:
  void StatusNotifierItemRegistered(const QString& id);
  void StatusNotifierHostRegistered();

 private Q_SLOTS:
  // QtDBus does not tell a plain slot which item sent the signal: every item is read again.
  void changed() {
    for (const auto& [id, item] : services_) read(item.first, item.second);
  }

 private:
  void read(const QString& service, const QString& path) {
    get(this, service, path, "ToolTip", [this](const QDBusVariant& tip) { show_tip(tip); });
    get(this, service, path, "IconPixmap", [this](const QDBusVariant& pix) { show_icon(pix); });
  }

  void show_tip(const QDBusVariant& tip) {
    QString title;
    if (tip.variant().canConvert<QDBusArgument>()) {
      const QDBusArgument a = tip.variant().value<QDBusArgument>();
      QString icon_name, sub;
      a.beginStructure();
      a >> icon_name;
      (void)read_pixmaps(a);
      a >> title >> sub;
      a.endStructure();
    }
    if (title != last_tip_) {
      last_tip_ = title;
      say("tooltip " + QString(title).replace('\n', " | "));
    }
  }

  void show_icon(const QDBusVariant& pix) {
    if (!pix.variant().canConvert<QDBusArgument>()) return;
    auto pixmaps = read_pixmaps(pix.variant().value<QDBusArgument>());
    const Pixmap* best = nullptr;
    for (const auto& p : pixmaps)
      if (!best || p.w > best->w) best = &p;
    if (!best || best->argb.size() < best->w * best->h * 4 || best->argb == last_icon_) return;
    last_icon_ = best->argb;
    QImage img(best->w, best->h, QImage::Format_ARGB32);
    const auto* src = reinterpret_cast<const uchar*>(best->argb.constData());
    for (int y = 0; y < best->h; ++y)
      for (int x = 0; x < best->w; ++x) {
        const uchar* p = src + (y * best->w + x) * 4;
        img.setPixel(x, y, qRgba(p[1], p[2], p[3], p[0]));
      }
    QString file = QString("%1/tray-icon-%2.png").arg(out_).arg(++icons_);
    img.save(file);
    say("icon " + file);
  }

  QString out_;
  QStringList items_;
  std::map<QString, std::pair<QString, QString>> services_;
  QString last_tip_;
  QByteArray last_icon_;
  int icons_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  QString out = ".";
  auto args = app.arguments();
  if (int i = args.indexOf("--out"); i >= 0 && i + 1 < args.size()) out = args[i + 1];
  Watcher watcher(out);
  auto bus = QDBusConnection::sessionBus();
  if (!bus.isConnected()) {
    std::fprintf(stderr, "sni_host: no session bus\n");
    return 1;
  }
  if (!bus.registerObject("/StatusNotifierWatcher", &watcher,
                          QDBusConnection::ExportAllSlots | QDBusConnection::ExportAllSignals |
                              QDBusConnection::ExportAllProperties) ||
      !bus.registerService("org.kde.StatusNotifierWatcher")) {
    std::fprintf(stderr, "sni_host: cannot own org.kde.StatusNotifierWatcher\n");
    return 1;
  }
  say("ready");
  return app.exec();
}

#include "sni_host.moc"
