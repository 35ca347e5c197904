// Writers for the parts of a FramebufferUpdate (RFC 6143 §7.6.1, §7.7, §7.8): Raw, CopyRect,
// ZRLE and the DesktopSize and Cursor pseudo-encodings. Each encode_* appends one rectangle —
// its 12-byte header and its data — to `out`; the caller writes the update header with the
// rectangle count first. Pixels are read from a native Framebuffer and written in the client's
// format through a PixelConverter. Rectangles must lie inside the framebuffer (a caller bug
// otherwise: crashes).
//
// Tight and its JPEG subencoding are in tight.h.
//
// Thread-safety: the free functions are pure. A ZrleEncoder holds the connection's one zlib
// stream and belongs to that connection's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rfb/framebuffer.h"
#include "rfb/pixel_format.h"

namespace reach::rfb {

namespace encoding {
inline constexpr int32_t kRaw = 0;
inline constexpr int32_t kCopyRect = 1;
inline constexpr int32_t kTight = 7;
inline constexpr int32_t kZrle = 16;
inline constexpr int32_t kDesktopSize = -223;
inline constexpr int32_t kCursor = -239;
inline constexpr int32_t kFence = -312;              // rfbproto: Fence
inline constexpr int32_t kContinuousUpdates = -313;  // rfbproto: ContinuousUpdates
// Pseudo-encodings with a level 0..9 (rfbproto): kQualityLevel0 + level asks for that JPEG
// quality, kCompressLevel0 + level for that compression effort.
inline constexpr int32_t kQualityLevel0 = -32;
inline constexpr int32_t kQualityLevel9 = -23;
inline constexpr int32_t kCompressLevel0 = -256;
inline constexpr int32_t kCompressLevel9 = -247;
}  // namespace encoding

// FramebufferUpdate message header: type 0, padding, U16 number-of-rectangles.
void write_update_header(uint16_t rect_count, std::string& out);
// A rectangle header: U16 x, y, width, height, S32 encoding-type.
void write_rect_header(const Rect& r, int32_t encoding_type, std::string& out);

void encode_raw(const Framebuffer& fb, const Rect& r, const PixelConverter& pc, std::string& out);
// `dst` gets the pixels the client already has at (src_x, src_y).
void encode_copy_rect(const Rect& dst, int src_x, int src_y, std::string& out);
// Tells the client the framebuffer is now width x height (no data follows).
void encode_desktop_size(int width, int height, std::string& out);

// A cursor image. `argb` holds width*height 0xAARRGGBB pixels; a pixel is part of the cursor
// shape when its alpha is >= 128 (RFB's cursor mask is one bit per pixel). A 0x0 cursor hides it.
struct Cursor {
  int width = 0;
  int height = 0;
  int hot_x = 0;
  int hot_y = 0;
  std::vector<uint32_t> argb;
};
// Cursor pseudo-rectangle: x,y = hotspot; pixels in the client format, then the bitmask
// (rows padded to whole bytes, most significant bit leftmost).
void encode_cursor(const Cursor& cursor, const PixelConverter& pc, std::string& out);

// ZRLE with the connection's single zlib stream, kept across updates as the RFC requires (the
// client keeps one inflate stream per connection). Each rectangle is one sync-flushed chunk.
class ZrleEncoder {
 public:
  explicit ZrleEncoder(int zlib_level = 6);
  ~ZrleEncoder();
  ZrleEncoder(const ZrleEncoder&) = delete;
  ZrleEncoder& operator=(const ZrleEncoder&) = delete;

  void encode(const Framebuffer& fb, const Rect& r, const PixelConverter& pc, std::string& out);

 private:
  void encode_tile(const Framebuffer& fb, const Rect& tile, const PixelConverter& pc);
  void deflate_into(std::string& out);

  struct Stream;
  std::unique_ptr<Stream> stream_;
  std::string raw_;               // uncompressed tile data of the rectangle being encoded
  std::vector<uint32_t> values_;  // the current tile in client pixel values
};

}  // namespace reach::rfb
