#include "rfb/encoders.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "rfb/wire.h"

namespace reach::rfb {
namespace {

constexpr int kTileSide = 64;  // ZRLE tiles (RFC 6143 §7.7.6)
constexpr int kMaxPalette = 127;

using wire::put_u16;
using wire::put_u32;

void check_inside(const Framebuffer& fb, const Rect& r) {
  REACH_CHECK(r.x >= 0 && r.y >= 0 && r.w >= 0 && r.h >= 0 && fb.bounds().contains(r),
              "rectangle outside the framebuffer");
}

// Bytes of a ZRLE run length: (length - 1) as 255s followed by the remainder.
size_t run_length_bytes(size_t length) {
  return (length - 1) / 255 + 1;
}
void put_run_length(std::string& out, size_t length) {
  size_t v = length - 1;
  for (; v >= 255; v -= 255) out.push_back(static_cast<char>(255));
  out.push_back(static_cast<char>(v));
}

// A palette of up to 127 client pixel values with an open-addressed index (256 slots, so the
// table never fills and lookups stay short).
class Palette {
 public:
  Palette() { slots_.fill(-1); }
  int size() const { return size_; }
  uint32_t operator[](int i) const { return colours_[i]; }
  // Index of `v`, inserting it; -1 when the palette is full and `v` is not in it.
  int insert(uint32_t v) {
    size_t h = slot_of(v);
    while (slots_[h] >= 0) {
      if (colours_[slots_[h]] == v) return slots_[h];
      h = (h + 1) & 255;
    }
    if (size_ == kMaxPalette) return -1;
    colours_[size_] = v;
    slots_[h] = static_cast<int16_t>(size_);
    return size_++;
  }
  int index_of(uint32_t v) const {
    for (size_t h = slot_of(v);; h = (h + 1) & 255) {
      REACH_CHECK(slots_[h] >= 0, "colour missing from the tile palette");
      if (colours_[slots_[h]] == v) return slots_[h];
    }
  }

 private:
  static size_t slot_of(uint32_t v) { return (v * 2654435761u) >> 24; }
  std::array<int16_t, 256> slots_;
  std::array<uint32_t, kMaxPalette> colours_{};
  int size_ = 0;
};

}  // namespace

void write_update_header(uint16_t rect_count, std::string& out) {
  out.push_back(0);  // FramebufferUpdate
  out.push_back(0);  // padding
  put_u16(out, rect_count);
}

void write_rect_header(const Rect& r, int32_t encoding_type, std::string& out) {
  REACH_CHECK(
      r.x >= 0 && r.y >= 0 && r.w >= 0 && r.h >= 0 && r.right() <= 65535 && r.bottom() <= 65535,
      "rectangle does not fit RFB's U16 fields");
  put_u16(out, r.x);
  put_u16(out, r.y);
  put_u16(out, r.w);
  put_u16(out, r.h);
  put_u32(out, static_cast<uint32_t>(encoding_type));
}

void encode_raw(const Framebuffer& fb, const Rect& r, const PixelConverter& pc, std::string& out) {
  check_inside(fb, r);
  write_rect_header(r, encoding::kRaw, out);
  const int bpp = pc.bytes_per_pixel();
  size_t at = out.size();
  out.resize(at + static_cast<size_t>(r.w) * r.h * bpp);
  auto* p = reinterpret_cast<unsigned char*>(out.data()) + at;
  for (int y = r.y; y < r.bottom(); ++y) {
    const Pixel* row = fb.row(y);
    for (int x = r.x; x < r.right(); ++x, p += bpp) pc.put(pc.value(row[x]), p);
  }
}

void encode_copy_rect(const Rect& dst, int src_x, int src_y, std::string& out) {
  REACH_CHECK(src_x >= 0 && src_y >= 0 && src_x <= 65535 && src_y <= 65535,
              "CopyRect source out of range");
  write_rect_header(dst, encoding::kCopyRect, out);
  put_u16(out, src_x);
  put_u16(out, src_y);
}

void encode_desktop_size(int width, int height, std::string& out) {
  write_rect_header(Rect{0, 0, width, height}, encoding::kDesktopSize, out);
}

void encode_cursor(const Cursor& c, const PixelConverter& pc, std::string& out) {
  REACH_CHECK(
      c.width >= 0 && c.height >= 0 && c.argb.size() == static_cast<size_t>(c.width) * c.height,
      "cursor pixels do not match its size");
  write_rect_header(Rect{c.hot_x, c.hot_y, c.width, c.height}, encoding::kCursor, out);
  for (uint32_t p : c.argb) pc.append(pc.value(p), out);
  const size_t row_bytes = (static_cast<size_t>(c.width) + 7) / 8;
  for (int y = 0; y < c.height; ++y) {
    size_t at = out.size();
    out.append(row_bytes, '\0');
    for (int x = 0; x < c.width; ++x) {
      if ((c.argb[static_cast<size_t>(y) * c.width + x] >> 24) >= 128)
        out[at + x / 8] = static_cast<char>(out[at + x / 8] | (0x80 >> (x % 8)));
    }
  }
}

struct ZrleEncoder::Stream {
  z_stream z{};
};

ZrleEncoder::ZrleEncoder(int zlib_level) : stream_(std::make_unique<Stream>()) {
  int rc = deflateInit(&stream_->z, zlib_level);
  REACH_CHECK(rc == Z_OK, "deflateInit failed");
}

ZrleEncoder::~ZrleEncoder() {
  deflateEnd(&stream_->z);
}

void ZrleEncoder::encode(const Framebuffer& fb, const Rect& r, const PixelConverter& pc,
                         std::string& out) {
  check_inside(fb, r);
  write_rect_header(r, encoding::kZrle, out);
  raw_.clear();
  for (int ty = r.y; ty < r.bottom(); ty += kTileSide) {
    for (int tx = r.x; tx < r.right(); tx += kTileSide) {
      encode_tile(
          fb,
          Rect{tx, ty, std::min(kTileSide, r.right() - tx), std::min(kTileSide, r.bottom() - ty)},
          pc);
    }
  }
  size_t length_at = out.size();
  put_u32(out, 0);
  deflate_into(out);
  uint32_t length = static_cast<uint32_t>(out.size() - length_at - 4);
  for (int i = 0; i < 4; ++i) out[length_at + i] = static_cast<char>(length >> (24 - 8 * i));
}

void ZrleEncoder::encode_tile(const Framebuffer& fb, const Rect& t, const PixelConverter& pc) {
  const size_t n = static_cast<size_t>(t.w) * t.h;
  values_.resize(n);
  size_t i = 0;
  for (int y = t.y; y < t.bottom(); ++y) {
    const Pixel* row = fb.row(y);
    for (int x = t.x; x < t.right(); ++x) values_[i++] = pc.value(row[x]);
  }

  // One pass: the palette (while it fits) and the uncompressed sizes of both RLE forms.
  Palette palette;
  bool palette_full = false;
  size_t runs_rle = 0, runs_prle = 0;
  const size_t cp = pc.bytes_per_cpixel();
  for (size_t s = 0; s < n;) {
    size_t e = s + 1;
    while (e < n && values_[e] == values_[s]) ++e;
    if (!palette_full && palette.insert(values_[s]) < 0) palette_full = true;
    size_t len = e - s;
    runs_rle += cp + run_length_bytes(len);
    runs_prle += len == 1 ? 1 : 1 + run_length_bytes(len);
    s = e;
  }
  const int colours = palette_full ? kMaxPalette + 1 : palette.size();
  unsigned char px[4];
  auto put_cpixel = [&](uint32_t v) {
    pc.put_cpixel(v, px);
    raw_.append(reinterpret_cast<const char*>(px), cp);
  };

  if (colours == 1) {
    raw_.push_back(1);  // solid
    put_cpixel(values_[0]);
    return;
  }
  enum Kind { kRawTile, kPacked, kPlainRle, kPaletteRle } best = kRawTile;
  size_t best_size = n * cp;
  const int index_bits = colours <= 2 ? 1 : colours <= 4 ? 2 : 4;
  if (colours <= 16) {
    size_t packed = colours * cp + static_cast<size_t>(t.h) * ((t.w * index_bits + 7) / 8);
    if (packed < best_size) best = kPacked, best_size = packed;
  }
  if (colours <= kMaxPalette && colours * cp + runs_prle < best_size)
    best = kPaletteRle, best_size = colours * cp + runs_prle;
  if (runs_rle < best_size) best = kPlainRle, best_size = runs_rle;

  switch (best) {
    case kRawTile:
      raw_.push_back(0);
      for (uint32_t v : values_) put_cpixel(v);
      return;
    case kPacked: {
      raw_.push_back(static_cast<char>(colours));
      for (int c = 0; c < colours; ++c) put_cpixel(palette[c]);
      for (int y = 0; y < t.h; ++y) {
        unsigned acc = 0;
        int bits = 0;
        for (int x = 0; x < t.w; ++x) {
          acc = (acc << index_bits) | palette.index_of(values_[static_cast<size_t>(y) * t.w + x]);
          bits += index_bits;
          if (bits == 8) raw_.push_back(static_cast<char>(acc)), acc = 0, bits = 0;
        }
        if (bits) raw_.push_back(static_cast<char>(acc << (8 - bits)));
      }
      return;
    }
    case kPlainRle:
    case kPaletteRle: {
      const bool use_palette = best == kPaletteRle;
      raw_.push_back(static_cast<char>(use_palette ? 128 + colours : 128));
      if (use_palette)
        for (int c = 0; c < colours; ++c) put_cpixel(palette[c]);
      for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && values_[e] == values_[s]) ++e;
        if (!use_palette) {
          put_cpixel(values_[s]);
          put_run_length(raw_, e - s);
        } else if (e - s == 1) {
          raw_.push_back(static_cast<char>(palette.index_of(values_[s])));
        } else {
          raw_.push_back(static_cast<char>(128 | palette.index_of(values_[s])));
          put_run_length(raw_, e - s);
        }
        s = e;
      }
      return;
    }
  }
}

void ZrleEncoder::deflate_into(std::string& out) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(raw_.data());
  z.avail_in = static_cast<uInt>(raw_.size());
  size_t chunk = deflateBound(&z, raw_.size()) + 64;
  do {
    size_t at = out.size();
    out.resize(at + chunk);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = static_cast<uInt>(chunk);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    REACH_CHECK(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed");
    out.resize(at + chunk - z.avail_out);
  } while (z.avail_out == 0);
  REACH_CHECK(z.avail_in == 0, "deflate left input behind");
}

}  // namespace reach::rfb
