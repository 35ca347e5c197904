// The session indicator: while a supporter sees the screen, a small bar on top of every window
// at the top of the screen says who ("Ada Admin is controlling this screen"), with End session
// (ends it at once) and, while the supporter has control, View only (drops their control for
// the rest of the session).
#pragma once

#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPushButton;

namespace reach::portal {

class SessionBar : public QWidget {
  Q_OBJECT
 public:
  explicit SessionBar(QWidget* parent = nullptr);

  void render(const QJsonObject& session);
  void show_error(const QString& message);

 signals:
  void end_requested();
  void view_only_requested();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void place();

  QLabel* dot_;
  QLabel* text_;
  QPushButton* view_only_;
  QPushButton* end_;
};

}  // namespace reach::portal
