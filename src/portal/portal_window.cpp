#include "portal/portal_window.h"

#include "portal/icon.h"
#include "portal/texts.h"

#include <QComboBox>
#include <QDateTime>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QRegularExpressionValidator>
#include <QScrollArea>
#include <QVBoxLayout>

namespace reach::portal {

namespace {

QLabel* wrapped(const QString& text = {}) {
  auto* l = new QLabel(text);
  l->setWordWrap(true);
  l->setTextFormat(Qt::PlainText);
  return l;
}

QString when(const QString& iso) {
  auto t = QDateTime::fromString(iso, Qt::ISODate);
  if (!t.isValid()) return {};
  return QLocale().toString(t.toLocalTime(), QLocale::ShortFormat);
}

bool is_request(const QJsonObject& n) {
  return n.value("kind").toString() == "remoteAssistanceRequest";
}

}  // namespace

PortalWindow::PortalWindow(QWidget* parent) : QWidget(parent) {
  setObjectName("portalWindow");
  setWindowIcon(app_icon());
  setMinimumSize(480, 360);

  status_ = wrapped();
  status_->setObjectName("agentStatus");
  feedback_ = wrapped();
  feedback_->hide();

  waiting_box_ = new QGroupBox;
  auto* waiting_layout = new QVBoxLayout(waiting_box_);
  waiting_list_ = new QVBoxLayout;
  nothing_waiting_ = wrapped();
  waiting_list_->addWidget(nothing_waiting_);
  waiting_layout->addLayout(waiting_list_);
  history_toggle_ = new QPushButton;
  history_toggle_->setFlat(true);
  history_toggle_->setStyleSheet("text-align: left;");
  connect(history_toggle_, &QPushButton::clicked, this, [this] {
    history_open_ = !history_open_;
    waiting_key_.clear();
    render_notifications(state_.value("notifications").toArray());
  });
  history_ = new QWidget;
  history_list_ = new QVBoxLayout(history_);
  history_list_->setContentsMargins(0, 0, 0, 0);
  waiting_layout->addWidget(history_toggle_, 0, Qt::AlignLeft);
  waiting_layout->addWidget(history_);

  session_box_ = new QGroupBox;
  session_text_ = wrapped();
  end_ = new QPushButton;
  connect(end_, &QPushButton::clicked, this, &PortalWindow::end_session);
  auto* session_layout = new QHBoxLayout(session_box_);
  session_layout->addWidget(session_text_, 1);
  session_layout->addWidget(end_);

  code_box_ = new QGroupBox;
  code_help_ = wrapped();
  code_ = new QLineEdit;
  code_->setMaxLength(32);
  // Digits, letters and dashes: what a code read out over the phone can hold.
  code_->setValidator(
      new QRegularExpressionValidator(QRegularExpression("[A-Za-z0-9 -]{0,32}"), code_));
  connect_ = new QPushButton;
  auto submit = [this] {
    QString c = code_->text().simplified().remove(' ');
    if (c.isEmpty()) {
      code_->setFocus();
      return;
    }
    connect_->setEnabled(false);
    emit join_code(c);
  };
  connect(connect_, &QPushButton::clicked, this, submit);
  connect(code_, &QLineEdit::returnPressed, this, submit);
  auto* code_row = new QHBoxLayout;
  code_row->addWidget(code_, 1);
  code_row->addWidget(connect_);
  auto* code_layout = new QVBoxLayout(code_box_);
  code_layout->addWidget(code_help_);
  code_layout->addLayout(code_row);

  device_box_ = new QGroupBox;
  auto* device_layout = new QVBoxLayout(device_box_);
  device_form_ = new QFormLayout;
  details_toggle_ = new QPushButton;
  details_toggle_->setFlat(true);
  details_toggle_->setStyleSheet("text-align: left;");
  connect(details_toggle_, &QPushButton::clicked, this, [this] {
    details_open_ = !details_open_;
    render_device(state_);
  });
  details_form_ = new QFormLayout;
  auto* details = new QWidget;
  details->setLayout(details_form_);
  details_form_->setContentsMargins(0, 0, 0, 0);
  details_ = details;
  device_layout->addLayout(device_form_);
  device_layout->addWidget(details_toggle_, 0, Qt::AlignLeft);
  device_layout->addWidget(details_);

  language_label_ = new QLabel;
  language_ = new QComboBox;
  language_label_->setBuddy(language_);
  language_->addItem(QString(), QString());
  language_->addItem(QStringLiteral("English"), QStringLiteral("en"));
  language_->addItem(QStringLiteral("Norsk bokmål"), QStringLiteral("nb"));
  connect(language_, &QComboBox::activated, this,
          [this](int i) { emit language_chosen(language_->itemData(i).toString()); });
  auto* language_row = new QHBoxLayout;
  language_row->addStretch();
  language_row->addWidget(language_label_);
  language_row->addWidget(language_);

  // The sections scroll (a long notification list); the language stays at the bottom.
  auto* content = new QWidget;
  auto* sections = new QVBoxLayout(content);
  sections->addWidget(status_);
  sections->addWidget(feedback_);
  sections->addWidget(session_box_);
  sections->addWidget(waiting_box_);
  sections->addWidget(code_box_);
  sections->addWidget(device_box_);
  sections->addStretch();
  auto* scroll = new QScrollArea;
  scroll_ = scroll;
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(scroll, 1);
  layout->addLayout(language_row);
  resize(620, 660);
  render({}, false);
}

void PortalWindow::set_language(const QString& code) {
  int i = language_->findData(code);
  language_->setCurrentIndex(i < 0 ? 0 : i);
}

void PortalWindow::focus_code_entry() {
  code_->setFocus();
  code_->selectAll();
}

void PortalWindow::show_feedback(const QString& message, bool error) {
  feedback_->setText(message);
  feedback_->setStyleSheet(error ? "color: #b10e1c;" : "");
  feedback_->setVisible(!message.isEmpty());
  if (error) feedback_->setAccessibleDescription(message);
  connect_->setEnabled(true);
}

void PortalWindow::render(const QJsonObject& state, bool agent_running) {
  state_ = state;
  running_ = agent_running;
  setWindowTitle(app_name());
  language_label_->setText(tr("&Language:"));
  language_->setItemText(0, tr("As the system"));
  waiting_box_->setTitle(tr("Notifications"));
  session_box_->setTitle(tr("Remote assistance session"));
  code_box_->setTitle(tr("Get help with a code"));
  device_box_->setTitle(tr("This device"));
  connect_->setText(tr("&Connect"));
  end_->setText(tr("&End session"));
  code_->setPlaceholderText(tr("for example s12-345-678"));
  code_->setAccessibleName(tr("Session code"));

  const QString channel = state.value("channel").toString();
  if (!agent_running)
    status_->setText(
        tr("The company portal's service is not running on this device, so nothing can reach "
           "you. Sign out and in again, or ask your IT administrator."));
  else if (channel == "connecting")
    status_->setText(tr("Connecting to your organisation… Notifications arrive once connected."));
  else
    status_->clear();
  status_->setVisible(!status_->text().isEmpty());

  const QJsonObject session = state.value("session").toObject();
  const QString s = session.value("state").toString();
  // What the last answer led to ("Accepted. Waiting for…") is said until the supporter is
  // there: from then on the dialog, the bar and the session's own sentence speak.
  if (s == "askingToAllow" || s == "allowed" || s == "active" || s == "ended" || s == "denied")
    feedback_->hide();
  const bool open =
      !s.isEmpty() && s != "ended" && s != "denied" && s != "expired" && s != "declined";
  // How the last session ended stays said ("Ada ended the session at 14:02") until the next.
  const bool ended = s == "ended" && !session.value("endedDateTime").toString().isEmpty();
  session_box_->setVisible(open || ended);
  end_->setVisible(open);
  session_text_->setText(session_sentence(session));

  code_help_->setText(
      state.value("codeEntry").toBool()
          ? tr("If someone from IT support is helping you on the phone, type the session code "
               "they read to you. Nothing is shared until you allow it.")
          : tr("Session codes can be used once your IT administrator has set up remote "
               "assistance for this device."));
  const bool can_join = agent_running && state.value("codeEntry").toBool() && !open;
  code_->setEnabled(can_join);
  connect_->setEnabled(can_join);

  render_notifications(state.value("notifications").toArray());
  render_device(state);
}

void PortalWindow::render_notifications(const QJsonArray& list) {
  // Rebuilt only when what it shows changes, so focus and typing are not disturbed by every
  // snapshot; the language is part of what it shows.
  QByteArray key = QJsonDocument(list).toJson(QJsonDocument::Compact) + tr("Accept").toUtf8() +
                   (history_open_ ? "+" : "-");
  if (key == waiting_key_) return;
  waiting_key_ = key;
  for (QVBoxLayout* l : {waiting_list_, history_list_})
    while (l->count() > (l == waiting_list_ ? 1 : 0)) {
      auto* item = l->takeAt(l->count() - 1);
      delete item->widget();
      delete item;
    }
  requests_.clear();
  // The newest (the list comes newest first) and every request still waiting for an answer are
  // shown; the rest, answered or read, fold into the history so that they do not push "Get help
  // with a code" off the window.
  int shown = 0, folded = 0;
  for (const auto& v : list) {
    const QJsonObject n = v.toObject();
    const bool waits =
        is_request(n) && n.value("answer").toString().isEmpty() && !n.value("expired").toBool();
    const bool in_history = shown > 0 && !waits;
    if (in_history) {
      ++folded;
      if (history_open_) history_list_->addWidget(notification_row(n));
    } else {
      waiting_list_->addWidget(notification_row(n));
      ++shown;
    }
  }
  nothing_waiting_->setText(tr("Nothing is waiting for you."));
  nothing_waiting_->setVisible(shown == 0);
  history_toggle_->setText(history_open_ ? tr("Hide history (%1)").arg(folded)
                                         : tr("Show history (%1)").arg(folded));
  history_toggle_->setAccessibleName(history_toggle_->text());
  history_toggle_->setVisible(folded > 0);
  history_->setVisible(history_open_ && folded > 0);
}

QWidget* PortalWindow::notification_row(const QJsonObject& n) {
  const QString id = n.value("id").toString();
  auto* row = new QFrame;
  row->setFrameShape(QFrame::StyledPanel);
  auto* text = new QVBoxLayout;
  auto* title = wrapped(is_request(n) ? request_summary() : n.value("title").toString());
  QFont bold = title->font();
  bold.setBold(true);
  title->setFont(bold);
  text->addWidget(title);
  text->addWidget(wrapped(is_request(n) ? request_body() : n.value("body").toString()));
  if (QString by = requested_by(n); !by.isEmpty()) text->addWidget(wrapped(by));
  auto* meta = wrapped(when(n.value("createdDateTime").toString()));
  meta->setStyleSheet("color: palette(mid);");
  text->addWidget(meta);
  auto* layout = new QHBoxLayout(row);
  layout->addLayout(text, 1);
  if (!is_request(n)) return row;
  const QString given = n.value("answer").toString();
  if (given.isEmpty() && !n.value("expired").toBool()) {
    auto* accept = new QPushButton(tr("Accept"));
    auto* decline = new QPushButton(tr("Decline"));
    accept->setAccessibleDescription(request_summary());
    connect(accept, &QPushButton::clicked, this, [this, id, accept, decline] {
      accept->setEnabled(false);
      decline->setEnabled(false);
      emit answer(id, true);
    });
    connect(decline, &QPushButton::clicked, this, [this, id, accept, decline] {
      accept->setEnabled(false);
      decline->setEnabled(false);
      emit answer(id, false);
    });
    layout->addWidget(accept);
    layout->addWidget(decline);
    requests_.insert(id, accept);
  } else {
    layout->addWidget(new QLabel(given == "accepted"   ? tr("Accepted")
                                 : given == "declined" ? tr("Declined")
                                                       : tr("Expired")));
  }
  return row;
}

void PortalWindow::show_request(const QString& id) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;  // answered or expired meanwhile: the list says so
  QPushButton* accept = it.value();
  // Laid out first, so that the scroll area knows where the row is.
  if (QWidget* content = scroll_->widget()) content->adjustSize();
  scroll_->ensureWidgetVisible(accept->parentWidget());
  accept->setFocus(Qt::OtherFocusReason);
}

void PortalWindow::render_device(const QJsonObject& state) {
  for (QFormLayout* f : {device_form_, details_form_})
    while (f->rowCount() > 0) f->removeRow(0);
  const QJsonObject e = state.value("enrollment").toObject();
  details_toggle_->setVisible(!e.isEmpty());
  details_->setVisible(!e.isEmpty() && details_open_);
  if (e.isEmpty()) {
    device_form_->addRow(wrapped(running_ ? tr("This device is not enrolled.")
                                          : tr("Not known while the service is not running.")));
    return;
  }
  auto add = [](QFormLayout* form, const QString& label, const QString& value) {
    if (value.isEmpty()) return;
    auto* v = wrapped(value);
    v->setTextInteractionFlags(Qt::TextSelectableByMouse);
    form->addRow(label, v);
  };
  // What a person asks first: who manages this device, and whether it is reachable. How (the
  // server's address, the device's ID) is in the details.
  const QString org = e.value("organization").toString();
  add(device_form_, tr("Managed by:"), org.isEmpty() ? tr("Your organisation") : org);
  const QString channel = state.value("channel").toString();
  add(device_form_, tr("Status:"),
      channel == "connected"    ? tr("Connected")
      : channel == "connecting" ? tr("Connecting…")
                                : tr("Not connected: trying again"));
  add(device_form_, tr("Enrolled to:"), e.value("userPrincipalName").toString());
  details_toggle_->setText(details_open_ ? tr("Hide details") : tr("Show details"));
  details_toggle_->setAccessibleName(details_toggle_->text());
  add(details_form_, tr("Server:"), e.value("hubUrl").toString());
  add(details_form_, tr("Device ID:"), e.value("deviceId").toString());
  // The device key's fingerprint, as the hub registered it: what an administrator can compare
  // (docs/session-security.md).
  add(details_form_, tr("Device key:"), e.value("deviceKeyFingerprint").toString());
  QString last = when(e.value("lastSyncDateTime").toString());
  add(details_form_, tr("Last check-in:"), last.isEmpty() ? tr("Not yet") : last);
}

}  // namespace reach::portal
