// The company portal's window: what waits for the person (notifications, with Accept and Decline
// for remote assistance requests), the session in progress, "Get help with a code" (the code a
// supporter reads out, SPEC §3.7), this device's enrollment, and the language.
//
// A view of the agent's snapshot (render()); the person's choices go out as signals.
#pragma once

#include <QJsonObject>
#include <QWidget>

class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QVBoxLayout;

namespace reach::portal {

class PortalWindow : public QWidget {
  Q_OBJECT
 public:
  explicit PortalWindow(QWidget* parent = nullptr);

  // `state`: the agent's snapshot, or empty when the agent is not running.
  void render(const QJsonObject& state, bool agent_running);
  void focus_code_entry();
  // The result of the last answer or code the person gave ("" clears it).
  void show_feedback(const QString& message, bool error);
  // The languages offered: the code ("" = the system's) the selector shows.
  void set_language(const QString& code);

 signals:
  void answer(const QString& notification_id, bool accept);
  void join_code(const QString& code);
  void end_session();
  void language_chosen(const QString& code);

 private:
  void render_notifications(const QJsonArray& list);
  void render_device(const QJsonObject& state);

  QLabel* status_;
  QLabel* feedback_;
  QGroupBox* waiting_box_;
  QVBoxLayout* waiting_list_;
  QLabel* nothing_waiting_;
  QByteArray waiting_key_;  // what the list shows, to rebuild it only when that changes
  QGroupBox* session_box_;
  QLabel* session_text_;
  QPushButton* end_;
  QGroupBox* code_box_;
  QLabel* code_help_;
  QLineEdit* code_;
  QPushButton* connect_;
  QGroupBox* device_box_;
  QFormLayout* device_form_;
  QLabel* language_label_;
  QComboBox* language_;
  QJsonObject state_;
  bool running_ = false;
};

}  // namespace reach::portal
