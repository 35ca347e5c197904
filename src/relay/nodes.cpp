#include "relay/nodes.h"

#include "common/log.h"
#include "common/time.h"
#include "relay/internal.h"
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
  auto recorded = db_.exec(
      "INSERT INTO relay_nodes (name, url, started_at) VALUES (?, ?, ?)"
      " ON CONFLICT (name) DO UPDATE SET url = excluded.url, started_at = excluded.started_at",
      {options_.name, options_.url, now_ms()});
  if (!recorded) return recorded.error();
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
    auto rows = db_.query(
        "SELECT s.owner_node, s.device_connected_at, s.supporter_connected_at, n.url"
        " FROM sessions s LEFT JOIN relay_nodes n ON n.name = s.owner_node WHERE s.code = ?",
        {code});
    if (!rows) return rows.error();
    if (rows->empty())
      return make_error(Errc::not_found, "not_found", "No open session has this code.");
    const auto& row = rows->rows[0];
    const std::string owner = row.text(0);
    if (owner == options_.name) return Route{};
    if (owner.empty()) {
      auto claimed =
          db_.exec("UPDATE sessions SET owner_node = ? WHERE code = ? AND owner_node IS NULL",
                   {options_.name, code});
      if (!claimed) return claimed.error();
      if (*claimed == 1) return Route{};
      continue;
    }
    auto alive = db_.present(presence_name(owner));
    if (!alive) return alive.error();
    if (*alive && !row.null(3)) return Route{false, row.text(3)};
    // The owner is gone: its streams went with it; a session that never streamed is free.
    if (!row.null(1) || !row.null(2)) {
      auto st = db_.transaction(
          [&](store::Session& s) { return close_session(s, code, "nodeLost", now_ms()); });
      if (!st) return st.error();
      return lost_with_node();
    }
    auto taken = db_.exec("UPDATE sessions SET owner_node = ? WHERE code = ? AND owner_node = ?",
                          {options_.name, code, owner});
    if (!taken) return taken.error();
    if (*taken == 1) return Route{};
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
    auto rows = s.query(
        "SELECT code FROM sessions WHERE owner_node = ? AND state = 'open'"
        " AND (device_connected_at IS NOT NULL OR supporter_connected_at IS NOT NULL)",
        {node});
    if (!rows) return rows.error();
    for (const auto& r : rows->rows) {
      if (auto c = close_session(s, r.text(0), "nodeLost", now_ms()); !c) return c;
      ++ended;
    }
    auto freed = s.exec(
        "UPDATE sessions SET owner_node = NULL WHERE owner_node = ? AND state = 'open'", {node});
    if (!freed) return freed.error();
    if (forget) {
      auto gone = s.exec("DELETE FROM relay_nodes WHERE name = ?", {node});
      if (!gone) return gone.error();
    }
    return {};
  });
  if (!st) return st.error();
  return ended;
}

void Nodes::sweep() {
  auto nodes = db_.query("SELECT name FROM relay_nodes WHERE name <> ?", {options_.name});
  if (!nodes) {
    log::warn("relay.node_check_failed", {{"error", nodes.error().message}});
    return;
  }
  for (const auto& row : nodes->rows) {
    const std::string node = row.text(0);
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
