// What the H.264 encoder aims at (issue 22): a bitrate and a frame rate from what the link
// delivers and what the viewer asked for, latency first, then frame rate, then quality.
//
// The viewer's JPEG quality level (0..9, noVNC's "quality" setting: the relay's viewer maps its
// "prefer speed / automatic / prefer quality" choice onto it) sets a ceiling in bits per pixel
// per frame. Under it the rate follows the link: while updates had to wait for the flow window
// (flow_window.h), the link is the limit and the bitrate drops to kShare of the delivery rate the
// window measured; while they did not, it climbs by kClimb per step towards the ceiling. The
// frame rate is what the bitrate buys at kMinBitsPerPixel a frame, from kMinFrameRate to
// kMaxFrameRate: on a thin link frames come less often before they get worse.
//
// Sans-I/O: times are given. Thread-safety: none (the session thread's).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace reach::agent {

class VideoRate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMinBitrate = 250'000;
  static constexpr int kStartBitrate = 2'000'000;
  static constexpr double kShare = 0.7;
  static constexpr double kClimb = 1.15;
  static constexpr auto kStep = std::chrono::milliseconds(250);
  static constexpr double kMinBitsPerPixel = 0.03;
  static constexpr float kMinFrameRate = 10;
  static constexpr float kMaxFrameRate = 30;

  // The most bits per second a video area of `pixels` gets at the viewer's quality `level`
  // (-1: none asked, taken as 9).
  static int ceiling(int level, std::int64_t pixels) {
    if (level < 0) level = 9;
    double bpp = 0.02 + 0.01 * std::clamp(level, 0, 9);
    return static_cast<int>(
        std::clamp(bpp * static_cast<double>(pixels) * kMaxFrameRate, double{kMinBitrate}, 50e6));
  }

  // At each video frame: whether updates waited for the window since the last call, the window's
  // delivery rate (bytes per second; 0 before it knows), the viewer's quality level and the area.
  void update(bool window_limited, double delivery, int level, std::int64_t pixels,
              Clock::time_point now) {
    limited_ = limited_ || window_limited;
    if (started_ && now - last_step_ < kStep) return;
    const int cap = ceiling(level, pixels);
    if (!started_) {
      bitrate_ = std::min(kStartBitrate, cap);
      started_ = true;
    } else if (limited_ && delivery > 0) {
      bitrate_ = std::min(bitrate_, static_cast<int>(kShare * delivery * 8));
    } else if (!limited_) {
      bitrate_ = static_cast<int>(std::min<double>(cap, bitrate_ * kClimb));
    }
    bitrate_ = std::clamp(bitrate_, kMinBitrate, std::max(cap, kMinBitrate));
    frame_rate_ = static_cast<float>(std::clamp(
        bitrate_ / (kMinBitsPerPixel * static_cast<double>(std::max<std::int64_t>(pixels, 1))),
        double{kMinFrameRate}, double{kMaxFrameRate}));
    limited_ = false;
    last_step_ = now;
  }

  int bitrate() const { return bitrate_; }
  float frame_rate() const { return frame_rate_; }
  Clock::duration frame_interval() const {
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / frame_rate_));
  }

 private:
  bool started_ = false;
  bool limited_ = false;
  int bitrate_ = kStartBitrate;
  float frame_rate_ = kMaxFrameRate;
  Clock::time_point last_step_{};
};

}  // namespace reach::agent
