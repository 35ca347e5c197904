// Everything the person at the device reads that depends on the agent's state, in the language
// the app runs in (Qt Linguist catalogues, i18n/). The agent speaks in stable keys (states,
// reasons, kinds); these functions turn them into sentences. The agent's own English sentence is
// shown only for a refusal this app has no words for.
#pragma once

#include <QJsonObject>
#include <QString>

namespace reach::portal {

// "Company Portal": the app's name as the person sees it.
QString app_name();
// The words of a remote assistance request (SPEC §4.4).
QString request_summary();
QString request_body();
// "Requested by Ada Admin, Contoso." (or nothing when the hub named nobody).
QString requested_by(const QJsonObject& notification_or_session);
// Who asks to connect: "Ada Admin (Contoso)", "your IT administrator", or "the supporter" (a
// session joined with a code).
QString supporter_name(const QJsonObject& session);
// The session in one sentence, for the portal window ("Waiting for the supporter…").
QString session_sentence(const QJsonObject& session);
// The title of the notification that says a session ended (its body: session_sentence()).
QString session_ended_title();
// "Ada Admin is controlling this screen" / "… is viewing this screen".
QString indicator_sentence(const QJsonObject& session);
// A refused command, in words: the reason's sentence, else the agent's own.
QString refusal(const QJsonObject& answer);
// "3 notifications waiting" for the tray's tooltip.
QString waiting_count(int n);

}  // namespace reach::portal
