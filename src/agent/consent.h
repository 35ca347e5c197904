// The device user's consent to one remote assistance session (SPEC §4.4), as a pure state
// machine: events in, the new state (or a refusal) out. The session runner asks it before every
// step that shares anything: may_share_screen() gates every framebuffer byte, may_inject_input()
// every key and pointer event.
//
//   requested ──accept──▶ accepted ──stream_open──▶ waiting ──supporter_arrived──▶ asking
//       │                    │                         │                             │
//    decline               end/expire               end/expire               allow / deny / end
//       ▼                    ▼                         ▼                             ▼
//   declined (final)      ended/expired (final)                     allowed ──first_frame──▶ active
//                                                                   denied (final)      │
//                                                            end / stream_lost / expire ▼
//                                                                                  ended (final)
//
// While allowed or active, `restrict_to_view_only` drops control (the user's choice on the
// session indicator); nothing gives control back within the session.
//
// `join CODE` starts at accepted (typing the code is the user's acceptance).
// Thread-safety: a value type; the owner serialises access.
#pragma once

#include <string>
#include <string_view>

namespace reach::agent {

enum class ConsentState {
  requested,  // a notification asks the user
  accepted,   // the user accepted; the agent joins the relay session
  waiting,    // on the relay, waiting for the supporter
  asking,     // the supporter is there: "allow this session to start?"
  allowed,    // allowed (view-only or control); nothing sent yet
  active,     // the screen is being shared
  declined,   // final: the user declined the request
  denied,     // final: the user denied the supporter
  expired,    // final: the request or the wait expired
  ended,      // final: ended by the user, the supporter, or a lost stream
};
const char* to_string(ConsentState s);
bool is_final(ConsentState s);

enum class ConsentEvent {
  accept,
  decline,
  stream_open,
  supporter_arrived,
  allow_view_only,
  allow_control,
  deny,
  first_frame,
  restrict_to_view_only,
  end,  // the user (reach-agent end), the supporter, or the stream went away
  expire,
};
const char* to_string(ConsentEvent e);

class Consent {
 public:
  explicit Consent(ConsentState start = ConsentState::requested) : state_(start) {}

  ConsentState state() const { return state_; }
  bool view_only() const { return view_only_; }

  // Applies `e`. Returns false (and changes nothing) when `e` does not apply in this state; the
  // caller then tells the user why, e.g. "there is nothing to allow".
  bool apply(ConsentEvent e);

  bool may_share_screen() const {
    return state_ == ConsentState::allowed || state_ == ConsentState::active;
  }
  bool may_inject_input() const { return may_share_screen() && !view_only_; }

 private:
  ConsentState state_;
  bool view_only_ = false;
};

}  // namespace reach::agent
