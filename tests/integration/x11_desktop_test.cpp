// The X11 desktop (desktop/desktop.h) against a real X server: each test starts its own Xvfb
// (-displayfd: Xvfb picks a free display number) and draws, types into and clicks on a window
// this test owns through its own Xlib connection, so what the desktop captures and injects is
// checked pixel by pixel and event by event.
#include "desktop/desktop.h"
#include "integration/process.h"

#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/cursorfont.h>
#include <X11/keysym.h>
#undef Status

#include <gtest/gtest.h>

#include <poll.h>

#include <filesystem>
#include <sstream>

namespace reach::itest {
namespace {

using namespace std::chrono_literals;
using rfb::Rect;

constexpr int kWidth = 640;
constexpr int kHeight = 480;

struct Click {
  int x, y;
  unsigned button;
  bool operator==(const Click&) const = default;
};
std::ostream& operator<<(std::ostream& os, const Click& c) {
  return os << "(" << c.x << "," << c.y << " button " << c.button << ")";
}

// A focused override-redirect window over the whole screen, on the test's own connection: it
// draws known colours and records the keys and clicks that reach it.
class TestWindow {
 public:
  ~TestWindow() { close(); }

  void close() {
    if (dpy_) XCloseDisplay(dpy_);
    dpy_ = nullptr;
  }

  ::testing::AssertionResult open(const std::string& display) {
    dpy_ = XOpenDisplay(display.c_str());
    if (!dpy_) return ::testing::AssertionFailure() << "cannot open " << display;
    int screen = DefaultScreen(dpy_);
    Visual* v = DefaultVisual(dpy_, screen);
    if (v->red_mask != 0xff0000 || v->green_mask != 0xff00 || v->blue_mask != 0xff)
      return ::testing::AssertionFailure() << "unexpected visual masks";
    XSetWindowAttributes attrs{};
    attrs.override_redirect = True;
    attrs.background_pixel = 0;
    attrs.event_mask = KeyPressMask | ButtonPressMask | StructureNotifyMask;
    win_ = XCreateWindow(dpy_, RootWindow(dpy_, screen), 0, 0, kWidth, kHeight, 0, CopyFromParent,
                         InputOutput, CopyFromParent,
                         CWOverrideRedirect | CWBackPixel | CWEventMask, &attrs);
    gc_ = XCreateGC(dpy_, win_, 0, nullptr);
    XMapRaised(dpy_, win_);
    for (;;) {
      XEvent e;
      XNextEvent(dpy_, &e);
      if (e.type == MapNotify && e.xmap.window == win_) break;
    }
    XSetInputFocus(dpy_, win_, RevertToParent, CurrentTime);
    // Xlib loads its XKB keymap lazily and only then asks for map change notifications: load it
    // now and send that request, as real toolkits do at start-up, or keysyms bound while the
    // request sits in the output buffer would stay unknown to this client.
    XkbKeycodeToKeysym(dpy_, 38, 0, 0);
    XSync(dpy_, False);
    return ::testing::AssertionSuccess();
  }

  // Draws and waits until the server has done it; mirrors it into `expected`.
  void fill(const Rect& r, rfb::Pixel rgb) {
    XSetForeground(dpy_, gc_, rgb);
    XFillRectangle(dpy_, win_, gc_, r.x, r.y, static_cast<unsigned>(r.w),
                   static_cast<unsigned>(r.h));
    XSync(dpy_, False);
    expected.fill(r, rgb);
  }
  void point(int x, int y, rfb::Pixel rgb) { fill(Rect{x, y, 1, 1}, rgb); }

  void set_cursor(unsigned shape) {
    XDefineCursor(dpy_, win_, XCreateFontCursor(dpy_, shape));
    XSync(dpy_, False);
  }

  // Handles events until `done` or `timeout`; returns done().
  bool pump(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (XPending(dpy_)) {
        XEvent e;
        XNextEvent(dpy_, &e);
        if (e.type == MappingNotify) {
          XRefreshKeyboardMapping(&e.xmapping);
        } else if (e.type == KeyPress) {
          char buf[32] = {};
          KeySym sym = NoSymbol;
          int n = XLookupString(&e.xkey, buf, sizeof buf - 1, &sym, nullptr);
          if (IsModifierKey(sym)) continue;  // the Shift pressed around a shifted symbol
          text.append(buf, static_cast<std::size_t>(std::max(0, n)));
          keysyms.push_back(sym);
        } else if (e.type == ButtonPress) {
          clicks.push_back(Click{e.xbutton.x, e.xbutton.y, e.xbutton.button});
        }
      }
      if (done()) return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{ConnectionNumber(dpy_), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 50)));
    }
  }

  // The keys the server reports down (XQueryKeymap), as keycodes.
  std::vector<int> keys_down() {
    char keys[32] = {};
    XQueryKeymap(dpy_, keys);
    std::vector<int> out;
    for (int k = 0; k < 256; ++k)
      if (keys[k / 8] & (1 << (k % 8))) out.push_back(k);
    return out;
  }
  unsigned pointer_buttons() {
    Window root, child;
    int rx, ry, wx, wy;
    unsigned mask = 0;
    XQueryPointer(dpy_, win_, &root, &child, &rx, &ry, &wx, &wy, &mask);
    return mask & (Button1Mask | Button2Mask | Button3Mask | Button4Mask | Button5Mask);
  }
  KeyCode keycode_of(KeySym s) { return XKeysymToKeycode(dpy_, s); }

  rfb::Framebuffer expected{kWidth, kHeight, 0};
  std::string text;
  std::vector<KeySym> keysyms;
  std::vector<Click> clicks;

 private:
  Display* dpy_ = nullptr;
  Window win_ = 0;
  GC gc_ = nullptr;
};

// The number of pixels of `fb` that differ from `want` (top bytes ignored), and the first.
struct PixelDiff {
  int count = 0;
  std::string first;
};
PixelDiff diff(const rfb::Framebuffer& fb, const rfb::Framebuffer& want) {
  PixelDiff d;
  for (int y = 0; y < want.height(); ++y)
    for (int x = 0; x < want.width(); ++x) {
      rfb::Pixel a = fb.at(x, y) & 0xffffff, b = want.at(x, y) & 0xffffff;
      if (a == b) continue;
      if (d.count++ == 0) {
        std::ostringstream s;
        s << "at " << x << "," << y << std::hex << ": got 0x" << a << ", want 0x" << b;
        d.first = s.str();
      }
    }
  return d;
}

Rect bounds_of(const std::vector<Rect>& rects) {
  Rect u;
  for (const Rect& r : rects) u = u.united(r);
  return u;
}
long area_of(const std::vector<Rect>& rects) {
  long a = 0;
  for (const Rect& r : rects) a += static_cast<long>(r.w) * r.h;
  return a;
}
bool covers(const std::vector<Rect>& rects, const Rect& want) {
  for (int y = want.y; y < want.bottom(); ++y)
    for (int x = want.x; x < want.right(); ++x) {
      bool in = false;
      for (const Rect& r : rects) in = in || r.contains(Rect{x, y, 1, 1});
      if (!in) return false;
    }
  return true;
}

class X11DesktopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reach-x11-");
    ASSERT_FALSE(dir_.empty());
    ASSERT_TRUE(display_.start(dir_, kWidth, kHeight));
    ASSERT_TRUE(window_.open(display_.name()));
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<desktop::Desktop> open(bool use_shm = true, bool use_damage = true) {
    desktop::X11Options o;
    o.display = display_.name();
    o.use_shm = use_shm;
    o.use_damage = use_damage;
    auto d = desktop::open_x11(o);
    EXPECT_TRUE(d) << (d ? "" : d.error().code + ": " + d.error().message);
    return d ? std::move(*d) : nullptr;
  }

  // A scene with runs, single pixels and every channel.
  void draw_scene() {
    window_.fill(Rect{0, 0, 320, 240}, 0xff0000);
    window_.fill(Rect{320, 0, 320, 240}, 0x00ff00);
    window_.fill(Rect{0, 240, 320, 240}, 0x0000ff);
    window_.fill(Rect{320, 240, 320, 240}, 0xfedcba);
    for (int x = 0; x < 64; ++x)
      for (int y = 0; y < 8; ++y)
        if ((x + y) % 2) window_.point(400 + x, 300 + y, 0x123456);
    window_.fill(Rect{639, 479, 1, 1}, 0x010203);
  }

  std::string dir_;
  VirtualDisplay display_;
  TestWindow window_;
};

TEST_F(X11DesktopTest, FirstGrabIsTheWholeScreenPixelForPixel) {
  draw_scene();
  for (bool shm : {true, false}) {
    SCOPED_TRACE(shm ? "MIT-SHM" : "XGetImage");
    auto desk = open(shm);
    ASSERT_TRUE(desk);
    EXPECT_EQ(desk->width(), kWidth);
    EXPECT_EQ(desk->height(), kHeight);
    EXPECT_NE(desk->name().find(display_.name()), std::string::npos) << desk->name();
    ASSERT_TRUE(desk->start());
    rfb::Framebuffer fb;
    auto rects = desk->grab(fb);
    ASSERT_TRUE(rects) << rects.error().message;
    EXPECT_EQ(*rects, (std::vector<Rect>{Rect{0, 0, kWidth, kHeight}}));
    ASSERT_EQ(fb.width(), kWidth);
    ASSERT_EQ(fb.height(), kHeight);
    auto d = diff(fb, window_.expected);
    EXPECT_EQ(d.count, 0) << d.first;
    // stop() and start() again: a full frame again.
    desk->stop();
    ASSERT_TRUE(desk->start());
    rects = desk->grab(fb);
    ASSERT_TRUE(rects);
    EXPECT_EQ(*rects, (std::vector<Rect>{Rect{0, 0, kWidth, kHeight}}));
  }
}

struct ChangeCase {
  bool damage;
  bool shm;
};

class X11ChangeTest : public X11DesktopTest, public ::testing::WithParamInterface<ChangeCase> {};

TEST_P(X11ChangeTest, ASmallChangeComesBackAsASmallRegion) {
  draw_scene();
  auto desk = open(GetParam().shm, GetParam().damage);
  ASSERT_TRUE(desk);
  ASSERT_TRUE(desk->start());
  rfb::Framebuffer fb;
  ASSERT_TRUE(desk->grab(fb));
  ASSERT_TRUE(desk->cursor_if_changed());  // else wait_for_change() reports it as pending

  // Nothing drawn: nothing to report.
  if (GetParam().damage) {
    EXPECT_FALSE(desk->wait_for_change(100ms));
  }
  auto none = desk->grab(fb);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty()) << none->size() << " rectangles, first " << (*none)[0].x << ","
                             << (*none)[0].y;

  const Rect square{100, 100, 10, 10};
  window_.fill(square, 0xabcdef);
  EXPECT_TRUE(desk->wait_for_change(2s));
  auto rects = desk->grab(fb);
  ASSERT_TRUE(rects);
  EXPECT_TRUE(covers(*rects, square));
  if (GetParam().damage) {
    EXPECT_EQ(bounds_of(*rects), square);
  } else {
    EXPECT_EQ(bounds_of(*rects), (Rect{96, 96, 32, 32}));  // the one 32x32 tile it lies in
  }
  EXPECT_LT(area_of(*rects), kWidth * kHeight / 100);
  auto d = diff(fb, window_.expected);
  EXPECT_EQ(d.count, 0) << d.first;

  // Two changes far apart: two regions, not their bounding box.
  window_.fill(Rect{5, 5, 3, 3}, 0x111111);
  window_.fill(Rect{600, 400, 4, 4}, 0x222222);
  EXPECT_TRUE(desk->wait_for_change(2s));
  rects = desk->grab(fb);
  ASSERT_TRUE(rects);
  EXPECT_TRUE(covers(*rects, Rect{5, 5, 3, 3}));
  EXPECT_TRUE(covers(*rects, Rect{600, 400, 4, 4}));
  EXPECT_LT(area_of(*rects), 3 * 32 * 32);
  d = diff(fb, window_.expected);
  EXPECT_EQ(d.count, 0) << d.first;
}

INSTANTIATE_TEST_SUITE_P(Modes, X11ChangeTest,
                         ::testing::Values(ChangeCase{true, true}, ChangeCase{false, true},
                                           ChangeCase{true, false}),
                         [](const auto& info) {
                           return std::string(info.param.damage ? "Damage" : "TileCompare") +
                                  (info.param.shm ? "Shm" : "GetImage");
                         });

// A typed key's echo goes ahead of a big change waiting beside it: grab_small() takes the small
// change alone, with its pixels, and leaves the big one for the next grab().
TEST_F(X11DesktopTest, SmallChangesCanBeTakenAheadOfBigOnes) {
  draw_scene();
  auto desk = open();
  ASSERT_TRUE(desk);
  ASSERT_TRUE(desk->start());
  rfb::Framebuffer fb;
  auto none = desk->grab_small(fb, 1000);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty()) << "the first grab is the whole screen's";
  ASSERT_TRUE(desk->grab(fb));

  const Rect key{30, 400, 8, 16};
  const Rect big{200, 50, 300, 200};
  window_.fill(big, 0x445566);
  window_.fill(key, 0xeeeeee);
  EXPECT_TRUE(desk->wait_for_change(2s));
  auto small = desk->grab_small(fb, 1000);
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(*small, (std::vector<Rect>{key}));
  for (int y = key.y; y < key.bottom(); ++y)
    for (int x = key.x; x < key.right(); ++x) ASSERT_EQ(fb.at(x, y) & 0xffffff, 0xeeeeeeu);
  EXPECT_EQ(fb.at(big.x + 1, big.y + 1) & 0xffffff, 0xff0000u) << "the big change is not read yet";

  EXPECT_TRUE(desk->wait_for_change(0ms)) << "the big change is still due";
  auto rest = desk->grab(fb);
  ASSERT_TRUE(rest);
  EXPECT_EQ(bounds_of(*rest), big);
  auto d = diff(fb, window_.expected);
  EXPECT_EQ(d.count, 0) << d.first;
  auto again = desk->grab_small(fb, 1000);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_F(X11DesktopTest, WaitForChangeTimesOutWhenNothingChanges) {
  auto desk = open();
  ASSERT_TRUE(desk);
  ASSERT_TRUE(desk->start());
  rfb::Framebuffer fb;
  ASSERT_TRUE(desk->grab(fb));
  desk->cursor_if_changed();
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(desk->wait_for_change(200ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 190ms);
}

TEST_F(X11DesktopTest, CursorImageOnStartAndWhenItChanges) {
  auto desk = open();
  ASSERT_TRUE(desk);
  ASSERT_TRUE(desk->start());
  auto first = desk->cursor_if_changed();
  ASSERT_TRUE(first);
  EXPECT_GT(first->width, 0);
  EXPECT_EQ(first->argb.size(), static_cast<std::size_t>(first->width) * first->height);
  EXPECT_FALSE(desk->cursor_if_changed());

  window_.set_cursor(XC_hand2);
  desk->pointer_event(0, 200, 200);  // over the window, whose cursor is now a hand
  ASSERT_TRUE(desk->wait_for_change(2s));
  auto hand = desk->cursor_if_changed();
  ASSERT_TRUE(hand);
  EXPECT_TRUE(hand->width != first->width || hand->height != first->height ||
              hand->argb != first->argb);
  bool opaque = false;
  for (auto p : hand->argb) opaque = opaque || (p >> 24) >= 128;
  EXPECT_TRUE(opaque);
}

TEST_F(X11DesktopTest, TypedTextArrivesExactlyIncludingShiftedAndUnmappedKeysyms) {
  // Not in Xvfb's default (us) keymap: bound to a spare keycode while typing.
  const std::vector<KeySym> unmapped = {XK_EuroSign, XK_Cyrillic_zhe};
  for (KeySym s : unmapped) ASSERT_EQ(window_.keycode_of(s), 0) << "keysym " << s << " is mapped";
  auto desk = open();
  ASSERT_TRUE(desk);
  const std::string text = "Hello, World! ~{}|";
  std::vector<KeySym> want;
  for (char c : text) {
    desk->key_event(true, static_cast<unsigned char>(c));
    desk->key_event(false, static_cast<unsigned char>(c));
    want.push_back(static_cast<unsigned char>(c));
  }
  for (KeySym s : unmapped) {
    desk->key_event(true, static_cast<std::uint32_t>(s));
    desk->key_event(false, static_cast<std::uint32_t>(s));
    want.push_back(s);
  }
  desk->key_event(true, XK_Return);
  desk->key_event(false, XK_Return);
  want.push_back(XK_Return);
  EXPECT_TRUE(window_.pump([&] { return window_.keysyms.size() >= want.size(); }));
  // The text of the ASCII part (how XLookupString spells the others depends on the locale).
  EXPECT_EQ(window_.text.substr(0, text.size()), text);
  EXPECT_EQ(window_.keysyms, want);
  EXPECT_TRUE(window_.keys_down().empty());

  // A client that holds Shift itself and sends the shifted symbol: no second Shift, same text.
  window_.text.clear();
  window_.keysyms.clear();
  desk->key_event(true, XK_Shift_L);
  desk->key_event(true, XK_A);
  desk->key_event(false, XK_A);
  desk->key_event(true, XK_exclam);
  desk->key_event(false, XK_exclam);
  desk->key_event(false, XK_Shift_L);
  // Shift down without a symbol: then a lower-case letter must come out lower case.
  desk->key_event(true, XK_Shift_L);
  desk->key_event(true, XK_b);
  desk->key_event(false, XK_b);
  desk->key_event(false, XK_Shift_L);
  EXPECT_TRUE(window_.pump([&] { return window_.text.size() >= 3; }));
  EXPECT_EQ(window_.text, "A!b");

  // The spare keycodes are given back when capture ends.
  desk->stop();
  desk.reset();
  TestWindow fresh;
  ASSERT_TRUE(fresh.open(display_.name()));
  for (KeySym s : unmapped) EXPECT_EQ(fresh.keycode_of(s), 0) << "keysym " << s;
}

TEST_F(X11DesktopTest, ClicksLandWhereTheyWereSent) {
  auto desk = open();
  ASSERT_TRUE(desk);
  desk->pointer_event(0, 123, 45);
  desk->pointer_event(1, 123, 45);
  desk->pointer_event(0, 123, 45);
  desk->pointer_event(0, 300, 200);
  desk->pointer_event(4, 300, 200);  // right
  desk->pointer_event(0, 300, 200);
  desk->pointer_event(8, 300, 200);  // wheel up
  desk->pointer_event(0, 300, 200);
  desk->pointer_event(1, 5000, -20);  // clipped to the screen
  desk->pointer_event(0, 5000, -20);
  std::vector<Click> want = {{123, 45, 1}, {300, 200, 3}, {300, 200, 4}, {kWidth - 1, 0, 1}};
  EXPECT_TRUE(window_.pump([&] { return window_.clicks.size() >= want.size(); }));
  EXPECT_EQ(window_.clicks, want);
}

TEST_F(X11DesktopTest, ReleaseAllLeavesNoKeyOrButtonDown) {
  auto desk = open();
  ASSERT_TRUE(desk);
  desk->key_event(true, XK_Control_L);
  desk->key_event(true, XK_a);
  desk->key_event(true, XK_EuroSign);  // on a spare keycode
  desk->pointer_event(1 | 4, 50, 50);
  window_.pump([] { return false; }, 200ms);
  EXPECT_GE(window_.keys_down().size(), 3u);
  EXPECT_NE(window_.pointer_buttons(), 0u);
  desk->release_all();
  EXPECT_TRUE(window_.keys_down().empty());
  EXPECT_EQ(window_.pointer_buttons(), 0u);
  // Releasing again, and releasing keys that were never pressed, is harmless.
  desk->release_all();
  desk->key_event(false, XK_q);
  EXPECT_TRUE(window_.keys_down().empty());
}

TEST_F(X11DesktopTest, ADisplayThatDoesNotExistIsAnError) {
  desktop::X11Options o;
  o.display = ":" + std::to_string(987);  // nothing listens there: -displayfd picks low numbers
  auto d = desktop::open_x11(o);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "displayUnavailable");
  EXPECT_NE(d.error().message.find(":987"), std::string::npos) << d.error().message;
}

TEST_F(X11DesktopTest, TheXServerGoingAwayIsAnErrorNotACrash) {
  auto desk = open();
  ASSERT_TRUE(desk);
  ASSERT_TRUE(desk->start());
  rfb::Framebuffer fb;
  ASSERT_TRUE(desk->grab(fb));
  window_.close();  // Xlib's default handler would exit this process when the server dies
  display_.kill();
  EXPECT_TRUE(desk->wait_for_change(5s));
  auto r = desk->grab(fb);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "displayUnavailable");
  desk->key_event(true, XK_a);
  desk->pointer_event(1, 1, 1);
  desk->release_all();
  EXPECT_FALSE(desk->start());
  desk->stop();
}

}  // namespace
}  // namespace reach::itest
