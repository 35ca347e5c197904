// Change notices for the admin center, pushed over a WebSocket so that a device's page shows its
// remote assistance status as it changes, without polling.
//
// GET /api/events?deviceId=ID (WebSocket upgrade) is authorised once, at the upgrade: the
// caller's cookie session (from this site only: a cross-site upgrade is refused, so another page
// cannot ride the cookie) or bearer token, ManagedDevices_Read, and the device in scope. After
// that the socket carries only {"type":"deviceChanged","deviceId":ID} text messages; the page
// fetches the device again through the API, which checks everything again. Nothing sensitive
// travels on the socket. Messages from the browser are ignored.
//
// publish(device) is called after the commit of whatever changed a device. Thread-safe.
#pragma once

#include "hub/internal.h"
#include "net/websocket.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace reach::hub {

class DeviceEvents {
 public:
  DeviceEvents() = default;
  ~DeviceEvents();  // closes every watcher (1001)
  DeviceEvents(const DeviceEvents&) = delete;
  DeviceEvents& operator=(const DeviceEvents&) = delete;

  // Decides an upgrade of /api/events (on a server worker thread; may block on the database).
  std::shared_ptr<net::WebSocketHandler> accept(Services& svc, net::Request& request,
                                                net::Response& reject);
  void publish(const std::string& device_id);
  std::size_t watchers() const;

  class Watcher;

 private:
  friend class Watcher;
  void remove(const std::string& device_id, const Watcher* w);
  mutable std::mutex mu_;
  std::multimap<std::string, std::weak_ptr<Watcher>> by_device_;
};

}  // namespace reach::hub
