// reach_test_device_bridge: the device end of a session for end-to-end tests. Connects to a
// local VNC server (x11vnc) and to the relay's device stream behind an end-customer link, and
// bridges the two. It stands in for reach-agent's own RFB server until that exists; it is not
// part of any product.
//
//   reach_test_device_bridge --vnc 127.0.0.1:5901 --link http://HOST/join/sNNNNNNNN-TOKEN
//
// Prints "bridged" on standard output once both ends are connected; exits 0 when the session
// ends, 1 when an end cannot be opened, 2 on bad arguments; SIGTERM stops it.
#include "common/cli.h"
#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/log.h"
#include "link/link.h"
#include "net/bridge.h"
#include "reach/e2e_layer.h"

#include <signal.h>

#include <cstdio>
#include <thread>

int main(int argc, char** argv) {
  using namespace reach;
  CLI::App app{
      "reach_test_device_bridge: bridges a local VNC server to a relay device stream "
      "(end-to-end tests only)"};
  std::string vnc, link_text, log_level = "info";
  app.add_option("--vnc", vnc, "HOST:PORT of the VNC server")->required();
  app.add_option("--link", link_text, "The session's end-customer link")->required();
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  if (auto exit_code = cli::parse(app, argc, argv, "reach_test_device_bridge")) return *exit_code;
  auto link = reach::link::parse_session_link(link_text, "join");
  auto address = cli::parse_listen(vnc);
  if (!link || !address) {
    std::fprintf(stderr, "reach_test_device_bridge: %s (see --help)\n",
                 (!link ? link.error() : address.error()).message.c_str());
    return 2;
  }
  log::init("reach_test_device_bridge", log_level);
  crypto::init();

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // only wakes the watcher when the bridge ended by itself
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  net::EventLoop loop;
  auto tcp = net::tcp_connect(loop, address->first, address->second);
  if (!tcp) {
    std::fprintf(stderr, "reach_test_device_bridge: VNC server: %s\n", tcp.error().message.c_str());
    return 1;
  }
  // End-to-end encrypted as reach-agent's end is, with a device key made for this run.
  net::BridgeOptions options;
  auto layer = std::make_shared<cli::E2eLayer>(
      link::E2eOptions{link::E2eRole::device, {}, crypto::ed25519_keypair().private_key, {}});
  options.layer = layer;
  auto bridge = net::Bridge::start(loop, std::move(*tcp), link->stream_url, {}, options);
  if (!bridge) {
    std::fprintf(stderr, "reach_test_device_bridge: relay refused (HTTP %d): %s\n",
                 bridge.error().status, bridge.error().message.c_str());
    return 1;
  }
  std::printf("bridged\n");
  std::fflush(stdout);
  // Stops the bridge on SIGINT/SIGTERM.
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig != SIGUSR1) (*bridge)->stop();
  });
  auto r = (*bridge)->wait();
  pthread_kill(watcher.native_handle(), SIGUSR1);
  watcher.join();
  log::info("device_bridge.ended", {{"end", net::to_string(r.end)},
                                    {"detail", r.detail},
                                    {"to_relay", r.tcp_to_websocket},
                                    {"from_relay", r.websocket_to_tcp}});
  return 0;
}
