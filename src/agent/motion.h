// Which part of the screen moves like video, and when what was sent with loss is due an exact
// copy (issue 22). The session asks before each update; the RFB core does the encoding.
//
// Video: an update whose damage rectangles of at least kMinMotionSide by kMinMotionSide pixels
// (a line of text, however long, is not motion: typing's echo) cover kMinBusyPixels
// is busy (a cursor, a clock or typing beside moving content never counts). kBusyUpdates busy
// updates (two seconds: on a slow link a whole-screen update as Tight takes that long) within
// kBusyPeriod start a video area: the box around their damage, on a kAlign grid (H.264's
// macroblocks), clipped to the screen with even sides. While it lasts, an update whose damage
// touches it sends the whole area as one H.264 frame, and damage outside it goes as changes
// (Tight); a busy update reaching outside the area widens it (a new area: the viewer starts a new
// decoder). The area ends after kStill without a busy update touching it: a blinking cursor or a
// ticking clock in it goes back to exact rectangles.
//
// Exact copies: every area sent lossy (video frames, JPEG tiles) is remembered on a grid of
// kCell-pixel cells (each cell keeps the box of what was lossy in it and when it was last sent
// lossy or moved); once a cell has been neither sent lossy again nor touched by a motion-sized
// damage rectangle for kStill (a screen slower to send than kStill is not still), refresh_due()
// returns its lossy box, to be sent without loss, so that the viewer's picture equals the screen
// pixel for pixel within kStill plus the copy's own time. Per cell, not per area: the still
// desktop around a playing video gets its copy while the video plays, and only the video's own
// area is left for when it stops.
//
// Sans-I/O: times are given. Thread-safety: none (the session thread's).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "rfb/framebuffer.h"

namespace reach::agent {

class ScreenMotion {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMinBusyPixels = 160 * 120;
  static constexpr int kMinMotionSide = 64;
  static bool motion_sized(const rfb::Rect& r) {
    return r.w >= kMinMotionSide && r.h >= kMinMotionSide;
  }
  static constexpr int kBusyUpdates = 2;
  static constexpr auto kBusyPeriod = std::chrono::milliseconds(2000);
  static constexpr auto kStill = std::chrono::milliseconds(300);
  static constexpr int kAlign = 16;
  static constexpr int kCell = 64;
  static constexpr int kMaxSide = 16384;  // lossy areas beyond are clipped (no such screen)

  struct Plan {
    std::vector<rfb::Rect> changed;  // exact rectangles (or JPEG, as the viewer asked)
    rfb::Rect video;                 // one H.264 frame of this area; empty: none
  };

  // Off: every plan is changes only (the viewer or the organisation takes no video).
  void set_video(bool enabled);
  // Whether the path to the viewer is what limits the updates now (the flow window was full while
  // damage waited). A video area starts only then: where the link carries exact rectangles at
  // the screen's pace (a LAN, a scroll over a fast link) they stay, exact and cheaper for the
  // viewer to draw than video; where it does not, video carries the motion in a tenth of the bytes.
  void set_link_limited(bool limited) { link_limited_ = limited; }
  // The damage of the update about to be written, split into video and changes. `moving`
  // false: the damage is no sign of motion (the whole screen asked for, the first picture).
  Plan plan(const std::vector<rfb::Rect>& damage, const rfb::Rect& screen, Clock::time_point now,
            bool moving = true);
  // What the RFB core wrote with loss (ServerConnection::take_lossy), just now.
  void sent_lossy(const std::vector<rfb::Rect>& areas, Clock::time_point now);
  // The lossy areas still for kStill, at most `max_pixels` of them (whole rows of cells, at
  // least one; the rest stay due for the next call): send them exactly now (they are
  // forgotten here). An exact copy of a photo-like 1080p screen is megabytes: in pieces, each
  // paced by the flow window, motion that starts again is not stuck behind it. Neighbouring
  // cells' boxes that line up come back as one rectangle.
  static constexpr std::int64_t kRefreshPixels = 256 * 1024;
  std::vector<rfb::Rect> refresh_due(Clock::time_point now,
                                     std::int64_t max_pixels = kRefreshPixels);
  bool refresh_pending() const { return lossy_cells_ > 0; }

  const rfb::Rect& video_area() const { return video_; }

 private:
  struct Busy {
    Clock::time_point when;
    rfb::Rect box;
  };
  struct Cell {
    rfb::Rect lossy;            // empty: exact on the viewer
    Clock::time_point touched;  // last sent lossy or moved
  };
  rfb::Rect aligned(const rfb::Rect& r, const rfb::Rect& screen) const;
  // Calls f(cell, cell's rectangle) for every cell `r` overlaps (growing the grid if `grow`).
  template <typename F>
  void each_cell(const rfb::Rect& r, bool grow, F&& f);

  bool enabled_ = true;
  bool link_limited_ = true;
  std::deque<Busy> busy_;
  rfb::Rect video_;
  Clock::time_point video_busy_{};  // the last busy update that touched the video area
  int cols_ = 0, rows_ = 0;
  std::vector<Cell> cells_;  // row-major
  std::size_t lossy_cells_ = 0;
};

// Whether motion should go as video rather than exact rectangles (ScreenMotion::set_link_limited):
// where exact rectangles cannot keep the screen's pace: their encoding is slow, or at 25 a second
// they would need more than kExactShare times what the path (the link and the viewer) took while
// the window held updates back. Measured on bench/wan at 10 Mbit/s: whole-screen motion 2 against
// 25 frames a second; a 640x360 video 23 fps at 150 ms and 9.5 Mbit/s as JPEG, 29 fps at 50 ms
// and 0.6 Mbit/s as H.264; a scroll (20 kB a step) stays exact, as fast and lossless.
struct VideoChoice {
  static constexpr auto kMaxExactEncode = std::chrono::milliseconds(66);  // 15 a second
  static constexpr double kVideoPace = 25;  // updates a second exact rectangles would need
  static constexpr double kExactShare = 1.5;

  bool continuous = true;      // the viewer takes continuous updates (else: motion alone decides)
  bool always = false;         // reach-agent --h264-always
  int slow_exact_updates = 0;  // busy exact updates in a row that took over kMaxExactEncode
  std::uint64_t busy_exact_bytes = 0;  // the last busy exact update's size
  bool held_back_recently = false;     // the window held an update back in the last second
  double delivery_rate = 0;  // what the path carries, bytes a second (FlowWindow::delivery)

  bool video() const {
    if (!continuous || always) return true;
    if (slow_exact_updates >= 2) return true;  // one slow update is not a pattern
    // Nothing measured yet (the session's first second): no reason to think the path slow.
    return held_back_recently && delivery_rate > 0 &&
           static_cast<double>(busy_exact_bytes) * kVideoPace > kExactShare * delivery_rate;
  }
};

// `r` without `hole`: up to four rectangles (above, below, left, right of it).
std::vector<rfb::Rect> subtract(const rfb::Rect& r, const rfb::Rect& hole);

}  // namespace reach::agent
