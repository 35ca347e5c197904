#include "common/throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace reach {

std::int64_t Throttle::wait_ms(const std::string& key, std::int64_t now) const {
  std::lock_guard lock(mu_);
  auto it = state_.find(key);
  if (it == state_.end() || it->second.r.blocked_until <= now) return 0;
  return it->second.r.blocked_until - now;
}

Throttle::Record Throttle::after_failure(Record r, std::int64_t now, const Options& options) {
  if (r.failures > 0 && now - r.last_failure >= options.forget_after_ms) r = Record{};
  r.last_failure = now;
  ++r.failures;
  if (r.failures >= options.free_failures) {
    int doublings = std::min(r.failures - options.free_failures, 30);
    r.blocked_until =
        now + std::min<std::int64_t>(std::int64_t{1000} << doublings, options.max_block_ms);
  }
  return r;
}

void Throttle::forget_stale(std::int64_t now) {
  while (!order_.empty()) {
    auto it = state_.find(order_.front());
    if (now - it->second.r.last_failure < options_.forget_after_ms &&
        state_.size() <= options_.max_keys)
      return;
    state_.erase(it);
    order_.pop_front();
  }
}

void Throttle::failure(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = state_.try_emplace(key);
  auto& s = it->second;
  if (fresh) {
    s.order = order_.insert(order_.end(), key);
  } else {
    order_.splice(order_.end(), order_, s.order);
  }
  s.r = after_failure(s.r, now, options_);
  forget_stale(now);
}

void Throttle::success(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = state_.find(key);
  if (it == state_.end()) return;
  order_.erase(it->second.order);
  state_.erase(it);
}

bool Throttle::first_refusal(const std::string& key, std::int64_t now) {
  std::lock_guard lock(mu_);
  auto it = state_.find(key);
  if (it == state_.end()) return false;
  auto& r = it->second.r;
  if (r.blocked_until <= now) return false;
  if (r.refusal_noted_for == r.blocked_until) return false;
  r.refusal_noted_for = r.blocked_until;
  return true;
}

std::size_t Throttle::size() const {
  std::lock_guard lock(mu_);
  return state_.size();
}

std::int64_t account_slowing_ms(std::int64_t account_wait_ms, std::int64_t cap_ms) {
  return std::clamp<std::int64_t>(account_wait_ms, 0, cap_ms);
}

std::string client_key(std::string_view address) {
  std::string text(address);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (auto pct = text.find('%'); pct != std::string::npos) text.resize(pct);  // zone id
  unsigned char v6[16];
  if (inet_pton(AF_INET6, text.c_str(), v6) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char out[INET6_ADDRSTRLEN];
    if (std::memcmp(v6, kMapped, sizeof kMapped) == 0) {
      inet_ntop(AF_INET, v6 + 12, out, sizeof out);
      return out;
    }
    std::memset(v6 + 8, 0, 8);
    inet_ntop(AF_INET6, v6, out, sizeof out);
    return std::string(out) + "/64";
  }
  return text;
}

std::vector<std::string> client_keys(std::string_view address) {
  std::vector<std::string> keys{client_key(address)};
  if (!keys[0].ends_with("/64")) return keys;
  unsigned char v6[16];
  std::string prefix = keys[0].substr(0, keys[0].size() - 3);
  if (inet_pton(AF_INET6, prefix.c_str(), v6) != 1) return keys;
  std::memset(v6 + 6, 0, 10);
  char out[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, v6, out, sizeof out);
  keys.push_back(std::string(out) + "/48");
  return keys;
}

}  // namespace reach
