#include "hub/events.h"

#include "common/crypto.h"
#include "common/log.h"

#include <fmt/format.h>

#include <vector>

namespace reach::hub {

namespace {
// Per browser: a page watches one device; a handful of tabs is normal, hundreds is not.
constexpr std::size_t kMaxWatchersPerDevice = 256;
// A watcher that does not read its notices (they are tiny) is cut off.
constexpr std::size_t kMaxQueuedBytes = 64 * 1024;
}  // namespace

class DeviceEvents::Watcher : public net::WebSocketHandler,
                              public std::enable_shared_from_this<Watcher> {
 public:
  Watcher(DeviceEvents& owner, std::string device_id)
      : owner_(owner), device_id_(std::move(device_id)) {}

  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    std::lock_guard lk(mu_);
    ws_ = std::move(ws);
  }
  void on_message(std::string, bool) override {}
  void on_close(std::uint16_t, std::string) override {
    {
      std::lock_guard lk(mu_);
      ws_.reset();
    }
    owner_.remove(device_id_, this);
  }

  void notify() {
    std::shared_ptr<net::WebSocket> ws;
    {
      std::lock_guard lk(mu_);
      ws = ws_;
    }
    if (!ws) return;
    if (ws->queued_bytes() > kMaxQueuedBytes) {
      ws->close(1008, "not reading");
      return;
    }
    ws->send(fmt::format(R"({{"type":"deviceChanged","deviceId":"{}"}})", device_id_), false);
  }
  void close() {
    std::shared_ptr<net::WebSocket> ws;
    {
      std::lock_guard lk(mu_);
      ws = ws_;
    }
    if (ws) ws->close(1001, "shutting down");
  }

 private:
  DeviceEvents& owner_;
  const std::string device_id_;  // a UUID checked at the upgrade: safe to print into JSON
  std::mutex mu_;
  std::shared_ptr<net::WebSocket> ws_;
};

DeviceEvents::~DeviceEvents() {
  std::vector<std::shared_ptr<Watcher>> all;
  {
    std::lock_guard lk(mu_);
    for (auto& [_, w] : by_device_)
      if (auto s = w.lock()) all.push_back(std::move(s));
    by_device_.clear();
  }
  for (auto& w : all) w->close();
}

std::shared_ptr<net::WebSocketHandler> DeviceEvents::accept(Services& svc, net::Request& req,
                                                            net::Response& reject) {
  Ctx ctx{svc, req, crypto::uuid_v4(), "", std::nullopt};
  auto refuse = [&](const Error& e) {
    reject = graph_error(e, ctx.request_id);
    return nullptr;
  };
  auto p = authenticate_user(ctx);
  if (!p) return refuse(p.error());
  ctx.principal = std::move(*p);
  // A WebSocket upgrade is a GET, which authenticate_user lets through from anywhere; a page
  // on another site must not open one with this site's cookie.
  if (ctx.principal->via_cookie && cross_site(req))
    return refuse(forbidden("Cross-site WebSocket connections are refused."));
  auto device = req.query_param("deviceId");
  if (!device || !crypto::is_uuid(*device))
    return refuse(bad_request("Give the device to watch: /api/events?deviceId=ID."));
  std::string id(*device);
  auto grant = require(ctx, actions::kDevicesRead);
  if (!grant) return refuse(grant.error());
  auto exists = device_exists(ctx.db(), id);
  if (!exists) return refuse(exists.error());
  if (!*exists) return refuse(not_found("No managed device with this id."));
  if (auto st = check_device_scope(ctx, *grant, id); !st) return refuse(st.error());
  auto w = std::make_shared<Watcher>(*this, id);
  {
    std::lock_guard lk(mu_);
    if (by_device_.count(id) >= kMaxWatchersPerDevice)
      return refuse(
          make_error(Errc::throttled, "tooManyRequests", "Too many pages watch this device."));
    by_device_.emplace(id, w);
  }
  return w;
}

void DeviceEvents::publish(const std::string& device_id) {
  std::vector<std::shared_ptr<Watcher>> targets;
  {
    std::lock_guard lk(mu_);
    auto [b, e] = by_device_.equal_range(device_id);
    for (auto it = b; it != e;) {
      if (auto s = it->second.lock()) {
        targets.push_back(std::move(s));
        ++it;
      } else {
        it = by_device_.erase(it);  // an upgrade that never opened
      }
    }
  }
  for (auto& w : targets) w->notify();
}

void DeviceEvents::remove(const std::string& device_id, const Watcher* w) {
  std::lock_guard lk(mu_);
  auto [b, e] = by_device_.equal_range(device_id);
  for (auto it = b; it != e;) {
    auto s = it->second.lock();
    if (!s || s.get() == w) {
      it = by_device_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t DeviceEvents::watchers() const {
  std::lock_guard lk(mu_);
  return by_device_.size();
}

}  // namespace reach::hub
