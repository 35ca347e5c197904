#include "agent/consent.h"

namespace reach::agent {

const char* to_string(ConsentState s) {
  switch (s) {
    case ConsentState::requested:
      return "requested";
    case ConsentState::accepted:
      return "accepted";
    case ConsentState::waiting:
      return "waitingForSupporter";
    case ConsentState::asking:
      return "askingToAllow";
    case ConsentState::allowed:
      return "allowed";
    case ConsentState::active:
      return "active";
    case ConsentState::declined:
      return "declined";
    case ConsentState::denied:
      return "denied";
    case ConsentState::expired:
      return "expired";
    case ConsentState::ended:
      return "ended";
  }
  return "unknown";
}

const char* to_string(ConsentEvent e) {
  switch (e) {
    case ConsentEvent::accept:
      return "accept";
    case ConsentEvent::decline:
      return "decline";
    case ConsentEvent::stream_open:
      return "streamOpen";
    case ConsentEvent::supporter_arrived:
      return "supporterArrived";
    case ConsentEvent::allow_view_only:
      return "allowViewOnly";
    case ConsentEvent::allow_control:
      return "allowControl";
    case ConsentEvent::deny:
      return "deny";
    case ConsentEvent::first_frame:
      return "firstFrame";
    case ConsentEvent::restrict_to_view_only:
      return "restrictToViewOnly";
    case ConsentEvent::end:
      return "end";
    case ConsentEvent::expire:
      return "expire";
  }
  return "unknown";
}

bool is_final(ConsentState s) {
  return s == ConsentState::declined || s == ConsentState::denied || s == ConsentState::expired ||
         s == ConsentState::ended;
}

bool Consent::apply(ConsentEvent e) {
  using S = ConsentState;
  using E = ConsentEvent;
  if (is_final(state_)) return false;
  S next = state_;
  switch (e) {
    case E::accept:
      if (state_ != S::requested) return false;
      next = S::accepted;
      break;
    case E::decline:
      if (state_ != S::requested) return false;
      next = S::declined;
      break;
    case E::stream_open:
      if (state_ != S::accepted) return false;
      next = S::waiting;
      break;
    case E::supporter_arrived:
      if (state_ != S::waiting) return false;
      next = S::asking;
      break;
    case E::allow_view_only:
    case E::allow_control:
      if (state_ != S::asking) return false;
      view_only_ = e == E::allow_view_only;
      next = S::allowed;
      break;
    case E::deny:
      if (state_ != S::asking) return false;
      next = S::denied;
      break;
    case E::first_frame:
      if (state_ != S::allowed) return false;
      next = S::active;
      break;
    case E::restrict_to_view_only:
      if (state_ != S::allowed && state_ != S::active) return false;
      view_only_ = true;
      break;
    case E::end:
      // A request not yet answered cannot be "ended": it is declined or it expires.
      if (state_ == S::requested) return false;
      next = S::ended;
      break;
    case E::expire:
      if (state_ == S::allowed || state_ == S::active) return false;  // a live session ends
      next = S::expired;
      break;
  }
  state_ = next;
  return true;
}

}  // namespace reach::agent
