#include "rfb/h264.h"

#include <wels/codec_api.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "rfb/encoders.h"

namespace reach::rfb {

namespace {

void put_u32(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

// BT.601, limited range, 8-bit fixed point (the coefficients of Rec. 601 scaled by 219/255 and
// 224/255, times 256).
inline uint8_t luma(int r, int g, int b) {
  return static_cast<uint8_t>(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
}
inline uint8_t chroma_u(int r, int g, int b) {
  return static_cast<uint8_t>(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
}
inline uint8_t chroma_v(int r, int g, int b) {
  return static_cast<uint8_t>(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
}

}  // namespace

void bgrx_to_i420(const Framebuffer& fb, const Rect& r, uint8_t* y, uint8_t* u, uint8_t* v) {
  const int cw = r.w / 2;
  for (int row = 0; row < r.h; row += 2) {
    const Pixel* p0 = fb.row(r.y + row) + r.x;
    const Pixel* p1 = fb.row(r.y + row + 1) + r.x;
    uint8_t* y0 = y + static_cast<size_t>(row) * r.w;
    uint8_t* y1 = y0 + r.w;
    uint8_t* uo = u + static_cast<size_t>(row / 2) * cw;
    uint8_t* vo = v + static_cast<size_t>(row / 2) * cw;
    for (int col = 0; col < r.w; col += 2) {
      Pixel a = p0[col], b = p0[col + 1], c = p1[col], d = p1[col + 1];
      auto R = [](Pixel q) { return static_cast<int>((q >> 16) & 0xff); };
      auto G = [](Pixel q) { return static_cast<int>((q >> 8) & 0xff); };
      auto B = [](Pixel q) { return static_cast<int>(q & 0xff); };
      y0[col] = luma(R(a), G(a), B(a));
      y0[col + 1] = luma(R(b), G(b), B(b));
      y1[col] = luma(R(c), G(c), B(c));
      y1[col + 1] = luma(R(d), G(d), B(d));
      int rs = (R(a) + R(b) + R(c) + R(d) + 2) >> 2;
      int gs = (G(a) + G(b) + G(c) + G(d) + 2) >> 2;
      int bs = (B(a) + B(b) + B(c) + B(d) + 2) >> 2;
      uo[col / 2] = chroma_u(rs, gs, bs);
      vo[col / 2] = chroma_v(rs, gs, bs);
    }
  }
}

void write_h264_rect(const Rect& r, uint32_t flags, const std::string& frame, std::string& out) {
  write_rect_header(r, encoding::kOpenH264, out);
  put_u32(out, static_cast<uint32_t>(frame.size()));
  put_u32(out, flags);
  out.append(frame);
}

H264Encoder::H264Encoder(int width, int height) : width_(width), height_(height) {}

H264Encoder::~H264Encoder() {
  if (enc_) {
    enc_->Uninitialize();
    WelsDestroySVCEncoder(enc_);
  }
}

Result<std::unique_ptr<H264Encoder>> H264Encoder::create(int width, int height, int bitrate,
                                                         float frame_rate) {
  if (width < 16 || height < 16 || width % 2 || height % 2 || width > 4096 || height > 4096)
    return make_error(
        Errc::invalid, "h264Size",
        fmt::format("H.264 needs even sizes from 16 to 4096, not {}x{}", width, height));
  std::unique_ptr<H264Encoder> e(new H264Encoder(width, height));
  if (WelsCreateSVCEncoder(&e->enc_) != 0 || !e->enc_)
    return make_error(Errc::internal, "h264Encoder", "OpenH264 could not create an encoder");
  e->bitrate_ = std::max(bitrate, kMinBitrate);
  e->frame_rate_ = std::clamp(frame_rate, kMinFrameRate, kMaxFrameRate);

  SEncParamExt p;
  int quiet = WELS_LOG_ERROR;  // its warnings go to stderr, not to the agent's log
  e->enc_->SetOption(ENCODER_OPTION_TRACE_LEVEL, &quiet);
  e->enc_->GetDefaultParams(&p);
  // Camera mode, not screen content: video is used only where the screen moves like video, and
  // there it was faster (1080p scrolled text: 22 against 33 ms a frame here) and better (luma
  // 37 against 35 dB at the same 4 Mbit/s). Still areas get a lossless copy afterwards.
  p.iUsageType = CAMERA_VIDEO_REAL_TIME;
  p.iComplexityMode = LOW_COMPLEXITY;
  p.iPicWidth = width;
  p.iPicHeight = height;
  p.iTargetBitrate = e->bitrate_;
  p.iMaxBitrate = UNSPECIFIED_BIT_RATE;
  p.iRCMode = RC_BITRATE_MODE;
  p.fMaxFrameRate = e->frame_rate_;
  p.iTemporalLayerNum = 1;
  p.iSpatialLayerNum = 1;
  p.uiIntraPeriod = 0;  // IDRs only when asked for
  p.iNumRefFrame = 1;
  p.eSpsPpsIdStrategy = CONSTANT_ID;
  p.bPrefixNalAddingCtrl = false;
  p.bEnableSSEI = false;
  p.iEntropyCodingModeFlag = 0;  // CAVLC: Baseline has no CABAC
  p.bEnableFrameSkip = false;    // a skipped frame would lose a change; the window paces frames
  p.bEnableLongTermReference = false;
  p.iMultipleThreadIdc = 1;  // OpenH264 threads by slices, and a frame is one slice
  p.bEnableDenoise = false;
  p.bEnableSceneChangeDetect = true;
  p.bEnableFrameCroppingFlag = true;
  SSpatialLayerConfig& l = p.sSpatialLayers[0];
  l.iVideoWidth = width;
  l.iVideoHeight = height;
  l.fFrameRate = e->frame_rate_;
  l.iSpatialBitrate = e->bitrate_;
  l.iMaxSpatialBitrate = UNSPECIFIED_BIT_RATE;
  l.uiProfileIdc = PRO_BASELINE;
  l.uiLevelIdc = LEVEL_UNKNOWN;
  l.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
  l.sSliceArgument.uiSliceNum = 1;
  l.bVideoSignalTypePresent = true;
  l.uiVideoFormat = 5;  // unspecified
  l.bFullRange = false;
  l.bColorDescriptionPresent = true;
  l.uiColorPrimaries = 6;           // SMPTE 170M
  l.uiTransferCharacteristics = 6;  // SMPTE 170M
  l.uiColorMatrix = 6;              // SMPTE 170M (BT.601)
  if (int rc = e->enc_->InitializeExt(&p); rc != cmResultSuccess)
    return make_error(Errc::internal, "h264Encoder",
                      fmt::format("OpenH264 refused its parameters ({})", rc));
  int format = videoFormatI420;
  e->enc_->SetOption(ENCODER_OPTION_DATAFORMAT, &format);
  e->yuv_.resize(static_cast<size_t>(width) * height * 3 / 2);
  return e;
}

void H264Encoder::set_rate(int bitrate, float frame_rate) {
  bitrate = std::max(bitrate, kMinBitrate);
  frame_rate = std::clamp(frame_rate, kMinFrameRate, kMaxFrameRate);
  if (bitrate != bitrate_) {
    SBitrateInfo info{SPATIAL_LAYER_ALL, bitrate};
    enc_->SetOption(ENCODER_OPTION_BITRATE, &info);
    bitrate_ = bitrate;
  }
  if (frame_rate != frame_rate_) {
    enc_->SetOption(ENCODER_OPTION_FRAME_RATE, &frame_rate);
    frame_rate_ = frame_rate;
  }
}

Result<std::string> H264Encoder::encode(const Framebuffer& fb, const Rect& r,
                                        int64_t timestamp_ms) {
  REACH_CHECK(r.w == width_ && r.h == height_ && fb.bounds().contains(r),
              "H.264 frame of the wrong size");
  uint8_t* y = yuv_.data();
  uint8_t* u = y + static_cast<size_t>(width_) * height_;
  uint8_t* v = u + static_cast<size_t>(width_ / 2) * (height_ / 2);
  bgrx_to_i420(fb, r, y, u, v);

  SSourcePicture pic;
  std::memset(&pic, 0, sizeof pic);
  pic.iColorFormat = videoFormatI420;
  pic.iPicWidth = width_;
  pic.iPicHeight = height_;
  pic.iStride[0] = width_;
  pic.iStride[1] = pic.iStride[2] = width_ / 2;
  pic.pData[0] = y;
  pic.pData[1] = u;
  pic.pData[2] = v;
  pic.uiTimeStamp = timestamp_ms;
  if (std::exchange(force_key_, false)) enc_->ForceIntraFrame(true);

  SFrameBSInfo info;
  std::memset(&info, 0, sizeof info);
  if (int rc = enc_->EncodeFrame(&pic, &info); rc != cmResultSuccess)
    return make_error(Errc::internal, "h264Encode",
                      fmt::format("OpenH264 failed a frame ({})", rc));
  std::string frame;
  if (info.eFrameType == videoFrameTypeSkip || info.eFrameType == videoFrameTypeInvalid)
    return frame;
  frame.reserve(static_cast<size_t>(info.iFrameSizeInBytes));
  for (int i = 0; i < info.iLayerNum; ++i) {
    const SLayerBSInfo& layer = info.sLayerInfo[i];
    size_t bytes = 0;
    for (int n = 0; n < layer.iNalCount; ++n)
      bytes += static_cast<size_t>(layer.pNalLengthInByte[n]);
    frame.append(reinterpret_cast<const char*>(layer.pBsBuf), bytes);
  }
  return frame;
}

}  // namespace reach::rfb
