// Where sessions' streams meet, as a store: the registry of relay nodes (relay_nodes) and each
// session's owning node (sessions.owner_node). The rules (who claims, when a dead node's
// sessions end) are Nodes' (nodes.h).
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reach::relay {

// Records (or updates) a node and the URL its clients reach it at.
Status record_node(store::Session& s, const std::string& name, const std::string& url,
                   std::int64_t started_at);
// Every recorded node but `self`.
Result<std::vector<std::string>> other_nodes(store::Session& s, const std::string& self);
Status forget_node(store::Session& s, const std::string& name);

// A session's owner: its node (nullopt: none yet), that node's URL when recorded, and whether
// either end's stream ever connected.
struct SessionOwner {
  std::optional<std::string> node, node_url;
  bool streamed = false;
};
// nullopt when there is no session `code`.
Result<std::optional<SessionOwner>> find_session_owner(store::Session& s, const std::string& code);
// Makes `node` the owner of `code` if its owner is still `expected` (nullopt: none). Whether it
// did: false when another node changed the owner first.
Result<bool> claim_session(store::Session& s, const std::string& code, const std::string& node,
                           const std::optional<std::string>& expected);
// The open sessions `node` owns whose streams had connected.
Result<std::vector<std::string>> streamed_sessions_of(store::Session& s, const std::string& node);
// Frees `node`'s open sessions for another node to claim.
Status release_sessions_of(store::Session& s, const std::string& node);

}  // namespace reach::relay
