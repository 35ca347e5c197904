#include "portal/agent_link.h"

#include <QJsonDocument>

namespace reach::portal {

namespace {

// The agent's lines are at most a few MiB (every stored notification); more is not the agent.
constexpr qsizetype kMaxLine = 16 * 1024 * 1024;
constexpr int kCommandTimeoutMs = 10000;

QJsonObject failure(const QString& message) {
  return {{"ok", false}, {"error", message}, {"reason", "agentNotRunning"}};
}

}  // namespace

AgentLink::AgentLink(QString socket_path, QObject* parent)
    : QObject(parent), path_(std::move(socket_path)) {
  retry_.setInterval(1000);
  retry_.setSingleShot(true);
  connect(&retry_, &QTimer::timeout, this, &AgentLink::subscribe);
  connect(&subscription_, &QLocalSocket::connected, this,
          [this] { subscription_.write("{\"cmd\":\"subscribe\"}\n"); });
  connect(&subscription_, &QLocalSocket::readyRead, this, &AgentLink::read_lines);
  connect(&subscription_, &QLocalSocket::disconnected, this, &AgentLink::lost);
  connect(&subscription_, &QLocalSocket::errorOccurred, this, [this] {
    if (subscription_.state() != QLocalSocket::ConnectedState) lost();
  });
}

void AgentLink::start() {
  subscribe();
}

void AgentLink::subscribe() {
  buffer_.clear();
  subscription_.abort();
  subscription_.connectToServer(path_);
}

void AgentLink::read_lines() {
  buffer_ += subscription_.readAll();
  qsizetype nl;
  std::optional<QJsonObject> latest;
  while ((nl = buffer_.indexOf('\n')) >= 0) {
    QByteArray line = buffer_.left(nl);
    buffer_.remove(0, nl + 1);
    auto doc = QJsonDocument::fromJson(line);
    if (!doc.isObject() || !doc.object().value("ok").toBool()) continue;
    latest = doc.object();
  }
  if (buffer_.size() > kMaxLine) {
    subscription_.abort();
    return;
  }
  if (!latest) return;  // only the newest snapshot matters
  state_ = *latest;
  if (!connected_) {
    connected_ = true;
    emit connected_changed(true);
  }
  emit state_changed(state_);
}

void AgentLink::lost() {
  if (connected_) {
    connected_ = false;
    state_ = {};
    emit connected_changed(false);
    emit state_changed(state_);
  }
  if (!retry_.isActive()) retry_.start();
}

void AgentLink::command(QJsonObject request, std::function<void(const QJsonObject&)> done) {
  auto* socket = new QLocalSocket(this);
  auto* timer = new QTimer(socket);
  const QString no_answer = tr("The company portal's service did not answer.");
  const QString garbled = tr("The company portal's service gave an answer the app cannot read.");
  const QString not_running = tr("The company portal's service is not running.");
  auto buffer = std::make_shared<QByteArray>();
  auto finished = std::make_shared<bool>(false);
  auto finish = [socket, done, finished](const QJsonObject& answer) {
    if (*finished) return;
    *finished = true;
    if (done) done(answer);
    socket->deleteLater();
  };
  // The answer is one line; the agent closes the connection after it, so what was read is
  // looked at again when the socket reports its end.
  auto take_answer = [socket, buffer, finish, garbled] {
    *buffer += socket->readAll();
    qsizetype nl = buffer->indexOf('\n');
    if (nl < 0) return false;
    auto doc = QJsonDocument::fromJson(buffer->left(nl));
    finish(doc.isObject() ? doc.object() : failure(garbled));
    return true;
  };
  timer->setSingleShot(true);
  connect(timer, &QTimer::timeout, socket, [finish, no_answer] { finish(failure(no_answer)); });
  connect(socket, &QLocalSocket::connected, socket, [socket, request] {
    socket->write(QJsonDocument(request).toJson(QJsonDocument::Compact) + '\n');
  });
  connect(socket, &QLocalSocket::readyRead, socket, take_answer);
  connect(socket, &QLocalSocket::errorOccurred, socket, [take_answer, finish, not_running] {
    if (!take_answer()) finish(failure(not_running));
  });
  timer->start(kCommandTimeoutMs);
  socket->connectToServer(path_);
}

}  // namespace reach::portal
