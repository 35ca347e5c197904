#include "rfb/server_connection.h"

#include <fmt/format.h>

#include <algorithm>

#include "rfb/wire.h"

namespace reach::rfb {
namespace {

constexpr std::string_view kServerVersion = "RFB 003.008\n";
constexpr uint8_t kSecurityNone = 1;

Error protocol_error(std::string message) {
  return make_error(Errc::invalid, "rfbProtocol", std::move(message));
}

void put_u16(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
uint16_t get_u16(const unsigned char* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t get_u32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// The client's levels for Tight: the first quality and compression pseudo-encodings listed (the
// most preferred). No quality level means no JPEG.
void apply_tight_levels(const std::vector<int32_t>& encodings, TightEncoder& tight) {
  auto level = [&](int32_t first, int32_t last) {
    for (int32_t e : encodings)
      if (e >= first && e <= last) return static_cast<int>(e - first);
    return -1;
  };
  tight.set_quality_level(level(encoding::kQualityLevel0, encoding::kQualityLevel9));
  int compress = level(encoding::kCompressLevel0, encoding::kCompressLevel9);
  tight.set_compress_level(compress >= 0 ? compress : TightEncoder::kDefaultZlibLevel);
}

std::string printable(std::string_view s) {
  std::string r;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f)
      r.push_back(static_cast<char>(c));
    else
      r += fmt::format("\\x{:02x}", c);
  }
  return r;
}

}  // namespace

ServerConnection::ServerConnection(ServerHandler& handler, int width, int height,
                                   std::string desktop_name)
    : handler_(handler),
      name_(std::move(desktop_name)),
      width_(width),
      height_(height),
      converter_(native_pixel_format()) {
  REACH_CHECK(
      width > 0 && height > 0 && width <= Framebuffer::kMaxSide && height <= Framebuffer::kMaxSide,
      "desktop size out of range");
  out_.append(kServerVersion);
}

ServerConnection::~ServerConnection() = default;

Status ServerConnection::process() {
  if (state_ == State::kFailed) return error_;
  Status status;
  for (;;) {
    Result<bool> r = process_one();
    if (!r) {
      state_ = State::kFailed;
      error_ = r.error();
      status = error_;
      break;
    }
    if (!*r) break;
  }
  in_.erase(0, in_pos_);
  in_pos_ = 0;
  return status;
}

Result<bool> ServerConnection::process_one() {
  switch (state_) {
    case State::kVersion:
      return on_version();
    case State::kAdmission:
      return on_admission();
    case State::kSecurity:
      return on_security();
    case State::kClientInit:
      return on_client_init();
    case State::kReady:
      return on_message();
    case State::kFailed:
      break;
  }
  return error_;
}

Result<bool> ServerConnection::on_version() {
  if (in_.size() - in_pos_ < 12) return false;
  std::string_view v(in_.data() + in_pos_, 12);
  auto digits = [&](size_t at) {
    int n = 0;
    for (size_t i = at; i < at + 3; ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      n = n * 10 + (v[i] - '0');
    }
    return n;
  };
  int major = digits(4), minor = digits(8);
  if (v.substr(0, 4) != "RFB " || v[7] != '.' || v[11] != '\n' || major < 0 || minor < 0) {
    std::string reason = "not an RFB protocol version: \"" + printable(v) + "\"";
    write_failure_reason(reason);
    return protocol_error(reason);
  }
  // RFC 6143 §7.1.1: versions other than 3.3/3.7/3.8 that some software reports are treated as
  // 3.3; anything from 3.8 up (e.g. 3.889) takes the 3.8 handshake.
  if (major != 3 || minor < 3) {
    std::string reason = fmt::format("unsupported RFB protocol version {}.{}", major, minor);
    write_failure_reason(reason);
    return protocol_error(reason);
  }
  minor_ = minor >= 8 ? 8 : minor == 7 ? 7 : 3;
  in_pos_ += 12;
  if (hold_admission_) {
    state_ = State::kAdmission;
    handler_.admission_requested();
    return true;
  }
  write_security_offer();
  return true;
}

void ServerConnection::write_security_offer() {
  if (minor_ == 3) {
    put_u32(out_, kSecurityNone);  // 3.3: the server decides; no SecurityResult for None
    state_ = State::kClientInit;
  } else {
    out_.push_back(1);  // number-of-security-types
    out_.push_back(static_cast<char>(kSecurityNone));
    state_ = State::kSecurity;
  }
}

Result<bool> ServerConnection::on_admission() {
  // The client speaks next only after the security offer; bytes now are a broken client.
  if (in_.size() > in_pos_)
    return protocol_error("the client sent data before the server offered security types");
  return false;
}

void ServerConnection::admit() {
  REACH_CHECK(state_ == State::kAdmission, "admit() outside admission");
  write_security_offer();
}

void ServerConnection::refuse(const std::string& reason) {
  REACH_CHECK(state_ == State::kAdmission, "refuse() outside admission");
  if (minor_ == 3)
    put_u32(out_, 0);  // 3.3: security-type 0 (invalid), then the reason
  else
    out_.push_back(0);  // 3.7/3.8: zero security types, then the reason
  put_u32(out_, static_cast<uint32_t>(reason.size()));
  out_.append(reason);
  state_ = State::kFailed;
  error_ = make_error(Errc::forbidden, "rfbRefused", reason);
}

Result<bool> ServerConnection::on_security() {
  if (in_.size() - in_pos_ < 1) return false;
  auto type = static_cast<uint8_t>(in_[in_pos_++]);
  if (type != kSecurityNone) {
    std::string reason = fmt::format("security type {} was not offered (only 1, None)", type);
    write_failure_reason(reason);
    return protocol_error(reason);
  }
  if (minor_ == 8) put_u32(out_, 0);  // SecurityResult OK (3.7 sends none for None)
  state_ = State::kClientInit;
  return true;
}

Result<bool> ServerConnection::on_client_init() {
  if (in_.size() - in_pos_ < 1) return false;
  shared_ = in_[in_pos_++] != 0;
  write_server_init();
  state_ = State::kReady;
  return true;
}

void ServerConnection::write_server_init() {
  put_u16(out_, width_);
  put_u16(out_, height_);
  write_pixel_format(native_pixel_format(), out_);
  put_u32(out_, static_cast<uint32_t>(name_.size()));
  out_.append(name_);
}

void ServerConnection::write_failure_reason(const std::string& reason) {
  switch (state_) {
    case State::kVersion:  // the 3.7/3.8 form: zero security types, then the reason
      out_.push_back(0);
      break;
    case State::kSecurity:
      if (minor_ != 8) return;  // 3.7 has no SecurityResult: just close
      put_u32(out_, 1);         // SecurityResult failed
      break;
    default:
      return;
  }
  put_u32(out_, static_cast<uint32_t>(reason.size()));
  out_.append(reason);
}

Result<bool> ServerConnection::on_message() {
  const size_t avail = in_.size() - in_pos_;
  if (avail < 1) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + in_pos_);
  switch (p[0]) {
    case 0: {  // SetPixelFormat: type, 3 padding, PIXEL_FORMAT
      if (avail < 4 + kPixelFormatBytes) return false;
      PixelFormat pf = parse_pixel_format(p + 4);
      if (auto ok = validate(pf); !ok) return ok.error();
      converter_ = PixelConverter(pf);
      in_pos_ += 4 + kPixelFormatBytes;
      handler_.pixel_format_changed(pf);
      return true;
    }
    case 2: {  // SetEncodings: type, padding, U16 count, S32 x count
      if (avail < 4) return false;
      size_t count = get_u16(p + 2);
      if (count > kMaxEncodings)
        return protocol_error(
            fmt::format("SetEncodings with {} encodings (limit {})", count, kMaxEncodings));
      if (avail < 4 + 4 * count) return false;
      encodings_.clear();
      for (size_t i = 0; i < count; ++i)
        encodings_.push_back(static_cast<int32_t>(get_u32(p + 4 + 4 * i)));
      in_pos_ += 4 + 4 * count;
      apply_tight_levels(encodings_, tight_);
      handler_.encodings_changed(encodings_);
      announce_extensions();
      return true;
    }
    case 3: {  // FramebufferUpdateRequest: type, incremental, U16 x, y, w, h
      if (avail < 10) return false;
      Rect r{get_u16(p + 2), get_u16(p + 4), get_u16(p + 6), get_u16(p + 8)};
      if (r.x >= width_ || r.y >= height_)
        return protocol_error(
            fmt::format("FramebufferUpdateRequest {}x{} at {},{} lies outside the {}x{} desktop",
                        r.w, r.h, r.x, r.y, width_, height_));
      in_pos_ += 10;
      Rect clipped = r.intersect(Rect{0, 0, width_, height_});
      if (!clipped.empty()) handler_.update_requested(p[1] != 0, clipped);
      return true;
    }
    case 4: {  // KeyEvent: type, down-flag, 2 padding, U32 keysym
      if (avail < 8) return false;
      in_pos_ += 8;
      handler_.key_event(p[1] != 0, get_u32(p + 4));
      return true;
    }
    case 5: {  // PointerEvent: type, button-mask, U16 x, y
      if (avail < 6) return false;
      in_pos_ += 6;
      int x = std::min<int>(get_u16(p + 2), width_ - 1);
      int y = std::min<int>(get_u16(p + 4), height_ - 1);
      handler_.pointer_event(p[1], x, y);
      return true;
    }
    case 6: {  // ClientCutText: type, 3 padding, U32 length, text
      if (avail < 8) return false;
      uint32_t length = get_u32(p + 4);
      if (length > kMaxCutText)
        return protocol_error(fmt::format(
            "cut text too long: {} bytes (limit {}){}", length, kMaxCutText,
            length & 0x80000000u ? "; negative lengths (extended clipboard) are not supported"
                                 : ""));
      if (avail < 8 + length) return false;
      in_pos_ += 8 + length;
      handler_.cut_text(std::string_view(reinterpret_cast<const char*>(p + 8), length));
      return true;
    }
    case 150: {  // EnableContinuousUpdates: type, enable-flag, U16 x, y, w, h
      if (avail < 10) return false;
      if (!cu_announced_)
        return protocol_error("EnableContinuousUpdates from a client that was not offered them");
      Rect r{get_u16(p + 2), get_u16(p + 4), get_u16(p + 6), get_u16(p + 8)};
      const bool enable = p[1] != 0;
      Rect clipped = r.intersect(Rect{0, 0, width_, height_});
      if (enable && clipped.empty())
        return protocol_error(
            fmt::format("EnableContinuousUpdates for {}x{} at {},{}, outside the {}x{} desktop",
                        r.w, r.h, r.x, r.y, width_, height_));
      in_pos_ += 10;
      continuous_ = enable;
      if (enable) continuous_area_ = clipped;
      if (!enable) out_.push_back(static_cast<char>(150));  // EndOfContinuousUpdates
      handler_.continuous_updates_changed(enable, enable ? clipped : continuous_area_);
      return true;
    }
    case 248: {  // ClientFence: type, 3 padding, U32 flags, U8 length, payload
      if (avail < 9) return false;
      if (!fence_sent_) return protocol_error("Fence from a client that was not offered fences");
      const size_t length = p[8];
      if (length > kMaxFencePayload)
        return protocol_error(
            fmt::format("Fence with {} bytes of payload (limit {})", length, kMaxFencePayload));
      if (avail < 9 + length) return false;
      const uint32_t flags = get_u32(p + 4);
      std::string_view payload(reinterpret_cast<const char*>(p + 9), length);
      in_pos_ += 9 + length;
      if (flags & kFenceRequest) {
        // Messages are handled in order, one at a time: blocking before or after the fence is
        // what happens anyway. The answer carries only the flags honoured, Request cleared.
        write_fence(flags & (kFenceBlockBefore | kFenceBlockAfter), payload);
      } else {
        handler_.fence_answered(payload);
      }
      return true;
    }
    default:
      return protocol_error(fmt::format("unknown client message type {}", p[0]));
  }
}

void ServerConnection::offer_continuous_updates() {
  offer_cu_ = true;
  if (state_ == State::kReady) announce_extensions();
}

void ServerConnection::announce_extensions() {
  if (!offer_cu_ || state_ != State::kReady) return;
  const bool listed =
      std::find(encodings_.begin(), encodings_.end(), encoding::kFence) != encodings_.end() &&
      std::find(encodings_.begin(), encodings_.end(), encoding::kContinuousUpdates) !=
          encodings_.end();
  if (!listed) return;
  if (!fence_sent_) {
    fence_sent_ = true;
    write_fence(kFenceRequest, {});
  }
  if (!cu_announced_) {
    cu_announced_ = true;
    out_.push_back(static_cast<char>(150));  // EndOfContinuousUpdates: "they are taken"
  }
}

void ServerConnection::write_fence(uint32_t flags, std::string_view payload) {
  REACH_CHECK(fence_sent_, "write_fence before fences were agreed");
  REACH_CHECK(payload.size() <= kMaxFencePayload, "fence payload over 64 bytes");
  out_.push_back(static_cast<char>(248));
  out_.append(3, '\0');
  put_u32(out_, flags);
  out_.push_back(static_cast<char>(payload.size()));
  out_.append(payload);
}

bool ServerConnection::video_active() const {
  return video_allowed_ && client_supports(encoding::kOpenH264);
}

void ServerConnection::set_video_rate(int bitrate, float frame_rate) {
  video_bitrate_ = bitrate;
  video_frame_rate_ = frame_rate;
  for (auto& c : video_) c.encoder->set_rate(bitrate, frame_rate);
}

H264Encoder* ServerConnection::video_context(const Rect& area, bool& fresh) {
  fresh = false;
  for (auto& c : video_)
    if (c.area == area) {
      c.last_used = ++video_tick_;
      return c.encoder.get();
    }
  auto enc = H264Encoder::create(area.w, area.h, video_bitrate_, video_frame_rate_);
  if (!enc) return nullptr;
  if (video_.size() >= kMaxVideoContexts)
    video_.erase(std::min_element(video_.begin(), video_.end(), [](const auto& a, const auto& b) {
      return a.last_used < b.last_used;
    }));
  fresh = true;
  video_.push_back({area, std::move(*enc), ++video_tick_});
  return video_.back().encoder.get();
}

bool ServerConnection::client_supports(int32_t e) const {
  return e == encoding::kRaw ||
         std::find(encodings_.begin(), encodings_.end(), e) != encodings_.end();
}

Status ServerConnection::write_update(const Framebuffer& fb, const Update& update) {
  REACH_CHECK(ready(), "write_update before the handshake finished");
  const bool resized = fb.width() != width_ || fb.height() != height_;
  if (resized && !client_supports(encoding::kDesktopSize))
    return protocol_error(
        fmt::format("the desktop is now {}x{} and the client does not take DesktopSize", fb.width(),
                    fb.height()));

  std::vector<CopyOp> copies;
  std::vector<Rect> changed;
  const bool can_copy = !resized && client_supports(encoding::kCopyRect);
  for (const CopyOp& c : update.copies) {
    Rect dst = c.dst.intersect(fb.bounds());
    if (dst.empty()) continue;
    CopyOp op{dst, c.src_x + (dst.x - c.dst.x), c.src_y + (dst.y - c.dst.y)};
    if (can_copy && fb.bounds().contains(Rect{op.src_x, op.src_y, dst.w, dst.h}))
      copies.push_back(op);
    else
      changed.push_back(dst);
  }
  for (const Rect& r : update.changed) {
    Rect c = r.intersect(fb.bounds());
    if (!c.empty()) changed.push_back(c);
  }
  // Video first: an area whose frame cannot be made goes with the changes, and the rectangle
  // count is written before any of them.
  struct VideoFrame {
    Rect area;
    uint32_t flags;
    std::string frame;
  };
  std::vector<VideoFrame> frames;
  for (const Rect& r : update.video) {
    Rect c = r.intersect(fb.bounds());
    if (c.empty()) continue;
    bool fresh = false;
    H264Encoder* enc = nullptr;
    if (video_active() && !resized && c == r && c.w >= 16 && c.h >= 16 && c.w % 2 == 0 &&
        c.h % 2 == 0)
      enc = video_context(c, fresh);
    if (!enc) {
      changed.push_back(c);
      continue;
    }
    if (fresh) enc->force_key_frame();
    auto frame = enc->encode(fb, c, update.time_ms);
    if (!frame || frame->empty()) {
      changed.push_back(c);  // not taken by the encoder: still shown, without loss
      continue;
    }
    frames.push_back({c, fresh ? kH264ResetContext : 0u, std::move(*frame)});
  }
  const bool send_cursor = update.cursor && client_supports(encoding::kCursor);
  const size_t pseudo = (resized ? 1 : 0) + (send_cursor ? 1 : 0);

  int32_t pixel_encoding = encoding::kRaw;
  for (int32_t e : encodings_) {
    if (e == encoding::kRaw || e == encoding::kZrle || e == encoding::kTight) {
      pixel_encoding = e;
      break;
    }
  }
  auto pixel_rects = [&] {  // Tight sends big rectangles as several
    if (pixel_encoding != encoding::kTight) return changed.size();
    size_t n = 0;
    for (const Rect& r : changed) n += TightEncoder::rect_count(r);
    return n;
  };
  if (pseudo + frames.size() + copies.size() + pixel_rects() > kMaxRectsPerUpdate) {
    Rect all;
    for (const CopyOp& c : copies) all = all.united(c.dst);
    for (const Rect& r : changed) all = all.united(r);
    copies.clear();
    changed.assign(1, all);
  }
  // Only a desktop of some four billion pixels is more Tight tiles than an update holds.
  if (pseudo + frames.size() + pixel_rects() > kMaxRectsPerUpdate)
    pixel_encoding = client_supports(encoding::kZrle) ? encoding::kZrle : encoding::kRaw;

  write_update_header(static_cast<uint16_t>(pseudo + copies.size() + pixel_rects() + frames.size()),
                      out_);
  if (resized) {
    encode_desktop_size(fb.width(), fb.height(), out_);
    width_ = fb.width();
    height_ = fb.height();
  }
  if (send_cursor) encode_cursor(*update.cursor, converter_, out_);
  for (const CopyOp& c : copies) encode_copy_rect(c.dst, c.src_x, c.src_y, out_);
  // With a progress sink, what is encoded leaves while the rest is being encoded.
  auto progress = [&] {
    if (progress_sink_ && out_.size() >= progress_bytes_) progress_sink_();
  };
  const int quality = tight_.quality_level();
  if (update.lossless) tight_.set_quality_level(-1);
  for (const Rect& r : changed) {
    if (pixel_encoding == encoding::kTight) {
      for (const Rect& tile : TightEncoder::split(r)) {
        const uint64_t jpeg_before = tight_.jpeg_tiles();
        tight_.encode(fb, tile, converter_, out_);
        if (tight_.jpeg_tiles() != jpeg_before) lossy_.push_back(tile);
        progress();
      }
    } else if (pixel_encoding == encoding::kZrle) {
      zrle_.encode(fb, r, converter_, out_);
    } else {
      encode_raw(fb, r, converter_, out_);
    }
    progress();
  }
  tight_.set_quality_level(quality);
  for (const VideoFrame& f : frames) {
    write_h264_rect(f.area, f.flags, f.frame, out_);
    lossy_.push_back(f.area);
    ++video_frames_;
    video_bytes_ += f.frame.size();
    progress();
  }
  return {};
}

void ServerConnection::write_bell() {
  REACH_CHECK(ready(), "write_bell before the handshake finished");
  out_.push_back(2);
}

void ServerConnection::write_server_cut_text(std::string_view latin1) {
  REACH_CHECK(ready(), "write_server_cut_text before the handshake finished");
  REACH_CHECK(latin1.size() <= 0xffffffffu, "cut text too long");
  out_.push_back(3);
  out_.append(3, '\0');
  put_u32(out_, static_cast<uint32_t>(latin1.size()));
  out_.append(latin1);
}

}  // namespace reach::rfb
