#include "relay/page_text.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <utility>

namespace reach::relay {
namespace {

struct Entry {
  T id;
  std::string_view en, nb;
};

// In the order of T.
constexpr std::array<Entry, static_cast<std::size_t>(T::count_)> kTexts = {{
    {T::signin_title, "Sign in", "Logg på"},
    {T::signin_heading, "Sign in to Reach", "Logg på Reach"},
    {T::email, "Email", "E-post"},
    {T::password, "Password", "Passord"},
    {T::signin_button, "Sign in", "Logg på"},
    {T::signin_missing, "Enter your email and password.",
     "Skriv inn e-postadressen og passordet ditt."},
    {T::signin_throttled, "Too many failed sign-ins. Wait {} seconds and try again.",
     "For mange mislykkede pålogginger. Vent {} sekunder og prøv igjen."},
    {T::signin_wrong, "The email or password is not right.",
     "E-postadressen eller passordet er feil."},
    {T::sign_in_first, "Sign in first.", "Logg på først."},
    {T::consent_title, "Allow access", "Gi tilgang"},
    {T::consent_heading, "Allow access?", "Gi tilgang?"},
    {T::consent_wants,
     "<strong>{}</strong> wants to create sessions, read your account and keep access.",
     "<strong>{}</strong> vil opprette økter, lese kontoen din og beholde tilgangen."},
    {T::consent_signed_in,
     "Signed in as {}. You can revoke this access at any time by disconnecting the application.",
     "Pålogget som {}. Du kan når som helst trekke tilbake tilgangen ved å koble fra programmet."},
    {T::allow, "Allow", "Tillat"},
    {T::deny, "Deny", "Avslå"},
    {T::signed_in_as, "Signed in as {}", "Pålogget som {}"},
    {T::sign_out, "Sign out", "Logg av"},
    {T::sessions_title, "Sessions", "Økter"},
    {T::new_session, "New session", "Ny økt"},
    {T::description, "Description", "Beskrivelse"},
    {T::description_hint, "Printer does not work", "Skriveren virker ikke"},
    {T::customer_name, "Customer name", "Kundens navn"},
    {T::customer_email, "Customer email", "Kundens e-post"},
    {T::create_session, "Create session", "Opprett økt"},
    {T::no_sessions, "No sessions yet.", "Ingen økter ennå."},
    {T::col_code, "Code", "Kode"},
    {T::col_state, "State", "Status"},
    {T::col_description, "Description", "Beskrivelse"},
    {T::col_customer, "Customer", "Kunde"},
    {T::col_created, "Created", "Opprettet"},
    {T::open, "Open", "Åpne"},
    {T::close, "Close", "Lukk"},
    {T::back_to_sessions, "← Sessions", "← Økter"},
    {T::session_heading, "Session", "Økt"},
    {T::state_label, "State", "Status"},
    {T::device_connected, " · the device is connected", " · enheten er tilkoblet"},
    {T::read_code, "Read this code to the person at the device. They run:",
     "Les denne koden for personen ved enheten. De kjører:"},
    {T::supporter_link_label, "Supporter link (open it to see and control the device, once):",
     "Lenke for den som hjelper (åpne den for å se og styre enheten, én gang):"},
    {T::bridge_hint, "Or bridge it to a VNC viewer:", "Eller koble den til et VNC-program:"},
    {T::valid_until, "Valid until {}", "Gyldig til {}"},
    {T::close_session, "Close session", "Lukk økten"},
    {T::join_title, "Join a session", "Bli med i en økt"},
    {T::join_heading, "Remote assistance session", "Fjernhjelpsøkt"},
    {T::join_waiting, "Your IT supporter is waiting. On this device, run:",
     "IT-brukerstøtten venter. Kjør dette på denne enheten:"},
    {T::join_nothing_shared, "Nothing is shared until you allow it on the device.",
     "Ingenting deles før du tillater det på enheten."},
    {T::viewer_title, "Reach viewer", "Reach-visning"},
    {T::loading, "Loading…", "Laster inn …"},
    {T::view_only, "View only", "Bare visning"},
    {T::end_session, "End session", "Avslutt økten"},
    {T::needs_js,
     "The viewer needs JavaScript. Or use <code>reach connect</code> with any VNC viewer.",
     "Visningen trenger JavaScript. Eller bruk <code>reach connect</code> med et VNC-program."},
    {T::error_title, "Error", "Feil"},
    {T::error_heading, "Something is not right", "Noe er galt"},
    {T::back_to_portal, "Back to the portal", "Tilbake til portalen"},
    {T::other_language, "<a href=\"?lang=nb\" lang=nb>Norsk bokmål</a>",
     "<a href=\"?lang=en\" lang=en>English</a>"},
    {T::state_open, "open", "åpen"},
    {T::state_closed, "closed", "lukket"},
    {T::st_connecting, "Connecting to the relay… waiting for the device to share its screen.",
     "Kobler til reléet … venter på at enheten deler skjermen."},
    {T::st_connected, "Connected: you see the device's screen.",
     "Tilkoblet: du ser skjermen til enheten."},
    {T::st_connected_view_only, "Connected: you see the device's screen (view only).",
     "Tilkoblet: du ser skjermen til enheten (bare visning)."},
    {T::st_you_ended, "You ended the session. The link no longer works.",
     "Du avsluttet økten. Lenken virker ikke lenger."},
    {T::st_ended, "The session has ended. Request a new session to connect again.",
     "Økten er avsluttet. Be om en ny økt for å koble til igjen."},
    {T::st_lost, "The connection to the session was lost. Request a new session to connect again.",
     "Forbindelsen til økten ble brutt. Be om en ny økt for å koble til igjen."},
    {T::st_refused, "The device refused the connection: ", "Enheten avviste tilkoblingen: "},
    {T::st_view_only, "View only: your keyboard and mouse are not sent.",
     "Bare visning: tastaturet og musen din sendes ikke."},
    {T::st_full_control, "Full control.", "Full kontroll."},
    {T::st_no_reason, "no reason given", "ingen grunn oppgitt"},
    // How a session ended, in the admin center's words (its endReason.* texts).
    {T::st_denied, "The user did not allow the session.", "Brukeren tillot ikke økten."},
    {T::st_no_answer, "The user did not answer in time.", "Brukeren svarte ikke i tide."},
    {T::st_user_ended, "The session was ended by the user.", "Økten ble avsluttet av brukeren."},
    {T::st_closed, "The session was closed. Request a new session to connect again.",
     "Økten ble lukket. Be om en ny økt for å koble til igjen."},
    {T::st_peer_timeout,
     "The device did not connect in time. Request a new session to connect again.",
     "Enheten koblet ikke til i tide. Be om en ny økt for å koble til igjen."},
    // "{time}" is filled in by the viewer, counting down (not fmt's: the page has no value).
    {T::st_asking, "Waiting for the user to allow the session ({time}).",
     "Venter på at brukeren tillater økten ({time})."},
    {T::st_user_view_only,
     "Connected, view only: the user chose view only. You see the screen; your keyboard and mouse "
     "are not sent.",
     "Tilkoblet, bare visning: brukeren valgte bare visning. Du ser skjermen, men tastaturet og "
     "musen din sendes ikke."},
    // The viewer's picture choice: noVNC's quality level, which the agent's encoders follow.
    {T::quality, "Picture", "Bilde"},
    {T::quality_auto, "Automatic", "Automatisk"},
    {T::quality_speed, "Prefer speed", "Prioriter fart"},
    {T::quality_sharp, "Prefer quality", "Prioriter kvalitet"},
    // The viewer's statistics, filled in each second ({fps}, {mbps}, {rtt}, {encoding}: not fmt's).
    {T::st_stats, "{fps} frames/s · {mbps} Mbit/s · round trip {rtt} ms · {encoding}",
     "{fps} bilder/s · {mbps} Mbit/s · tur-retur {rtt} ms · {encoding}"},
    {T::st_stats_no_rtt, "{fps} frames/s · {mbps} Mbit/s · {encoding}",
     "{fps} bilder/s · {mbps} Mbit/s · {encoding}"},
    // The end-to-end encryption (docs/session-security.md): the handshake, the verification code
    // ({code}: six digits, filled in by the viewer) and why a session was ended by a check.
    {T::st_securing, "Securing the session end to end…", "Sikrer økten fra ende til ende …"},
    {T::st_code, "Code {code}", "Kode {code}"},
    {T::st_code_hint,
     "End-to-end encrypted: the relay cannot see or change this session. The user sees the same "
     "code on the device; if theirs is different, end the session: someone is in between.",
     "Ende-til-ende-kryptert: reléet kan ikke se eller endre denne økten. Brukeren ser den samme "
     "koden på enheten; er deres kode en annen, avslutt økten: noen står imellom."},
    {T::st_e2e_record,
     "The session was ended: its data was changed or lost on the way (an end-to-end check "
     "failed), so nothing altered is shown.",
     "Økten ble avsluttet: dataene ble endret eller gikk tapt underveis (en ende-til-ende-kontroll "
     "feilet), så ingenting endret vises."},
    {T::st_e2e_key,
     "The session was ended: the device could not prove it is the device this link is for. "
     "Someone may be standing in between.",
     "Økten ble avsluttet: enheten kunne ikke bevise at den er enheten denne lenken gjelder. "
     "Noen kan stå imellom."},
    {T::st_e2e_secret,
     "The session was ended: the other end could not prove it holds this session's key. The "
     "link may be incomplete (open it exactly as the admin center gave it), or someone may be "
     "standing in between.",
     "Økten ble avsluttet: den andre enden kunne ikke bevise at den har nøkkelen til denne "
     "økten. Lenken kan være ufullstendig (åpne den nøyaktig slik administrasjonssenteret ga "
     "den), eller noen kan stå imellom."},
    {T::st_e2e_handshake,
     "The session was ended: the two ends could not agree on their encryption (one of them may "
     "be out of date).",
     "Økten ble avsluttet: de to endene ble ikke enige om krypteringen (en av dem kan være "
     "utdatert)."},
    {T::st_e2e_insecure,
     "This viewer needs a secure (HTTPS) page for end-to-end encryption. Ask your administrator "
     "to serve the relay over HTTPS, or use reach connect.",
     "Denne visningen trenger en sikker (HTTPS) side for ende-til-ende-kryptering. Be "
     "administratoren om å levere reléet over HTTPS, eller bruk reach connect."},
}};

constexpr bool in_order() {
  for (std::size_t i = 0; i < kTexts.size(); ++i)
    if (static_cast<std::size_t>(kTexts[i].id) != i || kTexts[i].en.empty() || kTexts[i].nb.empty())
      return false;
  return true;
}
static_assert(in_order(), "kTexts must list every T, in order, in both languages");

std::optional<Lang> known(std::string_view tag) {
  std::string t;
  for (char c : tag.substr(0, tag.find('-')))
    t.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (t == "nb" || t == "no" || t == "nn") return Lang::nb;
  if (t == "en") return Lang::en;
  return std::nullopt;
}

}  // namespace

Lang page_language(const net::Request& req) {
  if (auto q = req.query_param("lang"))
    if (auto l = known(*q)) return *l;
  if (auto c = req.cookie("reach_lang"))
    if (auto l = known(*c)) return *l;
  auto header = req.headers.get("Accept-Language");
  if (!header) return Lang::en;
  // "nb-NO,nb;q=0.9,en;q=0.8": the known language with the highest q (the first among equals).
  std::optional<Lang> best;
  double best_q = 0;
  std::string_view rest = *header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    auto semi = item.find(';');
    std::string_view tag = item.substr(0, semi);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    double q = 1;
    if (semi != std::string_view::npos) {
      auto qpos = item.find("q=", semi);
      if (qpos != std::string_view::npos)
        q = std::strtod(std::string(item.substr(qpos + 2)).c_str(), nullptr);
    }
    if (auto l = known(tag); l && q > best_q) {
      best = l;
      best_q = q;
    }
  }
  return best.value_or(Lang::en);
}

std::string_view lang_tag(Lang lang) {
  return lang == Lang::nb ? "nb" : "en";
}

std::string language_cookie(const net::Request& req) {
  auto q = req.query_param("lang");
  if (!q) return {};
  auto l = known(*q);
  if (!l) return {};
  return std::string("reach_lang=") + std::string(lang_tag(*l)) +
         "; Path=/; Max-Age=31536000; SameSite=Lax" + (req.tls ? "; Secure" : "");
}

std::string_view text(Lang lang, T id) {
  const auto& e = kTexts[static_cast<std::size_t>(id)];
  return lang == Lang::nb ? e.nb : e.en;
}

}  // namespace reach::relay
