// The company portal on the device: the pieces of reach-agent wired together. An Agent holds the
// state directory, the push channel (for `run`), at most one RemoteSession at a time, and answers
// the control socket's requests (agent/control.h):
//   {"cmd":"status"}                       → the channel, the flag count and the session's state
//   {"cmd":"notifications"}                → the stored notifications, newest first (custom
//                                            notifications count as read once listed)
//   {"cmd":"accept"|"decline","id":ID}     → the user's answer to a remote assistance request
//   {"cmd":"allow","viewOnly":bool} | {"cmd":"deny"} → "allow this session to start?"
//   {"cmd":"end"}                          → ends the session at once
//   {"cmd":"viewOnly"}                     → drops the supporter's control for the session
//   {"cmd":"join","streamUrl":URL[,"sessionSecret":B64URL]}
//                                          → joins a relay session (reach-agent join), with the
//                                            end-to-end secret of a link the hub made
//   {"cmd":"joinCode","code":CODE}         → joins by the code a supporter reads out, on the
//                                            relay given with --relay or named by the hub
// Every response has "ok" and, when not ok, "error" (a sentence for the user) and, for the
// refusals an app shows in its own words, "reason" (a stable key: "expired", "answered",
// "noRelay", "badCode", "sessionOver", "noSession", "taken", "throttled", "unreachable", "busy").
//
// snapshot() is what subscribers of the control socket receive after every change (on_change):
// the flag count, the channel, the enrollment, every notification and the session, in fields an
// app can show in its own language. It never carries a session link.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include "agent/push_channel.h"
#include "agent/session.h"
#include "agent/state.h"

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>

namespace reach::agent {

struct AgentOptions {
  desktop::X11Options x11;
  PushChannelOptions channel;
  net::ClientOptions relay_client;
  std::chrono::milliseconds allow_timeout{std::chrono::minutes(5)};
  // Continuous updates for viewers that take them (SessionOptions::continuous_updates).
  bool continuous_updates = true;
  // H.264 for viewers that take it (SessionOptions::h264). A session request from the hub may
  // turn it off for that session too (its data's "h264": false, the organisation's setting).
  bool h264 = true;
  bool h264_always = false;  // SessionOptions::h264_always
  // A line for the person at the device (notifications, prompts, session changes).
  std::function<void(const std::string&)> say;
  // Called after anything snapshot() shows has changed, from any thread, maybe under the
  // agent's lock: it must only signal (ControlServer::changed()).
  std::function<void()> on_change;
  // The relay session codes are typed into; empty: the one the hub names at check-in.
  std::string relay_url;
};

// The device's inventory for enrollment and check-ins (hostname, /etc/os-release, DMI).
boost::json::object collect_inventory();
// The device's Ed25519 public key (raw 32 bytes), from its key in the state directory (made
// there the first time). Errors: the state directory's.
Result<std::string> device_public_key(StateDir& state);
// A failed join, in words for the person at the device.
std::string join_error(const Error& e);

class Agent {
 public:
  Agent(StateDir& state, AgentOptions options);
  ~Agent();  // ends a running session, closes the channel

  // Connects the push channel with the enrolled credential (`run`).
  void start_channel(const Credential& credential);
  // Joins a relay session by its device stream URL (`join`, or an accepted request when
  // notification_id is set). Errors: 409 while another session is open; the relay's refusal.
  Status join(const std::string& stream_url, const std::string& session_secret = {});
  boost::json::object control(const boost::json::object& request);
  boost::json::object snapshot();

  // Blocks until the current session (if any) reaches a final state; returns that state.
  ConsentState wait_session();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reach::agent
