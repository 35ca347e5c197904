#include "portal/session_bar.h"

#include "portal/icon.h"
#include "portal/texts.h"

#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScreen>

namespace reach::portal {

SessionBar::SessionBar(QWidget* parent) : QWidget(parent) {
  setObjectName("sessionBar");
  // A tool window: no taskbar entry, kept above the others, no frame to drag it by. It never
  // takes the keyboard (a window manager would give it the focus when the Allow dialog closes,
  // and the supporter's typed spaces would press its buttons), and the window manager does not
  // place it: it stays where it puts itself, centred at the top. The portal window's End session
  // is there for the keyboard.
  setWindowFlags(Qt::Tool | Qt::FramelessWindowHint | Qt::WindowStaysOnTopHint |
                 Qt::WindowDoesNotAcceptFocus | Qt::X11BypassWindowManagerHint);
  setWindowIcon(app_icon());
  setAttribute(Qt::WA_ShowWithoutActivating);
  setStyleSheet(
      "#sessionBar { background: #c43e1c; }"
      "#sessionBar QLabel { color: white; font-weight: bold; }"
      "#sessionBar QPushButton { background: white; color: #1b1b1b; border: 1px solid white;"
      " border-radius: 4px; padding: 4px 12px; }"
      "#sessionBar QPushButton:focus { border: 2px solid #1b1b1b; }");
  setAttribute(Qt::WA_StyledBackground);
  dot_ = new QLabel;
  dot_->setPixmap(tray_icon(0, true).pixmap(20, 20));
  text_ = new QLabel;
  text_->setTextFormat(Qt::PlainText);
  view_only_ = new QPushButton;
  end_ = new QPushButton;
  connect(end_, &QPushButton::clicked, this, [this] {
    end_->setEnabled(false);
    emit end_requested();
  });
  connect(view_only_, &QPushButton::clicked, this, [this] {
    view_only_->setEnabled(false);
    emit view_only_requested();
  });
  auto* layout = new QHBoxLayout(this);
  layout->setContentsMargins(12, 6, 8, 6);
  layout->addWidget(dot_);
  layout->addWidget(text_, 1);
  layout->addSpacing(16);
  layout->addWidget(view_only_);
  layout->addWidget(end_);
}

void SessionBar::render(const QJsonObject& session) {
  setWindowTitle(tr("Remote assistance session"));
  text_->setText(indicator_sentence(session));
  view_only_->setText(tr("&View only"));
  view_only_->setAccessibleName(tr("View only"));
  view_only_->setToolTip(tr("Stop the supporter's control: they can still see the screen."));
  end_->setText(tr("&End session"));
  end_->setAccessibleName(tr("End session"));
  view_only_->setVisible(!session.value("viewOnly").toBool());
  view_only_->setEnabled(true);
  end_->setEnabled(true);
  adjustSize();
  if (isVisible()) place();
}

void SessionBar::show_error(const QString& message) {
  text_->setText(message);
  end_->setEnabled(true);
  view_only_->setEnabled(true);
}

void SessionBar::showEvent(QShowEvent* event) {
  place();
  QWidget::showEvent(event);
}

void SessionBar::place() {
  QScreen* screen = QGuiApplication::primaryScreen();
  if (!screen) return;
  QRect area = screen->availableGeometry();
  adjustSize();
  move(area.x() + (area.width() - width()) / 2, area.y());
}

}  // namespace reach::portal
