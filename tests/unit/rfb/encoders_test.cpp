#include "rfb/encoders.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <set>
#include <stdexcept>

#include "rfb/pixel_format.h"
#include "unit/rfb/test_support.h"

namespace reach::rfb {
namespace {

using testing::bytes;
using testing::set_encodings_msg;
using testing::set_pixel_format_msg;
using testing::u16;
using testing::u32;

// --- Pixel formats ----------------------------------------------------------------------------

TEST(RfbPixelFormat, WireFormRoundTrips) {
  for (const PixelFormat& pf : {native_pixel_format(), rgb565_format(true), bgr233_format()}) {
    std::string w;
    write_pixel_format(pf, w);
    ASSERT_EQ(w.size(), kPixelFormatBytes);
    EXPECT_EQ(parse_pixel_format(reinterpret_cast<const unsigned char*>(w.data())), pf);
    EXPECT_TRUE(validate(pf));
  }
}

TEST(RfbPixelFormat, OverlappingChannelsAreRefused) {
  PixelFormat pf = native_pixel_format();
  pf.green_shift = 12;
  auto st = validate(pf);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("overlaps"), std::string::npos);
  pf = native_pixel_format();
  pf.depth = 33;
  EXPECT_FALSE(validate(pf));
}

TEST(RfbPixelFormat, CpixelSizeFollowsRfc6143) {
  EXPECT_EQ(PixelConverter(native_pixel_format()).bytes_per_cpixel(), 3);  // LS 3 bytes
  PixelFormat upper = native_pixel_format();  // channels in the 3 most significant bytes
  upper.red_shift = 24;
  upper.green_shift = 16;
  upper.blue_shift = 8;
  PixelConverter up(upper);
  EXPECT_EQ(up.bytes_per_cpixel(), 3);
  unsigned char b[4] = {};
  up.put_cpixel(up.value(0x00112233), b);  // LE wire 00 33 22 11 -> the upper 3 bytes
  EXPECT_EQ(std::string(reinterpret_cast<char*>(b), 3), bytes({0x33, 0x22, 0x11}));
  PixelFormat deep = native_pixel_format();
  deep.depth = 32;
  EXPECT_EQ(PixelConverter(deep).bytes_per_cpixel(), 4);
  EXPECT_EQ(PixelConverter(rgb565_format(false)).bytes_per_cpixel(), 2);
  EXPECT_EQ(PixelConverter(bgr233_format()).bytes_per_cpixel(), 1);
}

// --- ZRLE, checked with an independent decoder --------------------------------------------------

// A minimal ZRLE client: one inflate stream for the connection, the tile grammar of RFC 6143
// §7.7.6, and CPIXELs read back into client pixel values.
class ZrleDecoder {
 public:
  ZrleDecoder(int cpixel_bytes, int bpp_bytes, bool big_endian)
      : cp_(cpixel_bytes), bpp_(bpp_bytes), be_(big_endian) {
    EXPECT_EQ(inflateInit(&z_), Z_OK);
  }
  ~ZrleDecoder() { inflateEnd(&z_); }

  // Decodes the ZRLE payload (U32 length + zlib data) of a w x h rectangle at `data[pos]`,
  // advancing pos; returns client pixel values row by row.
  std::vector<uint32_t> decode(const std::string& data, size_t& pos, int w, int h) {
    uint32_t len = take_u32(data, pos);
    if (pos + len > data.size()) throw std::runtime_error("zlib data truncated");
    std::string plain = inflate_all(data.substr(pos, len));
    pos += len;
    size_t p = 0;
    std::vector<uint32_t> out(static_cast<size_t>(w) * h);
    for (int ty = 0; ty < h; ty += 64) {
      for (int tx = 0; tx < w; tx += 64) {
        int tw = std::min(64, w - tx), th = std::min(64, h - ty);
        std::vector<uint32_t> tile = decode_tile(plain, p, tw, th);
        for (int y = 0; y < th; ++y)
          for (int x = 0; x < tw; ++x)
            out[static_cast<size_t>(ty + y) * w + tx + x] = tile[static_cast<size_t>(y) * tw + x];
      }
    }
    if (p != plain.size()) throw std::runtime_error("bytes left after the last tile");
    return out;
  }

  std::set<int> subencodings;

 private:
  static uint32_t take_u32(const std::string& d, size_t& pos) {
    if (pos + 4 > d.size()) throw std::runtime_error("short u32");
    auto* b = reinterpret_cast<const unsigned char*>(d.data() + pos);
    pos += 4;
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  }
  std::string inflate_all(const std::string& in) {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buf[65536];
    do {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int rc = inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("inflate failed");
      out.append(buf, sizeof buf - z_.avail_out);
    } while (z_.avail_in > 0 || z_.avail_out == 0);
    return out;
  }
  unsigned char byte(const std::string& d, size_t& p) {
    if (p >= d.size()) throw std::runtime_error("tile data truncated");
    return static_cast<unsigned char>(d[p++]);
  }
  uint32_t cpixel(const std::string& d, size_t& p) {
    uint32_t v = 0;
    if (be_) {
      for (int i = 0; i < cp_; ++i) v = v << 8 | byte(d, p);
    } else {
      for (int i = 0; i < cp_; ++i) v |= uint32_t{byte(d, p)} << (8 * i);
    }
    return v;  // for 3-byte CPIXELs: the formats tested keep colours in the low 3 bytes
  }
  size_t run_length(const std::string& d, size_t& p) {
    size_t n = 1;
    unsigned char b;
    do n += (b = byte(d, p));
    while (b == 255);
    return n;
  }
  std::vector<uint32_t> decode_tile(const std::string& d, size_t& p, int w, int h) {
    const size_t n = static_cast<size_t>(w) * h;
    std::vector<uint32_t> t;
    int sub = byte(d, p);
    subencodings.insert(sub);
    if (sub == 0) {
      for (size_t i = 0; i < n; ++i) t.push_back(cpixel(d, p));
    } else if (sub == 1) {
      t.assign(n, cpixel(d, p));
    } else if (sub <= 16) {
      std::vector<uint32_t> pal;
      for (int i = 0; i < sub; ++i) pal.push_back(cpixel(d, p));
      int bits = sub == 2 ? 1 : sub <= 4 ? 2 : 4;
      for (int y = 0; y < h; ++y) {
        int have = 0;
        unsigned char cur = 0;
        for (int x = 0; x < w; ++x) {
          if (have == 0) cur = byte(d, p), have = 8;
          int idx = (cur >> (have - bits)) & ((1 << bits) - 1);
          have -= bits;
          if (idx >= sub) throw std::runtime_error("packed index outside the palette");
          t.push_back(pal[idx]);
        }
      }
    } else if (sub == 128) {
      while (t.size() < n) {
        uint32_t v = cpixel(d, p);
        t.insert(t.end(), run_length(d, p), v);
      }
    } else if (sub >= 130) {
      std::vector<uint32_t> pal;
      for (int i = 0; i < sub - 128; ++i) pal.push_back(cpixel(d, p));
      while (t.size() < n) {
        unsigned char i = byte(d, p);
        if ((i & 127) >= pal.size()) throw std::runtime_error("RLE index outside the palette");
        t.insert(t.end(), i & 128 ? run_length(d, p) : 1, pal[i & 127]);
      }
    } else {
      throw std::runtime_error("unused subencoding " + std::to_string(sub));
    }
    if (t.size() != n) throw std::runtime_error("a run crosses the end of the tile");
    return t;
  }

  z_stream z_{};
  int cp_;
  int bpp_;
  bool be_;
};

// 150x100: partial tiles on the right and bottom, and one tile for each ZRLE subencoding.
Framebuffer test_pattern(int seed) {
  Framebuffer fb(150, 100);
  fb.fill(Rect{0, 0, 64, 64}, 0x00336699 + seed);  // solid
  for (int y = 0; y < 64; ++y)  // two colours in a fine pattern: packed palette, 1 bit
    for (int x = 64; x < 128; ++x) fb.at(x, y) = ((x ^ y) & 1) ? 0x00FFFFFF : 0x00000000 + seed;
  for (int y = 0; y < 64; ++y)  // five colours, no runs: packed palette, 4 bits
    for (int x = 128; x < 150; ++x) fb.at(x, y) = 0x00100000 * ((x * 7 + y * 3) % 5) + seed;
  for (int y = 64; y < 100; ++y)  // every pixel different: raw
    for (int x = 0; x < 64; ++x) fb.at(x, y) = (x * 4) << 16 | (y * 2) << 8 | ((x * 13 + y) & 255);
  for (int y = 64; y < 100; ++y)  // long runs of colours used once each: plain RLE
    for (int x = 64; x < 128; ++x) fb.at(x, y) = 0x00010203 * (y * 2 + (x >= 96)) + seed;
  for (int y = 64; y < 100; ++y)  // twenty colours in runs of three: palette RLE
    for (int x = 128; x < 150; ++x) fb.at(x, y) = 0x00080808 * (((x / 3) + y) % 20) + seed;
  return fb;
}

struct ZrleCase {
  std::string name;
  PixelFormat pf;
  int cpixel_bytes;
};

std::vector<ZrleCase> zrle_cases() {
  PixelFormat xrgb_be = native_pixel_format();
  xrgb_be.big_endian = true;
  PixelFormat deep = native_pixel_format();
  deep.depth = 32;
  return {{"32bpp depth 24 LE (3-byte CPIXEL)", native_pixel_format(), 3},
          {"32bpp depth 24 BE (3-byte CPIXEL)", xrgb_be, 3},
          {"32bpp depth 32 (4-byte CPIXEL)", deep, 4},
          {"16bpp RGB565 LE", rgb565_format(false), 2},
          {"16bpp RGB565 BE", rgb565_format(true), 2},
          {"8bpp BGR233", bgr233_format(), 1}};
}

std::vector<uint32_t> expected_values(const Framebuffer& fb, const Rect& r,
                                      const PixelConverter& pc) {
  std::vector<uint32_t> v;
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) v.push_back(pc.value(fb.at(x, y)));
  return v;
}

TEST(RfbZrle, DecodesToTheSourcePixelsInEveryFormat) {
  for (const ZrleCase& zc : zrle_cases()) {
    SCOPED_TRACE(zc.name);
    PixelConverter pc(zc.pf);
    ASSERT_EQ(pc.bytes_per_cpixel(), zc.cpixel_bytes);
    ZrleEncoder enc;
    ZrleDecoder dec(zc.cpixel_bytes, pc.bytes_per_pixel(), zc.pf.big_endian);
    // Several rectangles through one stream: the client's inflater must follow along.
    const Rect rects[] = {{0, 0, 150, 100}, {10, 5, 70, 70}, {149, 99, 1, 1}, {0, 0, 150, 100}};
    for (int i = 0; i < 4; ++i) {
      Framebuffer fb = test_pattern(i);
      std::string out;
      enc.encode(fb, rects[i], pc, out);
      ASSERT_EQ(out.substr(0, 12),
                u16(rects[i].x) + u16(rects[i].y) + u16(rects[i].w) + u16(rects[i].h) + u32(16));
      size_t pos = 12;
      std::vector<uint32_t> got;
      ASSERT_NO_THROW(got = dec.decode(out, pos, rects[i].w, rects[i].h));
      EXPECT_EQ(pos, out.size());
      EXPECT_EQ(got, expected_values(fb, rects[i], pc)) << "rect " << i;
    }
    if (zc.pf.bits_per_pixel != 8) {  // at 8 bpp the pattern's colours collapse
      EXPECT_EQ(dec.subencodings.count(0), 1u);
      EXPECT_EQ(dec.subencodings.count(2), 1u);
      EXPECT_EQ(dec.subencodings.count(128), 1u);
      EXPECT_EQ(dec.subencodings.count(148), 1u);  // palette RLE with 20 colours
    }
    EXPECT_EQ(dec.subencodings.count(1), 1u);
  }
}

TEST(RfbZrle, ServerConnectionUsesTheClientsPreference) {
  testing::Session s(150, 100);
  ASSERT_EQ(s.send(set_pixel_format_msg(rgb565_format(true))), "");
  ASSERT_EQ(s.send(set_encodings_msg({16, 0})), "");
  ZrleDecoder dec(2, 2, true);
  for (int i = 0; i < 2; ++i) {
    Framebuffer fb = test_pattern(i);
    Update u;
    u.changed = {Rect{0, 0, 150, 100}};
    ASSERT_TRUE(s.conn.write_update(fb, u));
    std::string out = s.conn.take_output();
    ASSERT_EQ(out.substr(0, 16),
              bytes({0, 0}) + u16(1) + u16(0) + u16(0) + u16(150) + u16(100) + u32(16));
    size_t pos = 16;
    std::vector<uint32_t> got;
    ASSERT_NO_THROW(got = dec.decode(out, pos, 150, 100));
    EXPECT_EQ(pos, out.size());
    EXPECT_EQ(got, expected_values(fb, fb.bounds(), PixelConverter(rgb565_format(true))));
  }
  // Raw first in the list wins over ZRLE.
  ASSERT_EQ(s.send(set_encodings_msg({0, 16})), "");
  Update u;
  u.changed = {Rect{0, 0, 1, 1}};
  ASSERT_TRUE(s.conn.write_update(test_pattern(0), u));
  EXPECT_EQ(s.conn.take_output().substr(12, 4), u32(0));
}

TEST(RfbZrle, SolidScreenCompressesToAFewBytes) {
  Framebuffer fb(1920, 1080, 0x00202020);
  PixelConverter pc(native_pixel_format());
  ZrleEncoder enc;
  std::string out;
  enc.encode(fb, fb.bounds(), pc, out);
  EXPECT_LT(out.size(), 200u);
}

}  // namespace
}  // namespace reach::rfb
