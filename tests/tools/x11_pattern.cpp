// reach_test_x11_pattern: covers the whole X screen of $DISPLAY with one override-redirect
// window (no window manager needed) showing a deterministic test pattern, for capture and
// encoding tests that compare pixels exactly:
//   bars      colour bars, a one-pixel checkerboard, coloured 2x2 checks and gradient strips
//             (hard for lossless encoders: runs, noise-like detail and smooth ramps)
//   gradient  red across, green down, blue along the diagonal
//   checker   a one-pixel black and white checkerboard
//   noise     deterministic pseudo-random pixels (incompressible)
// The pattern is the window's background pixmap, so the server repaints it on exposure without
// this program. Prints "drawn" on standard output once it is mapped and on the screen (after
// XSync). --change-square MS moves a 16x16 square every MS milliseconds (for benchmarks).
// SIGTERM or SIGINT ends it. Test-only: never part of a product.
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <poll.h>
#include <signal.h>

#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}

std::uint32_t rgb(int r, int g, int b) {
  return (static_cast<std::uint32_t>(r & 255) << 16) | (static_cast<std::uint32_t>(g & 255) << 8) |
         static_cast<std::uint32_t>(b & 255);
}

std::uint32_t hash(std::uint32_t x, std::uint32_t y) {
  std::uint32_t h = x * 0x9e3779b1u ^ (y + 0x7f4a7c15u) * 0x85ebca6bu;
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  h ^= h >> 12;
  h *= 0x297a2d39u;
  h ^= h >> 15;
  return h;
}

// The pattern's colour (0xRRGGBB) at (x, y) of a w x h screen.
std::uint32_t pattern_at(const std::string& name, int x, int y, int w, int h) {
  if (name == "gradient")
    return rgb(x * 255 / std::max(1, w - 1), y * 255 / std::max(1, h - 1),
               (x + y) * 255 / std::max(1, w + h - 2));
  if (name == "checker") return ((x + y) & 1) ? 0xffffff : 0x000000;
  if (name == "noise")
    return hash(static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y)) & 0xffffff;
  // bars: the top half is eight colour bars, then a band of checks, then gradient strips.
  static const std::uint32_t kBars[8] = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
                                         0xff00ff, 0xff0000, 0x0000ff, 0x000000};
  if (y < h / 2) return kBars[std::min(7, x * 8 / std::max(1, w))];
  if (y < h * 3 / 4) {
    if (x < w / 2) return ((x + y) & 1) ? 0xffffff : 0x000000;
    static const std::uint32_t kChecks[4] = {0xff8000, 0x0080ff, 0x80ff00, 0x8000ff};
    return kChecks[((x / 2) & 1) * 2 + ((y / 2) & 1)];
  }
  int band = (y - h * 3 / 4) * 4 / std::max(1, h - h * 3 / 4);
  int v = x * 255 / std::max(1, w - 1);
  switch (band) {
    case 0:
      return rgb(v, 0, 0);
    case 1:
      return rgb(0, v, 0);
    case 2:
      return rgb(0, 0, v);
    default:
      return rgb(v, v, v);
  }
}

// 0xRRGGBB as a pixel value of `v` (a TrueColor visual).
unsigned long to_pixel(const Visual* v, std::uint32_t c) {
  auto channel = [](unsigned long mask, std::uint32_t value8) -> unsigned long {
    if (!mask) return 0;
    int shift = std::countr_zero(mask);
    int bits = std::popcount(mask);
    unsigned long value = bits >= 8 ? static_cast<unsigned long>(value8) << (bits - 8)
                                    : static_cast<unsigned long>(value8) >> (8 - bits);
    return (value << shift) & mask;
  };
  return channel(v->red_mask, (c >> 16) & 255) | channel(v->green_mask, (c >> 8) & 255) |
         channel(v->blue_mask, c & 255);
}

int usage() {
  std::fprintf(stderr,
               "usage: reach_test_x11_pattern [--pattern bars|gradient|checker|noise] "
               "[--change-square MS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string pattern = "bars";
  int square_ms = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pattern" && i + 1 < argc) {
      pattern = argv[++i];
    } else if (a == "--change-square" && i + 1 < argc) {
      square_ms = std::atoi(argv[++i]);
    } else {
      return usage();
    }
  }
  if (pattern != "bars" && pattern != "gradient" && pattern != "checker" && pattern != "noise")
    return usage();
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);

  Display* dpy = XOpenDisplay(nullptr);
  if (!dpy) {
    std::fprintf(stderr, "reach_test_x11_pattern: cannot open display\n");
    return 1;
  }
  int screen = DefaultScreen(dpy);
  Visual* visual = DefaultVisual(dpy, screen);
  int depth = DefaultDepth(dpy, screen);
  if (visual->c_class != TrueColor || depth < 24) {
    std::fprintf(stderr, "reach_test_x11_pattern: needs a 24-bit TrueColor screen\n");
    return 1;
  }
  const int w = DisplayWidth(dpy, screen), h = DisplayHeight(dpy, screen);
  Window root = RootWindow(dpy, screen);

  // The pattern, pixel by pixel, into a client-side image and from there into a pixmap.
  std::vector<std::uint32_t> data(static_cast<std::size_t>(w) * h);
  XImage* img = XCreateImage(dpy, visual, static_cast<unsigned>(depth), ZPixmap, 0,
                             reinterpret_cast<char*>(data.data()), static_cast<unsigned>(w),
                             static_cast<unsigned>(h), 32, w * 4);
  if (!img || img->bits_per_pixel != 32) {
    std::fprintf(stderr, "reach_test_x11_pattern: needs 32 bits per pixel\n");
    return 1;
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      XPutPixel(img, x, y, to_pixel(visual, pattern_at(pattern, x, y, w, h)));
  Pixmap pixmap = XCreatePixmap(dpy, root, static_cast<unsigned>(w), static_cast<unsigned>(h),
                                static_cast<unsigned>(depth));
  GC gc = XCreateGC(dpy, pixmap, 0, nullptr);
  XPutImage(dpy, pixmap, gc, img, 0, 0, 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h));
  img->data = nullptr;  // owned by `data`
  XDestroyImage(img);

  XSetWindowAttributes attrs{};
  attrs.override_redirect = True;
  attrs.background_pixmap = pixmap;
  attrs.event_mask = StructureNotifyMask;
  Window win =
      XCreateWindow(dpy, root, 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h), 0, depth,
                    InputOutput, visual, CWOverrideRedirect | CWBackPixmap | CWEventMask, &attrs);
  XMapRaised(dpy, win);
  for (;;) {
    XEvent e;
    XNextEvent(dpy, &e);
    if (e.type == MapNotify && e.xmap.window == win) break;
  }
  XClearWindow(dpy, win);
  XSync(dpy, False);
  std::printf("drawn\n");
  std::fflush(stdout);

  GC square_gc = XCreateGC(dpy, win, 0, nullptr);
  XSetForeground(dpy, square_gc, to_pixel(visual, 0xff2020));
  constexpr int kSquare = 16;
  int step = 0, sx = -1, sy = 0;
  auto next = std::chrono::steady_clock::now();
  while (!g_stop) {
    int wait_ms = 200;
    if (square_ms > 0) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next) {
        if (sx >= 0) XClearArea(dpy, win, sx, sy, kSquare, kSquare, False);
        int cols = std::max(1, w / kSquare), rows = std::max(1, h / kSquare);
        sx = (step % cols) * kSquare;
        sy = ((step / cols) % rows) * kSquare;
        ++step;
        XFillRectangle(dpy, win, square_gc, sx, sy, kSquare, kSquare);
        XFlush(dpy);
        next += std::chrono::milliseconds(square_ms);
        if (next < now) next = now + std::chrono::milliseconds(square_ms);
      }
      wait_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count());
      wait_ms = std::max(0, std::min(wait_ms, 200));
    }
    while (XPending(dpy)) {
      XEvent e;
      XNextEvent(dpy, &e);
    }
    pollfd p{ConnectionNumber(dpy), POLLIN, 0};
    ::poll(&p, 1, wait_ms);
  }
  XCloseDisplay(dpy);
  return 0;
}
