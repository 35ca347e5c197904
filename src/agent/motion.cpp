#include "agent/motion.h"

#include <algorithm>
#include <cstdint>

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
                                      Clock::time_point now) {
  Plan p;
  // A lossy area that moves again is not still: its copy waits (a small change in it, a cursor or
  // a clock, does not hold it back).
  for (auto& l : lossy_)
    for (const auto& r : damage)
      if (std::int64_t{r.w} * r.h >= kMinMotionRect && !r.intersect(l.area).empty()) l.sent = now;
  if (!enabled_) {
    p.changed = damage;
    return p;
  }
  // Motion is made of big rectangles; small ones (a cursor, a clock, typing) never count.
  rfb::Rect box;
  std::int64_t pixels = 0;
  for (const auto& r : damage) {
    rfb::Rect c = r.intersect(screen);
    if (std::int64_t{c.w} * c.h < kMinMotionRect) continue;
    box = box.united(c);
    pixels += std::int64_t{c.w} * c.h;
  }
  const bool busy = pixels >= kMinBusyPixels;
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

void ScreenMotion::sent_lossy(const std::vector<rfb::Rect>& areas, Clock::time_point now) {
  for (const auto& a : areas) {
    auto same = std::find_if(lossy_.begin(), lossy_.end(),
                             [&](const Lossy& l) { return l.area.contains(a); });
    if (same != lossy_.end()) {
      same->sent = now;
      continue;
    }
    std::erase_if(lossy_, [&](const Lossy& l) { return a.contains(l.area); });
    lossy_.push_back({a, now});
  }
  if (lossy_.size() > kMaxLossyAreas) {
    rfb::Rect all;
    for (const auto& l : lossy_) all = all.united(l.area);
    lossy_.assign(1, {all, now});
  }
}

std::vector<rfb::Rect> ScreenMotion::refresh_due(Clock::time_point now, std::int64_t max_pixels) {
  std::vector<rfb::Rect> due;
  std::int64_t budget = max_pixels;
  std::vector<Lossy> rest;
  for (const auto& l : lossy_) {
    if (now - l.sent < kStill || budget <= 0) {
      rest.push_back(l);
      continue;
    }
    // The part that fits the budget, in whole rows; the rows below wait for the next update.
    const int rows =
        static_cast<int>(std::clamp<std::int64_t>(budget / std::max(l.area.w, 1), 1, l.area.h));
    due.push_back({l.area.x, l.area.y, l.area.w, rows});
    budget -= std::int64_t{l.area.w} * rows;
    if (rows < l.area.h)
      rest.push_back({{l.area.x, l.area.y + rows, l.area.w, l.area.h - rows}, l.sent});
  }
  lossy_ = std::move(rest);
  return due;
}

}  // namespace reach::agent
