// reach-hub: the management service. Parses flags, wires the modules, runs.
#include "common/cli.h"
#include "common/crypto.h"
#include "common/log.h"
#include "hub/admin.h"
#include "hub/hub.h"
#include "net/server.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

namespace {

using namespace reach;

int fail(const std::string& message) {
  std::fprintf(stderr, "reach-hub: %s\n", message.c_str());
  return 1;
}

struct ServeFlags {
  std::string data, listen = "127.0.0.1:8400", public_url, db_url, tls_cert, tls_key, admin_dir;
  std::string log_level = "info";
  int request_timeout_ms = 15000;
  // Handlers are mostly CPU (SQLite reads, JSON): a thread per core, and at least two so that a
  // sign-in's argon2id or a write's fsync leaves one free. More than the cores only adds hand-offs
  // (the device list's cached page: 10.3k req/s with 2 on 2 cores, 9.0k with 4; bench/README.md).
  int workers = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 2u, 64u));
  cli::ConnectionLimits limits;
  int relay_close_grace_ms = 30000;
  int onboarding_ttl_s = 900;
  std::string node_name;
  int outbox_sweep_ms = 2000;
  int list_cache_mib = 32;
  std::vector<std::string> trusted_proxies;
};

// The admin center's files: next to the binary (build tree: ../share/reach-hub/admin).
std::string default_admin_dir() {
  std::error_code ec;
  auto exe = std::filesystem::canonical("/proc/self/exe", ec);
  if (ec) return {};
  auto dir = exe.parent_path().parent_path() / "share" / "reach-hub" / "admin";
  return std::filesystem::exists(dir) ? dir.string() : std::string();
}

// Unique among the nodes of one store: the host and this process.
std::string default_node_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "hub");
  return fmt::format("{}/{}", host, ::getpid());
}

int serve(const ServeFlags& f) {
  log::init("reach-hub", f.log_level);
  if (f.tls_cert.empty() != f.tls_key.empty()) return fail("--tls-cert and --tls-key go together");
  auto listen = cli::parse_listen(f.listen);
  if (!listen) return fail(listen.error().message);
  auto db = hub::open_initialised(f.data, f.db_url);
  if (!db) return fail(db.error().message);
  // Built-in roles follow the program version: refresh them at every start.
  if (auto st = (*db)->transaction([](store::Session& s) { return hub::refresh_builtin_roles(s); });
      !st)
    return fail(st.error().message);

  hub::HubConfig config;
  auto key = crypto::load_or_create_key(f.data + "/secret.key");
  if (!key) return fail(key.error().message);
  config.secret_key = std::move(*key);
  config.public_url = f.public_url;
  config.relay_close_grace = std::chrono::milliseconds(f.relay_close_grace_ms);
  config.onboarding_ttl = std::chrono::seconds(f.onboarding_ttl_s);
  config.tls = !f.tls_cert.empty();
  config.admin_dir = f.admin_dir.empty() ? default_admin_dir() : f.admin_dir;
  config.node_name = f.node_name.empty() ? default_node_name() : f.node_name;
  config.outbox_sweep = std::chrono::milliseconds(f.outbox_sweep_ms);
  config.list_cache_bytes = static_cast<std::size_t>(f.list_cache_mib) << 20;
  config.trusted_proxies = f.trusted_proxies;
  auto hub = std::make_shared<hub::Hub>(config, *db);

  net::ServerOptions opts;
  opts.host = listen->first;
  opts.port = listen->second;
  if (config.tls) opts.tls = net::TlsFiles{f.tls_cert, f.tls_key};
  opts.request_timeout = std::chrono::milliseconds(f.request_timeout_ms);
  opts.worker_threads = static_cast<std::size_t>(f.workers);
  opts.error_response = hub::server_error_response;
  opts.max_connections = static_cast<std::size_t>(f.limits.max);
  opts.reserved_connections = static_cast<std::size_t>(f.limits.reserved);
  opts.max_connections_per_client = static_cast<std::size_t>(f.limits.per_client);
  opts.max_websockets_per_client = static_cast<std::size_t>(f.limits.websockets_per_client);
  opts.trusted_proxies = f.trusted_proxies;
  net::Server server(
      opts, [hub](net::Request& r) { return hub->handle(r); },
      [hub](net::Request& r, net::Response& reject) { return hub->upgrade(r, reject); });
  hub->set_server_stats_source(
      [&server] { return net::Server::metrics_text(server.stats(), "reach_hub"); });
  auto bound = server.listen();
  if (!bound) return fail(bound.error().message);
  std::printf("%s\n", bound->c_str());
  std::fflush(stdout);
  log::info("hub.listening", {{"address", *bound},
                              {"tls", config.tls},
                              {"data", f.data},
                              {"node", config.node_name},
                              {"store", (*db)->describe()}});
  server.stop_on_signals();
  server.run();
  log::info("hub.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  reach::crypto::init();
  CLI::App app{"reach-hub: the Reach management service and admin center API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", REACH_VERSION);

  std::string init_db_url;
  std::string data, email;
  auto* init = app.add_subcommand("init",
                                  "Create the organisation and its first administrator "
                                  "(password from REACH_ADMIN_PASSWORD, else generated)");
  init->add_option("--data", data, "Data directory")->required();
  init->add_option("--admin-email", email, "The first administrator's email")->required();
  init->add_option("--db", init_db_url,
                   "PostgreSQL URL (postgresql://…) for the data; the data directory records it "
                   "(default: SQLite in the data directory)");

  ServeFlags sf;
  auto* serve_cmd = app.add_subcommand("serve", "Run the service");
  serve_cmd->add_option("--data", sf.data, "Data directory")->required();
  serve_cmd
      ->add_option("--listen", sf.listen,
                   "HOST:PORT to listen on (port 0: any free port, "
                   "printed on the first line)")
      ->capture_default_str();
  serve_cmd->add_option("--public-url", sf.public_url, "URL clients use to reach this hub");
  serve_cmd->add_option("--admin-dir", sf.admin_dir,
                        "The admin center's files (default: share/reach-hub/admin beside bin/)");
  serve_cmd->add_option("--db", sf.db_url,
                        "Database URL (default: the one 'init --db' recorded, else SQLite in the "
                        "data directory)");
  serve_cmd->add_option("--node-name", sf.node_name,
                        "This node's name among those sharing one database (default: HOST/PID)");
  serve_cmd->add_option("--trusted-proxy", sf.trusted_proxies,
                        "Address of a load balancer in front of this node (repeatable): its "
                        "X-Forwarded-For names the client");
  serve_cmd
      ->add_option("--outbox-sweep-ms", sf.outbox_sweep_ms,
                   "On PostgreSQL: how often a node looks for notifications whose signal it missed")
      ->check(CLI::Range(100, 3600000))
      ->capture_default_str();
  serve_cmd
      ->add_option("--list-cache-mib", sf.list_cache_mib,
                   "On SQLite: MiB of device list pages kept until the devices change (0: none)")
      ->check(CLI::Range(0, 4096))
      ->capture_default_str();
  serve_cmd->add_option("--tls-cert", sf.tls_cert, "PEM certificate chain")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("--tls-key", sf.tls_key, "PEM private key")->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--request-timeout-ms", sf.request_timeout_ms,
                   "Time a client has to send a whole request")
      ->check(CLI::Range(100, 600000))
      ->capture_default_str();
  serve_cmd->add_option("--workers", sf.workers, "Handler threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cli::add_connection_limits(serve_cmd, sf.limits, "API requests");
  serve_cmd->add_option("--relay-close-grace-ms", sf.relay_close_grace_ms,
                        "Wait for the device's own report after the relay closes a session");
  serve_cmd
      ->add_option("--onboarding-ttl", sf.onboarding_ttl_s,
                   "Seconds to complete the connector's onboarding")
      ->check(CLI::Range(1, 86400));
  serve_cmd->add_option("--log-level", sf.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  auto* token = app.add_subcommand("token", "API bearer tokens");
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create an API token for a user; prints it");
  token_create->add_option("--data", data, "Data directory")->required();
  token_create->add_option("--email", email, "The user's email")->required();

  auto* et = app.add_subcommand("enrollment-token", "Enrollment tokens for devices");
  et->require_subcommand(1);
  auto* et_create = et->add_subcommand("create", "Create an enrollment token; prints it");
  std::string et_user, ownership;
  bool userless = false;
  int valid_days = 30;
  et_create->add_option("--data", data, "Data directory")->required();
  auto* user_opt = et_create->add_option("--user", et_user, "Bind enrolled devices to this user");
  auto* userless_opt =
      et_create->add_flag("--userless", userless, "Userless (device enrollment manager) token");
  user_opt->excludes(userless_opt);
  et_create
      ->add_option("--ownership", ownership,
                   "personal or company (default: personal for "
                   "--user, company for --userless)")
      ->check(CLI::IsMember({"personal", "company"}));
  et_create->add_option("--valid-days", valid_days, "Days the token stays valid")
      ->check(CLI::Range(1, 365))
      ->capture_default_str();

  auto* connector = app.add_subcommand("connector", "The remote assistance connector");
  connector->require_subcommand(1);
  auto* connector_set = connector->add_subcommand(
      "set", "Point the connector at a relay and its OAuth client (`reach-relay client add`)");
  std::string relay_url, client_id, client_secret;
  connector_set->add_option("--data", data, "Data directory")->required();
  connector_set->add_option("--relay-url", relay_url, "The relay's URL")->required();
  connector_set->add_option("--client-id", client_id, "The OAuth client id")->required();
  connector_set->add_option("--client-secret", client_secret,
                            "The OAuth client secret (default: $REACH_CLIENT_SECRET)");

  if (auto exit_code = reach::cli::parse(app, argc, argv, "reach-hub")) return *exit_code;

  reach::log::init("reach-hub", "warn");
  if (init->parsed()) {
    const char* pw = std::getenv("REACH_ADMIN_PASSWORD");
    auto r = reach::hub::init_data_dir(
        data, email, pw && *pw ? std::optional<std::string>(pw) : std::nullopt, init_db_url);
    if (!r) return fail(r.error().message);
    std::printf("Initialised %s\n", data.c_str());
    std::printf("Administrator: %s\n", email.c_str());
    if (r->password_generated)
      std::printf("Password: %s\n(shown once; it is stored only as an argon2id hash)\n",
                  r->admin_password.c_str());
    else
      std::printf("Password: as given in REACH_ADMIN_PASSWORD\n");
    return 0;
  }
  if (serve_cmd->parsed()) return serve(sf);
  if (connector_set->parsed()) {
    if (client_secret.empty())
      if (const char* env = std::getenv("REACH_CLIENT_SECRET")) client_secret = env;
    if (auto st = reach::hub::set_connector(data, relay_url, client_id, client_secret); !st)
      return fail(st.error().message);
    std::printf("Connector set to %s; connect it with beginOnboarding.\n", relay_url.c_str());
    return 0;
  }
  if (token_create->parsed()) {
    auto t = reach::hub::create_api_token(data, email);
    if (!t) return fail(t.error().message);
    std::printf("%s\n", t->c_str());
    return 0;
  }
  if (et_create->parsed()) {
    if (et_user.empty() && !userless) return fail("give --user EMAIL or --userless");
    if (ownership.empty()) ownership = userless ? "company" : "personal";
    auto t = reach::hub::create_enrollment_token(
        data, et_user.empty() ? std::nullopt : std::optional<std::string>(et_user), ownership,
        valid_days);
    if (!t) return fail(t.error().message);
    std::printf("%s\n", t->token.c_str());
    return 0;
  }
  return fail("nothing to do (see --help)");
}
