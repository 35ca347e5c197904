#include "agent/flow_window.h"

#include <algorithm>

namespace reach::agent {

std::string FlowWindow::fence(Clock::time_point now) {
  // At most this many fences wait: a viewer that never answers does not grow the list.
  if (pending_.size() >= 64) pending_.pop_front();
  const std::uint64_t seq = next_seq_++;
  const bool probe = sent_ == acked_ && pending_.empty();
  if (probe) draining_ = false;
  pending_.push_back({seq, sent_, now, probe});
  std::string p(kPayloadBytes, '\0');
  for (std::size_t i = 0; i < kPayloadBytes; ++i)
    p[i] = static_cast<char>(seq >> (8 * (kPayloadBytes - 1 - i)));
  return p;
}

std::size_t FlowWindow::updates_in_flight() const {
  // A fence that follows bytes not yet answered closes an update; a probe (sent with nothing in
  // flight) does not.
  std::size_t n = 0;
  std::uint64_t last = acked_;
  for (const auto& p : pending_)
    if (p.sent_at > last) {
      ++n;
      last = p.sent_at;
    }
  return n;
}

std::size_t FlowWindow::max_updates() const {
  const auto budget = base_rtt_ + kQueueTarget;
  const auto n =
      static_cast<std::size_t>((budget + kFrameInterval - Clock::duration{1}) / kFrameInterval);
  return std::clamp(n, kMinUpdates, kMaxUpdates);
}

bool FlowWindow::answered(std::string_view payload, Clock::time_point now) {
  if (payload.size() != kPayloadBytes) return false;
  std::uint64_t seq = 0;
  for (unsigned char c : payload) seq = seq << 8 | c;
  // Answers come in order: fences before this one were answered too (the viewer handles them in
  // order); a payload that is none of the waiting fences' changes nothing.
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.seq == seq; });
  if (it == pending_.end()) return false;
  pending_.erase(pending_.begin(), it);
  const Pending p = pending_.front();
  pending_.pop_front();
  acked_ = std::max(acked_, p.sent_at);

  last_rtt_ = now - p.when;
  if (p.probe) {
    // The path's own round trip: the lowest a probe showed over the last period.
    last_probe_answer_ = now;
    ++probes_;
    if (base_rtt_ == Clock::duration{} || last_rtt_ < base_rtt_) base_rtt_ = last_rtt_;
    if (period_min_ == Clock::duration{} || last_rtt_ < period_min_) period_min_ = last_rtt_;
    if (period_start_ == Clock::time_point{}) period_start_ = now;
    if (now - period_start_ >= kBaseRttPeriod) {
      base_rtt_ = period_min_;
      period_min_ = last_rtt_;
      period_start_ = now;
    }
  } else if (last_probe_answer_ != Clock::time_point{} &&
             now - last_probe_answer_ >=
                 (probes_ < kEarlyProbes ? kEarlyProbeEvery : kBaseRttPeriod)) {
    draining_ = true;  // time to measure the path again
  }

  // Delivery rate: what arrived since the last answer, over the time since, or over the time
  // between sending the two fences when that was longer: answers that come in a burst (a viewer
  // that was busy, then read a backlog) would otherwise show a rate nothing was sent at, and
  // the window would let a queue of that size grow (BBR takes the same maximum).
  if (last_answer_ != Clock::time_point{} && acked_ > last_acked_ && now > last_answer_) {
    const auto elapsed = std::max(now - last_answer_, p.when - last_answered_sent_);
    const double rate =
        static_cast<double>(acked_ - last_acked_) / std::chrono::duration<double>(elapsed).count();
    if (rate_period_start_ == Clock::time_point{}) rate_period_start_ = now;
    if (now - rate_period_start_ >= kRatePeriod) {
      rate_before_ = rate_now_;
      rate_now_ = 0;
      rate_period_start_ = now;
    }
    rate_now_ = std::max(rate_now_, rate);
  }
  // Over at least kDeliverySpan of answers (see delivery()).
  answers_.push_back({now, acked_, p.when});
  std::size_t from = answers_.size();  // past the newest answer kDeliverySpan or more ago
  while (from > 0 && now - answers_[from - 1].at < kDeliverySpan) --from;
  if (from > 0) {
    const Answer& then = answers_[from - 1];
    const auto elapsed = std::max(now - then.at, p.when - then.fence_sent);
    if (acked_ > then.acked && elapsed > Clock::duration{}) {
      const double rate =
          static_cast<double>(acked_ - then.acked) / std::chrono::duration<double>(elapsed).count();
      const bool limited = held_back_ != Clock::time_point{} && held_back_ >= then.at;
      if (delivery_period_start_ == Clock::time_point{}) delivery_period_start_ = now;
      if (now - delivery_period_start_ >= kRatePeriod) {
        // A period the sender alone limited says nothing of the path: the estimate stays.
        delivery_before_ =
            delivery_limited_ ? delivery_now_ : std::max(delivery_now_, delivery_before_);
        delivery_now_ = 0;
        delivery_limited_ = false;
        delivery_period_start_ = now;
      }
      if (limited || rate > delivery()) delivery_now_ = std::max(delivery_now_, rate);
      delivery_limited_ = delivery_limited_ || limited;
    }
    answers_.erase(answers_.begin(), answers_.begin() + static_cast<std::ptrdiff_t>(from - 1));
  }
  if (answers_.size() > 1024) answers_.pop_front();  // answers faster than 4 a millisecond

  last_acked_ = acked_;
  last_answer_ = now;
  last_answered_sent_ = p.when;
  if (rate() > 0 && base_rtt_ > Clock::duration{}) {
    const double seconds = std::chrono::duration<double>(base_rtt_ + kQueueTarget).count();
    window_ =
        std::clamp<std::size_t>(static_cast<std::size_t>(rate() * seconds), kMinWindow, kMaxWindow);
  }
  return true;
}

}  // namespace reach::agent
