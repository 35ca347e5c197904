// How many bytes of screen updates may be on their way to the viewer (issue 22). With continuous
// updates the viewer no longer paces the agent with its requests: without a window, a slow link
// would fill every queue on the path (the agent's, the relay's, the sockets', the bottleneck's) and
// what the supporter sees would lag by seconds. After each update the agent sends an RFB fence
// request; the viewer answers it once it has handled everything before it, so an answer says that
// the bytes sent up to its fence have arrived, and how long that took (a round trip, plus whatever
// queue the bytes waited in).
//
// Latency first, then frame rate: the window is what the path delivers in its own round trip plus
// kQueueTarget (the bytes "on the wire" and a short queue), from the highest delivery rate the
// answers showed over the last kRatePeriod and the lowest round trip of a fence sent with nothing
// in flight (the path itself, without an update's own time on the link). An update bigger than
// the window therefore travels alone: on a slow link a whole-screen frame waits for the one before
// it to arrive rather than queue behind it (smaller frames are the encoder's part). Before the
// first measurements the window is kStartWindow.
//
// Sans-I/O: times are given, nothing is sent. Thread-safety: none (the session thread's).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace reach::agent {

class FlowWindow {
 public:
  using Clock = std::chrono::steady_clock;
  // Two small updates may be on their way at once (a scroll step is ~20 kB), not two big ones.
  static constexpr std::size_t kMinWindow = 32 * 1024;
  static constexpr std::size_t kStartWindow = 256 * 1024;
  static constexpr std::size_t kMaxWindow = 32 * 1024 * 1024;
  static constexpr auto kQueueTarget = std::chrono::milliseconds(30);
  static constexpr auto kBaseRttPeriod = std::chrono::seconds(10);
  // The first probes are sent while the viewer is busy with the first, whole-screen update: the
  // path is measured again every kEarlyProbeEvery until kEarlyProbes have been answered.
  static constexpr auto kEarlyProbeEvery = std::chrono::seconds(1);
  static constexpr int kEarlyProbes = 5;
  static constexpr auto kRatePeriod = std::chrono::seconds(2);
  static constexpr std::size_t kPayloadBytes = 8;
  static constexpr auto kFrameInterval = std::chrono::milliseconds(33);
  static constexpr std::size_t kMinUpdates = 2;
  static constexpr std::size_t kMaxUpdates = 16;

  // `bytes` of updates handed to the stream.
  void sent(std::size_t bytes) { sent_ += bytes; }
  // The payload of a fence request sent now, after what sent() counted (8 bytes, a sequence
  // number). A fence sent with nothing in flight measures the path itself (the lowest round trip),
  // without an update's own time on the link.
  std::string fence(Clock::time_point now);
  // The viewer answered a fence: false when the payload is not one of this window's (ignored).
  bool answered(std::string_view payload, Clock::time_point now);

  // Room for another update: bytes under the window, and fewer updates on their way than fit in
  // the path's round trip plus kQueueTarget at kFrameInterval each (at least kMinUpdates). The
  // byte window alone let a viewer that is slow per frame (decoding, drawing) collect a queue of
  // small H.264 frames: latency counts frames, not bytes.
  // Every kBaseRttPeriod (kEarlyProbeEvery at first) the updates in flight drain once (as BBR's
  // ProbeRTT), so that the next fence goes out with nothing ahead of it and measures the path
  // again: a queue that formed early would otherwise hold the measured round trip, and with it the
  // limits, up for good.
  bool may_send() const {
    if (draining_ && in_flight() > 0) return false;
    return in_flight() < window_ && updates_in_flight() < max_updates();
  }
  std::size_t updates_in_flight() const;
  // The bytes, not the count of updates, are what holds the next update back: the link is the
  // limit (the video's bitrate follows this, not a viewer that is slow per frame).
  bool bytes_limited() const { return in_flight() >= window_; }
  std::size_t max_updates() const;
  std::uint64_t in_flight() const { return sent_ - acked_; }
  // Bytes counted by sent() so far, and of those, answered.
  std::uint64_t sent_total() const { return sent_; }
  std::uint64_t acked_total() const { return acked_; }
  std::size_t window() const { return window_; }
  // Zero until the first answer (base_rtt: until the first probe's).
  Clock::duration last_rtt() const { return last_rtt_; }
  Clock::duration base_rtt() const { return base_rtt_; }
  double rate() const { return std::max(rate_now_, rate_before_); }  // bytes per second
  // What the path carries, bytes a second: samples over at least kDeliverySpan of answers, the
  // highest of this period and the last, where the sender was held back by the window during
  // the sample (else it shows what was sent, not what could be: such samples only raise it).
  // rate() samples one answer gap, and a viewer that stalls (decoding a frame) and then answers
  // a backlog, while updates go out as fast as the window opens, shows it rates no link
  // carried (2-20x here); it sizes the window, which the count of updates in flight bounds
  // anyway. Whether motion must go as video asks this one.
  static constexpr auto kDeliverySpan = std::chrono::milliseconds(250);
  double delivery() const { return std::max(delivery_now_, delivery_before_); }
  // The sender had an update and the window held it back, now.
  void held_back(Clock::time_point now) { held_back_ = now; }
  std::size_t fences_waiting() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t seq;
    std::uint64_t sent_at;  // sent_ when the fence went out
    Clock::time_point when;
    bool probe;  // sent with nothing in flight: its round trip is the path's
  };
  bool draining_ = false;
  int probes_ = 0;
  Clock::time_point last_probe_answer_{};
  std::uint64_t sent_ = 0, acked_ = 0, next_seq_ = 1;
  std::size_t window_ = kStartWindow;
  std::deque<Pending> pending_;
  Clock::duration last_rtt_{}, base_rtt_{}, period_min_{};
  Clock::time_point period_start_{};
  // Delivery: bytes per second between consecutive answers, the highest of this period and the
  // last (so a link that shrank is believed within two periods).
  std::uint64_t last_acked_ = 0;
  Clock::time_point last_answer_{};
  Clock::time_point last_answered_sent_{};  // when the last answered fence was sent
  double rate_now_ = 0, rate_before_ = 0;
  Clock::time_point rate_period_start_{};
  struct Answer {
    Clock::time_point at;
    std::uint64_t acked;
    Clock::time_point fence_sent;
  };
  std::deque<Answer> answers_;  // the last kDeliverySpan of answers, and one before
  double delivery_now_ = 0, delivery_before_ = 0;
  bool delivery_limited_ = false;  // this period had a sample taken while held back
  Clock::time_point delivery_period_start_{};
  Clock::time_point held_back_{};
};

}  // namespace reach::agent
