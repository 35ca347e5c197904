// The H.264 encoder against OpenH264's own decoder: what it writes is the bitstream noVNC expects
// (Annex B, Constrained Baseline, SPS and PPS before every IDR, one slice per frame), and a moving
// pattern comes back close to what was encoded.
#include "rfb/h264.h"

#include <gtest/gtest.h>
#include <wels/codec_api.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace reach::rfb {
namespace {

// The NAL unit types of an Annex B stream, in order (each after a 3- or 4-byte start code).
std::vector<int> nal_types(const std::string& s) {
  std::vector<int> types;
  for (size_t i = 0; i + 3 < s.size(); ++i) {
    if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1) {
      types.push_back(static_cast<uint8_t>(s[i + 3]) & 0x1f);
      i += 3;
    }
  }
  return types;
}

// The SPS's profile_idc and constraint flags byte (the two bytes after its NAL header).
std::pair<int, int> sps_profile(const std::string& s) {
  for (size_t i = 0; i + 5 < s.size(); ++i)
    if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1 && (static_cast<uint8_t>(s[i + 3]) & 0x1f) == 7)
      return {static_cast<uint8_t>(s[i + 4]), static_cast<uint8_t>(s[i + 5])};
  return {-1, -1};
}

// A desktop-like picture: a gradient, dark "text" strokes, and a bright square at `t`.
void draw(Framebuffer& fb, int t) {
  for (int y = 0; y < fb.height(); ++y)
    for (int x = 0; x < fb.width(); ++x) {
      uint32_t r = (x * 255) / fb.width(), g = (y * 255) / fb.height(), b = 160;
      if (y % 16 < 10 && (x / 3 + y / 16) % 5 != 0 && y % 16 > 3) r = g = b = 40;  // "text"
      fb.at(x, y) = (r << 16) | (g << 8) | b;
    }
  fb.fill(Rect{(t * 7) % (fb.width() - 64), (t * 3) % (fb.height() - 64), 64, 64}, 0xffd000);
}

struct Decoder {
  ISVCDecoder* dec = nullptr;
  Decoder() {
    EXPECT_EQ(WelsCreateDecoder(&dec), 0);
    SDecodingParam p;
    std::memset(&p, 0, sizeof p);
    p.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
    EXPECT_EQ(dec->Initialize(&p), 0);
  }
  ~Decoder() {
    dec->Uninitialize();
    WelsDestroyDecoder(dec);
  }
  std::vector<uint8_t> luma;  // of the last frame decoded
  // Decodes one frame and returns it as 0x00RRGGBB (BT.601 limited range), or empty.
  std::vector<Pixel> decode(const std::string& frame, int w, int h) {
    unsigned char* planes[3] = {};
    SBufferInfo info;
    std::memset(&info, 0, sizeof info);
    auto rc = dec->DecodeFrameNoDelay(reinterpret_cast<const unsigned char*>(frame.data()),
                                      static_cast<int>(frame.size()), planes, &info);
    if (rc != 0 || info.iBufferStatus != 1) return {};
    const auto& sb = info.UsrData.sSystemBuffer;
    EXPECT_EQ(sb.iWidth, w);
    EXPECT_EQ(sb.iHeight, h);
    std::vector<Pixel> out(static_cast<size_t>(w) * h);
    luma.resize(out.size());
    for (int y = 0; y < h; ++y)
      std::memcpy(&luma[static_cast<size_t>(y) * w], planes[0] + y * sb.iStride[0], w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        double Y = planes[0][y * sb.iStride[0] + x] - 16.0;
        double U = planes[1][(y / 2) * sb.iStride[1] + x / 2] - 128.0;
        double V = planes[2][(y / 2) * sb.iStride[1] + x / 2] - 128.0;
        auto c = [](double v) {
          return static_cast<uint32_t>(std::clamp(std::lround(v), 0L, 255L));
        };
        uint32_t r = c(1.164 * Y + 1.596 * V);
        uint32_t g = c(1.164 * Y - 0.392 * U - 0.813 * V);
        uint32_t b = c(1.164 * Y + 2.017 * U);
        out[static_cast<size_t>(y) * w + x] = (r << 16) | (g << 8) | b;
      }
    return out;
  }
};

double psnr_of(double se, double samples) {
  double mse = se / samples;
  return mse == 0 ? 99.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

// The codec's own loss: the decoded luma against the luma it was given.
double luma_psnr(const Framebuffer& fb, const Rect& r, const std::vector<uint8_t>& got) {
  std::vector<uint8_t> y(static_cast<size_t>(r.w) * r.h), u(y.size() / 4), v(y.size() / 4);
  bgrx_to_i420(fb, r, y.data(), u.data(), v.data());
  double se = 0;
  for (size_t i = 0; i < y.size(); ++i) se += std::pow(double(y[i]) - double(got[i]), 2);
  return psnr_of(se, static_cast<double>(y.size()));
}

// What a viewer shows against the screen: the codec's loss and 4:2:0's together.
double psnr(const Framebuffer& fb, const Rect& r, const std::vector<Pixel>& got) {
  double se = 0;
  for (int y = 0; y < r.h; ++y)
    for (int x = 0; x < r.w; ++x) {
      Pixel a = fb.at(r.x + x, r.y + y), b = got[static_cast<size_t>(y) * r.w + x];
      for (int shift : {0, 8, 16}) {
        double d = static_cast<int>((a >> shift) & 0xff) - static_cast<int>((b >> shift) & 0xff);
        se += d * d;
      }
    }
  return psnr_of(se, 3.0 * r.w * r.h);
}

TEST(H264Encoder, AMovingPatternDecodesWithOpenH264sOwnDecoder) {
  Framebuffer fb(400, 300);
  const Rect area{40, 20, 320, 240};  // a part of the screen, as the agent sends it
  auto enc = H264Encoder::create(area.w, area.h, 2'000'000, 30);
  ASSERT_TRUE(enc) << enc.error().message;
  Decoder dec;
  double worst = 99, worst_luma = 99;
  size_t bytes = 0;
  for (int t = 0; t < 45; ++t) {
    draw(fb, t);
    if (t == 30) (*enc)->force_key_frame();
    auto frame = (*enc)->encode(fb, area, t * 33);
    ASSERT_TRUE(frame) << frame.error().message;
    ASSERT_FALSE(frame->empty()) << "frame " << t << " was skipped";
    bytes += frame->size();
    auto types = nal_types(*frame);
    if (t == 0 || t == 30) {
      // SPS and PPS before every IDR, and one slice.
      EXPECT_EQ(types, (std::vector<int>{7, 8, 5})) << "frame " << t;
      auto [profile, constraints] = sps_profile(*frame);
      EXPECT_EQ(profile, 66) << "Baseline";
      EXPECT_TRUE(constraints & 0x40) << "Constrained Baseline (constraint_set1_flag)";
    } else {
      EXPECT_EQ(types, (std::vector<int>{1})) << "frame " << t << ": one P slice";
    }
    auto got = dec.decode(*frame, area.w, area.h);
    ASSERT_FALSE(got.empty()) << "frame " << t << " did not decode";
    worst = std::min(worst, psnr(fb, area, got));
    worst_luma = std::min(worst_luma, luma_psnr(fb, area, dec.luma));
  }
  // The codec's loss (luma against luma). A frame decoded from the wrong place or a broken
  // reference falls far below.
  EXPECT_GT(worst_luma, 34.0);
  // What a viewer shows against the screen. This picture's coloured 3-pixel strokes are 4:2:0's
  // worst case: converting to I420 and back alone gives 29.9 dB; a swapped colour matrix or
  // swapped chroma planes fall below 20.
  EXPECT_GT(worst, 27.0);
  // And the rate control holds roughly to its target: 45 frames at 30 fps, 2 Mbit/s, is about
  // 375 kB (the first IDR and the forced one on top).
  EXPECT_LT(bytes, 800'000u);
}

TEST(H264Encoder, ALostContextRecoversFromAKeyFrame) {
  Framebuffer fb(160, 96);
  const Rect area{0, 0, 160, 96};
  auto enc = H264Encoder::create(area.w, area.h, 500'000, 30);
  ASSERT_TRUE(enc);
  for (int t = 0; t < 3; ++t) {
    draw(fb, t);
    ASSERT_TRUE((*enc)->encode(fb, area, t * 33));
  }
  // A viewer that starts here (a new context) can decode only from an IDR.
  Decoder late;
  draw(fb, 3);
  (*enc)->force_key_frame();
  auto key = (*enc)->encode(fb, area, 99);
  ASSERT_TRUE(key);
  auto got = late.decode(*key, area.w, area.h);
  ASSERT_FALSE(got.empty());
  EXPECT_GT(luma_psnr(fb, area, late.luma), 30.0);
}

TEST(H264Encoder, SizesItCannotEncodeAreRefused) {
  EXPECT_FALSE(H264Encoder::create(15, 16, 1'000'000, 30));
  EXPECT_FALSE(H264Encoder::create(16, 17, 1'000'000, 30));
  EXPECT_FALSE(H264Encoder::create(8192, 16, 1'000'000, 30));
  EXPECT_TRUE(H264Encoder::create(16, 16, 1'000'000, 30));
}

TEST(H264Encoder, RatesAreClampedToWhatOpenH264Takes) {
  auto enc = H264Encoder::create(64, 64, 10, 90);
  ASSERT_TRUE(enc);
  EXPECT_EQ((*enc)->bitrate(), H264Encoder::kMinBitrate);
  EXPECT_EQ((*enc)->frame_rate(), H264Encoder::kMaxFrameRate);
  (*enc)->set_rate(3'000'000, 0.1f);
  EXPECT_EQ((*enc)->bitrate(), 3'000'000);
  EXPECT_EQ((*enc)->frame_rate(), H264Encoder::kMinFrameRate);
}

TEST(Bt601, KnownColoursConvertAsTheStandardSays) {
  Framebuffer fb(2, 2);
  auto check = [&](Pixel p, int y, int u, int v) {
    fb.fill(fb.bounds(), p);
    uint8_t Y[4], U[1], V[1];
    bgrx_to_i420(fb, fb.bounds(), Y, U, V);
    // Rec. 601's values rounded; 8-bit fixed point may land one below.
    EXPECT_NEAR(Y[0], y, 1) << std::hex << p;
    EXPECT_NEAR(U[0], u, 1) << std::hex << p;
    EXPECT_NEAR(V[0], v, 1) << std::hex << p;
  };
  check(0x000000, 16, 128, 128);
  check(0xffffff, 235, 128, 128);
  check(0xff0000, 82, 90, 240);
  check(0x00ff00, 145, 54, 34);
  check(0x0000ff, 41, 240, 110);
}

TEST(Bt601, ChromaIsTheAverageOfEachTwoByTwoBlock) {
  Framebuffer fb(2, 2);
  fb.at(0, 0) = fb.at(1, 1) = 0xff0000;
  fb.at(1, 0) = fb.at(0, 1) = 0x0000ff;
  uint8_t Y[4], U[1], V[1];
  bgrx_to_i420(fb, fb.bounds(), Y, U, V);
  EXPECT_EQ(Y[0], 82);
  EXPECT_EQ(Y[1], 41);
  // The average colour is (128, 0, 128).
  EXPECT_EQ(U[0], 128 + ((-38 * 128 + 112 * 128 + 128) >> 8));
  EXPECT_EQ(V[0], 128 + ((112 * 128 - 18 * 128 + 128) >> 8));
}

TEST(H264Rect, HeaderLengthFlagsThenTheFrame) {
  std::string out;
  write_h264_rect(Rect{1, 2, 16, 32}, kH264ResetContext, std::string("\x00\x00\x01\x65", 4), out);
  const std::string want(
      "\x00\x01\x00\x02\x00\x10\x00\x20\x00\x00\x00\x32"  // rect, encoding 50
      "\x00\x00\x00\x04\x00\x00\x00\x01"                  // length, flags
      "\x00\x00\x01\x65",
      24);
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace reach::rfb
