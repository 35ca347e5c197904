// reach_test_x11_input_log: a program on the "device" that records the input it receives, for
// tests of remote input. It covers the whole X screen with one window that holds the keyboard
// focus and appends to --out, flushed at once:
//   text lines:  "key <text>"    for every KeyPress that produces text (XLookupString)
//                "keysym <name>" for a KeyPress without text (XKeysymToString)
//                "click <x> <y> <button>" for every ButtonPress
// Prints "ready" on standard output once the window is mapped and focused. SIGTERM ends it.
// Test-only: never part of a product.
#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

#include <poll.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {
volatile sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}
}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
  if (out_path.empty()) {
    std::fprintf(stderr, "usage: reach_test_x11_input_log --out FILE\n");
    return 2;
  }
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  Display* dpy = XOpenDisplay(nullptr);
  if (!dpy) {
    std::fprintf(stderr, "reach_test_x11_input_log: cannot open display\n");
    return 1;
  }
  FILE* out = std::fopen(out_path.c_str(), "a");
  if (!out) {
    std::fprintf(stderr, "reach_test_x11_input_log: cannot open %s\n", out_path.c_str());
    return 1;
  }
  int screen = DefaultScreen(dpy);
  XSetWindowAttributes attrs{};
  attrs.override_redirect = True;
  attrs.background_pixel = WhitePixel(dpy, screen);
  attrs.event_mask = KeyPressMask | ButtonPressMask | ExposureMask | StructureNotifyMask;
  Window w = XCreateWindow(dpy, RootWindow(dpy, screen), 0, 0, DisplayWidth(dpy, screen),
                           DisplayHeight(dpy, screen), 0, CopyFromParent, InputOutput,
                           CopyFromParent, CWOverrideRedirect | CWBackPixel | CWEventMask, &attrs);
  XMapRaised(dpy, w);
  for (;;) {
    XEvent e;
    XNextEvent(dpy, &e);
    if (e.type == MapNotify) break;
  }
  XSetInputFocus(dpy, w, RevertToParent, CurrentTime);
  // Load Xlib's keymap now, so that it follows keymap changes from here on (the agent binds
  // keysyms missing from the keymap on the fly; a lazily loaded keymap could miss them).
  XkbKeycodeToKeysym(dpy, 38, 0, 0);
  XSync(dpy, False);
  std::printf("ready\n");
  std::fflush(stdout);

  while (!g_stop) {
    if (!XPending(dpy)) {
      pollfd p{ConnectionNumber(dpy), POLLIN, 0};
      ::poll(&p, 1, 200);
      continue;
    }
    XEvent e;
    XNextEvent(dpy, &e);
    if (e.type == KeyPress) {
      char text[32] = {};
      KeySym sym = NoSymbol;
      int n = XLookupString(&e.xkey, text, sizeof text - 1, &sym, nullptr);
      if (n > 0) {
        std::string t(text, static_cast<std::size_t>(n));
        if (t == "\r") t = "\\n";
        std::fprintf(out, "key %s\n", t.c_str());
      } else {
        const char* name = XKeysymToString(sym);
        std::fprintf(out, "keysym %s\n", name ? name : "NoSymbol");
      }
      std::fflush(out);
    } else if (e.type == ButtonPress) {
      std::fprintf(out, "click %d %d %u\n", e.xbutton.x, e.xbutton.y, e.xbutton.button);
      std::fflush(out);
    }
  }
  std::fclose(out);
  XCloseDisplay(dpy);
  return 0;
}
