#include "relay/pairing.h"

#include "common/log.h"
#include "link/notice.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

// Locking rule. Two levels: Core::mu (the session map, tombstones, deadlines, the event queue)
// and Link::mu (one session's ends). Lifecycle changes (attach, open, close, release, timeout,
// end) take Core::mu then Link::mu; the byte path (on_message, on_drain) takes Link::mu alone.
// Nothing ever takes Core::mu while holding a Link::mu.
//
// WebSocket::send/pause_reading/resume_reading are called under Link::mu: the pause that follows
// a refused send must be in place before the peer's on_drain can look for it, and the pause of a
// lone end before the other end's on_open can resume it. This relies on net::WebSocket methods
// never calling a handler synchronously (net's WsSession posts to the connection's strand).
// WebSocket::close is called, and WebSocket references are dropped, only after every lock is
// released, and the user's callbacks run on the Core thread with no lock held.

namespace reach::relay {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t kNormal = 1000;
constexpr std::uint16_t kGoingAway = 1001;
constexpr std::uint16_t kPeerTimeout = 4000;
constexpr std::uint16_t kSessionEnded = 4001;  // an end whose handshake finished after the end

int index(Side s) {
  return s == Side::device ? 0 : 1;
}
const char* name(Side s) {
  return s == Side::device ? "device" : "supporter";
}

struct End {
  std::uint64_t token = 0;             // the handler holding this side; 0: free
  std::shared_ptr<net::WebSocket> ws;  // from on_open until the session ends or this end closes
  bool open = false;
  bool waiting_for_drain = false;  // paused because the other end's send queue is full
  bool warned_text = false;
};

// One session. `code` is constant; the rest is guarded by mu.
struct Link {
  explicit Link(std::string c) : code(std::move(c)) {}
  const std::string code;
  std::mutex mu;
  End ends[2];
  bool connected_once = false;  // an end has opened: on_end is owed
  bool paired = false;
  bool ended = false;
};

// A close to perform once the locks are released.
struct Closing {
  std::shared_ptr<net::WebSocket> ws;
  std::uint16_t code;
  std::string reason;
};
using Closings = std::vector<Closing>;

void perform(Closings& closings) {
  for (auto& c : closings) c.ws->close(c.code, std::move(c.reason));
  closings.clear();
}

struct Event {
  enum Kind { connected, paired, ended } kind;
  std::string code;
  Side side = Side::device;
  std::string reason;
};

}  // namespace

struct Pairing::Core : std::enable_shared_from_this<Pairing::Core> {
  Core(PairingOptions o, EndCallback e, ConnectedCallback c, PairedCallback p)
      : options(o), on_end(std::move(e)), on_connected(std::move(c)), on_paired(std::move(p)) {}

  // Handler entry points.
  void open(const std::shared_ptr<Link>& link, Side side, std::uint64_t token,
            std::shared_ptr<net::WebSocket> ws);
  void forward(Link& link, Side from, std::string data, bool binary);
  void drained(Link& link, Side side);
  // The end on `side` went away with `reason` (its close frame's; "" if none or it dropped).
  void closed(const std::shared_ptr<Link>& link, Side side, std::uint64_t token,
              const std::string& reason);
  void release(const std::shared_ptr<Link>& link, Side side, std::uint64_t token);

  // Under mu and link.mu: marks the session ended, forgets it, owes on_end, and hands the
  // closes of its open ends (`code`/`message` to each) to the caller.
  void end_locked(Link& link, const std::string& reason, std::uint16_t code,
                  const std::string& message, Closings& out);
  void push_locked(Event event);
  void tombstone_locked(const std::string& code);
  void expire(const std::shared_ptr<Link>& link);
  void run();  // the Core thread: callbacks, peer-wait deadlines, tombstone expiry
  void deliver(const Event& event);

  // Constant after construction (the callbacks are cleared once the thread has stopped).
  const PairingOptions options;
  EndCallback on_end;
  ConnectedCallback on_connected;
  PairedCallback on_paired;

  struct Deadline {
    Clock::time_point at;
    std::weak_ptr<Link> link;
    bool operator>(const Deadline& o) const { return at > o.at; }
  };

  // Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, std::shared_ptr<Link>> links;
  std::unordered_map<std::string, Clock::time_point> ended;  // code → when it is forgotten
  std::deque<std::pair<Clock::time_point, std::string>> ended_order;  // ttl is constant: FIFO
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
  std::deque<Event> events;
  std::uint64_t next_token = 0;
  bool shutting_down = false;  // ~Pairing has begun: no new ends
  bool stop_thread = false;    // the thread exits once the events are delivered
  bool silent = false;         // the thread has stopped: events are dropped

  std::thread thread;
};

namespace {

// The handler of one end. Holds the Core and the Link, which therefore outlive it.
class EndHandler final : public net::WebSocketHandler {
 public:
  EndHandler(std::shared_ptr<Pairing::Core> core, std::shared_ptr<Link> link, Side side,
             std::uint64_t token)
      : core_(std::move(core)), link_(std::move(link)), side_(side), token_(token) {}
  // A handler destroyed without on_close never opened (refused, failed handshake): free the side.
  ~EndHandler() override { core_->release(link_, side_, token_); }

  void on_open(std::shared_ptr<net::WebSocket> ws) override {
    core_->open(link_, side_, token_, std::move(ws));
  }
  void on_message(std::string data, bool binary) override {
    core_->forward(*link_, side_, std::move(data), binary);
  }
  void on_drain() override { core_->drained(*link_, side_); }
  void on_close(std::uint16_t code, std::string reason) override {
    core_->closed(link_, side_, token_, reason);
  }

 private:
  const std::shared_ptr<Pairing::Core> core_;
  const std::shared_ptr<Link> link_;
  const Side side_;
  const std::uint64_t token_;
};

}  // namespace

void Pairing::Core::open(const std::shared_ptr<Link>& link, Side side, std::uint64_t token,
                         std::shared_ptr<net::WebSocket> ws) {
  Closings closings;
  {
    std::lock_guard core_lock(mu);
    std::lock_guard link_lock(link->mu);
    End& self = link->ends[index(side)];
    if (link->ended || shutting_down || self.token != token) {
      closings.push_back({std::move(ws), shutting_down ? kGoingAway : kSessionEnded,
                          shutting_down ? "relay shutting down" : "session ended"});
    } else {
      End& peer = link->ends[1 - index(side)];
      self.open = true;
      self.ws = ws;
      link->connected_once = true;
      push_locked({Event::connected, link->code, side, {}});
      if (peer.open) {
        link->paired = true;
        push_locked({Event::paired, link->code, side, {}});
        peer.ws->resume_reading();
      } else {
        // What the lone end sends waits in TCP until the other end is here.
        ws->pause_reading();
        deadlines.push({Clock::now() + options.peer_wait, link});
        cv.notify_one();
      }
    }
  }
  perform(closings);
}

void Pairing::Core::forward(Link& link, Side from, std::string data, bool binary) {
  std::lock_guard lock(link.mu);
  End& src = link.ends[index(from)];
  // Text messages are the device's notices to the supporter (link/notice.h), small and few;
  // the supporter has nothing to say that way, and the stream itself is binary.
  if (!binary && (from != Side::device || data.size() > link::kMaxNotice)) {
    if (!std::exchange(src.warned_text, true))
      log::warn("relay.text_dropped", {{"code", link.code}, {"side", name(from)}});
    return;
  }
  // Unpaired or ended: only while this end is being closed (a close lifts the pause).
  if (link.ended || !link.paired) return;
  End& dst = link.ends[1 - index(from)];
  if (!dst.ws || !src.ws) return;
  if (!dst.ws->send(std::move(data), binary)) {
    src.waiting_for_drain = true;
    src.ws->pause_reading();
  }
}

void Pairing::Core::drained(Link& link, Side side) {
  std::lock_guard lock(link.mu);
  End& src = link.ends[1 - index(side)];
  if (link.ended || !src.waiting_for_drain || !src.ws) return;
  src.waiting_for_drain = false;
  src.ws->resume_reading();
}

void Pairing::Core::closed(const std::shared_ptr<Link>& link, Side side, std::uint64_t token,
                           const std::string& reason) {
  Closings closings;
  std::shared_ptr<net::WebSocket> gone;  // dropped after the locks
  {
    std::lock_guard core_lock(mu);
    std::lock_guard link_lock(link->mu);
    End& self = link->ends[index(side)];
    if (self.token != token) return;
    gone = std::move(self.ws);
    self.open = false;
    self.token = 0;
    if (!link->ended) {
      // The staying end hears why (the viewer says "ended by the user" from the agent's
      // reason); a close frame's reason is at most 123 bytes, so it fits as it came.
      end_locked(*link, side == Side::device ? "deviceLeft" : "supporterLeft", kNormal,
                 reason.empty() ? "the other side left" : reason, closings);
    }
  }
  perform(closings);
}

void Pairing::Core::release(const std::shared_ptr<Link>& link, Side side, std::uint64_t token) {
  std::lock_guard core_lock(mu);
  std::lock_guard link_lock(link->mu);
  End& self = link->ends[index(side)];
  if (self.token != token) return;  // on_close already released it
  self.token = 0;
  if (link->ended || link->connected_once) return;
  if (link->ends[0].token == 0 && link->ends[1].token == 0) {
    auto it = links.find(link->code);
    if (it != links.end() && it->second == link) links.erase(it);
  }
}

void Pairing::Core::end_locked(Link& link, const std::string& reason, std::uint16_t code,
                               const std::string& message, Closings& out) {
  link.ended = true;
  for (End& e : link.ends) {
    e.waiting_for_drain = false;
    if (e.ws) out.push_back({std::move(e.ws), code, message});
  }
  if (link.connected_once) push_locked({Event::ended, link.code, Side::device, reason});
  auto it = links.find(link.code);
  if (it != links.end() && it->second.get() == &link) links.erase(it);
  tombstone_locked(link.code);
}

void Pairing::Core::push_locked(Event event) {
  if (silent) return;
  events.push_back(std::move(event));
  cv.notify_one();
}

void Pairing::Core::tombstone_locked(const std::string& code) {
  auto until = Clock::now() + options.ended_ttl;
  if (ended.try_emplace(code, until).second) ended_order.emplace_back(until, code);
}

void Pairing::Core::expire(const std::shared_ptr<Link>& link) {
  Closings closings;
  {
    std::lock_guard core_lock(mu);
    std::lock_guard link_lock(link->mu);
    if (link->ended || link->paired) return;
    end_locked(*link, "peerTimeout", kPeerTimeout, "the other side did not connect in time",
               closings);
  }
  perform(closings);
}

void Pairing::Core::run() {
  std::unique_lock lock(mu);
  for (;;) {
    if (!events.empty()) {
      auto batch = std::move(events);
      events.clear();
      lock.unlock();
      for (const auto& event : batch) deliver(event);
      lock.lock();
      continue;
    }
    if (stop_thread) return;
    auto now = Clock::now();
    if (!deadlines.empty() && deadlines.top().at <= now) {
      auto link = deadlines.top().link.lock();
      deadlines.pop();
      if (link) {
        lock.unlock();
        expire(link);
        lock.lock();
      }
      continue;
    }
    while (!ended_order.empty() && ended_order.front().first <= now) {
      auto it = ended.find(ended_order.front().second);
      if (it != ended.end() && it->second <= now) ended.erase(it);
      ended_order.pop_front();
    }
    auto wake = now + std::chrono::minutes(1);
    if (!deadlines.empty()) wake = std::min(wake, deadlines.top().at);
    if (!ended_order.empty()) wake = std::min(wake, ended_order.front().first);
    cv.wait_until(lock, wake);
  }
}

void Pairing::Core::deliver(const Event& event) {
  try {
    switch (event.kind) {
      case Event::connected:
        if (on_connected) on_connected(event.code, event.side);
        break;
      case Event::paired:
        if (on_paired) on_paired(event.code);
        break;
      case Event::ended:
        if (on_end) on_end(event.code, event.reason);
        break;
    }
  } catch (const std::exception& e) {
    log::error("relay.pairing_callback_failed", {{"code", event.code}, {"error", e.what()}});
  }
}

Pairing::Pairing(PairingOptions options, EndCallback on_end, ConnectedCallback on_connected,
                 PairedCallback on_paired)
    : core_(std::make_shared<Core>(options, std::move(on_end), std::move(on_connected),
                                   std::move(on_paired))) {
  core_->thread = std::thread([core = core_.get()] { core->run(); });
}

Pairing::~Pairing() {
  Closings closings;
  {
    std::lock_guard core_lock(core_->mu);
    core_->shutting_down = true;
    auto links = core_->links;  // end_locked erases from the map
    for (auto& [code, link] : links) {
      std::lock_guard link_lock(link->mu);
      core_->end_locked(*link, "shutdown", kGoingAway, "relay shutting down", closings);
    }
  }
  perform(closings);
  {
    std::lock_guard lock(core_->mu);
    core_->stop_thread = true;
    core_->cv.notify_one();
  }
  core_->thread.join();
  {
    std::lock_guard lock(core_->mu);
    core_->silent = true;
    core_->events.clear();
  }
  // Only the joined thread read these; handlers that outlive us must not keep the caller's state.
  core_->on_end = nullptr;
  core_->on_connected = nullptr;
  core_->on_paired = nullptr;
}

Result<std::shared_ptr<net::WebSocketHandler>> Pairing::attach(const std::string& code, Side side) {
  std::lock_guard core_lock(core_->mu);
  if (core_->shutting_down) {
    return make_error(Errc::unavailable, "shuttingDown",
                      "The relay is shutting down; try again shortly.");
  }
  if (core_->ended.count(code)) {
    return make_error(Errc::gone, "sessionEnded",
                      "This session has ended and cannot be joined again; request a new session.");
  }
  auto& link = core_->links[code];
  if (!link) link = std::make_shared<Link>(code);
  std::lock_guard link_lock(link->mu);
  End& end = link->ends[index(side)];
  if (end.token != 0) {
    return make_error(Errc::conflict, "alreadyConnected",
                      fmt::format("The {} end of this session is already connected.", name(side)));
  }
  end.token = ++core_->next_token;
  return std::shared_ptr<net::WebSocketHandler>(
      std::make_shared<EndHandler>(core_, link, side, end.token));
}

void Pairing::close(const std::string& code, const std::string& reason) {
  Closings closings;
  {
    std::lock_guard core_lock(core_->mu);
    auto it = core_->links.find(code);
    if (it == core_->links.end()) {
      if (!core_->shutting_down) core_->tombstone_locked(code);
      return;
    }
    auto link = it->second;
    std::lock_guard link_lock(link->mu);
    bool shutdown = reason == "shutdown";
    core_->end_locked(*link, reason, shutdown ? kGoingAway : kNormal,
                      shutdown ? "relay shutting down" : "session closed", closings);
  }
  perform(closings);
}

std::optional<Pairing::State> Pairing::state(const std::string& code) const {
  std::lock_guard core_lock(core_->mu);
  auto it = core_->links.find(code);
  if (it != core_->links.end()) {
    std::lock_guard link_lock(it->second->mu);
    const Link& link = *it->second;
    return State{link.ends[0].open, link.ends[1].open, link.ended};
  }
  if (core_->ended.count(code)) return State{false, false, true};
  return std::nullopt;
}

std::size_t Pairing::active_sessions() const {
  std::lock_guard lock(core_->mu);
  return core_->links.size();
}

}  // namespace reach::relay
