// reach-hub's service: the Graph-compatible management API, sign-in, enrollment, audit, health
// and metrics, as one HTTP handler over a store::Database. The program (main.cpp) owns the
// net::Server and feeds it Hub::handle.
//
// Thread-safety: handle() is called concurrently from the server's worker threads.
#pragma once

#include "net/http.h"
#include "net/websocket.h"
#include "store/db.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace reach::hub {

struct HubConfig {
  std::string public_url;  // e.g. "https://hub.example.com"; empty: derived from Host
  bool tls = false;
  std::chrono::hours session_lifetime{12};
  std::string secret_key;  // 32 bytes from the data directory: seals the connector's secrets
  // A session the relay closed is recorded as ended this long after, unless the device has
  // reported its end (with its reason) meanwhile.
  std::chrono::milliseconds relay_close_grace{30000};
  // How long an administrator has to complete the connector's onboarding (SPEC §3.1).
  std::chrono::milliseconds onboarding_ttl{std::chrono::minutes(15)};
  // The admin center's built files (index.html, assets/): served at "/". Empty: not installed.
  std::string admin_dir;
  // This process's name among the nodes on one store (health, metrics, logs); unique per node.
  std::string node_name;
  // Load balancers in front of this node (their addresses, as the node sees them): a request from
  // one of them is taken to come from the last address of its X-Forwarded-For, which the balancer
  // appends (nginx's $proxy_add_x_forwarded_for). From any other peer the header is ignored, so a
  // client cannot choose the address it is throttled and audited as.
  std::vector<std::string> trusted_proxies;
  // How often a node looks in the outbox for notifications whose signal it may have missed.
  std::chrono::milliseconds outbox_sweep{2000};
  // Bytes of rendered device list pages kept between changes (hub/page_cache.h); 0: none. On
  // SQLite only: see migration 12.
  std::size_t list_cache_bytes = 32u << 20;
};

class Hub {
 public:
  Hub(HubConfig config, std::shared_ptr<store::Database> db);
  ~Hub();

  net::Response handle(net::Request& request);
  // WebSocket upgrades (the agents' push channel at /api/agent/channel); nullptr with `reject`
  // filled to refuse. Called on worker threads.
  std::shared_ptr<net::WebSocketHandler> upgrade(net::Request& request, net::Response& reject);

  // Counters exported on /api/metrics beside the hub's own.
  void set_server_stats_source(std::function<std::string()> prometheus_lines);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The HTTP server's own error answers (malformed, oversized, failed requests) as Graph errors.
net::Response server_error_response(int status, std::string_view code, std::string_view message);

// Opens the data directory's database and applies migrations.
// The hub's store: `db_url`, else the one recorded in the data directory, else its SQLite file.
Result<std::shared_ptr<store::Database>> open_database(const std::string& data_dir,
                                                       const std::string& db_url = {});

}  // namespace reach::hub
