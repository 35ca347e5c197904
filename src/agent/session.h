// One remote assistance session on the device: the device end of a relay session, carrying the
// agent's own RFB server (rfb::ServerConnection) over the relay's device stream, with the
// device's desktop behind it and the user's consent (agent::Consent) gating every step.
//
// Everything on the stream is end-to-end encrypted (link/e2e.h, docs/session-security.md): start()
// connects (state waiting) and answers the supporter's end's handshake; only once both ends have
// proven their keys does the RFB server speak, and every byte, notice and close after that is a
// record the relay cannot read or alter unnoticed. A failed handshake or record ends the session
// (detail "e2eFailed", also when the supporter's end reports a failed check; the log says
// which); nothing is ever sent in the clear.
//
// Sequence: the handshake, then the RFB version alone. When
// the supporter's viewer answers with its version, the session asks (state asking, the callback
// says so); nothing about the desktop has left the device. allow() admits the viewer (ServerInit,
// then updates as the viewer asks for them) and starts capture; deny() tells the viewer why and
// ends. end() stops everything at once: capture stops, keys held through the session are
// released, and the stream is closed, which makes the relay end the session for good.
//
// Thread-safety: the session runs on its own thread; every public method may be called from any
// thread. The state callback runs on the session's thread and must not call back into the
// session's blocking methods (wait()).
#pragma once

#include "agent/consent.h"
#include "common/result.h"
#include "desktop/desktop.h"
#include "net/client.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace reach::agent {

struct SessionOptions {
  std::string stream_url;  // ws(s)://relay/api/v1/stream/device/…
  // The device's Ed25519 key (32-byte seed; StateDir::device_key()): it proves this end of the
  // session to the supporter's.
  std::string device_key;
  // The hub's per-session secret (32 bytes) for a session the hub requested; empty for a
  // session joined by code.
  std::string session_secret;
  net::ClientOptions client;
  desktop::X11Options x11;
  // How long the user has to answer "allow this session to start?" before it counts as denied.
  std::chrono::milliseconds allow_timeout{std::chrono::minutes(5)};
  // Updates wait while more than this is queued towards the relay (back-pressure).
  std::size_t send_high_water = std::size_t{2} * 1024 * 1024;
  // Offer viewers that take them Fence and ContinuousUpdates (rfbproto): updates then flow as the
  // screen changes, paced by a window of bytes in flight (flow_window.h), not one per request.
  bool continuous_updates = true;
  // Send areas that move like video as H.264 (Open H.264, encoding 50; motion.h) to viewers that
  // take it. Off: Tight only (an organisation's choice, or `reach-agent --no-h264`).
  bool h264 = true;
  // With h264: every area that moves like video goes as H.264, not only where exact rectangles
  // fall behind the screen (for links known to be slow; and the tests' way to see video on
  // loopback).
  bool h264_always = false;
};

struct SessionStats {
  std::uint64_t bytes_sent = 0;  // RFB bytes to the relay
  std::uint64_t updates_sent = 0;
  std::uint64_t video_frames = 0;  // H.264 frames
  std::uint64_t refreshes = 0;     // exact copies of areas sent lossy
  int video_bitrate = 0;           // what the H.264 encoder aims at now (bits per second)
  // CPU time the session thread spent sealing records (end-to-end encryption), for the
  // benches: its share of the agent's CPU.
  std::uint64_t seal_cpu_us = 0;
  std::uint64_t input_injected = 0;
  std::uint64_t input_dropped = 0;  // view-only, or before allow
};

class RemoteSession {
 public:
  // (state, detail): detail says why for final states ("endedByUser", "supporterLeft", …).
  using StateCallback = std::function<void(ConsentState state, const std::string& detail)>;

  // Opens the desktop (no capture yet) and connects to the stream, blocking until connected.
  // Errors: the desktop's, or websocket_connect's (HTTP 410 from the relay: the session is over
  // and a new one is needed).
  static Result<std::unique_ptr<RemoteSession>> start(net::EventLoop& loop, SessionOptions options,
                                                      StateCallback on_state);
  ~RemoteSession();  // end("agentStopped") and joins

  // Errors: 409 when the session is not asking.
  Status allow(bool view_only);
  Status deny();
  // Drops the supporter's control for the rest of the session (input is dropped from now on).
  // Errors: 409 when the session is not allowed or active.
  Status restrict_to_view_only();
  void end(std::string reason = "endedByUser");
  // Blocks until the session has reached a final state.
  void wait();

  ConsentState state() const;
  bool view_only() const;
  // The six digits both ends show once the handshake has derived the keys (empty before): the
  // device user compares them with what the supporter reads out.
  std::string verification_code() const;
  // The handshake's transcript hash (32 bytes; empty before), which the consent receipts carry.
  std::string transcript_hash() const;
  SessionStats stats() const;

  struct Impl;

 private:
  explicit RemoteSession(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace reach::agent
