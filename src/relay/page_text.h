// The words of the relay's pages (sign-in, consent, portal, join, viewer) in English and
// Norwegian Bokmål (SPEC §12): the language is `?lang=en|nb` when given (the page's switch, kept
// in the `reach_lang` cookie), else the cookie's, else the best of the browser's Accept-Language
// that the relay has, else English. Every text exists in both languages (checked at compile time
// and by a unit test).
#pragma once

#include "net/http.h"

#include <string>
#include <string_view>

namespace reach::relay {

enum class Lang { en, nb };

Lang page_language(const net::Request& req);
// The Set-Cookie value that keeps a `?lang=` choice, or "" when the request makes none.
std::string language_cookie(const net::Request& req);
// "en" or "nb", for <html lang>.
std::string_view lang_tag(Lang lang);

enum class T {
  signin_title,
  signin_heading,
  email,
  password,
  signin_button,
  signin_missing,
  signin_throttled,
  signin_wrong,
  sign_in_first,
  consent_title,
  consent_heading,
  consent_wants,
  consent_signed_in,
  allow,
  deny,
  signed_in_as,
  sign_out,
  sessions_title,
  new_session,
  description,
  description_hint,
  customer_name,
  customer_email,
  create_session,
  no_sessions,
  col_code,
  col_state,
  col_description,
  col_customer,
  col_created,
  open,
  close,
  back_to_sessions,
  session_heading,
  state_label,
  device_connected,
  read_code,
  supporter_link_label,
  bridge_hint,
  valid_until,
  close_session,
  join_title,
  join_heading,
  join_waiting,
  join_nothing_shared,
  viewer_title,
  loading,
  view_only,
  end_session,
  needs_js,
  error_title,
  error_heading,
  back_to_portal,
  other_language,
  state_open,
  state_closed,
  st_connecting,
  st_connected,
  st_connected_view_only,
  st_you_ended,
  st_ended,
  st_lost,
  st_refused,
  st_view_only,
  st_full_control,
  st_no_reason,
  st_denied,
  st_no_answer,
  st_user_ended,
  st_closed,
  st_peer_timeout,
  st_asking,
  st_user_view_only,
  quality,
  quality_auto,
  quality_speed,
  quality_sharp,
  st_stats,
  st_stats_no_rtt,
  st_securing,
  st_code,
  st_code_hint,
  st_e2e_record,
  st_e2e_key,
  st_e2e_secret,
  st_e2e_handshake,
  st_e2e_insecure,
  count_
};

// The text; "{}" marks where a value goes (fmt).
std::string_view text(Lang lang, T id);

}  // namespace reach::relay
