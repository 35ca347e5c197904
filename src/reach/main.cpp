// reach: the supporter's command line. `reach connect LINK` bridges a remote assistance session
// to a local TCP port, so that any VNC viewer can show the device's screen. Anyone on the machine
// can reach that port: the viewer must give the one-time password printed at start (VNC
// Authentication), the first one that does gets the session, and the port closes behind it.
#include "common/cli.h"
#include "common/crypto.h"
#include "common/log.h"
#include "link/e2e.h"
#include "link/link.h"
#include "link/notice.h"
#include "link/receipt.h"
#include "net/bridge.h"
#include "net/client.h"
#include "reach/e2e_layer.h"
#include "reach/viewer_gate.h"

#include <openssl/rand.h>

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>
#include <variant>

namespace {

using namespace reach;

int fail(const std::string& message) {
  std::fprintf(stderr, "reach: %s\n", message.c_str());
  return 1;
}

// What a refusal of the supporter link means to the person holding it.
std::string refusal_message(const Error& e) {
  switch (e.status) {
    case 410:
      return "this link is used up or expired: request a new session";
    case 404:
      return "this link is unknown to the relay: check it, or request a new session";
    case 409:
      return "someone is already connected to this session with this link";
    case 429:
      return "the relay is throttling this address after wrong links: wait a minute and retry";
    case 0:
      return "cannot reach the relay: " + e.message;
    default:
      return "the relay refused the session (HTTP " + std::to_string(e.status) + "): " + e.message;
  }
}

// Events for the main thread, which does everything that blocks (the WebSocket handshake).
struct Accepted {
  net::TcpStream stream;
};
struct BridgeEnded {
  net::BridgeResult result;
};
struct Signalled {
  int signal;
};
using Event = std::variant<Accepted, BridgeEnded, Signalled>;

class Events {
 public:
  void push(Event e) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(e));
    cv_.notify_one();
  }
  Event pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !queue_.empty(); });
    Event e = std::move(queue_.front());
    queue_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
};

// SIGINT and SIGTERM arrive as events: blocked in every thread, taken by sigwait on one thread.
// SIGUSR1 only wakes that thread up when the program ends on its own.
class SignalWatcher {
 public:
  explicit SignalWatcher(Events& events) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this, &events] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (sig != SIGUSR1) events.push(Signalled{sig});
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

std::string describe_end(const net::BridgeResult& r) {
  switch (r.end) {
    case net::BridgeEnd::tcp_closed:
      return "the VNC viewer disconnected, so the session has ended";
    case net::BridgeEnd::tcp_failed:
      return "the connection to the VNC viewer failed (" + r.detail + "), so the session has ended";
    case net::BridgeEnd::websocket_closed:
      if (r.websocket_code == 1000)
        return "the session has ended (closed by the device or the relay)";
      if (r.websocket_code == 4000) return "the device did not join in time; the session has ended";
      return "the connection to the relay was lost (" + r.detail + ")";
    case net::BridgeEnd::stopped:
      return "stopped";
    case net::BridgeEnd::layer_refused:
      return r.detail;
  }
  return r.detail;
}

// Failed viewer connections (wrong passwords, or none in time) before reach connect gives up:
// someone else on the machine may be guessing.
constexpr int kMaxWrongPasswords = 5;
constexpr auto kViewerHandshakeTime = std::chrono::seconds(10);

// Checks the viewer's password (blocking, with a deadline). Returns the gate that finishes the
// viewer's handshake with the device's, or the failure in words.
Result<std::shared_ptr<cli::UpstreamGate>> authenticate_viewer(net::TcpStream& viewer,
                                                               const std::string& password) {
  std::array<std::uint8_t, 16> challenge{};
  if (RAND_bytes(challenge.data(), static_cast<int>(challenge.size())) != 1)
    return internal_error("no random bytes for the challenge");
  cli::ViewerAuth auth(password, challenge);
  if (auto st = viewer.write_all(auth.greeting(), kViewerHandshakeTime); !st) return st.error();
  auto deadline = std::chrono::steady_clock::now() + kViewerHandshakeTime;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(0, "timeout", "the viewer took too long");
    auto in = viewer.read_some(4096, left);
    if (!in) return in.error();
    std::string out;
    auto state = auth.feed(*in, out);
    if (!out.empty())
      if (auto st = viewer.write_all(out, kViewerHandshakeTime); !st) return st.error();
    if (state == cli::ViewerAuth::State::failed)
      return make_error(Errc::unauthenticated, "wrongPassword", auth.why());
    if (state == cli::ViewerAuth::State::authenticated)
      return std::make_shared<cli::UpstreamGate>(auth.minor(), auth.rest());
  }
}

struct ConnectFlags {
  std::string link, listen = "127.0.0.1:5900", log_level = "warn", ca_file;
  bool insecure = false;
};

int connect(const ConnectFlags& f) {
  log::init("reach", f.log_level);
  crypto::init();
  Events events;
  SignalWatcher signals(events);  // before any other thread starts, so that all inherit the mask
  auto link = reach::link::parse_session_link(f.link, "support");
  if (!link) return fail(link.error().message);
  auto listen = cli::parse_listen(f.listen);
  if (!listen) return fail(listen.error().message);
  net::ClientOptions client;
  client.verify_tls = !f.insecure;
  client.ca_file = f.ca_file;

  // Ask the relay first, so that a dead link is reported now rather than when a viewer connects.
  auto page = net::http_request("GET", link->url, {}, {}, client);
  if (!page) return fail(refusal_message(page.error()));
  if (page->status != 200) return fail(refusal_message(make_error(page->status, "", page->body)));

  net::EventLoop loop;
  auto listener = net::TcpListener::open(loop, listen->first, listen->second);
  if (!listener) return fail(listener.error().message);
  std::string address = (*listener)->address();
  std::string password = cli::random_viewer_password();
  // Standard output: the address, then the password (for scripts); in words on standard error.
  std::printf("%s\n%s\n", address.c_str(), password.c_str());
  std::fflush(stdout);
  std::fprintf(stderr,
               "Listening on %s — point a VNC viewer there (session %s) and give it the "
               "one-time password %s\n",
               address.c_str(), link::display_code(link->code).c_str(), password.c_str());
  log::info("reach.listening", {{"address", address}, {"code", link->code}});
  (*listener)->start([&events](net::TcpStream s) { events.push(Accepted{std::move(s)}); });

  std::shared_ptr<net::Bridge> bridge;
  std::shared_ptr<cli::UpstreamGate> gate;
  std::shared_ptr<cli::E2eLayer> layer;
  int exit_code = 0, wrong_passwords = 0;
  for (bool running = true; running;) {
    Event event = events.pop();
    if (auto* a = std::get_if<Accepted>(&event)) {
      std::string from = a->stream.remote_address();
      if (bridge) {
        a->stream.close();
        std::fprintf(stderr, "Refused a second viewer from %s: one viewer per session.\n",
                     from.c_str());
        log::warn("reach.viewer_refused", {{"from", from}});
        continue;
      }
      auto authenticated = authenticate_viewer(a->stream, password);
      if (!authenticated) {
        a->stream.close();
        log::warn("reach.viewer_refused", {{"from", from}, {"why", authenticated.error().message}});
        std::fprintf(stderr, "Refused a viewer from %s: %s.\n", from.c_str(),
                     authenticated.error().message.c_str());
        // Silent connections count too: each holds the port for kViewerHandshakeTime.
        if (++wrong_passwords >= kMaxWrongPasswords) {
          exit_code = fail(
              "too many wrong passwords or failed viewer connections: someone else on this "
              "machine may be trying to take the session. Stopped; the link still works.");
          break;
        }
        continue;
      }
      gate = *authenticated;
      // Only the first viewer with the password: nobody else may connect from now on.
      (*listener)->close();
      std::fprintf(stderr, "Viewer connected from %s; opening the session…\n", from.c_str());
      net::BridgeOptions options;
      options.client = client;
      options.filter = gate;
      // Everything to and from the device is end-to-end encrypted; the device's notices come
      // inside the channel and are said on the terminal.
      cli::E2eLayer::Callbacks said;
      said.established = [](const std::string& code) {
        std::fprintf(stderr,
                     "End-to-end encrypted: the relay cannot see or change the session. "
                     "Verification code: %s %s — the device user is shown the same code; if "
                     "theirs differs, someone is in between: press Ctrl+C.\n",
                     code.substr(0, 3).c_str(), code.substr(3).c_str());
      };
      said.notice = [](const std::string& text) {
        auto n = link::parse_notice(text);
        if (!n) {
          log::warn("reach.notice_ignored", {{"why", n.error().message}});
          return;
        }
        if (n->kind == link::Notice::Kind::link) return;  // the browser viewer's statistics
        if (n->kind == link::Notice::Kind::asking)
          std::fprintf(stderr,
                       "The device user is being asked to allow the session (%d:%02d to "
                       "answer)…\n",
                       n->seconds / 60, n->seconds % 60);
        else if (n->view_only)
          std::fprintf(stderr,
                       "The device user chose view only: you see the screen, your keyboard and "
                       "mouse are not passed on.\n");
        else
          std::fprintf(stderr, "The device user allowed the session: you have control.\n");
      };
      // A link the hub made binds the session to the device (its fragment: the session's
      // secret and the device key's fingerprint); one made at the relay has the code alone.
      layer = std::make_shared<cli::E2eLayer>(
          link::E2eOptions{
              link::E2eRole::supporter, link->session_secret, {}, link->device_fingerprint},
          std::move(said));
      options.layer = layer;
      auto started = net::Bridge::start(
          loop, std::move(a->stream), link->stream_url, {}, options,
          [&events](const net::BridgeResult& r) { events.push(BridgeEnded{r}); });
      if (!started) {
        exit_code = fail(refusal_message(started.error()));
        break;
      }
      bridge = *started;
      std::fprintf(stderr,
                   "Connected to the session: the viewer shows the device's screen once the "
                   "device shares it.\n");
    } else if (auto* e = std::get_if<BridgeEnded>(&event)) {
      const auto& r = e->result;
      std::string why = layer && layer->failure()      ? layer->failure()->message
                        : gate && !gate->why().empty() ? gate->why()
                                                       : describe_end(r);
      std::fprintf(stderr,
                   "Session ended: %s (sent %llu bytes, received %llu). Its link no longer "
                   "works: request a new session to connect again.\n",
                   why.c_str(), static_cast<unsigned long long>(r.tcp_to_websocket),
                   static_cast<unsigned long long>(r.websocket_to_tcp));
      running = false;
    } else if (auto* s = std::get_if<Signalled>(&event)) {
      log::info("reach.signal", {{"signal", s->signal}});
      std::fprintf(stderr, "Stopping.\n");
      running = false;
    }
  }
  (*listener)->close();
  if (bridge) {
    bridge->stop();
    bridge->wait();
    bridge.reset();
  }
  return exit_code;
}

// `reach verify-receipt FILE --fingerprint FP`: checks a consent receipt (link/receipt.h)
// offline against the device key whose fingerprint the device shows. Exit 0: valid; 1: not.
int verify_receipt(const std::string& file, const std::string& fingerprint) {
  // A receipt is at most link::kMaxReceipt bytes: reading stops just past that.
  auto read_some = [](std::istream& in) {
    std::string t(link::kMaxReceipt + 1, '\0');
    in.read(t.data(), static_cast<std::streamsize>(t.size()));
    t.resize(static_cast<std::size_t>(in.gcount()));
    return t;
  };
  std::string text;
  if (file == "-") {
    text = read_some(std::cin);
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail("cannot read " + file);
    text = read_some(in);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  auto r = link::verify_receipt(text);
  if (!r) return fail("not valid: " + r.error().message);
  auto key = crypto::base64url_decode(r->at("deviceKey").as_string());
  std::string signer = link::device_key_fingerprint(*key);
  if (signer != fingerprint)
    return fail("not valid: it was signed by the key " + signer +
                ", not by the device whose key is " + fingerprint +
                " (whoever made it, it was not that device)");
  auto field = [&](const char* name) {
    auto v = r->if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
  };
  std::string what =
      field("kind") == "decision" ? "decision: " + field("decision") : "end: " + field("outcome");
  std::printf("valid: signed by the device key %s\n", signer.c_str());
  std::printf("session %s, device %s, %s at %s (requested by %s, %s)\n", field("sessionId").c_str(),
              field("deviceId").c_str(), what.c_str(), field("at").c_str(),
              field("requestedBy").c_str(), field("organization").c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"reach: the Reach supporter's command line"};
  app.require_subcommand(1);
  app.set_version_flag("--version", REACH_VERSION);

  ConnectFlags cf;
  auto* connect_cmd = app.add_subcommand(
      "connect",
      "Bridge a remote assistance session to a local port for any VNC viewer. Prints the "
      "address, then a one-time password the viewer must give (VNC Authentication); the first "
      "viewer with it gets the session");
  connect_cmd
      ->add_option("SUPPORTER_LINK", cf.link,
                   "The session's supporter link, http(s)://HOST/support/CODE-TOKEN")
      ->required();
  connect_cmd
      ->add_option("--listen", cf.listen,
                   "HOST:PORT for the VNC viewer (port 0: any free port, printed on the "
                   "first line)")
      ->capture_default_str();
  connect_cmd->add_option("--ca-file", cf.ca_file, "Extra trusted CA for https:// relays (PEM)")
      ->check(CLI::ExistingFile);
  connect_cmd->add_flag("--insecure", cf.insecure, "Do not verify the relay's TLS certificate");
  connect_cmd->add_option("--log-level", cf.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  std::string receipt_file, fingerprint;
  auto* verify_cmd = app.add_subcommand(
      "verify-receipt",
      "Check a consent receipt the device signed (from the admin center's history) against the "
      "device's key, offline. Exit 0: valid; 1: not");
  verify_cmd->add_option("FILE", receipt_file, "The receipt (JSON), or - for standard input")
      ->required();
  verify_cmd
      ->add_option("--fingerprint", fingerprint,
                   "The device key's fingerprint, as the device shows it (company portal: This "
                   "device > Show details > Device key)")
      ->required();

  if (auto exit_code = cli::parse(app, argc, argv, "reach")) return *exit_code;
  if (verify_cmd->parsed()) {
    crypto::init();
    return verify_receipt(receipt_file, fingerprint);
  }
  if (connect_cmd->parsed()) {
    // A malformed link is a bad argument (exit 2), like any other.
    if (auto link = reach::link::parse_session_link(cf.link, "support"); !link) {
      std::fprintf(stderr, "reach: %s (see --help)\n", link.error().message.c_str());
      return 2;
    }
    if (auto listen = cli::parse_listen(cf.listen); !listen) {
      std::fprintf(stderr, "reach: %s (see --help)\n", listen.error().message.c_str());
      return 2;
    }
    return connect(cf);
  }
  return fail("nothing to do (see --help)");
}
