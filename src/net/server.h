// HTTP/1.1 + WebSocket server on Beast coroutines, with optional TLS.
//
// Threading: I/O runs on `io_threads` threads; every HTTP handler runs on a separate pool of
// `worker_threads` threads (so handlers may block on SQLite or argon2id). WebSocket callbacks run
// on the connection's strand on an I/O thread and must not block.
//
// Limits on untrusted input: header bytes, body bytes, WebSocket message bytes, time to receive a
// whole request, keep-alive idle time, TLS handshake time, number of connections, in all and per
// client. A request over a limit gets a 4xx (413/431/400/408) and the connection is closed; the
// server keeps serving.
#pragma once

#include "common/result.h"
#include "net/http.h"
#include "net/websocket.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reach::net {

struct TlsFiles {
  std::string cert_file;  // PEM chain
  std::string key_file;   // PEM private key
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: pick a free port
  std::optional<TlsFiles> tls;
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds request_timeout{15000};    // whole request must arrive within this
  std::chrono::milliseconds idle_timeout{60000};       // keep-alive wait for the next request
  std::chrono::milliseconds handshake_timeout{10000};  // TLS and WebSocket handshakes
  std::size_t worker_threads = 4;
  std::size_t io_threads = 1;
  // Open connections (HTTP and WebSocket) beyond which new ones are closed at once, logged and
  // counted. 0: as many as the process's file descriptor limit allows (raised to its hard limit
  // at start), less kFdHeadroom for the store, logs and the server's own descriptors.
  std::size_t max_connections = 0;
  // Connections only plain HTTP requests may use: WebSocket upgrades (agents' channels, relay
  // streams) are refused with 503 once max_connections - reserved_connections are open, so the
  // API stays reachable when WebSockets fill the rest.
  std::size_t reserved_connections = 64;
  // Per client (reach::client_key: an IPv4 address, an IPv6 /64), so that one address cannot take
  // every connection. A client's connections that speak HTTP beyond max_connections_per_client
  // are closed at accept, like those beyond max_connections. A WebSocket counts against
  // max_websockets_per_client instead (its connection is handed over once upgraded), and an
  // upgrade beyond it gets 503. 0: the defaults below.
  //  - connections: max(16, max_connections / 16). A browser holds about 6 and an agent's HTTP
  //    calls are short, so an office behind one address fits, and a flood needs 16 addresses.
  //  - WebSockets: max(16, (max_connections - reserved_connections) / 4). An office behind one
  //    NAT holds one channel per agent, so the cap is generous (4,968 at the 19,936 of a 20,000
  //    descriptor limit): four addresses fill the WebSocket connections, and the reserve still
  //    keeps the API reachable. A bigger office behind one address needs it raised.
  std::size_t max_connections_per_client = 0;
  std::size_t max_websockets_per_client = 0;
  // Load balancers in front of the server (peer addresses, compared as use_forwarded_client
  // does). Their connections carry many clients and are not capped per client: the balancer must
  // cap its own clients (README, "Connection limits"). A WebSocket through one is counted for the
  // client that its X-Forwarded-For ends with, or not at all when that names no address.
  std::vector<std::string> trusted_proxies;
  std::size_t ws_message_limit = 1024 * 1024;
  std::size_t ws_send_queue_limit = 4 * 1024 * 1024;  // bytes; see WebSocket::send
  // Formats the answers the server itself gives (400, 413, 431, 500) in the application's error
  // format. Called on I/O threads; must not block. Empty: a small JSON body.
  std::function<Response(int status, std::string_view code, std::string_view message)>
      error_response;
};

using Handler = std::function<Response(Request&)>;

// Decides a WebSocket upgrade request. Runs on a worker thread. Returns a handler to accept the
// upgrade, or nullptr to refuse it with `reject` (which the callee fills, e.g. 401 or 404).
using UpgradeHandler =
    std::function<std::shared_ptr<WebSocketHandler>(Request& request, Response& reject)>;

// What each client holds (connections, or WebSockets) against one cap per client, keyed by
// reach::client_key(address). Thread-safe. A client's entry goes when its count returns to 0, so
// the memory follows what is open, not who ever connected.
class ClientSlots {
 public:
  explicit ClientSlots(std::size_t max_per_client) : max_(max_per_client) {}
  ClientSlots(const ClientSlots&) = delete;
  ClientSlots& operator=(const ClientSlots&) = delete;

  // One more for `address`'s client, given back when the last copy of the result is destroyed;
  // nullptr when the client already holds max_per_client. The slots must not outlive this.
  std::shared_ptr<void> take(std::string_view address);
  std::size_t held(std::string_view address) const;
  std::size_t clients() const;  // clients holding at least one
  std::size_t max_per_client() const { return max_; }

 private:
  struct Slot;
  void give_back(const std::string& key);

  const std::size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::size_t> held_;  // guarded by mu_; no zero counts
};

// Descriptors kept free of connections when the limit comes from RLIMIT_NOFILE.
inline constexpr std::size_t kFdHeadroom = 64;
// Raises the soft RLIMIT_NOFILE to the hard one and returns the connections it leaves room for.
std::size_t connections_for_fd_limit();

class Server {
 public:
  Server(ServerOptions options, Handler handler, UpgradeHandler upgrade = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns the bound address as "host:port".
  Result<std::string> listen();
  // Runs the I/O threads on the calling thread and others; returns once stop() has completed.
  void run();
  // Thread-safe. Stops accepting, lets in-flight requests finish for up to `grace`, then closes
  // every connection (WebSockets get a 1001 close). run() returns afterwards.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Makes SIGINT and SIGTERM call stop().
  void stop_on_signals();

  // Counters for /api/metrics. Thread-safe.
  struct Stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t connections_limit = 0;    // max_connections as resolved at construction
    std::uint64_t connections_refused = 0;  // closed at accept: max_connections reached
    std::uint64_t websockets_open = 0;
    std::uint64_t upgrades_refused = 0;              // 503: only the reserved connections were left
    std::uint64_t connections_per_client_limit = 0;  // as resolved at construction
    std::uint64_t connections_refused_per_client = 0;  // closed at accept: the client's cap
    std::uint64_t websockets_per_client_limit = 0;
    std::uint64_t upgrades_refused_per_client = 0;  // 503: the client's cap
    std::uint64_t requests = 0;
    std::uint64_t rejected_malformed = 0;  // parse errors, limits, timeouts
  };
  Stats stats() const;
  // The stats in Prometheus text format, each name prefixed with `prefix` (e.g. "reach_hub").
  static std::string metrics_text(const Stats& s, std::string_view prefix);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reach::net
