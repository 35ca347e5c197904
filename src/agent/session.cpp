#include "agent/session.h"

#include "agent/flow_window.h"
#include "agent/motion.h"
#include "agent/video_rate.h"
#include "common/e2e_crypto.h"
#include "common/log.h"
#include "link/e2e.h"
#include "link/notice.h"
#include "rfb/server_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <time.h>

namespace reach::agent {

namespace {

constexpr std::size_t kMaxMessage = 256 * 1024;  // bytes per WebSocket message to the relay
constexpr int kMaxRectsBeforeMerge = 64;  // more damage rectangles than this: send their union
constexpr auto kIdleWait = std::chrono::milliseconds(50);
// While the window is full and the supporter typed or pointed within kEchoPeriod: how often the
// screen is looked at for a small change (the echo) that may go ahead of the window, and how
// small that is (a line of text at 1080p). Without input nothing is looked for: each look is
// round trips to the X server.
constexpr auto kEchoPeriod = std::chrono::seconds(1);
constexpr auto kSmallWait = std::chrono::milliseconds(4);
constexpr std::int64_t kSmallPixels = 128 * 1024;
constexpr auto kDamageWait = std::chrono::milliseconds(8);
constexpr auto kCloseWait = std::chrono::seconds(3);       // for the relay to take the last bytes
constexpr auto kHandshakeTime = std::chrono::seconds(30);  // see handshake()
// Viewer bytes waiting for the session thread: past this the stream stops being read (TCP then
// holds the viewer back) until the thread has taken them.
constexpr std::size_t kInboxLimit = 1 << 20;

}  // namespace

struct RemoteSession::Impl : rfb::ServerHandler, std::enable_shared_from_this<Impl> {
  SessionOptions options;
  StateCallback on_state;
  std::unique_ptr<desktop::Desktop> desk;

  // Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;  // binary messages from the viewer, in order
  std::size_t inbox_bytes = 0;
  bool reading_paused = false;
  bool ws_closed = false;
  std::uint16_t ws_close_code = 0;
  std::string ws_close_reason;
  std::optional<bool> allow_request;  // view_only
  bool deny_request = false;
  std::optional<std::string> end_request;
  Consent consent{ConsentState::accepted};
  SessionStats stats;
  bool finished = false;

  std::shared_ptr<net::WebSocket> ws;  // set once before the thread starts
  std::thread thread;
  // The end-to-end channel (link/e2e.h), set once before the thread starts. Every record is
  // sealed and sent under e2e_mu, so records leave in the order of their sequence numbers
  // whichever thread sends (a notice may come from the user's "view only").
  mutable std::mutex e2e_mu;
  std::unique_ptr<link::E2eChannel> e2e;

  // Session thread only.
  std::unique_ptr<rfb::ServerConnection> conn;
  rfb::Framebuffer fb;
  bool update_pending = false;
  rfb::Rect forced;  // areas asked for non-incrementally
  bool capturing = false;
  std::chrono::steady_clock::time_point asked_at;
  // Continuous updates (the viewer asked for them; rfbproto): updates go out as the screen changes,
  // as many bytes in flight as the window allows.
  bool continuous = false;
  rfb::Rect continuous_area;
  FlowWindow window;
  // Video areas and exact copies (motion.h), and the video's rate (video_rate.h).
  ScreenMotion motion;
  VideoRate video_rate;
  bool window_limited =
      false;  // an update waited for the window's bytes since the last video frame
  std::chrono::steady_clock::time_point last_held_back{};  // the window held an update back
  // The last busy update sent as exact rectangles (Tight): its bytes and how long it took to
  // encode.
  std::uint64_t busy_exact_bytes = 0;
  int slow_exact_updates = 0;  // busy exact updates in a row that were slow (VideoChoice)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_video_frame{};
  std::chrono::steady_clock::time_point next_link_notice{};
  std::uint64_t small_sent_upto = 0;  // the window's bytes up to the last small update's end
  std::chrono::steady_clock::time_point last_input{};  // the supporter's last key or pointer event

  // Applies a consent event under mu and reports the new state (outside mu).
  bool transition(ConsentEvent e, const std::string& detail = {}) {
    ConsentState s;
    {
      std::lock_guard lk(mu);
      if (!consent.apply(e)) return false;
      s = consent.state();
      if (is_final(s)) finished = true;
    }
    log::info("session.state", {{"state", to_string(s)}, {"detail", detail}});
    if (on_state) on_state(s, detail);
    if (is_final(s)) cv.notify_all();
    return true;
  }

  // Sends what the RFB connection wrote, in messages of at most kMaxMessage: the stream is
  // bytes, so message boundaries mean nothing, and relays limit message sizes (1 MiB here).
  void flush() {
    std::string out = conn->take_output();
    if (out.empty()) return;
    std::uint64_t spent = 0;  // CPU time in sealing alone (not the sends)
    {
      std::lock_guard lk(e2e_mu);
      // The supporter's end closed the session (its close record came with the last input,
      // which was still taken): what the server answered has nobody to go to.
      if (!e2e->established()) return;
      for (std::size_t at = 0; at < out.size(); at += kMaxMessage) {
        std::uint64_t before = thread_cpu_us();
        std::string record = e2e->seal_stream(std::string_view(out).substr(at, kMaxMessage));
        spent += thread_cpu_us() - before;
        ws->send(std::move(record), true);
      }
    }
    std::lock_guard lk(mu);
    stats.bytes_sent += out.size();
    stats.seal_cpu_us += spent;
  }

  static std::uint64_t thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000 +
           static_cast<std::uint64_t>(t.tv_nsec) / 1000;
  }

  // rfb::ServerHandler, called inside conn->process() on the session thread.
  void key_event(bool down, uint32_t keysym) override {
    if (!input_allowed()) return;
    desk->key_event(down, keysym);
    last_input = std::chrono::steady_clock::now();
  }
  void pointer_event(uint8_t mask, int x, int y) override {
    if (!input_allowed()) return;
    desk->pointer_event(mask, x, y);
    last_input = std::chrono::steady_clock::now();
  }
  // The supporter typed or pointed lately: small changes (the echo) may go ahead of the window.
  bool answering_input() const {
    return std::chrono::steady_clock::now() - last_input < kEchoPeriod;
  }
  void cut_text(std::string_view latin1) override {
    // Accepted and bounded by the protocol core; the clipboard is not shared (yet).
    log::debug("session.cut_text_ignored", {{"bytes", latin1.size()}});
  }
  void update_requested(bool incremental, const rfb::Rect& rect) override {
    update_pending = true;
    if (!incremental) forced = forced.united(rect);
  }
  void continuous_updates_changed(bool enable, const rfb::Rect& rect) override {
    continuous = enable;
    continuous_area = rect;
    log::info("session.continuous_updates", {{"enabled", enable}});
  }
  // Session thread only: an update is due (asked for, or continuous with room in the window).
  bool wants_update() {
    if (update_pending) return true;
    if (!continuous) return false;
    if (!window.may_send()) {
      // Held back by the bytes or by the count of updates on their way: either way the screen
      // changes faster than the path (the link, or the viewer) takes it (VideoChoice).
      if (capturing && desk->wait_for_change(std::chrono::milliseconds(0))) {
        last_held_back = std::chrono::steady_clock::now();
        window.held_back(last_held_back);
      }
      if (window.bytes_limited()) window_limited = true;
      return false;
    }
    return true;
  }
  void fence_answered(std::string_view payload) override {
    window.answered(payload, std::chrono::steady_clock::now());
  }
  void pixel_format_changed(const rfb::PixelFormat&) override {}
  void encodings_changed(const std::vector<int32_t>&) override {}
  void admission_requested() override {
    asked_at = std::chrono::steady_clock::now();
    transition(ConsentEvent::supporter_arrived);
    auto seconds = std::chrono::ceil<std::chrono::seconds>(options.allow_timeout).count();
    notify({link::Notice::Kind::asking,
            static_cast<int>(std::clamp<std::int64_t>(seconds, 1, link::kMaxAskingSeconds))});
  }

  std::uint64_t bytes_sent() {
    std::lock_guard lk(mu);
    return stats.bytes_sent;
  }

  // Tells the supporter's client (link/notice.h), beside the stream, in a record of its own.
  void notify(const link::Notice& n) {
    std::lock_guard lk(e2e_mu);
    if (e2e->established()) ws->send(e2e->seal_notice(link::to_json(n)), true);
  }

  // The handshake, before any RFB byte: messages are answered until both ends have proven their
  // keys. Returns the end's detail when the session ends first (a failure, the relay's close,
  // end()); what arrived after the last handshake message stays in the inbox for the RFB loop.
  std::optional<std::string> handshake() {
    // Once the supporter's end has begun, it has this long to finish (as long as the user would
    // have to answer, at most kHandshakeTime): an end that stops half-way does not hold the
    // device's session.
    std::optional<std::chrono::steady_clock::time_point> deadline;
    for (;;) {
      std::deque<std::string> input;
      {
        std::unique_lock lk(mu);
        auto ready = [&] { return !inbox.empty() || ws_closed || end_request; };
        if (!deadline) {
          cv.wait(lk, ready);
        } else if (!cv.wait_until(lk, *deadline, ready)) {
          return e2e_failed(make_error(Errc::timeout, "e2eTimeout",
                                       "The supporter's end stopped during the handshake."));
        }
        if (end_request) return *std::exchange(end_request, std::nullopt);
        if (inbox.empty()) return close_detail(ws_close_code, ws_close_reason);
        if (!deadline)
          deadline =
              std::chrono::steady_clock::now() +
              std::min<std::chrono::steady_clock::duration>(kHandshakeTime, options.allow_timeout);
        input.swap(inbox);
        inbox_bytes = 0;
        if (std::exchange(reading_paused, false)) ws->resume_reading();
      }
      while (!input.empty()) {
        std::string m = std::move(input.front());
        input.pop_front();
        std::lock_guard lk(e2e_mu);
        auto r = e2e->receive(m);
        if (!r) return e2e_failed(r.error());
        for (auto& out : r->send) ws->send(std::move(out), true);
        if (r->established) {
          log::info("session.e2e_established", {{"code", e2e->verification_code()}});
          std::lock_guard lk2(mu);
          inbox.insert(inbox.begin(), std::make_move_iterator(input.begin()),
                       std::make_move_iterator(input.end()));
          return std::nullopt;
        }
      }
    }
  }

  // The end's detail for a failed end-to-end check (logged; the stream is closed with a reason
  // the supporter's end can say in words).
  std::string e2e_failed(const Error& e) {
    log::warn("session.e2e_failed", {{"code", e.code}, {"reason", e.message}});
    e2e_close_reason = "end-to-end check failed (" + e.code + ")";
    return "e2eFailed";
  }
  std::string e2e_close_reason;  // session thread only

  static std::string close_detail(std::uint16_t code, const std::string& reason) {
    // 1000: the supporter's end or the relay closed the session (the supporter's end says so
    // when a check failed there: the relay passes its reason on); 4000: the supporter never
    // came; anything else (1006: the connection dropped, 1001: the relay stopped): the relay
    // was lost, and with it the session.
    if (code == 1000 && reason.starts_with("end-to-end check failed")) {
      log::warn("session.e2e_failed_at_supporter", {{"reason", reason}});
      return "e2eFailed";
    }
    if (code == 4000) return "peerTimeout";
    if (code == 1000) return "supporterLeft";
    log::warn("session.relay_lost", {{"code", static_cast<int>(code)}});
    return "relayLost";
  }

  bool input_allowed() {
    std::lock_guard lk(mu);
    if (consent.may_inject_input()) {
      ++stats.input_injected;
      return true;
    }
    ++stats.input_dropped;
    return false;
  }

  void run() {
    conn =
        std::make_unique<rfb::ServerConnection>(*this, desk->width(), desk->height(), desk->name());
    conn->hold_admission();
    if (options.continuous_updates) conn->offer_continuous_updates();
    conn->set_video(options.h264);
    // Big updates leave tile by tile: the relay and the viewer work while the rest is encoded.
    conn->set_progress_sink([this] { flush(); }, kMaxMessage / 4);
    transition(ConsentEvent::stream_open);
    std::string end_detail;
    if (auto ended = handshake()) {
      end_detail = *ended;
    } else {
      flush();  // the version only
      auto served = serve();
      if (!served) return;  // denied: already closed and final
      end_detail = *served;
    }
    stop_capture();
    close_stream(!e2e_close_reason.empty()     ? e2e_close_reason
                 : end_detail == "endedByUser" ? "ended by the device user"
                                               : "session ended");
    ConsentState s = state();
    if (s == ConsentState::waiting && end_detail == "peerTimeout") {
      transition(ConsentEvent::expire, end_detail);
    } else {
      transition(ConsentEvent::end, end_detail);
    }
    finish();
  }

  // The RFB session after the handshake, until it ends; returns the end's detail. A denial
  // ends it here (finished, the stream closed) and returns nullopt.
  std::optional<std::string> serve() {
    std::string end_detail;
    for (;;) {
      std::deque<std::string> input;
      std::optional<bool> allow;
      bool deny = false;
      std::optional<std::string> end;
      bool closed = false;
      std::uint16_t close_code = 0;
      std::string close_reason;
      {
        std::unique_lock lk(mu);
        // While the window is full the thread waits for the viewer (its fence answers), not for
        // damage: on a busy screen the damage is always there, and that wait would spin.
        bool busy = capturing && wants_update();
        if (!busy)
          cv.wait_for(
              lk, capturing && continuous && answering_input() ? kSmallWait : kIdleWait, [&] {
                return !inbox.empty() || ws_closed || allow_request || deny_request || end_request;
              });
        input.swap(inbox);
        inbox_bytes = 0;
        if (std::exchange(reading_paused, false)) ws->resume_reading();
        allow = std::exchange(allow_request, std::nullopt);
        deny = std::exchange(deny_request, false);
        end = std::exchange(end_request, std::nullopt);
        closed = ws_closed;
        close_code = ws_close_code;
        close_reason = ws_close_reason;
      }
      if (end) {
        end_detail = *end;
        break;
      }
      std::optional<std::string> peer_closed;
      for (auto& m : input) {
        std::unique_lock lk(e2e_mu);
        auto r = e2e->receive(m);
        lk.unlock();
        if (!r) {
          end_detail = e2e_failed(r.error());
          break;
        }
        if (!r->stream.empty()) conn->feed(r->stream);
        if (r->closed) {
          peer_closed = *r->closed;
          break;
        }
      }
      if (!end_detail.empty()) break;
      if (!input.empty()) {
        if (auto st = conn->process(); !st) {
          log::warn("session.viewer_refused", {{"reason", st.error().message}});
          flush();
          end_detail = "protocolError: " + st.error().message;
          break;
        }
        flush();
      }
      if (peer_closed) {
        log::info("session.supporter_closed", {{"reason", *peer_closed}});
        end_detail = "supporterLeft";
        break;
      }
      if (closed) {
        end_detail = close_detail(close_code, close_reason);
        break;
      }
      if (conn->awaiting_admission()) {
        if (deny || std::chrono::steady_clock::now() - asked_at > options.allow_timeout) {
          conn->refuse(deny ? "The device user denied the session."
                            : "The device user did not answer in time.");
          flush();
          close_stream("denied by the device user");
          transition(ConsentEvent::deny, deny ? "deniedByUser" : "noAnswer");
          finish();
          return std::nullopt;
        }
        if (allow) {
          if (auto st = desk->start(); !st) {
            conn->refuse("The device cannot share its screen: " + st.error().message);
            flush();
            end_detail = "failed: " + st.error().message;
            break;
          }
          capturing = true;
          transition(*allow ? ConsentEvent::allow_view_only : ConsentEvent::allow_control,
                     *allow ? "viewOnly" : "control");
          notify({link::Notice::Kind::access, 0, *allow});
          conn->admit();
          if (auto st = conn->process(); !st) {
            end_detail = "protocolError: " + st.error().message;
            break;
          }
          flush();
        }
      }
      if (capturing && conn->ready()) {
        auto st = wants_update() ? send_update() : send_small_update();
        if (!st) {
          end_detail = st.error().message;
          break;
        }
      }
    }
    return end_detail;
  }

  // Closes the stream after what is queued (a refusal's reason, the last update) and waits,
  // boundedly, until the close has gone through: the final state is reported only then, so that
  // a process that exits on it (`reach-agent join`) does not cut off those bytes.
  void close_stream(const std::string& reason) {
    {
      // Said inside the channel too, where the relay can neither read nor change it.
      std::lock_guard lk(e2e_mu);
      if (e2e->established()) ws->send(e2e->seal_close(reason), true);
    }
    ws->close(1000, reason);
    std::unique_lock lk(mu);
    cv.wait_for(lk, kCloseWait, [&] { return ws_closed; });
  }

  void finish() {
    stop_capture();
    std::lock_guard lk(mu);
    finished = true;
    cv.notify_all();
  }

  void stop_capture() {
    if (!capturing) return;
    desk->release_all();
    desk->stop();
    capturing = false;
  }

  ConsentState state() const {
    std::lock_guard lk(mu);
    return consent.state();
  }

  // What the update flushed since `before` (bytes_sent()) weighs, into the window, then a fence:
  // its answer says the viewer has all of it.
  void close_update(std::uint64_t before, std::chrono::steady_clock::time_point now) {
    window.sent(bytes_sent() - before);
    conn->write_fence(
        rfb::ServerConnection::kFenceRequest | rfb::ServerConnection::kFenceBlockBefore,
        window.fence(now));
    flush();
  }

  // While the window is full (continuous updates) and the supporter typed or pointed lately: a
  // small change goes ahead of it, alone, so that a typed key's echo does not wait for the window
  // to open and then travel and be drawn behind a big update (the busy part of the screen). One
  // such update unanswered at a time: a screen of small changes is still paced by the window.
  Status send_small_update() {
    if (!continuous || !conn->fence_agreed() || !answering_input() ||
        window.acked_total() < small_sent_upto)
      return {};
    if (ws->queued_bytes() > options.send_high_water) return {};
    if (!desk->wait_for_change(std::chrono::milliseconds(0))) return {};
    auto grabbed = desk->grab_small(fb, kSmallPixels);
    if (!grabbed)
      return make_error(Errc::internal, "displayLost", "displayLost: " + grabbed.error().message);
    rfb::Update u;
    for (const auto& r : *grabbed)
      if (auto c = r.intersect(continuous_area); !c.empty()) u.changed.push_back(c);
    if (u.changed.empty()) return {};
    const auto now = std::chrono::steady_clock::now();
    u.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
    const std::uint64_t before = bytes_sent() + conn->pending_output();
    if (auto st = conn->write_update(fb, u); !st) return st;
    motion.sent_lossy(conn->take_lossy(), now);
    {
      std::lock_guard lk(mu);
      ++stats.updates_sent;
    }
    flush();
    close_update(before, now);
    small_sent_upto = window.sent_total();
    return {};
  }

  Status send_update() {
    if (ws->queued_bytes() > options.send_high_water) {
      desk->wait_for_change(kDamageWait);  // the relay is slow: let damage accumulate
      return {};
    }
    auto now = std::chrono::steady_clock::now();
    // A video area is not grabbed faster than its frame rate: its damage waits (in the
    // desktop) for the next frame, while other updates go on.
    const bool video_paced = !motion.video_area().empty() && now < next_video_frame;
    bool changed = false;
    if (!video_paced || !forced.empty())
      changed = desk->wait_for_change(forced.empty() ? kDamageWait : std::chrono::milliseconds(0));
    else
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(next_video_frame - now, kDamageWait));
    now = std::chrono::steady_clock::now();
    auto cursor = desk->cursor_if_changed();
    std::vector<rfb::Rect> rects;
    if (changed || !forced.empty() || fb.width() == 0) {
      auto grabbed = desk->grab(fb);
      if (!grabbed)
        return make_error(Errc::internal, "displayLost", "displayLost: " + grabbed.error().message);
      rects = std::move(*grabbed);
    }
    if (continuous && !update_pending) {
      // Only what the viewer asked to follow (noVNC: the whole screen).
      std::vector<rfb::Rect> inside;
      for (const auto& r : rects)
        if (auto c = r.intersect(continuous_area); !c.empty()) inside.push_back(c);
      rects = std::move(inside);
    }
    motion.set_video(conn->video_active());
    // Video where exact rectangles fall behind the screen (motion.h, VideoChoice).
    VideoChoice choice;
    choice.continuous = continuous;
    choice.always = options.h264_always;
    choice.slow_exact_updates = slow_exact_updates;
    choice.busy_exact_bytes = busy_exact_bytes;
    choice.held_back_recently = now - last_held_back < std::chrono::seconds(1);
    choice.delivery_rate = window.delivery();
    motion.set_link_limited(choice.video());
    const rfb::Rect video_before = motion.video_area();
    auto plan = motion.plan(rects, fb.bounds(), now, forced.empty());
    if (motion.video_area() != video_before) {
      const rfb::Rect& v = motion.video_area();
      log::debug("session.video_area", {{"x", v.x},
                                        {"y", v.y},
                                        {"w", v.w},
                                        {"h", v.h},
                                        {"delivery", choice.delivery_rate},
                                        {"exactBytes", choice.busy_exact_bytes},
                                        {"slowExact", choice.slow_exact_updates}});
    }
    rects = std::move(plan.changed);
    if (!forced.empty()) {
      // Asked for again as a whole: sent once, exactly, not beside the grab's changes inside it
      // (the first update, whose grab is the whole screen, went out twice).
      rfb::Rect f = forced.intersect(fb.bounds());
      if (std::none_of(rects.begin(), rects.end(),
                       [&](const rfb::Rect& r) { return r.contains(f); })) {
        std::erase_if(rects, [&](const rfb::Rect& r) { return f.contains(r); });
        rects.push_back(f);
      }
      if (f.contains(plan.video)) plan.video = {};
    }
    if (static_cast<int>(rects.size()) > kMaxRectsBeforeMerge) {
      rfb::Rect all;
      for (const auto& r : rects) all = all.united(r);
      rects = {all};
    }
    // Areas sent with loss and still since: their exact copy, in an update of its own.
    std::vector<rfb::Rect> refresh = motion.refresh_due(now);
    bool cursor_wanted = cursor && conn->client_supports(rfb::encoding::kCursor);
    bool resized = fb.width() != conn->width() || fb.height() != conn->height();
    if (rects.empty() && plan.video.empty() && !cursor_wanted && !resized && refresh.empty())
      return {};
    rfb::Update u;
    u.changed = std::move(rects);
    if (!plan.video.empty()) {
      u.video = {plan.video};
      std::int64_t pixels = std::int64_t{plan.video.w} * plan.video.h;
      video_rate.update(std::exchange(window_limited, false), window.rate(), conn->quality_level(),
                        pixels, now);
      conn->set_video_rate(video_rate.bitrate(), video_rate.frame_rate());
      next_video_frame = now + video_rate.frame_interval();
    }
    u.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
    if (cursor_wanted) u.cursor = &*cursor;
    if (continuous && conn->fence_agreed() && window.in_flight() == 0) {
      // Nothing on the way: this fence's answer is the path's own round trip.
      conn->write_fence(rfb::ServerConnection::kFenceRequest, window.fence(now));
    }
    const std::uint64_t before = bytes_sent() + conn->pending_output();
    std::uint64_t frames_before = conn->video_frames();
    if (!u.changed.empty() || !u.video.empty() || u.cursor || resized) {
      std::int64_t area = 0;
      for (const auto& r : u.changed) area += std::int64_t{r.w} * r.h;
      const std::uint64_t out_before = conn->pending_output() + bytes_sent();
      const auto encode_start = std::chrono::steady_clock::now();
      if (auto st = conn->write_update(fb, u); !st) return st;
      // (Not a whole screen asked for: the first update says nothing about the motion.)
      if (u.video.empty() && forced.empty() && area >= ScreenMotion::kMinBusyPixels) {
        const bool slow =
            std::chrono::steady_clock::now() - encode_start > VideoChoice::kMaxExactEncode;
        slow_exact_updates = slow ? slow_exact_updates + 1 : 0;
        busy_exact_bytes = conn->pending_output() + bytes_sent() - out_before;
      }
      motion.sent_lossy(conn->take_lossy(), now);
    }
    const bool refreshing = !refresh.empty();
    if (refreshing) {
      rfb::Update exact;
      exact.changed = std::move(refresh);
      exact.lossless = true;
      std::int64_t pixels = 0;
      for (const auto& r : exact.changed) pixels += std::int64_t{r.w} * r.h;
      const std::uint64_t out_before = conn->pending_output() + bytes_sent();
      if (auto st = conn->write_update(fb, exact); !st) return st;
      log::debug("session.exact_copy",
                 {{"pixels", pixels},
                  {"bytes", conn->pending_output() + bytes_sent() - out_before},
                  {"inFlight", window.in_flight()}});
    }
    forced = {};
    update_pending = false;
    bool first = false;
    {
      std::lock_guard lk(mu);
      ++stats.updates_sent;
      stats.video_frames += conn->video_frames() - frames_before;
      if (!u.video.empty()) stats.video_bitrate = video_rate.bitrate();
      if (refreshing) ++stats.refreshes;
      first = consent.state() == ConsentState::allowed;
    }
    flush();
    if (continuous && conn->fence_agreed()) close_update(before, std::chrono::steady_clock::now());
    if (first) transition(ConsentEvent::first_frame);
    if (continuous && window.last_rtt().count() > 0 && now >= next_link_notice) {
      // The viewer's statistics: the path's round trip and the rate it takes updates at.
      link::Notice n{link::Notice::Kind::link};
      n.rtt_ms = static_cast<int>(std::min<std::int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(window.last_rtt()).count(),
          link::kMaxRttMs));
      n.kbps = static_cast<int>(std::min<double>(window.rate() * 8 / 1000, link::kMaxKbps));
      notify(n);
      next_link_notice = now + std::chrono::seconds(1);
    }
    return {};
  }
};

namespace {

// The stream's events, handed to the session thread.
class StreamHandler : public net::WebSocketHandler {
 public:
  explicit StreamHandler(std::weak_ptr<RemoteSession::Impl> s) : s_(std::move(s)) {}
  void on_open(std::shared_ptr<net::WebSocket> ws) override { ws_ = ws; }
  void on_message(std::string data, bool binary) override {
    auto s = s_.lock();
    if (!s || !binary) return;  // text is the relay's, never RFB
    {
      // Paused and resumed under mu, so the two calls reach the stream in the order decided.
      std::lock_guard lk(s->mu);
      s->inbox_bytes += data.size();
      s->inbox.push_back(std::move(data));
      if (s->inbox_bytes > kInboxLimit && !s->reading_paused) {
        if (auto ws = ws_.lock()) ws->pause_reading();
        s->reading_paused = true;
      }
    }
    s->cv.notify_all();
  }
  void on_drain() override {
    if (auto s = s_.lock()) s->cv.notify_all();
  }
  void on_close(std::uint16_t code, std::string reason) override {
    auto s = s_.lock();
    if (!s) return;
    {
      std::lock_guard lk(s->mu);
      s->ws_closed = true;
      s->ws_close_code = code;
      s->ws_close_reason = std::move(reason);
    }
    s->cv.notify_all();
  }

 private:
  std::weak_ptr<RemoteSession::Impl> s_;
  std::weak_ptr<net::WebSocket> ws_;  // the event loop's thread only
};

}  // namespace

Result<std::unique_ptr<RemoteSession>> RemoteSession::start(net::EventLoop& loop,
                                                            SessionOptions options,
                                                            StateCallback on_state) {
  auto desk = desktop::open_x11(options.x11);
  if (!desk) return desk.error();
  auto impl = std::make_shared<Impl>();
  impl->desk = std::move(*desk);
  impl->on_state = std::move(on_state);
  impl->options = std::move(options);
  if (impl->options.device_key.size() != crypto::kKeyBytes ||
      (!impl->options.session_secret.empty() &&
       impl->options.session_secret.size() != link::kSessionSecretBytes))
    return make_error(Errc::invalid, "badKey",
                      "The session needs the device key and, from the hub, a 32-byte secret.");
  impl->e2e = std::make_unique<link::E2eChannel>(link::E2eOptions{
      link::E2eRole::device, impl->options.session_secret, impl->options.device_key, {}});
  auto handler = std::make_shared<StreamHandler>(impl);
  auto ws =
      net::websocket_connect(loop, impl->options.stream_url, {}, handler, impl->options.client);
  if (!ws) return ws.error();
  impl->ws = *ws;
  impl->thread = std::thread([impl] { impl->run(); });
  return std::unique_ptr<RemoteSession>(new RemoteSession(impl));
}

RemoteSession::RemoteSession(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteSession::~RemoteSession() {
  end("agentStopped");
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status RemoteSession::allow(bool view_only) {
  std::lock_guard lk(impl_->mu);
  if (impl_->consent.state() != ConsentState::asking)
    return conflict(fmt::format("There is nothing to allow: the session is {}.",
                                to_string(impl_->consent.state())));
  impl_->allow_request = view_only;
  impl_->cv.notify_all();
  return {};
}

Status RemoteSession::deny() {
  std::lock_guard lk(impl_->mu);
  if (impl_->consent.state() != ConsentState::asking)
    return conflict(fmt::format("There is nothing to deny: the session is {}.",
                                to_string(impl_->consent.state())));
  impl_->deny_request = true;
  impl_->cv.notify_all();
  return {};
}

Status RemoteSession::restrict_to_view_only() {
  {
    std::lock_guard lk(impl_->mu);
    if (!impl_->consent.apply(ConsentEvent::restrict_to_view_only))
      return conflict(fmt::format("There is no shared screen to restrict: the session is {}.",
                                  to_string(impl_->consent.state())));
  }
  log::info("session.view_only");
  impl_->notify({link::Notice::Kind::access, 0, true});
  return {};
}

void RemoteSession::end(std::string reason) {
  std::lock_guard lk(impl_->mu);
  if (impl_->finished) return;
  if (!impl_->end_request) impl_->end_request = std::move(reason);
  impl_->cv.notify_all();
}

void RemoteSession::wait() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [&] { return impl_->finished; });
}

ConsentState RemoteSession::state() const {
  return impl_->state();
}

bool RemoteSession::view_only() const {
  std::lock_guard lk(impl_->mu);
  return impl_->consent.view_only();
}

std::string RemoteSession::verification_code() const {
  std::lock_guard lk(impl_->e2e_mu);
  return impl_->e2e->verification_code();
}

std::string RemoteSession::transcript_hash() const {
  std::lock_guard lk(impl_->e2e_mu);
  return impl_->e2e->transcript_hash();
}

SessionStats RemoteSession::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->stats;
}

}  // namespace reach::agent
