// Rectangles and the server-side framebuffer the encoders read from. Value types with no
// synchronisation: a Framebuffer is owned by one thread (the capture side hands a finished frame
// to the connection's thread; it is never written while an encoder reads it).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/result.h"

namespace reach::rfb {

// A rectangle in framebuffer pixels; empty when w or h is 0. Coordinates fit RFB's U16 fields
// once clipped to a framebuffer (which is at most 65535 on a side).
struct Rect {
  int x = 0;
  int y = 0;
  int w = 0;
  int h = 0;

  bool empty() const { return w <= 0 || h <= 0; }
  int right() const { return x + w; }
  int bottom() const { return y + h; }
  bool operator==(const Rect&) const = default;

  Rect intersect(const Rect& o) const {
    int l = std::max(x, o.x), t = std::max(y, o.y);
    int r = std::min(right(), o.right()), b = std::min(bottom(), o.bottom());
    if (r <= l || b <= t) return Rect{};
    return Rect{l, t, r - l, b - t};
  }
  bool contains(const Rect& o) const {
    return o.x >= x && o.y >= y && o.right() <= right() && o.bottom() <= bottom();
  }
  Rect united(const Rect& o) const {
    if (empty()) return o;
    if (o.empty()) return *this;
    int l = std::min(x, o.x), t = std::min(y, o.y);
    return Rect{l, t, std::max(right(), o.right()) - l, std::max(bottom(), o.bottom()) - t};
  }
};

// The server's native pixel: 0x00RRGGBB in a host uint32 (what X11 gives for 24/32-bit visuals on
// little-endian machines). The top byte is ignored.
using Pixel = uint32_t;

// An owned framebuffer, `stride` pixels per row (stride >= width).
class Framebuffer {
 public:
  static constexpr int kMaxSide = 65535;  // RFB carries sizes in U16

  Framebuffer() = default;
  Framebuffer(int width, int height, Pixel fill = 0)
      : width_(width),
        height_(height),
        stride_(width),
        pixels_(static_cast<size_t>(width) * height, fill) {
    REACH_CHECK(width >= 0 && height >= 0 && width <= kMaxSide && height <= kMaxSide,
                "framebuffer size out of range");
  }

  int width() const { return width_; }
  int height() const { return height_; }
  int stride() const { return stride_; }
  Rect bounds() const { return Rect{0, 0, width_, height_}; }

  Pixel at(int x, int y) const { return pixels_[static_cast<size_t>(y) * stride_ + x]; }
  Pixel& at(int x, int y) { return pixels_[static_cast<size_t>(y) * stride_ + x]; }
  const Pixel* row(int y) const { return pixels_.data() + static_cast<size_t>(y) * stride_; }
  Pixel* row(int y) { return pixels_.data() + static_cast<size_t>(y) * stride_; }

  void fill(const Rect& r, Pixel p) {
    Rect c = r.intersect(bounds());
    for (int y = c.y; y < c.bottom(); ++y) std::fill(row(y) + c.x, row(y) + c.right(), p);
  }

 private:
  int width_ = 0;
  int height_ = 0;
  int stride_ = 0;
  std::vector<Pixel> pixels_;
};

}  // namespace reach::rfb
