#include "rfb/tight.h"

// jpeglib.h needs FILE and size_t declared first.
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <utility>

#include "rfb/wire.h"

#ifndef JCS_EXTENSIONS
#error "libjpeg-turbo's colour-space extensions (JCS_EXT_BGRX) are needed"
#endif

namespace reach::rfb {
namespace {

// Compression-control byte (rfbproto, Tight): high nibble.
constexpr int kFill = 0x80;
constexpr int kJpeg = 0x90;
constexpr int kExplicitFilter = 0x40;
constexpr int kPaletteFilter = 1;
// Zlib stream per kind of data, so each stream's dictionary stays on one kind of data.
constexpr int kCopyStream = 0;
constexpr int kMonoStream = 1;
constexpr int kIndexedStream = 2;
constexpr size_t kMinToCompress = 12;  // shorter data is sent as is, without a length
constexpr size_t kMaxCompactLength = (size_t{1} << 22) - 1;
constexpr int kMaxColours = 256;
constexpr int kMaxColoursWithJpeg = 24;

// JPEG quality and chroma subsampling per client quality level 0..9.
struct JpegSetting {
  int quality;
  int h_samp;  // luma sampling factors: 2,2 = 4:2:0; 2,1 = 4:2:2; 1,1 = 4:4:4
  int v_samp;
};
constexpr JpegSetting kJpegSettings[10] = {{15, 2, 2}, {29, 2, 2}, {41, 2, 2}, {42, 2, 1},
                                           {62, 2, 1}, {77, 2, 1}, {79, 1, 1}, {86, 1, 1},
                                           {92, 1, 1}, {100, 1, 1}};

// A native Pixel's bytes in memory, as libjpeg-turbo names them: 0x00RRGGBB in a host uint32.
constexpr J_COLOR_SPACE kNativeColourSpace =
    std::endian::native == std::endian::little ? JCS_EXT_BGRX : JCS_EXT_XRGB;

void check_inside(const Framebuffer& fb, const Rect& r) {
  REACH_CHECK(r.x >= 0 && r.y >= 0 && r.w >= 0 && r.h >= 0 && fb.bounds().contains(r),
              "rectangle outside the framebuffer");
}

// TPIXEL: R, G, B bytes for 32 bpp depth 24 true colour with 8-bit channels; else a whole pixel.
int tpixel_bytes(const PixelFormat& pf) {
  return pf.true_colour && pf.bits_per_pixel == 32 && pf.depth == 24 && pf.red_max == 255 &&
                 pf.green_max == 255 && pf.blue_max == 255
             ? 3
             : pf.bytes_per_pixel();
}

void append_tpixel(uint32_t v, int tpixel, const PixelConverter& pc, std::string& out) {
  if (tpixel != 3) return pc.append(v, out);
  const PixelFormat& pf = pc.format();
  out.push_back(static_cast<char>(v >> pf.red_shift));
  out.push_back(static_cast<char>(v >> pf.green_shift));
  out.push_back(static_cast<char>(v >> pf.blue_shift));
}

void put_compact_length(std::string& out, size_t n) {
  REACH_CHECK(n <= kMaxCompactLength, "Tight data too long for a compact length");
  if (n < 0x80) {
    out.push_back(static_cast<char>(n));
  } else if (n < 0x4000) {
    out.push_back(static_cast<char>(0x80 | (n & 0x7f)));
    out.push_back(static_cast<char>(n >> 7));
  } else {
    out.push_back(static_cast<char>(0x80 | (n & 0x7f)));
    out.push_back(static_cast<char>(0x80 | ((n >> 7) & 0x7f)));
    out.push_back(static_cast<char>(n >> 14));
  }
}

// Up to `capacity` (<= 256) distinct client pixel values in first-seen order, with an
// open-addressed index four times their size so probes stay short.
class ColourTable {
 public:
  explicit ColourTable(int capacity) : capacity_(capacity) { slots_.fill(-1); }
  int size() const { return size_; }
  uint32_t colour(int i) const { return colours_[i]; }
  // Index of `v`, added if new; -1 when the table is full and `v` is not in it.
  int find_or_add(uint32_t v) {
    size_t s = slot_of(v);
    for (; slots_[s] >= 0; s = (s + 1) & (kSlots - 1))
      if (colours_[slots_[s]] == v) return slots_[s];
    if (size_ == capacity_) return -1;
    colours_[size_] = v;
    slots_[s] = static_cast<int16_t>(size_);
    return size_++;
  }

 private:
  static constexpr size_t kSlots = 4 * kMaxColours;
  static size_t slot_of(uint32_t v) { return (v * 2654435761u) >> 22; }  // top 10 bits
  std::array<int16_t, kSlots> slots_;
  std::array<uint32_t, kMaxColours> colours_{};
  int capacity_;
  int size_ = 0;
};

[[noreturn]] void jpeg_failed(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  // Our input is always a valid in-memory image: any libjpeg error is a bug.
  REACH_CHECK(false, message);
}
void jpeg_quiet(j_common_ptr) {}

}  // namespace

struct TightEncoder::Zlib {
  z_stream z{};
  explicit Zlib(int level) { REACH_CHECK(deflateInit(&z, level) == Z_OK, "deflateInit failed"); }
  ~Zlib() { deflateEnd(&z); }
  Zlib(const Zlib&) = delete;
  Zlib& operator=(const Zlib&) = delete;
};

// A libjpeg compressor writing into `sink`, which grows as needed.
struct TightEncoder::Jpeg {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  jpeg_destination_mgr dest{};
  std::string sink;

  static constexpr size_t kChunk = 16384;
  static Jpeg& of(j_compress_ptr c) { return *static_cast<Jpeg*>(c->client_data); }
  static void init(j_compress_ptr c) {
    Jpeg& j = of(c);
    j.sink.resize(kChunk);
    j.point_at(0);
  }
  static boolean grow(j_compress_ptr c) {  // the whole buffer is full
    Jpeg& j = of(c);
    size_t used = j.sink.size();
    j.sink.resize(used * 2);
    j.point_at(used);
    return TRUE;
  }
  static void term(j_compress_ptr c) {
    Jpeg& j = of(c);
    j.sink.resize(j.sink.size() - j.dest.free_in_buffer);
  }
  void point_at(size_t at) {
    dest.next_output_byte = reinterpret_cast<JOCTET*>(sink.data() + at);
    dest.free_in_buffer = sink.size() - at;
  }

  Jpeg() {
    c.err = jpeg_std_error(&err);
    err.error_exit = jpeg_failed;
    err.output_message = jpeg_quiet;
    jpeg_create_compress(&c);
    c.client_data = this;
    dest.init_destination = init;
    dest.empty_output_buffer = grow;
    dest.term_destination = term;
    c.dest = &dest;
  }
  ~Jpeg() { jpeg_destroy_compress(&c); }
  Jpeg(const Jpeg&) = delete;
  Jpeg& operator=(const Jpeg&) = delete;
};

TightEncoder::TightEncoder() = default;

TightEncoder::~TightEncoder() = default;

void TightEncoder::set_compress_level(int level) {
  REACH_CHECK(level >= 0 && level <= 9, "Tight compression level out of range");
  if (level == zlib_level_) return;
  zlib_level_ = level;
  for (int i = 0; i < 4; ++i) {
    if (!zlib_[i]) continue;
    zlib_[i].reset();
    reset_pending_ |= 1u << i;
  }
}

void TightEncoder::set_quality_level(int level) {
  REACH_CHECK(level >= -1 && level <= 9, "Tight JPEG quality level out of range");
  quality_level_ = level;
}

std::vector<Rect> TightEncoder::split(const Rect& r) {
  if (r.w <= kMaxRectWidth && int64_t{r.w} * r.h <= kMaxRectPixels) return {r};
  const int tw = std::min(r.w, kMaxRectWidth), th = std::max(1, kMaxRectPixels / tw);
  std::vector<Rect> tiles;
  tiles.reserve(rect_count(r));
  for (int y = r.y; y < r.bottom(); y += th)
    for (int x = r.x; x < r.right(); x += tw)
      tiles.push_back(Rect{x, y, std::min(tw, r.right() - x), std::min(th, r.bottom() - y)});
  return tiles;
}

size_t TightEncoder::rect_count(const Rect& r) {
  if (r.w <= kMaxRectWidth && int64_t{r.w} * r.h <= kMaxRectPixels) return 1;
  const int tw = std::min(r.w, kMaxRectWidth), th = std::max(1, kMaxRectPixels / tw);
  return static_cast<size_t>((r.w + tw - 1) / tw) * ((r.h + th - 1) / th);
}

void TightEncoder::encode(const Framebuffer& fb, const Rect& r, const PixelConverter& pc,
                          std::string& out) {
  check_inside(fb, r);
  for (const Rect& t : split(r)) encode_tile(fb, t, pc, out);
}

int TightEncoder::take_resets() {
  return static_cast<int>(std::exchange(reset_pending_, 0u));
}

void TightEncoder::encode_tile(const Framebuffer& fb, const Rect& t, const PixelConverter& pc,
                               std::string& out) {
  write_rect_header(t, encoding::kTight, out);
  const int tp = tpixel_bytes(pc.format());
  const size_t n = static_cast<size_t>(t.w) * t.h;
  if (n == 0) {  // nothing to draw: the shortest valid form
    out.push_back(static_cast<char>(kFill | take_resets()));
    append_tpixel(0, tp, pc, out);
    return;
  }
  values_.resize(n);
  size_t i = 0;
  for (int y = t.y; y < t.bottom(); ++y) {
    const Pixel* row = fb.row(y);
    for (int x = t.x; x < t.right(); ++x) values_[i++] = pc.value(row[x]);
  }

  const bool jpeg_ok = quality_level_ >= 0 && pc.format().bits_per_pixel >= 16 &&
                       n >= static_cast<size_t>(kMinJpegPixels);
  // With 1-byte pixels only the 1-bit mono form is smaller than the pixels.
  const int capacity = tp == 1 ? 2 : jpeg_ok ? kMaxColoursWithJpeg : kMaxColours;
  ColourTable colours(capacity);
  bool too_many = false;
  for (size_t k = 0; k < n && !too_many; ++k)
    if (k == 0 || values_[k] != values_[k - 1]) too_many = colours.find_or_add(values_[k]) < 0;

  if (!too_many && colours.size() == 1) {
    out.push_back(static_cast<char>(kFill | take_resets()));
    append_tpixel(values_[0], tp, pc, out);
    return;
  }

  if (!too_many) {
    const int count = colours.size();
    const bool mono = count == 2;
    const size_t row_bytes = mono ? (static_cast<size_t>(t.w) + 7) / 8 : t.w;
    if (2 + static_cast<size_t>(count) * tp + row_bytes * t.h < n * tp) {
      const int stream = mono ? kMonoStream : kIndexedStream;
      out.push_back(static_cast<char>(kExplicitFilter | stream << 4 | take_resets()));
      out.push_back(static_cast<char>(kPaletteFilter));
      out.push_back(static_cast<char>(count - 1));
      for (int c = 0; c < count; ++c) append_tpixel(colours.colour(c), tp, pc, out);
      plain_.assign(row_bytes * t.h, '\0');
      uint32_t last = values_[0];
      int index = colours.find_or_add(last);
      for (int y = 0; y < t.h; ++y) {
        char* row = plain_.data() + y * row_bytes;
        for (int x = 0; x < t.w; ++x) {
          uint32_t v = values_[static_cast<size_t>(y) * t.w + x];
          if (v != last) last = v, index = colours.find_or_add(v);
          if (mono)
            row[x / 8] = static_cast<char>(row[x / 8] | index << (7 - x % 8));
          else
            row[x] = static_cast<char>(index);
        }
      }
      put_data(stream, plain_, out);
      return;
    }
  }

  if (jpeg_ok) {
    out.push_back(static_cast<char>(kJpeg | take_resets()));
    put_jpeg(fb, t, out);
    ++jpeg_tiles_;
    return;
  }

  out.push_back(static_cast<char>(kCopyStream << 4 | take_resets()));  // implicit copy filter
  plain_.clear();
  plain_.reserve(n * tp);
  for (uint32_t v : values_) append_tpixel(v, tp, pc, plain_);
  put_data(kCopyStream, plain_, out);
}

void TightEncoder::put_data(int stream, const std::string& data, std::string& out) {
  if (data.size() < kMinToCompress) {
    out.append(data);
    return;
  }
  if (!zlib_[stream]) zlib_[stream] = std::make_unique<Zlib>(zlib_level_);
  z_stream& z = zlib_[stream]->z;
  // One call: the buffer holds the whole sync-flushed chunk.
  packed_.resize(deflateBound(&z, data.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(packed_.data());
  z.avail_out = static_cast<uInt>(packed_.size());
  int rc = deflate(&z, Z_SYNC_FLUSH);
  REACH_CHECK(rc == Z_OK && z.avail_in == 0 && z.avail_out > 0, "deflate failed");
  const size_t length = packed_.size() - z.avail_out;
  put_compact_length(out, length);
  out.append(packed_.data(), length);
}

void TightEncoder::put_jpeg(const Framebuffer& fb, const Rect& t, std::string& out) {
  if (!jpeg_) jpeg_ = std::make_unique<Jpeg>();
  jpeg_compress_struct& c = jpeg_->c;
  c.image_width = static_cast<JDIMENSION>(t.w);
  c.image_height = static_cast<JDIMENSION>(t.h);
  c.input_components = 4;
  c.in_color_space = kNativeColourSpace;
  jpeg_set_defaults(&c);
  const JpegSetting& s = kJpegSettings[quality_level_];
  jpeg_set_quality(&c, s.quality, TRUE);
  c.comp_info[0].h_samp_factor = s.h_samp;
  c.comp_info[0].v_samp_factor = s.v_samp;
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW rows[16];
    JDIMENSION count = std::min<JDIMENSION>(16, c.image_height - c.next_scanline);
    for (JDIMENSION k = 0; k < count; ++k)  // libjpeg only reads the rows
      rows[k] = reinterpret_cast<JSAMPROW>(
          const_cast<Pixel*>(fb.row(t.y + static_cast<int>(c.next_scanline + k)) + t.x));
    jpeg_write_scanlines(&c, rows, count);
  }
  jpeg_finish_compress(&c);
  put_compact_length(out, jpeg_->sink.size());
  out.append(jpeg_->sink);
}

}  // namespace reach::rfb
