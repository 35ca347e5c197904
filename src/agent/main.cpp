// reach-agent: the company portal on the device. Parses flags and runs one command; the
// long-running `run` and `join` serve the control socket that the other commands talk to.
#include "agent/agent.h"
#include "agent/control.h"
#include "common/cli.h"
#include "common/crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strings.h"
#include "link/link.h"
#include "net/client.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace {

using namespace reach;
namespace bj = boost::json;

int fail(const std::string& message) {
  std::fprintf(stderr, "reach-agent: %s\n", message.c_str());
  return 1;
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string default_state_dir() {
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x)
    return std::string(x) + "/reach-agent";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.local/state/reach-agent";
  return "";
}

std::string str(const bj::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

// SIGINT/SIGTERM, blocked in every thread and taken by sigwait on one.
class Signals {
 public:
  Signals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // wakes the watcher when the program ends on its own
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // Runs `on_signal` on a watcher thread at the first SIGINT/SIGTERM.
  void watch(std::function<void()> on_signal) {
    thread_ = std::thread([this, f = std::move(on_signal)] {
      int sig = 0;
      sigwait(&set_, &sig);
      if (sig != SIGUSR1) f();
    });
  }
  ~Signals() {
    if (thread_.joinable()) {
      pthread_kill(thread_.native_handle(), SIGUSR1);
      thread_.join();
    }
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

struct Common {
  std::string state = default_state_dir();
  std::string log_level = "info";
  bool json = false;
};

Result<std::unique_ptr<agent::StateDir>> open_state(const Common& c) {
  return agent::StateDir::open(c.state);
}

// ---------------------------------------------------------------- enroll

int enroll(const Common& c, std::string hub, const std::string& token) {
  auto state = open_state(c);
  if (!state) return fail(state.error().message);
  auto existing = (*state)->credential();
  if (!existing) return fail(existing.error().message);
  if (*existing)
    return fail(
        fmt::format("this device is already enrolled (device {}); remove {} to enroll again",
                    (*existing)->device_id, (*state)->path() + "/credential.json"));
  while (!hub.empty() && hub.back() == '/') hub.pop_back();
  // A new enrollment is a new device key: sessions and receipts of an earlier enrollment stay
  // with the earlier key.
  if (auto key = (*state)->new_device_key(); !key) return fail(key.error().message);
  auto public_key = agent::device_public_key(**state);
  if (!public_key) return fail(public_key.error().message);
  net::Headers h;
  h.set("Content-Type", "application/json");
  auto r = net::http_request(
      "POST", hub + "/api/agent/enroll", h,
      json::serialize(bj::object{{"enrollmentToken", token},
                                 {"device", agent::collect_inventory()},
                                 {"devicePublicKey", crypto::base64url_encode(*public_key)}}));
  if (!r) return fail("cannot reach the hub at " + hub + ": " + r.error().message);
  auto body = json::parse_object(r->body);
  if (r->status != 201 || !body) {
    std::string msg = r->body;
    if (body)
      if (auto e = body->find("error"); e != body->end() && e->value().is_object())
        msg = str(e->value().as_object(), "message");
    return fail(fmt::format("the hub refused the enrollment (HTTP {}): {}", r->status, msg));
  }
  agent::Credential cred{hub, str(*body, "deviceId"), str(*body, "deviceCredential")};
  if (cred.device_id.empty() || cred.device_credential.empty())
    return fail("the hub's answer has no device id or credential");
  if (auto st = (*state)->save_credential(cred); !st) return fail(st.error().message);
  log::info("agent.enrolled", {{"device", cred.device_id}, {"hub", hub}});
  say("enrolled: device " + cred.device_id);
  return 0;
}

// ---------------------------------------------------------------- run / join

struct RunFlags {
  std::string display;
  int heartbeat_ms = 25000;
  int backoff_min_ms = 1000;
  int backoff_max_ms = 60000;
  int checkin_s = 900;
  int allow_timeout_s = 300;
  bool no_continuous_updates = false;
  bool no_h264 = false;
  bool h264_always = false;
  std::string relay;  // run: where session codes go (default: the relay the hub names)
};

// The agent serving its control socket; the agent's changes reach the socket's subscribers
// (reach-portal). On the way out the socket stops first, so no request reaches an agent being
// destroyed, and the session that ends with the agent signals nobody.
class Serving {
 public:
  Serving(agent::StateDir& state, agent::AgentOptions options)
      : agent_(state, with_signal(std::move(options))) {}
  ~Serving() {
    {
      std::lock_guard lk(mu_);
      server_ = nullptr;
    }
    owned_.reset();
  }
  Status listen(const std::string& path) {
    auto server = agent::ControlServer::start(
        path, [this](const bj::object& r) { return agent_.control(r); },
        [this] { return agent_.snapshot(); });
    if (!server) return server.error();
    std::lock_guard lk(mu_);
    owned_ = std::move(*server);
    server_ = owned_.get();
    return {};
  }
  agent::Agent& agent() { return agent_; }

 private:
  agent::AgentOptions with_signal(agent::AgentOptions o) {
    o.on_change = [this] {
      std::lock_guard lk(mu_);
      if (server_) server_->changed();
    };
    return o;
  }

  std::mutex mu_;
  agent::ControlServer* server_ = nullptr;  // guarded by mu_
  std::unique_ptr<agent::ControlServer> owned_;
  agent::Agent agent_;
};

agent::AgentOptions agent_options(const RunFlags& f) {
  agent::AgentOptions o;
  o.x11.display = f.display;
  o.channel.heartbeat = std::chrono::milliseconds(f.heartbeat_ms);
  o.channel.backoff_min = std::chrono::milliseconds(f.backoff_min_ms);
  o.channel.backoff_max = std::chrono::milliseconds(f.backoff_max_ms);
  o.channel.checkin_interval = std::chrono::seconds(f.checkin_s);
  o.allow_timeout = std::chrono::seconds(f.allow_timeout_s);
  o.continuous_updates = !f.no_continuous_updates;
  o.h264 = !f.no_h264;
  o.h264_always = f.h264_always;
  o.relay_url = f.relay;
  o.say = say;
  return o;
}

int run(const Common& c, const RunFlags& f) {
  Signals signals;
  auto state = open_state(c);
  if (!state) return fail(state.error().message);
  auto cred = (*state)->credential();
  if (!cred) return fail(cred.error().message);
  if (!*cred)
    return fail("this device is not enrolled: run `reach-agent enroll --hub URL --token TOKEN`");
  Serving serving(**state, agent_options(f));
  if (auto st = serving.listen((*state)->control_socket()); !st) return fail(st.error().message);
  serving.agent().start_channel(**cred);
  log::info("agent.running", {{"device", (*cred)->device_id}, {"state", (*state)->path()}});
  say("running: device " + (*cred)->device_id + ", hub " + (*cred)->hub_url);
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  signals.watch([&] {
    std::lock_guard lk(mu);
    stop = true;
    cv.notify_all();
  });
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return stop; });
  log::info("agent.stopping");
  return 0;
}

// Follows a session hosted by the running daemon until it ends.
int follow(const std::string& socket) {
  std::string last;
  for (;;) {
    auto r = agent::control_call(socket, {{"cmd", "status"}});
    if (!r) return fail(r.error().message);
    auto it = r->find("session");
    if (it == r->end() || !it->value().is_object()) return fail("the agent lost the session");
    const auto& s = it->value().as_object();
    std::string state = str(s, "state");
    if (state != last) say("session: " + state);
    if (state == "asking" && last != "asking" && !str(s, "verificationCode").empty()) {
      std::string code = str(s, "verificationCode");
      say("verification code: " + code.substr(0, 3) + " " + code.substr(3) +
          " (the supporter sees the same code; if theirs differs, deny the session)");
    }
    last = state;
    if (state == "ended" || state == "denied" || state == "expired" || state == "declined")
      return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int join(const Common& c, const RunFlags& f, const std::string& code, const std::string& relay) {
  Result<std::string> url = bad_request("--relay is needed with a session code");
  std::string secret;  // the end-to-end secret in a hub link's fragment
  if (code.starts_with("http://") || code.starts_with("https://")) {
    auto l = link::parse_session_link(code, "join");
    url = l ? Result<std::string>(l->stream_url) : Result<std::string>(l.error());
    if (l) secret = l->session_secret;
  } else if (!relay.empty()) {
    url = link::code_stream_url(relay, code);
  }
  if (!url) return fail(url.error().message);
  Signals signals;
  auto state = open_state(c);
  if (!state) return fail(state.error().message);
  // A running `reach-agent run` hosts the session; otherwise this process does.
  bj::object request{{"cmd", "join"}, {"streamUrl", *url}};
  if (!secret.empty()) request["sessionSecret"] = crypto::base64url_encode(secret);
  auto delegated = agent::control_call((*state)->control_socket(), request);
  if (delegated) {
    if (!delegated->contains("ok") || !delegated->at("ok").as_bool())
      return fail(str(*delegated, "error"));
    signals.watch([socket = (*state)->control_socket()] {
      (void)agent::control_call(socket, {{"cmd", "end"}});
    });
    return follow((*state)->control_socket());
  }
  if (delegated.error().code != "agentNotRunning") return fail(delegated.error().message);
  Serving serving(**state, agent_options(f));
  if (auto st = serving.listen((*state)->control_socket()); !st) return fail(st.error().message);
  auto& agent = serving.agent();
  if (auto st = agent.join(*url, secret); !st) return fail(agent::join_error(st.error()));
  signals.watch([&agent] { (void)agent.control({{"cmd", "end"}}); });
  auto final_state = agent.wait_session();
  log::info("agent.join_finished", {{"state", agent::to_string(final_state)}});
  return 0;
}

// ---------------------------------------------------------------- the short commands

int call(const Common& c, bj::object request) {
  auto state = open_state(c);
  if (!state) return fail(state.error().message);
  auto r = agent::control_call((*state)->control_socket(), request);
  if (!r) return fail(r.error().message);
  if (c.json) {
    say(json::serialize(*r));
    return r->contains("ok") && r->at("ok").is_bool() && r->at("ok").as_bool() ? 0 : 1;
  }
  if (!r->contains("ok") || !r->at("ok").is_bool() || !r->at("ok").as_bool())
    return fail(str(*r, "error"));
  std::string cmd = str(request, "cmd");
  if (cmd == "notifications") {
    const auto& list = r->at("notifications").as_array();
    say(fmt::format("{} notification(s), {} waiting for you", list.size(),
                    r->at("unread").as_int64()));
    for (const auto& v : list) {
      const auto& n = v.as_object();
      std::string flag = str(n, "answer").empty()
                             ? (str(n, "kind") == "remoteAssistanceRequest"
                                    ? (n.at("expired").as_bool() ? "expired" : "waiting")
                                    : "")
                             : str(n, "answer");
      say(fmt::format("{}  {}  {}{}\n    {}", printable(str(n, "id")),
                      printable(str(n, "createdDateTime")), printable(str(n, "title")),
                      flag.empty() ? "" : "  [" + flag + "]", printable(str(n, "body"))));
    }
  } else if (cmd == "status") {
    say(fmt::format("push channel: {}", str(*r, "channel")));
    say(fmt::format("notifications waiting: {}", r->at("unread").as_int64()));
    if (auto it = r->find("session"); it != r->end() && it->value().is_object()) {
      const auto& s = it->value().as_object();
      say(fmt::format("session: {}{}", str(s, "state"),
                      s.at("viewOnly").as_bool() ? " (view only)" : ""));
    } else {
      say("session: none");
    }
  } else {
    say("ok");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  crypto::init();
  CLI::App app{"reach-agent: the Reach company portal on this device"};
  app.set_version_flag("--version", REACH_VERSION);
  app.require_subcommand(1);
  Common common;
  RunFlags rf;
  auto add_common = [&](CLI::App* sub) {
    sub->add_option("--state", common.state, "State directory (credential, notifications)")
        ->capture_default_str();
    sub->add_option("--log-level", common.log_level, "debug, info, warn or error");
  };
  auto add_run = [&](CLI::App* sub) {
    sub->add_option("--display", rf.display, "X display to share (default: $DISPLAY)");
    sub->add_option("--allow-timeout", rf.allow_timeout_s,
                    "Seconds to answer \"allow this session to start?\"");
    sub->add_flag("--no-continuous-updates", rf.no_continuous_updates,
                  "One update per viewer request, as before continuous updates (for comparison)");
    sub->add_flag("--no-h264", rf.no_h264,
                  "Never send H.264 video, only lossless and JPEG rectangles (Tight)");
    sub->add_flag("--h264-always", rf.h264_always,
                  "Send all motion as H.264, not only where exact rectangles fall behind (slow "
                  "links)")
        ->excludes("--no-h264");
  };

  std::string hub, token;
  auto* enroll_cmd = app.add_subcommand("enroll", "Enroll this device with the hub");
  enroll_cmd->add_option("--hub", hub, "The hub's URL")->required();
  enroll_cmd->add_option("--token", token, "An enrollment token")->required();
  add_common(enroll_cmd);

  auto* run_cmd = app.add_subcommand("run", "Run the company portal (push channel, sessions)");
  add_common(run_cmd);
  add_run(run_cmd);
  run_cmd->add_option("--heartbeat-ms", rf.heartbeat_ms, "Push channel heartbeat");
  run_cmd->add_option("--backoff-min-ms", rf.backoff_min_ms, "First reconnect delay");
  run_cmd->add_option("--backoff-max-ms", rf.backoff_max_ms, "Longest reconnect delay");
  run_cmd->add_option("--checkin-interval", rf.checkin_s, "Seconds between check-ins");
  run_cmd->add_option("--relay", rf.relay,
                      "The relay that session codes are typed for (default: the one the hub "
                      "names once remote assistance is connected)");

  auto* notif_cmd = app.add_subcommand("notifications", "List this device's notifications");
  std::string id;
  auto* accept_cmd = app.add_subcommand("accept", "Accept a remote assistance request");
  accept_cmd->add_option("ID", id, "The notification's id")->required();
  auto* decline_cmd = app.add_subcommand("decline", "Decline a remote assistance request");
  decline_cmd->add_option("ID", id, "The notification's id")->required();
  bool view_only = false;
  auto* allow_cmd = app.add_subcommand("allow", "Allow the connected supporter in");
  allow_cmd->add_flag("--view-only", view_only,
                      "The supporter sees the screen but cannot control it");
  auto* deny_cmd = app.add_subcommand("deny", "Refuse the connected supporter");
  auto* status_cmd = app.add_subcommand("status", "The push channel and the session");
  auto* end_cmd = app.add_subcommand("end", "End the remote assistance session now");
  auto* view_only_cmd = app.add_subcommand(
      "view-only", "From now on the supporter sees the screen but cannot control it");
  for (auto* sub : {notif_cmd, accept_cmd, decline_cmd, allow_cmd, deny_cmd, status_cmd, end_cmd,
                    view_only_cmd}) {
    add_common(sub);
    sub->add_flag("--json", common.json, "Print the agent's answer as JSON");
  }

  std::string code, relay;
  auto* join_cmd = app.add_subcommand(
      "join", "Join a session: its code (a relay portal session) or its end-customer link");
  join_cmd
      ->add_option("CODE", code,
                   "The session code, e.g. s12-345-678, or the link http(s)://RELAY/join/…")
      ->required();
  join_cmd->add_option("--relay", relay, "The relay's URL (needed with a code)");
  add_common(join_cmd);
  add_run(join_cmd);

  if (auto exit_code = cli::parse(app, argc, argv, "reach-agent")) return *exit_code;
  log::init("reach-agent", common.log_level);
  if (common.state.empty()) return fail("--state is required (no $HOME or $XDG_STATE_HOME)");

  if (*enroll_cmd) return enroll(common, hub, token);
  if (*run_cmd) return run(common, rf);
  if (*join_cmd) return join(common, rf, code, relay);
  if (*notif_cmd) return call(common, {{"cmd", "notifications"}});
  if (*accept_cmd) return call(common, {{"cmd", "accept"}, {"id", id}});
  if (*decline_cmd) return call(common, {{"cmd", "decline"}, {"id", id}});
  if (*allow_cmd) return call(common, {{"cmd", "allow"}, {"viewOnly", view_only}});
  if (*deny_cmd) return call(common, {{"cmd", "deny"}});
  if (*status_cmd) return call(common, {{"cmd", "status"}});
  if (*end_cmd) return call(common, {{"cmd", "end"}});
  if (*view_only_cmd) return call(common, {{"cmd", "viewOnly"}});
  return 2;
}
