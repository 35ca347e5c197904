// How many bytes of screen updates may be on their way to the viewer (issue 22). With continuous
// updates the viewer no longer paces the agent with its requests: without a window, a slow link
// would fill every queue on the path (the agent's, the relay's, the sockets', the bottleneck's) and
// what the supporter sees would lag by seconds. After each update the agent sends an RFB fence
// request; the viewer answers it once it has handled everything before it, so an answer says that
// the bytes sent up to its fence have arrived, and how long that took (a round trip, plus whatever
// queue the bytes waited in).
//
// The window follows the delay, latency first: it grows (doubling per round trip) while the round
// trip stays near the lowest seen and the window was the limit; it shrinks by a third, at most once
// per round trip, when the round trip rises more than kQueueTarget above the lowest (a queue is
// building). The lowest round trip is re-learnt every kBaseRttPeriod, so a route that got slower
// is not mistaken for a queue for ever.
//
// Sans-I/O: times are given, nothing is sent. Thread-safety: none (the session thread's).
#pragma once

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
  static constexpr std::size_t kMinWindow = 64 * 1024;
  static constexpr std::size_t kStartWindow = 256 * 1024;
  static constexpr std::size_t kMaxWindow = 32 * 1024 * 1024;
  static constexpr auto kQueueTarget = std::chrono::milliseconds(30);
  static constexpr auto kBaseRttPeriod = std::chrono::seconds(10);
  static constexpr std::size_t kPayloadBytes = 8;

  // `bytes` of updates handed to the stream.
  void sent(std::size_t bytes);
  // The payload of a fence request sent now, after what sent() counted (8 bytes).
  std::string fence(Clock::time_point now);
  // The viewer answered a fence: false when the payload is not one of this window's (ignored).
  bool answered(std::string_view payload, Clock::time_point now);

  bool may_send() const { return in_flight() < window_; }
  std::uint64_t in_flight() const { return sent_ - acked_; }
  std::size_t window() const { return window_; }
  // Zero until the first answer.
  Clock::duration last_rtt() const { return last_rtt_; }
  Clock::duration base_rtt() const { return base_rtt_; }
  std::size_t fences_waiting() const { return pending_.size(); }

 private:
  struct Pending {
    std::uint64_t sent_at;  // sent_ when the fence went out
    Clock::time_point when;
  };
  std::uint64_t sent_ = 0, acked_ = 0;
  std::size_t window_ = kStartWindow;
  bool limited_ = false;  // the window held updates back since the last decision
  std::deque<Pending> pending_;
  Clock::duration last_rtt_{}, base_rtt_{}, period_min_{};
  Clock::time_point period_start_{}, last_change_{};
};

}  // namespace reach::agent
