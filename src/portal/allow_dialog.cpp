#include "portal/allow_dialog.h"

#include "portal/icon.h"
#include "portal/texts.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

namespace reach::portal {

AllowDialog::AllowDialog(QWidget* parent) : QDialog(parent) {
  setObjectName("allowDialog");
  setWindowFlags(Qt::Dialog | Qt::WindowStaysOnTopHint | Qt::WindowTitleHint |
                 Qt::WindowCloseButtonHint);
  setWindowIcon(app_icon());
  heading_ = new QLabel;
  QFont big = heading_->font();
  big.setPointSizeF(big.pointSizeF() * 1.3);
  big.setBold(true);
  heading_->setFont(big);
  who_ = new QLabel;
  who_->setWordWrap(true);
  who_->setTextFormat(Qt::PlainText);
  explain_ = new QLabel;
  explain_->setWordWrap(true);
  // The end-to-end encryption's verification code, large enough to read out, and what to do
  // with it (docs/session-security.md).
  code_ = new QLabel;
  code_->setObjectName("verificationCode");
  code_->setTextFormat(Qt::PlainText);
  code_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont mono = code_->font();
  mono.setPointSizeF(mono.pointSizeF() * 1.6);
  mono.setBold(true);
  mono.setLetterSpacing(QFont::AbsoluteSpacing, 2);
  code_->setFont(mono);
  code_hint_ = new QLabel;
  code_hint_->setWordWrap(true);
  code_hint_->setTextFormat(Qt::PlainText);
  countdown_ = new QLabel;
  error_ = new QLabel;
  error_->setWordWrap(true);
  error_->setStyleSheet("color: #b10e1c;");
  error_->hide();
  control_ = new QPushButton;
  view_only_ = new QPushButton;
  deny_ = new QPushButton;
  // Enter denies: the safe answer is the default one.
  deny_->setDefault(true);
  deny_->setAutoDefault(true);
  connect(control_, &QPushButton::clicked, this, [this] { answer("allow"); });
  connect(view_only_, &QPushButton::clicked, this, [this] { answer("allowViewOnly"); });
  connect(deny_, &QPushButton::clicked, this, [this] { answer("deny"); });

  auto* buttons = new QHBoxLayout;
  buttons->addStretch();
  buttons->addWidget(control_);
  buttons->addWidget(view_only_);
  buttons->addWidget(deny_);
  auto* icon = new QLabel;
  icon->setPixmap(app_icon().pixmap(48, 48));
  icon->setAlignment(Qt::AlignTop);
  auto* text = new QVBoxLayout;
  text->addWidget(heading_);
  text->addWidget(who_);
  text->addWidget(explain_);
  text->addWidget(code_);
  text->addWidget(code_hint_);
  text->addWidget(countdown_);
  text->addWidget(error_);
  auto* top = new QHBoxLayout;
  top->addWidget(icon);
  top->addLayout(text, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addSpacing(8);
  layout->addLayout(buttons);
  setMinimumWidth(520);

  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, &AllowDialog::tick);
}

void AllowDialog::render(const QJsonObject& session) {
  if (!isVisible()) {  // a new question: nothing answered yet
    for (auto* b : {control_, view_only_, deny_}) b->setEnabled(true);
    error_->hide();
  }
  session_ = session;
  setWindowTitle(tr("Allow this session to start?"));
  heading_->setText(tr("Allow this session to start?"));
  who_->setText(tr("%1 is connected and wants to see this screen.").arg(supporter_name(session)));
  explain_->setText(
      tr("Full control lets them use this device's mouse and keyboard. View only lets them see "
         "the screen but not use it. Nothing is shared until you choose."));
  control_->setText(tr("&Full control"));
  view_only_->setText(tr("&View only"));
  deny_->setText(tr("&Deny"));
  control_->setAccessibleName(tr("Full control"));
  view_only_->setAccessibleName(tr("View only"));
  deny_->setAccessibleName(tr("Deny"));
  const QString code = session.value("verificationCode").toString();
  code_->setVisible(code.size() == 6);
  code_hint_->setVisible(code.size() == 6);
  if (code.size() == 6) {
    code_->setText(tr("Code: %1 %2").arg(code.left(3), code.mid(3)));
    code_->setAccessibleName(tr("Verification code %1").arg(code));
    // A session started by a code the user typed has no organisation behind it to vouch for
    // the other end: comparing the codes is then the only check.
    code_hint_->setText(
        session.value("notificationId").toString().isEmpty()
            ? tr("This session was started with a code, not by your organisation, so comparing "
                 "codes is what protects you: ask %1 to read out the code on their screen. If it "
                 "is different, choose Deny.")
                  .arg(supporter_name(session))
            : tr("Ask %1 to read out the code on their screen. If it is different, choose Deny: "
                 "someone may be between you.")
                  .arg(supporter_name(session)));
  }
  answer_by_ = QDateTime::fromString(session.value("answerByDateTime").toString(), Qt::ISODate);
  tick();
  if (!timer_->isActive()) timer_->start();
}

void AllowDialog::show_error(const QString& message) {
  error_->setText(message);
  error_->show();
  for (auto* b : {control_, view_only_, deny_}) b->setEnabled(true);
}

void AllowDialog::tick() {
  if (!answer_by_.isValid()) {
    countdown_->clear();
    return;
  }
  qint64 left = qMax<qint64>(0, QDateTime::currentDateTimeUtc().secsTo(answer_by_));
  countdown_->setText(tr("If you do not answer, the session is denied in %1:%2.")
                          .arg(left / 60)
                          .arg(left % 60, 2, 10, QLatin1Char('0')));
}

void AllowDialog::answer(const QString& how) {
  for (auto* b : {control_, view_only_, deny_}) b->setEnabled(false);
  error_->hide();
  emit answered(how);
}

void AllowDialog::hideEvent(QHideEvent* event) {
  timer_->stop();
  QDialog::hideEvent(event);
}

void AllowDialog::reject() {
  if (deny_->isEnabled()) answer("deny");
}

}  // namespace reach::portal
