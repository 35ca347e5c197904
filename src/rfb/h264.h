// H.264 for RFB's "Open H.264" encoding (50; rfbproto): an area of the framebuffer that changes
// like video is sent as one coded frame per update, from an OpenH264 encoder kept for that area.
//
// What viewers expect (noVNC 1.7's decoders/h264.js, which hands the frames to WebCodecs): per
// rectangle a U32 length and U32 flags (bit 0: reset this rectangle's context, bit 1: reset every
// context), then whole frames in Annex B (start codes); Constrained Baseline; SPS and PPS before
// every IDR; exactly one slice per frame (each slice becomes its own chunk there). A viewer keys
// its decoders by the rectangle's x, y, width and height, so one area keeps one encoder.
//
// Colour: the framebuffer's 0x00RRGGBB pixels become I420 with BT.601 limited-range coefficients,
// and the SPS says so (VUI colour description), so a browser converts back with the same matrix.
// Frames are lossy: callers send a lossless copy of an area once it has stopped changing.
//
// Thread-safety: an H264Encoder belongs to one thread (its connection's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "rfb/framebuffer.h"

class ISVCEncoder;

namespace reach::rfb {

namespace encoding {
inline constexpr int32_t kOpenH264 = 50;
}

inline constexpr uint32_t kH264ResetContext = 1u << 0;
inline constexpr uint32_t kH264ResetAllContexts = 1u << 1;

class H264Encoder {
 public:
  // OpenH264's limits for its rate control's frame rate (MIN_FRAME_RATE, MAX_FRAME_RATE).
  static constexpr float kMinFrameRate = 1.0f;
  static constexpr float kMaxFrameRate = 30.0f;
  static constexpr int kMinBitrate = 64'000;

  // An encoder for frames of `width` x `height` (even, at least 16 each) aiming at `bitrate`
  // bits per second at `frame_rate` frames per second. Errors: sizes out of range (invalid),
  // OpenH264 refusing (internal).
  static Result<std::unique_ptr<H264Encoder>> create(int width, int height, int bitrate,
                                                     float frame_rate);
  ~H264Encoder();
  H264Encoder(const H264Encoder&) = delete;
  H264Encoder& operator=(const H264Encoder&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }

  // The area `r` of `fb` (r.w == width(), r.h == height(), inside fb) as one coded frame in
  // Annex B: SPS, PPS and an IDR slice for the first frame and after force_key_frame(), else one
  // P slice. `timestamp_ms` grows with real time (the rate control reads it).
  Result<std::string> encode(const Framebuffer& fb, const Rect& r, int64_t timestamp_ms);
  // The next frame is an IDR (with SPS and PPS), so a viewer that lost its context recovers.
  void force_key_frame() { force_key_ = true; }
  // New targets for the frames that follow (clamped to the limits above).
  void set_rate(int bitrate, float frame_rate);
  int bitrate() const { return bitrate_; }
  float frame_rate() const { return frame_rate_; }

 private:
  H264Encoder(int width, int height);

  ISVCEncoder* enc_ = nullptr;
  int width_;
  int height_;
  int bitrate_ = 0;
  float frame_rate_ = 0;
  bool force_key_ = false;
  std::vector<uint8_t> yuv_;  // I420 planes of one frame
};

// Converts the area `r` of `fb` to I420 (BT.601, limited range): `y` holds r.w*r.h bytes, `u` and
// `v` (r.w/2)*(r.h/2) each (r.w and r.h even). Chroma is the average of each 2x2 block.
void bgrx_to_i420(const Framebuffer& fb, const Rect& r, uint8_t* y, uint8_t* u, uint8_t* v);

// An Open H.264 rectangle: header (encoding 50), U32 length, U32 flags, then `frame`.
void write_h264_rect(const Rect& r, uint32_t flags, const std::string& frame, std::string& out);

}  // namespace reach::rfb
