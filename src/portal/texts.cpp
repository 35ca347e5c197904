#include "portal/texts.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QLocale>

namespace reach::portal {

namespace {

// The context the catalogues file these sentences under (lupdate reads Texts::tr).
struct Texts {
  Q_DECLARE_TR_FUNCTIONS(Texts)
};

QString field(const QJsonObject& o, const char* key) {
  return o.value(key).toString().trimmed();
}

// "14:02" today, else the date too; "" when the agent did not say.
QString ended_at(const QJsonObject& session) {
  const QDateTime t = QDateTime::fromString(field(session, "endedDateTime"), Qt::ISODate);
  if (!t.isValid()) return {};
  const QDateTime local = t.toLocalTime();
  // Minutes are enough (the C locale's short format has seconds too).
  QString time = QLocale().timeFormat(QLocale::ShortFormat).remove(QStringLiteral(":ss"));
  if (local.date() == QDate::currentDate()) return QLocale().toString(local.time(), time);
  return QLocale().toString(local.date(), QLocale::ShortFormat) + " " +
         QLocale().toString(local.time(), time);
}

}  // namespace

QString app_name() {
  return Texts::tr("Company Portal");
}

QString request_summary() {
  return Texts::tr("Remote assistance request");
}

QString request_body() {
  return Texts::tr(
      "Your IT administrator is requesting control of this device for a remote assistance "
      "session.");
}

QString requested_by(const QJsonObject& o) {
  QString who = field(o, "requestedBy"), org = field(o, "organization");
  if (who.isEmpty()) return {};
  if (org.isEmpty()) return Texts::tr("Requested by %1.").arg(who);
  return Texts::tr("Requested by %1, %2.").arg(who, org);
}

QString supporter_name(const QJsonObject& session) {
  QString who = field(session, "requestedBy"), org = field(session, "organization");
  if (!who.isEmpty() && !org.isEmpty()) return Texts::tr("%1 (%2)").arg(who, org);
  if (!who.isEmpty()) return who;
  if (!field(session, "notificationId").isEmpty()) return Texts::tr("Your IT administrator");
  return Texts::tr("The supporter");
}

QString session_sentence(const QJsonObject& session) {
  const QString state = field(session, "state");
  const QString who = supporter_name(session);
  if (state == "accepted" || state == "waitingForSupporter") {
    if (!field(session, "requestedBy").isEmpty())
      return Texts::tr("Waiting for %1 to connect.").arg(who);
    return field(session, "notificationId").isEmpty()
               ? Texts::tr("Waiting for the supporter to connect.")
               : Texts::tr("Waiting for your IT administrator to connect.");
  }
  if (state == "askingToAllow") return Texts::tr("%1 is waiting for your permission.").arg(who);
  if (state == "allowed" || state == "active") return indicator_sentence(session);
  const QString detail = field(session, "detail");
  if (state == "denied") return Texts::tr("You did not allow the session.");
  if (state == "expired") return Texts::tr("The session expired before it started.");
  if (state == "ended") {
    const QString at = ended_at(session);
    if (at.isEmpty()) {
      if (detail == "endedByUser") return Texts::tr("You ended the session.");
      if (detail == "supporterLeft") return Texts::tr("The supporter left the session.");
      if (detail == "e2eFailed")
        return Texts::tr(
            "The session was ended for your safety: what was sent between this device and the "
            "supporter was changed on the way, or someone stood in between.");
      if (detail == "relayLost")
        return Texts::tr(
            "The connection to the remote assistance service was lost, so the session has "
            "ended. A new session is needed to continue.");
      return Texts::tr("The session has ended.");
    }
    if (detail == "endedByUser") return Texts::tr("You ended the session at %1.").arg(at);
    // The relay closes the stream normally when the supporter ends the session in the viewer.
    if (detail == "supporterLeft") return Texts::tr("%1 ended the session at %2.").arg(who, at);
    if (detail == "e2eFailed")
      return Texts::tr(
                 "The session was ended for your safety at %1: what was sent between this device "
                 "and the supporter was changed on the way, or someone stood in between.")
          .arg(at);
    if (detail == "relayLost")
      return Texts::tr(
                 "The connection to the remote assistance service was lost at %1, so the session "
                 "has ended. A new session is needed to continue.")
          .arg(at);
    return Texts::tr("The session ended at %1.").arg(at);
  }
  return {};
}

QString indicator_sentence(const QJsonObject& session) {
  const QString who = supporter_name(session);
  return session.value("viewOnly").toBool() ? Texts::tr("%1 is viewing this screen").arg(who)
                                            : Texts::tr("%1 is controlling this screen").arg(who);
}

QString refusal(const QJsonObject& answer) {
  const QString reason = field(answer, "reason");
  if (reason == "expired")
    return Texts::tr("That request has expired. Ask your IT administrator for a new session.");
  if (reason == "answered") return Texts::tr("That request was already answered.");
  if (reason == "noRelay")
    return Texts::tr(
        "This device cannot take a session code yet: your IT administrator has not set up "
        "remote assistance.");
  if (reason == "badCode")
    return Texts::tr(
        "That is not a session code. It looks like s12-345-678: check it and try again.");
  if (reason == "sessionOver")
    return Texts::tr(
        "That session is over or its code has expired. Ask the supporter for a new one.");
  if (reason == "noSession")
    return Texts::tr("There is no session for that code. Check the code with the supporter.");
  if (reason == "taken") return Texts::tr("Another device has already joined that session.");
  if (reason == "throttled") return Texts::tr("Too many wrong codes. Wait a minute and try again.");
  if (reason == "unreachable")
    return Texts::tr("The remote assistance service cannot be reached. Check the network.");
  if (reason == "busy")
    return Texts::tr("A remote assistance session is already open on this device.");
  if (reason == "agentNotRunning") return Texts::tr("The company portal's service is not running.");
  return field(answer, "error");
}

QString session_ended_title() {
  return Texts::tr("Remote assistance session ended");
}

QString waiting_count(int n) {
  if (n == 0) return Texts::tr("Nothing is waiting for you");
  return Texts::tr("%n notification(s) waiting for you", nullptr, n);
}

}  // namespace reach::portal
