// reach-relay's service: accounts and pages, the OAuth 2 authorization server, the TeamViewer-
// shaped sessions API, the portal and the stream endpoints that the data plane (Pairing) joins.
// The program (main.cpp) owns the net::Server and feeds it Relay::handle and Relay::upgrade.
//
// Thread-safety: handle() and upgrade() are called concurrently from worker threads.
#pragma once

#include "common/result.h"
#include "net/http.h"
#include "net/websocket.h"
#include "store/db.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace reach::relay {

struct RelayConfig {
  std::string public_url;  // e.g. "https://relay.example.com"; empty: derived from Host
  std::string static_dir;  // the viewer's files (noVNC); empty: no viewer assets
  std::chrono::seconds access_token_ttl{3600};
  std::chrono::hours refresh_token_ttl{24 * 90};
  std::chrono::minutes auth_code_ttl{10};
  std::chrono::hours web_session_ttl{12};
  std::chrono::hours default_session_validity{24};
  std::chrono::milliseconds peer_wait{std::chrono::minutes(10)};
  int sessions_page_size = 1000;
  // This process's name among the nodes on one store (health, metrics, logs).
  std::string node_name;
  // Balancers in front of this node: their X-Forwarded-For names the client (throttles, logs).
  std::vector<std::string> trusted_proxies;
};

class Relay {
 public:
  Relay(RelayConfig config, std::shared_ptr<store::Database> db, std::string secret_key);
  ~Relay();

  // Takes this process's place among the relay nodes on the store (relay/nodes.h): `node_url`
  // reaches this node directly; `url_given`: the operator set it (--node-url). Until joined,
  // every session's streams meet here. Errors: another live node has this node's name.
  Status join(std::string node_url, bool url_given,
              std::chrono::milliseconds check_interval = std::chrono::seconds(1));

  net::Response handle(net::Request& request);
  // Prometheus lines about the server's connections, appended to GET /api/metrics.
  void set_server_stats_source(std::function<std::string()> f);
  // WebSocket upgrades of the stream endpoints; nullptr with `reject` filled to refuse.
  std::shared_ptr<net::WebSocketHandler> upgrade(net::Request& request, net::Response& reject);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The relay's store: `db_url`, else the one recorded in the data directory, else its SQLite file.
Result<std::shared_ptr<store::Database>> open_database(const std::string& data_dir,
                                                       const std::string& db_url = {});

}  // namespace reach::relay
