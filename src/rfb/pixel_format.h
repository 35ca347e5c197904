// RFB pixel formats (RFC 6143 §7.4) and conversion from the server's native 0x00RRGGBB pixels to
// the format a client asked for. Only true-colour formats of 8, 16 or 32 bits per pixel are
// supported; colour-map formats are refused by validate().
//
// Thread-safety: PixelFormat is a value; a PixelConverter is immutable after construction and may
// be shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/result.h"
#include "rfb/framebuffer.h"

namespace reach::rfb {

struct PixelFormat {
  uint8_t bits_per_pixel = 32;
  uint8_t depth = 24;
  bool big_endian = false;
  bool true_colour = true;
  uint16_t red_max = 255;
  uint16_t green_max = 255;
  uint16_t blue_max = 255;
  uint8_t red_shift = 16;
  uint8_t green_shift = 8;
  uint8_t blue_shift = 0;

  int bytes_per_pixel() const { return bits_per_pixel / 8; }
  bool operator==(const PixelFormat&) const = default;
};

// The wire size of PIXEL_FORMAT (including its 3 bytes of padding).
inline constexpr size_t kPixelFormatBytes = 16;

// The server's own format, announced in ServerInit: 32 bpp, depth 24, little-endian, 8 bits per
// channel at shifts 16/8/0 — exactly the bytes of a native Pixel on a little-endian host.
PixelFormat native_pixel_format();
// A true-colour format from its fields, in PIXEL_FORMAT order.
PixelFormat true_colour_format(uint8_t bpp, uint8_t depth, bool big_endian, uint16_t red_max,
                               uint16_t green_max, uint16_t blue_max, uint8_t red_shift,
                               uint8_t green_shift, uint8_t blue_shift);
// 16 bpp 5-6-5 and 8 bpp BGR233 (red in the low bits), formats real viewers ask for.
PixelFormat rgb565_format(bool big_endian);
PixelFormat bgr233_format();

// Appends the 16-byte wire form.
void write_pixel_format(const PixelFormat& pf, std::string& out);
// Parses the 16-byte wire form at `p` (the caller has checked 16 bytes are there). Any non-zero
// flag byte means true, as the RFC says. Not validated.
PixelFormat parse_pixel_format(const unsigned char* p);

// Refuses, with a reason, what this server cannot produce: colour maps, bpp other than 8/16/32,
// depth 0 or above bpp, a channel max that is 0 or not 2^n-1, channels that do not fit in bpp
// or that overlap.
Status validate(const PixelFormat& pf);

// Converts native pixels into one validated client format.
class PixelConverter {
 public:
  // `pf` must have passed validate(); anything else is a bug in the caller (crashes).
  explicit PixelConverter(const PixelFormat& pf);

  const PixelFormat& format() const { return pf_; }
  int bytes_per_pixel() const { return pf_.bytes_per_pixel(); }

  // The client's pixel value for a native pixel (channels scaled to the client's max, rounded).
  uint32_t value(Pixel p) const {
    return r_[(p >> 16) & 0xff] | g_[(p >> 8) & 0xff] | b_[p & 0xff];
  }
  // Writes bytes_per_pixel() bytes of `value` in the client's byte order.
  void put(uint32_t value, unsigned char* out) const;
  void append(uint32_t value, std::string& out) const;

  // CPIXEL (ZRLE, RFC 6143 §7.7.6): 3 bytes when the format is true colour, 32 bpp, depth <= 24
  // and every colour bit lies in the 3 least (or else the 3 most) significant bytes; otherwise
  // a whole pixel.
  int bytes_per_cpixel() const { return cpixel_bytes_; }
  void put_cpixel(uint32_t value, unsigned char* out) const;

 private:
  PixelFormat pf_;
  uint32_t r_[256];
  uint32_t g_[256];
  uint32_t b_[256];
  int cpixel_bytes_ = 4;
  int cpixel_offset_ = 0;  // first byte of the CPIXEL within the 4-byte wire pixel
};

}  // namespace reach::rfb
