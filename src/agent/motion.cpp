#include "agent/motion.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

namespace reach::agent {

std::vector<rfb::Rect> subtract(const rfb::Rect& r, const rfb::Rect& hole) {
  rfb::Rect h = r.intersect(hole);
  if (h.empty()) return {r};
  std::vector<rfb::Rect> out;
  if (h.y > r.y) out.push_back({r.x, r.y, r.w, h.y - r.y});
  if (h.bottom() < r.bottom()) out.push_back({r.x, h.bottom(), r.w, r.bottom() - h.bottom()});
  if (h.x > r.x) out.push_back({r.x, h.y, h.x - r.x, h.h});
  if (h.right() < r.right()) out.push_back({h.right(), h.y, r.right() - h.right(), h.h});
  return out;
}

void ScreenMotion::set_video(bool enabled) {
  enabled_ = enabled;
  if (!enabled) {
    video_ = {};
    busy_.clear();
  }
}

rfb::Rect ScreenMotion::aligned(const rfb::Rect& r, const rfb::Rect& screen) const {
  int l = r.x / kAlign * kAlign, t = r.y / kAlign * kAlign;
  int right = (r.right() + kAlign - 1) / kAlign * kAlign;
  int bottom = (r.bottom() + kAlign - 1) / kAlign * kAlign;
  rfb::Rect a = rfb::Rect{l, t, right - l, bottom - t}.intersect(screen);
  a.w -= a.w % 2;  // H.264 takes even sides; an odd last column goes as a change
  a.h -= a.h % 2;
  return a;
}

ScreenMotion::Plan ScreenMotion::plan(const std::vector<rfb::Rect>& damage, const rfb::Rect& screen,
                                      Clock::time_point now, bool moving) {
  Plan p;
  // A lossy area that moves again is not still: its copy waits (a small change in it, a cursor or
  // a clock, does not hold it back).
  if (lossy_cells_ > 0)
    for (const auto& r : damage)
      if (motion_sized(r))
        each_cell(r, false, [&](Cell& c, const rfb::Rect&) {
          if (!c.lossy.intersect(r).empty()) c.touched = now;
        });
  if (!enabled_) {
    p.changed = damage;
    return p;
  }
  // Motion is made of big rectangles; small ones (a cursor, a clock, typing) never count.
  rfb::Rect box;
  std::int64_t pixels = 0;
  for (const auto& r : damage) {
    rfb::Rect c = r.intersect(screen);
    if (!motion_sized(c)) continue;
    box = box.united(c);
    pixels += std::int64_t{c.w} * c.h;
  }
  const bool busy = moving && pixels >= kMinBusyPixels;
  while (!busy_.empty() && now - busy_.front().when > kBusyPeriod) busy_.pop_front();
  if (busy) busy_.push_back({now, box});

  if (!video_.empty()) {
    if (busy && box.intersect(video_).w > 0) video_busy_ = now;
    if (now - video_busy_ >= kStill) {
      video_ = {};
      busy_.clear();  // motion starts again from nothing
    }
  }
  if (busy && !video_.empty() && !video_.contains(box)) {
    video_ = aligned(video_.united(box), screen);  // a new area: the viewer starts over
    video_busy_ = now;
  }
  if (video_.empty() && link_limited_ && static_cast<int>(busy_.size()) >= kBusyUpdates) {
    rfb::Rect all;
    for (const auto& b : busy_) all = all.united(b.box);
    video_ = aligned(all, screen);
    video_busy_ = now;
  }
  if (video_.w < 16 || video_.h < 16) video_ = {};

  for (const auto& r : damage) {
    if (!video_.empty() && !r.intersect(video_).empty()) {
      p.video = video_;
      for (const auto& rest : subtract(r, video_)) p.changed.push_back(rest);
    } else {
      p.changed.push_back(r);
    }
  }
  return p;
}

template <typename F>
void ScreenMotion::each_cell(const rfb::Rect& area, bool grow, F&& f) {
  const rfb::Rect r = area.intersect({0, 0, kMaxSide, kMaxSide});
  if (r.empty()) return;
  const int right = (r.right() + kCell - 1) / kCell, bottom = (r.bottom() + kCell - 1) / kCell;
  if (grow && (right > cols_ || bottom > rows_)) {
    const int cols = std::max(cols_, right), rows = std::max(rows_, bottom);
    std::vector<Cell> cells(static_cast<std::size_t>(cols) * static_cast<std::size_t>(rows));
    for (int y = 0; y < rows_; ++y)
      std::copy_n(cells_.begin() + static_cast<std::ptrdiff_t>(y) * cols_, cols_,
                  cells.begin() + static_cast<std::ptrdiff_t>(y) * cols);
    cells_ = std::move(cells);
    cols_ = cols;
    rows_ = rows;
  }
  for (int y = r.y / kCell; y < std::min(bottom, rows_); ++y)
    for (int x = r.x / kCell; x < std::min(right, cols_); ++x)
      f(cells_[static_cast<std::size_t>(y) * static_cast<std::size_t>(cols_) +
               static_cast<std::size_t>(x)],
        rfb::Rect{x * kCell, y * kCell, kCell, kCell});
}

void ScreenMotion::sent_lossy(const std::vector<rfb::Rect>& areas, Clock::time_point now) {
  for (const auto& a : areas)
    each_cell(a, true, [&](Cell& c, const rfb::Rect& cell) {
      const rfb::Rect part = a.intersect(cell);
      if (part.empty()) return;
      if (c.lossy.empty()) ++lossy_cells_;
      c.lossy = c.lossy.united(part);
      c.touched = now;
    });
}

std::vector<rfb::Rect> ScreenMotion::refresh_due(Clock::time_point now, std::int64_t max_pixels) {
  std::vector<rfb::Rect> due;
  if (lossy_cells_ == 0) return due;
  std::int64_t budget = max_pixels;
  // The rectangles that ended on the row above, by their x and width: the next row's box of the
  // same x and width extends one of them downwards.
  std::map<std::pair<int, int>, std::size_t> open, next;
  auto cell_at = [&](int x, int y) -> Cell& {
    return cells_[static_cast<std::size_t>(y) * static_cast<std::size_t>(cols_) +
                  static_cast<std::size_t>(x)];
  };
  for (int y = 0; y < rows_; ++y) {
    // Whole rows of cells: the first row that has any, then rows while they fit the budget.
    std::int64_t row_pixels = 0;
    for (int x = 0; x < cols_; ++x)
      if (const Cell& c = cell_at(x, y); !c.lossy.empty() && now - c.touched >= kStill)
        row_pixels += std::int64_t{c.lossy.w} * c.lossy.h;
    if (row_pixels == 0) continue;
    if (!due.empty() && row_pixels > budget) break;
    budget -= row_pixels;
    next.clear();
    rfb::Rect run;  // boxes side by side on this row with the same y and height
    auto close_run = [&] {
      if (run.empty()) return;
      auto above = open.find({run.x, run.w});
      if (above != open.end() && due[above->second].bottom() == run.y) {
        due[above->second].h += run.h;
        next[{run.x, run.w}] = above->second;
      } else {
        next[{run.x, run.w}] = due.size();
        due.push_back(run);
      }
      run = {};
    };
    for (int x = 0; x < cols_; ++x) {
      Cell& c = cell_at(x, y);
      if (c.lossy.empty() || now - c.touched < kStill) {
        close_run();
        continue;
      }
      if (!run.empty() && run.right() == c.lossy.x && run.y == c.lossy.y && run.h == c.lossy.h) {
        run.w += c.lossy.w;
      } else {
        close_run();
        run = c.lossy;
      }
      c.lossy = {};
      --lossy_cells_;
    }
    close_run();
    open.swap(next);
  }
  return due;
}

}  // namespace reach::agent
