#include "relay/nodes.h"

#include "common/log.h"
#include "common/time.h"
#include "relay/internal.h"
#include "relay/node_store.h"
#include "relay/pairing.h"

#include <vector>

namespace reach::relay {
namespace {

// The store channel on which a node asks the owner of a session to end its streams.
constexpr const char* kEndStreams = "reach_relay_end_streams";

std::string presence_name(const std::string& node) {
  return "relay-node:" + node;
}

Error lost_with_node() {
  return make_error(Errc::gone, "session_ended",
                    "The relay node that carried this session stopped, so the session has "
                    "ended. Request a new session.");
}

}  // namespace

Nodes::Nodes(store::Database& db, Pairing& pairing, Options options)
    : db_(db), pairing_(pairing), options_(std::move(options)) {
  listener_->pairing = &pairing_;
}

Nodes::~Nodes() {
  {
    std::lock_guard lock(listener_->mu);
    listener_->pairing = nullptr;
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status Nodes::start() {
  if (auto st = db_.claim_presence(presence_name(options_.name)); !st) {
    if (st.error().kind == Errc::conflict)
      return make_error(Errc::conflict, "conflict",
                        "a running relay node on this database is already named '" + options_.name +
                            "'; give each node its own --node-name");
    return st;
  }
  // A previous process with this name died with whatever it was streaming.
  auto ended = take_over(options_.name, false);
  if (!ended) return ended.error();
  if (*ended > 0)
    log::warn("relay.previous_sessions_ended", {{"node", options_.name}, {"sessions", *ended}});
  if (auto recorded = record_node(db_, options_.name, options_.url, now_ms()); !recorded)
    return recorded;
  db_.listen(kEndStreams, [listener = listener_](const std::string& code) {
    std::lock_guard lock(listener->mu);
    // Only sessions with an end here: a close elsewhere must not leave tombstones everywhere.
    if (listener->pairing && !code.empty() && listener->pairing->state(code))
      listener->pairing->close(code, "closed");
  });
  thread_ = std::thread([this] { watch(); });
  return {};
}

Result<Nodes::Route> Nodes::route(const std::string& code) {
  // Two rounds at most: a claim that loses a race reads the winner.
  for (int round = 0; round < 3; ++round) {
    auto found = find_session_owner(db_, code);
    if (!found) return found.error();
    if (!*found) return make_error(Errc::not_found, "not_found", "No open session has this code.");
    const SessionOwner& owner = **found;
    if (owner.node == options_.name) return Route{};
    if (!owner.node) {
      auto claimed = claim_session(db_, code, options_.name, std::nullopt);
      if (!claimed) return claimed.error();
      if (*claimed) return Route{};
      continue;
    }
    auto alive = db_.present(presence_name(*owner.node));
    if (!alive) return alive.error();
    if (*alive && owner.node_url) return Route{false, *owner.node_url};
    // The owner is gone: its streams went with it; a session that never streamed is free.
    if (owner.streamed) {
      auto st = db_.transaction(
          [&](store::Session& s) { return close_session(s, code, "nodeLost", now_ms()); });
      if (!st) return st.error();
      return lost_with_node();
    }
    auto taken = claim_session(db_, code, options_.name, owner.node);
    if (!taken) return taken.error();
    if (*taken) return Route{};
  }
  return make_error(Errc::unavailable, "internal_error",
                    "The relay nodes could not agree on where this session runs; try again.");
}

std::string Nodes::stream_base(const Route& route) const {
  if (route.here && !options_.url_given) return {};
  std::string url = route.here ? options_.url : route.node_url;
  if (url.starts_with("https://"))
    url = "wss://" + url.substr(8);
  else if (url.starts_with("http://"))
    url = "ws://" + url.substr(7);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void Nodes::end_streams(const std::string& code) {
  if (pairing_.state(code)) pairing_.close(code, "closed");
  if (auto st = db_.notify(kEndStreams, code); !st)
    log::warn("relay.end_streams_failed", {{"code", code}, {"error", st.error().message}});
}

Result<int> Nodes::take_over(const std::string& node, bool forget) {
  int ended = 0;
  auto st = db_.transaction([&](store::Session& s) -> Status {
    ended = 0;
    auto streamed = streamed_sessions_of(s, node);
    if (!streamed) return streamed.error();
    for (const auto& code : *streamed) {
      if (auto c = close_session(s, code, "nodeLost", now_ms()); !c) return c;
      ++ended;
    }
    if (auto freed = release_sessions_of(s, node); !freed) return freed;
    if (forget) return forget_node(s, node);
    return {};
  });
  if (!st) return st.error();
  return ended;
}

void Nodes::sweep() {
  auto nodes = other_nodes(db_, options_.name);
  if (!nodes) {
    log::warn("relay.node_check_failed", {{"error", nodes.error().message}});
    return;
  }
  for (const std::string& node : *nodes) {
    auto alive = db_.present(presence_name(node));
    if (!alive || *alive) continue;
    auto ended = take_over(node, true);
    if (!ended) {
      log::warn("relay.node_check_failed", {{"node", node}, {"error", ended.error().message}});
      continue;
    }
    log::warn("relay.node_lost", {{"node", node}, {"sessions_ended", *ended}});
  }
}

void Nodes::watch() {
  std::unique_lock lock(mu_);
  for (;;) {
    lock.unlock();
    sweep();
    lock.lock();
    if (cv_.wait_for(lock, options_.check_interval, [this] { return stopping_; })) return;
  }
}

}  // namespace reach::relay
