// reach-relay: the remote-assistance service. Parses flags, wires the modules, runs.
#include "common/cli.h"
#include "common/crypto.h"
#include "common/log.h"
#include "net/server.h"
#include "relay/admin.h"
#include "relay/relay.h"

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace {

using namespace reach;

int fail(const std::string& message) {
  std::fprintf(stderr, "reach-relay: %s\n", message.c_str());
  return 1;
}

struct ServeFlags {
  std::string data, listen = "127.0.0.1:8500", public_url, db_url, tls_cert, tls_key, static_dir;
  std::string node_name, node_url;
  std::vector<std::string> trusted_proxies;
  int node_check_ms = 1000;
  std::string log_level = "info";
  int request_timeout_ms = 15000;
  int access_token_ttl = 3600;
  int peer_wait_ms = 600000;
  int sessions_page_size = 1000;
  int workers = 4;
  cli::ConnectionLimits limits;
  int io_threads = 0;  // 0: one per core
};

// The viewer's files: next to the binary (build tree: ../share/reach-relay/static).
std::string default_static_dir(const char* argv0) {
  std::error_code ec;
  auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  if (ec) return {};
  auto dir = exe.parent_path().parent_path() / "share" / "reach-relay" / "static";
  return std::filesystem::exists(dir) ? dir.string() : std::string();
}

int serve(ServeFlags f, const char* argv0) {
  log::init("reach-relay", f.log_level);
  if (f.tls_cert.empty() != f.tls_key.empty()) return fail("--tls-cert and --tls-key go together");
  auto listen = cli::parse_listen(f.listen);
  if (!listen) return fail(listen.error().message);
  auto opened = relay::open_initialised(f.data, f.db_url);
  if (!opened) return fail(opened.error().message);
  relay::RelayConfig config;
  config.public_url = f.public_url;
  config.static_dir = f.static_dir.empty() ? default_static_dir(argv0) : f.static_dir;
  config.access_token_ttl = std::chrono::seconds(f.access_token_ttl);
  config.peer_wait = std::chrono::milliseconds(f.peer_wait_ms);
  config.sessions_page_size = f.sessions_page_size;
  config.trusted_proxies = f.trusted_proxies;
  if (f.node_name.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "relay");
    config.node_name = fmt::format("{}/{}", host, ::getpid());
  } else {
    config.node_name = f.node_name;
  }
  auto relay = std::make_shared<relay::Relay>(config, opened->db, opened->key);

  net::ServerOptions opts;
  opts.host = listen->first;
  opts.port = listen->second;
  if (!f.tls_cert.empty()) opts.tls = net::TlsFiles{f.tls_cert, f.tls_key};
  opts.request_timeout = std::chrono::milliseconds(f.request_timeout_ms);
  opts.worker_threads = static_cast<std::size_t>(f.workers);
  opts.io_threads = f.io_threads > 0 ? static_cast<std::size_t>(f.io_threads)
                                     : std::max(1u, std::thread::hardware_concurrency());
  opts.ws_message_limit = 1024 * 1024;
  // What one end may have queued before the other end stops being read (Pairing). 256 KiB keeps
  // a 64 KiB-message stream flowing, and a busy pair's memory small: with 100 busy sessions,
  // 1 MiB queues spread the bytes over four times the memory and moved 10–20 % fewer of them
  // (bench/relay, 2026-12-03).
  opts.ws_send_queue_limit = 256 * 1024;
  opts.max_connections = static_cast<std::size_t>(f.limits.max);
  opts.reserved_connections = static_cast<std::size_t>(f.limits.reserved);
  opts.max_connections_per_client = static_cast<std::size_t>(f.limits.per_client);
  opts.max_websockets_per_client = static_cast<std::size_t>(f.limits.websockets_per_client);
  opts.trusted_proxies = f.trusted_proxies;
  net::Server server(
      opts, [relay](net::Request& r) { return relay->handle(r); },
      [relay](net::Request& r, net::Response& reject) { return relay->upgrade(r, reject); });
  auto bound = server.listen();
  if (!bound) return fail(bound.error().message);
  // Among the nodes on the store: the URL that reaches this node directly (default: the address
  // it listens on, which is all one node alone needs).
  std::string node_url =
      f.node_url.empty() ? (opts.tls ? "https://" : "http://") + *bound : f.node_url;
  if (auto st =
          relay->join(node_url, !f.node_url.empty(), std::chrono::milliseconds(f.node_check_ms));
      !st)
    return fail(st.error().message);
  std::printf("%s\n", bound->c_str());
  std::fflush(stdout);
  relay->set_server_stats_source(
      [&server] { return net::Server::metrics_text(server.stats(), "reach_relay"); });
  log::info("relay.listening", {{"address", *bound},
                                {"tls", opts.tls.has_value()},
                                {"node", config.node_name},
                                {"node_url", node_url},
                                {"store", opened->db->describe()}});
  server.stop_on_signals();
  server.run();
  log::info("relay.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  reach::crypto::init();
  CLI::App app{
      "reach-relay: the Reach remote-assistance service (accounts, OAuth 2, sessions "
      "API, relay, viewer, portal)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", REACH_VERSION);

  std::string init_db_url;
  std::string data, email, name, redirect_uri;
  auto* init = app.add_subcommand("init",
                                  "Create the data directory and the first supporter "
                                  "account (password from REACH_ADMIN_PASSWORD, else "
                                  "generated and printed once)");
  init->add_option("--data", data, "Data directory")->required();
  init->add_option("--admin-email", email, "The first account's email")->required();
  init->add_option("--db", init_db_url,
                   "PostgreSQL URL (postgresql://…) for the data; the data directory records it "
                   "(default: SQLite in the data directory)");

  ServeFlags sf;
  auto* serve_cmd = app.add_subcommand("serve", "Run the service");
  serve_cmd->add_option("--data", sf.data, "Data directory")->required();
  serve_cmd
      ->add_option("--listen", sf.listen,
                   "HOST:PORT (port 0: any free port, printed on "
                   "the first line)")
      ->capture_default_str();
  serve_cmd->add_option("--public-url", sf.public_url, "URL that browsers and agents use");
  serve_cmd->add_option("--node-name", sf.node_name,
                        "This node's name in health and metrics (default: HOST/PID)");
  serve_cmd->add_option("--node-url", sf.node_url,
                        "The URL that reaches this node directly, where the other nodes send a "
                        "session's streams (several nodes; default: http://LISTEN)");
  serve_cmd
      ->add_option("--node-check-ms", sf.node_check_ms,
                   "How often the other nodes' presence is checked (their streaming sessions "
                   "end when they die)")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
  serve_cmd->add_option("--trusted-proxy", sf.trusted_proxies,
                        "Address of a load balancer in front of this node (repeatable): its "
                        "X-Forwarded-For names the client");
  serve_cmd->add_option("--db", sf.db_url,
                        "Database URL (default: the one 'init --db' recorded, else SQLite in the "
                        "data directory)");
  serve_cmd->add_option("--tls-cert", sf.tls_cert, "PEM certificate chain")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--tls-key", sf.tls_key, "PEM private key")->check(CLI::ExistingFile);
  serve_cmd->add_option("--static-dir", sf.static_dir, "The viewer's files (noVNC)");
  serve_cmd->add_option("--request-timeout-ms", sf.request_timeout_ms, "Time to send a request")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  serve_cmd->add_option("--access-token-ttl", sf.access_token_ttl, "Access token lifetime, s")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve_cmd
      ->add_option("--peer-wait-ms", sf.peer_wait_ms,
                   "How long the first end of a session waits for the other")
      ->check(CLI::Range(100, 86400000))
      ->capture_default_str();
  serve_cmd->add_option("--sessions-page-size", sf.sessions_page_size, "Sessions per list page")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  serve_cmd->add_option("--io-threads", sf.io_threads, "Threads that move bytes (0: one per core)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  cli::add_connection_limits(serve_cmd, sf.limits, "the API and pages");
  serve_cmd->add_option("--workers", sf.workers, "Handler threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve_cmd->add_option("--log-level", sf.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  auto* client = app.add_subcommand("client", "OAuth applications");
  client->require_subcommand(1);
  auto* client_add = client->add_subcommand("add",
                                            "Register an application; prints JSON "
                                            "{\"client_id\",\"client_secret\"}");
  client_add->add_option("--data", data, "Data directory")->required();
  client_add->add_option("--name", name, "The application's name, shown on the consent page")
      ->required();
  client_add->add_option("--redirect-uri", redirect_uri, "Its exact redirect URI")->required();

  auto* token = app.add_subcommand("token", "Script tokens");
  token->require_subcommand(1);
  auto* token_create =
      token->add_subcommand("create", "A long-lived token for the sessions API; prints it");
  token_create->add_option("--data", data, "Data directory")->required();
  token_create->add_option("--email", email, "The account's email")->required();

  std::string client_id;
  auto* grant = app.add_subcommand("grant", "Applications' access (OAuth grants)");
  grant->require_subcommand(1);
  auto* grant_revoke = grant->add_subcommand(
      "revoke", "Withdraw an application's access: its tokens stop working at once");
  grant_revoke->add_option("--data", data, "Data directory")->required();
  grant_revoke->add_option("--client", client_id, "The application's client id")->required();

  auto* account = app.add_subcommand("account", "Supporter accounts");
  account->require_subcommand(1);
  auto* account_add =
      account->add_subcommand("add", "Add a supporter account (password from REACH_PASSWORD)");
  account_add->add_option("--data", data, "Data directory")->required();
  account_add->add_option("--email", email, "Email")->required();
  account_add->add_option("--name", name, "Display name");

  if (auto exit_code = reach::cli::parse(app, argc, argv, "reach-relay")) return *exit_code;
  reach::log::init("reach-relay", "warn");

  if (init->parsed()) {
    const char* pw = std::getenv("REACH_ADMIN_PASSWORD");
    auto r = reach::relay::init_data_dir(
        data, email, pw && *pw ? std::optional<std::string>(pw) : std::nullopt, init_db_url);
    if (!r) return fail(r.error().message);
    std::printf("Initialised %s\nAccount: %s\n", data.c_str(), email.c_str());
    if (r->password_generated)
      std::printf("Password: %s\n(shown once; it is stored only as an argon2id hash)\n",
                  r->password.c_str());
    else
      std::printf("Password: as given in REACH_ADMIN_PASSWORD\n");
    return 0;
  }
  if (serve_cmd->parsed()) return serve(sf, argv[0]);
  if (client_add->parsed()) {
    auto c = reach::relay::add_client(data, name, redirect_uri);
    if (!c) return fail(c.error().message);
    std::printf("{\"client_id\":\"%s\",\"client_secret\":\"%s\"}\n", c->client_id.c_str(),
                c->client_secret.c_str());
    return 0;
  }
  if (token_create->parsed()) {
    auto t = reach::relay::create_script_token(data, email);
    if (!t) return fail(t.error().message);
    std::printf("%s\n", t->c_str());
    return 0;
  }
  if (grant_revoke->parsed()) {
    auto n = reach::relay::revoke_grants(data, client_id);
    if (!n) return fail(n.error().message);
    std::printf("revoked %d grant(s)\n", *n);
    return 0;
  }
  if (account_add->parsed()) {
    const char* pw = std::getenv("REACH_PASSWORD");
    if (!pw || !*pw) return fail("set REACH_PASSWORD to the new account's password");
    auto id = reach::relay::add_account(data, email, pw, name.empty() ? email : name);
    if (!id) return fail(id.error().message);
    std::printf("%s\n", id->c_str());
    return 0;
  }
  return fail("nothing to do (see --help)");
}
