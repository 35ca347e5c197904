#include "common/throttle.h"

#include <algorithm>

namespace reach {
namespace {
constexpr int kFreeFailures = 5;
constexpr std::int64_t kMaxBlockMs = 15 * 60 * 1000;
constexpr std::size_t kMaxKeys = 100000;
}  // namespace

std::int64_t Throttle::wait_ms(const std::string& key, std::int64_t now) const {
  std::lock_guard lock(mu_);
  auto it = state_.find(key);
  if (it == state_.end() || it->second.blocked_until <= now) return 0;
  return it->second.blocked_until - now;
}

void Throttle::failure(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  if (state_.size() > kMaxKeys) state_.clear();
  auto& s = state_[key];
  ++s.failures;
  if (s.failures >= kFreeFailures) {
    int doublings = std::min(s.failures - kFreeFailures, 20);
    s.blocked_until = now + std::min<std::int64_t>(1000LL << doublings, kMaxBlockMs);
  }
}

void Throttle::success(const std::string& key) {
  std::lock_guard lock(mu_);
  state_.erase(key);
}

}  // namespace reach
