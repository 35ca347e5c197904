// The agent's end of the hub's push channel (see src/hub/channel.h for the messages): one
// authenticated WebSocket to the hub, kept up for the life of the process. On every connect the
// agent checks in with its inventory and resends its unacknowledged events; a heartbeat goes out
// every `heartbeat` and a channel silent for three of them is dropped; a lost channel is retried
// with jittered exponential back-off (from `backoff_min` doubling up to `backoff_max`, each wait
// drawn from [d/2, d]). Check-ins also repeat every `checkin_interval`.
//
// Thread-safety: runs on its own thread; every public method may be called from any thread.
// Callbacks run on the channel's thread, one at a time.
#pragma once

#include "agent/state.h"
#include "net/client.h"

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace reach::agent {

struct PushChannelOptions {
  std::chrono::milliseconds heartbeat{std::chrono::seconds(25)};
  std::chrono::milliseconds backoff_min{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(60)};
  std::chrono::milliseconds checkin_interval{std::chrono::minutes(15)};
  // The device's Ed25519 public key (base64url), sent with each check-in: the hub registers it
  // for a device enrolled before it had one, and ignores it otherwise.
  std::string device_public_key;
  net::ClientOptions client;
};

class PushChannel {
 public:
  // A notification from the hub (already parsed; the channel confirms "received" after the
  // callback returns true, i.e. once the device has stored it).
  using NotificationCallback = std::function<bool(const Notification& n)>;
  using ConnectedCallback = std::function<void(bool connected)>;
  // The hub's answer to a check-in: lastSyncDateTime, userPrincipalName, organization, relayUrl.
  using CheckinCallback = std::function<void(const boost::json::object& answer)>;

  PushChannel(Credential credential, StateDir& state, boost::json::object inventory,
              PushChannelOptions options, NotificationCallback on_notification,
              ConnectedCallback on_connected = {}, CheckinCallback on_checkin = {});
  ~PushChannel();  // closes the channel and joins

  // Queues `e` durably and sends it when the channel is up; resent until the hub acks it.
  Status send_event(OutgoingEvent e);
  bool connected() const;
  // Times the channel has connected (tests and status).
  std::uint64_t connects() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// "http://host:port" → "ws://host:port/api/agent/channel" (https → wss).
std::string channel_url(const std::string& hub_url);

}  // namespace reach::agent
