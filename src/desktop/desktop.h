// The device's desktop as the RFB session sees it (the seam TigerVNC calls SDesktop): capture of
// changed regions into a Framebuffer, the cursor image, and input injection. The X11
// implementation (x11_desktop.cpp) sits behind open_x11(); tests and the agent depend on this
// header only.
//
// Capture contract: nothing is read from the display before start(); stop() ends capture (and
// releases shared memory) while the object stays usable for another start(). grab() copies what
// changed since the previous grab() into `fb` and returns those rectangles (clipped, possibly
// overlapping); the first grab() after start() copies the whole screen and returns its bounds.
// When the screen size changed, grab() resizes `fb` and returns its whole bounds.
//
// Thread-safety: none. One thread (the session's) calls every method.
#pragma once

#include "common/result.h"
#include "rfb/encoders.h"
#include "rfb/framebuffer.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace reach::desktop {

class Desktop {
 public:
  virtual ~Desktop() = default;

  // The current screen size.
  virtual int width() const = 0;
  virtual int height() const = 0;
  // E.g. "alice@host (:0)", for ServerInit's desktop name.
  virtual std::string name() const = 0;

  virtual Status start() = 0;
  virtual void stop() = 0;

  // Waits up to `timeout` for the display to report a change (damage, cursor change, resize).
  // Returns true when something may have changed. Returns at once when it has already.
  virtual bool wait_for_change(std::chrono::milliseconds timeout) = 0;
  // See the capture contract above. Errors: the display went away.
  virtual Result<std::vector<rfb::Rect>> grab(rfb::Framebuffer& fb) = 0;
  // Like grab(), but only small changes (a typed key's echo, a caret): changed rectangles of at
  // most `max_pixels` together, taken in the order reported; the rest stays pending for the next
  // grab(). None when the whole screen is due (the first grab, a resize) or changes are found
  // only by comparing frames (no DAMAGE). Errors: the display went away.
  virtual Result<std::vector<rfb::Rect>> grab_small(rfb::Framebuffer& fb,
                                                    std::int64_t max_pixels) = 0;
  // The cursor image when it changed since the previous call (first call after start(): always).
  virtual std::optional<rfb::Cursor> cursor_if_changed() = 0;

  // Input from the supporter. Keysyms as in RFB/X11; keys missing from the keymap are mapped
  // temporarily (to a spare keycode, kept until stop() so that applications reading the keymap
  // late still see it); shifted symbols press Shift as needed. Coordinates are clipped to the
  // screen. Input needs no start().
  // button_mask is RFB's: bit 0 left, 1 middle, 2 right, 3/4 wheel up/down.
  virtual void key_event(bool down, std::uint32_t keysym) = 0;
  virtual void pointer_event(std::uint8_t button_mask, int x, int y) = 0;
  // Releases every key and button pressed through this object (a session that ends mid-press
  // must not leave keys held down on the device).
  virtual void release_all() = 0;
};

struct X11Options {
  std::string display;         // e.g. ":0"; empty: $DISPLAY
  bool use_shm = true;         // MIT-SHM when the server offers it
  bool use_damage = true;      // XDamage when offered; else a tile compare
  int tile_compare_size = 32;  // pixels, for the compare fall-back
};

// Opens the display. Errors: "displayUnavailable" (cannot connect), "unsupportedVisual" (not a
// 24/32-bit TrueColor visual).
Result<std::unique_ptr<Desktop>> open_x11(const X11Options& options);

}  // namespace reach::desktop
