#include "agent/push_channel.h"

#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/time.h"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
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

Result<Notification> parse_notification(const bj::object& n) {
  Notification x;
  auto get = [&](std::string_view key, std::string& out) -> Status {
    auto v = json::req_string(n, key);
    if (!v) return v.error();
    out = std::move(*v);
    return {};
  };
  for (auto [key, out] : {std::pair<std::string_view, std::string*>{"id", &x.id},
                          {"kind", &x.kind},
                          {"title", &x.title},
                          {"body", &x.body}})
    if (auto st = get(key, *out); !st) return st.error();
  for (auto [key, out] :
       {std::pair<std::string_view, std::int64_t*>{"createdDateTime", &x.created_at},
        {"expirationDateTime", &x.expires_at}}) {
    std::string text;
    if (auto st = get(key, text); !st) return st.error();
    auto t = parse_iso8601(text);
    if (!t) return t.error();
    *out = *t;
  }
  if (auto d = n.find("data"); d != n.end() && d->value().is_object())
    x.data = d->value().as_object();
  return x;
}

struct PushChannel::Impl {
  Credential credential;
  StateDir& state;
  bj::object inventory;
  PushChannelOptions options;
  NotificationCallback on_notification;
  ConnectedCallback on_connected;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<bj::object> incoming;  // guarded by mu
  bool ws_closed = false;           // guarded by mu
  bool stopping = false;            // guarded by mu
  bool events_waiting = false;      // guarded by mu
  bool is_connected = false;        // guarded by mu
  std::uint64_t connect_count = 0;  // guarded by mu
  std::thread thread;
  // Last, so destroyed first: its sockets' handlers (which use the members above) are gone
  // before anything they touch.
  net::EventLoop loop;

  Impl(Credential c, StateDir& s, bj::object inv, PushChannelOptions o, NotificationCallback n,
       ConnectedCallback cc)
      : credential(std::move(c)),
        state(s),
        inventory(std::move(inv)),
        options(std::move(o)),
        on_notification(std::move(n)),
        on_connected(std::move(cc)) {}

  class Handler : public net::WebSocketHandler {
   public:
    explicit Handler(Impl* impl) : impl_(impl) {}
    void on_message(std::string data, bool binary) override {
      auto o = json::parse_object(data);
      std::lock_guard lk(impl_->mu);
      if (binary || !o) {
        log::warn("channel.bad_message", {{"bytes", data.size()}});
        return;
      }
      impl_->incoming.push_back(std::move(*o));
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

  void checkin() {
    std::string url = credential.hub_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    net::Headers h;
    h.set("Authorization", "Bearer " + credential.device_credential);
    h.set("Content-Type", "application/json");
    auto r = net::http_request("POST", url + "/api/agent/checkin", h,
                               json::serialize(bj::object{{"device", inventory}}), options.client);
    if (!r)
      log::warn("channel.checkin_failed", {{"error", r.error().message}});
    else if (r->status != 200)
      log::warn("channel.checkin_refused", {{"status", r->status}});
    else
      log::info("channel.checkin");
  }

  void send_outbox(net::WebSocket& ws) {
    for (const auto& e : state.outbox()) {
      bj::object m{{"type", "event"},
                   {"ref", e.ref},
                   {"notificationId", e.notification_id},
                   {"event", e.event}};
      if (!e.detail.empty()) m["detail"] = e.detail;
      ws.send(json::serialize(m), false);
    }
  }

  void handle(net::WebSocket& ws, const bj::object& m) {
    auto type = json::opt_string(m, "type");
    std::string t = type && *type ? **type : "";
    if (t == "notification") {
      auto it = m.find("notification");
      if (it == m.end() || !it->value().is_object()) return;
      auto n = parse_notification(it->value().as_object());
      if (!n) {
        log::warn("channel.bad_notification", {{"error", n.error().message}});
        return;
      }
      if (on_notification && on_notification(*n))
        ws.send(json::serialize(bj::object{{"type", "received"}, {"id", n->id}}), false);
    } else if (t == "ack" || (t == "error" && m.contains("ref"))) {
      auto ref = json::opt_string(m, "ref");
      if (!ref || !*ref) return;
      if (t == "error")  // the hub will never take it (e.g. the request expired): drop it
        log::warn(
            "channel.event_refused",
            {{"ref", **ref}, {"message", json::opt_string(m, "message").value().value_or("")}});
      if (auto st = state.remove_event(**ref); !st)
        log::error("channel.outbox_failed", {{"error", st.error().message}});
    } else if (t == "error") {
      log::warn("channel.hub_error",
                {{"message", json::opt_string(m, "message").value().value_or("")}});
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
      send_outbox(**ws);
      auto last_rx = Clock::now();
      auto next_heartbeat = last_rx + options.heartbeat;
      auto next_checkin = last_rx + options.checkin_interval;
      for (;;) {
        std::deque<bj::object> msgs;
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
        for (const auto& m : msgs) handle(**ws, m);
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
                         ConnectedCallback on_connected)
    : impl_(std::make_shared<Impl>(std::move(credential), state, std::move(inventory),
                                   std::move(options), std::move(on_notification),
                                   std::move(on_connected))) {
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
