// The company portal's window: what waits for the person (the newest notification and every
// request still waiting, with Accept and Decline; older ones folded into a history), the session in
// progress, "Get help with a code" (the code a supporter reads out, SPEC §3.7), this device's
// enrollment, and the language.
//
// A view of the agent's snapshot (render()); the person's choices go out as signals.
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QWidget>

class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QScrollArea;
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
  // Brings the request `id` into view with its Accept button focused (the notification's own
  // action: "open the request"); nothing when it is no longer waiting.
  void show_request(const QString& id);
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
  QWidget* notification_row(const QJsonObject& notification);

  QLabel* status_;
  QLabel* feedback_;
  QGroupBox* waiting_box_;
  QVBoxLayout* waiting_list_;
  QLabel* nothing_waiting_;
  QByteArray waiting_key_;  // what the list shows, to rebuild it only when that changes
  QHash<QString, QPushButton*> requests_;  // waiting request → its Accept button
  QPushButton* history_toggle_;
  QWidget* history_;
  QVBoxLayout* history_list_;
  bool history_open_ = false;
  QScrollArea* scroll_;
  QGroupBox* session_box_;
  QLabel* session_text_;
  QPushButton* end_;
  QGroupBox* code_box_;
  QLabel* code_help_;
  QLineEdit* code_;
  QPushButton* connect_;
  QGroupBox* device_box_;
  QFormLayout* device_form_;
  QPushButton* details_toggle_;
  QWidget* details_;
  QFormLayout* details_form_;
  bool details_open_ = false;
  QLabel* language_label_;
  QComboBox* language_;
  QJsonObject state_;
  bool running_ = false;
};

}  // namespace reach::portal
