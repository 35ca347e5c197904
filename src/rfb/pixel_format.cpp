#include "rfb/pixel_format.h"

#include <fmt/format.h>

namespace reach::rfb {
namespace {

Error format_error(std::string why) {
  return make_error(Errc::invalid, "rfbPixelFormat", "unsupported pixel format: " + std::move(why));
}

int bits_of(uint16_t max) {
  int n = 0;
  while (max >> n) ++n;
  return n;
}

}  // namespace

PixelFormat native_pixel_format() {
  return PixelFormat{};
}

PixelFormat true_colour_format(uint8_t bpp, uint8_t depth, bool big_endian, uint16_t red_max,
                               uint16_t green_max, uint16_t blue_max, uint8_t red_shift,
                               uint8_t green_shift, uint8_t blue_shift) {
  return PixelFormat{bpp,       depth,    big_endian, true,        red_max,
                     green_max, blue_max, red_shift,  green_shift, blue_shift};
}

PixelFormat rgb565_format(bool big_endian) {
  return true_colour_format(16, 16, big_endian, 31, 63, 31, 11, 5, 0);
}

PixelFormat bgr233_format() {
  return true_colour_format(8, 8, false, 7, 7, 3, 0, 3, 6);
}

void write_pixel_format(const PixelFormat& pf, std::string& out) {
  unsigned char b[kPixelFormatBytes] = {pf.bits_per_pixel,
                                        pf.depth,
                                        static_cast<unsigned char>(pf.big_endian ? 1 : 0),
                                        static_cast<unsigned char>(pf.true_colour ? 1 : 0),
                                        static_cast<unsigned char>(pf.red_max >> 8),
                                        static_cast<unsigned char>(pf.red_max),
                                        static_cast<unsigned char>(pf.green_max >> 8),
                                        static_cast<unsigned char>(pf.green_max),
                                        static_cast<unsigned char>(pf.blue_max >> 8),
                                        static_cast<unsigned char>(pf.blue_max),
                                        pf.red_shift,
                                        pf.green_shift,
                                        pf.blue_shift,
                                        0,
                                        0,
                                        0};
  out.append(reinterpret_cast<const char*>(b), sizeof b);
}

PixelFormat parse_pixel_format(const unsigned char* p) {
  PixelFormat pf;
  pf.bits_per_pixel = p[0];
  pf.depth = p[1];
  pf.big_endian = p[2] != 0;
  pf.true_colour = p[3] != 0;
  pf.red_max = static_cast<uint16_t>(p[4] << 8 | p[5]);
  pf.green_max = static_cast<uint16_t>(p[6] << 8 | p[7]);
  pf.blue_max = static_cast<uint16_t>(p[8] << 8 | p[9]);
  pf.red_shift = p[10];
  pf.green_shift = p[11];
  pf.blue_shift = p[12];
  return pf;
}

Status validate(const PixelFormat& pf) {
  if (!pf.true_colour) return format_error("colour-map formats are not supported");
  if (pf.bits_per_pixel != 8 && pf.bits_per_pixel != 16 && pf.bits_per_pixel != 32)
    return format_error(fmt::format("{} bits per pixel (8, 16 or 32 expected)", pf.bits_per_pixel));
  if (pf.depth == 0) return format_error("a pixel format with zero bits (depth 0)");
  if (pf.depth > pf.bits_per_pixel)
    return format_error(
        fmt::format("depth {} exceeds {} bits per pixel", pf.depth, pf.bits_per_pixel));
  struct Channel {
    const char* name;
    uint16_t max;
    uint8_t shift;
  };
  const Channel channels[] = {{"red", pf.red_max, pf.red_shift},
                              {"green", pf.green_max, pf.green_shift},
                              {"blue", pf.blue_max, pf.blue_shift}};
  uint64_t used = 0;
  for (const Channel& c : channels) {
    if (c.max == 0)
      return format_error(fmt::format("{} max is 0 (a channel with zero bits)", c.name));
    if ((c.max & (c.max + 1u)) != 0)
      return format_error(fmt::format("{} max {} is not 2^n-1", c.name, c.max));
    if (c.shift + bits_of(c.max) > pf.bits_per_pixel)
      return format_error(fmt::format("{} shift {} puts the channel outside {} bits", c.name,
                                      c.shift, pf.bits_per_pixel));
    uint64_t mask = uint64_t{c.max} << c.shift;
    if (used & mask) return format_error(fmt::format("{} overlaps another channel", c.name));
    used |= mask;
  }
  return {};
}

PixelConverter::PixelConverter(const PixelFormat& pf) : pf_(pf) {
  REACH_CHECK(validate(pf).has_value(), "PixelConverter needs a validated format");
  for (uint32_t i = 0; i < 256; ++i) {
    r_[i] = ((i * pf.red_max + 127) / 255) << pf.red_shift;
    g_[i] = ((i * pf.green_max + 127) / 255) << pf.green_shift;
    b_[i] = ((i * pf.blue_max + 127) / 255) << pf.blue_shift;
  }
  cpixel_bytes_ = pf.bytes_per_pixel();
  if (pf.bits_per_pixel == 32 && pf.depth <= 24) {
    uint32_t mask = (uint32_t{pf.red_max} << pf.red_shift) |
                    (uint32_t{pf.green_max} << pf.green_shift) |
                    (uint32_t{pf.blue_max} << pf.blue_shift);
    if ((mask & 0xff000000u) == 0) {  // the 3 least significant bytes
      cpixel_bytes_ = 3;
      cpixel_offset_ = pf.big_endian ? 1 : 0;
    } else if ((mask & 0xffu) == 0) {  // the 3 most significant bytes
      cpixel_bytes_ = 3;
      cpixel_offset_ = pf.big_endian ? 0 : 1;
    }
  }
}

void PixelConverter::put(uint32_t v, unsigned char* out) const {
  switch (pf_.bits_per_pixel) {
    case 8:
      out[0] = static_cast<unsigned char>(v);
      return;
    case 16:
      if (pf_.big_endian) {
        out[0] = static_cast<unsigned char>(v >> 8);
        out[1] = static_cast<unsigned char>(v);
      } else {
        out[0] = static_cast<unsigned char>(v);
        out[1] = static_cast<unsigned char>(v >> 8);
      }
      return;
    default:
      if (pf_.big_endian) {
        out[0] = static_cast<unsigned char>(v >> 24);
        out[1] = static_cast<unsigned char>(v >> 16);
        out[2] = static_cast<unsigned char>(v >> 8);
        out[3] = static_cast<unsigned char>(v);
      } else {
        out[0] = static_cast<unsigned char>(v);
        out[1] = static_cast<unsigned char>(v >> 8);
        out[2] = static_cast<unsigned char>(v >> 16);
        out[3] = static_cast<unsigned char>(v >> 24);
      }
  }
}

void PixelConverter::append(uint32_t v, std::string& out) const {
  unsigned char b[4];
  put(v, b);
  out.append(reinterpret_cast<const char*>(b), bytes_per_pixel());
}

void PixelConverter::put_cpixel(uint32_t v, unsigned char* out) const {
  if (cpixel_bytes_ != 3) return put(v, out);
  unsigned char b[4];
  put(v, b);
  out[0] = b[cpixel_offset_];
  out[1] = b[cpixel_offset_ + 1];
  out[2] = b[cpixel_offset_ + 2];
}

}  // namespace reach::rfb
