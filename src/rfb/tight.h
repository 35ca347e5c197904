// The Tight encoding (encoding 7; not in RFC 6143 — the community RFB specification, rfbproto,
// defines it) with its JPEG subencoding. Each rectangle is sent as one or more Tight rectangles,
// each one of: a solid fill; a palette of 2 to 256 colours with 1-bit or 8-bit indices; JPEG
// (only when the client asked for a JPEG quality level and takes 16 or 32 bpp); or the pixels
// themselves (the "copy" filter). Palette indices and pixels go through one of four zlib streams
// that live as long as the connection, as the client keeps four inflate streams; every rectangle
// is one sync-flushed chunk, so the client can decode it on its own.
//
// Choice per Tight rectangle: one colour → fill; few colours → palette (at most 24 when JPEG
// would otherwise be used, else 256; only 2 for 8 bpp clients; and only when palette and indices
// are smaller than the pixels); otherwise JPEG when allowed and the rectangle has at least
// kMinJpegPixels, else copy. The gradient filter is never sent. Choices are made on whole
// rectangles (no search for solid areas inside them).
//
// Rectangles must lie inside the framebuffer (a caller bug otherwise: crashes).
//
// Thread-safety: a TightEncoder holds its connection's zlib streams and JPEG compressor and
// belongs to that connection's thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rfb/encoders.h"
#include "rfb/framebuffer.h"
#include "rfb/pixel_format.h"

namespace reach::rfb {

class TightEncoder {
 public:
  // The limits clients decode (TigerVNC's and noVNC's): wider or bigger rectangles are split.
  static constexpr int kMaxRectWidth = 2048;
  static constexpr int kMaxRectPixels = 65536;
  // Below this many pixels JPEG's headers (about 600 bytes) outweigh what it saves.
  static constexpr int kMinJpegPixels = 1024;
  static constexpr int kDefaultZlibLevel = 6;

  TightEncoder();
  ~TightEncoder();
  TightEncoder(const TightEncoder&) = delete;
  TightEncoder& operator=(const TightEncoder&) = delete;

  // The client's compression level (0..9, from its pseudo-encoding) as the zlib level. A change
  // restarts the zlib streams already in use; the next rectangles tell the client to reset its
  // inflaters (the low bits of the compression-control byte).
  void set_compress_level(int level);
  // The client's JPEG quality level 0..9, or -1 for no JPEG (lossless only).
  void set_quality_level(int level);
  int quality_level() const { return quality_level_; }
  // Tight rectangles sent as JPEG so far (lossy: the rest are exact).
  uint64_t jpeg_tiles() const { return jpeg_tiles_; }

  // The Tight rectangles `r` is sent as: r itself, or tiles at most kMaxRectWidth wide and
  // kMaxRectPixels big, left to right then top to bottom. An update's rectangle count must
  // count these.
  static std::vector<Rect> split(const Rect& r);
  static size_t rect_count(const Rect& r);

  // Appends split(r).size() rectangles, header and data each, in split(r) order.
  void encode(const Framebuffer& fb, const Rect& r, const PixelConverter& pc, std::string& out);

 private:
  void encode_tile(const Framebuffer& fb, const Rect& t, const PixelConverter& pc,
                   std::string& out);
  // Appends data as Tight sends it: as is under 12 bytes, else compact length + zlib chunk.
  void put_data(int stream, const std::string& data, std::string& out);
  void put_jpeg(const Framebuffer& fb, const Rect& t, std::string& out);
  // The streams the client must reset (the compression-control byte's low bits), as sent once.
  int take_resets();

  struct Zlib;
  struct Jpeg;
  std::array<std::unique_ptr<Zlib>, 4> zlib_;  // started on first use
  std::unique_ptr<Jpeg> jpeg_;                 // created on first use
  int zlib_level_ = kDefaultZlibLevel;
  int quality_level_ = -1;
  unsigned reset_pending_ = 0;
  uint64_t jpeg_tiles_ = 0;  // bit i: the client must reset inflate stream i

  std::vector<uint32_t> values_;  // the current tile in client pixel values
  std::string plain_;             // the current tile's filtered, uncompressed data
  std::string packed_;            // plain_ deflated
};

}  // namespace reach::rfb
