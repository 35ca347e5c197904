// Private to desktop/: the X keyboard as XKB describes it, for turning an RFB keysym into "press
// this keycode with these modifiers". A snapshot: reload() after a MappingNotify/XkbMapNotify.
//
// Only the current group is searched; a keysym that needs another group counts as missing (the
// caller binds it to a spare keycode instead of switching groups under the user's feet).
//
// Thread-safety: none; the owning X11Desktop's thread only.
#pragma once

#include <X11/XKBlib.h>
#include <X11/Xlib.h>

#include <optional>
#include <vector>

namespace reach::desktop::x11 {

// How to produce a keysym: press `keycode` while the modifiers in `add_mods` are added to the
// current state and those in `remove_mods` are lifted (X modifier masks).
struct KeyPlan {
  KeyCode keycode = 0;
  unsigned add_mods = 0;
  unsigned remove_mods = 0;
};

class Keymap {
 public:
  Keymap() = default;
  ~Keymap();
  Keymap(const Keymap&) = delete;
  Keymap& operator=(const Keymap&) = delete;

  // Reads the XKB client map (types, symbols, modifier map). False when XKB is unavailable.
  bool reload(Display* dpy);
  bool loaded() const { return xkb_ != nullptr; }

  // The cheapest way to type `keysym` from modifier state `state` in `group`: a key on which it
  // sits at a level reachable by toggling only Shift and the level-3 modifier, fewest toggles
  // first. nullopt when no key in the group has it.
  std::optional<KeyPlan> plan(KeySym keysym, unsigned state, int group) const;

  // True when the key is bound to a modifier (Shift, Control, Lock, Mod1-5).
  bool is_modifier(KeyCode keycode) const;
  // The keys bound to modifier mask bit `mask` (e.g. ShiftMask), a plain shift key first
  // (Shift_L, ISO_Level3_Shift) before latches and locks.
  std::vector<KeyCode> modifier_keys(unsigned mask) const;
  // The modifier ISO_Level3_Shift sets (usually Mod5Mask); 0 when the keymap has none.
  unsigned level3_mask() const { return level3_mask_; }
  // Keycodes with no symbol in any group: free to bind temporarily.
  std::vector<KeyCode> unused_keycodes() const;

 private:
  int level_for(KeyCode keycode, int group, unsigned state) const;
  int effective_group(KeyCode keycode, int group) const;

  XkbDescPtr xkb_ = nullptr;
  unsigned level3_mask_ = 0;
};

}  // namespace reach::desktop::x11
