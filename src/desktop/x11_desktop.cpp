// The X11 desktop: MIT-SHM (else GetImage) capture of what XDamage (else a tile compare)
// reports, the XFixes cursor, and XTest input. One Display connection per object.
//
// X errors on this connection are recorded, never fatal: Xlib's error handler is process-wide,
// so one handler is installed for every X11Desktop and errors on other connections go to the
// handler that was there before. A connection lost (the X server died) marks the object lost;
// every call after that is a no-op and grab() reports it.
#include "desktop/desktop.h"

#include "common/log.h"
#include "desktop/keymap.h"

#include <X11/XKBlib.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/keysym.h>
// Xlib defines Status as a macro for int; from here on Status is reach::Status.
#undef Status

#include <poll.h>
#include <pwd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

namespace reach::desktop {
namespace {

using Clock = std::chrono::steady_clock;
using rfb::Rect;

// Damage rectangles above this count are read as their bounding box in one request.
constexpr std::size_t kMaxSeparateReads = 8;
// Without DAMAGE, how often wait_for_change() says the screen may have changed.
constexpr auto kTilePollInterval = std::chrono::milliseconds(50);

Error display_lost() {
  return make_error(Errc::unavailable, "displayUnavailable", "the X display closed the connection");
}

// ------------------------------------------------------------------ pixel conversion

// Copies a w x h block at (sx, sy) of `img` to (dx, dy) of `fb` as 0x00RRGGBB.
void convert(const XImage& img, int sx, int sy, int w, int h, rfb::Framebuffer& fb, int dx,
             int dy) {
  const int bytes = img.bits_per_pixel / 8;
  const bool lsb = img.byte_order == LSBFirst;
  const bool fast = img.bits_per_pixel == 32 &&
                    lsb == (std::endian::native == std::endian::little) &&
                    img.red_mask == 0xff0000 && img.green_mask == 0xff00 && img.blue_mask == 0xff;
  if (fast) {
    for (int y = 0; y < h; ++y) {
      const auto* src = reinterpret_cast<const std::uint32_t*>(
          img.data + static_cast<std::size_t>(sy + y) * img.bytes_per_line + sx * 4);
      rfb::Pixel* dst = fb.row(dy + y) + dx;
      for (int x = 0; x < w; ++x) dst[x] = src[x] & 0x00ffffff;
    }
    return;
  }
  const unsigned long masks[3] = {img.red_mask, img.green_mask, img.blue_mask};
  int shift[3], bits[3];
  for (int c = 0; c < 3; ++c) {
    shift[c] = masks[c] ? std::countr_zero(masks[c]) : 0;
    bits[c] = std::popcount(masks[c]);
  }
  for (int y = 0; y < h; ++y) {
    const auto* p = reinterpret_cast<const unsigned char*>(
        img.data + static_cast<std::size_t>(sy + y) * img.bytes_per_line + sx * bytes);
    rfb::Pixel* dst = fb.row(dy + y) + dx;
    for (int x = 0; x < w; ++x, p += bytes) {
      std::uint32_t v = 0;
      for (int b = 0; b < bytes; ++b)
        v |= static_cast<std::uint32_t>(p[b]) << (lsb ? 8 * b : 8 * (bytes - 1 - b));
      rfb::Pixel out = 0;
      for (int c = 0; c < 3; ++c) {
        std::uint32_t ch = (v & masks[c]) >> shift[c];
        if (bits[c] > 8)
          ch >>= bits[c] - 8;
        else if (bits[c] > 0 && bits[c] < 8)
          ch = ch * 255 / ((1u << bits[c]) - 1);
        out |= (ch & 0xff) << (16 - 8 * c);
      }
      dst[x] = out;
    }
  }
}

void copy_rect(const rfb::Framebuffer& from, const Rect& r, rfb::Framebuffer& to) {
  for (int y = r.y; y < r.bottom(); ++y)
    std::memcpy(to.row(y) + r.x, from.row(y) + r.x, static_cast<std::size_t>(r.w) * 4);
}

// The tiles of `now` that differ from `before` (same size), merged into runs along each row.
std::vector<Rect> changed_tiles(const rfb::Framebuffer& now, const rfb::Framebuffer& before,
                                int tile) {
  std::vector<Rect> out;
  const int w = now.width(), h = now.height();
  for (int ty = 0; ty < h; ty += tile) {
    const int th = std::min(tile, h - ty);
    int run = -1;
    for (int tx = 0; tx < w; tx += tile) {
      const int tw = std::min(tile, w - tx);
      bool changed = false;
      for (int y = ty; y < ty + th && !changed; ++y)
        changed =
            std::memcmp(now.row(y) + tx, before.row(y) + tx, static_cast<std::size_t>(tw) * 4) != 0;
      if (changed && run < 0) run = tx;
      if (!changed && run >= 0) {
        out.push_back(Rect{run, ty, tx - run, th});
        run = -1;
      }
    }
    if (run >= 0) out.push_back(Rect{run, ty, w - run, th});
  }
  return out;
}

// ------------------------------------------------------------------ error handlers

class X11Desktop;

std::mutex g_registry_mu;
std::vector<std::pair<Display*, X11Desktop*>> g_registry;  // guarded by g_registry_mu
XErrorHandler g_previous_error_handler = nullptr;
XIOErrorHandler g_previous_io_handler = nullptr;
std::once_flag g_handlers_once;

X11Desktop* registered(Display* dpy) {
  std::lock_guard lock(g_registry_mu);
  for (const auto& [d, desk] : g_registry)
    if (d == dpy) return desk;
  return nullptr;
}

int on_x_error(Display* dpy, XErrorEvent* e);
int on_x_io_error(Display* dpy);
void on_x_io_exit(Display* dpy, void* desktop);

// ------------------------------------------------------------------ X11Desktop

class X11Desktop final : public Desktop {
 public:
  X11Desktop(Display* dpy, const X11Options& options) : dpy_(dpy), options_(options) {
    std::call_once(g_handlers_once, [] {
      g_previous_error_handler = XSetErrorHandler(on_x_error);
      g_previous_io_handler = XSetIOErrorHandler(on_x_io_error);
    });
    {
      std::lock_guard lock(g_registry_mu);
      g_registry.emplace_back(dpy_, this);
    }
    XSetIOErrorExitHandler(dpy_, on_x_io_exit, this);
    if (options_.tile_compare_size < 8) options_.tile_compare_size = 8;
  }

  ~X11Desktop() override {
    release_all();
    stop();
    restore_bindings();
    XCloseDisplay(dpy_);
    std::lock_guard lock(g_registry_mu);
    std::erase_if(g_registry, [this](const auto& e) { return e.second == this; });
  }

  Status init();

  int width() const override { return width_; }
  int height() const override { return height_; }
  std::string name() const override { return name_; }

  Status start() override;
  void stop() override;
  bool wait_for_change(std::chrono::milliseconds timeout) override;
  Result<std::vector<Rect>> grab(rfb::Framebuffer& fb) override;
  Result<std::vector<Rect>> grab_small(rfb::Framebuffer& fb, std::int64_t max_pixels) override;
  std::optional<rfb::Cursor> cursor_if_changed() override;
  void key_event(bool down, std::uint32_t keysym) override;
  void pointer_event(std::uint8_t button_mask, int x, int y) override;
  void release_all() override;

  void note_error(const XErrorEvent& e) {
    ++error_count_;
    if (error_count_ <= 20) {
      char text[128] = {};
      XGetErrorText(dpy_, e.error_code, text, sizeof text);
      log::warn("desktop.x11.error", {{"error", text},
                                      {"request", static_cast<int>(e.request_code)},
                                      {"minor", static_cast<int>(e.minor_code)}});
    }
  }
  void note_lost() {
    if (!lost_) log::error("desktop.x11.lost", {{"display", name_}});
    lost_ = true;
  }

 private:
  void process_events();
  bool changed() const {
    return started_ && (full_pending_ || damage_pending_ || cursor_pending_ || geometry_pending_);
  }
  bool refresh_geometry();
  bool create_shm();
  void destroy_shm();
  bool read_area(const Rect& r, rfb::Framebuffer& dst);
  KeyCode bind(KeySym keysym);
  void restore_bindings();
  void fake_key(KeyCode keycode, bool down) {
    XTestFakeKeyEvent(dpy_, keycode, down ? True : False, CurrentTime);
  }

  // Constant after init().
  Display* const dpy_;
  X11Options options_;
  int screen_ = 0;
  Window root_ = 0;
  Visual* visual_ = nullptr;
  int depth_ = 0;
  bool have_shm_ = false;
  bool have_damage_ = false;  // DAMAGE and XFixes 2 (for the region it reports into)
  bool have_fixes_ = false;   // XFixes cursor images
  bool have_xtest_ = false;
  int damage_event_ = -1;
  int fixes_event_ = -1;
  int xkb_event_ = -1;
  std::string name_;

  int width_ = 0;
  int height_ = 0;
  bool lost_ = false;
  int error_count_ = 0;

  // Capture, between start() and stop().
  bool started_ = false;
  bool shm_ok_ = false;
  XImage* shm_image_ = nullptr;
  XShmSegmentInfo shm_info_{};
  Damage damage_ = 0;
  XserverRegion region_ = 0;
  bool full_pending_ = false;
  bool damage_pending_ = false;
  bool cursor_pending_ = false;
  bool geometry_pending_ = false;
  Clock::time_point last_grab_{};
  rfb::Framebuffer previous_;  // tile compare: the screen at the previous grab
  rfb::Framebuffer current_;   // tile compare: the screen now

  // Input.
  x11::Keymap keymap_;
  bool keymap_dirty_ = true;
  std::map<std::uint32_t, KeyCode> pressed_;  // keysym → the key it was pressed on
  struct Binding {
    KeySym keysym;
    KeyCode keycode;
    std::uint64_t last_use;
  };
  std::vector<Binding> bindings_;  // keysyms bound to spare keycodes, until stop()
  std::uint64_t use_clock_ = 0;
  std::uint8_t buttons_ = 0;
};

int on_x_error(Display* dpy, XErrorEvent* e) {
  if (X11Desktop* d = registered(dpy)) {
    d->note_error(*e);
    return 0;
  }
  return g_previous_error_handler ? g_previous_error_handler(dpy, e) : 0;
}

int on_x_io_error(Display* dpy) {
  if (X11Desktop* d = registered(dpy)) {
    d->note_lost();
    return 0;
  }
  return g_previous_io_handler ? g_previous_io_handler(dpy) : 0;
}

// Returning (instead of exiting, Xlib's default) leaves the connection dead but usable: every
// later call on it fails at once.
void on_x_io_exit(Display*, void* desktop) {
  static_cast<X11Desktop*>(desktop)->note_lost();
}

Status X11Desktop::init() {
  screen_ = DefaultScreen(dpy_);
  root_ = RootWindow(dpy_, screen_);
  visual_ = DefaultVisual(dpy_, screen_);
  depth_ = DefaultDepth(dpy_, screen_);
  int bpp = 0;
  int n = 0;
  if (XPixmapFormatValues* f = XListPixmapFormats(dpy_, &n)) {
    for (int i = 0; i < n; ++i)
      if (f[i].depth == depth_) bpp = f[i].bits_per_pixel;
    XFree(f);
  }
  if (visual_->c_class != TrueColor || (depth_ != 24 && depth_ != 30 && depth_ != 32) ||
      (bpp != 24 && bpp != 32))
    return make_error(Errc::invalid, "unsupportedVisual",
                      "the X screen is not 24- or 32-bit TrueColor (depth " +
                          std::to_string(depth_) + ", " + std::to_string(bpp) +
                          " bits per pixel); start the X server with 24-bit colour");

  int major = 0, minor = 0, event = 0, error = 0;
  Bool pixmaps = False;
  have_shm_ = options_.use_shm && XShmQueryVersion(dpy_, &major, &minor, &pixmaps);
  bool fixes2 = false;
  if (XFixesQueryExtension(dpy_, &event, &error) && XFixesQueryVersion(dpy_, &major, &minor)) {
    have_fixes_ = true;
    fixes_event_ = event;
    fixes2 = major >= 2;
  }
  if (options_.use_damage && fixes2 && XDamageQueryExtension(dpy_, &event, &error) &&
      XDamageQueryVersion(dpy_, &major, &minor)) {
    have_damage_ = true;
    damage_event_ = event;
  }
  have_xtest_ = XTestQueryExtension(dpy_, &event, &error, &major, &minor);
  if (have_xtest_) XTestGrabControl(dpy_, True);  // input still works while a client grabs
  int opcode = 0;
  major = XkbMajorVersion;
  minor = XkbMinorVersion;
  if (XkbQueryExtension(dpy_, &opcode, &event, &error, &major, &minor)) {
    xkb_event_ = event;
    unsigned mask = XkbMapNotifyMask | XkbNewKeyboardNotifyMask;
    XkbSelectEvents(dpy_, XkbUseCoreKbd, mask, mask);
  }
  XSelectInput(dpy_, root_, StructureNotifyMask);  // ConfigureNotify when the screen resizes
  if (!refresh_geometry()) return display_lost();

  std::string user = "user";
  if (const passwd* pw = ::getpwuid(::getuid())) user = pw->pw_name;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  name_ = user + "@" + host + " (" + DisplayString(dpy_) + ")";
  log::info("desktop.x11.open", {{"display", DisplayString(dpy_)},
                                 {"width", width_},
                                 {"height", height_},
                                 {"shm", have_shm_},
                                 {"damage", have_damage_},
                                 {"xfixes", have_fixes_},
                                 {"xtest", have_xtest_},
                                 {"xkb", xkb_event_ >= 0}});
  if (!have_xtest_) log::warn("desktop.x11.no_xtest", {{"effect", "input is ignored"}});
  return {};
}

bool X11Desktop::refresh_geometry() {
  if (lost_) return false;
  Window root_return = 0;
  int x = 0, y = 0;
  unsigned w = 0, h = 0, border = 0, depth = 0;
  if (!XGetGeometry(dpy_, root_, &root_return, &x, &y, &w, &h, &border, &depth) || lost_)
    return false;
  int nw = std::min<int>(static_cast<int>(w), rfb::Framebuffer::kMaxSide);
  int nh = std::min<int>(static_cast<int>(h), rfb::Framebuffer::kMaxSide);
  if (nw == width_ && nh == height_) return true;
  width_ = nw;
  height_ = nh;
  if (started_) {
    full_pending_ = true;
    if (shm_ok_) {
      destroy_shm();
      shm_ok_ = create_shm();
    }
  }
  return true;
}

bool X11Desktop::create_shm() {
  shm_image_ =
      XShmCreateImage(dpy_, visual_, static_cast<unsigned>(depth_), ZPixmap, nullptr, &shm_info_,
                      static_cast<unsigned>(width_), static_cast<unsigned>(height_));
  if (!shm_image_) return false;
  std::size_t size = static_cast<std::size_t>(shm_image_->bytes_per_line) * shm_image_->height;
  shm_info_.shmid = ::shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
  if (shm_info_.shmid < 0) {
    log::warn("desktop.x11.shm_unavailable", {{"error", std::strerror(errno)}});
    XDestroyImage(shm_image_);
    shm_image_ = nullptr;
    return false;
  }
  void* addr = ::shmat(shm_info_.shmid, nullptr, 0);
  if (addr == reinterpret_cast<void*>(-1)) {
    log::warn("desktop.x11.shm_unavailable", {{"error", std::strerror(errno)}});
    ::shmctl(shm_info_.shmid, IPC_RMID, nullptr);
    XDestroyImage(shm_image_);
    shm_image_ = nullptr;
    return false;
  }
  shm_info_.shmaddr = shm_image_->data = static_cast<char*>(addr);
  shm_info_.readOnly = False;
  int errors = error_count_;
  XShmAttach(dpy_, &shm_info_);
  XSync(dpy_, False);
  // Marked for removal now: the kernel frees it once both sides have detached, even if this
  // process dies.
  ::shmctl(shm_info_.shmid, IPC_RMID, nullptr);
  if (error_count_ != errors || lost_) {
    // E.g. a remote display: the server cannot see this machine's shared memory.
    log::info("desktop.x11.shm_fallback", {{"reason", "XShmAttach failed"}});
    ::shmdt(addr);
    XDestroyImage(shm_image_);
    shm_image_ = nullptr;
    return false;
  }
  return true;
}

void X11Desktop::destroy_shm() {
  if (!shm_image_) return;
  if (!lost_) {
    XShmDetach(dpy_, &shm_info_);
    XSync(dpy_, False);
  }
  ::shmdt(shm_info_.shmaddr);
  XDestroyImage(shm_image_);  // the header only: the pixels were the segment's
  shm_image_ = nullptr;
  shm_info_ = {};
}

Status X11Desktop::start() {
  if (lost_) return display_lost();
  if (started_) return {};
  process_events();
  if (!refresh_geometry()) return display_lost();
  shm_ok_ = have_shm_ && create_shm();
  if (have_damage_) {
    damage_ = XDamageCreate(dpy_, root_, XDamageReportNonEmpty);
    region_ = XFixesCreateRegion(dpy_, nullptr, 0);
  }
  if (have_fixes_) XFixesSelectCursorInput(dpy_, root_, XFixesDisplayCursorNotifyMask);
  XSync(dpy_, False);
  if (lost_) return display_lost();
  started_ = true;
  full_pending_ = true;
  cursor_pending_ = true;
  damage_pending_ = false;
  geometry_pending_ = false;
  log::info("desktop.x11.start",
            {{"shm", shm_ok_}, {"damage", damage_ != 0}, {"width", width_}, {"height", height_}});
  return {};
}

void X11Desktop::stop() {
  restore_bindings();
  if (!started_) return;
  started_ = false;
  if (!lost_) {
    if (damage_) XDamageDestroy(dpy_, damage_);
    if (region_) XFixesDestroyRegion(dpy_, region_);
    if (have_fixes_) XFixesSelectCursorInput(dpy_, root_, 0);
  }
  damage_ = 0;
  region_ = 0;
  destroy_shm();
  shm_ok_ = false;
  previous_ = rfb::Framebuffer();
  current_ = rfb::Framebuffer();
  if (!lost_) XSync(dpy_, False);
}

void X11Desktop::process_events() {
  while (!lost_ && XPending(dpy_) > 0) {
    XEvent e;
    XNextEvent(dpy_, &e);
    if (have_damage_ && e.type == damage_event_ + XDamageNotify) {
      damage_pending_ = true;
    } else if (have_fixes_ && e.type == fixes_event_ + XFixesCursorNotify) {
      cursor_pending_ = true;
    } else if (e.type == ConfigureNotify && e.xconfigure.window == root_) {
      geometry_pending_ = true;
    } else if (e.type == MappingNotify) {
      XRefreshKeyboardMapping(&e.xmapping);
      keymap_dirty_ = true;
    } else if (xkb_event_ >= 0 && e.type == xkb_event_) {
      keymap_dirty_ = true;
    }
  }
}

bool X11Desktop::wait_for_change(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    process_events();
    if (lost_ || changed()) return true;
    auto now = Clock::now();
    auto until = deadline;
    if (started_ && !damage_) {
      if (now - last_grab_ >= kTilePollInterval) return true;
      until = std::min(deadline, last_grab_ + kTilePollInterval);
    }
    if (now >= until) return false;
    XFlush(dpy_);
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    pollfd p{ConnectionNumber(dpy_), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno != EINTR) return true;
  }
}

bool X11Desktop::read_area(const Rect& r, rfb::Framebuffer& dst) {
  if (shm_ok_) {
    // A header over the start of the segment, sized to the rectangle: the server writes the
    // rows tightly (32-bit scanline pad) at the image's data offset.
    XImage sub = *shm_image_;
    sub.width = r.w;
    sub.height = r.h;
    sub.bytes_per_line = (r.w * sub.bits_per_pixel + 31) / 32 * 4;
    int errors = error_count_;
    if (XShmGetImage(dpy_, root_, &sub, r.x, r.y, AllPlanes) && error_count_ == errors) {
      convert(sub, 0, 0, r.w, r.h, dst, r.x, r.y);
      return true;
    }
    if (lost_) return false;
    log::warn("desktop.x11.shm_fallback", {{"reason", "XShmGetImage failed"}});
    destroy_shm();
    shm_ok_ = false;
  }
  XImage* img = XGetImage(dpy_, root_, r.x, r.y, static_cast<unsigned>(r.w),
                          static_cast<unsigned>(r.h), AllPlanes, ZPixmap);
  if (!img) return false;
  convert(*img, 0, 0, r.w, r.h, dst, r.x, r.y);
  XDestroyImage(img);
  return true;
}

Result<std::vector<Rect>> X11Desktop::grab(rfb::Framebuffer& fb) {
  REACH_CHECK(started_ || lost_, "Desktop::grab() before start()");
  process_events();
  geometry_pending_ = false;
  if (!refresh_geometry()) return display_lost();
  last_grab_ = Clock::now();
  const Rect screen{0, 0, width_, height_};
  if (fb.width() != width_ || fb.height() != height_) {
    fb = rfb::Framebuffer(width_, height_);
    full_pending_ = true;
  }

  if (full_pending_) {
    damage_pending_ = false;
    if (damage_) XDamageSubtract(dpy_, damage_, None, None);
    if (!read_area(screen, fb)) {
      if (lost_) return display_lost();
      // Most likely resized between the geometry query and the read: try again next time.
      geometry_pending_ = true;
      return std::vector<Rect>{};
    }
    if (!damage_) previous_ = fb;
    full_pending_ = false;
    return std::vector<Rect>{screen};
  }

  std::vector<Rect> rects;
  if (damage_) {
    damage_pending_ = false;
    // Subtract before reading: whatever is drawn from now on is reported again next time.
    XDamageSubtract(dpy_, damage_, None, region_);
    int n = 0;
    XRectangle* xr = XFixesFetchRegion(dpy_, region_, &n);
    if (lost_) return display_lost();
    Rect bbox;
    for (int i = 0; i < n; ++i) {
      Rect r = Rect{xr[i].x, xr[i].y, xr[i].width, xr[i].height}.intersect(screen);
      if (r.empty()) continue;
      rects.push_back(r);
      bbox = bbox.united(r);
    }
    if (xr) XFree(xr);
    if (rects.empty()) return rects;
    bool ok = true;
    if (rects.size() > kMaxSeparateReads) {
      ok = read_area(bbox, fb);  // pixels between the rectangles are unchanged or newer
    } else {
      for (const Rect& r : rects) ok = ok && read_area(r, fb);
    }
    if (!ok) {
      if (lost_) return display_lost();
      full_pending_ = true;
      return std::vector<Rect>{};
    }
    return rects;
  }

  // No DAMAGE: read everything and compare tiles with the previous frame.
  if (current_.width() != width_ || current_.height() != height_)
    current_ = rfb::Framebuffer(width_, height_);
  if (previous_.width() != width_ || previous_.height() != height_) previous_ = fb;
  if (!read_area(screen, current_)) {
    if (lost_) return display_lost();
    full_pending_ = true;
    return std::vector<Rect>{};
  }
  rects = changed_tiles(current_, previous_, options_.tile_compare_size);
  for (const Rect& r : rects) copy_rect(current_, r, fb);
  std::swap(previous_, current_);
  return rects;
}

Result<std::vector<Rect>> X11Desktop::grab_small(rfb::Framebuffer& fb, std::int64_t max_pixels) {
  REACH_CHECK(started_ || lost_, "Desktop::grab_small() before start()");
  process_events();
  if (lost_) return display_lost();
  std::vector<Rect> small;
  if (!damage_ || full_pending_ || geometry_pending_ || !damage_pending_ || fb.width() != width_ ||
      fb.height() != height_)
    return small;
  damage_pending_ = false;
  XDamageSubtract(dpy_, damage_, None, region_);
  int n = 0;
  XRectangle* xr = XFixesFetchRegion(dpy_, region_, &n);
  if (lost_) {
    if (xr) XFree(xr);
    return display_lost();
  }
  // The rest goes back into the damage (reported again, for the next grab()).
  std::vector<XRectangle> rest;
  std::int64_t budget = max_pixels;
  const Rect screen{0, 0, width_, height_};
  for (int i = 0; i < n; ++i) {
    Rect r = Rect{xr[i].x, xr[i].y, xr[i].width, xr[i].height}.intersect(screen);
    if (r.empty()) continue;
    const std::int64_t area = std::int64_t{r.w} * r.h;
    if (area <= budget && read_area(r, fb)) {
      small.push_back(r);
      budget -= area;
    } else {
      rest.push_back(xr[i]);
    }
  }
  if (xr) XFree(xr);
  if (lost_) return display_lost();
  if (!rest.empty()) {
    XserverRegion back = XFixesCreateRegion(dpy_, rest.data(), static_cast<int>(rest.size()));
    XDamageAdd(dpy_, root_, back);
    XFixesDestroyRegion(dpy_, back);
    XFlush(dpy_);
    damage_pending_ = true;
  }
  return small;
}

std::optional<rfb::Cursor> X11Desktop::cursor_if_changed() {
  if (!started_ || !have_fixes_ || lost_) return std::nullopt;
  process_events();
  if (!cursor_pending_) return std::nullopt;
  cursor_pending_ = false;
  XFixesCursorImage* ci = XFixesGetCursorImage(dpy_);
  if (!ci) return std::nullopt;
  rfb::Cursor c;
  c.width = ci->width;
  c.height = ci->height;
  c.hot_x = std::min<int>(ci->xhot, std::max(0, c.width - 1));
  c.hot_y = std::min<int>(ci->yhot, std::max(0, c.height - 1));
  c.argb.resize(static_cast<std::size_t>(c.width) * c.height);
  for (std::size_t i = 0; i < c.argb.size(); ++i) {
    // XFixes gives premultiplied ARGB in the low 32 bits of each unsigned long; RFB wants the
    // colour itself.
    auto p = static_cast<std::uint32_t>(ci->pixels[i] & 0xffffffffu);
    std::uint32_t a = p >> 24;
    if (a != 0 && a != 255) {
      std::uint32_t r = std::min<std::uint32_t>(255, ((p >> 16) & 0xff) * 255 / a);
      std::uint32_t g = std::min<std::uint32_t>(255, ((p >> 8) & 0xff) * 255 / a);
      std::uint32_t b = std::min<std::uint32_t>(255, (p & 0xff) * 255 / a);
      p = (a << 24) | (r << 16) | (g << 8) | b;
    }
    c.argb[i] = p;
  }
  XFree(ci);
  return c;
}

KeyCode X11Desktop::bind(KeySym keysym) {
  std::vector<KeyCode> spare = keymap_.unused_keycodes();
  std::erase_if(spare, [this](KeyCode kc) {
    return std::any_of(bindings_.begin(), bindings_.end(),
                       [kc](const Binding& b) { return b.keycode == kc; });
  });
  KeyCode kc = 0;
  if (!spare.empty()) {
    kc = spare.back();  // high keycodes are the least likely to exist on a real keyboard
  } else {
    // All spare keys are bound: reuse the least recently used binding that is not held.
    auto held = [this](KeyCode k) {
      return std::any_of(pressed_.begin(), pressed_.end(),
                         [k](const auto& p) { return p.second == k; });
    };
    auto lru = bindings_.end();
    for (auto it = bindings_.begin(); it != bindings_.end(); ++it)
      if (!held(it->keycode) && (lru == bindings_.end() || it->last_use < lru->last_use)) lru = it;
    if (lru == bindings_.end()) return 0;
    kc = lru->keycode;
    bindings_.erase(lru);
  }
  KeySym sym = keysym;
  XChangeKeyboardMapping(dpy_, kc, 1, &sym, 1);
  bindings_.push_back(Binding{keysym, kc, ++use_clock_});
  keymap_dirty_ = true;
  log::debug("desktop.x11.bind", {{"keysym", keysym}, {"keycode", static_cast<int>(kc)}});
  return kc;
}

void X11Desktop::restore_bindings() {
  if (bindings_.empty() || lost_) {
    bindings_.clear();
    return;
  }
  for (const Binding& b : bindings_) {
    for (auto it = pressed_.begin(); it != pressed_.end();) {
      if (it->second == b.keycode) {
        fake_key(b.keycode, false);
        it = pressed_.erase(it);
      } else {
        ++it;
      }
    }
    KeySym none = NoSymbol;
    XChangeKeyboardMapping(dpy_, b.keycode, 1, &none, 1);
  }
  bindings_.clear();
  keymap_dirty_ = true;
  XSync(dpy_, False);
}

void X11Desktop::key_event(bool down, std::uint32_t keysym) {
  if (lost_ || !have_xtest_) return;
  process_events();
  if (keymap_dirty_) {
    keymap_.reload(dpy_);
    keymap_dirty_ = false;
  }
  XkbStateRec state{};
  XkbGetState(dpy_, XkbUseCoreKbd, &state);
  const unsigned mods = state.mods;
  const int group = state.group;

  auto bound = std::find_if(bindings_.begin(), bindings_.end(),
                            [keysym](const Binding& b) { return b.keysym == keysym; });
  std::optional<x11::KeyPlan> plan;
  if (bound != bindings_.end()) {
    bound->last_use = ++use_clock_;
    plan = x11::KeyPlan{bound->keycode, 0, 0};  // bound on a one-level key: no modifiers
  } else {
    plan = keymap_.plan(keysym, mods, group);
  }

  if (!down) {
    auto it = pressed_.find(keysym);
    KeyCode kc = 0;
    if (it != pressed_.end()) {
      kc = it->second;
      pressed_.erase(it);
    } else if (plan) {
      // Released under another keysym than it was pressed with (Shift let go first: 'a' for
      // 'A'): the same key, if this object holds it.
      kc = plan->keycode;
      bool held = std::erase_if(pressed_, [kc](const auto& p) { return p.second == kc; }) > 0;
      if (!held) return;
    } else {
      return;
    }
    if (std::none_of(pressed_.begin(), pressed_.end(),
                     [kc](const auto& p) { return p.second == kc; }))
      fake_key(kc, false);
    XFlush(dpy_);
    return;
  }

  if (!plan) {
    KeyCode kc = bind(static_cast<KeySym>(keysym));
    if (kc == 0) {
      log::warn("desktop.x11.key_dropped", {{"keysym", keysym}, {"reason", "no spare keycode"}});
      return;
    }
    plan = x11::KeyPlan{kc, 0, 0};
  }
  // A modifier key itself is pressed as it is; other keys get the modifiers their level needs
  // for the duration of the press.
  unsigned add = keymap_.is_modifier(plan->keycode) ? 0 : plan->add_mods;
  unsigned remove = keymap_.is_modifier(plan->keycode) ? 0 : plan->remove_mods;
  std::vector<KeyCode> lifted, added;
  if (remove) {
    char keys[32] = {};
    XQueryKeymap(dpy_, keys);
    for (unsigned bit = 1; bit <= Mod5Mask; bit <<= 1) {
      if (!(remove & bit)) continue;
      for (KeyCode k : keymap_.modifier_keys(bit))
        if (keys[k / 8] & (1 << (k % 8))) {
          fake_key(k, false);
          lifted.push_back(k);
        }
    }
  }
  for (unsigned bit = 1; bit <= Mod5Mask; bit <<= 1) {
    if (!(add & bit)) continue;
    auto keys = keymap_.modifier_keys(bit);
    if (keys.empty()) continue;
    fake_key(keys.front(), true);
    added.push_back(keys.front());
  }
  fake_key(plan->keycode, true);
  pressed_[keysym] = plan->keycode;
  for (auto it = added.rbegin(); it != added.rend(); ++it) fake_key(*it, false);
  for (KeyCode k : lifted) fake_key(k, true);
  XFlush(dpy_);
}

void X11Desktop::pointer_event(std::uint8_t button_mask, int x, int y) {
  if (lost_ || !have_xtest_) return;
  x = std::clamp(x, 0, std::max(0, width_ - 1));
  y = std::clamp(y, 0, std::max(0, height_ - 1));
  XTestFakeMotionEvent(dpy_, screen_, x, y, CurrentTime);
  // Bit i is button i + 1: left, middle, right, wheel up/down (4/5), wheel left/right (6/7).
  for (int i = 0; i < 8; ++i) {
    std::uint8_t bit = static_cast<std::uint8_t>(1u << i);
    if ((button_mask ^ buttons_) & bit)
      XTestFakeButtonEvent(dpy_, static_cast<unsigned>(i + 1), (button_mask & bit) ? True : False,
                           CurrentTime);
  }
  buttons_ = button_mask;
  XFlush(dpy_);
}

void X11Desktop::release_all() {
  if (lost_ || !have_xtest_) {
    pressed_.clear();
    buttons_ = 0;
    return;
  }
  std::vector<KeyCode> keys;
  for (const auto& [sym, kc] : pressed_)
    if (std::find(keys.begin(), keys.end(), kc) == keys.end()) keys.push_back(kc);
  for (KeyCode kc : keys) fake_key(kc, false);
  pressed_.clear();
  for (int i = 0; i < 8; ++i)
    if (buttons_ & (1u << i))
      XTestFakeButtonEvent(dpy_, static_cast<unsigned>(i + 1), False, CurrentTime);
  buttons_ = 0;
  XSync(dpy_, False);
}

}  // namespace

Result<std::unique_ptr<Desktop>> open_x11(const X11Options& options) {
  const char* name = options.display.empty() ? nullptr : options.display.c_str();
  Display* dpy = XOpenDisplay(name);
  if (!dpy) {
    std::string shown = name ? options.display : std::string(XDisplayName(nullptr));
    return make_error(Errc::unavailable, "displayUnavailable",
                      "cannot open X display '" + shown +
                          "' (is it running, and are DISPLAY and XAUTHORITY right?)");
  }
  auto desk = std::make_unique<X11Desktop>(dpy, options);
  if (auto st = desk->init(); !st) return st.error();
  return std::unique_ptr<Desktop>(std::move(desk));
}

}  // namespace reach::desktop
