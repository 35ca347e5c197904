// "Allow this session to start?": shown on top of every window when the supporter has
// connected (the agent's session is askingToAllow). It names who asks, counts down to the
// agent's deadline (no answer is Deny, decided by the agent), and answers with Full control,
// View only or Deny; Escape or closing the window is Deny. It closes itself when the agent's
// session leaves askingToAllow, whoever answered.
//
// The supporter cannot answer it: the agent injects no remote input before the person allows
// (agent::Consent), so the dialog only takes the local keyboard and pointer.
#pragma once

#include <QDateTime>
#include <QDialog>
#include <QJsonObject>

class QLabel;
class QPushButton;
class QTimer;

namespace reach::portal {

class AllowDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AllowDialog(QWidget* parent = nullptr);

  // The session as the agent describes it (askingToAllow).
  void render(const QJsonObject& session);
  // Shows the agent's refusal of the answer (e.g. the session ended meanwhile).
  void show_error(const QString& message);

 signals:
  void answered(const QString& answer);  // "allow", "allowViewOnly" or "deny"

 protected:
  void reject() override;  // Escape and the window's close button
  void hideEvent(QHideEvent* event) override;

 private:
  void answer(const QString& how);
  void tick();

  QLabel* heading_;
  QLabel* who_;
  QLabel* explain_;
  QLabel* code_;  // the verification code (hidden before the handshake has one)
  QLabel* code_hint_;
  QLabel* countdown_;
  QLabel* error_;
  QPushButton* control_;
  QPushButton* view_only_;
  QPushButton* deny_;
  QTimer* timer_;
  QDateTime answer_by_;
  QJsonObject session_;
};

}  // namespace reach::portal
