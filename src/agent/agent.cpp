#include "agent/agent.h"

#include "common/crypto.h"
#include "common/e2e_crypto.h"
#include "common/json.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time.h"
#include "link/e2e.h"
#include "link/link.h"
#include "link/receipt.h"

#include <fmt/format.h>

#include <unistd.h>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <optional>

namespace reach::agent {

namespace bj = boost::json;

namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string os_release(const std::string& key) {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with(key + "=")) continue;
    std::string v = line.substr(key.size() + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    return v;
  }
  return "";
}

bj::object ok(bj::object o = {}) {
  o["ok"] = true;
  return o;
}
bj::object refusal(const std::string& message, const char* reason = nullptr) {
  bj::object o{{"ok", false}, {"error", message}};
  if (reason) o["reason"] = reason;
  return o;
}

// The stable key of a failed join (see agent.h), beside join_error()'s sentence.
const char* join_reason(const Error& e) {
  if (e.code == "sessionOpen") return "busy";
  if (e.status == 410) return "sessionOver";
  if (e.status == 404) return "noSession";
  if (e.status == 409) return "taken";
  if (e.status == 429) return "throttled";
  if (e.status == 0) return "unreachable";
  return nullptr;
}

// What a subscriber may learn of a request beyond its words: who asks, for which organisation.
// Not the session link: that stays in the agent.
void add_requester(bj::object& out, const Notification& n) {
  for (const char* key : {"requestedBy", "organization"})
    if (auto it = n.data.find(key); it != n.data.end() && it->value().is_string())
      out[key] = printable(it->value().as_string());
}

bj::object notification_json(const Notification& n) {
  bj::object o{{"id", n.id},
               {"kind", n.kind},
               {"title", n.title},
               {"body", n.body},
               {"createdDateTime", iso8601(n.created_at)},
               {"expirationDateTime", iso8601(n.expires_at)},
               {"read", n.read},
               {"answer", n.answer},
               {"expired", n.expires_at <= now_ms()}};
  add_requester(o, n);
  return o;
}

// The hub event a session state is reported as ("" for states the hub does not track).
std::string hub_event(ConsentState s, bool view_only) {
  switch (s) {
    case ConsentState::allowed:
      return view_only ? "allowedViewOnly" : "allowed";
    case ConsentState::active:
      return "connected";
    case ConsentState::denied:
      return "denied";
    case ConsentState::expired:
      return "expired";
    case ConsentState::ended:
      return "ended";
    default:
      return "";
  }
}

}  // namespace

std::string join_error(const Error& e) {
  if (e.code == "sessionOpen") return e.message;
  if (e.status == 410)
    return "This session is over (its code is used up or expired): a new session is needed.";
  if (e.status == 404)
    return "The relay has no open session for this code or link: check it (a session your IT "
           "administrator requested is joined by accepting its notification).";
  if (e.status == 409) return "Another device is already connected to this session.";
  if (e.status == 429) return "Too many wrong codes from this device: wait a minute and retry.";
  if (e.status == 0) return "Cannot reach the relay: " + e.message;
  if (e.status < 100) return e.message;  // not the relay's answer (e.g. the display)
  return fmt::format("The relay refused the session (HTTP {}): {}", e.status, e.message);
}

Result<std::string> device_public_key(StateDir& state) {
  auto key = state.device_key();
  if (!key) return key.error();
  return crypto::ed25519_public_key(*key);
}

bj::object collect_inventory() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  bj::object inv{{"deviceName", host[0] ? host : "linux-device"},
                 {"operatingSystem", "Linux"},
                 {"deviceType", "linux"}};
  std::string version = os_release("PRETTY_NAME");
  if (version.empty()) version = os_release("VERSION_ID");
  if (!version.empty()) inv["osVersion"] = version.substr(0, 256);
  // DMI is readable by everyone for these fields; the serial number only by root.
  for (auto [key, file] : {std::pair<const char*, const char*>{"model", "product_name"},
                           {"manufacturer", "sys_vendor"},
                           {"serialNumber", "product_serial"}}) {
    std::string v = read_first_line(std::string("/sys/class/dmi/id/") + file);
    if (!v.empty()) inv[key] = v.substr(0, 256);
  }
  return inv;
}

struct Agent::Impl {
  StateDir& state;
  AgentOptions options;
  net::EventLoop loop;

  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<PushChannel> channel;    // guarded by mu (set once)
  std::unique_ptr<RemoteSession> session;  // guarded by mu: the current or last session
  std::string session_notification;        // guarded by mu
  std::string session_detail;              // guarded by mu: why it ended
  std::int64_t session_ended_at = 0;       // guarded by mu: when it ended (0 while open)
  std::optional<Credential> enrolled;      // guarded by mu: set by start_channel
  bj::object last_checkin;                 // guarded by mu: the hub's answer to the last one
  std::int64_t answer_by = 0;              // guarded by mu: when "allow?" times out to deny

  Impl(StateDir& s, AgentOptions o) : state(s), options(std::move(o)) {}

  void say(const std::string& line) {
    if (options.say) options.say(line);
  }

  void changed() {
    if (options.on_change) options.on_change();
  }

  void report(const std::string& notification_id, const std::string& event,
              const std::string& detail = {}) {
    if (notification_id.empty()) return;
    PushChannel* ch = nullptr;
    {
      std::lock_guard lk(mu);
      ch = channel.get();
    }
    if (!ch) return;
    if (auto st = ch->send_event({"", notification_id, event, detail}); !st)
      log::error("agent.event_not_queued", {{"error", st.error().message}});
  }

  bool on_notification(const Notification& n) {
    auto added = state.add_notification(n);
    if (!added) {
      log::error("agent.notification_not_stored", {{"error", added.error().message}});
      return false;  // not confirmed: the hub sends it again on the next connect
    }
    if (*added) {
      log::info("agent.notification", {{"id", n.id}, {"kind", n.kind}});
      // Everything the hub sent is shown without control characters (no escape sequences).
      std::string id = printable(n.id), title = printable(n.title), body = printable(n.body);
      if (n.kind == "remoteAssistanceRequest")
        say(
            fmt::format("notification {}: {} — {} (answer with `reach-agent accept {}` or "
                        "`reach-agent decline {}`)",
                        id, title, body, id, id));
      else
        say(fmt::format("notification {}: {} — {}", id, title, body));
      changed();
    }
    return true;
  }

  // Who is helping, as the user should be told (SPEC §4.4): the requester the hub named, or
  // the supporter of a code the user typed.
  std::string supporter_of(const std::string& notification_id) {
    if (auto n = state.notification(notification_id)) {
      auto it = n->data.find("requestedBy");
      if (it != n->data.end() && it->value().is_string() && !it->value().as_string().empty())
        return printable(it->value().as_string()) + " (your IT administrator)";
    }
    return "the supporter";
  }

  void on_session_state(const std::string& notification_id, ConsentState s,
                        const std::string& detail, bool view_only) {
    std::string who = supporter_of(notification_id);
    switch (s) {
      case ConsentState::waiting:
        say("session: waiting for the supporter to connect");
        break;
      case ConsentState::asking: {
        std::string code;
        {
          std::lock_guard lk(mu);
          answer_by = now_ms() + options.allow_timeout.count();
          if (session) code = session->verification_code();
        }
        say(fmt::format(
            "session: {} is connected. Allow this session to start? "
            "`reach-agent allow` (full control), `reach-agent allow --view-only`, or "
            "`reach-agent deny`. Verification code: {} {} (the supporter sees the same; if "
            "theirs differs, deny)",
            who, code.substr(0, 3), code.size() > 3 ? code.substr(3) : ""));
        break;
      }
      case ConsentState::allowed:
        say(view_only ? "session: allowed, view only" : "session: allowed, full control");
        break;
      case ConsentState::active:
        say(
            fmt::format("session: active — {} sees this screen{}. End it any time with "
                        "`reach-agent end`",
                        who, view_only ? " (view only)" : " and can control it"));
        break;
      default:
        if (is_final(s)) say(fmt::format("session: {} ({})", to_string(s), printable(detail)));
        break;
    }
    if (is_final(s)) {
      std::lock_guard lk(mu);
      session_detail = detail;
      session_ended_at = now_ms();
      cv.notify_all();
    }
    changed();
    if (s == ConsentState::asking) {
      // The administrator's page counts down to the user's deadline: the time left, not the
      // device's clock, which the hub does not share.
      auto seconds = std::chrono::ceil<std::chrono::seconds>(options.allow_timeout).count();
      report(notification_id, "asking", std::to_string(seconds));
      return;
    }
    auto e = hub_event(s, view_only);
    if (!e.empty()) report(notification_id, e, detail);
    send_receipt(notification_id, s, detail, view_only);
  }

  // The device's signed record (link/receipt.h) of what its user decided (allowed with control
  // or view only, denied, no answer) and of how the session ended, for a request from the hub:
  // the hub keeps it, and cannot make one itself.
  void send_receipt(const std::string& notification_id, ConsentState s, const std::string& detail,
                    bool view_only) {
    std::string kind, decision;
    if (s == ConsentState::allowed) {
      kind = "decision";
      decision = view_only ? "allowedViewOnly" : "allowedControl";
    } else if (s == ConsentState::denied) {
      kind = "decision";
      decision = detail == "noAnswer" ? "noAnswer" : "denied";
    } else if (s == ConsentState::ended) {
      kind = "end";
    } else {
      return;
    }
    if (notification_id.empty()) return;
    auto n = state.notification(notification_id);
    if (!n) return;
    auto text = [&](const char* key) {
      auto v = n->data.if_contains(key);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::string session_id = text("remoteAssistanceSessionId");
    if (session_id.empty()) return;
    std::string device_id, transcript;
    {
      std::lock_guard lk(mu);
      if (enrolled) device_id = enrolled->device_id;
      if (session) transcript = session->transcript_hash();
    }
    auto key = state.device_key();
    if (!key) {
      log::warn("agent.receipt_unsigned", {{"error", key.error().message}});
      return;
    }
    bj::object r{{"v", 1},
                 {"kind", kind},
                 {"deviceId", device_id},
                 {"sessionId", session_id},
                 {"requestedBy", text("requestedBy")},
                 {"organization", text("organization")},
                 {"at", iso8601(now_ms())},
                 {"transcript", crypto::base64url_encode(transcript)}};
    if (!decision.empty())
      r["decision"] = decision;
    else
      r["outcome"] = detail;
    report(notification_id, "receipt", link::sign_receipt(std::move(r), *key));
  }

  Status join(const std::string& stream_url, const std::string& session_secret,
              const std::string& notification_id, bool h264 = true) {
    std::lock_guard lk(mu);
    if (session && !is_final(session->state()))
      return make_error(Errc::conflict, "sessionOpen",
                        "A remote assistance session is already open on this device.");
    auto key = state.device_key();
    if (!key) return key.error();
    SessionOptions so;
    so.stream_url = stream_url;
    so.device_key = std::move(*key);
    so.session_secret = session_secret;
    so.client = options.relay_client;
    so.x11 = options.x11;
    so.allow_timeout = options.allow_timeout;
    so.continuous_updates = options.continuous_updates;
    so.h264 = options.h264 && h264;
    so.h264_always = options.h264_always;
    // The session's callback may run before start() returns: it reads view_only from the
    // consent state it is handed, not from `session`.
    auto view_only = std::make_shared<std::atomic<bool>>(false);
    auto s = RemoteSession::start(
        loop, so, [this, notification_id, view_only](ConsentState st, const std::string& d) {
          if (st == ConsentState::allowed) view_only->store(d == "viewOnly");
          on_session_state(notification_id, st, d, view_only->load());
        });
    if (!s) return s.error();
    session = std::move(*s);
    session_notification = notification_id;
    session_detail.clear();
    session_ended_at = 0;
    changed();
    return {};
  }

  bj::object answer(const std::string& id, bool accept) {
    auto n = state.notification(id);
    if (!n) return refusal("There is no notification " + id + " on this device.");
    if (n->kind != "remoteAssistanceRequest")
      return refusal("That notification asks nothing: there is nothing to accept or decline.");
    if (!n->answer.empty())
      return refusal("That request was already " + n->answer + ".", "answered");
    if (n->expires_at <= now_ms())
      return refusal("That request has expired: ask your IT administrator for a new session.",
                     "expired");
    std::string link;
    if (auto it = n->data.find("endCustomerLink"); it != n->data.end() && it->value().is_string())
      link = std::string(it->value().as_string());
    // The organisation may not use H.264 (the hub's remoteAssistanceSettings.blockH264).
    bool h264 = true;
    if (auto it = n->data.find("h264"); it != n->data.end() && it->value().is_bool())
      h264 = it->value().as_bool();
    std::string stream_url, secret;
    if (accept) {
      // The link's fragment holds the session's end-to-end secret (the supporter's link holds
      // the same); the relay is never given it.
      auto parsed = link::parse_session_link(link, "join");
      if (!parsed)
        return refusal("The request carries no usable session link: " + parsed.error().message);
      stream_url = parsed->stream_url;
      secret = parsed->session_secret;
    }
    n->answer = accept ? "accepted" : "declined";
    n->read = true;
    if (auto st = state.update_notification(*n); !st) return refusal(st.error().message);
    changed();
    report(id, n->answer);
    if (!accept) {
      say("request " + id + " declined");
      return ok({{"answer", "declined"}});
    }
    say("request " + id + " accepted: joining the session");
    if (auto st = join(stream_url, secret, id, h264); !st) {
      report(id, "failed", st.error().message);
      return refusal(join_error(st.error()), join_reason(st.error()));
    }
    return ok({{"answer", "accepted"}, {"session", "waitingForSupporter"}});
  }

  // `all`: the stored notifications, oldest first.
  bj::object status(const std::vector<Notification>& all) {
    bj::object o;
    std::size_t flagged = 0;
    for (const auto& n : all)
      if ((n.wants_answer() && n.expires_at > now_ms()) || (!n.read && !n.wants_answer()))
        ++flagged;
    o["unread"] = flagged;
    std::lock_guard lk(mu);
    o["channel"] = channel ? (channel->connected() ? "connected" : "connecting") : "none";
    if (session) {
      auto st = session->stats();
      bj::object s{{"state", to_string(session->state())},
                   {"viewOnly", session->view_only()},
                   {"notificationId", session_notification},
                   {"supporter", supporter_of(session_notification)},
                   {"detail", session_detail},
                   {"bytesSent", st.bytes_sent},
                   {"updatesSent", st.updates_sent},
                   {"videoFrames", st.video_frames},
                   {"exactRefreshes", st.refreshes},
                   {"videoBitrate", st.video_bitrate},
                   {"e2eSealCpuMs", st.seal_cpu_us / 1000},
                   {"inputInjected", st.input_injected},
                   {"inputDropped", st.input_dropped}};
      if (session->state() == ConsentState::asking) s["answerByDateTime"] = iso8601(answer_by);
      // The end-to-end handshake's code: the user compares it with what the supporter reads.
      if (auto code = session->verification_code(); !code.empty()) s["verificationCode"] = code;
      // The portal says when it ended ("… ended the session at 14:02").
      if (session_ended_at != 0) s["endedDateTime"] = iso8601(session_ended_at);
      if (auto n = state.notification(session_notification)) add_requester(s, *n);
      o["session"] = std::move(s);
    }
    return ok(std::move(o));
  }

  bj::object snapshot() {
    auto all = state.notifications();
    bj::object o = status(all);
    bj::array list;
    for (auto it = all.rbegin(); it != all.rend(); ++it) list.push_back(notification_json(*it));
    o["notifications"] = std::move(list);
    o["codeEntry"] = !relay_for_codes().empty();
    std::lock_guard lk(mu);
    if (enrolled) {
      bj::object e{{"hubUrl", enrolled->hub_url}, {"deviceId", enrolled->device_id}};
      if (auto key = device_public_key(state))
        e["deviceKeyFingerprint"] = link::device_key_fingerprint(*key);
      for (const char* key : {"userPrincipalName", "organization", "lastSyncDateTime"})
        if (auto v = last_checkin.if_contains(key); v && v->is_string()) e[key] = *v;
      o["enrollment"] = std::move(e);
    }
    return o;
  }

  std::string relay_for_codes() {
    if (!options.relay_url.empty()) return options.relay_url;
    std::lock_guard lk(mu);
    auto v = last_checkin.if_contains("relayUrl");
    return v && v->is_string() ? std::string(v->as_string()) : "";
  }

  bj::object join_code(const std::string& code) {
    std::string relay = relay_for_codes();
    if (relay.empty())
      return refusal(
          "This device does not know where to take a session code: the IT administrator has "
          "not connected remote assistance yet.",
          "noRelay");
    auto url = link::code_stream_url(relay, code);
    if (!url) return refusal(url.error().message, "badCode");
    say("joining the session of code " + printable(code));
    if (auto st = join(*url, {}, {}); !st)
      return refusal(join_error(st.error()), join_reason(st.error()));
    return ok({{"session", "waitingForSupporter"}});
  }

  bj::object control(const bj::object& req) {
    auto cmd = json::opt_string(req, "cmd");
    std::string c = cmd && *cmd ? **cmd : "";
    auto id = json::opt_string(req, "id");
    std::string nid = id && *id ? **id : "";
    if (c == "status") return status(state.notifications());
    if (c == "notifications") {
      auto all = state.notifications();
      auto s = status(all);  // the flag count as it was before this listing
      bj::array list;
      bool marked = false;
      for (auto it = all.rbegin(); it != all.rend(); ++it) {
        list.push_back(notification_json(*it));
        if (!it->read && !it->wants_answer()) {
          Notification n = *it;
          n.read = true;
          if (state.update_notification(n)) marked = true;
        }
      }
      if (marked) changed();
      s["notifications"] = std::move(list);
      return s;
    }
    if (c == "accept" || c == "decline") {
      if (nid.empty()) return refusal("Say which notification: reach-agent " + c + " ID.");
      return answer(nid, c == "accept");
    }
    if (c == "allow" || c == "deny" || c == "end" || c == "viewOnly") {
      std::unique_lock lk(mu);
      if (!session || is_final(session->state()))
        return refusal("There is no remote assistance session on this device.", "noSession");
      if (c == "end") {
        session->end("endedByUser");
        return ok();
      }
      if (c == "viewOnly") {
        if (auto st = session->restrict_to_view_only(); !st) return refusal(st.error().message);
        std::string notification_id = session_notification;
        lk.unlock();
        changed();
        say("session: view only from now on");
        report(notification_id, "viewOnly");
        return ok();
      }
      auto vo = json::opt_bool(req, "viewOnly");
      Status st = c == "allow" ? session->allow(vo && *vo && **vo) : session->deny();
      if (!st) return refusal(st.error().message);
      return ok();
    }
    if (c == "join") {
      auto url = json::opt_string(req, "streamUrl");
      if (!url || !*url) return refusal("join needs the session's stream URL.");
      // The end-to-end secret of a link the hub made (base64url), if the link had one.
      std::string secret;
      if (auto given = json::opt_string(req, "sessionSecret"); given && *given) {
        auto raw = crypto::base64url_decode(**given);
        if (!raw || raw->size() != link::kSessionSecretBytes)
          return refusal("The session's key is malformed: copy the whole link.", "badLink");
        secret = std::move(*raw);
      }
      if (auto st = join(**url, secret, {}); !st)
        return refusal(join_error(st.error()), join_reason(st.error()));
      return ok({{"session", "waitingForSupporter"}});
    }
    if (c == "joinCode") {
      auto code = json::opt_string(req, "code");
      if (!code || !*code) return refusal("joinCode needs the session code.", "badCode");
      return join_code(**code);
    }
    return refusal("Unknown command '" + c + "'.");
  }
};

Agent::Agent(StateDir& state, AgentOptions options)
    : impl_(std::make_unique<Impl>(state, std::move(options))) {}

Agent::~Agent() {
  std::unique_ptr<RemoteSession> s;
  std::unique_ptr<PushChannel> ch;
  {
    std::lock_guard lk(impl_->mu);
    s = std::move(impl_->session);
    ch = std::move(impl_->channel);
  }
  s.reset();  // ends it and joins (its last events are queued durably before the channel goes)
  ch.reset();
}

void Agent::start_channel(const Credential& credential) {
  Impl* i = impl_.get();
  PushChannelOptions channel_options = i->options.channel;
  if (auto key = device_public_key(i->state))
    channel_options.device_public_key = crypto::base64url_encode(*key);
  else
    log::warn("agent.device_key_unreadable", {{"error", key.error().message}});
  auto ch = std::make_unique<PushChannel>(
      credential, i->state, collect_inventory(), channel_options,
      [i](const Notification& n) { return i->on_notification(n); }, [i](bool) { i->changed(); },
      [i](const bj::object& answer) {
        {
          std::lock_guard lk(i->mu);
          i->last_checkin = answer;
        }
        i->changed();
      });
  std::lock_guard lk(impl_->mu);
  impl_->enrolled = credential;
  impl_->channel = std::move(ch);
}

Status Agent::join(const std::string& stream_url, const std::string& session_secret) {
  return impl_->join(stream_url, session_secret, {});
}

bj::object Agent::control(const bj::object& request) {
  return impl_->control(request);
}

bj::object Agent::snapshot() {
  return impl_->snapshot();
}

ConsentState Agent::wait_session() {
  RemoteSession* s = nullptr;
  {
    std::lock_guard lk(impl_->mu);
    s = impl_->session.get();
  }
  if (!s) return ConsentState::ended;
  s->wait();
  return s->state();
}

}  // namespace reach::agent
