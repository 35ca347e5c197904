// reach_bench_screen_load: draws one of bench/screen's three loads on an X display, frame by
// frame, and stamps each frame with its sequence number (bench/screen/marker.h).
//
//   reach_bench_screen_load --load full|scroll|square|video|typing [--fps 30] [--seconds 0]
//                           [--display :N] [--times FILE] [--busy]
//
//   full    the whole screen changes every frame: a smooth colour field with noise on top (not
//           trivially compressible, like a photo or a video), sliding 7 pixels left per frame
//   scroll  a 1200x800 terminal-like area scrolls up one 16-pixel text line per frame
//           (XCopyArea, then the new line with XDrawString) on a static background
//   square  a 64x64 square changes colour every frame on the static background
//   video   a 640x360 region in the middle of the static background plays the full load's field
//           (a video in a still desktop)
//   typing  a terminal-like area that takes the keyboard focus and echoes each key typed; the
//           marker's number is the count of keys echoed (bench/wan measures typing echo with it);
//           with --busy the video region plays beside it at --fps
//
// SIGUSR1 stops the drawing and keeps the last frame on the screen ("held" on standard output)
// until SIGTERM: the still picture a viewer must then show exactly.
//
// Every frame ends with the marker strip, drawn with one XPutImage, then XSync: when XSync
// returns the X server has the frame's pixels, and that CLOCK_MONOTONIC instant is the frame's
// draw time. "ready" is printed on standard output after the first frame. The program runs for
// --seconds (0: until SIGTERM or SIGINT), then writes "seq nanoseconds" lines to --times.
#include "marker.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace marker = reach::bench::marker;

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_hold = 0;
void on_signal(int) {
  g_stop = 1;
}
void on_hold(int) {
  g_hold = 1;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "reach_bench_screen_load: %s\n", msg.c_str());
  std::exit(1);
}

std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// A deterministic generator, so that every server sees the same pixels.
struct Lcg {
  std::uint32_t state;
  std::uint32_t next() { return state = state * 1664525u + 1013904223u; }
};

std::uint32_t rgb(int r, int g, int b) {
  auto clamp = [](int v) { return static_cast<std::uint32_t>(v < 0 ? 0 : v > 255 ? 255 : v); };
  return clamp(r) << 16 | clamp(g) << 8 | clamp(b);
}

XImage* make_image(Display* dpy, int w, int h) {
  int scr = DefaultScreen(dpy);
  auto* data = static_cast<char*>(std::calloc(static_cast<std::size_t>(w) * h, 4));
  XImage* img = XCreateImage(dpy, DefaultVisual(dpy, scr), DefaultDepth(dpy, scr), ZPixmap, 0, data,
                             w, h, 32, 0);
  if (!img) die("XCreateImage failed");
  return img;
}

// The full load's source: a pixmap twice the screen's width whose halves are the same image, so
// that any screen-wide window into it at offset 0..width-1 is a horizontal rotation of the image.
Pixmap make_full_source(Display* dpy, Window win, GC gc, int w, int h) {
  int depth = DefaultDepth(dpy, DefaultScreen(dpy));
  Pixmap pix = XCreatePixmap(dpy, win, 2 * w, h, depth);
  constexpr int kBand = 32;
  XImage* band = make_image(dpy, w, kBand);
  Lcg rng{12345};
  constexpr double kTau = 6.283185307179586;
  for (int y0 = 0; y0 < h; y0 += kBand) {
    int rows = std::min(kBand, h - y0);
    for (int y = 0; y < rows; ++y) {
      double fy = static_cast<double>(y0 + y) / h;
      for (int x = 0; x < w; ++x) {
        double fx = static_cast<double>(x) / w;  // whole periods across the width: seamless
        int noise = static_cast<int>(rng.next() >> 27) - 16;
        int r = static_cast<int>(128 + 90 * std::sin(kTau * (3 * fx + 1.3 * fy)));
        int g = static_cast<int>(128 + 90 * std::sin(kTau * (2 * fx - 2 * fy) + 1.0));
        int b = static_cast<int>(128 + 90 * std::sin(kTau * 5 * fx + 3.5 * fy));
        XPutPixel(band, x, y, rgb(r + noise, g + noise / 2, b - noise));
      }
    }
    XPutImage(dpy, pix, gc, band, 0, 0, 0, y0, w, rows);
    XPutImage(dpy, pix, gc, band, 0, 0, w, y0, w, rows);
  }
  XDestroyImage(band);
  return pix;
}

// A desktop-like static background: a colour and a few window-like panels.
void draw_background(Display* dpy, Window win, GC gc, int w, int h) {
  XSetForeground(dpy, gc, rgb(0x2f, 0x5d, 0x8a));
  XFillRectangle(dpy, win, gc, 0, 0, w, h);
  Lcg rng{777};
  for (int i = 0; i < 6; ++i) {
    int x = static_cast<int>(rng.next() % static_cast<std::uint32_t>(w - 400));
    int y = static_cast<int>(rng.next() % static_cast<std::uint32_t>(h - 300));
    XSetForeground(dpy, gc, rgb(0xe8, 0xe8, 0xe8));
    XFillRectangle(dpy, win, gc, x, y, 400, 300);
    XSetForeground(dpy, gc, rgb(0x44, 0x44, 0x55));
    XFillRectangle(dpy, win, gc, x, y, 400, 24);
    XSetForeground(dpy, gc, rgb(0x20, 0x20, 0x20));
    XDrawString(dpy, win, gc, x + 12, y + 60, "Settings", 8);
  }
}

std::string terminal_line(std::uint32_t n, int columns) {
  static constexpr const char* kWords[] = {
      "make",      "[ 42%]", "Building", "CXX",    "object", "src/",  "rfb/",
      "tight.cpp", "-O2",    "warning:", "unused", "ok",     "PASS",  "test",
      "0x7ffd",    "ms",     "bytes",    "=>",     "git",    "status"};
  Lcg rng{n * 2654435761u};
  std::string line = std::to_string(n) + "  ";
  int target = columns / 3 + static_cast<int>(rng.next() % static_cast<std::uint32_t>(columns / 2));
  while (static_cast<int>(line.size()) < target) {
    line += kWords[rng.next() % (sizeof kWords / sizeof kWords[0])];
    line += ' ';
  }
  return line;
}

enum class Load { full, scroll, square, video, typing };

}  // namespace

int main(int argc, char** argv) {
  std::string load_name, display_name, times_path;
  double fps = 30, seconds = 0;
  bool busy = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--busy") {
      busy = true;
      continue;
    }
    if (k == "--help" || k == "-h") {
      std::printf(
          "usage: reach_bench_screen_load --load full|scroll|square|video|typing [--fps 30]\n"
          "                               [--seconds 0] [--display :N] [--times FILE] [--busy]\n");
      return 0;
    }
    if (i + 1 >= argc) die("missing value for " + k);
    std::string v = argv[++i];
    if (k == "--load")
      load_name = v;
    else if (k == "--fps")
      fps = std::stod(v);
    else if (k == "--seconds")
      seconds = std::stod(v);
    else if (k == "--display")
      display_name = v;
    else if (k == "--times")
      times_path = v;
    else
      die("unknown option " + k);
  }
  Load load;
  if (load_name == "full")
    load = Load::full;
  else if (load_name == "scroll")
    load = Load::scroll;
  else if (load_name == "square")
    load = Load::square;
  else if (load_name == "video")
    load = Load::video;
  else if (load_name == "typing")
    load = Load::typing;
  else
    die("--load must be full, scroll, square, video or typing");
  if (fps <= 0) die("--fps must be positive");

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction hold {};
  hold.sa_handler = on_hold;
  sigaction(SIGUSR1, &hold, nullptr);

  Display* dpy = XOpenDisplay(display_name.empty() ? nullptr : display_name.c_str());
  if (!dpy) die("cannot open display " + display_name);
  int scr = DefaultScreen(dpy);
  int w = DisplayWidth(dpy, scr), h = DisplayHeight(dpy, scr);
  if (DefaultDepth(dpy, scr) < 24) die("needs a 24-bit display");

  XSetWindowAttributes attrs{};
  attrs.override_redirect = True;
  attrs.background_pixmap = None;
  Window win = XCreateWindow(dpy, RootWindow(dpy, scr), 0, 0, static_cast<unsigned>(w),
                             static_cast<unsigned>(h), 0, CopyFromParent, InputOutput,
                             CopyFromParent, CWOverrideRedirect | CWBackPixmap, &attrs);
  if (load == Load::typing) XSelectInput(dpy, win, KeyPressMask);
  XMapRaised(dpy, win);
  XGCValues gcv{};
  gcv.graphics_exposures = False;
  GC gc = XCreateGC(dpy, win, GCGraphicsExposures, &gcv);
  if (XFontStruct* font = XLoadQueryFont(dpy, "fixed")) XSetFont(dpy, gc, font->fid);
  XSync(dpy, False);

  // The terminal area of the scroll load and the square of the square load.
  constexpr int kTermW = 1200, kTermH = 800, kLine = 16, kSquare = 64;
  const int term_x = (w - kTermW) / 2, term_y = (h - kTermH) / 2;
  const int columns = kTermW / 6 - 2;

  // The video region, and the typing load's terminal line.
  constexpr int kVideoW = 640, kVideoH = 360;
  const int video_x = (w - kVideoW) / 2, video_y = (h - kVideoH) / 2;
  const bool plays_video = load == Load::video || (load == Load::typing && busy);
  const int type_x = 40, type_y = h - 60;  // below the video region on an 800x600 screen too

  Pixmap source = None;
  if (load == Load::full || plays_video) source = make_full_source(dpy, win, gc, w, h);
  if (load != Load::full) {
    draw_background(dpy, win, gc, w, h);
    if (load == Load::typing) {
      XSetForeground(dpy, gc, rgb(0x10, 0x10, 0x10));
      XFillRectangle(dpy, win, gc, type_x - 8, type_y - 20, w - 2 * type_x + 16, 40);
      XSetInputFocus(dpy, win, RevertToParent, CurrentTime);
    }
    if (load == Load::scroll) {
      XSetForeground(dpy, gc, rgb(0x10, 0x10, 0x10));
      XFillRectangle(dpy, win, gc, term_x, term_y, kTermW, kTermH);
      XSetForeground(dpy, gc, rgb(0xd0, 0xd0, 0xd0));
      for (int row = 0; row < kTermH / kLine; ++row) {
        std::string text = terminal_line(static_cast<std::uint32_t>(row), columns);
        XDrawString(dpy, win, gc, term_x + 6, term_y + row * kLine + 12, text.data(),
                    static_cast<int>(text.size()));
      }
    }
  }
  XImage* strip = make_image(dpy, marker::kWidth, marker::kHeight);
  XSync(dpy, False);

  std::vector<std::pair<std::uint32_t, std::int64_t>> times;
  times.reserve(static_cast<std::size_t>(fps * (seconds > 0 ? seconds : 600)) + 16);
  const std::int64_t period = static_cast<std::int64_t>(1e9 / fps);
  const std::int64_t start = now_ns();
  std::int64_t next = start;
  std::uint32_t keys = 0;  // the typing load's marker: keys echoed
  std::string typed;
  std::uint32_t video_frame = 0;
  std::int64_t next_video = start;
  bool video_drawn = false;
  for (std::uint32_t seq = 1; !g_stop && !g_hold; ++seq) {
    // The video region plays at --fps; the typing load's keys are answered between its frames.
    video_drawn = plays_video && now_ns() >= next_video;
    if (video_drawn) {
      ++video_frame;
      int offset = static_cast<int>((video_frame * 7u) % static_cast<std::uint32_t>(w));
      XCopyArea(dpy, source, win, gc, offset, video_y, kVideoW, kVideoH, video_x, video_y);
      next_video += period;
      if (next_video < now_ns() - period) next_video = now_ns();
    }
    bool echoed = false;
    while (load == Load::typing && XPending(dpy) > 0) {
      XEvent ev;
      XNextEvent(dpy, &ev);
      if (ev.type != KeyPress) continue;
      char buf[8];
      KeySym sym;
      int n = XLookupString(&ev.xkey, buf, sizeof buf, &sym, nullptr);
      if (n <= 0) continue;
      ++keys;
      echoed = true;
      typed.append(buf, static_cast<std::size_t>(n));
      if (typed.size() > static_cast<std::size_t>((w - 2 * type_x) / 6)) typed.clear();
      XSetForeground(dpy, gc, rgb(0x10, 0x10, 0x10));
      XFillRectangle(dpy, win, gc, type_x - 8, type_y - 20, w - 2 * type_x + 16, 40);
      XSetForeground(dpy, gc, rgb(0xd0, 0xd0, 0xd0));
      XDrawString(dpy, win, gc, type_x, type_y, typed.data(), static_cast<int>(typed.size()));
    }
    switch (load) {
      case Load::video:
      case Load::typing:
        break;
      case Load::full: {
        int offset = static_cast<int>((seq * 7u) % static_cast<std::uint32_t>(w));
        XCopyArea(dpy, source, win, gc, offset, 0, static_cast<unsigned>(w),
                  static_cast<unsigned>(h), 0, 0);
        break;
      }
      case Load::scroll: {
        XCopyArea(dpy, win, win, gc, term_x, term_y + kLine, kTermW, kTermH - kLine, term_x,
                  term_y);
        XSetForeground(dpy, gc, rgb(0x10, 0x10, 0x10));
        XFillRectangle(dpy, win, gc, term_x, term_y + kTermH - kLine, kTermW, kLine);
        XSetForeground(dpy, gc, rgb(0xd0, 0xd0, 0xd0));
        std::string text = terminal_line(seq + kTermH / kLine, columns);
        XDrawString(dpy, win, gc, term_x + 6, term_y + kTermH - kLine + 12, text.data(),
                    static_cast<int>(text.size()));
        break;
      }
      case Load::square: {
        double hue = 6.283185307179586 * static_cast<double>(seq % 97) / 97.0;
        XSetForeground(dpy, gc,
                       rgb(static_cast<int>(128 + 120 * std::sin(hue)),
                           static_cast<int>(128 + 120 * std::sin(hue + 2.094)),
                           static_cast<int>(128 + 120 * std::sin(hue + 4.189))));
        XFillRectangle(dpy, win, gc, (w - kSquare) / 2, (h - kSquare) / 2, kSquare, kSquare);
        break;
      }
    }
    // The typing load stamps its marker only when a key was echoed: nothing else changes.
    const std::uint32_t mark = load == Load::typing ? keys + 1 : seq;
    const bool stamp = load != Load::typing || echoed || seq == 1;
    if (stamp) {
      for (int i = 0; i < marker::kBlocks; ++i) {
        unsigned long px = marker::block_white(mark, i) ? 0xffffff : 0;
        for (int y = 0; y < marker::kBlock; ++y)
          for (int x = 0; x < marker::kBlock; ++x) XPutPixel(strip, i * marker::kBlock + x, y, px);
      }
      XPutImage(dpy, win, gc, strip, 0, 0, 0, 0, marker::kWidth, marker::kHeight);
    }
    if (stamp || video_drawn) XSync(dpy, False);
    std::int64_t drawn = now_ns();
    if (stamp) times.emplace_back(mark, drawn);
    if (seq == 1) {
      std::printf("ready\n");
      std::fflush(stdout);
    }
    if (seconds > 0 && static_cast<double>(drawn - start) >= seconds * 1e9) break;

    // Typing answers each key at once (a poll on the X connection, 1 ms steps), also beside the
    // playing video (a terminal does not wait for another window's frame).
    next += load == Load::typing ? 1'000'000 : period;
    if (next < drawn - period) next = drawn;  // fell behind: draw on, do not catch up in a burst
    timespec ts{static_cast<time_t>(next / 1'000'000'000), static_cast<long>(next % 1'000'000'000)};
    while (!g_stop && !g_hold &&
           clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
  }

  if (!times_path.empty()) {
    FILE* f = std::fopen(times_path.c_str(), "w");
    if (!f) die("cannot write " + times_path);
    for (auto [seq, ns] : times) std::fprintf(f, "%u %lld\n", seq, static_cast<long long>(ns));
    std::fclose(f);
  }
  if (g_hold && !g_stop) {
    XSync(dpy, False);
    std::printf("held\n");
    std::fflush(stdout);
    while (!g_stop) pause();
  }
  XDestroyImage(strip);
  if (source != None) XFreePixmap(dpy, source);
  XCloseDisplay(dpy);
  return 0;
}
