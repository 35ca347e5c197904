#include "rfb/tight.h"

#include <gtest/gtest.h>
#include <zlib.h>

// jpeglib.h needs FILE and size_t declared first.
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <stdexcept>

#include "rfb/pixel_format.h"
#include "rfb/wire.h"
#include "unit/rfb/test_support.h"

namespace reach::rfb {
namespace {

using testing::bytes;
using testing::hex;
using testing::set_encodings_msg;
using testing::set_pixel_format_msg;
using testing::u16;
using testing::u32;

// --- An independent Tight client ----------------------------------------------------------------

enum class Kind { kFill, kJpeg, kCopy, kMono, kIndexed };

struct DecodedRect {
  Rect rect;
  Kind kind;
  int resets;        // the compression-control byte's low 4 bits
  size_t wire_size;  // header included
};

[[noreturn]] void jpeg_error(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  throw std::runtime_error(std::string("libjpeg: ") + message);
}

// Decodes Tight rectangles as rfbproto describes them (and as noVNC and TigerVNC read them): four
// inflate streams for the connection, fill/JPEG/basic compression, copy and palette filters,
// compact lengths. Paints a canvas of client pixel values; JPEG pixels are converted to the
// client format like a viewer does. Throws on anything malformed.
class TightDecoder {
 public:
  TightDecoder(const PixelFormat& pf, int width, int height)
      : canvas(static_cast<size_t>(width) * height),
        pf_(pf),
        pc_(pf),
        width_(width),
        height_(height) {
    tp_ = pf.bits_per_pixel == 32 && pf.depth == 24 && pf.red_max == 255 && pf.green_max == 255 &&
                  pf.blue_max == 255
              ? 3
              : pf.bits_per_pixel / 8;
    for (z_stream& z : z_) EXPECT_EQ(inflateInit(&z), Z_OK);
  }
  ~TightDecoder() {
    for (z_stream& z : z_) inflateEnd(&z);
  }

  // Decodes `count` rectangles (headers included) from data[pos], advancing pos.
  void decode(const std::string& data, size_t& pos, size_t count) {
    d_ = &data;
    p_ = pos;
    for (size_t i = 0; i < count; ++i) decode_rect();
    pos = p_;
  }
  // Decodes all of `data`, which must hold whole rectangles only.
  void decode_all(const std::string& data) {
    d_ = &data;
    p_ = 0;
    while (p_ < data.size()) decode_rect();
  }

  uint32_t at(int x, int y) const { return canvas[static_cast<size_t>(y) * width_ + x]; }

  std::vector<uint32_t> canvas;
  std::vector<DecodedRect> rects;

 private:
  unsigned char byte() {
    if (p_ >= d_->size()) throw std::runtime_error("data truncated");
    return static_cast<unsigned char>((*d_)[p_++]);
  }
  std::string take(size_t n) {
    if (p_ + n > d_->size()) throw std::runtime_error("data truncated");
    std::string s = d_->substr(p_, n);
    p_ += n;
    return s;
  }
  uint32_t tpixel(const std::string& s, size_t& at) const {
    auto b = [&](size_t i) { return uint32_t{static_cast<unsigned char>(s.at(at + i))}; };
    uint32_t v = 0;
    if (tp_ == 3) {
      v = b(0) << pf_.red_shift | b(1) << pf_.green_shift | b(2) << pf_.blue_shift;
    } else if (pf_.big_endian) {
      for (int i = 0; i < tp_; ++i) v = v << 8 | b(i);
    } else {
      for (int i = 0; i < tp_; ++i) v |= b(i) << (8 * i);
    }
    at += tp_;
    return v;
  }
  size_t compact_length() {
    size_t n = byte();
    if (n & 0x80) {
      n &= 0x7f;
      size_t b = byte();
      n |= (b & 0x7f) << 7;
      if (b & 0x80) n |= size_t{byte()} << 14;
    }
    return n;
  }
  // The filtered data of `size` bytes: as is under 12 bytes, else zlib from stream `id`.
  std::string data(int id, size_t size) {
    if (size < 12) return take(size);
    std::string in = take(compact_length());
    std::string out(size + 1, '\0');  // one spare byte: more output than expected is an error
    z_stream& z = z_[id];
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    while (z.avail_in > 0) {
      int rc = inflate(&z, Z_SYNC_FLUSH);
      if (rc != Z_OK) throw std::runtime_error("inflate failed on stream " + std::to_string(id));
    }
    if (z.avail_out != 1) throw std::runtime_error("zlib data is not the expected size");
    out.resize(size);
    return out;
  }
  void paint(const Rect& r, size_t i, uint32_t v) {
    canvas[(r.y + i / r.w) * width_ + r.x + i % r.w] = v;
  }

  void decode_rect() {
    const size_t start = p_;
    std::string h = take(12);
    auto* hb = reinterpret_cast<const unsigned char*>(h.data());
    Rect r{wire::get_u16(hb), wire::get_u16(hb + 2), wire::get_u16(hb + 4), wire::get_u16(hb + 6)};
    if (static_cast<int32_t>(wire::get_u32(hb + 8)) != encoding::kTight)
      throw std::runtime_error("not a Tight rectangle");
    if (r.right() > width_ || r.bottom() > height_) throw std::runtime_error("outside the canvas");
    if (r.w > 2048) throw std::runtime_error("Tight rectangle wider than 2048");
    const size_t n = static_cast<size_t>(r.w) * r.h;
    const int ctl = byte();
    for (int i = 0; i < 4; ++i)
      if (ctl >> i & 1) inflateReset(&z_[i]);
    Kind kind;
    if (ctl >> 4 == 0x8) {
      kind = Kind::kFill;
      std::string px = take(tp_);
      size_t at = 0;
      uint32_t v = tpixel(px, at);
      for (size_t i = 0; i < n; ++i) paint(r, i, v);
    } else if (ctl >> 4 == 0x9) {
      kind = Kind::kJpeg;
      decode_jpeg(r, take(compact_length()));
    } else if ((ctl & 0x80) == 0) {
      const int stream = ctl >> 4 & 3;
      const int filter = ctl & 0x40 ? byte() : 0;
      if (filter == 0) {
        kind = Kind::kCopy;
        std::string px = data(stream, n * tp_);
        size_t at = 0;
        for (size_t i = 0; i < n; ++i) paint(r, i, tpixel(px, at));
      } else if (filter == 1) {
        const int count = byte() + 1;
        if (count < 2) throw std::runtime_error("a palette of one colour");
        std::string pal = take(static_cast<size_t>(count) * tp_);
        std::vector<uint32_t> colours;
        for (size_t at = 0; at < pal.size();) colours.push_back(tpixel(pal, at));
        kind = count == 2 ? Kind::kMono : Kind::kIndexed;
        const size_t row = count == 2 ? (static_cast<size_t>(r.w) + 7) / 8 : r.w;
        std::string idx = data(stream, row * r.h);
        for (int y = 0; y < r.h; ++y) {
          for (int x = 0; x < r.w; ++x) {
            auto b = static_cast<unsigned char>(idx[y * row + (count == 2 ? x / 8 : x)]);
            int i = count == 2 ? b >> (7 - x % 8) & 1 : b;
            if (i >= count) throw std::runtime_error("palette index out of range");
            paint(r, static_cast<size_t>(y) * r.w + x, colours[i]);
          }
        }
      } else {
        throw std::runtime_error("unexpected filter " + std::to_string(filter));
      }
    } else {
      throw std::runtime_error("bad compression control " + std::to_string(ctl));
    }
    rects.push_back(DecodedRect{r, kind, ctl & 15, p_ - start});
  }

  void decode_jpeg(const Rect& r, const std::string& jpeg) {
    jpeg_decompress_struct c{};
    jpeg_error_mgr err{};
    c.err = jpeg_std_error(&err);
    err.error_exit = jpeg_error;
    jpeg_create_decompress(&c);
    struct Destroy {
      jpeg_decompress_struct* c;
      ~Destroy() { jpeg_destroy_decompress(c); }
    } destroy{&c};
    jpeg_mem_src(&c, reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size());
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    if (c.output_width != static_cast<JDIMENSION>(r.w) ||
        c.output_height != static_cast<JDIMENSION>(r.h) || c.output_components != 3)
      throw std::runtime_error("JPEG size differs from the rectangle");
    std::vector<unsigned char> row(static_cast<size_t>(r.w) * 3);
    for (int y = 0; y < r.h; ++y) {
      JSAMPROW rp = row.data();
      jpeg_read_scanlines(&c, &rp, 1);
      for (int x = 0; x < r.w; ++x) {
        Pixel native = uint32_t{row[3 * x]} << 16 | uint32_t{row[3 * x + 1]} << 8 | row[3 * x + 2];
        paint(r, static_cast<size_t>(y) * r.w + x, pc_.value(native));
      }
    }
    jpeg_finish_decompress(&c);
  }

  PixelFormat pf_;
  PixelConverter pc_;
  int width_;
  int height_;
  int tp_;
  z_stream z_[4]{};
  const std::string* d_ = nullptr;
  size_t p_ = 0;
};

// --- Test images ------------------------------------------------------------------------------

constexpr Pixel kP1 = 0x00FF8040;
constexpr Pixel kP2 = 0x00123456;

// Smooth gradients with noise: a photograph as far as colour counts go.
Framebuffer photo(int w, int h, uint32_t seed = 1) {
  Framebuffer fb(w, h);
  uint32_t s = seed;
  auto noise = [&] {
    s = s * 1103515245u + 12345u;
    return static_cast<int>((s >> 16) % 13) - 6;
  };
  auto clamp = [](int v) { return static_cast<uint32_t>(std::clamp(v, 0, 255)); };
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int r = x * 255 / std::max(1, w - 1) + noise();
      int g = y * 255 / std::max(1, h - 1) + noise();
      int b = static_cast<int>(128 + 100 * std::sin((x + 2 * y) / 23.0)) + noise();
      fb.at(x, y) = clamp(r) << 16 | clamp(g) << 8 | clamp(b);
    }
  }
  return fb;
}

void draw_two_colours(Framebuffer& fb, const Rect& r) {
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) fb.at(x, y) = ((x / 3 + y / 2) & 1) ? kP1 : kP2;
}

Pixel colour16(int k) {
  return uint32_t((k * 37 + 20) & 255) << 16 | uint32_t((k * 91 + 7) & 255) << 8 |
         uint32_t((k * 53 + 99) & 255);
}
void draw_sixteen_colours(Framebuffer& fb, const Rect& r) {
  for (int y = r.y; y < r.bottom(); ++y)
    for (int x = r.x; x < r.right(); ++x) fb.at(x, y) = colour16((x / 4 + y / 3 * 5) % 16);
}

std::vector<uint32_t> expected(const Framebuffer& fb, const PixelConverter& pc) {
  std::vector<uint32_t> v;
  for (int y = 0; y < fb.height(); ++y)
    for (int x = 0; x < fb.width(); ++x) v.push_back(pc.value(fb.at(x, y)));
  return v;
}

std::string header(const Rect& r) {
  return u16(r.x) + u16(r.y) + u16(r.w) + u16(r.h) + u32(7);
}

// `r` of `fb` from a new encoder (lossless), for byte-exact checks.
std::string encoded(const Framebuffer& fb, const Rect& r, const PixelFormat& pf) {
  TightEncoder enc;
  std::string out;
  enc.encode(fb, r, PixelConverter(pf), out);
  return out;
}

// Encodes `r` of `fb` and decodes it into `dec`; returns the bytes.
std::string round_trip(TightEncoder& enc, TightDecoder& dec, const Framebuffer& fb, const Rect& r,
                       const PixelConverter& pc) {
  std::string out;
  enc.encode(fb, r, pc, out);
  size_t pos = 0;
  EXPECT_NO_THROW(dec.decode(out, pos, TightEncoder::rect_count(r)));
  EXPECT_EQ(pos, out.size());
  return out;
}

// Per-channel error of decoded client values against the source, in 8-bit units.
struct ChannelError {
  double mean = 0;
  int max = 0;
};
ChannelError channel_error(const std::vector<uint32_t>& got, const Framebuffer& fb,
                           const PixelFormat& pf) {
  PixelConverter pc(pf);
  const int shifts[] = {pf.red_shift, pf.green_shift, pf.blue_shift};
  const int maxes[] = {pf.red_max, pf.green_max, pf.blue_max};
  ChannelError e;
  double sum = 0;
  size_t i = 0;
  for (int y = 0; y < fb.height(); ++y) {
    for (int x = 0; x < fb.width(); ++x, ++i) {
      uint32_t want = pc.value(fb.at(x, y));
      for (int c = 0; c < 3; ++c) {
        int a = static_cast<int>((got[i] >> shifts[c]) & maxes[c]) * 255 / maxes[c];
        int b = static_cast<int>((want >> shifts[c]) & maxes[c]) * 255 / maxes[c];
        sum += std::abs(a - b);
        e.max = std::max(e.max, std::abs(a - b));
      }
    }
  }
  e.mean = sum / (3.0 * static_cast<double>(i));
  return e;
}

// --- Subencodings ------------------------------------------------------------------------------

TEST(RfbTight, SolidRectangleIsAFillWithExactBytes) {
  Framebuffer fb(64, 48, 0x00336699);
  EXPECT_EQ(hex(encoded(fb, fb.bounds(), native_pixel_format())),
            hex(header(fb.bounds()) + bytes({0x80, 0x33, 0x66, 0x99})));
  // 16 bpp: the TPIXEL is the whole client pixel. 0x336699 -> 6,25,19 -> 0x3333
  const Rect part{3, 4, 20, 10};
  EXPECT_EQ(hex(encoded(fb, part, rgb565_format(true))),
            hex(header(part) + bytes({0x80, 0x33, 0x33})));
}

TEST(RfbTight, ShortDataIsSentUncompressed) {
  Framebuffer fb(2, 1);
  fb.at(0, 0) = kP1;
  fb.at(1, 0) = kP2;
  // Copy filter on stream 0 (implicit), six bytes of R,G,B TPIXELs, no length, no zlib.
  EXPECT_EQ(hex(encoded(fb, fb.bounds(), native_pixel_format())),
            hex(header(fb.bounds()) + bytes({0x00, 0xff, 0x80, 0x40, 0x12, 0x34, 0x56})));
}

TEST(RfbTight, TwoColoursUseTheMonoPalette) {
  Framebuffer fb(101, 37);  // rows of 101 pixels: padded to 13 bytes
  draw_two_colours(fb, fb.bounds());
  for (const PixelFormat& pf : {native_pixel_format(), rgb565_format(false)}) {
    PixelConverter pc(pf);
    TightEncoder enc;
    enc.set_quality_level(9);  // JPEG allowed, still a palette
    TightDecoder dec(pf, fb.width(), fb.height());
    std::string out = round_trip(enc, dec, fb, fb.bounds(), pc);
    ASSERT_EQ(dec.rects.size(), 1u);
    EXPECT_EQ(dec.rects[0].kind, Kind::kMono);
    EXPECT_EQ(static_cast<unsigned char>(out[12]), 0x50);  // explicit filter, stream 1
    EXPECT_EQ(dec.canvas, expected(fb, pc));
  }
}

TEST(RfbTight, SixteenColoursUseAnIndexedPalette) {
  Framebuffer fb(90, 50);
  draw_sixteen_colours(fb, fb.bounds());
  PixelConverter pc(native_pixel_format());
  TightEncoder enc;
  enc.set_quality_level(9);
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  std::string out = round_trip(enc, dec, fb, fb.bounds(), pc);
  ASSERT_EQ(dec.rects.size(), 1u);
  EXPECT_EQ(dec.rects[0].kind, Kind::kIndexed);
  EXPECT_EQ(hex(out.substr(12, 3)), hex(bytes({0x60, 1, 15})));  // stream 2, palette, 16
  EXPECT_EQ(dec.canvas, expected(fb, pc));
  EXPECT_LT(out.size(), 90u * 50u);  // under one byte per pixel
}

TEST(RfbTight, PhotoIsJpegAtQuality9WithinTolerance) {
  Framebuffer fb = photo(256, 256);
  PixelConverter pc(native_pixel_format());
  const size_t raw = 256u * 256u * 4u;
  size_t sizes[10] = {};
  for (int q : {0, 5, 9}) {
    SCOPED_TRACE(q);
    TightEncoder enc;
    enc.set_quality_level(q);
    TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
    std::string out = round_trip(enc, dec, fb, fb.bounds(), pc);
    ASSERT_EQ(dec.rects.size(), 1u);
    EXPECT_EQ(dec.rects[0].kind, Kind::kJpeg);
    EXPECT_EQ(static_cast<unsigned char>(out[12]), 0x90);
    ChannelError e = channel_error(dec.canvas, fb, native_pixel_format());
    if (q == 9) {
      EXPECT_LT(e.mean, 4.0);
      EXPECT_LT(e.max, 48);
    } else {
      EXPECT_LT(e.mean, 16.0);
    }
    sizes[q] = out.size();
    EXPECT_LT(out.size(), raw);
    std::printf("[ photo 256x256, quality %d: %zu bytes, %.3f of raw; mean error %.2f, max %d ]\n",
                q, out.size(), double(out.size()) / raw, e.mean, e.max);
  }
  EXPECT_LT(sizes[0], sizes[5]);
  EXPECT_LT(sizes[5], sizes[9]);

  // Too small for JPEG's headers to pay: lossless.
  TightEncoder enc;
  enc.set_quality_level(9);
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  round_trip(enc, dec, fb, Rect{0, 0, 31, 33}, pc);
  EXPECT_EQ(dec.rects.at(0).kind, Kind::kCopy);
}

TEST(RfbTight, WithoutAQualityLevelThePhotoIsLossless) {
  Framebuffer fb = photo(256, 256);
  PixelConverter pc(native_pixel_format());
  TightEncoder enc;  // no set_quality_level: JPEG is off
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  std::string out = round_trip(enc, dec, fb, fb.bounds(), pc);
  ASSERT_EQ(dec.rects.size(), 1u);
  EXPECT_EQ(dec.rects[0].kind, Kind::kCopy);
  EXPECT_EQ(dec.canvas, expected(fb, pc));
  std::printf("[ photo 256x256, lossless: %zu bytes, %.3f of raw ]\n", out.size(),
              double(out.size()) / (256.0 * 256 * 4));
}

TEST(RfbTight, SixteenBitClientsGetTwoBytePixels) {
  Framebuffer fb(120, 80);
  fb.fill(Rect{0, 0, 40, 80}, kP1);
  draw_two_colours(fb, Rect{40, 0, 40, 40});
  draw_sixteen_colours(fb, Rect{40, 40, 40, 40});
  Framebuffer ph = photo(40, 80, 7);
  for (int y = 0; y < 80; ++y)
    for (int x = 0; x < 40; ++x) fb.at(80 + x, y) = ph.at(x, y);
  const Rect parts[] = {{0, 0, 40, 80}, {40, 0, 40, 40}, {40, 40, 40, 40}, {80, 0, 40, 80}};
  const Kind kinds[] = {Kind::kFill, Kind::kMono, Kind::kIndexed, Kind::kCopy};
  for (bool big_endian : {false, true}) {
    SCOPED_TRACE(big_endian);
    PixelFormat pf = rgb565_format(big_endian);
    PixelConverter pc(pf);
    TightEncoder enc;
    TightDecoder dec(pf, fb.width(), fb.height());
    for (int i = 0; i < 4; ++i) {
      round_trip(enc, dec, fb, parts[i], pc);
      EXPECT_EQ(dec.rects.back().kind, kinds[i]) << i;
    }
    EXPECT_EQ(dec.canvas, expected(fb, pc));
    // The fill's TPIXEL: kP1 = 255,128,64 -> 31,32,8 -> 0xFC08.
    EXPECT_EQ(hex(encoded(fb, parts[0], pf).substr(13)),
              hex(big_endian ? bytes({0xfc, 0x08}) : bytes({0x08, 0xfc})));

    // With a quality level the photo part is JPEG, decoded close to the 565 source.
    enc.set_quality_level(9);
    TightDecoder jdec(pf, fb.width(), fb.height());
    round_trip(enc, jdec, fb, fb.bounds(), pc);
    ASSERT_EQ(jdec.rects.size(), 1u);
    EXPECT_EQ(jdec.rects[0].kind, Kind::kJpeg);
    ChannelError e = channel_error(jdec.canvas, fb, pf);
    EXPECT_LT(e.mean, 4.0);
    EXPECT_LT(e.max, 48);
  }
}

TEST(RfbTight, EightBitClientsNeverGetJpeg) {
  Framebuffer fb = photo(64, 64);
  PixelConverter pc(bgr233_format());
  TightEncoder enc;
  enc.set_quality_level(9);
  TightDecoder dec(bgr233_format(), fb.width(), fb.height());
  round_trip(enc, dec, fb, fb.bounds(), pc);
  ASSERT_EQ(dec.rects.size(), 1u);
  EXPECT_EQ(dec.rects[0].kind, Kind::kCopy);
  EXPECT_EQ(dec.canvas, expected(fb, pc));
}

TEST(RfbTight, ConsecutiveRectanglesKeepTheZlibStreamsInSync) {
  Framebuffer fb = photo(200, 120, 3);
  draw_two_colours(fb, Rect{0, 0, 100, 60});
  draw_sixteen_colours(fb, Rect{100, 0, 100, 60});
  PixelConverter pc(native_pixel_format());
  TightEncoder enc;
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  // Every stream is used several times; rectangles overlap so later ones overwrite earlier ones
  // with the same pixels.
  const Rect rects[] = {{0, 0, 100, 60},  {100, 0, 100, 60}, {0, 60, 200, 60}, {10, 10, 50, 30},
                        {120, 5, 70, 50}, {0, 60, 120, 60},  {0, 0, 200, 120}, {1, 1, 99, 59}};
  for (const Rect& r : rects) round_trip(enc, dec, fb, r, pc);
  EXPECT_EQ(dec.canvas, expected(fb, pc));
  std::set<Kind> kinds;
  for (const DecodedRect& d : dec.rects) kinds.insert(d.kind);
  EXPECT_EQ(kinds, (std::set<Kind>{Kind::kMono, Kind::kIndexed, Kind::kCopy}));
}

TEST(RfbTight, CompressionLevelChangeResetsTheStreamsInUse) {
  Framebuffer fb = photo(100, 60);
  draw_two_colours(fb, Rect{0, 0, 50, 60});
  PixelConverter pc(native_pixel_format());
  TightEncoder enc;
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  round_trip(enc, dec, fb, Rect{0, 0, 50, 60}, pc);   // mono: stream 1
  round_trip(enc, dec, fb, Rect{50, 0, 50, 60}, pc);  // copy: stream 0
  EXPECT_EQ(dec.rects[1].resets, 0);
  enc.set_compress_level(1);
  round_trip(enc, dec, fb, Rect{50, 0, 50, 60}, pc);
  EXPECT_EQ(dec.rects[2].resets, 0b0011);  // streams 0 and 1 restarted, once
  round_trip(enc, dec, fb, Rect{0, 0, 50, 60}, pc);
  EXPECT_EQ(dec.rects[3].resets, 0);
  EXPECT_EQ(dec.canvas, expected(fb, pc));
}

TEST(RfbTight, BigRectanglesAreSplit) {
  Framebuffer fb = photo(3000, 50, 5);
  draw_two_colours(fb, Rect{2000, 0, 1000, 50});
  PixelConverter pc(native_pixel_format());
  TightEncoder enc;
  const Rect all = fb.bounds();
  std::vector<Rect> tiles = TightEncoder::split(all);
  ASSERT_EQ(tiles.size(), 4u);  // 2048 + 952 wide, 32 + 18 high
  EXPECT_EQ(TightEncoder::rect_count(all), 4u);
  EXPECT_EQ(tiles[0], (Rect{0, 0, 2048, 32}));
  EXPECT_EQ(tiles[3], (Rect{2048, 32, 952, 18}));
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  round_trip(enc, dec, fb, all, pc);
  ASSERT_EQ(dec.rects.size(), 4u);
  size_t covered = 0;
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(dec.rects[i].rect, tiles[i]);
    EXPECT_LE(dec.rects[i].rect.w, TightEncoder::kMaxRectWidth);
    EXPECT_LE(dec.rects[i].rect.w * dec.rects[i].rect.h, TightEncoder::kMaxRectPixels);
    covered += static_cast<size_t>(tiles[i].w) * tiles[i].h;
  }
  EXPECT_EQ(covered, 3000u * 50u);
  EXPECT_EQ(dec.canvas, expected(fb, pc));
  // Narrow but tall: split by height only.
  EXPECT_EQ(TightEncoder::split(Rect{5, 0, 100, 1000}).size(), 2u);
  EXPECT_EQ(TightEncoder::split(Rect{5, 0, 100, 655})[0], (Rect{5, 0, 100, 655}));
}

// --- Through ServerConnection --------------------------------------------------------------------

TEST(RfbTight, UpdateHeaderCountsTheTilesOfTheBoundingBox) {
  testing::Session s(300, 300);
  ASSERT_EQ(s.send(set_encodings_msg({7})), "");
  Framebuffer fb = photo(300, 300);
  Update u;
  for (int i = 0; i < 70000; ++i) u.changed.push_back(Rect{i % 300, i / 300 % 300, 1, 1});
  ASSERT_TRUE(s.conn.write_update(fb, u));
  std::string out = s.conn.take_output();
  // Over 65535 rectangles: their bounding box, 300x234, is two Tight tiles (300x218, 300x16).
  ASSERT_EQ(hex(out.substr(0, 4)), hex(bytes({0, 0}) + u16(2)));
  TightDecoder dec(native_pixel_format(), 300, 300);
  size_t pos = 4;
  ASSERT_NO_THROW(dec.decode(out, pos, 2));
  EXPECT_EQ(pos, out.size());
  EXPECT_EQ(dec.rects[0].rect, (Rect{0, 0, 300, 218}));
  EXPECT_EQ(dec.rects[1].rect, (Rect{0, 218, 300, 16}));
  for (int y = 0; y < 234; ++y)
    for (int x = 0; x < 300; ++x) ASSERT_EQ(dec.at(x, y), fb.at(x, y)) << x << "," << y;
}

TEST(RfbTight, ServerConnectionUsesTheClientsPreference) {
  testing::Session s(3000, 50);
  Framebuffer fb = photo(3000, 50);
  Update u;
  u.changed = {fb.bounds()};
  auto encoding_of_first_rect = [&] {
    EXPECT_TRUE(s.conn.write_update(fb, u));
    std::string out = s.conn.take_output();
    return static_cast<int32_t>(
        wire::get_u32(reinterpret_cast<const unsigned char*>(out.data()) + 12));
  };

  // Tight listed first: Tight tiles, counted in the update header, JPEG at the quality level.
  ASSERT_EQ(s.send(set_encodings_msg({7, 16, 0, -23, -254})), "");
  ASSERT_TRUE(s.conn.write_update(fb, u));
  std::string out = s.conn.take_output();
  ASSERT_EQ(hex(out.substr(0, 4)), hex(bytes({0, 0}) + u16(4)));
  TightDecoder dec(native_pixel_format(), fb.width(), fb.height());
  size_t pos = 4;
  ASSERT_NO_THROW(dec.decode(out, pos, 4));
  EXPECT_EQ(pos, out.size());
  for (const DecodedRect& d : dec.rects) EXPECT_EQ(d.kind, Kind::kJpeg);
  EXPECT_LT(channel_error(dec.canvas, fb, native_pixel_format()).mean, 4.0);

  // ZRLE listed first wins over Tight; Raw first wins over both.
  ASSERT_EQ(s.send(set_encodings_msg({16, 7, 0})), "");
  EXPECT_EQ(encoding_of_first_rect(), encoding::kZrle);
  ASSERT_EQ(s.send(set_encodings_msg({0, 7})), "");
  EXPECT_EQ(encoding_of_first_rect(), encoding::kRaw);

  // Tight without a quality level: lossless, in the client's 16-bit format.
  ASSERT_EQ(s.send(set_pixel_format_msg(rgb565_format(true))), "");
  ASSERT_EQ(s.send(set_encodings_msg({7, 0})), "");
  ASSERT_TRUE(s.conn.write_update(fb, u));
  out = s.conn.take_output();
  TightDecoder exact(rgb565_format(true), fb.width(), fb.height());
  pos = 4;
  ASSERT_NO_THROW(exact.decode(out, pos, 4));
  EXPECT_EQ(pos, out.size());
  for (const DecodedRect& d : exact.rects) EXPECT_EQ(d.kind, Kind::kCopy);
  EXPECT_EQ(exact.canvas, expected(fb, PixelConverter(rgb565_format(true))));
}

}  // namespace
}  // namespace reach::rfb
