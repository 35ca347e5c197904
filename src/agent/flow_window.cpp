#include "agent/flow_window.h"

#include <algorithm>

namespace reach::agent {

void FlowWindow::sent(std::size_t bytes) {
  sent_ += bytes;
  if (in_flight() >= window_ - window_ / 8) limited_ = true;
}

std::string FlowWindow::fence(Clock::time_point now) {
  // At most this many fences wait: a viewer that never answers does not grow the list.
  if (pending_.size() >= 64) pending_.pop_front();
  pending_.push_back({sent_, now});
  std::string p(kPayloadBytes, '\0');
  for (std::size_t i = 0; i < kPayloadBytes; ++i)
    p[i] = static_cast<char>(sent_ >> (8 * (kPayloadBytes - 1 - i)));
  return p;
}

bool FlowWindow::answered(std::string_view payload, Clock::time_point now) {
  if (payload.size() != kPayloadBytes) return false;
  std::uint64_t at = 0;
  for (unsigned char c : payload) at = at << 8 | c;
  // Answers come in order: fences before this one were answered too (the viewer handles them in
  // order); a payload that is none of the waiting fences' changes nothing.
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.sent_at == at; });
  if (it == pending_.end()) return false;
  pending_.erase(pending_.begin(), it);
  const Pending p = pending_.front();
  pending_.pop_front();
  acked_ = std::max(acked_, p.sent_at);

  last_rtt_ = now - p.when;
  if (base_rtt_ == Clock::duration{} || last_rtt_ < base_rtt_) base_rtt_ = last_rtt_;
  if (period_min_ == Clock::duration{} || last_rtt_ < period_min_) period_min_ = last_rtt_;
  if (period_start_ == Clock::time_point{}) period_start_ = now;
  if (now - period_start_ >= kBaseRttPeriod) {
    base_rtt_ = period_min_;
    period_min_ = last_rtt_;
    period_start_ = now;
  }

  // One decision per round trip: what an answer says is about what was sent a round trip ago.
  if (now - last_change_ < std::max(base_rtt_, Clock::duration(std::chrono::milliseconds(5))))
    return true;
  const auto queued = last_rtt_ - base_rtt_;
  if (queued > kQueueTarget) {
    window_ = std::max(kMinWindow, window_ - window_ / 3);
    last_change_ = now;
  } else if (limited_ && queued < kQueueTarget / 3) {
    window_ = std::min(kMaxWindow, window_ + window_ / 4);
    last_change_ = now;
  }
  limited_ = false;
  return true;
}

}  // namespace reach::agent
