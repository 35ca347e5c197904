// ScreenMotion: which damage goes as video, and when lossy areas get their exact copy.
#include "agent/motion.h"

#include <gtest/gtest.h>

namespace reach::agent {
namespace {

using rfb::Rect;
using namespace std::chrono_literals;

const Rect kScreen{0, 0, 1920, 1080};

struct Clocked {
  ScreenMotion m;
  ScreenMotion::Clock::time_point now{};
  ScreenMotion::Plan step(std::vector<Rect> damage, std::chrono::milliseconds after = 33ms) {
    now += after;
    return m.plan(damage, kScreen, now);
  }
};

TEST(ScreenMotion, TwoBusyUpdatesStartVideoOnAnAlignedArea) {
  Clocked c;
  const Rect region{100, 203, 640, 360};  // a video playing in a still desktop
  EXPECT_TRUE(c.step({region}).video.empty()) << "one big change (a window opening) is not motion";
  auto p = c.step({region});
  EXPECT_EQ(p.video, (Rect{96, 192, 656, 384}));  // on the 16-pixel grid, covering it
  EXPECT_TRUE(p.changed.empty());
  // Damage outside the area stays exact; inside it is the video frame.
  p = c.step({region, Rect{1800, 10, 20, 20}});
  EXPECT_EQ(p.video, (Rect{96, 192, 656, 384}));
  EXPECT_EQ(p.changed, (std::vector<Rect>{Rect{1800, 10, 20, 20}}));
}

TEST(ScreenMotion, TheFirstPictureIsNoMotion) {
  Clocked c;
  c.now += 33ms;
  EXPECT_TRUE(c.m.plan({kScreen}, kScreen, c.now, false).video.empty());
  const Rect region{100, 203, 640, 360};
  EXPECT_TRUE(c.step({region}).video.empty());
  EXPECT_EQ(c.step({region}).video, (Rect{96, 192, 656, 384})) << "the region, not the screen";
}

TEST(ScreenMotion, SmallChangesNeverStartVideo) {
  Clocked c;
  for (int i = 0; i < 60; ++i) {
    auto p = c.step({Rect{10 + i * 9, 500, 9, 18}});  // typing
    EXPECT_TRUE(p.video.empty());
    EXPECT_EQ(p.changed.size(), 1u);
  }
  for (int i = 0; i < 60; ++i)  // an editor that redraws the whole line at each key
    EXPECT_TRUE(c.step({Rect{32, 1000, 1856, 40}}).video.empty());
}

TEST(ScreenMotion, BusyUpdatesFarApartInTimeAreNotMotion) {
  Clocked c;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(c.step({Rect{0, 0, 800, 600}}, 2100ms).video.empty());
}

TEST(ScreenMotion, TheAreaEndsWhenItStopsMovingAndALosslessCopyFollows) {
  Clocked c;
  const Rect page{0, 0, 1920, 1080};
  for (int i = 0; i < 3; ++i) c.step({page});
  auto p = c.step({page});
  ASSERT_EQ(p.video, page);
  c.m.sent_lossy({page}, c.now);
  EXPECT_TRUE(c.m.refresh_due(c.now + 299ms).empty());
  // The scroll stopped; a blinking cursor inside the area does not keep it video.
  c.step({Rect{400, 300, 2, 18}}, 200ms);
  p = c.step({Rect{400, 300, 2, 18}}, 200ms);
  EXPECT_TRUE(p.video.empty());
  EXPECT_EQ(p.changed, (std::vector<Rect>{Rect{400, 300, 2, 18}}));
  // The copy, in pieces of whole rows of cells, each once.
  Rect copied;
  int rows = 0;
  for (int i = 0; i < 20 && c.m.refresh_pending(); ++i)
    for (const auto& r : c.m.refresh_due(c.now)) {
      copied = copied.united(r);
      rows += r.h;
    }
  EXPECT_EQ(copied, page);
  EXPECT_EQ(rows, page.h);
  EXPECT_TRUE(c.m.refresh_due(c.now + 10s).empty()) << "a copy is due once";
  EXPECT_FALSE(c.m.refresh_pending());
}

TEST(ScreenMotion, ThePartSentLossyAgainWaitsAgainTheRestDoesNot) {
  ScreenMotion m;
  ScreenMotion::Clock::time_point t{};
  m.sent_lossy({Rect{0, 0, 100, 100}}, t);
  m.sent_lossy({Rect{10, 10, 20, 20}}, t + 250ms);  // in the first 64x64 cell: that cell waits
  EXPECT_TRUE(m.refresh_due(t + 299ms).empty());
  EXPECT_EQ(m.refresh_due(t + 400ms),
            (std::vector<Rect>{Rect{64, 0, 36, 64}, Rect{0, 64, 100, 36}}));
  EXPECT_EQ(m.refresh_due(t + 550ms), (std::vector<Rect>{Rect{0, 0, 64, 64}}));
  EXPECT_FALSE(m.refresh_pending());
}

TEST(ScreenMotion, TheStillDesktopAroundAPlayingVideoIsCopiedWhileItPlays) {
  Clocked c;
  c.m.sent_lossy({kScreen}, c.now);       // the first update: a photo-like desktop as JPEG
  const Rect region{640, 320, 640, 384};  // on the cells
  for (int i = 0; i < 20; ++i) {
    c.step({region});
    c.m.sent_lossy({region}, c.now);
  }
  std::int64_t copied = 0;
  for (int i = 0; i < 20 && c.m.refresh_pending(); ++i)
    for (const auto& r : c.m.refresh_due(c.now)) {
      EXPECT_TRUE(r.intersect(region).empty()) << "the playing region is not still";
      copied += std::int64_t{r.w} * r.h;
    }
  EXPECT_EQ(copied, std::int64_t{1920} * 1080 - std::int64_t{640} * 384);
  EXPECT_TRUE(c.m.refresh_pending()) << "the region's copy waits until it stops";
  EXPECT_EQ(c.m.refresh_due(c.now + 300ms), (std::vector<Rect>{region}));
}

TEST(ScreenMotion, ABigCopyGoesInPiecesAndMotionHoldsItBack) {
  ScreenMotion m;
  ScreenMotion::Clock::time_point t{};
  m.sent_lossy({kScreen}, t);
  auto first = m.refresh_due(t + 400ms);
  ASSERT_EQ(first.size(), 1u);
  // Whole rows of cells within the budget: two of 1920x64 for 256k pixels.
  EXPECT_EQ(first[0], (Rect{0, 0, 1920, 2 * ScreenMotion::kCell}));
  // The screen moves again before the rest went: the rest waits until it is still again.
  m.plan({kScreen}, kScreen, t + 450ms);
  EXPECT_TRUE(m.refresh_due(t + 500ms).empty());
  int rows = first[0].h;
  for (auto now = t + 800ms; m.refresh_pending(); now += 33ms)
    for (const auto& r : m.refresh_due(now)) rows += r.h;
  EXPECT_EQ(rows, 1080) << "every row once";
}

TEST(ScreenMotion, MotionHoldsBackTheCopyAlsoWithoutVideo) {
  Clocked c;
  c.m.set_video(false);
  c.m.sent_lossy({kScreen}, c.now);
  c.step({kScreen}, 400ms);  // moved again (as Tight): not still
  EXPECT_TRUE(c.m.refresh_due(c.now).empty());
  EXPECT_FALSE(c.m.refresh_due(c.now + 300ms).empty());
}

TEST(ScreenMotion, ManyLossyAreasComeBackCoveredAndFew) {
  ScreenMotion m;
  ScreenMotion::Clock::time_point t{};
  std::vector<Rect> sent;
  for (int i = 0; i < 40; ++i) sent.push_back(Rect{i * 40, (i % 3) * 70, 32, 32});
  m.sent_lossy(sent, t);
  const auto due = m.refresh_due(t + 1s);
  EXPECT_LE(due.size(), 3u * 25u) << "at most one rectangle per row of boxes and run";
  std::int64_t area = 0;
  for (const auto& d : due) area += std::int64_t{d.w} * d.h;
  EXPECT_LE(area, std::int64_t{1600} * 64 * 3) << "the cells' boxes, not the whole bounding box";
  for (const auto& s : sent) {  // every lossy pixel is in the copy, once
    std::int64_t covered = 0;
    for (const auto& d : due) {
      Rect c = s.intersect(d);
      covered += std::int64_t{c.w} * c.h;
    }
    EXPECT_EQ(covered, std::int64_t{s.w} * s.h);
  }
  EXPECT_FALSE(m.refresh_pending());
}

TEST(ScreenMotion, LossyAreasFarOutsideAnyScreenAreClipped) {
  ScreenMotion m;
  ScreenMotion::Clock::time_point t{};
  m.sent_lossy({Rect{ScreenMotion::kMaxSide - 10, 0, 1000, 10}, Rect{-50, -50, 60, 60}}, t);
  EXPECT_EQ(m.refresh_due(t + 1s),
            (std::vector<Rect>{Rect{0, 0, 10, 10}, Rect{ScreenMotion::kMaxSide - 10, 0, 10, 10}}));
}

TEST(ScreenMotion, MotionReachingOutsideWidensTheArea) {
  Clocked c;
  for (int i = 0; i < 3; ++i) c.step({Rect{0, 0, 400, 400}});
  EXPECT_EQ(c.step({Rect{0, 0, 400, 400}}).video, (Rect{0, 0, 400, 400}));
  auto p = c.step({Rect{300, 300, 400, 400}});  // a window dragged on
  EXPECT_EQ(p.video, (Rect{0, 0, 704, 704}));
  EXPECT_TRUE(p.changed.empty());
}

TEST(ScreenMotion, OddScreensKeepEvenVideoAndTheRestGoesExact) {
  ScreenMotion m;
  const Rect odd{0, 0, 1023, 767};
  ScreenMotion::Clock::time_point t{};
  ScreenMotion::Plan p;
  for (int i = 0; i < 3; ++i) p = m.plan({odd}, odd, t += 33ms);
  EXPECT_EQ(p.video, (Rect{0, 0, 1022, 766}));
  // The last column and row: exact.
  EXPECT_EQ(p.changed, (std::vector<Rect>{Rect{0, 766, 1023, 1}, Rect{1022, 0, 1, 766}}));
}

TEST(ScreenMotion, WhereTheLinkKeepsUpMotionStaysExact) {
  Clocked c;
  c.m.set_link_limited(false);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(c.step({kScreen}).video.empty());
  c.m.set_link_limited(true);  // the window filled: video from the next busy update
  EXPECT_EQ(c.step({kScreen}).video, kScreen);
  // Once started, an area lasts while it moves, whatever the window says.
  c.m.set_link_limited(false);
  EXPECT_EQ(c.step({kScreen}).video, kScreen);
}

TEST(ScreenMotion, OffMeansChangesOnly) {
  Clocked c;
  c.m.set_video(false);
  for (int i = 0; i < 10; ++i) {
    auto p = c.step({kScreen});
    EXPECT_TRUE(p.video.empty());
    EXPECT_EQ(p.changed, (std::vector<Rect>{kScreen}));
  }
}

TEST(VideoChoice, OnlyWhereExactRectanglesFallFarBehind) {
  // 10 Mbit/s delivered (1.17 MB/s), the window full.
  VideoChoice c;
  c.held_back_recently = true;
  c.delivery_rate = 1.17e6;
  c.busy_exact_bytes = 500'000;  // a 1080p JPEG frame: 12.5 MB/s at 25 a second
  EXPECT_TRUE(c.video());
  c.busy_exact_bytes = 20'000;  // a scroll step: 0.5 MB/s, the link carries it
  EXPECT_FALSE(c.video());
  c.busy_exact_bytes = 50'000;  // a 640x360 JPEG: 1.25 MB/s, about what the link delivers
  EXPECT_FALSE(c.video());
  c.delivery_rate = 0.6e6;  // the link fell to 5 Mbit/s: half the frames at best
  EXPECT_TRUE(c.video());
  c.delivery_rate = 0;  // nothing measured yet
  EXPECT_FALSE(c.video());
  c.delivery_rate = 1.17e6;
  c.busy_exact_bytes = 500'000;
  c.held_back_recently = false;  // the link is not the limit (loopback)
  EXPECT_FALSE(c.video());
  c.slow_exact_updates = 1;  // one slow update is not a pattern
  EXPECT_FALSE(c.video());
  c.slow_exact_updates = 2;  // exact rectangles cannot be encoded at the screen's pace
  EXPECT_TRUE(c.video());
}

TEST(VideoChoice, AViewerWithoutAWindowAndAlwaysMeanMotionAloneDecides) {
  VideoChoice c;
  EXPECT_FALSE(c.video());
  c.continuous = false;
  EXPECT_TRUE(c.video());
  c.continuous = true;
  c.always = true;
  EXPECT_TRUE(c.video());
}

TEST(Subtract, TheFourSidesOfAHole) {
  EXPECT_EQ(subtract(Rect{0, 0, 10, 10}, Rect{3, 3, 4, 4}),
            (std::vector<Rect>{Rect{0, 0, 10, 3}, Rect{0, 7, 10, 3}, Rect{0, 3, 3, 4},
                               Rect{7, 3, 3, 4}}));
  EXPECT_EQ(subtract(Rect{0, 0, 10, 10}, Rect{20, 20, 4, 4}),
            (std::vector<Rect>{Rect{0, 0, 10, 10}}));
  EXPECT_TRUE(subtract(Rect{2, 2, 4, 4}, Rect{0, 0, 10, 10}).empty());
}

}  // namespace
}  // namespace reach::agent
