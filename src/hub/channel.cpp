#include "hub/channel.h"

#include "hub/events.h"
#include "hub/partner_client.h"
#include "hub/ra_sessions.h"

#include "channel/protocol.h"

#include "common/crypto.h"
#include "common/log.h"
#include "common/time.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <thread>

namespace reach::hub {

namespace {

constexpr int kMaxInFlight = 64;  // an agent's messages waiting for the worker
constexpr std::int64_t kMaxEventsPerNotification = 32;
constexpr std::int64_t kDeliveryBatch = 256;  // notifications sent at once (~140 KiB at most)

// Events an agent reports about a notification, and what an answer records.

std::string text_message(const bj::object& o) {
  return json::serialize(o);
}

// A stored notification as the device receives it; a sealed end-customer link is opened.
bj::object notification_json(const StoredNotification& stored, const std::string& key) {
  channel::Notification n{
      stored.id, stored.kind, stored.title, stored.body, stored.created_at, stored.expires_at, {}};
  if (auto data = json::parse_object(stored.data)) n.data = std::move(*data);
  if (auto it = n.data.find(kSealedEndCustomerLink);
      it != n.data.end() && it->value().is_string()) {
    std::string link = crypto::open_text(key, it->value().as_string());
    n.data.erase(it);
    n.data["endCustomerLink"] = link;
  }
  return channel::notification_json(n);
}

}  // namespace

// ---------------------------------------------------------------- core

class Channel;

struct AgentChannels::Core {
  explicit Core(Services& s) : svc(s) {}

  Services& svc;  // valid while the worker runs (it is joined before Services goes)

  // Guarded by mu.
  mutable std::mutex mu;
  std::map<std::string, std::weak_ptr<Channel>> by_device;

  // The worker's queue, guarded by qmu.
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<std::function<void()>> queue;
  std::map<std::string, int> queued_by_device;  // tasks in `queue` per device (post_for)
  bool stopping = false;
  std::thread worker;

  void run_worker() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lk(qmu);
        qcv.wait(lk, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and everything queued has run
        task = std::move(queue.front());
        queue.pop_front();
      }
      task();
    }
  }

  // When channels opened, written in batches: one transaction for every connect the worker has
  // not recorded yet, not one synchronous write each (a connect storm would hold heartbeats up
  // behind thousands of commits).
  std::mutex connects_mu;
  std::vector<std::pair<std::string, std::int64_t>> connects;  // guarded by connects_mu

  void record_connect(const std::string& device_id) {
    bool first;
    {
      std::lock_guard lk(connects_mu);
      first = connects.empty();
      connects.emplace_back(device_id, now_ms());
    }
    if (first) post([this] { flush_connects(); });
  }

  void flush_connects() {
    std::vector<std::pair<std::string, std::int64_t>> batch;
    {
      std::lock_guard lk(connects_mu);
      batch.swap(connects);
    }
    if (batch.empty()) return;
    auto st = svc.db->transaction([&](store::Session& s) -> Status {
      for (const auto& [device, at] : batch) {
        if (auto r = record_channel_connected(s, device, at); !r) return r;
      }
      return {};
    });
    if (!st)
      log::error("agent.channel_record_failed",
                 {{"channels", batch.size()}, {"error", st.error().message}});
  }

  bool post(std::function<void()> task) {
    {
      std::lock_guard lk(qmu);
      if (stopping) return false;
      queue.push_back(std::move(task));
    }
    qcv.notify_one();
    return true;
  }

  // A task for one device's messages: false (nothing queued) when that device already has
  // kMaxInFlight waiting, over all its connections.
  bool post_for(const std::string& device, std::function<void()> task) {
    {
      std::lock_guard lk(qmu);
      if (stopping) return false;
      int& n = queued_by_device[device];
      if (n >= kMaxInFlight) return false;
      ++n;
      queue.push_back([this, device, t = std::move(task)] {
        t();
        std::lock_guard done(qmu);
        if (--queued_by_device[device] == 0) queued_by_device.erase(device);
      });
    }
    qcv.notify_one();
    return true;
  }

  std::shared_ptr<Channel> find(const std::string& device) const {
    std::lock_guard lk(mu);
    auto it = by_device.find(device);
    return it == by_device.end() ? nullptr : it->second.lock();
  }

  // Worker thread: sends every notification the device has not confirmed and that has not
  // expired, oldest first.
  void deliver_pending(const std::shared_ptr<Channel>& ch);
  void handle(const std::shared_ptr<Channel>& ch, channel::AgentMessage msg);
  void record_event(const std::shared_ptr<Channel>& ch, const channel::Event& ev);
};

// One agent's open channel. The network holds it (as the WebSocket's handler); the registry
// only observes it.
class Channel : public net::WebSocketHandler, public std::enable_shared_from_this<Channel> {
 public:
  Channel(std::weak_ptr<AgentChannels::Core> core, std::string device_id, std::string device_name,
          std::string ip)
      : core_(std::move(core)),
        device_id_(std::move(device_id)),
        device_name_(std::move(device_name)),
        ip_(std::move(ip)) {}

  const std::string& device_id() const { return device_id_; }
  const std::string& device_name() const { return device_name_; }
  const std::string& ip() const { return ip_; }

  void send(const bj::object& o) {
    std::shared_ptr<net::WebSocket> ws;
    {
      std::lock_guard lk(mu_);
      ws = ws_;
    }
    // An agent that does not read what it is sent (its answers pile up here) is cut off.
    if (ws && !ws->send(text_message(o), false)) {
      log::warn("agent.channel_not_reading", {{"device", device_id_}, {"ip", ip_}});
      ws->close(1008, "not reading");
    }
  }
  void close(std::uint16_t code, std::string reason) {
    std::shared_ptr<net::WebSocket> ws;
    {
      std::lock_guard lk(mu_);
      ws = ws_;
    }
    if (ws) ws->close(code, std::move(reason));
  }

  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    {
      std::lock_guard lk(mu_);
      ws_ = ws;
    }
    auto core = core_.lock();
    if (!core) {
      ws->close(1001, "shutting down");
      return;
    }
    std::shared_ptr<Channel> replaced;
    {
      std::lock_guard lk(core->mu);
      auto& slot = core->by_device[device_id_];
      replaced = slot.lock();
      slot = shared_from_this();
    }
    // One channel per device: the newest wins (the old one is usually a dead connection the
    // agent has already given up on).
    if (replaced) replaced->close(4001, "replaced by a newer connection");
    log::info("agent.channel_open", {{"device", device_id_}, {"ip", ip_}});
    auto self = shared_from_this();
    core->record_connect(device_id_);
    core->post([c = core.get(), self] { c->deliver_pending(self); });
  }

  void on_message(std::string data, bool binary) override {
    auto msg = binary ? channel::AgentMessage(channel::Invalid{
                            "Channel messages are JSON text of at most 16 KiB.", {}})
                      : channel::parse_agent_message(data);
    if (auto* bad = std::get_if<channel::Invalid>(&msg)) {
      bj::object e{{"type", "error"}, {"message", bad->message}};
      if (!bad->ref.empty()) e["ref"] = bad->ref;
      send(e);
      return;
    }
    auto core = core_.lock();
    if (!core) return;
    auto self = shared_from_this();
    // An agent waits for each answer (acks, heartbeats) before much more: one that runs far
    // ahead of the worker is misbehaving, and is cut off rather than queued without bound (per
    // device, so reconnecting does not start a new allowance). Nothing is lost: its outbox
    // resends what was not acknowledged.
    if (!core->post_for(device_id_, [c = core.get(), self, m = std::move(msg)]() mutable {
          c->handle(self, std::move(m));
        })) {
      log::warn("agent.channel_flooding", {{"device", device_id_}, {"ip", ip_}});
      close(1008, "too many messages in flight");
    }
  }

  void on_close(std::uint16_t code, std::string reason) override {
    {
      std::lock_guard lk(mu_);
      ws_.reset();  // breaks the handler ↔ WebSocket cycle
    }
    if (auto core = core_.lock()) {
      std::lock_guard lk(core->mu);
      auto it = core->by_device.find(device_id_);
      if (it != core->by_device.end() && it->second.lock().get() == this) core->by_device.erase(it);
    }
    log::info("agent.channel_closed", {{"device", device_id_}, {"code", code}, {"reason", reason}});
  }

 private:
  const std::weak_ptr<AgentChannels::Core> core_;
  const std::string device_id_;
  const std::string device_name_;
  const std::string ip_;

  std::mutex mu_;
  std::shared_ptr<net::WebSocket> ws_;  // guarded by mu_

 public:
  // The worker's only: the last notification of a full delivery batch ("" when none waits).
  std::string batch_end;
};

void AgentChannels::Core::deliver_pending(const std::shared_ptr<Channel>& ch) {
  // In batches: a long backlog sent at once would fill the channel's send queue, and an agent
  // that does not read is cut off; the next batch follows the receipt of this one's last.
  auto pending = pending_notifications(*svc.db, ch->device_id(), now_ms(), kDeliveryBatch);
  if (!pending) {
    log::error("agent.deliver_failed",
               {{"device", ch->device_id()}, {"error", pending.error().message}});
    return;
  }
  for (const auto& n : *pending)
    ch->send(
        {{"type", "notification"}, {"notification", notification_json(n, svc.config.secret_key)}});
  ch->batch_end = static_cast<std::int64_t>(pending->size()) == kDeliveryBatch ? pending->back().id
                                                                               : std::string();
  if (!pending->empty())
    log::info("agent.notifications_sent",
              {{"device", ch->device_id()}, {"count", pending->size()}});
}

void AgentChannels::Core::handle(const std::shared_ptr<Channel>& ch, channel::AgentMessage msg) {
  if (std::holds_alternative<channel::Heartbeat>(msg)) {
    ch->send({{"type", "heartbeatAck"}});
  } else if (auto* r = std::get_if<channel::Received>(&msg)) {
    auto done = mark_received(*svc.db, ch->device_id(), r->id, now_ms());
    if (!done) log::error("agent.received_failed", {{"error", done.error().message}});
    if (!ch->batch_end.empty() && r->id == ch->batch_end) deliver_pending(ch);
  } else if (auto* e = std::get_if<channel::Event>(&msg)) {
    record_event(ch, *e);
  }
}

// {type:"event", ref, notificationId, event, detail?}: recorded once per ref, acknowledged with
// {type:"ack", ref} every time, refused with {type:"error", ref, message}.
void AgentChannels::Core::record_event(const std::shared_ptr<Channel>& ch,
                                       const channel::Event& ev) {
  auto refuse = [&](std::string message) {
    ch->send({{"type", "error"}, {"ref", ev.ref}, {"message", std::move(message)}});
  };
  auto now = now_ms();
  Error refused;
  std::string close_at_partner;  // a request this event ended before any session ran
  auto st = svc.db->transaction([&](store::Session& s) -> Status {
    close_at_partner.clear();  // a transaction run again decides again
    auto seen = event_recorded(s, ch->device_id(), ev.ref);
    if (!seen) return seen.error();
    if (*seen) return {};  // a resend: already recorded
    // A session has a handful of events; new refs without end for one notification are a
    // misbehaving agent, and must not grow the table.
    auto count = count_events(s, ch->device_id(), ev.notification_id);
    if (!count) return count.error();
    if (*count >= kMaxEventsPerNotification) {
      refused = make_error(
          Errc::throttled, "tooManyEvents",
          fmt::format("A notification takes at most {} events.", kMaxEventsPerNotification));
      return refused;
    }
    auto n = find_notification(s, ch->device_id(), ev.notification_id);
    if (!n) return n.error();
    if (!*n) {
      refused = not_found("No such notification on this device.");
      return refused;
    }
    bool answer = ev.event == "accepted" || ev.event == "declined";
    if (answer) {
      if ((*n)->answer) {
        refused =
            conflict(fmt::format("The notification was already answered ({}).", *(*n)->answer));
        return refused;
      }
      if ((*n)->expires_at <= now) {
        refused = make_error(Errc::gone, "expired", "The notification has expired.");
        return refused;
      }
      if (auto u = record_answer(s, ev.notification_id, ev.event, now); !u) return u;
    }
    if (auto ins = hub::record_event(s, ch->device_id(),
                                     {ev.ref, ev.notification_id, ev.event, ev.detail}, now);
        !ins)
      return ins;
    if (auto st = apply_session_event(s, ev.notification_id, ev.event, ev.detail.value_or(""), now,
                                      &close_at_partner);
        !st)
      return st;
    Actor actor{"device", ch->device_id(), ch->device_name(), ch->ip()};
    bj::object details{
        {"notificationId", ev.notification_id}, {"kind", (*n)->kind}, {"event", ev.event}};
    if (ev.detail) details["detail"] = *ev.detail;
    return audit(s, actor,
                 {answer ? "answerNotification" : "reportSessionEvent", "success", "managedDevice",
                  ch->device_id(), ch->device_name(), std::move(details)});
  });
  if (!st) {
    if (!refused.code.empty()) return refuse(refused.message);
    log::error("agent.event_failed", {{"device", ch->device_id()}, {"error", st.error().message}});
    // Without the ref: an error naming a ref tells the agent to drop that event for good.
    ch->send({{"type", "error"}, {"message", "The hub could not record an event; send it again."}});
    return;
  }
  log::info("agent.event", {{"device", ch->device_id()}, {"event", ev.event}, {"ref", ev.ref}});
  ch->send({{"type", "ack"}, {"ref", ev.ref}});
  // Declined or denied: the relay's session is dead too, not left open in its portal.
  if (!close_at_partner.empty() && svc.partner_closer) svc.partner_closer->close(close_at_partner);
  if (svc.events) publish_device(svc, ch->device_id());
}

// ---------------------------------------------------------------- AgentChannels

AgentChannels::AgentChannels(Services& svc) : core_(std::make_shared<Core>(svc)) {
  core_->worker = std::thread([c = core_.get()] { c->run_worker(); });
}

AgentChannels::~AgentChannels() {
  std::vector<std::shared_ptr<Channel>> open;
  {
    std::lock_guard lk(core_->mu);
    for (auto& [id, weak] : core_->by_device)
      if (auto ch = weak.lock()) open.push_back(std::move(ch));
  }
  for (auto& ch : open) ch->close(1001, "hub shutting down");
  {
    std::lock_guard lk(core_->qmu);
    core_->stopping = true;
  }
  core_->qcv.notify_all();
  core_->worker.join();
}

std::shared_ptr<net::WebSocketHandler> AgentChannels::accept(net::Request& request,
                                                             net::Response& reject) {
  auto refuse = [&](const Error& e) -> std::shared_ptr<net::WebSocketHandler> {
    reject = graph_error(e, crypto::uuid_v4());
    return nullptr;
  };
  auto device = authenticate_device(*core_->svc.db, request);
  if (!device) return refuse(device.error());
  return std::make_shared<Channel>(core_, device->id, device->name, request.remote_address);
}

void AgentChannels::wake(const std::string& device_id) {
  auto ch = core_->find(device_id);
  if (!ch) return;
  core_->post([c = core_.get(), ch] { c->deliver_pending(ch); });
}

bool AgentChannels::connected(const std::string& device_id) const {
  return core_->find(device_id) != nullptr;
}

std::size_t AgentChannels::open_channels() const {
  std::lock_guard lk(core_->mu);
  return static_cast<std::size_t>(std::count_if(core_->by_device.begin(), core_->by_device.end(),
                                                [](auto& kv) { return !kv.second.expired(); }));
}

}  // namespace reach::hub
