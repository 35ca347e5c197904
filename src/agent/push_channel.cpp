#include "agent/push_channel.h"

#include "channel/protocol.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace reach::agent {

namespace bj = boost::json;
using Clock = std::chrono::steady_clock;

std::string channel_url(const std::string& hub_url) {
  std::string u = hub_url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.starts_with("https://"))
    u = "wss://" + u.substr(8);
  else if (u.starts_with("http://"))
    u = "ws://" + u.substr(7);
  return u + "/api/agent/channel";
}

namespace {

// Hub messages waiting for the channel's thread, at most.
constexpr std::size_t kMaxIncoming = 1024;

Notification to_notification(channel::Notification n) {
  Notification x;
  x.id = std::move(n.id);
  x.kind = std::move(n.kind);
  x.title = std::move(n.title);
  x.body = std::move(n.body);
  x.created_at = n.created_at;
  x.expires_at = n.expires_at;
  x.data = std::move(n.data);
  return x;
}

}  // namespace

struct PushChannel::Impl {
  Credential credential;
  StateDir& state;
  bj::object inventory;
  PushChannelOptions options;
  NotificationCallback on_notification;
  ConnectedCallback on_connected;
  CheckinCallback on_checkin;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<channel::HubMessage> incoming;  // guarded by mu
  std::set<std::string> sent_on_connection;  // the channel thread's: event refs sent on it
  bool ws_closed = false;                    // guarded by mu
  bool stopping = false;                     // guarded by mu
  bool events_waiting = false;               // guarded by mu
  bool is_connected = false;                 // guarded by mu
  std::uint64_t connect_count = 0;           // guarded by mu
  std::thread thread;
  // Last, so destroyed first: its sockets' handlers (which use the members above) are gone
  // before anything they touch.
  net::EventLoop loop;

  Impl(Credential c, StateDir& s, bj::object inv, PushChannelOptions o, NotificationCallback n,
       ConnectedCallback cc, CheckinCallback ci)
      : credential(std::move(c)),
        state(s),
        inventory(std::move(inv)),
        options(std::move(o)),
        on_notification(std::move(n)),
        on_connected(std::move(cc)),
        on_checkin(std::move(ci)) {}

  class Handler : public net::WebSocketHandler {
   public:
    explicit Handler(Impl* impl) : impl_(impl) {}
    void on_message(std::string data, bool binary) override {
      auto m = binary ? channel::HubMessage(channel::Invalid{"a binary message", {}})
                      : channel::parse_hub_message(data);
      if (auto* bad = std::get_if<channel::Invalid>(&m)) {
        log::warn("channel.bad_message", {{"bytes", data.size()}, {"error", bad->message}});
        return;
      }
      std::lock_guard lk(impl_->mu);
      // A hub far ahead of this thread is misbehaving: what is dropped comes again (the hub
      // resends unconfirmed notifications, the outbox unacknowledged events).
      if (impl_->incoming.size() >= kMaxIncoming) {
        log::warn("channel.flooded", {{"queued", impl_->incoming.size()}});
        return;
      }
      impl_->incoming.push_back(std::move(m));
      impl_->cv.notify_all();
    }
    void on_close(std::uint16_t code, std::string reason) override {
      log::info("channel.closed", {{"code", code}, {"reason", reason}});
      std::lock_guard lk(impl_->mu);
      impl_->ws_closed = true;
      impl_->cv.notify_all();
    }

   private:
    Impl* impl_;  // the channel's thread is joined before Impl goes, and the socket with it
  };

  // Waits up to `d`; returns false when stopping.
  bool sleep_for(std::chrono::milliseconds d) {
    std::unique_lock lk(mu);
    return !cv.wait_for(lk, d, [&] { return stopping; });
  }

  bj::object checkin_body() const {
    bj::object body{{"device", inventory}};
    if (!options.device_public_key.empty()) body["devicePublicKey"] = options.device_public_key;
    return body;
  }

  void checkin() {
    std::string url = credential.hub_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    net::Headers h;
    h.set("Authorization", "Bearer " + credential.device_credential);
    h.set("Content-Type", "application/json");
    auto r = net::http_request("POST", url + "/api/agent/checkin", h,
                               json::serialize(checkin_body()), options.client);
    if (!r)
      log::warn("channel.checkin_failed", {{"error", r.error().message}});
    else if (r->status != 200)
      log::warn("channel.checkin_refused", {{"status", r->status}});
    else {
      log::info("channel.checkin");
      if (auto answer = json::parse_object(r->body); answer && on_checkin) on_checkin(*answer);
    }
  }

  // Sends the events of the outbox this connection has not sent yet (all of them after a
  // reconnect): resending the whole outbox for every new event would grow quadratically while
  // the hub is slow, and flood it.
  void send_outbox(net::WebSocket& ws) {
    for (const auto& e : state.outbox()) {
      if (!sent_on_connection.insert(e.ref).second) continue;
      bj::object m{{"type", "event"},
                   {"ref", e.ref},
                   {"notificationId", e.notification_id},
                   {"event", e.event}};
      if (!e.detail.empty()) m["detail"] = e.detail;
      ws.send(json::serialize(m), false);
    }
  }

  void handle(net::WebSocket& ws, channel::HubMessage& m) {
    if (auto* n = std::get_if<channel::Notification>(&m)) {
      std::string id = n->id;
      if (on_notification && on_notification(to_notification(std::move(*n))))
        ws.send(json::serialize(bj::object{{"type", "received"}, {"id", id}}), false);
    } else if (auto* ack = std::get_if<channel::Ack>(&m)) {
      if (auto st = state.remove_event(ack->ref); !st)
        log::error("channel.outbox_failed", {{"error", st.error().message}});
    } else if (auto* refused = std::get_if<channel::Refused>(&m)) {
      // The hub will never take it (e.g. the request expired): drop it.
      log::warn("channel.event_refused", {{"ref", refused->ref}, {"message", refused->message}});
      if (auto st = state.remove_event(refused->ref); !st)
        log::error("channel.outbox_failed", {{"error", st.error().message}});
    } else if (auto* e = std::get_if<channel::HubError>(&m)) {
      // Not a refusal of one event (those name it): what is unacknowledged goes again with the
      // next event or connection.
      log::warn("channel.hub_error", {{"message", e->message}});
      sent_on_connection.clear();
    }
  }

  void run() {
    std::mt19937_64 rng(std::random_device{}());
    auto backoff = options.backoff_min;
    std::string url = channel_url(credential.hub_url);
    for (;;) {
      {
        std::lock_guard lk(mu);
        if (stopping) return;
        ws_closed = false;
        incoming.clear();
      }
      net::Headers h;
      h.set("Authorization", "Bearer " + credential.device_credential);
      auto handler = std::make_shared<Handler>(this);
      auto ws = net::websocket_connect(loop, url, h, handler, options.client);
      if (!ws) {
        if (ws.error().status == 401)
          log::error("channel.credential_refused",
                     {{"hint", "the hub no longer knows this device: enroll it again"}});
        else
          log::warn("channel.connect_failed", {{"error", ws.error().message}});
        std::uniform_int_distribution<long> jitter(backoff.count() / 2, backoff.count());
        if (!sleep_for(std::chrono::milliseconds(jitter(rng)))) return;
        backoff = std::min(backoff * 2, options.backoff_max);
        continue;
      }
      backoff = options.backoff_min;
      {
        std::lock_guard lk(mu);
        is_connected = true;
        ++connect_count;
      }
      log::info("channel.connected", {{"hub", credential.hub_url}});
      if (on_connected) on_connected(true);
      checkin();
      sent_on_connection.clear();
      send_outbox(**ws);
      auto last_rx = Clock::now();
      auto next_heartbeat = last_rx + options.heartbeat;
      auto next_checkin = last_rx + options.checkin_interval;
      for (;;) {
        std::deque<channel::HubMessage> msgs;
        bool closed = false, stop = false, events = false;
        {
          std::unique_lock lk(mu);
          cv.wait_until(lk, std::min(next_heartbeat, next_checkin), [&] {
            return stopping || ws_closed || !incoming.empty() || events_waiting;
          });
          msgs.swap(incoming);
          closed = ws_closed;
          stop = stopping;
          events = std::exchange(events_waiting, false);
        }
        if (!msgs.empty()) last_rx = Clock::now();
        for (auto& m : msgs) handle(**ws, m);
        if (stop || closed) break;
        if (events) send_outbox(**ws);
        auto now = Clock::now();
        if (now - last_rx > 3 * options.heartbeat) {
          log::warn(
              "channel.silent",
              {{"ms",
                std::chrono::duration_cast<std::chrono::milliseconds>(now - last_rx).count()}});
          break;
        }
        if (now >= next_heartbeat) {
          (*ws)->send(R"({"type":"heartbeat"})", false);
          next_heartbeat = now + options.heartbeat;
        }
        if (now >= next_checkin) {
          checkin();
          next_checkin = now + options.checkin_interval;
        }
      }
      (*ws)->close(1000, "agent closing");
      {
        std::lock_guard lk(mu);
        is_connected = false;
      }
      if (on_connected) on_connected(false);
      std::uniform_int_distribution<long> jitter(backoff.count() / 2, backoff.count());
      if (!sleep_for(std::chrono::milliseconds(jitter(rng)))) return;
    }
  }
};

PushChannel::PushChannel(Credential credential, StateDir& state, bj::object inventory,
                         PushChannelOptions options, NotificationCallback on_notification,
                         ConnectedCallback on_connected, CheckinCallback on_checkin)
    : impl_(std::make_shared<Impl>(std::move(credential), state, std::move(inventory),
                                   std::move(options), std::move(on_notification),
                                   std::move(on_connected), std::move(on_checkin))) {
  impl_->thread = std::thread([i = impl_.get()] { i->run(); });
}

PushChannel::~PushChannel() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  impl_->thread.join();
}

Status PushChannel::send_event(OutgoingEvent e) {
  if (e.ref.empty()) e.ref = crypto::random_token(12);
  if (auto st = impl_->state.queue_event(e); !st) return st;
  std::lock_guard lk(impl_->mu);
  impl_->events_waiting = true;
  impl_->cv.notify_all();
  return {};
}

bool PushChannel::connected() const {
  std::lock_guard lk(impl_->mu);
  return impl_->is_connected;
}

std::uint64_t PushChannel::connects() const {
  std::lock_guard lk(impl_->mu);
  return impl_->connect_count;
}

}  // namespace reach::agent
