#include "desktop/keymap.h"

#include <X11/keysym.h>

#include <algorithm>
#include <bit>
#include <tuple>

namespace reach::desktop::x11 {

Keymap::~Keymap() {
  if (xkb_) XkbFreeKeyboard(xkb_, 0, True);
}

bool Keymap::reload(Display* dpy) {
  if (xkb_) XkbFreeKeyboard(xkb_, 0, True);
  xkb_ = XkbGetMap(dpy, XkbKeyTypesMask | XkbKeySymsMask | XkbModifierMapMask, XkbUseCoreKbd);
  level3_mask_ = 0;
  if (!xkb_ || !xkb_->map) return false;
  for (int kc = xkb_->min_key_code; kc <= xkb_->max_key_code; ++kc) {
    if (XkbKeyNumGroups(xkb_, kc) == 0 || XkbKeyGroupWidth(xkb_, kc, 0) == 0) continue;
    if (XkbKeySymEntry(xkb_, kc, 0, 0) == XK_ISO_Level3_Shift && xkb_->map->modmap[kc] != 0) {
      level3_mask_ = xkb_->map->modmap[kc];
      break;
    }
  }
  return true;
}

int Keymap::effective_group(KeyCode keycode, int group) const {
  int groups = XkbKeyNumGroups(xkb_, keycode);
  if (groups == 0) return -1;
  if (group < groups) return group;
  unsigned info = XkbKeyGroupInfo(xkb_, keycode);
  switch (XkbOutOfRangeGroupAction(info)) {
    case XkbClampIntoRange:
      return groups - 1;
    case XkbRedirectIntoRange: {
      int g = XkbOutOfRangeGroupNumber(info);
      return g < groups ? g : 0;
    }
    default:
      return group % groups;
  }
}

int Keymap::level_for(KeyCode keycode, int group, unsigned state) const {
  XkbKeyTypePtr type = XkbKeyKeyType(xkb_, keycode, group);
  unsigned masked = state & type->mods.mask;
  for (int i = 0; i < type->map_count; ++i) {
    const XkbKTMapEntryRec& e = type->map[i];
    if (e.active && e.mods.mask == masked) return e.level;
  }
  return 0;
}

std::optional<KeyPlan> Keymap::plan(KeySym keysym, unsigned state, int group) const {
  if (!xkb_ || keysym == NoSymbol) return std::nullopt;
  const unsigned toggles[] = {ShiftMask, level3_mask_};
  std::optional<KeyPlan> best;
  std::tuple<int, int, int> best_rank;  // (modifier changes, level, keycode): smallest wins
  for (int kc = xkb_->min_key_code; kc <= xkb_->max_key_code; ++kc) {
    int g = effective_group(static_cast<KeyCode>(kc), group);
    if (g < 0) continue;
    int width = XkbKeyGroupWidth(xkb_, kc, g);
    for (int level = 0; level < width; ++level) {
      if (XkbKeySymEntry(xkb_, kc, level, g) != keysym) continue;
      // Every combination of the two toggles (some may be the same bit or absent).
      for (unsigned combo = 0; combo < 4; ++combo) {
        unsigned want = state;
        for (int t = 0; t < 2; ++t) {
          if (toggles[t] == 0) continue;
          if (combo & (1u << t))
            want |= toggles[t];
          else
            want &= ~toggles[t];
        }
        if (level_for(static_cast<KeyCode>(kc), g, want) != level) continue;
        std::tuple<int, int, int> rank{std::popcount(want ^ state), level, kc};
        if (best && rank >= best_rank) continue;
        best_rank = rank;
        best = KeyPlan{static_cast<KeyCode>(kc), want & ~state, state & ~want};
      }
    }
  }
  return best;
}

bool Keymap::is_modifier(KeyCode keycode) const {
  if (!xkb_ || keycode < xkb_->min_key_code || keycode > xkb_->max_key_code) return false;
  return xkb_->map->modmap[keycode] != 0;
}

std::vector<KeyCode> Keymap::modifier_keys(unsigned mask) const {
  std::vector<std::pair<int, KeyCode>> found;  // (0 for a plain shift key, 1 otherwise)
  if (!xkb_) return {};
  for (int kc = xkb_->min_key_code; kc <= xkb_->max_key_code; ++kc) {
    if (!(xkb_->map->modmap[kc] & mask)) continue;
    KeySym s = XkbKeyNumGroups(xkb_, kc) && XkbKeyGroupWidth(xkb_, kc, 0)
                   ? XkbKeySymEntry(xkb_, kc, 0, 0)
                   : NoSymbol;
    bool plain = s == XK_Shift_L || s == XK_Shift_R || s == XK_ISO_Level3_Shift ||
                 s == XK_Control_L || s == XK_Control_R || s == XK_Alt_L || s == XK_Alt_R ||
                 s == XK_Meta_L || s == XK_Super_L;
    found.emplace_back(plain ? 0 : 1, static_cast<KeyCode>(kc));
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<KeyCode> out;
  for (const auto& f : found) out.push_back(f.second);
  return out;
}

std::vector<KeyCode> Keymap::unused_keycodes() const {
  std::vector<KeyCode> out;
  if (!xkb_) return out;
  for (int kc = xkb_->min_key_code; kc <= xkb_->max_key_code; ++kc) {
    bool any = false;
    int n = XkbKeyNumSyms(xkb_, kc);
    KeySym* syms = XkbKeySymsPtr(xkb_, kc);
    for (int i = 0; i < n && !any; ++i) any = syms[i] != NoSymbol;
    if (!any && xkb_->map->modmap[kc] == 0) out.push_back(static_cast<KeyCode>(kc));
  }
  return out;
}

}  // namespace reach::desktop::x11
