// reach-portal, the desktop app, as the person at the device meets it (issues 11, 21): on the
// device's virtual display with a window manager (openbox), a session D-Bus, a real notification
// server that draws actions as buttons (xfce4-notifyd, as a desktop's does), a tray host
// (the StatusNotifierItem watcher a panel provides) and assistive technology's view of the
// controls (AT-SPI), against the real hub, relay and agent.
//
// Everything is read where the person (or their desktop) would read it: the Notify calls on the
// bus, the tray item's tooltip and icon over D-Bus, windows by their titles on the X display,
// buttons by role and accessible name; every click is an X input event (xdotool). Screenshots go
// to $REACH_SCREENSHOT_DIR (default: the build's screenshots/portal).
#include "integration/e2e_peer.h"
#include "integration/ra_fixture.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

namespace reach::itest {
namespace {

std::string screenshot_dir() {
  if (const char* d = std::getenv("REACH_SCREENSHOT_DIR"); d && *d) return d;
  return program_path("") + "/../screenshots/portal";
}

using Env = std::vector<std::pair<std::string, std::string>>;

// The notification calls a monitor saw on the session bus: each Notify's string arguments.
struct NotifyCall {
  std::string app, icon, summary, body;
  std::vector<std::string> actions;  // key, label, key, label…
};

// dbus-monitor's text: a "method call … member=Notify" line, then one argument per line
// ("string \"…\"" may span lines), arrays between "array [" and "]".
std::vector<NotifyCall> parse_notify_calls(const std::string& log) {
  std::vector<NotifyCall> calls;
  std::size_t pos = 0;
  while ((pos = log.find("member=Notify\n", pos)) != std::string::npos) {
    pos += 14;
    std::size_t end = log.find("\nmethod call ", pos);
    std::string block = log.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::vector<std::string> strings;
    std::vector<std::string> array;
    int depth = 0, arrays_done = 0;
    std::size_t i = 0;
    NotifyCall c;
    while (i < block.size()) {
      std::size_t eol = block.find('\n', i);
      std::string line = block.substr(i, eol == std::string::npos ? std::string::npos : eol - i);
      std::string t = trim(line);
      if (t.starts_with("string \"")) {
        std::size_t start = block.find('"', i) + 1;
        std::size_t close = block.find("\"\n", start);
        if (close == std::string::npos) close = block.size() - 1;
        std::string value = block.substr(start, close - start);
        (depth == 1 && arrays_done == 0 ? array : strings).push_back(value);
        i = close + 2;
        continue;
      }
      if (t.starts_with("array [")) ++depth;
      if (t == "]" && --depth == 0) ++arrays_done;
      if (eol == std::string::npos) break;
      i = eol + 1;
    }
    if (strings.size() >= 4) {
      c.app = strings[0];
      c.icon = strings[1];
      c.summary = strings[2];
      c.body = strings[3];
      c.actions = array;
      calls.push_back(c);
    }
    pos = end == std::string::npos ? log.size() : end;
  }
  return calls;
}

// The pixels of a PNG (ImageMagick converts it to PPM).
struct Image {
  int w = 0, h = 0;
  std::string rgb;
  // Pixels that are the badge's red (#c50f1f, not the session icon's orange) in the rectangle.
  int red_in(int x0, int y0, int x1, int y1) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) {
        auto p = reinterpret_cast<const unsigned char*>(rgb.data()) + (y * w + x) * 3;
        if (p[0] > 150 && p[1] < 40 && p[2] < 60) ++n;
      }
    return n;
  }
};

Image load_png(const std::string& path) {
  Image img;
  auto r = run_command({"/usr/bin/convert", path, "-background", "white", "-flatten", "ppm:-"});
  if (r.exit_code != 0) return img;
  std::istringstream in(r.out);
  std::string magic;
  int maxval = 0;
  in >> magic >> img.w >> img.h >> maxval;
  in.get();
  img.rgb.resize(static_cast<std::size_t>(img.w) * img.h * 3);
  in.read(img.rgb.data(), static_cast<std::streamsize>(img.rgb.size()));
  return img;
}

// A desktop session on the device's display, as a desktop environment provides it.
class Desktop {
 public:
  // `window_manager`: false only for a test whose own X client must stay above every window.
  // `notifications`: false leaves the notification server to start_notification_server(), and
  // the bus then starts nothing by itself but the accessibility bus (no D-Bus activation of
  // xfce4-notifyd): a server that comes after the portal, as in a session whose programs start
  // together.
  ::testing::AssertionResult start(const std::string& dir, const std::string& display,
                                   bool window_manager = true, bool notifications = true) {
    dir_ = dir + "/desktop";
    std::filesystem::create_directories(dir_ + "/runtime");
    std::filesystem::create_directories(dir_ + "/home");
    std::filesystem::permissions(dir_ + "/runtime", std::filesystem::perms::owner_all);
    bus_ = "unix:path=" + dir_ + "/bus";
    env_ = {{"DISPLAY", display},
            {"DBUS_SESSION_BUS_ADDRESS", bus_},
            {"XDG_RUNTIME_DIR", dir_ + "/runtime"},
            {"HOME", dir_ + "/home"},
            {"XDG_CONFIG_HOME", dir_ + "/home/.config"}};
    // A window manager, as every desktop has one (the demo's too): without one, the keyboard
    // stays on the window that last took it (the portal's), and a click elsewhere, the person's
    // or the supporter's, does not move it. openbox gives it to the window clicked.
    if (window_manager) {
      if (!wm_.start({"/usr/bin/openbox", "--sm-disable"}, dir_ + "/openbox.log", env_))
        return ::testing::AssertionFailure() << "openbox did not start";
      if (!wait_until([&] { return root_says("_NET_SUPPORTING_WM_CHECK", "window id"); }, 15s))
        return ::testing::AssertionFailure()
               << "openbox does not manage the display: " << wm_.output();
    }
    std::vector<std::string> bus_argv = {"/usr/bin/dbus-daemon", "--session", "--nofork",
                                         "--address=" + bus_};
    if (!notifications) {
      std::filesystem::create_directories(dir_ + "/services");
      std::filesystem::copy_file("/usr/share/dbus-1/services/org.a11y.Bus.service",
                                 dir_ + "/services/org.a11y.Bus.service");
      std::ofstream(dir_ + "/session.conf")
          << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
             " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
             "<busconfig><type>session</type><keep_umask/><listen>" +
                 bus_ + "</listen><servicedir>" + dir_ +
                 "/services</servicedir><policy context=\"default\"><allow "
                 "send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow "
                 "own=\"*\"/></policy></busconfig>\n";
      bus_argv = {"/usr/bin/dbus-daemon", "--config-file=" + dir_ + "/session.conf", "--nofork"};
    }
    if (!dbus_.start(bus_argv, dir_ + "/dbus.log", env_))
      return ::testing::AssertionFailure() << "dbus-daemon did not start";
    if (!wait_until([&] { return std::filesystem::exists(dir_ + "/bus"); }, 10s))
      return ::testing::AssertionFailure()
             << "no session bus: " << read_file_bytes(dir_ + "/dbus.log");
    if (!monitor_.start({"/usr/bin/dbus-monitor", "--session",
                         "type='method_call',interface='org.freedesktop.Notifications',"
                         "member='Notify'"},
                        dir_ + "/notify-calls.log", env_))
      return ::testing::AssertionFailure() << "dbus-monitor did not start";
    if (notifications) {
      if (auto started = start_notification_server(); !started) return started;
    }
    std::filesystem::create_directories(dir_ + "/tray");
    if (!tray_.start({program_path("reach_test_sni_host"), "--out", dir_ + "/tray"},
                     dir_ + "/tray.log", env_) ||
        !wait_until([&] { return tray_.output().find("ready") != std::string::npos; }, 15s))
      return ::testing::AssertionFailure() << "no tray host: " << tray_.output();
    // The monitor is listening once it has printed its own name's acquisition.
    if (!wait_until([&] { return !monitor_.output().empty(); }, 10s))
      return ::testing::AssertionFailure() << "dbus-monitor is silent";
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult start_notification_server() {
    const std::string notifyd = notification_server();
    if (notifyd.empty() || !notifier_.start({notifyd}, dir_ + "/notifyd.log", env_))
      return ::testing::AssertionFailure() << "xfce4-notifyd did not start";
    if (!wait_until([&] { return bus_has("org.freedesktop.Notifications"); }, 15s))
      return ::testing::AssertionFailure()
             << "xfce4-notifyd is not on the bus: " << notifier_.output();
    return ::testing::AssertionSuccess();
  }

  // `reach-portal --state STATE`, in `lang` ("" for the default C locale), with assistive
  // technology on (QT_LINUX_ACCESSIBILITY_ALWAYS_ON, as a screen reader would turn it on).
  ::testing::AssertionResult start_portal(const std::string& state, const std::string& lang,
                                          std::vector<std::string> args = {}) {
    Env env = env_;
    env.emplace_back("QT_LINUX_ACCESSIBILITY_ALWAYS_ON", "1");
    if (!lang.empty()) {
      env.emplace_back("LANG", lang);
      env.emplace_back("LC_ALL", "");
      env.emplace_back("LANGUAGE", "");
    }
    std::vector<std::string> argv = {program_path("reach-portal"), "--state", state};
    argv.insert(argv.end(), args.begin(), args.end());
    return portal_.start(argv, dir_ + "/portal.log", env);
  }
  ChildProcess& portal() { return portal_; }

  // Ends every process of the session, the portal first, so that none of them still writes into
  // the directory when the test removes it (the tray host writes an icon file per change).
  void stop() {
    for (ChildProcess* p : {&portal_, &tray_, &notifier_, &monitor_, &dbus_, &wm_}) p->kill9();
  }

  // The root window's property `name` (xprop) contains `text`.
  bool root_says(const std::string& name, const std::string& text) {
    auto r = run_command({"/usr/bin/xprop", "-root", name}, env_, 5s);
    return r.out.find(text) != std::string::npos;
  }

  // A program on the desktop, as the person started it (a terminal), output to `log`.
  ::testing::AssertionResult open_program(ChildProcess& p, const std::vector<std::string>& argv,
                                          const std::string& log) {
    return p.start(argv, log, env_);
  }

  // Where the window titled `title` (WM_NAME) is on the screen, its inside without the window
  // manager's frame, as xwininfo reports it; nullopt when there is none.
  struct ScreenWindow {
    std::string id;  // as xdotool prints ids: decimal
    int x = 0, y = 0, width = 0, height = 0;
  };
  std::optional<ScreenWindow> window_named(const std::string& title) {
    auto r = run_command({"/usr/bin/xwininfo", "-name", title}, env_, 5s);
    if (r.exit_code != 0) return std::nullopt;
    ScreenWindow w;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      if (auto at = line.find("Window id: 0x"); at != std::string::npos) {
        w.id = std::to_string(std::stoul(line.substr(at + 11), nullptr, 16));
        continue;
      }
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      const std::string key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
      if (key == "Absolute upper-left X") w.x = std::stoi(value);
      if (key == "Absolute upper-left Y") w.y = std::stoi(value);
      if (key == "Width") w.width = std::stoi(value);
      if (key == "Height") w.height = std::stoi(value);
    }
    if (w.id.empty() || w.width == 0) return std::nullopt;
    return w;
  }
  // The window that has the keyboard (X's input focus), as xdotool prints its id.
  std::string focused_window() { return trim(xdotool({"getwindowfocus", "-f"}).out); }

  bool bus_has(const std::string& name) {
    auto r = run_command(
        {"/usr/bin/dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
         "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:" + name},
        env_, 5s);
    return r.out.find("boolean true") != std::string::npos;
  }

  // The tray host has read a tooltip containing `text` (within 10 s).
  bool tray_says(const std::string& text) const {
    return wait_until([&] { return tray_.output().find(text) != std::string::npos; }, 10s);
  }
  std::vector<NotifyCall> notify_calls() const { return parse_notify_calls(monitor_.output()); }
  std::string tray_output() const { return tray_.output(); }
  // The newest icon the tray host drew ("" before the first).
  std::string tray_icon_file() const {
    std::string out = tray_.output(), file;
    for (std::size_t p = 0; (p = out.find("icon ", p)) != std::string::npos; p += 5)
      if (p == 0 || out[p - 1] == '\n') file = trim(out.substr(p + 5, out.find('\n', p) - p - 5));
    return file;
  }

  // xfce4-notifyd lives in the architecture's library folder ("" when not installed).
  static std::string notification_server() {
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib")) {
      auto p = e.path() / "xfce4/notifyd/xfce4-notifyd";
      if (std::filesystem::exists(p)) return p.string();
    }
    return {};
  }

  // Clicks the button `label` on the notification on the screen (the notification server's own
  // button, found over AT-SPI in its application), as a person does. "" or what went wrong.
  std::string click_notification_button(const std::string& label) {
    return click("push button", label, "xfce4-notifyd");
  }

  // A window of the portal titled exactly `title` is mapped on the display. Titles are read as
  // the window manager reads them (_NET_WM_NAME, UTF-8): xdotool's own title search does not
  // match non-ASCII titles such as "Vil du tillate at økten starter?".
  bool window_shown(const std::string& title) {
    auto ids = run_command(
        {"/usr/bin/xdotool", "search", "--onlyvisible", "--classname", "reach-portal"}, env_, 5s);
    Env env = env_;
    env.emplace_back("LC_ALL", "C.UTF-8");
    std::istringstream in(ids.out);
    for (std::string id; in >> id;) {
      auto name = run_command({"/usr/bin/xprop", "-id", id, "-notype", "_NET_WM_NAME"}, env, 5s);
      if (trim(name.out) == "_NET_WM_NAME = \"" + title + "\"") return true;
    }
    return false;
  }

  // Where the control with this role and name is on the screen (AT-SPI), as xdotool's X and Y;
  // nullopt (and why, in `error`) when it is not shown within 15 s.
  // `app`: only in the application of that accessible name ("" for any).
  std::optional<std::pair<std::string, std::string>> locate(const std::string& role,
                                                            const std::string& name,
                                                            std::string* error = nullptr,
                                                            const std::string& app = "") {
    std::vector<std::string> argv = {program_path("reach_test_a11y_find"),
                                     "--role",
                                     role,
                                     "--name",
                                     name,
                                     "--timeout-ms",
                                     "15000"};
    if (!app.empty()) argv.insert(argv.end(), {"--app", app});
    auto where = run_command(argv, env_, 20s);
    if (where.exit_code != 0) {
      if (error) *error = "not found: " + where.err;
      return std::nullopt;
    }
    std::istringstream in(where.out);
    std::pair<std::string, std::string> at;
    in >> at.first >> at.second;
    return at;
  }
  // Finds the control by role and name and clicks its centre with an X input event. Returns ""
  // or what went wrong.
  // A window that has just been shown may still be moved into place (the session bar centres
  // itself at the top): the click waits until two looks, a tenth of a second apart, agree.
  std::string click(const std::string& role, const std::string& name, const std::string& app = "") {
    std::string error;
    auto at = locate(role, name, &error, app);
    if (!at) return error;
    for (int look = 0; look < 20; ++look) {
      std::this_thread::sleep_for(100ms);
      auto again = locate(role, name, &error, app);
      if (!again) return error;
      if (*again == *at) break;
      at = again;
    }
    auto c = xdotool({"mousemove", "--sync", at->first, at->second, "click", "1"});
    return c.exit_code == 0 ? "" : "xdotool: " + c.err;
  }
  bool control_shown(const std::string& role, const std::string& name, int timeout_ms = 15000) {
    return run_command({program_path("reach_test_a11y_find"), "--role", role, "--name", name,
                        "--timeout-ms", std::to_string(timeout_ms)},
                       env_, std::chrono::milliseconds(timeout_ms + 5000))
               .exit_code == 0;
  }
  CommandResult xdotool(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/xdotool");
    return run_command(args, env_, 10s);
  }

  void screenshot(const std::string& name) {
    std::filesystem::create_directories(screenshot_dir());
    run_command({"/usr/bin/import", "-window", "root", screenshot_dir() + "/" + name + ".png"},
                env_, 20s);
  }
  void keep_tray_icon(const std::string& name) {
    std::filesystem::create_directories(screenshot_dir());
    if (auto f = tray_icon_file(); !f.empty())
      std::filesystem::copy_file(f, screenshot_dir() + "/" + name + ".png",
                                 std::filesystem::copy_options::overwrite_existing);
  }

 private:
  std::string dir_, bus_;
  Env env_;
  ChildProcess wm_, dbus_, monitor_, notifier_, tray_, portal_;
};

// The agent's state as its subscribers see it (the control socket's subscription, the same
// stream reach-portal reads): waits for a session state and says how long it took.
class AgentWatch {
 public:
  bool open(const std::string& socket_path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, socket_path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
    const char req[] = "{\"cmd\":\"subscribe\"}\n";
    return ::write(fd_, req, sizeof req - 1) == static_cast<ssize_t>(sizeof req - 1);
  }
  ~AgentWatch() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads snapshots until one satisfies `done`; how long that took.
  std::optional<std::chrono::milliseconds> wait_for(
      const std::function<bool(const bj::object& snapshot)>& done,
      std::chrono::milliseconds timeout) {
    auto start = std::chrono::steady_clock::now();
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        boost::system::error_code ec;
        auto v = bj::parse(line, ec);
        if (!ec && v.is_object() && done(v.as_object()))
          return std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - start);
        continue;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          timeout - (std::chrono::steady_clock::now() - start));
      if (left <= std::chrono::milliseconds(0)) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char buf[65536];
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }
  std::optional<std::chrono::milliseconds> wait_state(const std::string& state,
                                                      std::chrono::milliseconds timeout) {
    return wait_for(
        [&](const bj::object& o) {
          return o.contains("session") && o.at("session").is_object() &&
                 str_of(o.at("session").as_object(), "state") == state;
        },
        timeout);
  }

 private:
  int fd_ = -1;
  std::string buffer_;
};

// The supporter's viewer as the relay's supporter stream carries it (the browser's viewer speaks
// the same RFB over the same WebSocket, in binary messages; text messages beside it are notices
// for the viewer's page, not RFB): the handshake with security None, the first screen asked
// for, then the clicks and keys a person at the viewer makes, as PointerEvent and KeyEvent.
class SupporterViewer {
 public:
  // The supporter's end of the stream, end-to-end encrypted as the viewer's is (E2ePeer).
  SupporterViewer(net::EventLoop& loop, const std::string& url, link::E2eOptions options) {
    auto p = E2ePeer::connect(loop, url, std::move(options));
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    if (p) peer_ = *p;
  }
  // Exchanges versions; the agent then asks the person before it offers anything more.
  ::testing::AssertionResult say_hello() {
    if (!peer_ || wait_for(12, 10s) != "RFB 003.008\n")
      return ::testing::AssertionFailure() << "no version from the device";
    send("RFB 003.008\n");
    return ::testing::AssertionSuccess();
  }
  // Once the person allowed: security None, a shared ClientInit, the ServerInit back, and a
  // request for the whole screen in raw pixels.
  ::testing::AssertionResult until_admitted() {
    if (wait_for(14, 20s).substr(12) != std::string("\x01\x01", 2))
      return ::testing::AssertionFailure() << "no security offer of None";
    send("\x01");
    if (wait_for(18, 10s).substr(14) != std::string(4, '\0'))
      return ::testing::AssertionFailure() << "security failed";
    send("\x01");  // ClientInit: shared
    const std::string init = wait_for(18 + 24, 10s);
    if (init.size() < 18 + 24) return ::testing::AssertionFailure() << "no ServerInit";
    send(std::string("\x02\x00\x00\x01\x00\x00\x00\x00", 8));  // SetEncodings: Raw
    send(std::string("\x03\x00\x00\x00\x00\x00", 6) + init.substr(18, 4));
    return ::testing::AssertionSuccess();
  }
  void click(int x, int y) {
    for (int mask : {0, 1, 0})
      send(std::string{5, static_cast<char>(mask), static_cast<char>(x >> 8),
                       static_cast<char>(x & 0xff), static_cast<char>(y >> 8),
                       static_cast<char>(y & 0xff)});
  }
  // A press and a release per character (its keysym: Latin-1 is its own; '\n' is Return).
  void type(const std::string& text) {
    for (unsigned char c : text) {
      std::uint32_t keysym = c == '\n' ? 0xff0d : c;
      for (char down : {1, 0})
        send(std::string{4, down, 0, 0, static_cast<char>(keysym >> 24),
                         static_cast<char>(keysym >> 16), static_cast<char>(keysym >> 8),
                         static_cast<char>(keysym)});
    }
  }

 private:
  // The first `n` bytes of the stream, or fewer when it closed or `timeout` passed first.
  std::string wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!peer_->wait_bytes(n, 50ms) && !peer_->closed() &&
           std::chrono::steady_clock::now() < deadline) {
    }
    return peer_->stream().substr(0, n);
  }

  void send(std::string bytes) { peer_->send(bytes); }

  std::shared_ptr<E2ePeer> peer_;
};

constexpr const char* kRequestText =
    "Your IT administrator is requesting control of this device for a remote assistance session.";

class PortalTest : public RemoteAssistanceFlow {
 protected:
  void SetUp() override {
    RemoteAssistanceFlow::SetUp();
    width_ = 1024;
    height_ = 768;
  }
  void TearDown() override {
    if (HasFailure())
      desktop_.screenshot(std::string("failed-") +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    desktop_.stop();
    RemoteAssistanceFlow::TearDown();
  }

  // Services, connector, the device with its agent, the desktop and the portal in `lang`.
  void start_all(const std::string& lang = "", std::vector<std::string> portal_args = {}) {
    start_services();
    onboard();
    enroll_device_and_helpdesk();
    ASSERT_TRUE(desktop_.start(dir_, display_.name(), window_manager_));
    ASSERT_TRUE(desktop_.start_portal(state_, lang, portal_args));
    // The portal's tray item registered with the panel and says nothing waits.
    ASSERT_TRUE(wait_until(
        [&] { return desktop_.tray_output().find("tooltip ") != std::string::npos; }, 20s))
        << desktop_.tray_output() << desktop_.portal().output();
  }

  // A request from the help desk, accepted through the notification server's Accept action.
  void request_and_accept_through_the_notification(const std::string& accept = "Accept") {
    ASSERT_EQ(request(helpdesk_, device_).status, 204);
    ASSERT_TRUE(wait_until([&] { return !desktop_.notify_calls().empty(); }, 20s))
        << desktop_.portal().output();
    ASSERT_EQ(desktop_.click_notification_button(accept), "");
    ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s))
        << agent_.output();
  }

  // The supporter: `reach connect` with the session's link and a real VNC client that types and
  // clicks once admitted.
  void supporter_connects(ServerProcess& bridge, ChildProcess& viewer) {
    std::string link =
        hub_.get(std::string(kDevices) + "/" + device_, admin_).str("remoteAssistanceSessionUrl");
    ASSERT_TRUE(bridge.start({program_path("reach"), "connect", link, "--listen", "127.0.0.1:0"},
                             dir_ + "/connect.log", "reach connect"));
    ASSERT_TRUE(viewer.start(
        {program_path("reach_test_vnc_client"), "--connect",
         "127.0.0.1:" + std::to_string(bridge.port()), "--password", bridge.second_line(),
         "--encodings", "zrle", "--snapshot", dir_ + "/seen.ppm", "--type",
         "typed by the supporter", "--click", "500,400", "--until-closed", "--timeout-ms", "90000"},
        dir_ + "/viewer.log"));
    ASSERT_TRUE(wait_until([&] { return session_state() == "askingToAllow"; }, 20s));
  }

  // The verification code reach connect showed the supporter ("Verification code: 123 456").
  std::string supporters_code() {
    std::string said = read_file_bytes(dir_ + "/connect.log");
    auto at = said.find("Verification code: ");
    if (at == std::string::npos || at + 26 > said.size()) return "";
    return said.substr(at + 19, 3) + said.substr(at + 23, 3);
  }

  // From the help desk's request to the question on the screen: accepted through the
  // notification, the supporter connected, "Allow this session to start?" shown.
  // `answer`: the dialog's button to click then ("" to leave the question open).
  void until_the_question(ServerProcess& bridge, ChildProcess& viewer,
                          const std::string& answer = "") {
    request_and_accept_through_the_notification(
        answer.empty() || answer == "Full control" ? "Accept" : "Godta");
    supporter_connects(bridge, viewer);
    if (answer.empty())
      ASSERT_TRUE(
          wait_until([&] { return desktop_.window_shown("Allow this session to start?"); }, 15s))
          << desktop_.portal().output();
    else
      ASSERT_EQ(desktop_.click("push button", answer, "reach-portal"), "");
  }

  // `n` requests from the help desk, each declined on the device (the command line) in turn.
  void decline_requests(int n) {
    for (int i = 0; i < n; ++i) {
      // Once the hub has the last decline, a new request is a new one.
      ASSERT_TRUE(wait_until([&] { return request(helpdesk_, device_).status == 204; }, 15s));
      std::string id = wait_request();
      ASSERT_FALSE(id.empty());
      ASSERT_EQ(agent_cli({"decline", id}).exit_code, 0);
    }
  }

  void the_end_is_said(const std::string& lang, const std::string& who_ended,
                       const std::string& title, const std::string& open,
                       const std::string& suffix);

  // The bottom edge on the screen of the window titled `title` (ASCII), as X reports it.
  int window_bottom(const std::string& title) {
    auto g = desktop_.xdotool(
        {"search", "--onlyvisible", "--name", "^" + title + "$", "getwindowgeometry", "--shell"});
    int y = 0, h = 0;
    std::istringstream in(g.out);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("Y=")) y = std::stoi(line.substr(2));
      if (line.starts_with("HEIGHT=")) h = std::stoi(line.substr(7));
    }
    return y + h;
  }

  std::int64_t session_number(const std::string& key) {
    auto s = agent_json({"status"});
    if (!s.contains("session")) return -1;
    const auto& o = s.at("session").as_object();
    return o.contains(key) ? o.at(key).as_int64() : -1;
  }

  Desktop desktop_;
  bool window_manager_ = true;  // openbox on the desktop (start_all)
};

// The README's demo starts the notification server and the portal together; the portal asked for
// the server once, before it was there, and never showed a notification. A server that comes
// later is used: the waiting request appears on it, and its Accept works.
TEST_F(PortalTest, ANotificationServerThatStartsAfterThePortalIsUsed) {
  start_services();
  onboard();
  enroll_device_and_helpdesk();
  ASSERT_TRUE(desktop_.start(dir_, display_.name(), true, /*notifications=*/false));
  ASSERT_TRUE(desktop_.start_portal(state_, ""));
  ASSERT_TRUE(
      wait_until([&] { return desktop_.tray_output().find("tooltip ") != std::string::npos; }, 20s))
      << desktop_.tray_output() << desktop_.portal().output();
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_TRUE(desktop_.tray_says("tooltip Company Portal | 1 notification waiting for you"))
      << desktop_.tray_output();
  EXPECT_TRUE(desktop_.notify_calls().empty()) << "no server yet, and none started for it";
  ASSERT_TRUE(desktop_.start_notification_server());
  ASSERT_TRUE(wait_until([&] { return !desktop_.notify_calls().empty(); }, 20s))
      << desktop_.portal().output();
  EXPECT_EQ(desktop_.notify_calls().back().summary, "Remote assistance request");
  ASSERT_EQ(desktop_.click_notification_button("Accept"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s))
      << agent_.output();
}

TEST_F(PortalTest, ARequestReachesTheDesktopAndAcceptWorksThroughTheNotificationServer) {
  start_all();
  // Until the portal has the agent's first state, its tooltip says the service is not running.
  EXPECT_TRUE(desktop_.tray_says("tooltip Company Portal | Nothing is waiting for you"))
      << desktop_.tray_output();
  desktop_.keep_tray_icon("portal-tray-en-0");

  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  // The notification server received the request's Notify call, with its actions.
  ASSERT_TRUE(wait_until([&] { return !desktop_.notify_calls().empty(); }, 20s))
      << desktop_.portal().output();
  auto call = desktop_.notify_calls().back();
  EXPECT_EQ(call.app, "Company Portal");
  EXPECT_EQ(call.summary, "Remote assistance request");
  EXPECT_EQ(call.body, std::string(kRequestText) + "\nRequested by Helen Helpdesk, Reach.");
  EXPECT_EQ(call.actions, (std::vector<std::string>{"default", "Open", "accept", "Accept",
                                                    "decline", "Decline"}));
  // The tray's badge: the tooltip a panel shows, and the red flag drawn on the icon.
  ASSERT_TRUE(desktop_.tray_says("tooltip Company Portal | 1 notification waiting for you"))
      << desktop_.tray_output();
  ASSERT_TRUE(wait_until(
      [&] { return load_png(desktop_.tray_icon_file()).red_in(32, 0, 64, 32) > 100; }, 10s));
  Image flagged = load_png(desktop_.tray_icon_file());
  EXPECT_EQ(flagged.red_in(0, 32, 32, 64), 0) << "the flag sits in the top-right corner";
  desktop_.keep_tray_icon("portal-tray-en-1");
  desktop_.screenshot("portal-notification-en");

  // Accept, the button on the notification, reaches the hub as accepted.
  ASSERT_EQ(desktop_.click_notification_button("Accept"), "");
  ASSERT_TRUE(wait_until(
      [&] {
        auto h = history_of(device_);
        return h.contains("userAccepted") && h.at("userAccepted") == true;
      },
      20s))
      << bj::serialize(history_of(device_));
  EXPECT_EQ(session_state(), "waitingForSupporter");
  // The flag goes down with nothing left to answer.
  ASSERT_TRUE(wait_until(
      [&] {
        auto out = desktop_.tray_output();
        return out.rfind("tooltip ") ==
               out.find("tooltip Company Portal | Nothing is waiting for you",
                        out.rfind("tooltip "));
      },
      10s))
      << desktop_.tray_output();

  // A custom notification: selecting it (its default action) opens the portal window.
  auto sent =
      hub_.post(std::string(kDevices) + "/" + device_ + "/sendCustomNotificationToCompanyPortal",
                bj::object{{"notificationTitle", "Update tonight"},
                           {"notificationBody", "Leave the laptop on at 22:00."}},
                admin_);
  ASSERT_EQ(sent.status, 204) << sent;
  ASSERT_TRUE(wait_until([&] { return desktop_.notify_calls().size() >= 2; }, 20s));
  EXPECT_EQ(desktop_.notify_calls().back().summary, "Update tonight");
  EXPECT_EQ(desktop_.notify_calls().back().body, "Leave the laptop on at 22:00.");
  // Unread until seen in the window (watched on the agent's own stream: listing the
  // notifications with the command line would mark it read itself).
  AgentWatch watch;
  ASSERT_TRUE(watch.open(state_ + "/control.sock"));
  auto custom_read = [](bool read) {
    return [read](const bj::object& o) {
      for (const auto& v : o.at("notifications").as_array())
        if (str_of(v.as_object(), "title") == "Update tonight")
          return v.as_object().at("read") == read;
      return false;
    };
  };
  ASSERT_TRUE(watch.wait_for(custom_read(false), 10s));
  EXPECT_FALSE(desktop_.window_shown("Company Portal"));
  ASSERT_EQ(desktop_.click_notification_button("Open"), "");
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Company Portal"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("label", "Leave the laptop on at 22:00."));
  ASSERT_TRUE(watch.wait_for(custom_read(true), 10s));
  // The device's enrollment, as the hub told the agent at check-in.
  EXPECT_TRUE(desktop_.control_shown("label", "dana@reach.test"));
  // The server's address and the device's ID are details (issue 21): shown on asking.
  EXPECT_FALSE(desktop_.control_shown("label", hub_.base_url(), 500));
  ASSERT_EQ(desktop_.click("push button", "Show details"), "");
  EXPECT_TRUE(desktop_.control_shown("label", hub_.base_url()));
  EXPECT_TRUE(desktop_.control_shown("label", device_));
  desktop_.screenshot("portal-window-en");
}

TEST_F(PortalTest, ViewOnlyByARealClickSharesThePixelsAndDropsTheSupportersInput) {
  // The input log covers the screen with an override-redirect window that takes the keyboard,
  // so that any input reaching the display reaches it: under a window manager it would stay
  // above every managed window (the question included) and lose the keyboard to them. What it
  // checks, that the agent injects nothing, does not depend on one.
  window_manager_ = false;
  start_all();
  ChildProcess input_log;
  std::string log = dir_ + "/input.log";
  ASSERT_TRUE(input_log.start({program_path("reach_test_x11_input_log"), "--out", log},
                              dir_ + "/input-tool.log", {{"DISPLAY", display_.name()}}));
  ASSERT_TRUE(
      wait_until([&] { return input_log.output().find("ready") != std::string::npos; }, 20s));
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  ASSERT_TRUE(desktop_.control_shown(
      "label", "Helen Helpdesk (Reach) is connected and wants to see this screen."));
  // The verification code: the one reach connect shows the supporter, with what to do.
  std::string code = supporters_code();
  ASSERT_EQ(code.size(), 6u) << read_file_bytes(dir_ + "/connect.log");
  EXPECT_TRUE(desktop_.control_shown("label", "Verification code " + code));
  EXPECT_TRUE(desktop_.control_shown(
      "label",
      "Ask Helen Helpdesk (Reach) to read out the code on their screen. If it is different, "
      "choose Deny: someone may be between you."));
  // Until it is answered the viewer is not admitted: no pixel, no input channel.
  EXPECT_EQ(viewer.output().find("frames="), std::string::npos);
  desktop_.screenshot("portal-allow-dialog-en");
  ASSERT_EQ(desktop_.click("push button", "View only"), "");
  ASSERT_TRUE(wait_until([&] { return viewer.output().find("frames=") != std::string::npos; }, 30s))
      << viewer.output();
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 10s));
  EXPECT_FALSE(desktop_.window_shown("Allow this session to start?"));
  // The supporter typed and clicked: all of it dropped, none of it reached the display.
  ASSERT_TRUE(wait_until([&] { return session_number("inputDropped") > 0; }, 10s));
  EXPECT_EQ(read_file_bytes(log).find("key "), std::string::npos) << read_file_bytes(log);
  EXPECT_EQ(read_file_bytes(log).find("click "), std::string::npos) << read_file_bytes(log);
  EXPECT_TRUE(history_of(device_).at("userAllowed") == true);
  // The indicator says so, without a View only button (there is no control to drop).
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Remote assistance session"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("label", "Helen Helpdesk (Reach) is viewing this screen"));
  EXPECT_FALSE(desktop_.control_shown("push button", "View only", 500));
  desktop_.screenshot("portal-session-bar-viewing-en");
}

// The supporter cannot answer the question for the person: before the answer the agent has not
// admitted the supporter's viewer (no security offer, no ServerInit), so nothing the supporter
// sends is input. Here the supporter sends a click on Full control's own position: the agent
// takes it as a protocol error and ends the session; the button was never pressed.
TEST_F(PortalTest, TheSupporterCannotAnswerTheQuestion) {
  start_all();
  request_and_accept_through_the_notification();
  std::string link =
      hub_.get(std::string(kDevices) + "/" + device_, admin_).str("remoteAssistanceSessionUrl");
  net::EventLoop loop;
  auto connected = E2ePeer::connect(
      loop, relay_.ws_url("/api/v1/stream/supporter/" + last_segment(link)), supporter_end(link));
  ASSERT_TRUE(connected);
  auto peer = *connected;
  ASSERT_TRUE(peer->wait_bytes(12, 10s));
  peer->send("RFB 003.008\n");
  ASSERT_TRUE(
      wait_until([&] { return desktop_.window_shown("Allow this session to start?"); }, 15s));
  auto at = desktop_.locate("push button", "Full control");
  ASSERT_TRUE(at);
  int x = std::stoi(at->first), y = std::stoi(at->second);
  // RFB PointerEvent (button 1 down, then up) at the button's centre.
  std::string click;
  for (int mask : {1, 0})
    click += std::string{5,
                         static_cast<char>(mask),
                         static_cast<char>(x >> 8),
                         static_cast<char>(x & 0xff),
                         static_cast<char>(y >> 8),
                         static_cast<char>(y & 0xff)};
  peer->send(click);
  ASSERT_TRUE(peer->wait_closed(10s));
  ASSERT_TRUE(wait_until([&] { return session_state() == "ended"; }, 10s)) << agent_.output();
  EXPECT_FALSE(history_of(device_).at("userAllowed") == true) << bj::serialize(history_of(device_));
  EXPECT_EQ(peer->stream(), "RFB 003.008\n") << "nothing about the desktop reached the supporter";
  ASSERT_TRUE(
      wait_until([&] { return !desktop_.window_shown("Allow this session to start?"); }, 10s));
}

TEST_F(PortalTest, TheQuestionIsAnsweredWithTheKeyboardToo) {
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  // The dialog has the keyboard: Alt+V is View only (its mnemonic), as the button reads.
  ASSERT_EQ(desktop_.xdotool({"key", "alt+v"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s)) << agent_.output();
  EXPECT_TRUE(agent_json({"status"}).at("session").as_object().at("viewOnly") == true);
  EXPECT_FALSE(desktop_.window_shown("Allow this session to start?"));
}

TEST_F(PortalTest, DenyByARealClickSendsNoPixel) {
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  ASSERT_EQ(desktop_.click("push button", "Deny"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "denied"; }, 10s)) << agent_.output();
  // The viewer never got a frame: the relay closed it during the handshake.
  auto code = viewer.wait(20s);
  EXPECT_NE(code, std::optional<int>(0)) << viewer.output();
  EXPECT_EQ(viewer.output().find("frames="), std::string::npos) << viewer.output();
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "denied"; }, 10s));
  EXPECT_FALSE(desktop_.window_shown("Allow this session to start?"));
  EXPECT_FALSE(desktop_.window_shown("Remote assistance session"));
}

TEST_F(PortalTest, NoAnswerBeforeTheDeadlineIsDeny) {
  agent_args_ = {"--allow-timeout", "4"};
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  // The dialog counts down to the agent's deadline, and goes when the agent decides.
  ASSERT_TRUE(wait_until([&] { return session_state() == "denied"; }, 15s)) << agent_.output();
  ASSERT_TRUE(
      wait_until([&] { return !desktop_.window_shown("Allow this session to start?"); }, 10s));
  EXPECT_EQ(viewer.output().find("frames="), std::string::npos) << viewer.output();
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "denied"; }, 10s));
}

TEST_F(PortalTest, EndSessionOnTheIndicatorEndsItAtOnce) {
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  ASSERT_EQ(desktop_.click("push button", "Full control"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s)) << agent_.output();
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Remote assistance session"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("label", "Helen Helpdesk (Reach) is controlling this screen"));
  // The tray icon changes while the screen is shared.
  ASSERT_TRUE(desktop_.tray_says("is controlling this screen")) << desktop_.tray_output();
  desktop_.keep_tray_icon("portal-tray-en-session");
  desktop_.screenshot("portal-session-bar-controlling-en");

  // The viewer has the screen and has typed: it now only waits for the end.
  ASSERT_TRUE(wait_until([&] { return viewer.output().find("frames=") != std::string::npos; }, 30s))
      << viewer.output();
  AgentWatch watch;
  ASSERT_TRUE(watch.open(state_ + "/control.sock"));
  ASSERT_TRUE(watch.wait_state("active", 5s));
  auto end = desktop_.locate("push button", "End session");
  ASSERT_TRUE(end);
  ASSERT_EQ(desktop_.xdotool({"mousemove", "--sync", end->first, end->second}).exit_code, 0);
  auto click_started = std::chrono::steady_clock::now();
  auto clicked = desktop_.xdotool({"click", "1"});
  ASSERT_EQ(clicked.exit_code, 0) << clicked.err;
  ASSERT_TRUE(watch.wait_state("ended", 10s)) << agent_.output();
  // Reported, not asserted: from starting xdotool's click (its own start-up included) to the
  // agent's "ended" on the agent's own stream.
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - click_started);
  std::printf("[portal test] End session: the agent said \"ended\" %lld ms after the click began\n",
              static_cast<long long>(took.count()));
  EXPECT_EQ(viewer.wait(15s), std::optional<int>(0)) << viewer.output();
  EXPECT_NE(viewer.output().find("closed by server"), std::string::npos);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "ended"; }, 15s));
  EXPECT_EQ(str_of(history_of(device_), "endReason"), "endedByUser");
  ASSERT_TRUE(wait_until([&] { return !desktop_.window_shown("Remote assistance session"); }, 10s));
}

TEST_F(PortalTest, ViewOnlyFromTheIndicatorDropsControlForTheRestOfTheSession) {
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  ASSERT_EQ(desktop_.click("push button", "Full control"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s));
  ASSERT_EQ(desktop_.click("push button", "View only"), "");
  ASSERT_TRUE(wait_until(
      [&] { return agent_json({"status"}).at("session").as_object().at("viewOnly") == true; },
      10s));
  ASSERT_TRUE(desktop_.control_shown("label", "Helen Helpdesk (Reach) is viewing this screen"));
  EXPECT_EQ(session_state(), "active");
}

TEST_F(PortalTest, ClosingOrKillingThePortalMidSessionChangesNothing) {
  start_all();
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer);
  ASSERT_EQ(desktop_.click("push button", "Full control"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s));
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Remote assistance session"); }, 10s));
  auto sent = session_number("bytesSent");

  desktop_.portal().kill9();
  ASSERT_TRUE(wait_until([&] { return !desktop_.window_shown("Remote assistance session"); }, 10s));
  // The agent goes on as before: the session is active and the supporter still sees updates.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(session_state(), "active");
  EXPECT_TRUE(viewer.running());
  auto status = agent_cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;

  // Started again, it shows the session as it is.
  ASSERT_TRUE(desktop_.start_portal(state_, ""));
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Remote assistance session"); }, 15s))
      << "portal: " <<
      [&] {
        auto exited = desktop_.portal().wait(0ms);
        return exited ? "exited with " + std::to_string(*exited) : std::string("running");
      }()
      << "; its output: " << desktop_.portal().output() << "; tray: " << desktop_.tray_output();
  ASSERT_TRUE(desktop_.control_shown("label", "Helen Helpdesk (Reach) is controlling this screen"));
  // And a clean quit from the tray's menu is the same: the session stays.
  desktop_.portal().terminate();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(session_state(), "active");
  EXPECT_GE(session_number("bytesSent"), sent);
  ASSERT_EQ(agent_cli({"end"}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "ended"; }, 15s));
}

TEST_F(PortalTest, NorwegianFromTheLocale) {
  start_all("nb_NO.UTF-8");
  ASSERT_TRUE(desktop_.tray_says("tooltip Firmaportal | Ingenting venter på deg"))
      << desktop_.tray_output();
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_TRUE(wait_until([&] { return !desktop_.notify_calls().empty(); }, 20s));
  auto call = desktop_.notify_calls().back();
  EXPECT_EQ(call.app, "Firmaportal");
  EXPECT_EQ(call.summary, "Forespørsel om fjernhjelp");
  EXPECT_EQ(call.body,
            "IT-administratoren din ber om å få styre denne enheten i en fjernhjelpsøkt.\n"
            "Forespurt av Helen Helpdesk, Reach.");
  EXPECT_EQ(call.actions,
            (std::vector<std::string>{"default", "Åpne", "accept", "Godta", "decline", "Avslå"}));
  ASSERT_TRUE(desktop_.tray_says("tooltip Firmaportal | 1 varsel venter på deg"))
      << desktop_.tray_output();
  desktop_.screenshot("portal-notification-nb");
  desktop_.keep_tray_icon("portal-tray-nb-1");
  ASSERT_EQ(desktop_.click_notification_button("Åpne"), "");
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Firmaportal"); }, 10s));
  ASSERT_EQ(desktop_.click("push button", "Godta"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s));
  ASSERT_TRUE(
      desktop_.control_shown("label", "Godtatt. Venter på at den som hjelper deg, kobler til."));
  desktop_.screenshot("portal-window-nb");

  ServerProcess bridge;
  ChildProcess viewer;
  supporter_connects(bridge, viewer);
  ASSERT_TRUE(
      wait_until([&] { return desktop_.window_shown("Vil du tillate at økten starter?"); }, 15s));
  ASSERT_TRUE(desktop_.control_shown(
      "label", "Helen Helpdesk (Reach) er koblet til og vil se denne skjermen."));
  ASSERT_TRUE(desktop_.control_shown("push button", "Bare visning"));
  ASSERT_TRUE(desktop_.control_shown("push button", "Avslå"));
  EXPECT_TRUE(desktop_.control_shown("label", "Kontrollkode " + supporters_code()));
  desktop_.screenshot("portal-allow-dialog-nb");
  ASSERT_EQ(desktop_.click("push button", "Full kontroll"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s));
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Fjernhjelpsøkt"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("label", "Helen Helpdesk (Reach) styrer denne skjermen"));
  desktop_.screenshot("portal-session-bar-nb");
  ASSERT_EQ(desktop_.click("push button", "Avslutt økten"), "");
  ASSERT_TRUE(wait_until([&] { return str_of(history_of(device_), "state") == "ended"; }, 15s));
}

TEST_F(PortalTest, ASessionCodeTypedInThePortalJoinsTheSupportersSession) {
  start_all("", {"--show"});
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Company Portal"); }, 10s));
  // A code that is not one: the window says so in words, and nothing is joined.
  ASSERT_EQ(desktop_.click("text", "Session code"), "");
  ASSERT_EQ(desktop_.xdotool({"type", "--delay", "20", "123"}).exit_code, 0);
  ASSERT_EQ(desktop_.xdotool({"key", "Return"}).exit_code, 0);
  ASSERT_TRUE(desktop_.control_shown(
      "label", "That is not a session code. It looks like s12-345-678: check it and try again."));
  EXPECT_EQ(session_state(), "");

  // The supporter's session from the relay portal; the person types the code read to them.
  auto session = relay_.portal_session("Printer trouble");
  ASSERT_EQ(session.status, 200) << session;
  std::string code = session.str("code");
  ASSERT_FALSE(code.empty()) << session;
  ASSERT_EQ(desktop_.xdotool({"key", "ctrl+a"}).exit_code, 0);
  ASSERT_EQ(desktop_.xdotool({"type", "--delay", "20", code}).exit_code, 0);
  ASSERT_EQ(desktop_.click("push button", "Connect"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 15s))
      << agent_.output();
  ASSERT_TRUE(desktop_.control_shown("label", "Waiting for the supporter to connect."));
  desktop_.screenshot("portal-code-en");
}

// Issue 21, 1: the notification draws Accept, Decline and Open as buttons; Open (the default
// action, a click on the notification where the server draws no button for it) opens the request
// in the portal with Accept and Decline in view, and Accept there is taken.
TEST_F(PortalTest, OpenOnTheNotificationShowsTheRequestWithAcceptInView) {
  start_all();
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_TRUE(desktop_.locate("push button", "Accept", nullptr, "xfce4-notifyd"))
      << "the notification draws no Accept button";
  ASSERT_TRUE(desktop_.locate("push button", "Decline", nullptr, "xfce4-notifyd"));
  desktop_.screenshot("portal-notification-buttons-en");
  ASSERT_EQ(desktop_.click_notification_button("Open"), "");
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Company Portal"); }, 10s));
  auto accept = desktop_.locate("push button", "Accept", nullptr, "reach-portal");
  ASSERT_TRUE(accept);
  ASSERT_TRUE(desktop_.locate("push button", "Decline", nullptr, "reach-portal"));
  EXPECT_LT(std::stoi(accept->second), window_bottom("Company Portal")) << "Accept is in view";
  desktop_.screenshot("portal-request-opened-en");
  ASSERT_EQ(desktop_.click("push button", "Accept", "reach-portal"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s))
      << agent_.output();
}

TEST_F(PortalTest, OpenOnTheNotificationInNorwegian) {
  start_all("nb_NO.UTF-8");
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_TRUE(desktop_.locate("push button", "Godta", nullptr, "xfce4-notifyd"));
  desktop_.screenshot("portal-notification-buttons-nb");
  ASSERT_EQ(desktop_.click_notification_button("Åpne"), "");
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Firmaportal"); }, 10s));
  ASSERT_TRUE(desktop_.locate("push button", "Godta", nullptr, "reach-portal"));
  desktop_.screenshot("portal-request-opened-nb");
  ASSERT_EQ(desktop_.click("push button", "Godta", "reach-portal"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s));
}

// Issue 21, 5: the person has the Company Portal open (it has the keyboard, as every window
// that opens does) and a terminal beside it; the supporter clicks into the terminal and types a
// line. The window manager gives the terminal the keyboard on that click, so the line reaches
// the program in it, as on the person's own desktop.
TEST_F(PortalTest, TheSupportersTypingReachesTheTerminalTheyClicked) {
  start_all();
  ChildProcess terminal;
  const std::string typed = dir_ + "/typed.txt";
  ASSERT_TRUE(desktop_.open_program(
      terminal,
      {"/usr/bin/xterm", "-T", "Terminal", "-geometry", "40x6+650+560", "-e", "sh", "-c",
       "IFS= read -r line; printf %s \"$line\" > '" + typed + "'"},
      dir_ + "/xterm.log"));
  std::optional<Desktop::ScreenWindow> xterm;
  ASSERT_TRUE(
      wait_until([&] { return (xterm = desktop_.window_named("Terminal")).has_value(); }, 10s))
      << terminal.output();

  // The request, opened from the notification and accepted in the portal's window.
  ASSERT_EQ(request(helpdesk_, device_).status, 204);
  ASSERT_EQ(desktop_.click_notification_button("Open"), "");
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Company Portal"); }, 10s));
  ASSERT_EQ(desktop_.click("push button", "Accept", "reach-portal"), "");
  ASSERT_TRUE(wait_until([&] { return session_state() == "waitingForSupporter"; }, 20s))
      << agent_.output();

  // The supporter connects; the person gives them full control.
  std::string link =
      hub_.get(std::string(kDevices) + "/" + device_, admin_).str("remoteAssistanceSessionUrl");
  net::EventLoop loop;
  SupporterViewer viewer(loop, relay_.ws_url("/api/v1/stream/supporter/" + last_segment(link)),
                         supporter_end(link));
  ASSERT_TRUE(viewer.say_hello());
  ASSERT_TRUE(
      wait_until([&] { return desktop_.window_shown("Allow this session to start?"); }, 15s));
  ASSERT_EQ(desktop_.click("push button", "Full control", "reach-portal"), "");
  ASSERT_TRUE(viewer.until_admitted()) << agent_.output();
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 10s));
  // The person goes on in the portal's window meanwhile: it has the keyboard.
  ASSERT_EQ(desktop_.click("push button", "Show details", "reach-portal"), "");
  ASSERT_TRUE(desktop_.control_shown("label", hub_.base_url()));
  EXPECT_NE(desktop_.focused_window(), xterm->id) << "the portal has the keyboard";

  // The supporter clicks into the terminal, sees it take the keyboard, and types a line.
  viewer.click(xterm->x + xterm->width / 2, xterm->y + xterm->height / 2);
  EXPECT_TRUE(wait_until([&] { return desktop_.focused_window() == xterm->id; }, 5s))
      << "the terminal does not have the keyboard: " << desktop_.focused_window();
  desktop_.screenshot("portal-terminal-focused-en");
  viewer.type("lpstat -p office-printer\n");
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(typed); }, 10s))
      << "the line did not reach the terminal; agent: " << agent_.output();
  EXPECT_EQ(read_file_bytes(typed), "lpstat -p office-printer");
  EXPECT_EQ(terminal.wait(10s), std::optional<int>(0)) << terminal.output();
}

// Issue 21, 2: when the supporter ends the session (the relay closes the stream as the viewer's
// End does), the window and a notification say who ended it and when.
void PortalTest::the_end_is_said(const std::string& lang, const std::string& who_ended,
                                 const std::string& title, const std::string& open,
                                 const std::string& suffix) {
  start_all(lang);
  ServerProcess bridge;
  ChildProcess viewer;
  until_the_question(bridge, viewer, lang.empty() ? "Full control" : "Full kontroll");
  ASSERT_TRUE(wait_until([&] { return session_state() == "active"; }, 20s)) << agent_.output();
  const auto before = desktop_.notify_calls().size();
  viewer.kill9();  // the supporter leaves: the bridge closes the session's stream
  ASSERT_TRUE(wait_until([&] { return session_state() == "ended"; }, 20s)) << agent_.output();
  ASSERT_EQ(str_of(agent_json({"status"}).at("session").as_object(), "detail"), "supporterLeft");
  ASSERT_TRUE(wait_until([&] { return desktop_.notify_calls().size() > before; }, 10s));
  auto call = desktop_.notify_calls().back();
  EXPECT_EQ(call.summary, title);
  ASSERT_TRUE(call.body.starts_with(who_ended)) << call.body;
  EXPECT_TRUE(std::regex_search(call.body, std::regex(" [0-9]{1,2}[:.][0-9]{2}\\.$"))) << call.body;
  desktop_.screenshot("portal-session-ended-notification-" + suffix);
  ASSERT_EQ(desktop_.click_notification_button(open), "");
  ASSERT_TRUE(desktop_.control_shown("label", call.body)) << "the window says it too";
  desktop_.screenshot("portal-session-ended-window-" + suffix);
}

TEST_F(PortalTest, TheSupportersEndIsSaidWithWhoAndWhen) {
  the_end_is_said("", "Helen Helpdesk (Reach) ended the session at ",
                  "Remote assistance session ended", "Open", "en");
}

TEST_F(PortalTest, TheSupportersEndIsSaidInNorwegian) {
  the_end_is_said("nb_NO.UTF-8", "Helen Helpdesk (Reach) avsluttet økten kl. ",
                  "Fjernhjelpsøkten er avsluttet", "Åpne", "nb");
}

// Issue 21, 3 and 4: answered requests fold into a history, so "Get help with a code" stays in
// view; the device section names the organisation and says Connected, the address in details.
TEST_F(PortalTest, AnsweredRequestsFoldIntoHistoryAndTheDeviceSaysWhoManagesIt) {
  start_all("", {"--show"});
  decline_requests(4);
  ASSERT_TRUE(wait_until([&] { return request(helpdesk_, device_).status == 204; }, 15s));
  ASSERT_FALSE(wait_request().empty());
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Company Portal"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("push button", "Show history (4)"));
  auto code = desktop_.locate("text", "Session code");
  ASSERT_TRUE(code);
  EXPECT_LT(std::stoi(code->second), window_bottom("Company Portal")) << "the code is in view";
  EXPECT_TRUE(desktop_.locate("push button", "Accept", nullptr, "reach-portal"));
  EXPECT_FALSE(desktop_.control_shown("label", "Declined", 500));
  // Who manages the device, and that it is connected, in words; the address in the details.
  EXPECT_TRUE(desktop_.control_shown("label", "Reach"));
  EXPECT_TRUE(desktop_.control_shown("label", "Connected"));
  EXPECT_FALSE(desktop_.control_shown("label", hub_.base_url(), 500));
  desktop_.screenshot("portal-history-folded-en");
  ASSERT_EQ(desktop_.click("push button", "Show details"), "");
  EXPECT_TRUE(desktop_.control_shown("label", hub_.base_url()));
  desktop_.screenshot("portal-device-details-en");
  ASSERT_EQ(desktop_.click("push button", "Show history (4)"), "");
  ASSERT_TRUE(desktop_.control_shown("label", "Declined"));
  desktop_.screenshot("portal-history-open-en");
}

TEST_F(PortalTest, HistoryAndDeviceInNorwegian) {
  start_all("nb_NO.UTF-8", {"--show"});
  decline_requests(3);
  ASSERT_TRUE(wait_until([&] { return desktop_.window_shown("Firmaportal"); }, 10s));
  ASSERT_TRUE(desktop_.control_shown("push button", "Vis historikk (2)"));
  EXPECT_TRUE(desktop_.control_shown("label", "Tilkoblet"));
  desktop_.screenshot("portal-history-folded-nb");
}

}  // namespace
}  // namespace reach::itest
