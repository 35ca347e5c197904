// Shared command-line handling for Reach's programs (CLI11): --help and --version print and exit
// 0; a bad argument prints one line "PROGRAM: message (see --help)" and exits 2.
#pragma once

#include "common/result.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace reach::cli {

// Returns the exit code to stop with, or nullopt to go on.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv, const char* program) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    for (auto& c : msg)
      if (c == '\n') c = ' ';
    std::fprintf(stderr, "%s: %s (see --help)\n", program, msg.c_str());
    return 2;
  }
  return std::nullopt;
}

// A server's connection limits as flags (net::ServerOptions::max_connections and
// reserved_connections): --max-connections (0: from the file descriptor limit) and
// --reserved-connections, kept for `reserved_for` (e.g. "API requests").
// Also the per-client caps (max_connections_per_client, max_websockets_per_client; 0: the
// server's defaults).
struct ConnectionLimits {
  int max = 0;
  int reserved = 64;
  int per_client = 0;
  int websockets_per_client = 0;
};
inline void add_connection_limits(CLI::App* cmd, ConnectionLimits& limits,
                                  const std::string& reserved_for) {
  cmd->add_option("--max-connections", limits.max,
                  "Open connections at most (0: as many as the file descriptor limit allows)")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd->add_option("--reserved-connections", limits.reserved,
                  "Connections kept for " + reserved_for + ": WebSockets may not take them")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--max-connections-per-client", limits.per_client,
                  "HTTP connections one client (an IPv4 address, an IPv6 /64) may hold; a "
                  "--trusted-proxy holds any number (0: max(16, max connections / 16))")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  cmd->add_option("--max-websockets-per-client", limits.websockets_per_client,
                  "WebSockets one client may hold, behind a --trusted-proxy the client its "
                  "X-Forwarded-For names (0: max(16, (max - reserved connections) / 4))")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
}

// "HOST:PORT" (IPv6 hosts in brackets) → host and port.
inline Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return bad_request("--listen must be HOST:PORT, e.g. 127.0.0.1:8400");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string port_text = listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos)
    return bad_request("--listen must be HOST:PORT with a port from 0 to 65535");
  int port = std::stoi(port_text);
  if (port > 65535) return bad_request("--listen must be HOST:PORT with a port from 0 to 65535");
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace reach::cli
